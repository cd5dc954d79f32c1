"""Proposals: drafted by a body with the draft_content power; agents annotate feasibility,
only members of the authoring body edit the text (participants have the final say)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.bodies import membership_of
from agora.assembly.models import (
    Body,
    Edition,
    FeasibilityNote,
    Proposal,
    ProposalStatus,
)
from agora.audit import services as audit
from agora.db import DbSession
from agora.errors import Conflict, Forbidden, Invalid
from agora.shared.people import Person
from agora.tenancy.models import Tenant

VERDICTS = ("feasible", "feasible_with_conditions", "not_feasible")
NOTE_KINDS = ("technical", "legal", "budget", "staff")
#: Until it is put to the vote, a proposal's text may change (by its authors, or amendments).
EDITABLE = (ProposalStatus.DRAFT, ProposalStatus.IN_FEASIBILITY_REVIEW)


def proposals_of(session: DbSession, edition: Edition) -> list[Proposal]:
    return list(
        session.execute(
            select(Proposal)
            .where(Proposal.tenant_id == edition.tenant_id, Proposal.edition_id == edition.id)
            .order_by(Proposal.position)
        ).scalars()
    )


def notes_of(session: DbSession, proposal: Proposal) -> list[FeasibilityNote]:
    return list(
        session.execute(
            select(FeasibilityNote)
            .where(
                FeasibilityNote.tenant_id == proposal.tenant_id,
                FeasibilityNote.proposal_id == proposal.id,
            )
            .order_by(FeasibilityNote.created_at)
        ).scalars()
    )


def require_author(session: DbSession, body: Body, person: Person | None) -> None:
    if person is None or membership_of(session, body, person) is None:
        raise Forbidden(
            _("only members of the %(body)s may write this proposal's text", body=body.name)
        )


def draft(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    body: Body,
    author: Person | None,
    title: str,
    text: str,
    budget_eur: int | None,
) -> Proposal:
    if "draft_content" not in body.powers:
        raise Forbidden(_("the %(body)s does not draft proposals", body=body.name))
    require_author(session, body, author)
    if not title.strip() or not text.strip():
        raise Invalid(_("a proposal needs a title and a text"))
    proposal = Proposal(
        tenant_id=tenant.id,
        edition_id=edition.id,
        body_id=body.id,
        position=len(proposals_of(session, edition)) + 1,
        title=title.strip(),
        text=text.strip(),
        budget_eur=budget_eur,
        status=ProposalStatus.IN_FEASIBILITY_REVIEW,
    )
    session.add(proposal)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=f"person:{author.id if author else '-'}",
        action="proposal.drafted",
        object_type="proposal",
        object_id=proposal.id,
        public=True,
    )
    return proposal


def edit_text(
    session: DbSession,
    tenant: Tenant,
    proposal: Proposal,
    body: Body,
    editor: Person | None,
    text: str,
) -> None:
    require_author(session, body, editor)
    if proposal.status not in EDITABLE:
        raise Conflict(_("the text of a proposal put to the vote is frozen"))
    if not text.strip():
        raise Invalid(_("the text cannot be empty"))
    proposal.text = text.strip()
    proposal.revision += 1
    audit.record(
        session,
        tenant,
        actor=f"person:{editor.id if editor else '-'}",
        action="proposal.revised",
        object_type="proposal",
        object_id=proposal.id,
        details={"revision": proposal.revision},
    )


def annotate(
    session: DbSession,
    tenant: Tenant,
    proposal: Proposal,
    author: str,
    kind: str,
    verdict: str,
    rationale: str,
) -> FeasibilityNote:
    if kind not in NOTE_KINDS or verdict not in VERDICTS:
        raise Invalid(_("unknown kind of note or verdict"))
    if not rationale.strip():
        raise Invalid(_("a feasibility note needs its reasons"))
    note = FeasibilityNote(
        tenant_id=tenant.id,
        proposal_id=proposal.id,
        author=author,
        kind=kind,
        verdict=verdict,
        rationale=rationale.strip(),
    )
    session.add(note)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=author,
        action="proposal.annotated",
        object_type="feasibility_note",
        object_id=note.id,
        details={"verdict": verdict},
        public=True,
    )
    return note

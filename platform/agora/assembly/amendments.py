"""Amendments: any participant tables a change to a proposal's text; the authors — members of
the authoring body — accept it (the text changes) or reject it with a public reason."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.models import (
    Amendment,
    AmendmentStatus,
    Body,
    Proposal,
)
from agora.assembly.proposals import EDITABLE, edit_text, require_author
from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.documents.diff import word_diff
from agora.errors import Conflict, Invalid
from agora.shared.people import Person
from agora.tenancy.models import Tenant


def amendments_of(session: DbSession, proposal: Proposal) -> list[Amendment]:
    return list(
        session.execute(
            select(Amendment)
            .where(Amendment.tenant_id == proposal.tenant_id, Amendment.proposal_id == proposal.id)
            .order_by(Amendment.created_at)
        ).scalars()
    )


def diff(amendment: Amendment) -> list[tuple[str, str]]:
    """What the amendment changes, against the text it was written on."""
    return word_diff(amendment.base_text, amendment.text)


def table(
    session: DbSession,
    tenant: Tenant,
    proposal: Proposal,
    person: Person,
    text: str,
    rationale: str,
) -> Amendment:
    if proposal.status not in EDITABLE:
        raise Conflict(_("the text of a proposal put to the vote is frozen"))
    if not text.strip() or text.strip() == proposal.text:
        raise Invalid(_("an amendment proposes a text different from the current one"))
    if not rationale.strip():
        raise Invalid(_("say why you propose this amendment"))
    amendment = Amendment(
        tenant_id=tenant.id,
        proposal_id=proposal.id,
        person_id=person.id,
        author=person.display_name,
        base_revision=proposal.revision,
        base_text=proposal.text,
        text=text.strip(),
        rationale=rationale.strip(),
    )
    session.add(amendment)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=f"person:{person.id}",
        action="amendment.tabled",
        object_type="amendment",
        object_id=amendment.id,
        details={"proposal": proposal.id},
        public=True,
    )
    return amendment


def decide(
    session: DbSession,
    tenant: Tenant,
    amendment: Amendment,
    proposal: Proposal,
    body: Body,
    author: Person | None,
    *,
    accept: bool,
    reason: str = "",
) -> None:
    """The authors' decision: accepting rewrites the proposal's text, rejecting needs a reason."""
    require_author(session, body, author)
    if amendment.status != AmendmentStatus.TABLED:
        raise Conflict(_("this amendment has already been decided"))
    if accept:
        if amendment.base_revision != proposal.revision:
            raise Conflict(
                _(
                    "the proposal changed since this amendment was tabled (revision %(then)d, "
                    "now %(now)d): it must be tabled again on the current text",
                    then=amendment.base_revision,
                    now=proposal.revision,
                )
            )
        edit_text(session, tenant, proposal, body, author, amendment.text)
    elif not reason.strip():
        raise Invalid(_("give the reason for rejecting this amendment: it is public"))
    amendment.status = AmendmentStatus.ACCEPTED_BY_AUTHORS if accept else AmendmentStatus.REJECTED
    amendment.decision_reason = reason.strip()
    amendment.decided_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=f"person:{author.id if author else '-'}",
        action="amendment.accepted" if accept else "amendment.rejected",
        object_type="amendment",
        object_id=amendment.id,
        details={"proposal": proposal.id},
        public=True,
    )

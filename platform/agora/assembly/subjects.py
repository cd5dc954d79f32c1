"""The call for subjects and the public admissibility review."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.bodies import edition_members
from agora.assembly.models import (
    Edition,
    EditionStatus,
    Subject,
    SubjectStatus,
)
from agora.audit import services as audit
from agora.db import DbSession
from agora.errors import Conflict, Forbidden, Invalid
from agora.shared.people import Person
from agora.tenancy.models import Tenant


def subjects_of(session: DbSession, edition: Edition) -> list[Subject]:
    return list(
        session.execute(
            select(Subject)
            .where(Subject.tenant_id == edition.tenant_id, Subject.edition_id == edition.id)
            .order_by(Subject.created_at)
        ).scalars()
    )


def _may_submit(session: DbSession, edition: Edition, rule: str, person: Person | None) -> None:
    """The commune's rule for who submits subjects (``assembly.subject_submitters``)."""
    if rule == "anyone":
        return
    if person is None:
        raise Forbidden(_("sign in to submit a subject"))
    if rule == "members":
        member = session.execute(
            edition_members(edition).where(Person.id == person.id).limit(1)
        ).first()
        if member is None:
            raise Forbidden(_("here, subjects are submitted by members of the assembly's bodies"))


def submit(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    title: str,
    description: str,
    *,
    rule: str,
    person: Person | None,
    name: str = "",
) -> Subject:
    """Add a subject to the open call, if ``rule`` lets this person (or an anonymous
    resident who may give a ``name``) submit one."""
    if edition.status != EditionStatus.SUBJECT_CALL:
        raise Conflict(_("the call for subjects is not open"))
    _may_submit(session, edition, rule, person)
    if not title.strip() or not description.strip():
        raise Invalid(_("a subject needs a title and a description"))
    submitted_by = person.display_name if person else name.strip() or _("anonymous resident")
    subject = Subject(
        tenant_id=tenant.id,
        edition_id=edition.id,
        title=title.strip()[:300],
        description=description.strip(),
        submitted_by=submitted_by[:200],
        status=SubjectStatus.SUBMITTED,
    )
    session.add(subject)
    session.flush()
    audit.record(
        session,
        tenant,
        actor="public",
        action="subject.submitted",
        object_type="subject",
        object_id=subject.id,
        public=True,
    )
    return subject


def review(
    session: DbSession,
    tenant: Tenant,
    subject: Subject,
    *,
    general_interest: bool,
    municipal_competence: bool,
    budget_sustainable: bool,
    reason: str,
    actor: str,
) -> None:
    """Admissible when all three criteria hold; otherwise a public reason is required."""
    if subject.status not in (
        SubjectStatus.SUBMITTED,
        SubjectStatus.ADMISSIBLE,
        SubjectStatus.INADMISSIBLE,
    ):
        raise Conflict(_("this subject was already put to the vote"))
    admissible = general_interest and municipal_competence and budget_sustainable
    if not admissible and not reason.strip():
        raise Invalid(_("an inadmissible subject needs a public reason"))
    subject.general_interest = general_interest
    subject.municipal_competence = municipal_competence
    subject.budget_sustainable = budget_sustainable
    subject.reason = reason.strip()
    subject.status = SubjectStatus.ADMISSIBLE if admissible else SubjectStatus.INADMISSIBLE
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"subject.{subject.status.value}",
        object_type="subject",
        object_id=subject.id,
        details={"reason": subject.reason},
        public=True,
    )

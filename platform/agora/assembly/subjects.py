"""The call for subjects and the public admissibility review."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.models import Edition, EditionStatus, Subject, SubjectStatus
from agora.audit import services as audit
from agora.db import DbSession
from agora.errors import Conflict, Invalid
from agora.tenancy.models import Tenant


def subjects_of(session: DbSession, edition: Edition) -> list[Subject]:
    return list(
        session.execute(
            select(Subject)
            .where(Subject.tenant_id == edition.tenant_id, Subject.edition_id == edition.id)
            .order_by(Subject.created_at)
        ).scalars()
    )


def submit(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    title: str,
    description: str,
    submitted_by: str,
) -> Subject:
    if edition.status != EditionStatus.SUBJECT_CALL:
        raise Conflict(_("the call for subjects is not open"))
    if not title.strip() or not description.strip():
        raise Invalid(_("a subject needs a title and a description"))
    subject = Subject(
        tenant_id=tenant.id,
        edition_id=edition.id,
        title=title.strip()[:300],
        description=description.strip(),
        submitted_by=submitted_by.strip()[:200],
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

"""Assembly sessions and check-in. In a session of a body open to the public, checking in
is what gives the right to vote; each person checked in receives a voting code."""

from __future__ import annotations

import hashlib
import secrets
from datetime import datetime

from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.bodies import add_person
from agora.assembly.models import (
    AssemblySession,
    AssemblySessionStatus,
    Body,
    CheckIn,
    Edition,
)
from agora.audit import services as audit
from agora.db import DbSession
from agora.errors import Conflict, Invalid
from agora.plugins.contracts import ORIGINS
from agora.shared.labels import ASSEMBLY_SESSION_STATUSES
from agora.shared.labels import ORIGINS as ORIGIN_LABELS
from agora.shared.people import Person
from agora.tenancy.models import Tenant

#: Voting codes avoid letters and digits people confuse (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def sessions_of(session: DbSession, edition: Edition) -> list[AssemblySession]:
    return list(
        session.execute(
            select(AssemblySession)
            .where(
                AssemblySession.tenant_id == edition.tenant_id,
                AssemblySession.edition_id == edition.id,
            )
            .order_by(AssemblySession.starts_at)
        ).scalars()
    )


def plan(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    body: Body,
    number: int,
    title: str,
    starts_at: datetime,
    venue: str,
    actor: str,
) -> AssemblySession:
    row = AssemblySession(
        tenant_id=tenant.id,
        edition_id=edition.id,
        body_id=body.id,
        number=number,
        title=title,
        starts_at=starts_at,
        venue=venue,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="session.planned",
        object_type="assembly_session",
        object_id=row.id,
        public=True,
    )
    return row


def set_status(
    session: DbSession,
    tenant: Tenant,
    row: AssemblySession,
    status: AssemblySessionStatus,
    actor: str,
) -> None:
    order = list(AssemblySessionStatus)
    if order.index(status) != order.index(row.status) + 1:
        raise Conflict(
            _(
                "a session that is %(status)s cannot become %(target)s",
                status=ASSEMBLY_SESSION_STATUSES[row.status.value],
                target=ASSEMBLY_SESSION_STATUSES[status.value],
            )
        )
    row.status = status
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"session.{status.value}",
        object_type="assembly_session",
        object_id=row.id,
        public=True,
    )


def voting_code_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)
    return hashlib.sha256(normalised.encode()).hexdigest()


def check_in(
    session: DbSession, tenant: Tenant, row: AssemblySession, person: Person, origin: str
) -> tuple[CheckIn, str]:
    """Record ``person`` as present; return the check-in and their voting code (shown once)."""
    if row.status != AssemblySessionStatus.OPEN:
        raise Conflict(_("check-in happens while the session is open"))
    if origin not in ORIGINS:
        raise Invalid(_("unknown origin %(origin)s", origin=ORIGIN_LABELS[origin]))
    existing = session.execute(
        select(CheckIn).where(
            CheckIn.tenant_id == tenant.id,
            CheckIn.session_id == row.id,
            CheckIn.person_id == person.id,
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(_("%(person)s is already checked in", person=person.display_name))
    code = "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _letter in range(4)) for _group in range(3)
    )
    entry = CheckIn(
        tenant_id=tenant.id,
        session_id=row.id,
        person_id=person.id,
        origin=origin,
        voting_code_hash=voting_code_hash(code),
    )
    session.add(entry)
    session.flush()
    return entry, code


def check_in_newcomer(
    session: DbSession, tenant: Tenant, row: AssemblySession, name: str, origin: str
) -> tuple[CheckIn, str]:
    """Record a person who comes in, by ``name``, as present: :func:`check_in`."""
    if not name.strip():
        raise Invalid(_("give the name of the person checking in"))
    return check_in(session, tenant, row, add_person(session, tenant, name), origin)


def check_ins(session: DbSession, row: AssemblySession) -> list[CheckIn]:
    return list(
        session.execute(
            select(CheckIn).where(CheckIn.tenant_id == row.tenant_id, CheckIn.session_id == row.id)
        ).scalars()
    )

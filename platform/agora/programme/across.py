"""The consultancy's view of its programmes across communes: for each commune the phase it is
in, what is late (sessions and deliverables, by name), the next sessions; filtered by the
staff member who follows it, and the same sessions as one calendar per staff member."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime

from itsdangerous import BadSignature, URLSafeSerializer
from sqlalchemy import select

from agora.db import DbSession, utcnow
from agora.documents.ical import CalendarEvent
from agora.identity.models import Account, StaffAssignment
from agora.programme import services
from agora.programme.models import ProgrammeSession
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant

#: How many of a commune's coming sessions the view lists.
NEXT_SESSIONS = 3
_CALENDAR_SALT = "agora.programme.staff-calendar"


@dataclass(frozen=True)
class CommuneProgress:
    """Where one commune's programme stands."""

    tenant: Tenant
    started: bool
    #: The phase of the first session not yet held ("" once every session is done).
    phase: str = ""
    done: int = 0
    total: int = 0
    late_sessions: list[ProgrammeSession] = field(default_factory=list)
    #: Deliverables expected from a session whose date has passed, not yet accepted.
    late_deliverables: list[tuple[ProgrammeSession, str]] = field(default_factory=list)
    next_sessions: list[ProgrammeSession] = field(default_factory=list)


def _when(row: ProgrammeSession) -> datetime | None:
    when = row.scheduled_at
    return when.replace(tzinfo=UTC) if when is not None and when.tzinfo is None else when


def progress_of(session: DbSession, tenant: Tenant, now: datetime | None = None) -> CommuneProgress:
    now = now or utcnow()
    with tenant_scope(session, tenant.id):
        programme = services.programme_of(session, tenant)
        if programme is None:
            return CommuneProgress(tenant, started=False)
        rows = services.sessions_of(session, programme)
    entries = services.timeline(rows, now)
    pending = [e.session for e in entries if e.state not in ("done", "cancelled")]
    passed = [row for row in rows if (when := _when(row)) is not None and when < now]
    return CommuneProgress(
        tenant,
        started=True,
        phase=pending[0].phase_title if pending else "",
        done=sum(1 for e in entries if e.state == "done"),
        total=len(entries),
        late_sessions=[e.session for e in entries if e.state == "late"],
        late_deliverables=[
            (row, key)
            for row in passed
            for key, accepted in row.deliverables.items()
            if not accepted
        ],
        next_sessions=[e.session for e in entries if e.state in ("next", "upcoming")][
            :NEXT_SESSIONS
        ],
    )


def staff_members(session: DbSession, tenants: Iterable[Tenant]) -> list[Account]:
    """The staff assigned to any of ``tenants``, by name."""
    ids = [t.id for t in tenants]
    return list(
        session.scalars(
            select(Account)
            .join(StaffAssignment, StaffAssignment.account_id == Account.id)
            .where(StaffAssignment.tenant_id.in_(ids), Account.erased_at.is_(None))
            .distinct()
            .order_by(Account.display_name, Account.email)
        )
    )


def followed_by(session: DbSession, account_id: int) -> set[int]:
    """The ids of the communes a staff member is assigned to."""
    return set(
        session.scalars(
            select(StaffAssignment.tenant_id).where(StaffAssignment.account_id == account_id)
        )
    )


# --- one calendar per staff member ---------------------------------------------------------


def calendar_token(secret: str, account: Account) -> str:
    """The secret part of a staff member's calendar address (a calendar application cannot
    sign in: the address itself is the credential, signed with the platform's key), valid
    until the address is renewed."""
    serializer = URLSafeSerializer(secret, salt=_CALENDAR_SALT)
    return serializer.dumps([account.id, account.calendar_generation])


def account_of_token(session: DbSession, secret: str, token: str) -> Account | None:
    """The staff member whose calendar address this is, unless it was renewed since."""
    try:
        signed = URLSafeSerializer(secret, salt=_CALENDAR_SALT).loads(token)
    except BadSignature:
        return None
    if isinstance(signed, int):  # given out before addresses could be renewed: the id alone
        account_id, generation = signed, 0
    elif isinstance(signed, list) and len(signed) == 2:
        account_id, generation = signed
    else:
        return None
    if not isinstance(account_id, int) or not isinstance(generation, int):
        return None
    account = session.get(Account, account_id)
    if account is None or account.erased_at is not None:
        return None
    return account if account.calendar_generation == generation else None


def renew_calendar(account: Account) -> None:
    """A new calendar address for the staff member; the one given out before stops working
    (shared by mistake, or on a device that was lost)."""
    account.calendar_generation += 1


def staff_events(session: DbSession, tenants: Iterable[Tenant]) -> list[CalendarEvent]:
    """Every dated programme session of ``tenants``, named with its commune."""
    events = []
    for tenant in tenants:
        with tenant_scope(session, tenant.id):
            programme = services.programme_of(session, tenant)
            rows = services.sessions_of(session, programme) if programme else []
        events += [services.calendar_event(tenant, row) for row in rows if row.scheduled_at]
    return events

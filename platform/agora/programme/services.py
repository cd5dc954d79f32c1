"""Instantiating a commune's programme from its template plugin, and reading its timeline."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import select

from agora.audit import services as audit
from agora.db import PARIS, DbSession, paris_today, utcnow
from agora.documents.ical import CalendarEvent
from agora.errors import Conflict, Invalid
from agora.plugins.contracts import ProgrammeTemplate
from agora.programme.models import Programme, ProgrammeSession, ProgrammeStatus, SessionStatus
from agora.shared.labels import SESSION_STATUSES
from agora.tenancy.addresses import site_host
from agora.tenancy.models import Tenant

#: Evening sessions, when elected members, agents and residents can all come.
SESSION_TIME = time(18, 30)

DONE = frozenset({SessionStatus.HELD, SessionStatus.MINUTES_PUBLISHED})
#: Allowed status changes of a programme session.
TRANSITIONS: dict[SessionStatus, frozenset[SessionStatus]] = {
    SessionStatus.PLANNED: frozenset(
        {SessionStatus.CONFIRMED, SessionStatus.POSTPONED, SessionStatus.CANCELLED}
    ),
    SessionStatus.CONFIRMED: frozenset(
        {SessionStatus.HELD, SessionStatus.POSTPONED, SessionStatus.CANCELLED}
    ),
    SessionStatus.POSTPONED: frozenset({SessionStatus.PLANNED, SessionStatus.CANCELLED}),
    SessionStatus.HELD: frozenset({SessionStatus.MINUTES_PUBLISHED}),
    SessionStatus.MINUTES_PUBLISHED: frozenset(),
    SessionStatus.CANCELLED: frozenset(),
}


def programme_of(session: DbSession, tenant: Tenant) -> Programme | None:
    return session.execute(
        select(Programme).where(Programme.tenant_id == tenant.id)
    ).scalar_one_or_none()


def sessions_of(session: DbSession, programme: Programme) -> list[ProgrammeSession]:
    return list(
        session.execute(
            select(ProgrammeSession)
            .where(
                ProgrammeSession.tenant_id == programme.tenant_id,
                ProgrammeSession.programme_id == programme.id,
            )
            .order_by(ProgrammeSession.position)
        ).scalars()
    )


def instantiate(
    session: DbSession, tenant: Tenant, template: ProgrammeTemplate, starts_on: date, actor: str
) -> Programme:
    """Create the commune's programme, its sessions spread evenly over the template's weeks."""
    if programme_of(session, tenant) is not None:
        raise Conflict(_("this commune already has a support programme"))
    specs = [(phase, spec) for phase in template.phases for spec in phase.sessions]
    weeks = template.duration_weeks
    programme = Programme(
        tenant_id=tenant.id,
        template_key=template.key,
        title=template.title,
        status=ProgrammeStatus.IN_PROGRESS,
        starts_on=starts_on,
        target_launch=starts_on + timedelta(weeks=weeks),
    )
    session.add(programme)
    session.flush()
    for position, (phase, spec) in enumerate(specs):
        day = starts_on + timedelta(days=round(position * weeks * 7 / max(len(specs) - 1, 1)))
        session.add(
            ProgrammeSession(
                tenant_id=tenant.id,
                programme_id=programme.id,
                position=position,
                phase_key=phase.key,
                phase_title=phase.title,
                number=spec.number,
                kind=spec.kind,
                title=spec.title,
                scheduled_at=datetime.combine(day, SESSION_TIME, PARIS).astimezone(UTC),
                remote=spec.remote,
                venue="Visioconférence" if spec.remote else "",
                deliverables={key: None for key in spec.deliverables},
            )
        )
    audit.record(
        session,
        tenant,
        actor=actor,
        action="programme.instantiated",
        object_type="programme",
        object_id=programme.id,
        details={"template": template.key, "sessions": len(specs)},
        public=True,
    )
    session.flush()
    return programme


def change_status(
    session: DbSession,
    tenant: Tenant,
    row: ProgrammeSession,
    status: SessionStatus,
    actor: str,
    *,
    attendance: int | None = None,
    minutes: str = "",
) -> None:
    if status not in TRANSITIONS[row.status]:
        raise Conflict(
            _(
                "a session that is %(status)s cannot become %(target)s",
                status=SESSION_STATUSES[row.status.value],
                target=SESSION_STATUSES[status.value],
            )
        )
    if status == SessionStatus.HELD and (attendance is None or attendance < 0):
        raise Invalid(_("say how many people attended the session"))
    if status == SessionStatus.MINUTES_PUBLISHED and not minutes.strip():
        raise Invalid(_("the minutes are empty"))
    row.status = status
    if attendance is not None:
        row.attendance = attendance
    if minutes:
        row.minutes = minutes
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"programme.session_{status.value}",
        object_type="programme_session",
        object_id=row.id,
        public=True,
    )


def accept_deliverable(
    session: DbSession, tenant: Tenant, row: ProgrammeSession, key: str, actor: str
) -> None:
    if key not in row.deliverables:
        raise Invalid(_("this session expects no deliverable %(key)s", key=key))
    row.deliverables = {**row.deliverables, key: paris_today().isoformat()}
    audit.record(
        session,
        tenant,
        actor=actor,
        action="programme.deliverable_accepted",
        object_type="programme_session",
        object_id=row.id,
        details={"deliverable": key},
    )


def calendar_event(tenant: Tenant, row: ProgrammeSession) -> CalendarEvent:
    """A dated session as an iCalendar event, named with its commune (the same identifier in
    the commune's feed and in a staff member's)."""
    assert row.scheduled_at is not None
    return CalendarEvent(
        uid=f"programme-session-{row.id}@{site_host(tenant)}",
        starts_at=row.scheduled_at,
        summary=f"{tenant.name} — {row.title}",
        location=row.venue,
        description=row.agenda,
        status={"cancelled": "CANCELLED", "planned": "TENTATIVE", "postponed": "TENTATIVE"}.get(
            row.status.value, "CONFIRMED"
        ),
    )


@dataclass(frozen=True)
class TimelineEntry:
    session: ProgrammeSession
    #: done, late, next, upcoming, postponed or cancelled.
    state: str


def timeline(sessions: list[ProgrammeSession], now: datetime | None = None) -> list[TimelineEntry]:
    """Each session with where it stands: done, late (its date passed unheld), the next one…"""
    now = now or utcnow()
    entries, next_found = [], False
    for row in sessions:
        when = row.scheduled_at
        if when is not None and when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        if row.status in DONE:
            state = "done"
        elif row.status in (SessionStatus.CANCELLED, SessionStatus.POSTPONED):
            state = row.status.value
        elif when is not None and when < now:
            state = "late"
        elif not next_found:
            state, next_found = "next", True
        else:
            state = "upcoming"
        entries.append(TimelineEntry(row, state))
    return entries

"""The consultancy's indicators across the communes it follows.

Each figure is a count computed by the database inside one commune's scope; no row about a
person ever leaves that scope, and no cell counting people is shown under
:data:`SMALLEST_CELL` — nor is a rate whose numerator or complement is that small, since
``rate × total`` would give the hidden count back.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, fields
from typing import Any

from sqlalchemy import Select, func, select

from agora.assembly.models import (
    AssemblySession,
    AssemblySessionStatus,
    CheckIn,
    Measure,
    MeasureStatus,
)
from agora.db import DbSession
from agora.draws.models import Invitation, InvitationStatus
from agora.programme.models import ProgrammeSession, SessionStatus
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant

#: The smallest number of people a shown cell may count (the statistical secrecy threshold
#: French public statistics use for counts of people).
SMALLEST_CELL = 10

_POSITIVE = (InvitationStatus.INTERESTED, InvitationStatus.RESPONDED)
_HELD = (SessionStatus.HELD, SessionStatus.MINUTES_PUBLISHED)


@dataclass(frozen=True)
class Counts:
    """One commune's aggregates (or their sum over several communes)."""

    invitations: int = 0
    positive_answers: int = 0
    assembly_sessions: int = 0
    check_ins: int = 0
    programme_sessions: int = 0
    programme_attendance: int = 0
    measures: int = 0
    measures_done: int = 0

    def __add__(self, other: Counts) -> Counts:
        return Counts(
            **{f.name: getattr(self, f.name) + getattr(other, f.name) for f in fields(self)}
        )


@dataclass(frozen=True)
class Indicators:
    """What may be shown of :class:`Counts`: ``None`` where a cell would count fewer than
    :data:`SMALLEST_CELL` people."""

    invitations: int | None
    positive_answers: int | None
    response_rate: float | None
    check_ins: int | None
    attendance_per_session: float | None
    programme_attendance_per_session: float | None
    measures: int
    measures_done: int
    done_rate: float | None


def _people(count: int) -> int | None:
    return count if count >= SMALLEST_CELL else None


def _rate(part: int, whole: int) -> float | None:
    """``part / whole`` when both ``part`` and ``whole - part`` count enough people."""
    if part < SMALLEST_CELL or whole - part < SMALLEST_CELL:
        return None
    return part / whole


def _mean(people: int, occasions: int) -> float | None:
    return people / occasions if occasions and people >= SMALLEST_CELL else None


def shown(counts: Counts) -> Indicators:
    """The figures of ``counts`` that may be shown."""
    return Indicators(
        invitations=_people(counts.invitations),
        positive_answers=_people(counts.positive_answers),
        response_rate=_rate(counts.positive_answers, counts.invitations),
        check_ins=_people(counts.check_ins),
        attendance_per_session=_mean(counts.check_ins, counts.assembly_sessions),
        programme_attendance_per_session=_mean(
            counts.programme_attendance, counts.programme_sessions
        ),
        measures=counts.measures,
        measures_done=counts.measures_done,
        # Measures are not people: their share is shown whatever their number.
        done_rate=counts.measures_done / counts.measures if counts.measures else None,
    )


def _count(session: DbSession, query: Select[Any]) -> int:
    return int(session.scalar(query) or 0)


def counts_of(session: DbSession, tenant: Tenant) -> Counts:
    """``tenant``'s aggregates, each one ``count``/``sum`` query in its own scope."""
    mine = tenant.id
    with tenant_scope(session, mine):
        held_sessions = select(AssemblySession.id).where(
            AssemblySession.tenant_id == mine,
            AssemblySession.status == AssemblySessionStatus.CLOSED,
        )
        return Counts(
            invitations=_count(
                session,
                select(func.count()).select_from(Invitation).where(Invitation.tenant_id == mine),
            ),
            positive_answers=_count(
                session,
                select(func.count())
                .select_from(Invitation)
                .where(Invitation.tenant_id == mine, Invitation.status.in_(_POSITIVE)),
            ),
            assembly_sessions=_count(
                session, select(func.count()).select_from(held_sessions.subquery())
            ),
            check_ins=_count(
                session,
                select(func.count())
                .select_from(CheckIn)
                .where(CheckIn.tenant_id == mine, CheckIn.session_id.in_(held_sessions)),
            ),
            programme_sessions=_count(
                session,
                select(func.count())
                .select_from(ProgrammeSession)
                .where(
                    ProgrammeSession.tenant_id == mine,
                    ProgrammeSession.status.in_(_HELD),
                    ProgrammeSession.attendance.is_not(None),
                ),
            ),
            programme_attendance=_count(
                session,
                select(func.sum(ProgrammeSession.attendance)).where(
                    ProgrammeSession.tenant_id == mine, ProgrammeSession.status.in_(_HELD)
                ),
            ),
            measures=_count(
                session,
                select(func.count()).select_from(Measure).where(Measure.tenant_id == mine),
            ),
            measures_done=_count(
                session,
                select(func.count())
                .select_from(Measure)
                .where(Measure.tenant_id == mine, Measure.status == MeasureStatus.DONE),
            ),
        )


@dataclass(frozen=True)
class Row:
    tenant: Tenant | None  # None: every commune shown
    indicators: Indicators


def across(session: DbSession, tenants: Iterable[Tenant]) -> list[Row]:
    """One row per commune, then the communes together (their counts summed first, so the
    total obeys the same threshold)."""
    per_commune = [(tenant, counts_of(session, tenant)) for tenant in tenants]
    rows = [Row(tenant, shown(counts)) for tenant, counts in per_commune]
    if len(per_commune) > 1:
        total = sum((counts for _, counts in per_commune), Counts())
        rows.append(Row(None, shown(total)))
    return rows

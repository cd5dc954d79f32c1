"""The staff workspace of an edition: its steps (charter, draw, bodies, subjects, sessions,
ballots, plan, council, follow-up), each with its state and, when it cannot go on, what
blocks it. The edition's task list shows them; each step links to its own page."""

from __future__ import annotations

import enum
from collections import Counter
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext
from sqlalchemy import select

from agora.assembly import ballots, bodies, charter, council, editions, sessions, subjects
from agora.assembly.models import (
    AssemblySessionStatus,
    BallotStatus,
    BodyStatus,
    CharterStatus,
    Edition,
    EditionStatus,
    MeasureStatus,
    PlanStatus,
    SubjectStatus,
)
from agora.db import Base, DbSession
from agora.plugins.contracts import BodySpec
from agora.plugins.manager import TenantHooks
from agora.shared.labels import ORIGINS
from agora.tenancy.models import Tenant


class StepState(enum.StrEnum):
    """A step's state, as GOV.UK's task list names them."""

    TO_DO = "to_do"
    IN_PROGRESS = "in_progress"
    DONE = "done"
    BLOCKED = "cannot_start"


class StepKey(enum.StrEnum):
    CHARTER = "charter"
    DRAW = "draw"
    BODIES = "bodies"
    SUBJECTS = "subjects"
    SESSIONS = "sessions"
    BALLOTS = "ballots"
    PLAN = "plan"
    COUNCIL = "council"
    FOLLOW_UP = "follow-up"


#: The steps that have a page in the workspace (the draw has none yet).
PAGES = tuple(key for key in StepKey if key != StepKey.DRAW)


@dataclass(frozen=True)
class Step:
    key: StepKey
    state: StepState
    #: What the step is at (done, under way) or, when blocked, what blocks it.
    detail: str = ""


def _at_least(edition: Edition, status: EditionStatus) -> bool:
    return editions.LIFECYCLE.index(edition.status) >= editions.LIFECYCLE.index(status)


def missing_seats(spec: BodySpec, origins: list[str]) -> list[tuple[str, int]]:
    """The seats of ``spec`` not yet taken: (origin, how many are missing)."""
    counts = Counter(origins)
    missing = []
    for seat in spec.seats:
        taken = sum(n for origin, n in counts.items() if seat.covers(origin))
        if taken < seat.count:
            missing.append((seat.origin, seat.count - taken))
    for constraint in spec.constraints:
        taken = counts.get(constraint.origin, 0)
        if taken < constraint.minimum:
            missing.append((constraint.origin, constraint.minimum - taken))
    return missing


def _charter(session: DbSession, tenant: Tenant) -> Step:
    found = charter.versions(session, tenant)
    if any(v.status == CharterStatus.IN_FORCE for v in found):
        return Step(StepKey.CHARTER, StepState.DONE, _("A version is in force."))
    if found:
        return Step(StepKey.CHARTER, StepState.IN_PROGRESS, _("A version is being adopted."))
    return Step(StepKey.CHARTER, StepState.TO_DO)


def _bodies(session: DbSession, edition: Edition, hooks: TenantHooks) -> Step:
    found = editions.bodies_of(session, edition)
    if not found:
        return Step(StepKey.BODIES, StepState.BLOCKED, _("The edition has no body."))
    if all(b.status != BodyStatus.TO_COMPOSE for b in found):
        return Step(StepKey.BODIES, StepState.DONE, _("Every body is installed."))
    specs = {spec.key: spec for spec in hooks.composition_rules()}
    for body in found:
        spec = specs.get(body.key)
        if body.status != BodyStatus.TO_COMPOSE or spec is None:
            continue
        origins = [m.origin for m, _person in bodies.members_of(session, body)]
        for origin, count in missing_seats(spec, origins):
            return Step(
                StepKey.BODIES,
                StepState.BLOCKED if not origins else StepState.IN_PROGRESS,
                ngettext(
                    "%(body)s lacks %(num)d seat: %(origin)s",
                    "%(body)s lacks %(num)d seats: %(origin)s",
                    count,
                    body=body.name,
                    origin=ORIGINS[origin],
                ),
            )
    return Step(StepKey.BODIES, StepState.IN_PROGRESS, _("A body is ready to be installed."))


def _subjects(session: DbSession, edition: Edition) -> Step:
    found = subjects.subjects_of(session, edition)
    if any(s.status == SubjectStatus.SELECTED for s in found) or _at_least(
        edition, EditionStatus.SUBJECT_SELECTED
    ):
        return Step(StepKey.SUBJECTS, StepState.DONE, _("The subject is chosen."))
    if found:
        waiting = sum(1 for s in found if s.status == SubjectStatus.SUBMITTED)
        return Step(
            StepKey.SUBJECTS,
            StepState.IN_PROGRESS,
            ngettext("%(num)d subject to review", "%(num)d subjects to review", waiting)
            if waiting
            else _("Every subject is reviewed."),
        )
    if not _at_least(edition, EditionStatus.SUBJECT_CALL):
        return Step(StepKey.SUBJECTS, StepState.BLOCKED, _("The call for subjects is not open."))
    return Step(StepKey.SUBJECTS, StepState.TO_DO, _("No subject submitted yet."))


def _sessions(session: DbSession, edition: Edition) -> Step:
    found = sessions.sessions_of(session, edition)
    if found and all(s.status == AssemblySessionStatus.CLOSED for s in found):
        return Step(
            StepKey.SESSIONS,
            StepState.DONE
            if _at_least(edition, EditionStatus.PLAN_ADOPTED)
            else StepState.IN_PROGRESS,
            ngettext("%(num)d session held", "%(num)d sessions held", len(found)),
        )
    if found:
        return Step(
            StepKey.SESSIONS,
            StepState.IN_PROGRESS,
            ngettext("%(num)d session planned", "%(num)d sessions planned", len(found)),
        )
    if not any(b.status == BodyStatus.INSTALLED for b in editions.bodies_of(session, edition)):
        return Step(StepKey.SESSIONS, StepState.BLOCKED, _("No body is installed yet."))
    return Step(StepKey.SESSIONS, StepState.TO_DO)


def _ballots(session: DbSession, edition: Edition) -> Step:
    found = ballots.ballots_of(session, edition)
    pending = [b for b in found if b.status in (BallotStatus.OPEN, BallotStatus.CLOSED)]
    if pending:
        return Step(
            StepKey.BALLOTS,
            StepState.IN_PROGRESS,
            ngettext(
                "%(num)d ballot to close or certify",
                "%(num)d ballots to close or certify",
                len(pending),
            ),
        )
    if found:
        return Step(
            StepKey.BALLOTS,
            StepState.DONE,
            ngettext(
                "%(num)d ballot certified or closed",
                "%(num)d ballots certified or closed",
                len(found),
            ),
        )
    if not any(
        s.status == AssemblySessionStatus.OPEN for s in sessions.sessions_of(session, edition)
    ):
        return Step(
            StepKey.BALLOTS, StepState.BLOCKED, _("A ballot is opened during an open session.")
        )
    return Step(StepKey.BALLOTS, StepState.TO_DO)


def _plan_steps(session: DbSession, edition: Edition) -> list[Step]:
    plan = council.plan_of(session, edition)
    if plan is None:
        return [
            Step(StepKey.PLAN, StepState.BLOCKED, _("The action plan is adopted by a ballot.")),
            Step(StepKey.COUNCIL, StepState.BLOCKED, _("The action plan is not adopted yet.")),
            Step(StepKey.FOLLOW_UP, StepState.BLOCKED, _("The council has not decided yet.")),
        ]
    transmitted = plan.status in (PlanStatus.TRANSMITTED, PlanStatus.COUNCIL_DECIDED)
    if plan.status == PlanStatus.DRAFT:
        plan_step = Step(StepKey.PLAN, StepState.IN_PROGRESS, _("The plan is being drafted."))
    elif not transmitted:
        plan_step = Step(StepKey.PLAN, StepState.IN_PROGRESS, _("To transmit to the council."))
    else:
        plan_step = Step(StepKey.PLAN, StepState.DONE, _("Transmitted to the council."))
    if plan.status == PlanStatus.COUNCIL_DECIDED:
        council_step = Step(StepKey.COUNCIL, StepState.DONE, _("The deliberation is recorded."))
    elif transmitted:
        council_step = Step(
            StepKey.COUNCIL, StepState.IN_PROGRESS, _("The council's deliberation is awaited.")
        )
    else:
        council_step = Step(
            StepKey.COUNCIL, StepState.BLOCKED, _("The plan is not transmitted yet.")
        )
    if plan.status != PlanStatus.COUNCIL_DECIDED:
        follow = Step(StepKey.FOLLOW_UP, StepState.BLOCKED, _("The council has not decided yet."))
    else:
        measures = council.measures_of(session, plan)
        open_ = [
            m for m in measures if m.status not in (MeasureStatus.DONE, MeasureStatus.ABANDONED)
        ]
        late = [m for m in open_ if council.is_overdue(m)]
        if not open_:
            follow = Step(
                StepKey.FOLLOW_UP, StepState.DONE, _("Every measure is done or abandoned.")
            )
        elif late:
            follow = Step(
                StepKey.FOLLOW_UP,
                StepState.IN_PROGRESS,
                ngettext(
                    "%(num)d measure awaits an update",
                    "%(num)d measures await an update",
                    len(late),
                ),
            )
        else:
            follow = Step(
                StepKey.FOLLOW_UP,
                StepState.IN_PROGRESS,
                ngettext("%(num)d measure under way", "%(num)d measures under way", len(open_)),
            )
    return [plan_step, council_step, follow]


def _draw(session: DbSession, edition: Edition) -> Step:
    """Where the edition's draws stand. Read from the draws' table by name: the draws
    capability builds on the assembly's models, not the other way round."""
    table = Base.metadata.tables["draw"]
    statuses = [
        str(status)
        for status in session.execute(
            select(table.c.status).where(
                table.c.tenant_id == edition.tenant_id, table.c.edition_id == edition.id
            )
        ).scalars()
    ]
    if not statuses:
        return Step(
            StepKey.DRAW, StepState.TO_DO, _("Design the draw of the drawn seats under Draws.")
        )
    under_way = sum(status != "seated" for status in statuses)
    if under_way:
        return Step(
            StepKey.DRAW,
            StepState.IN_PROGRESS,
            ngettext("%(num)d draw under way", "%(num)d draws under way", under_way),
        )
    return Step(
        StepKey.DRAW,
        StepState.DONE,
        ngettext(
            "%(num)d draw seated its members", "%(num)d draws seated their members", len(statuses)
        ),
    )


def edition_steps(
    session: DbSession, tenant: Tenant, edition: Edition, hooks: TenantHooks
) -> list[Step]:
    """The steps of ``edition`` in order, each with its state and what blocks it."""
    return [
        _charter(session, tenant),
        _draw(session, edition),
        _bodies(session, edition, hooks),
        _subjects(session, edition),
        _sessions(session, edition),
        _ballots(session, edition),
        *_plan_steps(session, edition),
    ]


#: Each step's title in the task list and on its page.
STEP_TITLES: dict[StepKey, str] = {
    StepKey.CHARTER: _l("Internal rules"),
    StepKey.DRAW: _l("Draw of the members"),
    StepKey.BODIES: _l("Bodies"),
    StepKey.SUBJECTS: _l("Subjects"),
    StepKey.SESSIONS: _l("Sessions"),
    StepKey.BALLOTS: _l("Ballots"),
    StepKey.PLAN: _l("Action plan"),
    StepKey.COUNCIL: _l("Municipal council"),
    StepKey.FOLLOW_UP: _l("Follow-up of the measures"),
}

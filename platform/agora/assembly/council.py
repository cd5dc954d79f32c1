"""From the adopted plan to the council's deliberation and the public follow-up.

The council's answer is a decision of its own: every measure it does not accept as voted
needs a justification, and the difference is shown publicly, as a diff.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta

from flask_babel import gettext as _
from sqlalchemy import func, select

from agora.assembly import editions, notices, sessions
from agora.assembly.bodies import edition_members
from agora.assembly.models import (
    ActionPlan,
    AssemblySession,
    CouncilDeliberation,
    CouncilOutcome,
    CouncilResponse,
    Edition,
    Measure,
    MeasureStatus,
    Milestone,
    PlanStatus,
    Proposal,
    ProposalStatus,
)
from agora.audit import services as audit
from agora.db import PARIS, DbSession, paris_today, utcnow
from agora.documents.diff import word_diff
from agora.errors import Conflict, Invalid
from agora.notifications.services import notify
from agora.shared.labels import MEASURE_STATUSES
from agora.tenancy.models import Tenant

#: The public review meeting: a year after the council's answer, in the evening.
REVIEW_TIME = time(18, 30)
#: A measure whose status was not updated for this long is flagged as overdue publicly.
OVERDUE_AFTER = timedelta(days=60)
MEASURE_TRANSITIONS: dict[MeasureStatus, frozenset[MeasureStatus]] = {
    MeasureStatus.PLANNED: frozenset({MeasureStatus.IN_PROGRESS, MeasureStatus.ABANDONED}),
    MeasureStatus.IN_PROGRESS: frozenset(
        {MeasureStatus.DELAYED, MeasureStatus.DONE, MeasureStatus.ABANDONED}
    ),
    MeasureStatus.DELAYED: frozenset(
        {MeasureStatus.IN_PROGRESS, MeasureStatus.DONE, MeasureStatus.ABANDONED}
    ),
    MeasureStatus.DONE: frozenset(),
    MeasureStatus.ABANDONED: frozenset(),
}


def plan_of(session: DbSession, edition: Edition) -> ActionPlan | None:
    return session.execute(
        select(ActionPlan).where(
            ActionPlan.tenant_id == edition.tenant_id, ActionPlan.edition_id == edition.id
        )
    ).scalar_one_or_none()


def measures_of(session: DbSession, plan: ActionPlan) -> list[Measure]:
    return list(
        session.execute(
            select(Measure)
            .where(Measure.tenant_id == plan.tenant_id, Measure.action_plan_id == plan.id)
            .order_by(Measure.position)
        ).scalars()
    )


def deliberation_of(session: DbSession, plan: ActionPlan) -> CouncilDeliberation | None:
    return session.execute(
        select(CouncilDeliberation).where(
            CouncilDeliberation.tenant_id == plan.tenant_id,
            CouncilDeliberation.action_plan_id == plan.id,
        )
    ).scalar_one_or_none()


def adopt_plan(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    proposals: list[Proposal],
    ballot_id: int,
    actor: str,
) -> ActionPlan:
    """The assembly adopted the plan (a certified ballot): its proposals become measures."""
    if plan_of(session, edition) is not None:
        raise Conflict(_("this edition already has an action plan"))
    plan = ActionPlan(
        tenant_id=tenant.id,
        edition_id=edition.id,
        status=PlanStatus.ADOPTED,
        adopted_ballot_id=ballot_id,
    )
    session.add(plan)
    session.flush()
    for position, proposal in enumerate(proposals, start=1):
        proposal.status = ProposalStatus.ADOPTED
        session.add(
            Measure(
                tenant_id=tenant.id,
                action_plan_id=plan.id,
                position=position,
                title=proposal.title,
                text=proposal.text,
                budget_eur=proposal.budget_eur,
            )
        )
    audit.record(
        session,
        tenant,
        actor=actor,
        action="plan.adopted",
        object_type="action_plan",
        object_id=plan.id,
        details={"measures": len(proposals), "ballot": ballot_id},
        public=True,
    )
    session.flush()
    return plan


def transmit(session: DbSession, tenant: Tenant, plan: ActionPlan, actor: str) -> None:
    if plan.status != PlanStatus.ADOPTED:
        raise Conflict(_("only an adopted plan is transmitted to the council"))
    plan.status = PlanStatus.TRANSMITTED
    plan.transmitted_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="plan.transmitted",
        object_type="action_plan",
        object_id=plan.id,
        public=True,
    )


@dataclass(frozen=True)
class MeasureAnswer:
    response: CouncilResponse
    council_text: str | None = None
    council_budget_eur: int | None = None
    justification: str = ""
    #: Who carries the measure out and answers for it publicly, and by when.
    owner_service: str = ""
    elected_referent: str = ""
    due_on: date | None = None


def record_deliberation(
    session: DbSession,
    tenant: Tenant,
    plan: ActionPlan,
    *,
    reference: str,
    session_date: date,
    outcome: CouncilOutcome,
    votes: tuple[int, int, int],
    answers: dict[int, MeasureAnswer],
    act_url: str = "",
    actor: str,
) -> CouncilDeliberation:
    """Record the council's deliberation with an answer per measure, all or nothing: check
    it, write it, log it, tell the assembly's members where it departs from their vote, and
    schedule the public review."""
    measures = measures_of(session, plan)
    _check_deliberation(plan, measures, reference, outcome, answers)
    _apply_answers(measures, answers)
    deliberation = _write_deliberation(
        session, tenant, plan, reference, session_date, outcome, votes, act_url
    )
    _audit_deliberation(session, tenant, deliberation, actor)
    edition = session.get(Edition, (tenant.id, plan.edition_id))
    assert edition is not None  # a plan belongs to an edition of the same commune (FK)
    diverging = [m for m in measures if m.response != CouncilResponse.ACCEPTED]
    if diverging:
        _notify_divergence(session, tenant, edition, plan, deliberation, len(diverging))
    schedule_review(session, tenant, edition, deliberation, actor)
    return deliberation


def _check_deliberation(
    plan: ActionPlan,
    measures: list[Measure],
    reference: str,
    outcome: CouncilOutcome,
    answers: dict[int, MeasureAnswer],
) -> None:
    """Refuse a deliberation that does not answer every measure, or departs from the
    assembly's vote without saying why, or whose outcome contradicts its answers."""
    if plan.status != PlanStatus.TRANSMITTED:
        raise Conflict(_("the plan must be transmitted to the council first"))
    if not reference.strip():
        raise Invalid(_("give the deliberation's number"))
    missing = [m.title for m in measures if m.id not in answers]
    if missing:
        raise Invalid(_("answer every measure; missing: %(measures)s", measures=", ".join(missing)))
    for measure in measures:
        _check_answer(measure, answers[measure.id])
    all_accepted = all(answers[m.id].response == CouncilResponse.ACCEPTED for m in measures)
    if (outcome == CouncilOutcome.ADOPTED_AS_IS) != all_accepted:
        raise Invalid(_("the outcome does not match the answers given measure by measure"))


def _check_answer(measure: Measure, answer: MeasureAnswer) -> None:
    diverges = answer.response != CouncilResponse.ACCEPTED
    if diverges and not answer.justification.strip():
        raise Invalid(
            _(
                "the council's answer to « %(measure)s » differs from the vote: justify it",
                measure=measure.title,
            )
        )
    if answer.response == CouncilResponse.MODIFIED and not (
        (answer.council_text and answer.council_text.strip() != measure.text)
        or (
            answer.council_budget_eur is not None
            and answer.council_budget_eur != measure.budget_eur
        )
    ):
        raise Invalid(
            _(
                "« %(measure)s » is marked modified but neither its text nor its budget changed",
                measure=measure.title,
            )
        )


def _apply_answers(measures: list[Measure], answers: dict[int, MeasureAnswer]) -> None:
    """Each measure takes the council's answer; a rejected one is abandoned, publicly."""
    for measure in measures:
        answer = answers[measure.id]
        measure.response = answer.response
        measure.justification = answer.justification.strip()
        measure.owner_service = answer.owner_service.strip()
        measure.elected_referent = answer.elected_referent.strip()
        measure.due_on = answer.due_on
        if answer.response == CouncilResponse.MODIFIED:
            measure.council_text = (answer.council_text or measure.text).strip()
            measure.council_budget_eur = answer.council_budget_eur
        if answer.response == CouncilResponse.REJECTED:
            measure.status = MeasureStatus.ABANDONED
            measure.status_note = measure.justification
        measure.status_updated_at = utcnow()


def _write_deliberation(
    session: DbSession,
    tenant: Tenant,
    plan: ActionPlan,
    reference: str,
    session_date: date,
    outcome: CouncilOutcome,
    votes: tuple[int, int, int],
    act_url: str,
) -> CouncilDeliberation:
    deliberation = CouncilDeliberation(
        tenant_id=tenant.id,
        action_plan_id=plan.id,
        reference=reference.strip(),
        session_date=session_date,
        outcome=outcome,
        votes_for=votes[0],
        votes_against=votes[1],
        abstentions=votes[2],
        act_url=act_url,
    )
    session.add(deliberation)
    plan.status = PlanStatus.COUNCIL_DECIDED
    session.flush()
    return deliberation


def _audit_deliberation(
    session: DbSession, tenant: Tenant, deliberation: CouncilDeliberation, actor: str
) -> None:
    audit.record(
        session,
        tenant,
        actor=actor,
        action="council.deliberated",
        object_type="council_deliberation",
        object_id=deliberation.id,
        details={"outcome": deliberation.outcome.value, "reference": deliberation.reference},
        public=True,
    )


def _notify_divergence(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    plan: ActionPlan,
    deliberation: CouncilDeliberation,
    diverging: int,
) -> None:
    """Tell the edition's members that ``diverging`` measures differ from their vote."""
    notify(
        session,
        tenant,
        session.execute(edition_members(edition)).scalars(),
        notices.COUNCIL_DIVERGED,
        {"plan_id": plan.id, "deliberation_id": deliberation.id, "measures": diverging},
    )


def schedule_review(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    deliberation: CouncilDeliberation,
    actor: str,
) -> AssemblySession:
    """The public review a year after the council's answer (Ostbelgien's practice), in the
    body that monitors the follow-up, or else the one that adopted the plan; the assembly's
    members are invited."""
    candidates = editions.bodies_of(session, edition)
    body = next((b for b in candidates if "monitor" in b.powers), None) or next(
        b for b in candidates if "decide" in b.powers
    )
    held = session.execute(
        select(func.max(AssemblySession.number)).where(
            AssemblySession.tenant_id == tenant.id, AssemblySession.body_id == body.id
        )
    ).scalar_one()
    decided = deliberation.session_date
    try:
        day = decided.replace(year=decided.year + 1)
    except ValueError:  # 29 February
        day = decided.replace(year=decided.year + 1, day=28)
    review = sessions.plan(
        session,
        tenant,
        edition,
        body,
        (held or 0) + 1,
        _(
            "Public review of the action plan, one year after deliberation %(reference)s",
            reference=deliberation.reference,
        ),
        datetime.combine(day, REVIEW_TIME, tzinfo=PARIS).astimezone(UTC),
        "",
        actor,
    )
    notify(
        session,
        tenant,
        session.execute(edition_members(edition)).scalars(),
        notices.REVIEW_INVITED,
        {"year": edition.year, "at": review.starts_at.isoformat()},
    )
    return review


def text_diff(measure: Measure) -> list[tuple[str, str]]:
    """Word-level diff of the assembly's text and the council's."""
    if measure.council_text is None:
        return [("equal", measure.text)]
    return word_diff(measure.text, measure.council_text)


def update_measure(
    session: DbSession,
    tenant: Tenant,
    measure: Measure,
    status: MeasureStatus,
    note: str,
    actor: str,
) -> None:
    if status not in MEASURE_TRANSITIONS[measure.status]:
        raise Conflict(
            _(
                "a measure that is %(status)s cannot become %(target)s",
                status=MEASURE_STATUSES[measure.status.value],
                target=MEASURE_STATUSES[status.value],
            )
        )
    if status == MeasureStatus.ABANDONED and not note.strip():
        raise Invalid(_("abandoning a measure needs a public justification"))
    measure.status = status
    measure.status_note = note.strip()
    measure.status_updated_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"measure.{status.value}",
        object_type="measure",
        object_id=measure.id,
        details={"note": measure.status_note},
        public=True,
    )


def milestones_of(session: DbSession, measure: Measure) -> list[Milestone]:
    return list(
        session.execute(
            select(Milestone)
            .where(Milestone.tenant_id == measure.tenant_id, Milestone.measure_id == measure.id)
            .order_by(Milestone.due_on, Milestone.created_at)
        ).scalars()
    )


def add_milestone(
    session: DbSession, tenant: Tenant, measure: Measure, title: str, due_on: date, actor: str
) -> Milestone:
    if not title.strip():
        raise Invalid(_("a milestone needs a title"))
    milestone = Milestone(
        tenant_id=tenant.id, measure_id=measure.id, title=title.strip(), due_on=due_on
    )
    session.add(milestone)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="milestone.announced",
        object_type="milestone",
        object_id=milestone.id,
        details={"measure": measure.id, "due_on": due_on.isoformat()},
        public=True,
    )
    return milestone


def reach_milestone(
    session: DbSession, tenant: Tenant, milestone: Milestone, day: date, actor: str
) -> None:
    if milestone.reached_on is not None:
        raise Conflict(_("this milestone was already reached"))
    if day > paris_today():
        raise Invalid(_("a milestone cannot be reached in the future"))
    milestone.reached_on = day
    audit.record(
        session,
        tenant,
        actor=actor,
        action="milestone.reached",
        object_type="milestone",
        object_id=milestone.id,
        details={"reached_on": day.isoformat()},
        public=True,
    )


def overdue_to_alert(
    session: DbSession, tenant: Tenant, today: date | None = None
) -> list[Measure]:
    """The commune's overdue measures it has not been told about since their last update."""
    candidates = session.execute(
        select(Measure)
        .where(Measure.tenant_id == tenant.id, Measure.status_updated_at.is_not(None))
        .order_by(Measure.status_updated_at)
    ).scalars()
    return [m for m in candidates if is_overdue(m, today) and not _alerted_since_update(m)]


def _alerted_since_update(measure: Measure) -> bool:
    alerted, updated = measure.overdue_alerted_at, measure.status_updated_at
    return alerted is not None and updated is not None and alerted >= updated


def is_overdue(measure: Measure, today: date | None = None) -> bool:
    if (
        measure.status in (MeasureStatus.DONE, MeasureStatus.ABANDONED)
        or measure.status_updated_at is None
    ):
        return False
    updated = measure.status_updated_at.date()
    return (today or paris_today()) - updated > OVERDUE_AFTER

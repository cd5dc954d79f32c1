"""The follow-up report of an action plan: what the council answered and where each measure
stands, as a PDF the commune publishes for the public review a year on, or at any time.

It is written from the same records as the public pages (statuses, overdue updates, dated
milestones), so the document and the site cannot disagree.
"""

from __future__ import annotations

from collections import Counter
from datetime import date

from flask_babel import format_date, format_decimal, ngettext
from flask_babel import gettext as _

from agora.assembly import council
from agora.assembly.models import ActionPlan, Edition, Measure, Milestone
from agora.db import DbSession
from agora.documents.pdf import document
from agora.shared.labels import MEASURE_STATUSES, OUTCOMES, RESPONSES
from agora.tenancy.models import Tenant


def follow_up_report(
    session: DbSession, tenant: Tenant, edition: Edition, plan: ActionPlan, today: date
) -> bytes:
    measures = council.measures_of(session, plan)
    milestones = {m.id: council.milestones_of(session, m) for m in measures}
    sections = [(_("Summary"), _summary(session, plan, measures, milestones, today))]
    sections += [
        (measure.title, _measure(measure, milestones[measure.id], today)) for measure in measures
    ]
    return document(
        _("Follow-up report of the action plan"),
        _(
            "%(commune)s — %(edition)s — as of %(day)s",
            commune=tenant.name,
            edition=edition.title,
            day=format_date(today, "long"),
        ),
        sections,
    )


def _summary(
    session: DbSession,
    plan: ActionPlan,
    measures: list[Measure],
    milestones: dict[int, list[Milestone]],
    today: date,
) -> str:
    deliberation = council.deliberation_of(session, plan)
    lines = [
        _(
            "Council deliberation %(reference)s of %(day)s: %(outcome)s.",
            reference=deliberation.reference,
            day=format_date(deliberation.session_date, "long"),
            outcome=OUTCOMES[deliberation.outcome.value],
        )
        if deliberation
        else _("The council has not deliberated on this plan yet.")
    ]
    by_status = Counter(m.status.value for m in measures)
    lines.append(
        ngettext("%(num)d measure:", "%(num)d measures:", len(measures))
        + " "
        + ", ".join(
            _("%(status)s: %(count)d", status=MEASURE_STATUSES[s], count=n)
            for s, n in by_status.items()
        )
        + "."
    )
    overdue = sum(council.is_overdue(m, today) for m in measures)
    lines.append(
        _(
            "Updates overdue (no news for more than %(days)d days): %(count)d.",
            days=council.OVERDUE_AFTER.days,
            count=overdue,
        )
    )
    steps = [step for found in milestones.values() for step in found]
    # The same in English either way; French agrees "atteint(s)" with the count.
    lines.append(
        ngettext(
            "Milestones: %(num)d reached out of %(total)d, %(late)d late.",
            "Milestones: %(num)d reached out of %(total)d, %(late)d late.",
            sum(step.reached_on is not None for step in steps),
            total=len(steps),
            late=sum(_late(step, today) for step in steps),
        )
    )
    return "\n".join(lines)


def _measure(measure: Measure, milestones: list[Milestone], today: date) -> str:
    lines = []
    if measure.response is not None:
        answer = _("Council: %(response)s.", response=RESPONSES[measure.response.value])
        if measure.justification:
            answer += " " + _("Justification: %(text)s", text=measure.justification)
        lines.append(answer)
    if measure.council_text is not None:
        lines.append(_("Text adopted by the council: %(text)s", text=measure.council_text))
    if measure.council_budget_eur is not None:
        lines.append(
            _(
                "Budget adopted by the council: %(amount)s €",
                amount=format_decimal(measure.council_budget_eur),
            )
        )
    status = _("Status: %(status)s", status=MEASURE_STATUSES[measure.status.value])
    if measure.status_updated_at is not None:
        status += " " + _(
            "(updated %(day)s)", day=format_date(measure.status_updated_at.date(), "long")
        )
    if council.is_overdue(measure, today):
        status += " — " + _("update overdue")
    lines.append(status + (f". {measure.status_note}" if measure.status_note else "."))
    if measure.owner_service:
        lines.append(_("Service in charge: %(service)s", service=measure.owner_service))
    if measure.elected_referent:
        lines.append(_("Elected referent: %(name)s", name=measure.elected_referent))
    if measure.due_on:
        lines.append(_("Due on %(day)s", day=format_date(measure.due_on, "long")))
    for step in milestones:
        if step.reached_on is not None:
            state = _("reached on %(day)s", day=format_date(step.reached_on, "long"))
        else:
            state = _("late") if _late(step, today) else _("to come")
        lines.append(f"• {format_date(step.due_on, 'long')} — {step.title} — {state}")
    return "\n".join(lines)


def _late(step: Milestone, today: date) -> bool:
    return step.reached_on is None and step.due_on < today

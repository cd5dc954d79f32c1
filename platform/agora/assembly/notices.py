"""The assembly's notifications, rendered for each reader (see ``agora.notifications.kinds``).

Each kind's parameters, as stored with the notification:

``council.diverged``
    ``plan_id``, ``deliberation_id``, ``measures`` (how many differ from the vote).
``review.invited``
    ``year`` (the edition's), ``at`` (the review's start, ISO 8601 with its offset).
``measure.overdue``
    ``days`` (the lapse after which an update is overdue), ``measures``: a list of
    ``{"id": …, "updated_at": ISO 8601 or null}``, the last public update when alerted.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from flask_babel import format_date, format_time, ngettext
from flask_babel import gettext as _

from agora.assembly.models import ActionPlan, CouncilDeliberation, Edition, Measure
from agora.notifications.kinds import Gone, Link, RenderContext, Rendered, renderer

COUNCIL_DIVERGED = "council.diverged"
REVIEW_INVITED = "review.invited"
MEASURE_OVERDUE = "measure.overdue"


@renderer(COUNCIL_DIVERGED)
def _council_diverged(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
    deliberation = context.session.get(
        CouncilDeliberation, (context.tenant.id, params["deliberation_id"])
    )
    if deliberation is None:
        raise Gone(f"deliberation {params['deliberation_id']} of this notification is missing")
    return Rendered(
        _("The council did not adopt the action plan as voted"),
        ngettext(
            "Deliberation %(reference)s: %(num)d measure differs from the assembly's vote. "
            "The council's justifications and the differences are public.",
            "Deliberation %(reference)s: %(num)d measures differ from the assembly's vote. "
            "The council's justifications and the differences are public.",
            params["measures"],
            reference=deliberation.reference,
        ),
        Link("assembly.council_page", {"plan_id": params["plan_id"]}),
    )


@renderer(REVIEW_INVITED)
def _review_invited(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
    at = datetime.fromisoformat(params["at"])  # shown in the commune's time (Paris)
    return Rendered(
        _("Invitation: public review of the action plan"),
        _(
            "A year after the council's answer, the assembly reviews the action plan in "
            "public on %(day)s at %(time)s. You are invited.",
            day=format_date(at, "long"),
            time=format_time(at, "short"),
        ),
        Link("assembly.edition_page", {"year": params["year"]}),
    )


@renderer(MEASURE_OVERDUE)
def _measure_overdue(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
    tenant_id = context.tenant.id
    lines = []
    measures = []
    for item in params["measures"]:
        measure = context.session.get(Measure, (tenant_id, item["id"]))
        if measure is None:
            continue
        measures.append(measure)
        updated = item.get("updated_at")
        lines.append(
            _(
                "- %(title)s (%(owner)s): last public update on %(day)s",
                title=measure.title,
                owner=measure.owner_service or _("no owner service"),
                day=format_date(datetime.fromisoformat(updated), "long") if updated else "—",
            )
        )
    count = len(params["measures"])
    body = "\n".join(
        [
            ngettext(
                "This measure of the action plan has not been updated publicly for more than "
                "%(days)d days; residents see it marked as overdue:",
                "These measures of the action plan have not been updated publicly for more "
                "than %(days)d days; residents see them marked as overdue:",
                count,
                days=params["days"],
            ),
            "",
            *lines,
        ]
    )
    link: Link | None = None
    if len(measures) == 1:
        link = Link("assembly.measure_page", {"measure_id": measures[0].id})
    elif measures:
        plan = context.session.get(ActionPlan, (tenant_id, measures[0].action_plan_id))
        edition = plan and context.session.get(Edition, (tenant_id, plan.edition_id))
        link = Link("assembly.edition_page", {"year": edition.year} if edition else {})
    return Rendered(
        ngettext(
            "%(num)d measure to update on the follow-up page",
            "%(num)d measures to update on the follow-up page",
            count,
        ),
        body,
        link,
    )

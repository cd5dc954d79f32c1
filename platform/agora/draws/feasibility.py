"""Whether the closed pool can meet the quotas, and the public deviations when it cannot.

Before stage 2, each sub-draw's quotas are checked against its pool with the engine
(``check_feasibility``). An infeasible quota is named in French with what the pool holds
(« Tranche d'âge — 75 ans et plus : minimum 9, 3 disponibles ») and the engine's smallest
relaxation is proposed. The commune then relaxes a bound (or decides to invite more in the
strata that lack people): the decision is a public deviation from the published method.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask_babel import force_locale
from flask_babel import gettext as _

from agora.audit import services as audit
from agora.db import DbSession
from agora.draws import pool, services
from agora.draws.models import Deviation, Draw, DrawStatus, SubDraw
from agora.errors import Conflict, Invalid
from agora.plugins.manager import TenantHooks
from agora.sortition import InfeasibleQuotas, check_feasibility, compile_instance
from agora.tenancy.models import Tenant


@dataclass(frozen=True)
class Problem:
    """A quota of ``sub_draw_id`` the pool cannot meet, with the bounds that would do."""

    sub_draw_id: int
    feature: str
    value: str
    min: int
    max: int
    available: int
    new_min: int
    new_max: int
    message: str


def quota_labels(hooks: TenantHooks) -> dict[tuple[str, str], tuple[str, str]]:
    """(feature, value) → (criterion's label, value's label)."""
    return {
        (c.feature, v.value): (c.label, v.label) for c in hooks.quota_criteria() for v in c.values
    }


def sub_draw_problems(session: DbSession, hooks: TenantHooks, part: SubDraw) -> list[Problem]:
    criteria = hooks.quota_criteria()
    people = pool.sub_draw_pool(session, criteria, part)
    quotas = pool.sub_draw_quotas(session, criteria, part)
    if len(people) < part.seats:
        return [
            Problem(
                part.id, "", "", part.seats, part.seats, len(people), 0, 0,
                _(
                    "The pool holds %(available)s people for %(seats)s seats.",
                    available=len(people),
                    seats=part.seats,
                ),
            )
        ]  # fmt: skip
    try:
        check_feasibility(compile_instance(people, quotas, part.seats, households=True))
    except InfeasibleQuotas as error:
        held = Counter(
            (feature, row[i]) for row in people.rows for i, feature in enumerate(people.features)
        )
        labels = quota_labels(hooks)
        found = []
        for change in error.params.get("relaxation") or []:
            key = (change["feature"], change["value"])
            criterion, value = labels.get(key, key)
            available = held.get(key, 0)
            message = (
                _(
                    "%(criterion)s — %(value)s: minimum %(min)s, %(available)s available",
                    criterion=criterion,
                    value=value,
                    min=change["min"],
                    available=available,
                )
                if change["new_min"] < change["min"]
                else _(
                    "%(criterion)s — %(value)s: maximum %(max)s, the pool needs at least "
                    "%(needed)s",
                    criterion=criterion,
                    value=value,
                    max=change["max"],
                    needed=change["new_max"],
                )
            )
            found.append(
                Problem(
                    part.id, change["feature"], change["value"], change["min"], change["max"],
                    available, change["new_min"], change["new_max"], message,
                )
            )  # fmt: skip
        if not found:  # the households: fewer homes than seats
            found.append(
                Problem(
                    part.id, "", "", part.seats, part.seats, len(set(people.households or ())),
                    0, 0, _("The pool has fewer households than seats: one seat per household."),
                )
            )  # fmt: skip
        return found
    return []


def problems(session: DbSession, hooks: TenantHooks, draw: Draw) -> list[Problem]:
    """Every quota the closed pool cannot meet, over the draw's sub-draws."""
    return [
        problem
        for part in services.sub_draws(session, draw)
        for problem in sub_draw_problems(session, hooks, part)
    ]


def relax_bound(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    part: SubDraw,
    *,
    feature: str,
    value: str,
    minimum: int,
    maximum: int,
    reason: str,
    actor: str,
) -> Deviation:
    """Change one quota's bounds for ``part``: a public deviation from the method."""
    if draw.status != DrawStatus.POOL_CLOSED:
        raise Conflict(_("Quotas can be relaxed only once the pool is closed, before stage 2."))
    labels = quota_labels(hooks)
    if (feature, value) not in labels:
        raise Invalid(_("This draw has no such quota."))
    if not 0 <= minimum <= maximum <= part.seats:
        raise Invalid(
            _(
                "The bounds must satisfy 0 ≤ minimum ≤ maximum ≤ %(seats)s.",
                seats=part.seats,
            )
        )
    if not reason.strip():
        raise Invalid(_("Give the reason for this deviation: it is published."))
    before = {
        (q.feature, q.value): (q.min, q.max)
        for q in pool.sub_draw_quotas(session, hooks.quota_criteria(), part).quotas
    }[(feature, value)]
    criterion, value_label = labels[(feature, value)]
    # Published as the commune writes, whoever's language the staff member reads.
    with force_locale(tenant.locale):
        summary = _(
            "%(criterion)s — %(value)s: the quota goes from %(old_min)s–%(old_max)s to "
            "%(new_min)s–%(new_max)s seats. Reason: %(reason)s",
            criterion=criterion,
            value=value_label,
            old_min=before[0],
            old_max=before[1],
            new_min=minimum,
            new_max=maximum,
            reason=reason.strip(),
        )
    deviation = Deviation(
        tenant_id=tenant.id,
        draw_id=draw.id,
        kind=pool.RELAXED_BOUND,
        summary=summary,
        detail={
            "sub_draw_id": part.id,
            "feature": feature,
            "value": value,
            "min": minimum,
            "max": maximum,
            "before": list(before),
        },
        decided_by=actor,
    )
    session.add(deviation)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.quota_relaxed",
        object_type="draw",
        object_id=draw.id,
        details=dict(deviation.detail),
        public=True,
    )
    return deviation

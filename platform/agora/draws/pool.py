"""What stage 2 reads: a sub-draw's quotas, from the commune's criteria (census shares
scaled to its seats, with the tolerance the criteria allow, then the bounds a public
deviation relaxed), and its pool (the responses with consent and availability), in the
engine's types (``agora_sortition.Pool``, ``QuotaSet``)."""

from __future__ import annotations

import math

from sqlalchemy import select

from agora.db import DbSession
from agora.draws.models import Deviation, Response, SubDraw
from agora.plugins.contracts import QuotaCriterion
from agora.sortition import Pool, Quota, QuotaSet

#: A public deviation of this kind changes one quota's bounds: its detail holds
#: ``sub_draw_id``, ``feature``, ``value``, ``min`` and ``max``.
RELAXED_BOUND = "relaxed_bound"


def census_bounds(share: float, seats: int, tolerance: int) -> tuple[int, int]:
    """The seats a value with census ``share`` may hold among ``seats``: its expected
    number rounded down and up, widened by ``tolerance`` on each side, within 0..seats."""
    expected = share * seats
    return max(0, math.floor(expected) - tolerance), min(seats, math.ceil(expected) + tolerance)


def published_quotas(criteria: list[QuotaCriterion], seats: int) -> QuotaSet:
    """The quotas the method publishes for ``seats`` drawn seats."""
    return QuotaSet(
        tuple(
            Quota(
                criterion.feature,
                value.value,
                *census_bounds(value.reference_share, seats, criterion.tolerance_seats),
            )
            for criterion in criteria
            for value in criterion.values
        )
    )


def relaxed_bounds(session: DbSession, sub_draw: SubDraw) -> dict[tuple[str, str], tuple[int, int]]:
    """The bounds public deviations changed for ``sub_draw``, the latest decision winning."""
    bounds: dict[tuple[str, str], tuple[int, int]] = {}
    for deviation in session.execute(
        select(Deviation)
        .where(
            Deviation.tenant_id == sub_draw.tenant_id,
            Deviation.draw_id == sub_draw.draw_id,
            Deviation.kind == RELAXED_BOUND,
        )
        .order_by(Deviation.decided_at, Deviation.id)
    ).scalars():
        detail = deviation.detail
        if detail.get("sub_draw_id") == sub_draw.id:
            bounds[(detail["feature"], detail["value"])] = (int(detail["min"]), int(detail["max"]))
    return bounds


def sub_draw_criteria(criteria: list[QuotaCriterion], sub_draw: SubDraw) -> list[QuotaCriterion]:
    """The criteria that apply to ``sub_draw``'s source."""
    return [criterion for criterion in criteria if criterion.applies_to(sub_draw.source)]


def sub_draw_quotas(
    session: DbSession, criteria: list[QuotaCriterion], sub_draw: SubDraw
) -> QuotaSet:
    """The quotas stage 2 applies to ``sub_draw``: the published ones for its source's
    criteria, with the bounds relaxed by public deviations."""
    return published_quotas(sub_draw_criteria(criteria, sub_draw), sub_draw.seats).replace_bounds(
        relaxed_bounds(session, sub_draw)
    )


def pool_responses(session: DbSession, sub_draw: SubDraw) -> list[Response]:
    """The responses of ``sub_draw`` in its pool (consent given, available), in a stable
    order."""
    return list(
        session.execute(
            select(Response)
            .where(
                Response.tenant_id == sub_draw.tenant_id,
                Response.sub_draw_id == sub_draw.id,
                Response.consent.is_(True),
                Response.available.is_(True),
            )
            .order_by(Response.person_hash)
        ).scalars()
    )


def sub_draw_pool(session: DbSession, criteria: list[QuotaCriterion], sub_draw: SubDraw) -> Pool:
    """The pool of ``sub_draw`` for the engine: each respondent's hashed id, their declared
    value on every quota criterion of its source, and their household (one seat per household)."""
    return pool_of(criteria, sub_draw, pool_responses(session, sub_draw))


def pool_of(criteria: list[QuotaCriterion], sub_draw: SubDraw, responses: list[Response]) -> Pool:
    """The engine's pool of ``sub_draw`` from its ``pool_responses``."""
    features = tuple(criterion.feature for criterion in sub_draw_criteria(criteria, sub_draw))
    return Pool(
        tuple(r.person_hash for r in responses),
        features,
        tuple(tuple(str(r.features.get(f, "")) for f in features) for r in responses),
        tuple(r.household_hash or r.person_hash for r in responses),
    )

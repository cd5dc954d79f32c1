"""Feasibility check before any draw: a panel exists, or which quotas conflict and by how much.

The smallest relaxation is computed by an integer program that may move quota bounds at a cost
of one per seat (minimise the total slack added to mins and maxes). The conflicting quotas are an
irreducible infeasible subset of the quota bounds, found by a deletion filter: drop each bound in
turn and keep it dropped if the rest is still infeasible.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from ._highs import INF
from .errors import InfeasibleQuotas
from .instance import Instance, IntArray
from .panels import PanelModel


def check_feasibility(instance: Instance) -> IntArray:
    """Type counts of one quota-satisfying panel; ``InfeasibleQuotas`` when there is none."""
    quotas = instance.quotas.quotas
    if instance.use_households and instance.pool.households is not None:
        homes = len(set(instance.pool.households))
        if homes < instance.k:
            raise InfeasibleQuotas(
                [], [], reason=f"only {homes} households for a panel of {instance.k}"
            )
    elastic = PanelModel(instance, elastic=True)
    found = elastic.min_slack()
    if found is None:  # pragma: no cover - the elastic model is feasible once k <= households
        raise InfeasibleQuotas([], [], reason="no panel of this size exists")
    counts, under, over = found
    if not under.any() and not over.any():
        return counts
    relaxation = [
        {
            "feature": q.feature,
            "value": q.value,
            "min": q.min,
            "max": q.max,
            "new_min": q.min - int(u),
            "new_max": q.max + int(o),
        }
        for q, u, o in zip(quotas, under, over, strict=True)
        if u or o
    ]
    relaxed = {(q.feature, q.value) for q, u, o in zip(quotas, under, over, strict=True) if u or o}
    raise InfeasibleQuotas(_conflicts(instance, relaxed), relaxation)


def _conflicts(instance: Instance, relaxed: set[tuple[str, str]]) -> list[dict[str, Any]]:
    """A minimal set of quota bounds that cannot all hold (deletion filter)."""
    quotas = instance.quotas.quotas
    model = PanelModel(instance)
    zero = np.zeros(instance.num_types)
    # every bound that actually restricts; try dropping those outside the relaxation first so
    # that the reported conflict names the quotas the relaxation touches
    bounds = [(i, "min") for i, q in enumerate(quotas) if q.min > 0]
    bounds += [(i, "max") for i, q in enumerate(quotas) if q.max < instance.k]
    bounds.sort(key=lambda b: (quotas[b[0]].feature, quotas[b[0]].value) in relaxed)
    active = set(bounds)

    def apply(index: int) -> None:
        quota = quotas[index]
        model.set_bound(
            index,
            quota.min if (index, "min") in active else 0,
            quota.max if (index, "max") in active else INF,
        )

    for bound in bounds:
        active.discard(bound)
        apply(bound[0])
        if model.maximize(zero) is not None:  # needed for infeasibility: restore it
            active.add(bound)
            apply(bound[0])
    return [
        {
            "feature": quotas[i].feature,
            "value": quotas[i].value,
            "bound": side,
            "limit": quotas[i].min if side == "min" else quotas[i].max,
        }
        for i, side in bounds
        if (i, side) in active
    ]

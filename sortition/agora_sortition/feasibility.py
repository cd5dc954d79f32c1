"""Feasibility check before any draw: a panel exists, or which quotas conflict and by how much.

The smallest relaxation is computed by an integer program that may move quota bounds at a cost
of one per seat (minimise the total slack added to mins and maxes). The conflicting quotas are an
irreducible infeasible subset of the quota bounds, found by a deletion filter: drop each bound in
turn and keep it dropped if the rest is still infeasible.
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from ._highs import INF, OutOfTime
from .errors import InfeasibleQuotas
from .instance import Instance, IntArray
from .panels import Face, PanelModel, repair_panel, round_panel


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


def reachable(instance: Instance, deadline: float = INF) -> tuple[list[IntArray], IntArray]:
    """Panels holding every type that fits some quota-satisfying panel, and the types that fit
    none (their people can never be selected: every lottery gives them probability 0).

    Cheap first: the LP relaxation's optimum for weights on the types not yet held, rounded to
    a panel. Then the integer program with a row demanding one such type: a solution holds at
    least one new type; infeasibility proves that none of those left fits any panel. That is
    one feasibility check per type at worst, far fewer in practice (a panel holds k types).
    Past ``deadline`` it stops: the types not yet settled are then not reported (a time-limited
    search counts them as reachable, and its proven gap covers them).
    """
    relaxation = PanelModel(instance, relaxed=True, simplex_strategy=1)
    integer = PanelModel(
        instance, presolve="off", mip_max_improving_sols=3, mip_improving_solution_save=True
    )
    integer.deadline = deadline
    num_types = instance.num_types
    face = Face.whole(instance)
    row = integer.highs.getNumRow()
    every = np.arange(num_types, dtype=np.int32)
    integer.highs.addRow(1.0, INF, num_types, every, np.ones(num_types))
    held = np.zeros(num_types, dtype=bool)
    panels: list[IntArray] = []
    random = np.random.default_rng(0)
    heuristic = True
    while not held.all():
        if time.perf_counter() > deadline:
            return panels, np.zeros(0, dtype=np.int64)
        weights = np.where(held, 0.0, 1.0)
        found: list[IntArray] = []
        if heuristic:
            relaxed = relaxation.maximize(weights)
            if relaxed is not None:
                rounded = round_panel(instance, relaxed[0], weights, face)
                if rounded is None:
                    rounded = repair_panel(instance, relaxed[0], weights, face, random)
                if rounded is not None and (rounded[~held] > 0).any():
                    found = [rounded]
        if not found:
            heuristic = False  # the rounding stalls from here on: the integer program only
            try:
                exact = integer.maximize(weights)
            except OutOfTime:
                return panels, np.zeros(0, dtype=np.int64)
            if exact is None:
                break
            saved = integer.highs.getSavedMipSolutions()
            found = [exact[0], *(np.rint(s.col_value[:num_types]).astype(np.int64) for s in saved)]
            found = [p for p in found if (p[~held] > 0).any()]
            if not found:  # pragma: no cover - the row demands a new type
                break
        else:
            heuristic = True
        for panel in found:
            panels.append(panel)
            for t in np.flatnonzero((panel > 0) & ~held):
                integer.highs.changeCoeff(row, int(t), 0.0)
                held[t] = True
    return panels, np.flatnonzero(~held)


def unreachable_reasons(
    instance: Instance, types: IntArray, *, explained: int = 50, deadline: float = INF
) -> list[str]:
    """Why each of ``types`` fits no panel, in public words: their values and the smallest
    change of the quotas that would let one of them sit on a panel (the elastic integer program
    with that type forced onto the panel: one solve per type, for the first ``explained`` and
    until ``deadline``)."""
    quotas = instance.quotas.quotas
    elastic = PanelModel(instance, elastic=True)
    reasons = []
    for number, t in enumerate(types):
        values = ", ".join(
            f"{quotas[q].feature}={quotas[q].value}" for q in instance.type_quotas[int(t)]
        )
        reason = (
            f"no panel of {instance.k} meeting the quotas can include a volunteer with {values}"
        )
        if number < explained and time.perf_counter() < deadline:
            size = float(instance.type_size[int(t)])
            elastic.highs.changeColBounds(int(t), 1.0, size)
            found = elastic.min_slack()
            elastic.highs.changeColBounds(int(t), 0.0, size)
            if found is not None:
                _, under, over = found
                changes = [
                    f"{q.feature}={q.value} "
                    + (
                        f"min {q.min} -> {q.min - int(u)}"
                        if u
                        else f"max {q.max} -> {q.max + int(o)}"
                    )
                    for q, u, o in zip(quotas, under, over, strict=True)
                    if u or o
                ]
                if changes:
                    reason += (
                        " (the smallest change of the quotas that would: "
                        + "; ".join(changes)
                        + ")"
                    )
        reasons.append(reason)
    return reasons

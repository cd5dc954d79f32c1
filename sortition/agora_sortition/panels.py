"""Integer program over panels: type counts meeting the quotas, the size and households.

One persistent HiGHS model serves every caller that needs "the best panel for these weights"
(LEXIMIN pricing, coverage of types, feasibility): only the objective changes between solves.
With ``elastic=True`` each quota row gets slack columns so that the model is always feasible and
minimising the slack measures how far the quotas are from being satisfiable.
"""

from __future__ import annotations

import functools
import time
from dataclasses import dataclass
from typing import Any

import highspy
import numpy as np
import numpy.typing as npt

from ._highs import INF, new_highs, pass_model, run
from .instance import FloatArray, Instance, IntArray


def panel_rows(
    instance: Instance,
) -> tuple[list[tuple[IntArray, float | FloatArray]], FloatArray, FloatArray]:
    """Rows over type counts (panel size, one per quota, one per shared household) as
    ``(types, coefficients)`` pairs, with their lower and upper bounds."""
    num_types, num_quotas = instance.num_types, len(instance.quotas.quotas)
    # row q collects the types having quota q's value (each type hits one row per feature)
    flat = instance.type_quotas.ravel()
    owner = np.repeat(np.arange(num_types), instance.type_quotas.shape[1])
    order = np.argsort(flat, kind="stable")
    quota_rows = np.split(owner[order], np.cumsum(np.bincount(flat, minlength=num_quotas))[:-1])
    rows: list[tuple[IntArray, float | FloatArray]] = [(np.arange(num_types), 1.0)]
    rows.extend((members, 1.0) for members in quota_rows)
    rows.extend((group, 1.0) for group in instance.household_groups)
    num_households = len(instance.household_groups)
    lower = np.r_[instance.k, instance.quota_min, np.zeros(num_households)].astype(np.float64)
    upper = np.r_[instance.k, instance.quota_max, np.ones(num_households)].astype(np.float64)
    return rows, lower, upper


def row_activity(instance: Instance, counts: npt.NDArray[np.generic]) -> FloatArray:
    """Values of the rows of ``panel_rows`` at (possibly fractional) type counts."""
    housed = instance.type_household >= 0
    homes = np.bincount(
        instance.type_household[housed],
        weights=np.asarray(counts, dtype=np.float64)[housed],
        minlength=len(instance.household_groups),
    )
    activity: FloatArray = np.r_[float(np.sum(counts)), instance.quota_counts(counts), homes]
    return activity


@dataclass(frozen=True, eq=False)
class Face:
    """Bounds confining panels: on each type count and on each row of ``panel_rows``."""

    col_lower: FloatArray
    col_upper: FloatArray
    row_lower: FloatArray
    row_upper: FloatArray

    @classmethod
    def whole(cls, instance: Instance) -> Face:
        _, row_lower, row_upper = panel_rows(instance)
        size = instance.type_size.astype(np.float64)
        return cls(np.zeros(instance.num_types), size, row_lower, row_upper)

    def contains(self, instance: Instance, counts: IntArray) -> bool:
        activity = row_activity(instance, counts)
        return bool(
            (counts >= self.col_lower).all()
            and (counts <= self.col_upper).all()
            and (activity >= self.row_lower).all()
            and (activity <= self.row_upper).all()
        )


class PanelModel:
    """Variables ``c_t`` in ``[0, type_size_t]`` (integers unless ``relaxed``); rows: panel size,
    quotas, households."""

    def __init__(
        self,
        instance: Instance,
        *,
        elastic: bool = False,
        relaxed: bool = False,
        **options: float | str | bool,
    ) -> None:
        self.instance = instance
        num_types, num_quotas = instance.num_types, len(instance.quotas.quotas)
        rows, row_lower, row_upper = panel_rows(instance)
        slack = 2 * num_quotas if elastic else 0
        if elastic:  # count + under - over within [min, max]
            for q in range(num_quotas):
                members, _ = rows[1 + q]
                extra = num_types + np.array([q, num_quotas + q])
                rows[1 + q] = (np.r_[members, extra], np.r_[np.ones(len(members)), 1.0, -1.0])
        self.highs = new_highs(**options)
        pass_model(
            self.highs,
            cost=np.r_[np.zeros(num_types), np.ones(slack)],
            col_lower=np.zeros(num_types + slack),
            col_upper=np.r_[instance.type_size.astype(np.float64), np.full(slack, INF)],
            row_lower=row_lower,
            row_upper=row_upper,
            rows=rows,
            integer=not relaxed,
        )
        self.num_types = num_types
        self.relaxed = relaxed
        self.elastic = elastic
        self.deadline = INF  # ``maximize`` raises ``OutOfTime`` past it
        # the bounds in force, to check the solver's answers (see ``valid``)
        self.bounds = Face(
            np.zeros(num_types), instance.type_size.astype(np.float64), row_lower, row_upper
        )

    def maximize(
        self, weights: FloatArray, *, target: float | None = None
    ) -> tuple[npt.NDArray[Any], float, float] | None:
        """Panel maximising ``weights @ c`` as (counts, value, proven upper bound); None if none.

        A relaxed model returns the fractional optimum, its value being the bound. With
        ``target``, the integer program stops at its first panel worth at least that much (the
        bound is then the solver's proven one, not the optimum); it proves the optimum only when
        no panel reaches ``target``.
        """
        highs = self.highs
        if self.deadline < INF:  # ``OutOfTime`` at the deadline
            highs.setOptionValue("time_limit", max(1e-3, self.deadline - time.perf_counter()))
        highs.setOptionValue("objective_target", -INF if target is None else target)
        highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
        highs.changeColsCost(self.num_types, np.arange(self.num_types, dtype=np.int32), weights)
        if not run(highs, "panel pricing", accept_infeasible=True, valid=self.valid):
            return None
        values = np.asarray(highs.getSolution().col_value[: self.num_types])
        if self.relaxed:
            return values, float(weights @ values), float(weights @ values)
        counts = np.rint(values).astype(np.int64)
        value = float(weights @ counts)
        return counts, value, max(float(highs.getInfo().mip_dual_bound), value)

    def valid(self) -> bool:
        """Whether the solver's point meets the bounds in force (integral unless relaxed): a
        guard against a presolve that reports an optimum its postsolve broke."""
        values = np.asarray(self.highs.getSolution().col_value[: self.num_types])
        if self.elastic:
            return True
        tolerance = 1e-6
        if not self.relaxed:
            if np.abs(values - np.rint(values)).max(initial=0.0) > tolerance:
                return False
            values = np.rint(values)
        face = self.bounds
        activity = row_activity(self.instance, values)
        return bool(
            (values >= face.col_lower - tolerance).all()
            and (values <= face.col_upper + tolerance).all()
            and (activity >= face.row_lower - tolerance).all()
            and (activity <= face.row_upper + tolerance).all()
        )

    def restrict(self, face: Face) -> None:
        """Confine panels to ``face``."""
        self.bounds = face
        types = np.arange(self.num_types, dtype=np.int32)
        self.highs.changeColsBounds(self.num_types, types, face.col_lower, face.col_upper)
        for row, (lower, upper) in enumerate(zip(face.row_lower, face.row_upper, strict=True)):
            self.highs.changeRowBounds(row, lower, upper)

    def set_bound(self, row: int, lower: float, upper: float) -> None:
        """Change the bounds of a quota row (``row`` indexes ``instance.quotas.quotas``)."""
        self.highs.changeRowBounds(1 + row, lower, upper)
        row_lower, row_upper = self.bounds.row_lower.copy(), self.bounds.row_upper.copy()
        row_lower[1 + row], row_upper[1 + row] = lower, upper
        self.bounds = Face(self.bounds.col_lower, self.bounds.col_upper, row_lower, row_upper)

    def min_slack(self) -> tuple[IntArray, FloatArray, FloatArray] | None:
        """(counts, under, over) minimising the total slack of an elastic model; None if none."""
        highs = self.highs
        highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
        highs.setOptionValue("objective_target", -INF)
        if not run(highs, "quota relaxation", accept_infeasible=True):
            return None
        values = np.asarray(highs.getSolution().col_value)
        num_quotas = (len(values) - self.num_types) // 2
        slack = np.rint(values[self.num_types :]).astype(np.float64)
        counts = np.rint(values[: self.num_types]).astype(np.int64)
        return counts, slack[:num_quotas], slack[num_quotas:]


def round_panel(
    instance: Instance, fractional: FloatArray, weights: FloatArray, face: Face
) -> IntArray | None:
    """An integer panel of ``face`` close to a fractional one, or None if this greedy rounding
    fails.

    Keeps the integer parts, then fills the missing seats one at a time, preferring types that
    help a quota still under its minimum, then types the fractional panel used, then higher
    weights; a type is eligible while it has people left, no quota of its values is full and (for
    people sharing a household) no housemate sits on the panel.
    """
    counts = np.floor(fractional + 1e-9).astype(np.int64)
    seats = instance.quota_counts(counts)
    num_quotas = len(instance.quotas.quotas)
    lowest, highest = face.row_lower[1 : 1 + num_quotas], face.row_upper[1 : 1 + num_quotas]
    housed = instance.type_household >= 0
    taken_homes = np.zeros(len(instance.household_groups), dtype=bool)
    taken_homes[instance.type_household[housed & (counts > 0)]] = True
    was_used = (fractional - counts > 1e-9).astype(np.int64)
    for _ in range(instance.k - int(counts.sum())):
        eligible = (counts < face.col_upper) & ~(
            seats[instance.type_quotas] >= highest[instance.type_quotas]
        ).any(axis=1)
        if len(taken_homes):
            eligible &= ~(housed & taken_homes[instance.type_household])
        if not eligible.any():
            return None
        helps = (seats < lowest)[instance.type_quotas].sum(axis=1)
        candidates = np.flatnonzero(eligible)
        # lexsort: last key is primary
        best = candidates[
            np.lexsort((weights[candidates], was_used[candidates], helps[candidates]))[-1]
        ]
        counts[best] += 1
        seats[instance.type_quotas[best]] += 1
        if housed[best]:
            taken_homes[instance.type_household[best]] = True
    return counts if face.contains(instance, counts) else None


@functools.lru_cache(maxsize=8)
def incidence(instance: Instance) -> FloatArray:
    """Dense (rows x types) matrix of the rows of ``panel_rows`` after the size row."""
    rows, _, _ = panel_rows(instance)
    matrix = np.zeros((len(rows) - 1, instance.num_types))
    for number, (types, values) in enumerate(rows[1:]):
        matrix[number, types] = values
    return matrix


def _violation(activity: FloatArray, lower: FloatArray, upper: FloatArray) -> FloatArray:
    """Total distance of row values (along the last axis) from their bounds."""
    excess = np.maximum(lower - activity, 0.0) + np.maximum(activity - upper, 0.0)
    return np.asarray(excess.sum(axis=-1), dtype=np.float64)


def repair_panel(
    instance: Instance,
    fractional: FloatArray,
    weights: FloatArray,
    face: Face,
    random: np.random.Generator,
    *,
    moves: int = 60,
) -> IntArray | None:
    """A panel of ``face`` near a fractional point by local search, or None if none is found in
    ``moves`` moves: cheap where the greedy ``round_panel`` fails (many categories, quotas
    exact or nearly so) and the integer program costs a hundred times more.

    Seats are filled one by one with the type that adds the least distance to the row bounds
    (ties: the fractional point's larger part, then the weight); then, while some row is out of
    its bounds, one seat changes hands: the best of the swaps between the few types whose
    removal, and the few whose addition, helps most alone (evaluated exactly), a random one
    among them when none helps.
    """
    matrix = incidence(instance)
    lower, upper = face.row_lower[1:], face.row_upper[1:]
    col_lower, col_upper = face.col_lower, face.col_upper
    counts = np.clip(np.floor(fractional + 1e-9), col_lower, col_upper).astype(np.int64)
    if counts.sum() > instance.k:
        return None
    scale = float(np.abs(weights).max(initial=0.0)) or 1.0
    preference = 1e-3 * (weights / scale) + 1e-4 * (fractional - np.floor(fractional + 1e-9))
    activity = matrix @ counts
    for _ in range(instance.k - int(counts.sum())):
        room = counts < col_upper
        if not room.any():
            return None
        added = _violation(activity[:, None].T + matrix.T, lower, upper)
        score = np.where(room, added - preference, np.inf)
        best = int(np.argmin(score))
        counts[best] += 1
        activity += matrix[:, best]
    current = float(_violation(activity, lower, upper))
    width = 6
    for _ in range(moves):
        if current <= 1e-9:
            return counts if face.contains(instance, counts) else None
        can_add = counts < col_upper
        can_drop = counts > col_lower
        if not can_add.any() or not can_drop.any():
            return None
        gain_add = np.where(can_add, _violation(activity + matrix.T, lower, upper), np.inf)
        gain_drop = np.where(can_drop, _violation(activity - matrix.T, lower, upper), np.inf)
        noise = 1e-6 * random.random(len(counts))
        adds = np.argsort(gain_add - preference + noise)[:width]
        drops = np.argsort(gain_drop + preference + noise)[:width]
        adds, drops = adds[can_add[adds]], drops[can_drop[drops]]
        pairs = [(i, j) for i in drops for j in adds if i != j]
        if not pairs:
            return None
        after = np.array(
            [_violation(activity - matrix[:, i] + matrix[:, j], lower, upper) for i, j in pairs]
        )
        choice = int(np.argmin(after))
        if after[choice] >= current:  # a local minimum: move at random among the candidates
            choice = int(random.integers(len(pairs)))
        drop, add = pairs[choice]
        counts[drop] -= 1
        counts[add] += 1
        activity += matrix[:, add] - matrix[:, drop]
        current = float(after[choice])
    return counts if current <= 1e-9 and face.contains(instance, counts) else None

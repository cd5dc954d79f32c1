"""LEXIMIN and MAXIMIN selection by column generation over panels of *types*.

LEXIMIN (Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 2021) maximises the smallest selection
probability, then the next smallest, and so on. Each step solves

    max z  s.t.  pi_t >= z (types not yet fixed),  pi_t >= v_t (fixed types),  sum_P p_P = 1,

where ``pi_t = sum_P p_P c_{P,t} / n_t`` is the probability of each person of type ``t`` and the
panels ``P`` (type-count vectors ``c_P``) are generated on demand. The master LP is solved in its
dual form over the panels found so far: weights ``y_t >= 0`` (summing to 1 over unfixed types) and
a cap ``u`` with ``sum_t y_t c_{P,t} / n_t <= u`` for every known panel; the lottery ``p`` is the
duals of those rows. Pricing looks for a panel breaking the cap, i.e. maximising
``sum_t y_t c_t / n_t``: first cheaply (the LP relaxation of the panel integer program, rounded),
also at a smoothed dual point (Wentges stabilisation), and only when that fails with the exact
integer program, whose proven bound certifies optimality: for any such ``y`` the Lagrangian bound
``max_P y.pi_P - sum_fixed y_t v_t`` is an upper bound on ``z`` (this is the LP bound reported).
Types with a positive weight in the certified ``y`` are tight in every optimal lottery
(complementary slackness), so they are fixed at ``z``; the next step raises the others. MAXIMIN
stops after the first step.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np

from ._highs import INF, new_highs, pass_model, run
from .errors import SolverFailure
from .instance import FloatArray, Instance, IntArray
from .panels import PanelModel, round_panel

GAP = 1e-8  # pricing optimality gap, in probability units; bounds |z - z*| per level
DUAL_SUPPORT = 1e-9  # a type whose dual exceeds this is tight at the current level
SMOOTHING = 0.8  # weight of the best-bound duals in the pricing point


@dataclass(frozen=True, eq=False)
class Distribution:
    """A lottery over panels of types and what it costs to find it."""

    instance: Instance
    panels: IntArray  # (P, T) type counts of each panel in the support
    weights: FloatArray  # (P,) probabilities, summing to 1
    lp_bound: float  # proven upper bound on the smallest probability any lottery can give
    stats: dict[str, float] = field(default_factory=dict)

    @property
    def type_probabilities(self) -> FloatArray:
        return np.asarray(self.weights @ self.panels / self.instance.type_size, dtype=np.float64)

    @property
    def probabilities(self) -> FloatArray:
        """Selection probability of each person, in pool order."""
        return self.type_probabilities[self.instance.person_type]

    @property
    def min_probability(self) -> float:
        return float(self.probabilities.min())


class _ColumnGeneration:
    """Master LP over generated panels plus the pricing integer program."""

    def __init__(self, instance: Instance) -> None:
        self.instance = instance
        self.num_types = instance.num_types
        self.pricing = PanelModel(
            instance,
            mip_rel_gap=0.0,
            mip_abs_gap=GAP / 10,
            mip_improving_solution_save=True,
            presolve="off",  # the model is tiny; presolving it costs more than it saves
        )
        self.relaxation = PanelModel(instance, relaxed=True, simplex_strategy=4)
        self.columns: list[IntArray] = []  # panels found, in master row order
        self.weights = np.zeros(0)  # lottery of the last master solution
        self._seen: set[bytes] = set()
        # The master is solved in its dual form (as in the paper): columns y_t >= 0 (one per type)
        # and the cap u; minimise u - sum_fixed v_t y_t subject to sum_unfixed y_t = 1 (row 0) and
        # one row per panel, sum_t y_t c_t / n_t - u <= 0. A new panel is a new row, which the dual
        # simplex method re-optimises from the previous basis; the lottery is the rows' duals.
        self.master = new_highs(primal_feasibility_tolerance=1e-9, dual_feasibility_tolerance=1e-9)
        num_types = self.num_types
        pass_model(
            self.master,
            cost=np.r_[np.zeros(num_types), 1.0],
            col_lower=np.r_[np.zeros(num_types), -INF],
            col_upper=np.full(num_types + 1, INF),
            row_lower=[1.0],
            row_upper=[1.0],
            rows=[(np.arange(num_types), 1.0)],
        )
        self.pricing_calls = 0
        self.heuristic_calls = 0

    def add(self, panels: list[IntArray]) -> int:
        """Add new panels as master rows; returns how many were new."""
        fresh = []
        for counts in panels:
            key = counts.tobytes()
            if key not in self._seen:
                self._seen.add(key)
                fresh.append(counts)
        if not fresh:
            return 0
        indices, values, starts = [], [], [0]
        for counts in fresh:
            support = np.flatnonzero(counts)
            indices.append(np.r_[support, self.num_types])
            values.append(np.r_[counts[support] / self.instance.type_size[support], -1.0])
            starts.append(starts[-1] + len(support) + 1)
        self.master.addRows(
            len(fresh),
            np.full(len(fresh), -INF),
            np.zeros(len(fresh)),
            starts[-1],
            np.array(starts[:-1], dtype=np.int32),
            np.concatenate(indices).astype(np.int32),
            np.concatenate(values),
        )
        self.columns.extend(fresh)
        return len(fresh)

    def price(self, weights: FloatArray, *, exact: bool = True) -> tuple[list[IntArray], float]:
        """Good panels under ``weights`` and a proven upper bound on ``weights @ counts``.

        Exact: the integer optimum and the improving solutions met on the way. Otherwise: the
        LP relaxation's optimum (its value is the bound) rounded to a panel, when that works.
        """
        model = self.pricing if exact else self.relaxation
        found = model.maximize(weights)
        if found is None:
            raise SolverFailure("panel pricing", "no panel meets the quotas")
        best, _, bound = found
        if not exact:
            self.heuristic_calls += 1
            rounded = round_panel(self.instance, best, weights)
            return ([] if rounded is None else [rounded]), bound
        self.pricing_calls += 1
        saved = self.pricing.highs.getSavedMipSolutions()
        extra = [np.rint(s.col_value[: self.num_types]).astype(np.int64) for s in saved]
        return [best, *extra], bound

    def cover(self) -> IntArray:
        """Find panels covering every type that can sit on a panel; returns the others."""
        covered = np.zeros(self.num_types, dtype=bool)
        for counts in self.columns:
            covered |= counts > 0
        while not covered.all():
            weights = np.where(covered, 0.0, 1.0 / self.instance.type_size)
            panels, _ = self.price(weights)
            panels = [p for p in panels if weights @ p > 0]
            if not panels:  # no panel holds any uncovered type: they can never be selected
                break
            self.add(panels)
            for counts in panels:
                covered |= counts > 0
        return np.flatnonzero(~covered)

    def solve_master(self) -> tuple[float, FloatArray, float]:
        """Optimal z, type duals y and the sum dual mu (= -u) of the restricted master."""
        run(self.master, "LEXIMIN master LP")
        solution = self.master.getSolution()
        values = np.asarray(solution.col_value)
        self.weights = -np.asarray(solution.row_dual[1:])
        return self.master.getInfo().objective_function_value, values[:-1], -float(values[-1])

    def fix(self, types: IntArray, value: float) -> None:
        for t in types:
            self.master.changeCoeff(0, int(t), 0.0)
            self.master.changeColCost(int(t), -value)

    def distribution(self, lp_bound: float, stats: dict[str, float]) -> Distribution:
        """The lottery of the last master solution."""
        keep = self.weights > 1e-12
        panels = np.array(self.columns, dtype=np.int64)[keep]
        weights = self.weights[keep]
        return Distribution(self.instance, panels, weights / weights.sum(), lp_bound, dict(stats))


def _optimise(instance: Instance, *, first_level_only: bool) -> Distribution:
    started = time.perf_counter()
    engine = _ColumnGeneration(instance)
    fixed = np.zeros(instance.num_types, dtype=bool)
    never = engine.cover()
    engine.fix(never, 0.0)
    fixed[never] = True
    fixed_value = np.zeros(instance.num_types)
    lp_bound = 1.0
    levels = 0
    while not fixed.all():
        levels += 1
        center: FloatArray | None = None  # dual point with the best Lagrangian bound so far
        center_bound = INF
        while True:
            z, duals, mu = engine.solve_master()
            # Wentges smoothing: also price at a point between the best-bound duals and the
            # master's, which damps the oscillation of plain column generation. Cheap rounded-LP
            # panels first; the exact integer program only when they improve nothing.
            probes = [duals]
            if center is not None:
                probes.append(SMOOTHING * center + (1 - SMOOTHING) * duals)
            weights = duals / instance.type_size
            improving: list[IntArray] = []
            for exact, probe in [*((False, p) for p in probes), (True, duals)]:
                if exact and improving:
                    break
                panels, bound = engine.price(probe / instance.type_size, exact=exact)
                probe_bound = bound - float(probe[fixed] @ fixed_value[fixed])
                if probe_bound < center_bound:
                    center, center_bound = probe, probe_bound
                improving += [p for p in panels if weights @ p > -mu + GAP / 2]
            if levels == 1:
                lp_bound = min(lp_bound, center_bound)
            if not improving or not engine.add(improving):
                break  # no panel improves on the master's duals: z is optimal
        tight = np.flatnonzero(~fixed & (duals > DUAL_SUPPORT))
        if len(tight) == 0:  # numerical corner: the largest dual is the binding one
            tight = np.array([int(np.argmax(np.where(fixed, -INF, duals)))])
        engine.fix(tight, z)
        fixed[tight] = True
        fixed_value[tight] = z
        if levels == 1 and first_level_only:
            break
    stats = {
        "seconds": time.perf_counter() - started,
        "levels": levels,
        "pricing_calls": engine.pricing_calls,
        "heuristic_calls": engine.heuristic_calls,
        "columns": len(engine.columns),
        "types": instance.num_types,
    }
    return engine.distribution(max(lp_bound, 0.0), stats)


def find_leximin(instance: Instance) -> Distribution:
    """The LEXIMIN-optimal lottery (and its unique per-person probabilities)."""
    return _optimise(instance, first_level_only=False)


def find_maximin(instance: Instance) -> Distribution:
    """A lottery maximising the smallest selection probability (first LEXIMIN step only)."""
    return _optimise(instance, first_level_only=True)

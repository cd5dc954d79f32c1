"""LEXIMIN and MAXIMIN selection by column generation over panels of *types*.

LEXIMIN (Flanigan, Gölz, Gupta, Hennig, Procaccia, Nature 2021) maximises the smallest selection
probability, then the next smallest, and so on. Each step solves

    max z  s.t.  pi_t >= z (types not yet fixed),  pi_t >= v_t (fixed types),  sum_P p_P = 1,

where ``pi_t = sum_P p_P c_{P,t} / n_t`` is the probability of each person of type ``t`` and the
panels ``P`` (type-count vectors ``c_P``) are generated on demand. The master LP is solved in its
dual form over the panels found so far: weights ``y_t >= 0`` (summing to 1 over unfixed types) and
a cap ``u`` with ``sum_t y_t c_{P,t} / n_t <= u`` for every known panel; the lottery ``p`` is the
duals of those rows. Pricing looks for a panel breaking the cap, i.e. maximising
``sum_t y_t c_t / n_t``: first cheaply (the LP relaxation of the panel integer program, rounded)
at the master's duals, at a smoothed dual point (Wentges stabilisation) and at random
perturbations of the duals, which yields a batch of panels per master solve; only when none
improves, with the exact integer program, whose proven bound certifies optimality: for any such
``y`` the Lagrangian bound ``max_P y.pi_P - sum_fixed y_t v_t`` is an upper bound on ``z``. Types
with a positive weight in the certified ``y`` are tight in every optimal lottery (complementary
slackness), so they are fixed at ``z``; the next step raises the others. MAXIMIN stops after the
first step.

LEXIMIN first runs all these steps on the LP relaxation of the panel polytope, where expected type
counts ``x_t = n_t pi_t`` range over ``{x : 0 <= x <= n, the panel rows hold}``: a few small LPs,
no pricing. That polytope contains every lottery's expected counts, so its LEXIMIN profile is an
upper bound, and it is the exact answer as soon as some lottery reaches it. Its panels must lie on
the face of the polytope where the target sits (a quota met with equality in expectation is met
with equality by every panel). The lottery is first sought by *peeling* (``_peel``): repeatedly
take a panel on the smallest face holding the current residual point, give it as much weight as
keeps the rest inside the polytope, and carry on from the rest; every step makes a bound or row
tight, so this ends after at most ``T + 1`` panels with no master LP at all, unless a face on the
way holds no integer panel. Then column generation finishes the job (``_finish_peeling``): it
looks for a lottery reaching the residual point of an earlier step, as one maximin over types
scaled by that point: ``pi_t >= z pi*_t``, reached at ``z = 1``, pricing confined to that step's
face; it backs up 1, 2, 4, ... steps, the last attempt being the whole target on the relaxation's
face. The dead ends met in testing came in the last steps, on faces with few free types, where
backing up a few steps sufficed (none on the benchmark's pools). When no lottery reaches the
target (the relaxation is not tight there), the step-by-step method above runs instead.

Before any of this, the people who fit no panel meeting the quotas are found (``reachable``: a
covering of the types by panels, the integer program proving the rest fit none) and set aside at
probability 0 with a public reason; the relaxation then holds them at 0, which is often what makes
it tight again. Every level carries its certificate (``Distribution.levels``: the value given and
the proven bound, the relaxation's where it is reached, else the best Lagrangian bound). With a
time limit the search stops where it is and returns the lottery it has, with those bounds.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt

from ._highs import INF, OutOfTime, new_highs, pass_model, run
from .errors import SolverFailure
from .feasibility import reachable, unreachable_reasons
from .instance import FloatArray, Instance, IntArray
from .panels import (
    Face,
    PanelModel,
    panel_rows,
    repair_panel,
    round_panel,
    row_activity,
)

GAP = 1e-8  # pricing optimality gap, in probability units; bounds |z - z*| per level
DUAL_SUPPORT = 1e-9  # a type whose dual exceeds this is tight at the current level
SMOOTHING = 0.8  # weight of the best-bound duals in the smoothed pricing point
BATCH = 30  # randomly perturbed dual points priced per master solve
SPREAD = 1.0  # log-normal spread of those perturbations
FACE_TOLERANCE = 1e-7  # a row within this of a bound at the relaxed optimum is tight
CERTIFIED = 1e-6  # a level whose bound exceeds its value by no more than this is optimal
REACHED = 1e-7  # a lottery reaches the target when each type gets (1 - REACHED) of it
PEELED = 1e-9  # peeling stops when the panels found explain all but this much of the target
PEEL_TOLERANCE = 1e-9  # a residual count or row this close to a bound has reached it
ROUNDING_RETRIES = 5  # perturbed LPs rounded before a peeling step resorts to the integer program
ROUNDING_SPREAD = 0.3  # log-normal spread of their weights
HEURISTIC_PAUSE = 32  # most master solves priced by the integer program alone after failures


@dataclass(frozen=True, eq=False)
class Distribution:
    """A lottery over panels of types and what it costs to find it."""

    instance: Instance
    panels: IntArray  # (P, T) type counts of each panel in the support
    weights: FloatArray  # (P,) probabilities, summing to 1
    # proven upper bound on the smallest probability any lottery can give to the people who fit
    # some panel (those who fit none are in ``unreachable``, at probability 0 in every lottery)
    lp_bound: float
    stats: dict[str, float] = field(default_factory=dict)
    # the LP relaxation's LEXIMIN minimum: an upper bound, not tight where it exceeds ``lp_bound``
    relaxation_bound: float = float("nan")
    # the certificate, level by level: (probability given at that level, proven upper bound on
    # it given the earlier levels); equal within GAP where the level is optimal
    levels: tuple[tuple[float, float], ...] = ()
    # person id -> why they fit no panel meeting the quotas (probability 0 in every lottery)
    unreachable: dict[str, str] = field(default_factory=dict)
    # False when a time limit stopped the search before the last level (or the first one's
    # optimum): the probabilities are a valid lottery's, ``levels`` says how far each may be off
    complete: bool = True

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

    @property
    def min_reachable_probability(self) -> float:
        """The smallest probability of the people who fit some panel."""
        reachable = np.array([p not in self.unreachable for p in self.instance.pool.ids])
        return float(self.probabilities[reachable].min(initial=1.0))

    @property
    def gap(self) -> float:
        """Proven distance from the optimal minimum (among people who fit some panel)."""
        return max(0.0, self.lp_bound - self.min_reachable_probability)

    @property
    def optimal(self) -> bool:
        """Whether every level is certified optimal (within the pricing gap)."""
        return self.complete and all(bound - value <= CERTIFIED for value, bound in self.levels)


class _ColumnGeneration:
    """Master LP over generated panels plus the pricing integer program.

    Row ``t`` of the master constrains ``sum_P p_P c_{P,t} / scale_t``: the probability of type
    ``t`` when ``scale`` is the type sizes, its ratio to a target when ``scale`` is the target's
    expected counts. Every panel priced lies on ``face``.
    """

    def __init__(self, instance: Instance, scale: FloatArray, face: Face) -> None:
        self.instance = instance
        self.num_types = instance.num_types
        self.scale = scale
        self.face = face
        self.pricing = PanelModel(
            instance,
            mip_rel_gap=0.0,
            mip_abs_gap=GAP / 10,
            mip_improving_solution_save=True,
            presolve="off",  # the model is tiny; presolving it costs more than it saves
        )
        self.relaxation = PanelModel(instance, relaxed=True, simplex_strategy=4)
        # rounds the relaxation's optimum when the greedy rounding and the repair fail: the
        # integer program with every count boxed between the floor and the ceiling of the
        # fractional one
        self.rounding = PanelModel(instance)
        for model in (self.pricing, self.relaxation):
            model.restrict(face)
        self.columns: list[IntArray] = []  # panels found, in master row order
        self.weights = np.zeros(0)  # lottery of the last master solution
        self._seen: set[bytes] = set()
        self._fixed: set[int] = set()
        self._random = np.random.default_rng(0)
        # The master is solved in its dual form (as in the paper): columns y_t >= 0 (one per type)
        # and the cap u; minimise u - sum_fixed v_t y_t subject to sum_unfixed y_t = 1 (row 0) and
        # one row per panel, sum_t y_t c_t / scale_t - u <= 0. New panels are new rows, which the
        # dual simplex method re-optimises from the previous basis; the lottery is the rows' duals.
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
        # master solves left to price without the rounded-LP batch, and how many batches in a
        # row improved nothing: on exact quotas in many categories rounding almost never yields
        # a panel, and the batch then costs more than the integer program it was to spare
        self.heuristic_pause = 0
        self.heuristic_failures = 0

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
            values.append(np.r_[counts[support] / self.scale[support], -1.0])
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

    def price(
        self, weights: FloatArray, *, exact: bool = True, target: float | None = None
    ) -> tuple[list[IntArray], float]:
        """Good panels under ``weights`` and a proven upper bound on ``weights @ counts``.

        Exact: the integer optimum and the improving solutions met on the way, or with
        ``target`` the first panel worth that much (the optimum is proven only when none is).
        Otherwise: the LP relaxation's optimum (its value is the bound) rounded to a panel, when
        that works.
        """
        model = self.pricing if exact else self.relaxation
        found = model.maximize(weights, target=target if exact else None)
        if found is None:
            raise SolverFailure("panel pricing", "no panel meets the quotas")
        best, _, bound = found
        if not exact:
            self.heuristic_calls += 1
            rounded = round_panel(self.instance, best, weights, self.face)
            if rounded is None:
                rounded = repair_panel(
                    self.instance, best, weights, self.face, self._random, moves=20
                )
            if rounded is None:
                face = self.face
                box = Face(
                    np.maximum(np.floor(best + 1e-9), face.col_lower),
                    np.minimum(np.ceil(best - 1e-9), face.col_upper),
                    face.row_lower,
                    face.row_upper,
                )
                self.rounding.restrict(box)
                try:
                    boxed = self.rounding.maximize(weights)
                except OutOfTime:  # keep the relaxation's bound: the caller stops next
                    boxed = None
                rounded = None if boxed is None else boxed[0]
            return ([] if rounded is None else [rounded]), bound
        self.pricing_calls += 1
        saved = self.pricing.highs.getSavedMipSolutions()
        extra = [np.rint(s.col_value[: self.num_types]).astype(np.int64) for s in saved]
        return [best, *extra], bound

    def perturbations(self, duals: FloatArray) -> list[FloatArray]:
        """Random dual points around ``duals``: their panels differ, which fills the master
        with several useful rows per solve instead of one."""
        noise = self._random.standard_normal((BATCH, self.num_types))
        return list(duals * np.exp(SPREAD * noise))

    def solve_master(self) -> tuple[float, FloatArray, float]:
        """Optimal z, type duals y and the sum dual mu (= -u) of the restricted master."""
        run(self.master, "LEXIMIN master LP")
        solution = self.master.getSolution()
        values = np.asarray(solution.col_value)
        self.weights = -np.asarray(solution.row_dual[1:])
        return self.master.getInfo().objective_function_value, values[:-1], -float(values[-1])

    @property
    def all_fixed(self) -> bool:
        return len(self._fixed) == self.num_types

    def fix(self, types: IntArray, value: float) -> None:
        self._fixed.update(int(t) for t in types)
        for t in types:
            self.master.changeCoeff(0, int(t), 0.0)
            self.master.changeColCost(int(t), -value)

    def distribution(self, lp_bound: float, stats: dict[str, float]) -> Distribution:
        """The lottery of the last master solution."""
        keep = self.weights > 1e-12
        panels = np.array(self.columns, dtype=np.int64)[keep]
        weights = self.weights[keep]
        return Distribution(self.instance, panels, weights / weights.sum(), lp_bound, dict(stats))


def _column_generation(
    engine: _ColumnGeneration,
    *,
    first_level_only: bool,
    never: IntArray,
    deadline: float = INF,
) -> list[tuple[float, float]]:
    """Run the levels on ``engine``; returns each level's value and proven bound (the best
    Lagrangian bound met). At ``deadline`` it stops where it is: the master's lottery is a valid
    one and the last level's bound says how far from optimal it may be."""
    num_types = engine.num_types
    fixed = np.zeros(num_types, dtype=bool)
    engine.fix(never, 0.0)
    fixed[never] = True
    fixed_value = np.zeros(num_types)
    levels: list[tuple[float, float]] = []
    if not engine.columns:  # a time-limited pre-check may have found no panel: one is needed
        engine.add(engine.price(np.ones(num_types) / engine.scale)[0])
    for model in (engine.pricing, engine.rounding):
        model.deadline = deadline
    while not fixed.all():
        if levels and time.perf_counter() > deadline:
            break  # the levels left are not certified (``Distribution.complete`` is False)
        center: FloatArray | None = None  # dual point with the best Lagrangian bound so far
        center_bound = INF
        out_of_time = False
        while True:
            z, duals, mu = engine.solve_master()
            # Wentges smoothing: also price at a point between the best-bound duals and the
            # master's, which damps the oscillation of plain column generation, and at random
            # perturbations, which add a batch of rows per costly master solve. Cheap rounded-LP
            # panels first; the exact integer program only when they improve nothing.
            probes = [duals, *engine.perturbations(duals)]
            if center is not None:
                probes.append(SMOOTHING * center + (1 - SMOOTHING) * duals)
            weights = duals / engine.scale
            improving: list[IntArray] = []
            if engine.heuristic_pause:  # the batch failed lately: the integer program only
                engine.heuristic_pause -= 1
                probes = []
            # the integer program stops at its first improving panel: proving the optimum (the
            # certificate) is needed only once none is left
            target = -mu + GAP / 2
            for exact, probe in [*((False, p) for p in probes), (True, duals)]:
                if exact and probes:
                    if improving:
                        engine.heuristic_failures = 0
                        break
                    engine.heuristic_failures += 1
                    engine.heuristic_pause = min(2**engine.heuristic_failures, HEURISTIC_PAUSE)
                try:
                    panels, bound = engine.price(probe / engine.scale, exact=exact, target=target)
                except OutOfTime:
                    out_of_time = True
                    break
                # a bound only for points of the dual simplex (the perturbed ones are not)
                if abs(probe[~fixed].sum() - 1) < 1e-9:
                    probe_bound = bound - float(probe[fixed] @ fixed_value[fixed])
                    if probe_bound < center_bound:
                        center, center_bound = probe, probe_bound
                improving += [p for p in panels if weights @ p > -mu + GAP / 2]
            if out_of_time:
                engine.add(improving)
                break
            if not improving or not engine.add(improving):
                break  # no panel improves on the master's duals: z is optimal
            if time.perf_counter() > deadline:
                out_of_time = True
                break
        if out_of_time:
            z = engine.solve_master()[0]
        levels.append((z, max(z, center_bound)))
        if first_level_only or out_of_time:
            break
        tight = np.flatnonzero(~fixed & (duals > DUAL_SUPPORT))
        if len(tight) == 0:  # numerical corner: the largest dual is the binding one
            tight = np.array([int(np.argmax(np.where(fixed, -INF, duals)))])
        engine.fix(tight, z)
        fixed[tight] = True
        fixed_value[tight] = z
    return levels


def _relaxed_leximin(
    instance: Instance, never: IntArray | None = None
) -> tuple[FloatArray, float, Face]:
    """LEXIMIN over the LP relaxation of the panel polytope: the type probabilities, their
    minimum (an upper bound for any lottery) and the face of the polytope where they sit. Types
    in ``never`` (which fit no panel) are held at 0 and left out of the minimum."""
    num_types = instance.num_types
    size = instance.type_size.astype(np.float64)
    out = np.zeros(num_types, dtype=bool)
    if never is not None:
        out[never] = True
    rows, row_lower, row_upper = panel_rows(instance)
    base = len(rows)
    # columns: expected counts x_t, then z; rows: the panel's, then x_t - n_t z >= 0 per type
    highs = new_highs(primal_feasibility_tolerance=1e-9, dual_feasibility_tolerance=1e-9)
    pass_model(
        highs,
        cost=np.r_[np.zeros(num_types), 1.0],
        col_lower=np.r_[np.zeros(num_types), -INF],
        col_upper=np.r_[np.where(out, 0.0, size), INF],
        row_lower=np.r_[row_lower, np.zeros(num_types)],
        row_upper=np.r_[row_upper, np.full(num_types, INF)],
        rows=[
            *rows,
            *(
                (np.array([t, num_types]), np.array([1.0, 0.0 if out[t] else -size[t]]))
                for t in range(num_types)
            ),
        ],
        maximize=True,
    )
    fixed = out.copy()
    minimum: float | None = None
    while not fixed.all():
        run(highs, "relaxed LEXIMIN LP")
        z = highs.getInfo().objective_function_value
        duals = -np.asarray(highs.getSolution().row_dual[base:])
        tight = np.flatnonzero(~fixed & (duals > DUAL_SUPPORT))
        if len(tight) == 0:
            tight = np.array([int(np.argmax(np.where(fixed, -INF, duals)))])
        for t in tight:
            highs.changeCoeff(base + int(t), num_types, 0.0)
            highs.changeRowBounds(base + int(t), z * size[t], INF)
        fixed[tight] = True
        minimum = z if minimum is None else minimum
    solution = highs.getSolution()
    counts = np.asarray(solution.col_value[:num_types])
    activity = np.asarray(solution.row_value[:base])
    face = Face(
        np.where(counts >= size - FACE_TOLERANCE, size, 0.0),
        np.where(counts <= FACE_TOLERANCE, 0.0, size),
        np.where(activity >= row_upper - FACE_TOLERANCE, row_upper, row_lower),
        np.where(activity <= row_lower + FACE_TOLERANCE, row_lower, row_upper),
    )
    return counts / size, float(minimum or 0.0), face


@dataclass
class _Peeling:
    """Panels and weights peeled off a target point, and the mass they leave unexplained."""

    panels: list[IntArray]
    weights: list[float]
    mass: float  # 1 - sum(weights)
    heuristic_calls: int
    pricing_calls: int
    random: np.random.Generator = field(default_factory=lambda: np.random.default_rng(0))
    states: list[_PeelState] = field(default_factory=list)  # the state before each panel


@dataclass(frozen=True)
class _PeelState:
    """The residual point of a peeling (expected counts and row values), the bounds and rows
    tight there, and the mass still to explain."""

    x: npt.NDArray[np.longdouble]
    activity: npt.NDArray[np.longdouble]
    at_zero: npt.NDArray[np.bool_]
    at_full: npt.NDArray[np.bool_]
    at_lower: npt.NDArray[np.bool_]
    at_upper: npt.NDArray[np.bool_]
    mass: float

    @property
    def tight_rows(self) -> npt.NDArray[np.bool_]:
        return self.at_lower | self.at_upper

    def face(self, size: FloatArray, row_lower: FloatArray, row_upper: FloatArray) -> Face:
        """The smallest face of the relaxed panel polytope holding the residual point."""
        return Face(
            np.where(self.at_full, size, 0.0),
            np.where(self.at_zero, 0.0, size),
            np.where(self.at_upper, row_upper, row_lower),
            np.where(self.at_lower, row_lower, row_upper),
        )

    def advance(
        self,
        step: float,
        panel: IntArray,
        panel_activity: FloatArray,
        blocking: list[npt.NDArray[np.bool_]],
        size: FloatArray,
        row_lower: FloatArray,
        row_upper: FloatArray,
    ) -> _PeelState:
        """The state once ``step`` of the remaining mass goes to ``panel``."""
        x = (self.x - step * panel) / (1.0 - step)
        activity = (self.activity - step * panel_activity) / (1.0 - step)
        # the blocking constraints become tight, and so does anything within rounding distance
        cols, rows = blocking
        at_zero = self.at_zero | (x <= PEEL_TOLERANCE) | (cols & (panel > x))
        at_full = self.at_full | (x >= size - PEEL_TOLERANCE) | (cols & (panel < x))
        at_lower = (
            self.at_lower
            | (activity <= row_lower + PEEL_TOLERANCE)
            | (rows & (panel_activity > activity))
        )
        at_upper = (
            self.at_upper
            | (activity >= row_upper - PEEL_TOLERANCE)
            | (rows & (panel_activity < activity))
        )
        return _PeelState(
            np.where(at_zero, 0.0, np.where(at_full, size, x)),
            np.where(at_lower, row_lower, np.where(at_upper, row_upper, activity)),
            at_zero,
            at_full,
            at_lower,
            at_upper,
            self.mass * (1.0 - step),
        )


def _peel(
    instance: Instance,
    counts: FloatArray,
    face: Face,
    deadline: float = INF,
) -> _Peeling:
    """Write the expected counts ``counts`` (a point of ``face``) as a lottery over panels.

    Caratheodory-style peeling: take a panel ``c`` on the smallest face holding the current point
    ``x``, remove as much of it as keeps ``x' = (x - s c) / (1 - s)`` inside the relaxed panel
    polytope, and carry on from ``x'``. Each step makes at least one more bound or row tight, so
    at most ``num_types + 1`` panels are needed (far fewer in practice, as types with equal
    residual probability run out together), and no master LP is solved at all. The panel of a
    step is heavy on the residual probabilities ``x_t / n_t`` (see ``_face_panel``): putting the
    types with the most left to give on the panel lets the step be long. Peeling stops early when
    the current face holds no panel (the relaxation is not integral there); the caller then
    finishes by column generation (``_finish_peeling``). Every state is kept for that.
    """
    size = instance.type_size.astype(np.float64)
    _, row_lower, row_upper = panel_rows(instance)
    # dual simplex: each step changes the objective and tightens bounds, and the dual method
    # restarts better from the last basis (measured: 8 ms an LP at n = 5 000, against 22 ms)
    relaxation = PanelModel(instance, relaxed=True, simplex_strategy=1)
    # any integer point of the face will do: stop the integer program at its first solution
    integer = PanelModel(instance, mip_max_improving_sols=1)
    integer.deadline = deadline
    # tight bounds and rows only accumulate (the faces are nested), starting from ``face``'s
    at_zero, at_full = face.col_upper <= 0, face.col_lower >= size
    # the residual is tracked in extended precision where the platform has it (x86's 80-bit
    # long double): its rounding errors grow like 1 / mass
    x = np.where(at_zero, 0.0, np.where(at_full, size, counts)).astype(np.longdouble)
    state = _PeelState(
        x,
        row_activity(instance, x.astype(np.float64)).astype(np.longdouble),
        at_zero,
        at_full,
        face.row_upper <= row_lower,
        face.row_lower >= row_upper,
        1.0,
    )
    peeling = _Peeling([], [], 1.0, 0, 0)
    while state.mass > PEELED and time.perf_counter() < deadline:
        residual = (state.x / size).astype(np.float64)
        try:
            panel = _face_panel(
                instance,
                relaxation,
                integer,
                residual,
                state.face(size, row_lower, row_upper),
                peeling,
            )
        except OutOfTime:
            break
        if panel is None:  # the face holds no panel: the relaxation is not integral there
            break
        panel_activity = row_activity(instance, panel)
        step, blocking = _longest_step(
            (state.x, panel, np.zeros_like(size), size, state.at_zero | state.at_full),
            (state.activity, panel_activity, row_lower, row_upper, state.tight_rows),
        )
        if step <= 0.0:  # the panel is not on the face after all (rounding errors)
            break
        peeling.states.append(state)
        peeling.panels.append(panel)
        peeling.weights.append(state.mass * step)
        if step >= 1.0 - 1e-12:  # x was the panel itself
            state = dataclasses.replace(state, mass=0.0)
            break
        state = state.advance(step, panel, panel_activity, blocking, size, row_lower, row_upper)
    peeling.mass = state.mass
    return peeling


def _face_panel(
    instance: Instance,
    relaxation: PanelModel,
    integer: PanelModel,
    weights: FloatArray,
    face: Face,
    peeling: _Peeling,
) -> IntArray | None:
    """A panel of ``face``, heavy on ``weights``: the LP optimum rounded, else that of a few
    random perturbations of ``weights`` (another vertex often rounds where the first did not,
    for a tenth of the integer program's time), else the integer program's first solution; None
    when the face holds no panel."""
    relaxation.restrict(face)
    for attempt in range(1 + ROUNDING_RETRIES):
        probe = weights
        if attempt:
            probe = weights * np.exp(ROUNDING_SPREAD * peeling.random.standard_normal(len(weights)))
        found = relaxation.maximize(probe)
        peeling.heuristic_calls += 1
        if found is None:
            return None
        rounded = round_panel(instance, found[0], probe, face)
        if rounded is not None:
            return rounded
    peeling.pricing_calls += 1
    integer.restrict(face)
    exact = integer.maximize(weights)
    if exact is None:
        return None
    return exact[0]


def _longest_step(
    *constraints: tuple[
        npt.NDArray[Any], npt.NDArray[Any], FloatArray, FloatArray, npt.NDArray[np.bool_]
    ],
) -> tuple[float, list[npt.NDArray[np.bool_]]]:
    """Largest ``s <= 1`` keeping ``(x - s c) / (1 - s)`` within bounds, and which block it.

    Each constraint group is ``(value at x, value at c, lower, upper, tight)``; tight ones hold
    at ``c`` too and never block. The value moves away from ``c``: it reaches the lower bound at
    ``s = (x - lower) / (c - lower)`` when ``c > lower``, the upper one symmetrically.
    """
    ratios = []
    for at_x, at_c, lower, upper, tight in constraints:
        ratio = np.full(len(at_x), np.inf)
        with np.errstate(divide="ignore", invalid="ignore"):
            down = ~tight & (at_c > lower + 1e-12)
            ratio[down] = (at_x[down] - lower[down]) / (at_c[down] - lower[down])
            up = ~tight & (at_c < upper - 1e-12)
            ratio[up] = np.minimum(ratio[up], (upper[up] - at_x[up]) / (upper[up] - at_c[up]))
        ratios.append(np.maximum(ratio, 0.0))
    step = min(1.0, *(float(r.min(initial=np.inf)) for r in ratios))
    return step, [r <= step * (1 + 1e-9) + 1e-15 for r in ratios]


def _stats(started: float, engine: _ColumnGeneration, levels: int) -> dict[str, float]:
    return {
        "seconds": time.perf_counter() - started,
        "levels": levels,
        "pricing_calls": engine.pricing_calls,
        "heuristic_calls": engine.heuristic_calls,
        "columns": len(engine.columns),
        "types": engine.num_types,
    }


def find_leximin(instance: Instance, *, time_limit: float | None = None) -> Distribution:
    """The LEXIMIN-optimal lottery (and its unique per-person probabilities).

    People who fit no panel meeting the quotas are found first and set aside at probability 0,
    with the reason (``Distribution.unreachable``). With ``time_limit`` (seconds), a search that
    has to go level by level stops there and returns the best lottery found, its levels carrying
    their proven bounds (``Distribution.levels``, ``gap``, ``optimal``).
    """
    started = time.perf_counter()
    deadline = started + time_limit if time_limit is not None else INF
    covering, never = reachable(instance, deadline)
    aside = _set_aside(instance, never, deadline)
    target, bound, face = _relaxed_leximin(instance, never)
    counts = target * instance.type_size
    peeling = _peel(instance, counts, face, deadline)
    stats = {
        "peeled": len(peeling.panels),
        "heuristic_calls": peeling.heuristic_calls,
        "pricing_calls": peeling.pricing_calls,
        "types": instance.num_types,
        "unreachable_types": len(never),
    }
    profile = _profile(target, never)
    if peeling.mass <= PEELED:
        found = Distribution(
            instance,
            np.array(peeling.panels, dtype=np.int64),
            np.array(peeling.weights) / sum(peeling.weights),
            bound,
            {**stats, "seconds": time.perf_counter() - started, "levels": 1},
            relaxation_bound=bound,
            levels=profile,
            unreachable=aside,
        )
        if _reaches(found, target):
            return found
    # With households the relaxation's face may hold no panel at all (then its profile is out of
    # reach, as below); otherwise column generation finishes what peeling could not.
    elif peeling.panels and time.perf_counter() < deadline:
        finished = _finish_peeling(instance, peeling, target, bound, deadline)
        if finished is not None:
            finished.stats.update(
                peeled=len(peeling.panels),
                types=instance.num_types,
                unreachable_types=len(never),
                seconds=time.perf_counter() - started,
            )
            return dataclasses.replace(
                finished, relaxation_bound=bound, levels=profile, unreachable=aside
            )
    # the relaxation's profile is out of reach: LEXIMIN level by level
    found = _optimise(
        instance,
        first_level_only=False,
        started=started,
        bound=bound,
        never=never,
        panels=[*covering, *peeling.panels],
        deadline=deadline,
    )
    found.stats.update(peeled=len(peeling.panels), unreachable_types=len(never))
    return dataclasses.replace(found, relaxation_bound=bound, unreachable=aside)


def _profile(target: FloatArray, never: IntArray) -> tuple[tuple[float, float], ...]:
    """The LEXIMIN levels of a target reached exactly: each distinct probability is its own
    bound (the relaxation proves it)."""
    reachable = np.ones(len(target), dtype=bool)
    reachable[never] = False
    values: list[float] = []
    for value in np.sort(target[reachable]):
        if not values or value > values[-1] + CERTIFIED:
            values.append(float(value))
    return tuple((v, v) for v in values)


def _set_aside(instance: Instance, never: IntArray, deadline: float = INF) -> dict[str, str]:
    """Person id -> the public reason why they fit no panel, for the types of ``never``."""
    if not len(never):
        return {}
    reasons = unreachable_reasons(instance, never, deadline=deadline)
    pool_ids = instance.pool.ids
    return {
        pool_ids[int(person)]: reason
        for t, reason in zip(never, reasons, strict=True)
        for person in instance.type_members[int(t)]
    }


def _finish_peeling(
    instance: Instance,
    peeling: _Peeling,
    target: FloatArray,
    bound: float,
    deadline: float = INF,
) -> Distribution | None:
    """Complete a peeling that reached a face without panels by column generation on its tail.

    The residual point of an earlier state is what the later panels and the dead end were to
    explain; it sits on a small face (most types exhausted or full), where column generation is
    cheap. Back up 1, 2, 4, ... panels until column generation on that face reaches the state's
    point; the last attempt is the whole face, seeded with every panel peeled. None when even
    that does not reach the target.
    """
    size = instance.type_size.astype(np.float64)
    _, row_lower, row_upper = panel_rows(instance)
    back = 1
    while True:
        start = max(0, len(peeling.panels) - back)
        state = peeling.states[start]
        point = state.x.astype(np.float64)
        reachable = point > FACE_TOLERANCE
        engine = _ColumnGeneration(
            instance, np.where(reachable, point, 1.0), state.face(size, row_lower, row_upper)
        )
        engine.add(peeling.panels[start:])
        # no covering of the other types first: proving which of them the face holds costs an
        # integer program each, while the column generation's pricing finds their panels anyway
        # (a type no panel of the face holds only keeps z at 0, and the lottery is then checked)
        _column_generation(
            engine, first_level_only=True, never=np.flatnonzero(~reachable), deadline=deadline
        )
        if time.perf_counter() > deadline:
            return None  # the level-by-level search returns the best lottery and its gap
        keep = engine.weights > 1e-12
        tail = engine.weights[keep] / engine.weights[keep].sum()
        panels = np.array(engine.columns, dtype=np.int64)[keep]
        if ((tail @ panels) / size >= point / size * (1 - REACHED) - GAP).all() or start == 0:
            weights = np.r_[peeling.weights[:start], state.mass * tail]
            found = Distribution(
                instance,
                np.r_[
                    np.array(peeling.panels[:start], dtype=np.int64).reshape(-1, len(size)), panels
                ],
                weights / weights.sum(),
                bound,
                {
                    "levels": 1,
                    "backed_up": len(peeling.panels) - start,
                    "columns": len(engine.columns),
                    "heuristic_calls": peeling.heuristic_calls + engine.heuristic_calls,
                    "pricing_calls": peeling.pricing_calls + engine.pricing_calls,
                },
            )
            return found if _reaches(found, target) else None
        back *= 2


def _reaches(found: Distribution, target: FloatArray) -> bool:
    """Whether the lottery gives every type its target, checked on the lottery itself (types no
    panel of the face holds were left out of the column generation's z)."""
    return bool((found.type_probabilities >= target * (1 - REACHED) - GAP).all())


def _optimise(
    instance: Instance,
    *,
    first_level_only: bool,
    started: float,
    bound: float = 1.0,
    never: IntArray,
    panels: list[IntArray] | None = None,
    deadline: float = INF,
) -> Distribution:
    engine = _ColumnGeneration(
        instance, instance.type_size.astype(np.float64), Face.whole(instance)
    )
    engine.add(panels or [])
    levels = _column_generation(
        engine, first_level_only=first_level_only, never=never, deadline=deadline
    )
    lp_bound = max(min(levels[0][1], bound), 0.0) if levels else 0.0
    found = engine.distribution(lp_bound, _stats(started, engine, len(levels)))
    complete = time.perf_counter() <= deadline or (
        (first_level_only or engine.all_fixed) and levels[-1][1] - levels[-1][0] <= CERTIFIED
    )
    return dataclasses.replace(found, levels=tuple(levels), complete=complete)


def find_maximin(instance: Instance, *, time_limit: float | None = None) -> Distribution:
    """A lottery maximising the smallest selection probability (first LEXIMIN step only) among
    the people who fit some panel; the others are set aside as in ``find_leximin``."""
    started = time.perf_counter()
    deadline = started + time_limit if time_limit is not None else INF
    covering, never = reachable(instance, deadline)
    found = _optimise(
        instance,
        first_level_only=True,
        started=started,
        never=never,
        panels=covering,
        deadline=deadline,
    )
    found.stats.update(unreachable_types=len(never))
    return dataclasses.replace(found, unreachable=_set_aside(instance, never, deadline))

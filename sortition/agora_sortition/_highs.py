"""Thin helpers around HiGHS (``highspy``): silent, single-threaded, deterministic models."""

from __future__ import annotations

from collections.abc import Callable, Sequence

import highspy
import numpy as np
import numpy.typing as npt
from highspy._core import _Highs

from .errors import SolverFailure

INF = highspy.kHighsInf


def new_highs(**options: float | int | bool | str) -> _Highs:
    """A silent solver; one thread and a fixed seed so that runs are reproducible.

    The core ``_Highs`` class (listed in highspy's ``__all__``) is used rather than the ``Highs``
    wrapper, whose constructor installs Python callbacks and prints a banner on stdout.
    """
    highs = _Highs()
    for name, value in {
        "output_flag": False,
        "threads": 1,
        "random_seed": 0,
        **options,
    }.items():
        highs.setOptionValue(name, value)
    return highs


def pass_model(
    highs: _Highs,
    *,
    cost: npt.ArrayLike,
    col_lower: npt.ArrayLike,
    col_upper: npt.ArrayLike,
    row_lower: npt.ArrayLike,
    row_upper: npt.ArrayLike,
    rows: Sequence[tuple[npt.ArrayLike, npt.ArrayLike]],
    integer: bool = False,
    maximize: bool = False,
) -> None:
    """Load a model given row by row as ``(column indices, coefficients)`` pairs."""
    lp = highspy.HighsLp()
    costs = np.asarray(cost, dtype=np.float64)
    lp.num_col_ = len(costs)
    lp.num_row_ = len(rows)
    lp.col_cost_ = costs
    lp.col_lower_ = np.asarray(col_lower, dtype=np.float64)
    lp.col_upper_ = np.asarray(col_upper, dtype=np.float64)
    lp.row_lower_ = np.asarray(row_lower, dtype=np.float64)
    lp.row_upper_ = np.asarray(row_upper, dtype=np.float64)
    lp.sense_ = highspy.ObjSense.kMaximize if maximize else highspy.ObjSense.kMinimize
    lengths = [len(np.atleast_1d(np.asarray(index))) for index, _ in rows]
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = np.concatenate([[0], np.cumsum(lengths, dtype=np.int64)]).astype(np.int32)
    lp.a_matrix_.index_ = np.concatenate(
        [np.asarray(i, dtype=np.int32).ravel() for i, _ in rows] or [np.zeros(0, np.int32)]
    )
    lp.a_matrix_.value_ = np.concatenate(
        [
            np.broadcast_to(np.asarray(v, dtype=np.float64), (n,))
            for (_, v), n in zip(rows, lengths, strict=True)
        ]
        or [np.zeros(0)]
    )
    if integer:
        lp.integrality_ = [highspy.HighsVarType.kInteger] * lp.num_col_
    highs.passModel(lp)


# Settings tried in turn when a solve fails (HiGHS 1.16's MIP presolve, for one, can reduce a
# pricing model to nothing and postsolve a point that breaks a row: "Solve error", while the same
# model solves with presolve off): presolve off, then the other simplex method with a fresh seed,
# then a perturbed objective (a larger cost perturbation in the dual simplex, which HiGHS removes
# before it reports the optimum, so the answer is the unperturbed one).
RETRIES: tuple[dict[str, float | int | str], ...] = (
    {"presolve": "off"},
    {"presolve": "off", "simplex_strategy": 4, "random_seed": 1},
    {
        "presolve": "on",
        "simplex_strategy": 1,
        "dual_simplex_cost_perturbation_multiplier": 10.0,
        "random_seed": 2,
    },
)


class OutOfTime(Exception):
    """A solve stopped at the time limit the caller set (``time_limit``): not a failure."""


# a MIP stopped at its ``objective_target`` holds a solution reaching it and a proven bound
SOLVED = (
    highspy.HighsModelStatus.kOptimal,
    highspy.HighsModelStatus.kSolutionLimit,
    highspy.HighsModelStatus.kObjectiveTarget,
)


def _solve(highs: _Highs) -> highspy.HighsModelStatus:
    """One solve with the options in force (a seam for the tests that force a failure)."""
    highs.run()
    return highs.getModelStatus()


def run(
    highs: _Highs,
    what: str,
    *,
    accept_infeasible: bool = False,
    valid: Callable[[], bool] | None = None,
) -> bool:
    """Solve; True if optimal, False if infeasible (when accepted), else ``SolverFailure``.

    An integer program stopped by its ``mip_max_improving_sols`` or ``objective_target`` option
    counts as solved: the caller asked for any (good enough) panel, not the best one, and its
    bound is still a proven one. A solve
    that fails (or whose solution ``valid`` rejects) is retried with each of ``RETRIES`` in turn,
    its own options restored afterwards; ``SolverFailure`` names every status met.
    """
    statuses = []
    for attempt in range(1 + len(RETRIES)):
        settings = RETRIES[attempt - 1] if attempt else {}
        saved = {name: highs.getOptionValue(name)[1] for name in settings}
        if attempt:
            highs.clearSolver()
            for name, value in settings.items():
                highs.setOptionValue(name, value)
        try:
            status = _solve(highs)
        finally:
            for name, value in saved.items():
                highs.setOptionValue(name, value)
        if status in SOLVED and (valid is None or valid()):
            return True
        if accept_infeasible and status == highspy.HighsModelStatus.kInfeasible:
            return False
        text = highs.modelStatusToString(status)
        statuses.append(text if status in SOLVED else f"{text} (invalid solution)")
        if status == highspy.HighsModelStatus.kTimeLimit:
            raise OutOfTime(what)  # the caller's time limit: not a failure to work around
    raise SolverFailure(what, "; ".join(statuses))

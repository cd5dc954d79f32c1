"""The peeling that writes the LP relaxation's LEXIMIN target as a lottery over panels."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora_sortition import Pool, QuotaSet, compile_instance, find_leximin, leximin
from agora_sortition.leximin import (
    PEELED,
    _finish_peeling,
    _longest_step,
    _peel,
    _relaxed_leximin,
)
from agora_sortition.panels import Face, PanelModel, round_panel, row_activity
from agora_sortition.pool import quota_violations
from sortition_support import build


def test_longest_step_stops_at_the_first_bound_reached() -> None:
    # x = (0.5, 0.5) between 0 and 1, panel c = (1, 0): x' = (x - s c) / (1 - s) has
    # x'_0 = (0.5 - s) / (1 - s) reaching 0 at s = 0.5 and x'_1 = 0.5 / (1 - s) reaching 1 at
    # s = 0.5 too; a row x_0 + x_1 at 1 with c at 1 is tight and never blocks.
    x, c = np.array([0.5, 0.5]), np.array([1.0, 0.0])
    step, (cols, rows) = _longest_step(
        (x, c, np.zeros(2), np.ones(2), np.zeros(2, dtype=bool)),
        (np.array([1.0]), np.array([1.0]), np.array([1.0]), np.array([1.0]), np.ones(1, bool)),
    )
    assert step == pytest.approx(0.5)
    assert cols.tolist() == [True, True]
    assert rows.tolist() == [False]
    # x = (0.8, 0.1): x'_0 = (0.8 - s) / (1 - s) reaches 0 at s = 0.8, while x'_1 = 0.1 / (1 - s)
    # would reach 1 only at s = 0.9: the first type alone blocks
    step, (cols,) = _longest_step(
        (np.array([0.8, 0.1]), c, np.zeros(2), np.ones(2), np.zeros(2, dtype=bool)),
    )
    assert step == pytest.approx(0.8)
    assert cols.tolist() == [True, False]


def test_row_activity_counts_size_quotas_and_households() -> None:
    people = [("f", "y"), ("f", "o"), ("m", "o"), ("m", "y")]
    bounds = {("g", "f"): (0, 2), ("g", "m"): (0, 2), ("a", "y"): (0, 2), ("a", "o"): (0, 2)}
    pool, quotas = build(people, ("g", "a"), bounds, ["h0", "h0", "h1", "h2"])
    instance = compile_instance(pool, quotas, 2, households=True)
    counts = np.zeros(instance.num_types)
    counts[instance.person_type[[0, 2]]] = [1.0, 0.5]
    # rows: size, f, m, y, o, the one shared household (persons 0 and 1)
    assert row_activity(instance, counts).tolist() == [1.5, 1.0, 0.5, 1.0, 0.5, 1.0]


def _synthetic(seed: int, n: int = 60, k: int = 8) -> tuple[Pool, QuotaSet]:
    """Three features, quotas around a random reference panel."""
    rng = np.random.default_rng(seed)
    rows = [tuple(f"{f}{rng.integers(0, 3)}" for f in "abc") for _ in range(n)]
    reference = rng.choice(n, k, replace=False)
    bounds = {}
    for position, feature in enumerate("ABC"):
        for value in range(3):
            name = f"{'abc'[position]}{value}"
            seats = sum(rows[i][position] == name for i in reference)
            bounds[(feature, name)] = (max(0, seats - 1), seats + 1)
    return build(rows, ("A", "B", "C"), bounds, None)


@pytest.mark.parametrize("seed", range(4))
def test_peeling_writes_the_target_as_a_lottery_of_panels(seed: int) -> None:
    pool, quotas = _synthetic(seed)
    instance = compile_instance(pool, quotas, 8)
    target, _, face = _relaxed_leximin(instance)
    counts = target * instance.type_size
    peeling = _peel(instance, counts, face)
    assert peeling.panels
    weights, panels = np.array(peeling.weights), np.array(peeling.panels)
    assert (weights > 0).all()
    assert weights.sum() == pytest.approx(1 - peeling.mass, abs=1e-12)
    for panel in panels:
        assert face.contains(instance, panel)
        members = [int(m) for t, c in enumerate(panel) for m in instance.type_members[t][:c]]
        assert not quota_violations(pool, quotas, [pool.ids[m] for m in members])
    if peeling.mass <= PEELED:  # the panels explain the target
        assert np.allclose(weights @ panels, counts, atol=1e-8)
    # distinct panels, affinely independent: each left the face its successors are on
    lifted = np.c_[panels, np.ones(len(panels))]
    assert np.linalg.matrix_rank(lifted) == len(panels)


def test_face_of_a_peeling_state_is_on_the_whole_polytope() -> None:
    pool, quotas = _synthetic(0)
    instance = compile_instance(pool, quotas, 8)
    whole = Face.whole(instance)
    _, _, face = _relaxed_leximin(instance)
    assert (face.col_lower >= whole.col_lower).all() and (face.col_upper <= whole.col_upper).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 10_000))
def test_leximin_lottery_meets_quotas_and_sums_to_k(seed: int) -> None:
    pool, quotas = _synthetic(seed, n=30, k=6)
    instance = compile_instance(pool, quotas, 6)
    found = find_leximin(instance)
    assert found.weights.sum() == pytest.approx(1.0)
    assert found.probabilities.sum() == pytest.approx(6.0)
    assert found.min_probability <= found.lp_bound + 1e-9
    whole = Face.whole(instance)
    for panel in found.panels:
        assert whole.contains(instance, panel)


@pytest.mark.parametrize("failures", [1, 99])
def test_peeling_when_rounding_fails(monkeypatch: pytest.MonkeyPatch, failures: int) -> None:
    # Each step rounds the LP optimum, then that of perturbed weights, then asks the integer
    # program: make the first ``failures`` roundings of every step fail to reach the later ones.
    pool, quotas = _synthetic(1)
    instance = compile_instance(pool, quotas, 8)
    target, _, face = _relaxed_leximin(instance)
    calls: list[int] = []

    def failing(*args: Any) -> Any:
        calls.append(1)
        if len(calls) % 100 <= failures:
            return None
        return round_panel(*args)

    def new_step(*args: Any) -> Any:
        calls.clear()
        return longest_step(*args)

    longest_step = leximin._longest_step
    monkeypatch.setattr(leximin, "round_panel", failing)
    monkeypatch.setattr(leximin, "_longest_step", new_step)
    peeling = _peel(instance, target * instance.type_size, face)
    dead_end = peeling.mass > PEELED  # the last integer program found the face empty
    assert peeling.pricing_calls == (len(peeling.panels) + dead_end if failures > 5 else 0)
    assert peeling.heuristic_calls > len(peeling.panels)
    if failures == 1:
        panels = np.array(peeling.panels)
        assert peeling.mass <= PEELED
        assert np.allclose(np.array(peeling.weights) @ panels, target * instance.type_size)
    else:
        # the integer program's first solutions make shorter steps and lead to a dead end on
        # this pool, with about 1 % of the target left: column generation on the last few faces
        # finishes the lottery
        assert 1e-3 < peeling.mass < 5e-2
        found = _finish_peeling(instance, peeling, target, 1.0)
        assert found is not None
        assert 0 < found.stats["backed_up"] < len(peeling.panels)
        assert np.allclose(found.type_probabilities, target, atol=1e-7)
        assert found.weights.sum() == pytest.approx(1.0)


def test_peeling_a_face_without_panels() -> None:
    # the households case of test_selection: the relaxation's face holds no panel at all
    people = [("a0", "b1"), ("a2", "b0"), ("a0", "b0"), ("a0", "b0"), ("a2", "b1"), ("a0", "b1")]
    bounds = {
        ("A", "a0"): (0, 1),
        ("A", "a1"): (0, 0),
        ("A", "a2"): (1, 2),
        ("B", "b0"): (1, 1),
        ("B", "b1"): (1, 1),
    }
    pool, quotas = build(people, ("A", "B"), bounds, ["h0", "h0", "h1", "h1", "h1", "h0"])
    instance = compile_instance(pool, quotas, 2, households=True)
    target, _, face = _relaxed_leximin(instance)
    peeling = _peel(instance, target * instance.type_size, face)
    assert peeling.panels == [] and peeling.mass == 1.0


def test_pricing_stops_at_its_target_and_proves_the_optimum_when_none_reaches_it() -> None:
    pool, quotas = _synthetic(2)
    instance = compile_instance(pool, quotas, 8)
    pricing = PanelModel(instance, mip_rel_gap=0.0, mip_abs_gap=1e-9, presolve="off")
    weights = np.random.default_rng(0).random(instance.num_types)
    best = pricing.maximize(weights)
    assert best is not None
    _, optimum, bound = best
    assert bound == pytest.approx(optimum, abs=1e-8)
    early = pricing.maximize(weights, target=0.5 * optimum)
    assert early is not None
    counts, value, early_bound = early
    assert Face.whole(instance).contains(instance, counts)
    assert 0.5 * optimum <= value <= optimum + 1e-9
    assert early_bound >= optimum - 1e-8  # still a proven upper bound
    # out of reach: the optimum, proven
    beyond = pricing.maximize(weights, target=optimum + 1.0)
    assert beyond is not None
    assert beyond[1] == pytest.approx(optimum, abs=1e-9)
    assert beyond[2] == pytest.approx(optimum, abs=1e-8)
    # and the target does not stick to later solves
    again = pricing.maximize(weights)
    assert again is not None and again[1] == pytest.approx(optimum, abs=1e-9)


@pytest.mark.parametrize("seed", range(3))
def test_level_by_level_when_rounding_never_yields_a_panel(
    monkeypatch: pytest.MonkeyPatch, seed: int
) -> None:
    # Exact quotas in many categories: rounding the LP almost never gives a panel. The batch of
    # rounded LPs then pauses, the integer program alone prices, and the LEXIMIN profile is the
    # same, every level certified.
    pool, quotas = _synthetic(seed)
    instance = compile_instance(pool, quotas, 8)
    never = np.zeros(0, dtype=np.int64)
    reference = leximin._optimise(instance, first_level_only=False, started=0.0, never=never)
    price = leximin._ColumnGeneration.price
    heuristic = []

    def failing(self: Any, weights: Any, *, exact: bool = True, target: Any = None) -> Any:
        if not exact:
            heuristic.append(1)
            return [], float("inf")
        return price(self, weights, exact=exact, target=target)

    monkeypatch.setattr(leximin._ColumnGeneration, "price", failing)
    found = leximin._optimise(instance, first_level_only=False, started=0.0, never=never)
    assert found.optimal and reference.optimal
    assert np.allclose(found.probabilities, reference.probabilities, atol=1e-7)
    assert found.min_probability == pytest.approx(found.lp_bound, abs=1e-9)
    # without the pause every master solve would price a whole batch
    batch = leximin.BATCH + 2
    assert 0 < len(heuristic) <= batch * (1 + np.log2(found.stats["pricing_calls"] + 1))
    assert len(heuristic) < batch * found.stats["pricing_calls"] / 2

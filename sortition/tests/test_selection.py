"""LEXIMIN against brute force, and properties of every algorithm on small random pools."""

from __future__ import annotations

from collections.abc import Callable
from itertools import combinations
from typing import Any

import highspy
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora_sortition import (
    Pool,
    QuotaSet,
    compile_instance,
    find_leximin,
    find_maximin,
    legacy_probabilities,
    round_lottery,
    select,
)
from agora_sortition.leximin import PEELED, _peel, _relaxed_leximin
from agora_sortition.pool import quota_violations, shared_households
from sortition_support import build


def _lp(cost: np.ndarray, ge: np.ndarray, ge_rhs: np.ndarray) -> tuple[float, np.ndarray]:
    """max cost @ x s.t. ge @ x >= ge_rhs, sum x[1:] = 1, x[1:] >= 0, x[0] free (dense)."""
    h = highspy.Highs()  # type: ignore[no-untyped-call]  # highspy's wrapper is untyped
    h.setOptionValue("output_flag", False)
    n = len(cost)
    inf = highspy.kHighsInf
    for j in range(n):
        h.addVar(-inf if j == 0 else 0.0, inf)
    h.changeColsCost(n, np.arange(n, dtype=np.int32), -cost)
    for row, rhs in zip(ge, ge_rhs, strict=True):
        nz = np.flatnonzero(row)
        h.addRow(rhs, inf, len(nz), nz.astype(np.int32), row[nz])
    ones = np.arange(1, n, dtype=np.int32)
    h.addRow(1.0, 1.0, n - 1, ones, np.ones(n - 1))
    h.run()
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal
    return -h.getInfo().objective_function_value, np.asarray(h.getSolution().col_value)


def brute_force_leximin(pool: Pool, quotas: QuotaSet, k: int, households: bool) -> np.ndarray:
    """Leximin over *all* feasible panels, by the textbook procedure: maximise the minimum of
    the unfixed people, then fix everyone who cannot exceed it (one LP per person)."""
    n = len(pool)
    panels = [
        c
        for c in combinations(range(n), k)
        if not quota_violations(pool, quotas, [pool.ids[i] for i in c])
        and not (households and shared_households(pool, [pool.ids[i] for i in c]))
    ]
    member = np.zeros((n, len(panels)))
    for j, panel in enumerate(panels):
        member[list(panel), j] = 1.0
    fixed: dict[int, float] = {}
    while len(fixed) < n:
        # variables: z, p_1..p_P; rows: member_i @ p - z >= 0 (unfixed), >= v_i (fixed)
        rows = np.hstack([np.array([[0.0 if i in fixed else -1.0] for i in range(n)]), member])
        rhs = np.array([fixed.get(i, 0.0) for i in range(n)])
        z, _ = _lp(np.r_[1.0, np.zeros(len(panels))], rows, rhs)
        for i in range(n):
            if i in fixed:
                continue
            floor = np.hstack([np.zeros((n, 1)), member])
            rhs_i = np.array([fixed.get(j, z - 1e-9) for j in range(n)])
            best, _ = _lp(np.r_[0.0, member[i]], floor, rhs_i)
            if best <= z + 1e-7:
                fixed[i] = z
    return np.array([fixed[i] for i in range(n)])


@st.composite
def small_instances(draw: st.DrawFn, max_people: int = 9) -> tuple[Pool, QuotaSet, int, bool]:
    """Random pools with two features and quotas that some random panel meets."""
    n = draw(st.integers(4, max_people))
    sizes = (draw(st.integers(2, 3)), draw(st.integers(2, 3)))
    rows = [
        (f"a{draw(st.integers(0, sizes[0] - 1))}", f"b{draw(st.integers(0, sizes[1] - 1))}")
        for _ in range(n)
    ]
    k = draw(st.integers(1, n - 1))
    households = draw(st.booleans())
    homes = [f"h{draw(st.integers(0, n - 1))}" for _ in range(n)] if households else None
    reference = draw(st.permutations(range(n)))[:k]
    if homes is not None:  # make the reference panel respect households
        seen: dict[str, int] = {}
        for i in reference:
            seen.setdefault(homes[i], i)
        reference = list(seen.values())
        k = len(reference)
    bounds = {}
    for f, feature in enumerate(("A", "B")):
        for v in range(sizes[f]):
            value = f"{'ab'[f]}{v}"
            count = sum(rows[i][f] == value for i in reference)
            bounds[(feature, value)] = (
                max(0, count - draw(st.integers(0, 1))),
                count + draw(st.integers(0, 1)),
            )
    pool, quotas = build(rows, ("A", "B"), bounds, homes)
    return pool, quotas, k, households


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances())
def test_leximin_matches_brute_force(case: tuple[Pool, QuotaSet, int, bool]) -> None:
    pool, quotas, k, households = case
    instance = compile_instance(pool, quotas, k, households=households)
    found = find_leximin(instance).probabilities
    expected = brute_force_leximin(pool, quotas, k, households)
    assert np.allclose(np.sort(found), np.sort(expected), atol=1e-6)
    assert np.allclose(found, expected, atol=1e-6)


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(small_instances(max_people=12))
def test_properties_of_all_algorithms(case: tuple[Pool, QuotaSet, int, bool]) -> None:
    pool, quotas, k, households = case
    instance = compile_instance(pool, quotas, k, households=households)
    leximin = find_leximin(instance)
    maximin = find_maximin(instance)
    assert leximin.probabilities.sum() == pytest.approx(k)
    assert maximin.probabilities.sum() == pytest.approx(k)
    assert leximin.min_probability >= maximin.min_probability - 1e-6
    assert leximin.min_probability <= leximin.lp_bound + 1e-6
    lottery = round_lottery(leximin, 200)
    for panel in lottery.panels:
        assert not quota_violations(pool, quotas, panel)
        assert not (households and shared_households(pool, panel))
    assert sum(lottery.rounded.values()) == pytest.approx(k)
    legacy = legacy_probabilities(instance, runs=300, seed=1)
    # the Monte-Carlo minimum of legacy can exceed its true minimum only by sampling noise
    assert leximin.min_probability >= legacy.min() - 0.1


@st.composite
def three_feature_instances(draw: st.DrawFn) -> tuple[Pool, QuotaSet, int]:
    """Random pools with three features (two, two and three values), quotas around a random
    panel: the relaxation is not always integral, so peeling meets dead ends and some targets
    are out of reach."""
    n = draw(st.integers(6, 9))
    rows = [
        tuple(f"{name}{draw(st.integers(0, top))}" for name, top in (("a", 1), ("b", 1), ("c", 2)))
        for _ in range(n)
    ]
    k = draw(st.integers(2, n - 2))
    reference = draw(st.permutations(range(n)))[:k]
    bounds = {}
    for position, (feature, top) in enumerate((("A", 1), ("B", 1), ("C", 2))):
        for v in range(top + 1):
            value = f"{feature.lower()}{v}"
            seats = sum(rows[i][position] == value for i in reference)
            bounds[(feature, value)] = (
                max(0, seats - draw(st.integers(0, 1))),
                seats + draw(st.integers(0, 1)),
            )
    pool, quotas = build(rows, ("A", "B", "C"), bounds, None)
    return pool, quotas, k


@settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(three_feature_instances())
def test_leximin_matches_brute_force_with_three_features(
    case: tuple[Pool, QuotaSet, int],
) -> None:
    pool, quotas, k = case
    found = find_leximin(compile_instance(pool, quotas, k))
    assert np.allclose(found.probabilities, brute_force_leximin(pool, quotas, k, False), atol=1e-6)
    assert found.weights.sum() == pytest.approx(1.0)


# With three features the LP relaxation of the panel polytope can have a LEXIMIN profile that no
# lottery reaches; these pools take the level-by-level path.
@pytest.mark.parametrize(
    ("rows", "k", "bounds"),
    [
        (
            "a1b1c1 a1b0c0 a0b1c0 a0b0c0 a0b0c0 a0b0c1 a0b1c1",
            2,
            {"a0": (0, 1), "a1": (1, 2), "b0": (0, 2), "b1": (0, 1), "c0": (0, 2), "c1": (1, 1)},
        ),
        (
            "a1b1c1 a1b0c0 a1b1c0 a0b1c0 a1b0c0 a1b0c0 a0b0c1 a1b0c0",
            4,
            {"a0": (1, 2), "a1": (2, 4), "b0": (2, 2), "b1": (1, 2), "c0": (3, 5), "c1": (0, 1)},
        ),
        (
            "a0b1c0 a0b0c0 a0b1c1 a1b1c0 a1b1c1 a1b0c1 a0b0c0 a0b0c0",
            4,
            {"a0": (2, 2), "a1": (1, 3), "b0": (1, 2), "b1": (3, 4), "c0": (1, 2), "c1": (1, 3)},
        ),
    ],
)
def test_leximin_beyond_the_relaxation(
    rows: str, k: int, bounds: dict[str, tuple[int, int]]
) -> None:
    people = [(r[0:2], r[2:4], r[4:6]) for r in rows.split()]
    quota_bounds = {(value[0].upper(), value): limits for value, limits in bounds.items()}
    pool, quotas = build(people, ("A", "B", "C"), quota_bounds, None)
    found = find_leximin(compile_instance(pool, quotas, k)).probabilities
    assert np.allclose(found, brute_force_leximin(pool, quotas, k, False), atol=1e-6)


def test_leximin_when_the_relaxations_face_holds_no_panel() -> None:
    # Found by hypothesis: with one person per household, the face of the LP relaxation where
    # its LEXIMIN profile sits contains no panel at all; the level-by-level path answers.
    people = [("a0", "b1"), ("a2", "b0"), ("a0", "b0"), ("a0", "b0"), ("a2", "b1"), ("a0", "b1")]
    bounds = {
        ("A", "a0"): (0, 1),
        ("A", "a1"): (0, 0),
        ("A", "a2"): (1, 2),
        ("B", "b0"): (1, 1),
        ("B", "b1"): (1, 1),
    }
    homes = ["h0", "h0", "h1", "h1", "h1", "h0"]
    pool, quotas = build(people, ("A", "B"), bounds, homes)
    found = find_leximin(compile_instance(pool, quotas, 2, households=True)).probabilities
    assert np.allclose(found, brute_force_leximin(pool, quotas, 2, True), atol=1e-6)
    assert np.allclose(found, [0, 1, 0, 0, 1, 0], atol=1e-6)  # the only panel: p1 and p4


def test_leximin_when_peeling_reaches_a_dead_end() -> None:
    # Found by search: the peeling's greedy panels lead to a face with no panel (the relaxation
    # is not integral there) although other panels reach the target; the column generation
    # seeded with the peeled panels finds them.
    rows = "a0b0c0 a0b0c1 a0b1c1 a1b1c2 a1b0c2 a1b1c0 a0b1c0"
    people = [(r[0:2], r[2:4], r[4:6]) for r in rows.split()]
    bounds = {"a0": (0, 1), "a1": (0, 2), "b0": (0, 1), "b1": (1, 2)}
    bounds |= {"c0": (1, 3), "c1": (0, 1), "c2": (0, 1)}
    pool, quotas = build(people, ("A", "B", "C"), {(v[0].upper(), v): b for v, b in bounds.items()})
    instance = compile_instance(pool, quotas, 2)
    target, _, face = _relaxed_leximin(instance)
    peeling = _peel(instance, target * instance.type_size, face)
    assert peeling.panels and peeling.mass > PEELED
    found = find_leximin(instance)
    assert found.stats["peeled"] == len(peeling.panels)
    assert 0 < found.stats["backed_up"] <= len(peeling.panels)
    assert np.allclose(found.type_probabilities, target, atol=1e-7)
    assert np.allclose(found.probabilities, brute_force_leximin(pool, quotas, 2, False), atol=1e-6)


def test_seed_reproduces_the_panel(make: Callable[..., Any]) -> None:
    rows = [(g, a) for g in ("f", "m") for a in ("y", "o", "o")] * 2
    pool, quotas = make(
        rows,
        ("g", "a"),
        {("g", "f"): (2, 2), ("g", "m"): (2, 2), ("a", "y"): (1, 2), ("a", "o"): (2, 3)},
    )
    for algorithm in ("leximin", "maximin", "legacy"):
        first = select(pool, quotas, 4, algorithm=algorithm, seed=7, legacy_runs=20)
        again = select(pool, quotas, 4, algorithm=algorithm, seed=7, legacy_runs=20)
        assert first.panel == again.panel
        assert first.reserve == again.reserve
        assert not quota_violations(pool, quotas, first.panel)
        assert first.min_probability <= 4 / len(rows) + 1e-9


def test_identical_people_get_equal_probability(make: Callable[..., Any]) -> None:
    pool, quotas = make(
        [("f",)] * 3 + [("m",)] * 7, ("g",), {("g", "f"): (2, 2), ("g", "m"): (2, 2)}
    )
    probabilities = find_leximin(compile_instance(pool, quotas, 4)).probabilities
    assert np.allclose(probabilities, [2 / 3] * 3 + [2 / 7] * 7)

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agora_sortition import InfeasibleQuotas, check_feasibility, compile_instance, select


def test_infeasible_quotas_name_the_conflict_and_a_relaxation_that_works(
    make: Callable[..., Any],
) -> None:
    # 3 young people but at least 4 young seats wanted (S12 of the domain notes)
    rows = [("young", "f")] * 3 + [("old", "f")] * 5 + [("old", "m")] * 4
    pool, quotas = make(
        rows,
        ("age", "gender"),
        {
            ("age", "young"): (4, 6),
            ("age", "old"): (0, 6),
            ("gender", "f"): (0, 8),
            ("gender", "m"): (0, 8),
        },
    )
    with pytest.raises(InfeasibleQuotas) as caught:
        check_feasibility(compile_instance(pool, quotas, 8))
    error = caught.value
    assert {"feature": "age", "value": "young", "bound": "min", "limit": 4} in error.conflicts
    assert error.relaxation  # computed, then checked below
    relaxed = quotas.replace_bounds(
        {(r["feature"], r["value"]): (r["new_min"], r["new_max"]) for r in error.relaxation}
    )
    check_feasibility(compile_instance(pool, relaxed, 8))
    moved = sum(r["min"] - r["new_min"] + r["new_max"] - r["max"] for r in error.relaxation)
    assert moved == 1  # young min 4 -> 3 is the smallest change
    assert "age=young min 4" in str(error)
    assert error.to_dict()["code"] == "infeasible_quotas"


def test_cross_feature_conflict_is_minimal(make: Callable[..., Any]) -> None:
    # women are all young; at least 3 women but at most 1 young person
    rows = [("f", "young")] * 4 + [("m", "old")] * 4
    pool, quotas = make(
        rows,
        ("gender", "age"),
        {
            ("gender", "f"): (3, 4),
            ("gender", "m"): (0, 4),
            ("age", "young"): (0, 1),
            ("age", "old"): (0, 4),
        },
    )
    with pytest.raises(InfeasibleQuotas) as caught:
        select(pool, quotas, 4, seed=1)
    bounds = {(c["feature"], c["value"], c["bound"]) for c in caught.value.conflicts}
    assert bounds == {("gender", "f", "min"), ("age", "young", "max")}


def test_too_few_households(make: Callable[..., Any]) -> None:
    pool, quotas = make([("x",)] * 4, ("g",), {("g", "x"): (0, 4)}, households=["a", "a", "b", "b"])
    with pytest.raises(InfeasibleQuotas, match="only 2 households"):
        check_feasibility(compile_instance(pool, quotas, 3, households=True))

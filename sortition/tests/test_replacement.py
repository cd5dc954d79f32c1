from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from agora_sortition import NoFittingReplacement, replace_member
from agora_sortition.pool import quota_violations

ROWS = [("f", "qpv"), ("f", "other"), ("m", "other"), ("m", "qpv"), ("f", "qpv"), ("m", "other")]
BOUNDS = {("g", "f"): (1, 2), ("g", "m"): (1, 2), ("z", "qpv"): (1, 2), ("z", "other"): (1, 2)}


def test_first_fitting_reserve_replaces_and_drift_is_recorded(make: Callable[..., Any]) -> None:
    pool, quotas = make(ROWS, ("g", "z"), {**BOUNDS, ("z", "qpv"): (0, 2)})
    panel = ["p0", "p2"]  # f/qpv + m/other
    done = replace_member(pool, quotas, panel, "p0", reserve=["p5", "p1", "p4", "p3"])
    assert done.replacement == "p1"  # p5 and p3 are men: no woman would be left
    assert not quota_violations(pool, quotas, done.panel)
    assert done.fitting == 2  # p1 and p4
    assert {(d["feature"], d["value"], d["before"], d["after"]) for d in done.drift} == {
        ("z", "qpv", 1, 0),
        ("z", "other", 1, 2),
    }


def test_no_fitting_candidate_names_the_breaking_quota(make: Callable[..., Any]) -> None:
    pool, quotas = make(ROWS, ("g", "z"), BOUNDS)
    with pytest.raises(NoFittingReplacement) as caught:
        replace_member(pool, quotas, ["p0", "p2"], "p0", reserve=["p5"])
    assert caught.value.params["breaking"] == [
        {"feature": "g", "value": "f", "bound": "min", "limit": 1, "count": 0},
        {"feature": "z", "value": "qpv", "bound": "min", "limit": 1, "count": 0},
    ]
    assert caught.value.params["closest"] == ["p5"]
    forced = replace_member(pool, quotas, ["p0", "p2"], "p0", reserve=["p5"], allow_drift=True)
    assert forced.replacement == "p5"
    assert forced.breaches[0]["value"] == "f"

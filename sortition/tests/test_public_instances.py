"""The public instances of ../shared/sortition-instances (skipped when absent)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from agora_sortition import Instance, compile_instance, find_leximin, read_pool, read_quotas


def _load(folder: Path, k: int, id_column: str | None) -> Instance:
    quotas = read_quotas(folder / "categories.csv")
    pool = read_pool(folder / "respondents.csv", quotas, id_column=id_column)
    return compile_instance(pool, quotas, k)


def test_sf_fixture_reaches_the_lp_bound(shared_instances: Path) -> None:
    instance = _load(shared_instances / "sf_fixture_150_22", 22, "id")
    result = find_leximin(instance)
    assert result.min_probability == pytest.approx(0.0909, abs=1e-4)  # README figure
    assert result.lp_bound - result.min_probability < 1e-6
    assert result.probabilities.sum() == pytest.approx(22)


def test_example_small_gives_everyone_k_over_n(shared_instances: Path) -> None:
    result = find_leximin(_load(shared_instances / "example_small_20", 20, None))
    assert np.allclose(result.probabilities, 0.1, atol=1e-7)

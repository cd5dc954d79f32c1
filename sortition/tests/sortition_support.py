"""Helpers shared by the sortition tests."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from agora_sortition import Pool, Quota, QuotaSet

SHARED = Path(__file__).resolve().parents[2] / ".." / "shared" / "sortition-instances"

Bounds = dict[tuple[str, str], tuple[int, int]]


def build(
    rows: Sequence[tuple[str, ...]],
    features: tuple[str, ...],
    bounds: Bounds,
    households: list[str] | None = None,
) -> tuple[Pool, QuotaSet]:
    """Pool with ids p0.. and one quota per ``(feature, value)`` of ``bounds``."""
    pool = Pool(
        tuple(f"p{i}" for i in range(len(rows))),
        features,
        tuple(rows),
        tuple(households) if households is not None else None,
    )
    quotas = QuotaSet(tuple(Quota(f, v, lo, hi) for (f, v), (lo, hi) in bounds.items()))
    return pool, quotas

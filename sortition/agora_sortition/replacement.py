"""Replacing a member who withdraws, from the ordered reserve list.

The reserve list is a uniformly random order of the volunteers not selected (see
``randomness.reserve_order``), so taking the *first* reserve who fits is a uniform choice among
everyone who fits, conditional on the remaining panel: with one seat to fill, every fitting
candidate completes a quota-satisfying panel and none is favoured. "Fits" means the remaining
panel plus the candidate meets every quota (and, when asked, the household rule). The quota drift
(per value, the count before and after) is recorded. When nobody fits, ``NoFittingReplacement``
names the quota bounds that break; with ``allow_drift`` the first of the candidates breaking the
fewest seats is taken instead and the drift records the breach, for a committee to confirm.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from .errors import MalformedInput, NoFittingReplacement
from .pool import Pool, QuotaSet, panel_counts, quota_violations, shared_households


@dataclass(frozen=True)
class Replacement:
    withdrawn: str
    replacement: str
    panel: tuple[str, ...]
    fitting: int  # how many reserves fitted (the choice was uniform among them)
    drift: tuple[dict[str, Any], ...]  # per changed value: feature, value, before, after, min, max
    breaches: tuple[dict[str, Any], ...]  # quota bounds broken (only with allow_drift)


def replace_member(
    pool: Pool,
    quotas: QuotaSet,
    panel: Sequence[str],
    withdrawn: str,
    reserve: Sequence[str],
    *,
    households: bool = False,
    allow_drift: bool = False,
) -> Replacement:
    """Replace ``withdrawn`` by the first reserve (in order) keeping the panel within quotas."""
    if withdrawn not in panel:
        raise MalformedInput(f"{withdrawn!r} is not on the panel")
    remaining = [p for p in panel if p != withdrawn]
    seated = set(panel)
    candidates = [p for p in reserve if p not in seated]
    scored: list[tuple[int, str, list[dict[str, Any]]]] = []
    for candidate in candidates:
        trial = [*remaining, candidate]
        if households and shared_households(pool, trial):
            continue
        broken = quota_violations(pool, quotas, trial)
        scored.append((sum(abs(b["count"] - b["limit"]) for b in broken), candidate, broken))
    fitting = [c for score, c, _ in scored if score == 0]
    breaches: list[dict[str, Any]] = []
    if fitting:
        chosen = fitting[0]
    else:
        if not scored:
            raise NoFittingReplacement(withdrawn, [], [])
        least = min(score for score, _, _ in scored)
        closest = [(c, b) for score, c, b in scored if score == least]
        if not allow_drift:
            raise NoFittingReplacement(withdrawn, closest[0][1], [c for c, _ in closest])
        chosen, breaches = closest[0]
    new_panel = [*remaining, chosen]
    before = panel_counts(pool, quotas, panel)
    after = panel_counts(pool, quotas, new_panel)
    drift = tuple(
        {
            "feature": q.feature,
            "value": q.value,
            "before": b,
            "after": a,
            "min": q.min,
            "max": q.max,
        }
        for q, b, a in zip(quotas.quotas, before, after, strict=True)
        if a != b
    )
    return Replacement(
        withdrawn=withdrawn,
        replacement=chosen,
        panel=tuple(new_panel),
        fitting=len(fitting),
        drift=drift,
        breaches=tuple(breaches),
    )

"""Stage 2 end to end: feasibility, optimisation, transparent lottery, draw and reserve."""

from __future__ import annotations

import hashlib
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .feasibility import check_feasibility
from .instance import Instance, compile_instance
from .legacy import legacy_panel, legacy_probabilities
from .leximin import Distribution, find_leximin, find_maximin
from .lottery import Lottery, round_lottery
from .pool import Pool, QuotaSet
from .randomness import panel_index, reserve_order, seed_value

ALGORITHMS = ("leximin", "maximin", "legacy")


@dataclass(frozen=True)
class Selection:
    """The outcome of a stage-2 draw.

    ``probabilities`` are exact for ``leximin``/``maximin`` and a Monte-Carlo estimate over
    ``stats["legacy_runs"]`` panels for ``legacy``; ``lottery`` is None for ``legacy``.
    """

    algorithm: str
    panel: tuple[str, ...]
    probabilities: dict[str, float]
    lp_bound: float | None
    seconds: float
    random_value: str
    panel_index: int | None
    reserve: tuple[str, ...]
    lottery: Lottery | None = None
    stats: dict[str, Any] = field(default_factory=dict)
    # person id -> why they fit no panel meeting the quotas (probability 0 in every lottery)
    unreachable: dict[str, str] = field(default_factory=dict)
    # LEXIMIN/MAXIMIN's certificate: (probability, proven upper bound) of each level
    levels: tuple[tuple[float, float], ...] = ()

    @property
    def min_probability(self) -> float:
        return min(self.probabilities.values())

    def to_json(self) -> dict[str, Any]:
        data: dict[str, Any] = {
            "algorithm": self.algorithm,
            "panel": list(self.panel),
            "probabilities": self.probabilities,
            "min_probability": self.min_probability,
            "lp_bound": self.lp_bound,
            "seconds": self.seconds,
            "random_value": self.random_value,
            "panel_index": self.panel_index,
            "reserve": list(self.reserve),
            "stats": self.stats,
            "unreachable": self.unreachable,
            "levels": [list(level) for level in self.levels],
        }
        if self.lottery is not None:
            data["lottery"] = {
                "size": self.lottery.size,
                "max_deviation": self.lottery.max_deviation,
                "min_probability": self.lottery.min_probability,
            }
        return data


def build_lottery(
    instance: Instance, algorithm: str, lottery_size: int, *, seed: int = 0
) -> tuple[Distribution, Lottery]:
    """Feasibility check, the optimal lottery of ``algorithm`` (``leximin`` or ``maximin``) and
    its rounding to ``lottery_size`` equally likely panels."""
    check_feasibility(instance)
    if algorithm == "leximin":
        distribution = find_leximin(instance)
    elif algorithm == "maximin":
        distribution = find_maximin(instance)
    else:
        raise ValueError(f"no lottery for algorithm {algorithm!r}")
    return distribution, round_lottery(distribution, lottery_size, seed=seed)


def select(
    pool: Pool,
    quotas: QuotaSet,
    panel_size: int,
    *,
    algorithm: str = "leximin",
    households: bool = False,
    seed: int | None = None,
    random_value: str | None = None,
    lottery_size: int = 1000,
    legacy_runs: int = 1000,
) -> Selection:
    """Select a panel. The random value (public, or ``seed:S``, or fresh) picks the panel of the
    rounded lottery and orders the reserve; ``legacy`` draws one greedy panel seeded by it."""
    if algorithm not in ALGORITHMS:
        raise ValueError(f"unknown algorithm {algorithm!r}; choose from {', '.join(ALGORITHMS)}")
    started = time.perf_counter()
    instance = compile_instance(pool, quotas, panel_size, households=households)
    value = random_value or (seed_value(seed) if seed is not None else secrets.token_hex(32))
    if algorithm == "legacy":
        check_feasibility(instance)
        draw_seed = int(hashlib.sha256(value.encode()).hexdigest(), 16) % 2**63
        chosen = legacy_panel(instance, np.random.default_rng(draw_seed))
        panel = tuple(sorted(pool.ids[i] for i in chosen))
        estimate = legacy_probabilities(instance, legacy_runs, seed=draw_seed)
        probabilities = dict(zip(pool.ids, map(float, estimate), strict=True))
        lottery, index, bound = None, None, None
        stats: dict[str, Any] = {"legacy_runs": legacy_runs}
        unreachable: dict[str, str] = {}
        levels: tuple[tuple[float, float], ...] = ()
    else:
        distribution, lottery = build_lottery(instance, algorithm, lottery_size, seed=seed or 0)
        index = panel_index(value, lottery.size)
        panel = lottery.panels[index]
        probabilities = lottery.exact
        bound, stats = distribution.lp_bound, dict(distribution.stats)
        unreachable, levels = distribution.unreachable, distribution.levels
    others = [p for p in pool.ids if p not in set(panel)]
    return Selection(
        algorithm=algorithm,
        panel=panel,
        probabilities=probabilities,
        lp_bound=bound,
        seconds=time.perf_counter() - started,
        random_value=value,
        panel_index=index,
        reserve=tuple(reserve_order(value, others)),
        lottery=lottery,
        stats=stats,
        unreachable=unreachable,
        levels=levels,
    )

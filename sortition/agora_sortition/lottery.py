"""Rounding a lottery to M equally likely panels ("Fair Sortition Made Transparent").

Flanigan, Kehne and Procaccia (NeurIPS 2021) make a lottery auditable by turning it into a list
of M panels, each drawn with probability exactly 1/M, so that a public random number picks one.
Rounding moves each person's probability a little; we keep that loss small and report it:

1. panel weights: ``floor(M p_P)`` copies of each panel, then the remaining copies are given one
   at a time to the panel (among those with a fractional part) that most helps the types furthest
   below their exact expected count (greedy dependent rounding);
2. people: within a type, seats are dealt round-robin over a seeded shuffle of its members, so
   that two people of the same type are drawn in numbers differing by at most one.

The report gives the largest change of any person's probability and the new minimum.
How many panels: ``size=AUTO`` takes the first M of ``SIZES`` moving no probability by more than
``TOLERANCE`` (see ``rounding``), else the M moving them least (the report then says the
tolerance is not met).
"""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np

from .instance import FloatArray, IntArray
from .leximin import Distribution
from .rounding import AUTO, MAX_SEATS, SIZES, TOLERANCE


@dataclass(frozen=True)
class Lottery:
    """M panels (sorted person ids), each to be drawn with probability 1/M."""

    panels: tuple[tuple[str, ...], ...]
    exact: dict[str, float]  # the optimiser's probabilities
    rounded: dict[str, float]  # probabilities under the uniform lottery over ``panels``
    tolerance: float = 0.0  # the largest change of a probability the size was chosen for

    @property
    def size(self) -> int:
        return len(self.panels)

    @property
    def max_deviation(self) -> float:
        return max(abs(self.rounded[p] - self.exact[p]) for p in self.exact)

    @property
    def min_probability(self) -> float:
        """The smallest probability under the lottery (the one the draw gives)."""
        return min(self.rounded.values())

    @property
    def exact_min_probability(self) -> float:
        """The smallest of the optimiser's probabilities."""
        return min(self.exact.values())

    @property
    def within_tolerance(self) -> bool:
        return self.max_deviation <= self.tolerance + 1e-12


def _copies(distribution: Distribution, size: int) -> IntArray:
    """Integer copies per panel, summing to ``size``, close to ``size * weights`` per type."""
    instance = distribution.instance
    scaled = size * distribution.weights
    copies = np.floor(scaled + 1e-9).astype(np.int64)
    spare = scaled - copies
    share = distribution.panels / instance.type_size  # (P, T) seats per person of each type
    target = size * distribution.type_probabilities
    for _ in range(size - int(copies.sum())):
        shortfall = target - copies @ share
        candidates = np.flatnonzero(spare > 1e-9)
        best = candidates[int(np.argmax(share[candidates] @ shortfall))]
        copies[best] += 1
        spare[best] = 0.0
    return copies


def round_lottery(
    distribution: Distribution, size: int = 1000, *, seed: int = 0, tolerance: float = TOLERANCE
) -> Lottery:
    """Round ``distribution`` to ``size`` equally likely panels of people; with ``size=AUTO``,
    to the first size of ``SIZES`` moving no probability by more than ``tolerance`` (else the
    size moving them least, of those within ``MAX_SEATS``). The lottery records ``tolerance``
    (see ``within_tolerance``)."""
    if size != AUTO:
        return replace(_round(distribution, size, seed), tolerance=tolerance)
    best: Lottery | None = None
    seats = int(distribution.instance.k)
    for candidate in SIZES:
        if best is not None and candidate * seats > MAX_SEATS:
            break
        lottery = _round(distribution, candidate, seed)
        if best is None or lottery.max_deviation < best.max_deviation:
            best = lottery
        if lottery.max_deviation <= tolerance:
            break
    assert best is not None
    return replace(best, tolerance=tolerance)


def _round(distribution: Distribution, size: int, seed: int) -> Lottery:
    instance = distribution.instance
    copies = _copies(distribution, size)
    expanded: IntArray = np.repeat(distribution.panels, copies, axis=0)  # (size, T)
    rng = np.random.default_rng(seed)
    members: list[list[int]] = [[] for _ in range(size)]
    for t, people in enumerate(instance.type_members):
        order = rng.permutation(people)
        cursor = 0
        for panel in np.flatnonzero(expanded[:, t]):
            seats = int(expanded[panel, t])
            # consecutive slots of a cyclic order are distinct people as seats <= len(order)
            members[panel].extend(int(order[(cursor + j) % len(order)]) for j in range(seats))
            cursor += seats
    ids = instance.pool.ids
    panels = tuple(tuple(sorted(ids[i] for i in chosen)) for chosen in members)
    counts: FloatArray = np.zeros(instance.n)
    for chosen in members:
        counts[chosen] += 1
    return Lottery(
        panels=panels,
        exact=dict(zip(ids, map(float, distribution.probabilities), strict=True)),
        rounded=dict(zip(ids, map(float, counts / size), strict=True)),
    )

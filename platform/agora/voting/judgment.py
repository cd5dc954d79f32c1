"""Majority judgment (Balinski & Laraki, "A theory of measuring, electing, and ranking",
PNAS 104(21), 2007; *Majority Judgment*, MIT Press, 2011).

Every voter grades every option on one scale. An option's *distribution* counts its votes per
grade, index 0 being the worst grade (see :class:`agora.voting.ballots.GradeScale`).

- **Majority grade**: the median grade; with an even number of votes, the *lower* of the two
  middle grades (Balinski & Laraki's "lower middlemost"), so that a majority of voters grade
  the option at least that high.
- **Majority value**: the sequence of majority grades obtained by removing one majority grade
  at a time until none is left. Options are ranked by majority value, compared
  lexicographically, higher first: this is majority judgment's own tie-break between equal
  majority grades. Since everyone grades every option, two options have the same majority
  value exactly when their distributions are identical: a true tie.
- **Majority gauge** ``(above, median, below)``: the votes strictly above and strictly below
  the majority grade, for publication ("Bien+" when above > below, "Bien-" otherwise). When
  two options share a majority grade, the first removals are decided by the gauge: the larger
  of the four counts wins if it is an ``above``, loses if it is a ``below``.
"""

from __future__ import annotations

from bisect import bisect_right
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import accumulate


@dataclass(frozen=True)
class Gauge:
    """An option's majority grade with the number of votes strictly above and below it."""

    median: int
    above: int
    below: int


def majority_grade(distribution: Sequence[int]) -> int:
    """The lower median grade of a non-empty distribution."""
    return _lower_median(distribution, sum(distribution))


def majority_value(distribution: Sequence[int]) -> tuple[int, ...]:
    """Majority grades obtained by removing one majority grade at a time (Balinski & Laraki)."""
    remaining = list(distribution)
    value = []
    for total in range(sum(remaining), 0, -1):
        grade = _lower_median(remaining, total)
        value.append(grade)
        remaining[grade] -= 1
    return tuple(value)


def gauge(distribution: Sequence[int]) -> Gauge:
    """The majority gauge of a non-empty distribution."""
    median = majority_grade(distribution)
    return Gauge(median, sum(distribution[median + 1 :]), sum(distribution[:median]))


def _lower_median(distribution: Sequence[int], total: int) -> int:
    if total < 1:
        raise ValueError("a majority grade needs at least one vote")
    rank = (total - 1) // 2  # 0-based rank of the lower median, worst grade first
    return bisect_right(list(accumulate(distribution)), rank)

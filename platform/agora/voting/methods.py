"""Counting a ballot: :func:`tally` turns votes into a :class:`Result`.

Rules:

- **simple majority**: adopted iff strictly more *for* than *against*; abstentions never count.
  An equal split rejects the motion (the status quo stands): motions never tie.
- **absolute majority**: adopted iff *for* is strictly more than half of the votes cast. Votes
  cast are for + against ("suffrages exprimés"); with ``count_abstentions=True`` abstentions
  are added to them. Without abstentions it therefore agrees with the simple majority.
- **qualified majority**: adopted iff *for* is at least ``rule.threshold`` of the votes cast
  (same ``count_abstentions`` switch): 118 for, 52 against, 10 abstain at 2/3 → 118/170 ≈
  69.4% ≥ 66.7% → adopted.
- **consent** (sociocratic): adopted iff no one objects; the objections' reasons are listed,
  sorted so their order reveals nothing about who voted when.
- **majority judgment**: options ranked by majority value (see :mod:`agora.voting.judgment`).
- **approval**: options ranked by number of approvals.

For option methods a *tie* means several options share first place; it is then for
:func:`agora.voting.tiebreak.resolve` to apply the commune's tie-break chain. The breakdown by
origin repeats the count for each group of :data:`BREAKDOWN_GROUPS`, so it sums to the totals.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, replace
from fractions import Fraction
from typing import Any

from agora.plugins.contracts import ORIGIN_GROUPS, DecisionRule
from agora.voting.ballots import (
    FRENCH_SIX_GRADES,
    MAJORITY_METHODS,
    OPTION_METHODS,
    POSITIONS,
    Approvals,
    Choice,
    Grades,
    GradeScale,
    Objection,
    Vote,
    check_method,
    validate_vote,
)
from agora.voting.judgment import Gauge, gauge, majority_value

#: Origin groups of the breakdown; ``other`` gathers researchers, facilitators, associations,
#: companies and experts.
BREAKDOWN_GROUPS = ("drawn", "volunteer", "elected", "agent", "other")


def origin_group(origin: str) -> str:
    """The breakdown group of a voter origin: ``elected_majority`` → ``elected``…"""
    for group, members in ORIGIN_GROUPS.items():
        if origin in members:
            return group
    return origin if origin in BREAKDOWN_GROUPS else "other"


@dataclass(frozen=True)
class Tally:
    """What a set of votes adds up to.

    ``counts``: ``for``/``against``/``abstain`` (majorities), ``consent``/``objection``
    (consent) or option → approvals (approval). ``distributions``: majority judgment only,
    option → number of votes per grade, worst grade first.
    """

    turnout: int
    counts: Mapping[str, int] = field(default_factory=dict)
    distributions: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        return {
            "turnout": self.turnout,
            "counts": dict(self.counts),
            "distributions": {option: list(d) for option, d in self.distributions.items()},
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Tally:
        """Read back the form of :meth:`to_json`."""
        return cls(
            int(data["turnout"]),
            dict(data["counts"]),
            {option: tuple(d) for option, d in data["distributions"].items()},
        )


@dataclass(frozen=True)
class Result:
    """The outcome of a ballot.

    Motions (majorities, consent) set ``adopted``; majorities also give ``support`` (the
    share of *for* among the votes that count) and ``required`` (the share to exceed, or for a
    qualified majority to reach); consent lists ``objections``. Option methods set
    ``ranking``: tiers of options, best first, the options of a tier being tied; majority
    judgment adds each option's ``gauges``.
    """

    method: str
    options: tuple[str, ...]
    totals: Tally
    breakdown_by_origin: Mapping[str, Tally]
    adopted: bool | None = None
    support: Fraction | None = None
    required: Fraction | None = None
    objections: tuple[str, ...] = ()
    ranking: tuple[tuple[str, ...], ...] = ()
    gauges: Mapping[str, Gauge] = field(default_factory=dict)

    @property
    def turnout(self) -> int:
        return self.totals.turnout

    @property
    def tie_detected(self) -> bool:
        """Several options share first place (never for a motion)."""
        return bool(self.ranking) and len(self.ranking[0]) > 1

    @property
    def tied(self) -> tuple[str, ...]:
        """The options sharing first place, if there is a tie."""
        return self.ranking[0] if self.tie_detected else ()

    @property
    def winner(self) -> str | None:
        """The option alone in first place (``None`` for a motion or a tie)."""
        return self.ranking[0][0] if self.ranking and not self.tie_detected else None

    def to_json(self) -> dict[str, Any]:
        """JSON-compatible form, fractions as ``"n/d"`` strings, for storage and publication."""
        return {
            "method": self.method,
            "options": list(self.options),
            "turnout": self.turnout,
            "totals": self.totals.to_json(),
            "breakdown_by_origin": {g: t.to_json() for g, t in self.breakdown_by_origin.items()},
            "adopted": self.adopted,
            "support": fraction_text(self.support),
            "required": fraction_text(self.required),
            "objections": list(self.objections),
            "ranking": [list(tier) for tier in self.ranking],
            "gauges": {option: asdict(g) for option, g in self.gauges.items()},
            "tie_detected": self.tie_detected,
            "tied": list(self.tied),
            "winner": self.winner,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Result:
        """Read back the form of :meth:`to_json` (its derived fields are recomputed)."""
        return cls(
            method=data["method"],
            options=tuple(data["options"]),
            totals=Tally.from_json(data["totals"]),
            breakdown_by_origin={
                group: Tally.from_json(part) for group, part in data["breakdown_by_origin"].items()
            },
            adopted=data["adopted"],
            support=_fraction(data["support"]),
            required=_fraction(data["required"]),
            objections=tuple(data["objections"]),
            ranking=tuple(tuple(tier) for tier in data["ranking"]),
            gauges={option: Gauge(**g) for option, g in data["gauges"].items()},
        )


def tally(
    method: str,
    options: Sequence[str],
    votes: Iterable[Vote],
    rule: DecisionRule,
    *,
    scale: GradeScale = FRENCH_SIX_GRADES,
    count_abstentions: bool = False,
) -> Result:
    """Count ``votes`` by ``method``.

    ``options`` are the ballot's option ids (ignored for motions); ``rule`` gives the
    qualified majority's threshold; ``scale`` is majority judgment's grade scale;
    ``count_abstentions`` adds abstentions to the votes cast of absolute and qualified
    majorities. Raises :class:`~agora.voting.ballots.InvalidVote` for a vote that cannot be
    counted and ``ValueError`` for an unusable ballot or rule.
    """
    check_method(method)
    options = tuple(options) if method in OPTION_METHODS else ()
    _check_options(method, options)
    votes = tuple(votes)
    for vote in votes:
        validate_vote(method, options, vote, scale)
    totals = _count(method, options, votes, scale)
    breakdown = {
        group: _count(method, options, [v for v in votes if origin_group(v.origin) == group], scale)
        for group in BREAKDOWN_GROUPS
    }
    result = Result(method, options, totals, breakdown)
    if method in MAJORITY_METHODS:
        return _majority(result, rule, count_abstentions)
    if method == "consent":
        reasons = sorted(v.payload.reason for v in votes if isinstance(v.payload, Objection))
        return replace(result, adopted=not reasons, objections=tuple(reasons))
    if method == "approval":
        return replace(result, ranking=_rank(options, {o: (n,) for o, n in totals.counts.items()}))
    return _judgment(result)


def _check_options(method: str, options: tuple[str, ...]) -> None:
    if method in OPTION_METHODS and not options:
        raise ValueError(f"a {method} ballot needs at least one option")
    if len(set(options)) != len(options):
        raise ValueError(f"duplicate option ids in {options!r}")


def _count(
    method: str, options: tuple[str, ...], votes: Sequence[Vote], scale: GradeScale
) -> Tally:
    payloads = [vote.payload for vote in votes]
    if method in MAJORITY_METHODS:
        positions = Counter(p.position for p in payloads if isinstance(p, Choice))
        return Tally(len(votes), {position: positions[position] for position in POSITIONS})
    if method == "consent":
        objections = sum(isinstance(p, Objection) for p in payloads)
        return Tally(len(votes), {"consent": len(votes) - objections, "objection": objections})
    if method == "approval":
        approved = Counter(o for p in payloads if isinstance(p, Approvals) for o in p.options)
        return Tally(len(votes), {option: approved[option] for option in options})
    grades = [p.grades for p in payloads if isinstance(p, Grades)]
    return Tally(
        len(votes),
        distributions={
            option: tuple(sum(g[option] == grade for g in grades) for grade in range(scale.size))
            for option in options
        },
    )


def _majority(result: Result, rule: DecisionRule, count_abstentions: bool) -> Result:
    counts = result.totals.counts
    votes_for, against, abstain = counts["for"], counts["against"], counts["abstain"]
    if result.method == "simple_majority":
        cast, required = votes_for + against, Fraction(1, 2)
    else:
        cast = votes_for + against + (abstain if count_abstentions else 0)
        required = Fraction(1, 2) if result.method == "absolute_majority" else _threshold(rule)
    support = Fraction(votes_for, cast) if cast else None
    if support is None:
        adopted = False
    elif result.method == "qualified_majority":
        adopted = support >= required
    else:
        adopted = support > required
    return replace(result, adopted=adopted, support=support, required=required)


def _threshold(rule: DecisionRule) -> Fraction:
    if rule.threshold is None or not 0 < rule.threshold <= 1:
        raise ValueError(
            f"a qualified majority needs a threshold in (0, 1], got {rule.threshold!r} "
            f"for decision {rule.decision!r}"
        )
    return rule.threshold


def _judgment(result: Result) -> Result:
    distributions = result.totals.distributions
    values = {option: majority_value(d) for option, d in distributions.items()}
    gauges = {option: gauge(d) for option, d in distributions.items()} if result.turnout else {}
    return replace(result, ranking=_rank(result.options, values), gauges=gauges)


def _rank(
    options: tuple[str, ...], scores: Mapping[str, tuple[int, ...]]
) -> tuple[tuple[str, ...], ...]:
    """Tiers of options by decreasing score; equal scores share a tier, in ballot order."""
    tiers: list[list[str]] = []
    for option in sorted(options, key=lambda o: scores[o], reverse=True):
        if tiers and scores[tiers[-1][0]] == scores[option]:
            tiers[-1].append(option)
        else:
            tiers.append([option])
    return tuple(tuple(tier) for tier in tiers)


def fraction_text(value: Fraction | None) -> str | None:
    """A share as published: ``"2/3"``, ``"1/1"``, ``"0/1"`` (``None`` stays ``None``)."""
    return None if value is None else f"{value.numerator}/{value.denominator}"


def _fraction(text: str | None) -> Fraction | None:
    return None if text is None else Fraction(text)

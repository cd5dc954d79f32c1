"""Motions: simple, absolute and qualified majority, consent; breakdown by origin."""

from __future__ import annotations

import json
from fractions import Fraction

import pytest

from agora.plugins.contracts import DecisionRule, Quorum
from agora.voting import Choice, Consent, InvalidVote, Objection, Vote, tally

TWO_THIRDS = DecisionRule(
    "action_plan", "qualified_majority", Fraction(2, 3), Quorum(), (), 30, False
)
MAJORITY = DecisionRule("default", "simple_majority", None, Quorum(), ("runoff", "lot"), 30, False)


def choices(
    origin: str = "drawn", *, for_: int = 0, against: int = 0, abstain: int = 0
) -> list[Vote]:
    return [
        *[Vote(origin, Choice("for"))] * for_,
        *[Vote(origin, Choice("against"))] * against,
        *[Vote(origin, Choice("abstain"))] * abstain,
    ]


def test_s24_action_plan_adopted_at_two_thirds_of_votes_cast() -> None:
    result = tally("qualified_majority", (), choices(for_=118, against=52, abstain=10), TWO_THIRDS)
    assert result.adopted is True
    assert result.support == Fraction(118, 170)
    assert round(float(result.support) * 100, 1) == 69.4
    assert result.required == Fraction(2, 3)
    assert result.turnout == 180
    assert dict(result.totals.counts) == {"for": 118, "against": 52, "abstain": 10}
    assert not result.tie_detected and result.winner is None


def test_s24_with_abstentions_counted_the_plan_is_rejected() -> None:
    votes = choices(for_=118, against=52, abstain=10)
    result = tally("qualified_majority", (), votes, TWO_THIRDS, count_abstentions=True)
    assert result.support == Fraction(118, 180)
    assert result.adopted is False


@pytest.mark.parametrize(
    ("for_", "against", "adopted"), [(100, 50, True), (99, 51, False), (2, 1, True)]
)
def test_a_qualified_majority_is_reached_at_exactly_the_threshold(
    for_: int, against: int, adopted: bool
) -> None:
    result = tally("qualified_majority", (), choices(for_=for_, against=against), TWO_THIRDS)
    assert result.adopted is adopted


@pytest.mark.parametrize("threshold", [None, Fraction(0), Fraction(3, 2)])
def test_a_qualified_majority_needs_a_usable_threshold(threshold: Fraction | None) -> None:
    rule = DecisionRule("plan", "qualified_majority", threshold, Quorum(), (), 30, False)
    with pytest.raises(ValueError, match="threshold in \\(0, 1\\]"):
        tally("qualified_majority", (), choices(for_=1), rule)


@pytest.mark.parametrize(
    ("counts", "adopted"),
    [((10, 9, 50), True), ((10, 10, 0), False), ((9, 10, 0), False), ((0, 0, 3), False)],
)
def test_simple_majority_is_more_for_than_against(
    counts: tuple[int, int, int], adopted: bool
) -> None:
    for_, against, abstain = counts
    votes = choices(for_=for_, against=against, abstain=abstain)
    result = tally("simple_majority", (), votes, MAJORITY)
    assert result.adopted is adopted
    assert not result.tie_detected


def test_an_equal_split_rejects_and_is_not_a_tie() -> None:
    result = tally("simple_majority", (), choices(for_=10, against=10), MAJORITY)
    assert (result.adopted, result.support, result.tie_detected) == (False, Fraction(1, 2), False)


def test_no_votes_cast_rejects_without_a_share() -> None:
    result = tally("absolute_majority", (), [], MAJORITY)
    assert (result.adopted, result.support, result.turnout) == (False, None, 0)


@pytest.mark.parametrize(
    ("counts", "count_abstentions", "adopted"),
    [
        ((50, 50, 0), False, False),  # exactly 50%: not more than half
        ((51, 50, 0), False, True),
        ((60, 40, 30), False, True),
        ((60, 40, 30), True, False),  # 60/130 < 1/2
        ((65, 40, 25), True, False),  # 65/130: exactly half
        ((66, 40, 25), True, True),
    ],
)
def test_absolute_majority_is_more_than_half_of_votes_cast(
    counts: tuple[int, int, int], count_abstentions: bool, adopted: bool
) -> None:
    for_, against, abstain = counts
    votes = choices(for_=for_, against=against, abstain=abstain)
    result = tally("absolute_majority", (), votes, MAJORITY, count_abstentions=count_abstentions)
    assert result.adopted is adopted
    assert result.required == Fraction(1, 2)


def test_consent_is_adopted_without_objection() -> None:
    rule = DecisionRule("charter", "consent", None, Quorum(), (), 30, False)
    result = tally("consent", (), [Vote("drawn", Consent())] * 12, rule)
    assert (result.adopted, result.objections) == (True, ())
    assert dict(result.totals.counts) == {"consent": 12, "objection": 0}


def test_one_reasoned_objection_blocks_consent_and_is_recorded() -> None:
    rule = DecisionRule("charter", "consent", None, Quorum(), (), 30, False)
    votes = [
        Vote("drawn", Consent()),
        Vote("agent", Objection("the schedule excludes shift workers")),
        Vote("volunteer", Consent()),
        Vote("drawn", Objection("no budget for childcare")),
    ]
    result = tally("consent", (), votes, rule)
    assert result.adopted is False
    assert result.objections == ("no budget for childcare", "the schedule excludes shift workers")
    assert dict(result.totals.counts) == {"consent": 2, "objection": 2}
    assert dict(result.breakdown_by_origin["agent"].counts) == {"consent": 0, "objection": 1}


def test_an_invalid_vote_stops_the_tally() -> None:
    votes = [*choices(for_=3), Vote("drawn", Consent())]
    with pytest.raises(InvalidVote) as caught:
        tally("simple_majority", (), votes, MAJORITY)
    assert caught.value.code == "wrong_payload"


def test_breakdown_by_origin_groups_origins_and_sums_to_totals() -> None:
    votes = [
        *choices("drawn", for_=60, against=20, abstain=5),
        *choices("volunteer", for_=30, against=10),
        *choices("elected_majority", for_=8, against=1),
        *choices("elected_opposition", for_=2, against=12, abstain=3),
        *choices("agent", abstain=2),
        *choices("researcher", for_=1),
        *choices("association", for_=17, against=9),
    ]
    result = tally("qualified_majority", (), votes, TWO_THIRDS)
    breakdown = result.breakdown_by_origin
    assert list(breakdown) == ["drawn", "volunteer", "elected", "agent", "other"]
    assert dict(breakdown["elected"].counts) == {"for": 10, "against": 13, "abstain": 3}
    assert dict(breakdown["other"].counts) == {"for": 18, "against": 9, "abstain": 0}
    assert dict(breakdown["agent"].counts) == {"for": 0, "against": 0, "abstain": 2}
    assert sum(group.turnout for group in breakdown.values()) == result.turnout == 180
    for position in ("for", "against", "abstain"):
        total = sum(group.counts[position] for group in breakdown.values())
        assert total == result.totals.counts[position]


def test_a_motion_result_serialises_to_json() -> None:
    result = tally("qualified_majority", (), choices(for_=118, against=52, abstain=10), TWO_THIRDS)
    stored = json.loads(json.dumps(result.to_json()))
    assert stored["support"] == "59/85"
    assert stored["required"] == "2/3"
    assert stored["adopted"] is True
    assert stored["breakdown_by_origin"]["drawn"]["counts"]["for"] == 118

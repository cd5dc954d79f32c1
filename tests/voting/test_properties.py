"""Properties every count must have, checked on random ballots (Hypothesis)."""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from fractions import Fraction

from hypothesis import HealthCheck, assume, given, settings
from hypothesis import strategies as st

from agora.plugins.contracts import ORIGINS, DecisionRule, Quorum
from agora.voting import (
    METHODS,
    MOTION_METHODS,
    POSITIONS,
    Approvals,
    Choice,
    Consent,
    Grades,
    Objection,
    Payload,
    Result,
    Vote,
    draw_lot,
    parse_payload,
    payload_to_json,
    tally,
)
from agora.voting.judgment import gauge, majority_value

OPTIONS = ("a", "b", "c")
RULE = DecisionRule(
    "any", "qualified_majority", Fraction(3, 5), Quorum(), ("runoff", "lot"), 30, False
)
CHOICES = st.builds(Choice, st.sampled_from(POSITIONS))
PAYLOADS: dict[str, st.SearchStrategy[Payload]] = {
    "simple_majority": CHOICES,
    "absolute_majority": CHOICES,
    "qualified_majority": CHOICES,
    "consent": st.one_of(
        st.just(Consent()), st.builds(Objection, st.sampled_from(["cost", "legality"]))
    ),
    "majority_judgment": st.builds(
        Grades, st.fixed_dictionaries({o: st.integers(0, 5) for o in OPTIONS})
    ),
    "approval": st.builds(Approvals, st.frozensets(st.sampled_from(OPTIONS))),
}
DISTRIBUTIONS = st.integers(1, 12).flatmap(
    lambda voters: st.lists(
        st.lists(st.integers(0, 3), min_size=voters, max_size=voters).map(
            lambda grades: tuple(grades.count(g) for g in range(4))
        ),
        min_size=2,
        max_size=2,
    )
)


def votes_for(method: str) -> st.SearchStrategy[list[Vote]]:
    return st.lists(st.builds(Vote, st.sampled_from(ORIGINS), PAYLOADS[method]), max_size=40)


def ballots(methods: Sequence[str] = METHODS) -> st.SearchStrategy[tuple[str, list[Vote]]]:
    return st.sampled_from(methods).flatmap(lambda m: st.tuples(st.just(m), votes_for(m)))


def count(method: str, votes: list[Vote]) -> Result:
    return tally(method, OPTIONS, votes, RULE)


@settings(deadline=None)
@given(ballots(), st.randoms(use_true_random=False))
def test_the_order_of_votes_never_changes_the_result(
    ballot: tuple[str, list[Vote]], rng: random.Random
) -> None:
    method, votes = ballot
    shuffled = rng.sample(votes, len(votes))
    assert count(method, shuffled) == count(method, votes)


@settings(deadline=None)
@given(ballots())
def test_totals_add_up_to_the_number_of_votes(ballot: tuple[str, list[Vote]]) -> None:
    method, votes = ballot
    totals = count(method, votes).totals
    assert totals.turnout == len(votes)
    if method in MOTION_METHODS:
        assert sum(totals.counts.values()) == len(votes)
    elif method == "approval":
        assert sum(totals.counts.values()) == sum(
            len(v.payload.options) for v in votes if isinstance(v.payload, Approvals)
        )
    else:
        assert all(sum(d) == len(votes) for d in totals.distributions.values())


@settings(deadline=None)
@given(ballots())
def test_the_breakdown_by_origin_sums_to_the_totals(ballot: tuple[str, list[Vote]]) -> None:
    method, votes = ballot
    result = count(method, votes)
    groups = result.breakdown_by_origin.values()
    assert sum(group.turnout for group in groups) == result.turnout
    for key, total in result.totals.counts.items():
        assert sum(group.counts[key] for group in groups) == total
    for option, distribution in result.totals.distributions.items():
        per_grade = zip(*(group.distributions[option] for group in groups), strict=True)
        assert tuple(map(sum, per_grade)) == distribution


@settings(deadline=None)
@given(votes_for("majority_judgment").filter(bool))
def test_majority_judgment_ranks_by_majority_grade_first(votes: list[Vote]) -> None:
    result = count("majority_judgment", votes)
    medians = [result.gauges[tier[0]].median for tier in result.ranking]
    assert medians == sorted(medians, reverse=True)
    first = result.ranking[0][0]
    assert all(result.gauges[first].median >= g.median for g in result.gauges.values())


@settings(deadline=None)
@given(votes_for("majority_judgment"))
def test_majority_judgment_ties_exactly_on_identical_distributions(votes: list[Vote]) -> None:
    result = count("majority_judgment", votes)
    tier_of = {option: n for n, tier in enumerate(result.ranking) for option in tier}
    distributions = result.totals.distributions
    for a in OPTIONS:
        for b in OPTIONS:
            assert (tier_of[a] == tier_of[b]) == (distributions[a] == distributions[b])


# Only pairs with equal majority grades matter here, so many drawn pairs are set aside.
@settings(suppress_health_check=[HealthCheck.filter_too_much], deadline=None)
@given(DISTRIBUTIONS)
def test_a_decisive_majority_gauge_agrees_with_the_majority_value(
    pair: list[tuple[int, ...]],
) -> None:
    """Balinski & Laraki: among equal majority grades, the largest of the four counts decides."""
    first, second = map(gauge, pair)
    assume(first.median == second.median)
    verdicts = {(first.above, 1), (first.below, -1), (second.above, -1), (second.below, 1)}
    largest = max(count for count, _ in verdicts)
    signs = {sign for count, sign in verdicts if count == largest}
    assume(len(signs) == 1)
    assert (majority_value(pair[0]) > majority_value(pair[1])) == (signs == {1})


@settings(deadline=None)
@given(votes_for("approval"))
def test_the_approval_winners_have_the_most_approvals(votes: list[Vote]) -> None:
    result = count("approval", votes)
    most = max(result.totals.counts.values())
    assert {o for o, n in result.totals.counts.items() if n == most} == set(result.ranking[0])
    assert result.tie_detected == (len(result.ranking[0]) > 1)


@settings(deadline=None)
@given(votes_for("qualified_majority"))
def test_a_qualified_majority_is_adopted_iff_support_reaches_the_threshold(
    votes: list[Vote],
) -> None:
    result = count("qualified_majority", votes)
    assert result.adopted == (result.support is not None and result.support >= Fraction(3, 5))


@given(st.sampled_from(METHODS).flatmap(lambda method: PAYLOADS[method]))
def test_payloads_survive_their_json_form(payload: Payload) -> None:
    assert parse_payload(payload_to_json(payload)) == payload


@settings(deadline=None)
@given(ballots())
def test_results_survive_their_json_form(ballot: tuple[str, list[Vote]]) -> None:
    method, votes = ballot
    result = count(method, votes)
    stored = json.loads(json.dumps(result.to_json()))
    assert Result.from_json(stored) == result
    assert json.loads(json.dumps(Result.from_json(stored).to_json())) == stored


@given(
    st.text(min_size=1),
    st.lists(st.text(min_size=1), min_size=2, max_size=6, unique=True),
    st.randoms(use_true_random=False),
)
def test_the_draw_by_lot_depends_only_on_the_seed_and_the_candidates(
    seed: str, options: list[str], rng: random.Random
) -> None:
    draw = draw_lot(seed, options)
    assert draw.winner in options
    assert draw_lot(seed, rng.sample(options, len(options))) == draw

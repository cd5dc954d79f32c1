"""Majority judgment and approval voting: rankings, MJ's own tie-break, true ties."""

from __future__ import annotations

import json
import random
from collections.abc import Mapping, Sequence

import pytest

from agora.plugins.contracts import ORIGINS, DecisionRule, Quorum
from agora.voting import Approvals, Gauge, Grades, GradeScale, Vote, tally
from agora.voting.judgment import gauge, majority_grade, majority_value

SUBJECTS = DecisionRule(
    "subject", "majority_judgment", None, Quorum(), ("runoff", "lot"), 30, False
)
APPROVAL = DecisionRule("shortlist", "approval", None, Quorum(), ("runoff", "lot"), 30, False)
TERRIBLE, POOR, FAIR, GOOD, VERY_GOOD, EXCELLENT = range(6)  # the French six-grade scale


def graded(columns: Mapping[str, Sequence[int]], origins: Sequence[str] = ("drawn",)) -> list[Vote]:
    """Votes from one column of grades per option: voter ``i`` gives ``columns[o][i]``."""
    voters = len(next(iter(columns.values())))
    return [
        Vote(origins[i % len(origins)], Grades({o: grades[i] for o, grades in columns.items()}))
        for i in range(voters)
    ]


def distribution(grades: Sequence[int], size: int = 6) -> tuple[int, ...]:
    return tuple(grades.count(grade) for grade in range(size))


def test_the_majority_grade_is_the_lower_median() -> None:
    assert majority_grade(distribution([1, 2, 3])) == 2
    assert majority_grade(distribution([1, 2, 3, 4])) == 2  # even count: lower middle
    assert majority_grade(distribution([5, 5, 0, 0])) == 0
    with pytest.raises(ValueError, match="at least one vote"):
        majority_grade(distribution([]))


def test_the_majority_value_removes_one_median_at_a_time() -> None:
    # 0 2 2 2 4 → 2, then 0 2 2 4 → 2, then 0 2 4 → 2, then 0 4 → 0, then 4.
    assert majority_value(distribution([0, 2, 2, 2, 4])) == (2, 2, 2, 0, 4)
    assert majority_value(distribution([3, 3, 2, 2, 1])) == (2, 2, 3, 1, 3)


def test_gauge_counts_votes_strictly_above_and_below_the_median() -> None:
    assert gauge(distribution([3, 3, 2, 2, 1])) == Gauge(median=2, above=2, below=1)


def test_the_highest_majority_grade_wins_whatever_the_averages() -> None:
    # "parc" has the better average (2.6 against 2.4) but the lower majority grade.
    votes = graded(
        {
            "parc": [EXCELLENT, EXCELLENT, POOR, POOR, FAIR],
            "pistes": [GOOD, GOOD, GOOD, TERRIBLE, TERRIBLE],
        }
    )
    result = tally("majority_judgment", ("parc", "pistes"), votes, SUBJECTS)
    assert result.winner == "pistes"
    assert result.ranking == (("pistes",), ("parc",))
    assert result.gauges["pistes"] == Gauge(GOOD, 0, 2)
    assert result.gauges["parc"] == Gauge(FAIR, 2, 2)
    assert result.totals.distributions["parc"] == (0, 2, 1, 0, 0, 2)


def test_equal_medians_are_decided_by_removing_medians() -> None:
    # Both have median Assez bien; A has two votes above and one below, B one and one.
    votes = graded(
        {
            "a": [GOOD, GOOD, FAIR, FAIR, POOR],
            "b": [GOOD, FAIR, FAIR, FAIR, TERRIBLE],
        }
    )
    result = tally("majority_judgment", ("b", "a"), votes, SUBJECTS)
    assert result.gauges["a"].median == result.gauges["b"].median == FAIR
    assert result.ranking == (("a",), ("b",))
    assert not result.tie_detected


def test_the_tie_break_goes_beyond_the_gauge_when_gauges_are_equal() -> None:
    # Same median (Assez bien), one vote above and one below for each: the gauges tie.
    # Removing medians: a → 2 2 2 0 4, b → 2 2 2 1 3: b's fourth grade is higher.
    votes = graded(
        {
            "a": [TERRIBLE, FAIR, FAIR, FAIR, VERY_GOOD],
            "b": [POOR, FAIR, FAIR, FAIR, GOOD],
        }
    )
    result = tally("majority_judgment", ("a", "b"), votes, SUBJECTS)
    assert result.gauges["a"] == result.gauges["b"] == Gauge(FAIR, 1, 1)
    assert result.winner == "b"


def test_identical_distributions_are_a_true_tie() -> None:
    votes = graded(
        {
            "a": [GOOD, FAIR, POOR, VERY_GOOD],
            "b": [POOR, VERY_GOOD, GOOD, FAIR],  # the same grades, from other voters
            "c": [POOR, POOR, FAIR, GOOD],
        }
    )
    result = tally("majority_judgment", ("a", "b", "c"), votes, SUBJECTS)
    assert result.tie_detected
    assert result.tied == ("a", "b")
    assert result.winner is None
    assert result.ranking == (("a", "b"), ("c",))


def test_s20_subject_selection_with_212_attendees() -> None:
    # Grade distributions, worst first, for three subjects; 212 votes each.
    profiles = {
        "mobilite": (20, 30, 40, 62, 40, 20),  # median Bien (the 106th vote, worst first)
        "alimentation": (10, 25, 70, 60, 30, 17),  # median Assez bien
        "logement": (30, 40, 50, 40, 30, 22),  # median Assez bien
    }
    columns = {}
    for subject, counts in profiles.items():
        column = [grade for grade, count in enumerate(counts) for _ in range(count)]
        random.Random(subject).shuffle(column)
        columns[subject] = column
    votes = graded(columns, origins=("drawn", "volunteer", "drawn", "elected_majority", "agent"))
    result = tally("majority_judgment", tuple(profiles), votes, SUBJECTS)
    assert result.turnout == 212
    assert result.winner == "mobilite"
    assert result.gauges["mobilite"] == Gauge(GOOD, 60, 90)
    assert dict(result.totals.distributions) == profiles
    groups = result.breakdown_by_origin
    assert [groups[g].turnout for g in groups] == [85, 43, 42, 42, 0]
    for subject, counts in profiles.items():
        per_group = zip(*(groups[g].distributions[subject] for g in groups), strict=True)
        assert tuple(map(sum, per_group)) == counts
    stored = json.loads(json.dumps(result.to_json()))
    assert stored["gauges"]["mobilite"] == {"median": GOOD, "above": 60, "below": 90}
    assert stored["winner"] == "mobilite"


def test_a_custom_scale_sets_the_distribution_length() -> None:
    scale = GradeScale(("Non", "Oui"))
    votes = graded({"a": [1, 1, 0], "b": [0, 1, 0]})
    result = tally("majority_judgment", ("a", "b"), votes, SUBJECTS, scale=scale)
    assert result.totals.distributions == {"a": (1, 2), "b": (2, 1)}
    assert result.winner == "a"


def test_without_votes_every_option_is_tied() -> None:
    result = tally("majority_judgment", ("a", "b"), [], SUBJECTS)
    assert (result.tied, result.gauges) == (("a", "b"), {})


def test_an_option_method_needs_options() -> None:
    with pytest.raises(ValueError, match="at least one option"):
        tally("approval", (), [], APPROVAL)
    with pytest.raises(ValueError, match="duplicate option ids"):
        tally("approval", ("a", "a"), [], APPROVAL)


def approvals(*ballots: str, origin: str = "drawn") -> list[Vote]:
    """One vote per string, approving the options named by its letters."""
    return [Vote(origin, Approvals(frozenset(ballot))) for ballot in ballots]


def test_approval_ranks_by_number_of_approvals() -> None:
    votes = approvals("ab", "b", "bc", "", "c")
    result = tally("approval", ("a", "b", "c"), votes, APPROVAL)
    assert dict(result.totals.counts) == {"a": 1, "b": 3, "c": 2}
    assert result.ranking == (("b",), ("c",), ("a",))
    assert result.winner == "b"
    assert result.turnout == 5


def test_approval_ties_are_detected() -> None:
    votes = [*approvals("ab", "c"), *approvals("a", "b", origin="elected_opposition")]
    result = tally("approval", ("a", "b", "c"), votes, APPROVAL)
    assert result.tied == ("a", "b")
    assert result.ranking == (("a", "b"), ("c",))
    assert dict(result.breakdown_by_origin["elected"].counts) == {"a": 1, "b": 1, "c": 0}


@pytest.mark.parametrize("origin", ORIGINS)
def test_every_origin_has_a_breakdown_group(origin: str) -> None:
    result = tally("approval", ("a",), approvals("a", origin=origin), APPROVAL)
    assert sum(group.turnout for group in result.breakdown_by_origin.values()) == 1

"""Payload validation: every vote that cannot be counted is refused with a code and a reason."""

from __future__ import annotations

from typing import Any

import pytest

from agora.voting import (
    FRENCH_SIX_GRADES,
    Approvals,
    Choice,
    Consent,
    Grades,
    GradeScale,
    InvalidVote,
    Objection,
    Payload,
    Vote,
    parse_payload,
    payload_to_json,
    validate_vote,
)

OPTIONS = ("s1", "s2")


def refusal(method: str, vote: Vote, scale: GradeScale = FRENCH_SIX_GRADES) -> InvalidVote:
    with pytest.raises(InvalidVote) as caught:
        validate_vote(method, OPTIONS, vote, scale)
    return caught.value


def test_the_french_scale_is_stored_worst_first() -> None:
    assert FRENCH_SIX_GRADES.size == 6
    assert FRENCH_SIX_GRADES.label(0) == "À rejeter"
    assert FRENCH_SIX_GRADES.label(5) == "Excellent"


@pytest.mark.parametrize(
    ("method", "payload"),
    [
        ("simple_majority", Choice("abstain")),
        ("qualified_majority", Choice("for")),
        ("consent", Consent()),
        ("consent", Objection("the budget line does not exist")),
        ("majority_judgment", Grades({"s1": 0, "s2": 5})),
        ("approval", Approvals(frozenset())),
        ("approval", Approvals(frozenset(OPTIONS))),
    ],
)
def test_valid_votes_pass(method: str, payload: Payload) -> None:
    validate_vote(method, OPTIONS, Vote("drawn", payload))


@pytest.mark.parametrize(
    ("method", "vote", "code", "message"),
    [
        (
            "approval",
            Vote("mayor", Approvals(frozenset())),
            "unknown_origin",
            "unknown voter origin 'mayor'",
        ),
        (
            "majority_judgment",
            Vote("drawn", Choice("for")),
            "wrong_payload",
            "a majority_judgment ballot takes Grades, not Choice",
        ),
        (
            "consent",
            Vote("drawn", Choice("against")),
            "wrong_payload",
            "a consent ballot takes Consent or Objection, not Choice",
        ),
        (
            "simple_majority",
            Vote("drawn", Choice("maybe")),  # type: ignore[arg-type]
            "invalid_choice",
            "invalid choice 'maybe'; expected one of for, against, abstain",
        ),
        (
            "consent",
            Vote("agent", Objection("  ")),
            "objection_without_reason",
            "an objection must state its reason",
        ),
        (
            "approval",
            Vote("drawn", Approvals(frozenset({"s1", "s9"}))),
            "unknown_option",
            "unknown option 's9'; the ballot's options are s1, s2",
        ),
        (
            "majority_judgment",
            Vote("drawn", Grades({"s1": 3, "s2": 1, "s3": 2})),
            "unknown_option",
            "unknown option 's3'; the ballot's options are s1, s2",
        ),
        (
            "majority_judgment",
            Vote("volunteer", Grades({"s1": 3})),
            "missing_grade",
            "no grade for option 's2': every option must be graded",
        ),
        (
            "majority_judgment",
            Vote("drawn", Grades({"s1": 3, "s2": 6})),
            "invalid_grade",
            "grade 6 for option 's2' is not on the scale (0 = 'À rejeter' to 5 = 'Excellent')",
        ),
        (
            "majority_judgment",
            Vote("drawn", Grades({"s1": -1, "s2": 0})),
            "invalid_grade",
            "grade -1 for option 's1' is not on the scale (0 = 'À rejeter' to 5 = 'Excellent')",
        ),
        (
            "majority_judgment",
            Vote("drawn", Grades({"s1": True, "s2": 0})),
            "invalid_grade",
            "grade True for option 's1' is not on the scale (0 = 'À rejeter' to 5 = 'Excellent')",
        ),
    ],
)
def test_invalid_votes_are_refused_with_a_code(
    method: str, vote: Vote, code: str, message: str
) -> None:
    error = refusal(method, vote)
    assert (error.code, str(error)) == (code, message)


def test_grades_are_checked_against_the_ballot_scale() -> None:
    scale = GradeScale(("Non", "Plutôt non", "Plutôt oui", "Oui"))
    error = refusal("majority_judgment", Vote("drawn", Grades({"s1": 4, "s2": 0})), scale)
    assert error.code == "invalid_grade"
    assert "(0 = 'Non' to 3 = 'Oui')" in str(error)


def test_a_scale_needs_two_grades() -> None:
    with pytest.raises(ValueError, match="at least two grades"):
        GradeScale(("Oui",))


def test_an_unknown_method_is_a_configuration_error() -> None:
    with pytest.raises(ValueError, match="unknown voting method 'borda'"):
        validate_vote("borda", OPTIONS, Vote("drawn", Choice("for")))


@pytest.mark.parametrize(
    ("payload", "stored"),
    [
        (Choice("against"), {"choice": "against"}),
        (Consent(), {"consent": True}),
        (
            Objection("not within municipal competence"),
            {"objection": "not within municipal competence"},
        ),
        (Grades({"s1": 4, "s2": 0}), {"grades": {"s1": 4, "s2": 0}}),
        (Approvals(frozenset({"s2", "s1"})), {"approvals": ["s1", "s2"]}),
    ],
)
def test_payloads_round_trip_through_json(payload: Payload, stored: dict[str, Any]) -> None:
    assert payload_to_json(payload) == stored
    assert parse_payload(stored) == payload


@pytest.mark.parametrize(
    "stored",
    [
        {},
        {"choice": 1},
        {"consent": False},
        {"grades": [4, 0]},
        {"approvals": "s1"},
        {"choice": "for", "approvals": ["s1"]},
    ],
)
def test_unreadable_payloads_are_refused(stored: dict[str, Any]) -> None:
    with pytest.raises(InvalidVote) as caught:
        parse_payload(stored)
    assert caught.value.code == "malformed_payload"


def test_an_unknown_stored_choice_is_an_invalid_choice() -> None:
    with pytest.raises(InvalidVote) as caught:
        parse_payload({"choice": "pour"})
    assert caught.value.code == "invalid_choice"

"""Ballot payloads, votes, and their validation against a ballot.

One payload type per family of methods:

- :class:`Choice` — for / against / abstain on a single motion: simple, absolute and
  qualified majority;
- :class:`Consent` or :class:`Objection` — sociocratic consent; an objection must state its
  reason, which is recorded and published;
- :class:`Grades` — majority judgment: one grade for every option, on a :class:`GradeScale`;
- :class:`Approvals` — approval voting: the set of approved options (possibly empty).

Every vote carries its voter's origin (``drawn``, ``volunteer``…), secret ballots included,
but never the voter's identity. Option ids are strings (the caller's database ids as text).
Payloads are stored as JSON: :func:`payload_to_json` and :func:`parse_payload` convert.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal, get_args

from agora.plugins.contracts import ORIGINS

MAJORITY_METHODS = ("simple_majority", "absolute_majority", "qualified_majority")
#: Methods deciding on one motion: the result says adopted or rejected.
MOTION_METHODS = (*MAJORITY_METHODS, "consent")
#: Methods choosing among options: the result ranks them.
OPTION_METHODS = ("majority_judgment", "approval")
METHODS = MOTION_METHODS + OPTION_METHODS

Position = Literal["for", "against", "abstain"]
POSITIONS: tuple[Position, ...] = get_args(Position)

InvalidVoteCode = Literal[
    "malformed_payload",
    "wrong_payload",
    "unknown_origin",
    "invalid_choice",
    "objection_without_reason",
    "unknown_option",
    "missing_grade",
    "invalid_grade",
]


class InvalidVote(ValueError):
    """A vote that cannot be counted; ``code`` is stable, ``str(error)`` is the English text."""

    def __init__(self, code: InvalidVoteCode, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(frozen=True)
class GradeScale:
    """The grades of a majority-judgment ballot, **worst first**.

    A grade is an index into ``labels``: 0 is the worst grade, ``len(labels) - 1`` the best,
    so a higher grade is a better one. Labels are display data, in the commune's language.
    """

    labels: tuple[str, ...]

    def __post_init__(self) -> None:
        if len(self.labels) < 2:
            raise ValueError("a grade scale needs at least two grades")

    @property
    def size(self) -> int:
        return len(self.labels)

    def label(self, grade: int) -> str:
        return self.labels[grade]


#: The six grades used in France for majority judgment (Balinski & Laraki), worst first.
FRENCH_SIX_GRADES = GradeScale(
    ("À rejeter", "Passable", "Assez bien", "Bien", "Très bien", "Excellent")
)


@dataclass(frozen=True)
class Choice:
    """For, against or abstain on a single motion."""

    position: Position


@dataclass(frozen=True)
class Consent:
    """Consent to a motion: no objection."""


@dataclass(frozen=True)
class Objection:
    """A reasoned objection to a motion; the reason is recorded with the result."""

    reason: str


@dataclass(frozen=True)
class Grades:
    """Majority judgment: option id → grade (an index on the ballot's :class:`GradeScale`)."""

    grades: Mapping[str, int]


@dataclass(frozen=True)
class Approvals:
    """Approval voting: the ids of the approved options."""

    options: frozenset[str]


Payload = Choice | Consent | Objection | Grades | Approvals

_PAYLOAD_TYPES: Mapping[str, tuple[type, ...]] = {
    **dict.fromkeys(MAJORITY_METHODS, (Choice,)),
    "consent": (Consent, Objection),
    "majority_judgment": (Grades,),
    "approval": (Approvals,),
}


@dataclass(frozen=True)
class Vote:
    """One counted vote: the voter's origin (one of ``contracts.ORIGINS``) and the payload."""

    origin: str
    payload: Payload


def check_method(method: str) -> None:
    """Raise ``ValueError`` for a method the engine does not know (a configuration error)."""
    if method not in METHODS:
        raise ValueError(f"unknown voting method {method!r}; known: {', '.join(METHODS)}")


def validate_vote(
    method: str, options: Sequence[str], vote: Vote, scale: GradeScale = FRENCH_SIX_GRADES
) -> None:
    """Raise :class:`InvalidVote` unless ``vote`` can be counted on this ballot.

    ``options`` are the ballot's option ids (unused for motions), ``scale`` its grade scale
    (used by majority judgment only).
    """
    if vote.origin not in ORIGINS:
        raise InvalidVote("unknown_origin", f"unknown voter origin {vote.origin!r}")
    validate_payload(method, options, vote.payload, scale)


def validate_payload(
    method: str, options: Sequence[str], payload: Payload, scale: GradeScale = FRENCH_SIX_GRADES
) -> None:
    """Raise :class:`InvalidVote` unless ``payload`` is a valid ballot paper for this ballot,
    whoever casts it."""
    check_method(method)
    if not isinstance(payload, _PAYLOAD_TYPES[method]):
        expected = " or ".join(kind.__name__ for kind in _PAYLOAD_TYPES[method])
        raise InvalidVote(
            "wrong_payload",
            f"a {method} ballot takes {expected}, not {type(payload).__name__}",
        )
    if isinstance(payload, Choice):
        _as_position(payload.position)
    if isinstance(payload, Objection) and not payload.reason.strip():
        raise InvalidVote("objection_without_reason", "an objection must state its reason")
    if isinstance(payload, Grades):
        _check_grades(payload, options, scale)
    if isinstance(payload, Approvals):
        _check_known(payload.options, options)


def _as_position(value: str) -> Position:
    for position in POSITIONS:
        if value == position:
            return position
    raise InvalidVote(
        "invalid_choice", f"invalid choice {value!r}; expected one of {', '.join(POSITIONS)}"
    )


def _check_known(chosen: Iterable[str], options: Sequence[str]) -> None:
    unknown = sorted(set(chosen) - set(options))
    if unknown:
        raise InvalidVote(
            "unknown_option",
            f"unknown option {unknown[0]!r}; the ballot's options are {', '.join(options)}",
        )


def _check_grades(payload: Grades, options: Sequence[str], scale: GradeScale) -> None:
    _check_known(payload.grades, options)
    for option in options:
        if option not in payload.grades:
            raise InvalidVote(
                "missing_grade", f"no grade for option {option!r}: every option must be graded"
            )
        grade = payload.grades[option]
        if isinstance(grade, bool) or not isinstance(grade, int) or not 0 <= grade < scale.size:
            raise InvalidVote(
                "invalid_grade",
                f"grade {grade!r} for option {option!r} is not on the scale "
                f"(0 = {scale.label(0)!r} to {scale.size - 1} = {scale.label(-1)!r})",
            )


def payload_to_json(payload: Payload) -> dict[str, Any]:
    """The JSON form of a payload, as stored with the vote.

    ``{"choice": "for"}``, ``{"consent": true}``, ``{"objection": "reason"}``,
    ``{"grades": {"option": 3}}``, ``{"approvals": ["option", ...]}`` (sorted).
    """
    match payload:
        case Choice(position):
            return {"choice": position}
        case Consent():
            return {"consent": True}
        case Objection(reason):
            return {"objection": reason}
        case Grades(grades):
            return {"grades": dict(grades)}
        case Approvals(options):
            return {"approvals": sorted(options)}


def parse_payload(data: Mapping[str, Any]) -> Payload:
    """Read the JSON form of :func:`payload_to_json`; raise ``InvalidVote("malformed_payload")``.

    Only the shape is checked here: :func:`validate_vote` checks the payload against the
    ballot (method, options, grade scale).
    """
    if len(data) == 1:
        match dict(data):
            case {"choice": str(position)}:
                return Choice(_as_position(position))
            case {"consent": True}:
                return Consent()
            case {"objection": str(reason)}:
                return Objection(reason)
            case {"grades": dict(grades)} if all(isinstance(key, str) for key in grades):
                return Grades(grades)
            case {"approvals": list(options)} if all(isinstance(key, str) for key in options):
                return Approvals(frozenset(options))
    raise InvalidVote("malformed_payload", f"unreadable vote payload {dict(data)!r}")

"""The decision engine: counting ballots, quorum and tie-breaks, in plain Python.

No Flask, no database: the web layer turns its rows into :class:`Vote` values, calls
:func:`tally`, :func:`check_quorum` and :func:`resolve`, stores their ``to_json()`` and
reads results back with ``Result.from_json`` and ``Resolution.from_json``.
The rules are stated in each module's docstring.
"""

from __future__ import annotations

from agora.voting.ballots import (
    FRENCH_SIX_GRADES,
    METHODS,
    MOTION_METHODS,
    OPTION_METHODS,
    POSITIONS,
    Approvals,
    Choice,
    Consent,
    Grades,
    GradeScale,
    InvalidVote,
    Objection,
    Payload,
    Position,
    Vote,
    parse_payload,
    payload_to_json,
    validate_vote,
)
from agora.voting.judgment import Gauge
from agora.voting.methods import (
    BREAKDOWN_GROUPS,
    Result,
    Tally,
    fraction_text,
    origin_group,
    tally,
)
from agora.voting.quorum import QuorumReport, Shortfall
from agora.voting.quorum import check as check_quorum
from agora.voting.tiebreak import LotDraw, Resolution, StepRecord, draw_lot, resolve

__all__ = [
    "BREAKDOWN_GROUPS",
    "FRENCH_SIX_GRADES",
    "METHODS",
    "MOTION_METHODS",
    "OPTION_METHODS",
    "POSITIONS",
    "Approvals",
    "Choice",
    "Consent",
    "Gauge",
    "GradeScale",
    "Grades",
    "InvalidVote",
    "LotDraw",
    "Objection",
    "Payload",
    "Position",
    "QuorumReport",
    "Resolution",
    "Result",
    "Shortfall",
    "StepRecord",
    "Tally",
    "Vote",
    "check_quorum",
    "draw_lot",
    "fraction_text",
    "origin_group",
    "parse_payload",
    "payload_to_json",
    "resolve",
    "tally",
    "validate_vote",
]

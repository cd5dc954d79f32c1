"""Quorum: are enough people present for a ballot to decide? (``domain.md`` §2.4, S22.)

A commune's :class:`~agora.plugins.contracts.Quorum` combines three conditions, all required:

- ``min_present``: people present and entitled to vote (an absolute number, e.g. for open
  sessions);
- ``min_drawn_present``: drawn members present, so that volunteers or elected officials
  cannot outvote an absent drawn core;
- ``min_share_of_members``: the share of the body's voting members present, rounded up
  (1/2 of 75 members → 38).

A ballot whose quorum is not met may be held as indicative but never certified
(``domain.md`` §1.4, invariant 5).
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any, Literal

from agora.plugins.contracts import Quorum

QuorumCode = Literal["min_present", "min_drawn_present", "min_share_of_members"]


@dataclass(frozen=True)
class Shortfall:
    """One unmet condition: ``present`` people where ``required`` are needed."""

    code: QuorumCode
    present: int
    required: int
    message: str


@dataclass(frozen=True)
class QuorumReport:
    met: bool
    reasons: tuple[Shortfall, ...]

    @property
    def message(self) -> str:
        """``"quorum met"`` or every shortfall, e.g. ``"quorum not met: 41 drawn members
        present, 50 required"``."""
        if self.met:
            return "quorum met"
        return "quorum not met: " + "; ".join(reason.message for reason in self.reasons)

    def to_json(self) -> dict[str, Any]:
        return {
            "met": self.met,
            "reasons": [asdict(reason) for reason in self.reasons],
            "message": self.message,
        }


def check(
    quorum: Quorum, present: int, drawn_present: int, members: int | None = None
) -> QuorumReport:
    """Check ``quorum`` against attendance.

    ``present`` counts everyone present with a vote, ``drawn_present`` the drawn members among
    them, ``members`` the body's voting members (``None`` for a body without membership, such
    as an open session, whose quorum cannot then require a share of members).
    """
    if not 0 <= drawn_present <= present:
        raise ValueError(f"drawn members present ({drawn_present}) must be within 0..{present}")
    reasons = []
    if present < quorum.min_present:
        reasons.append(
            Shortfall(
                "min_present",
                present,
                quorum.min_present,
                f"{present} people present, {quorum.min_present} required",
            )
        )
    if drawn_present < quorum.min_drawn_present:
        reasons.append(
            Shortfall(
                "min_drawn_present",
                drawn_present,
                quorum.min_drawn_present,
                f"{drawn_present} drawn members present, {quorum.min_drawn_present} required",
            )
        )
    share = _share_shortfall(quorum, present, members)
    if share is not None:
        reasons.append(share)
    return QuorumReport(not reasons, tuple(reasons))


def _share_shortfall(quorum: Quorum, present: int, members: int | None) -> Shortfall | None:
    share = quorum.min_share_of_members
    if not share:
        return None
    if members is None:
        raise ValueError("a quorum on a share of members needs the number of members")
    if not 0 < share <= 1 or members < 0:
        raise ValueError(f"cannot require {share} of {members} members")
    required = math.ceil(share * members)
    if present >= required:
        return None
    return Shortfall(
        "min_share_of_members",
        present,
        required,
        f"{present} of {members} members present, {required} required ({share} of members)",
    )

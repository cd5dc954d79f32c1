"""The tie-break chain.

A commune's rule lists the steps to try, in order, when options share first place:

- ``method``: the voting method's own tie-break. Majority judgment's (removing median grades
  one at a time) is part of its ranking and already applied by the tally, so a tie left
  after it is a true tie; approval voting has none.
- ``runoff``: a new ballot between the tied options. :func:`resolve` answers
  ``runoff_required``; the caller holds the run-off and calls again with its result.
- ``lot``: a public draw by lot from a seed revealed in front of the plenary (see
  :func:`draw_lot`), which anyone can recompute. :func:`resolve` answers ``lot_required``
  until the caller passes the seed.

When the chain is exhausted the tie is ``unresolved`` and the decision is referred to the next
session. A casting vote by the chair is deliberately not a step (autonomy principle).
Every step applied is recorded for the audit trail and the public result page.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any, Literal

from agora.voting.methods import Result

STEPS = ("method", "runoff", "lot")
Status = Literal["decided", "runoff_required", "lot_required", "unresolved"]
Outcome = Literal["not_applicable", "still_tied", "decided"]


@dataclass(frozen=True)
class LotDraw:
    """A draw by lot anyone can recompute.

    ``text`` is the seed and the candidates' ids sorted by code point, joined by ``:``; the
    winner is ``candidates[int(SHA-256(text), 16) mod len(candidates)]``, e.g.
    ``printf %s "$TEXT" | sha256sum``. The modulo bias is below 2⁻²⁴⁰, negligible.
    """

    seed: str
    candidates: tuple[str, ...]
    text: str
    digest: str
    index: int

    @property
    def winner(self) -> str:
        return self.candidates[self.index]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> LotDraw:
        """Read back a draw as recorded in a step (its ``winner`` is recomputed)."""
        return cls(
            data["seed"], tuple(data["candidates"]), data["text"], data["digest"], data["index"]
        )


def draw_lot(seed: str, options: Iterable[str]) -> LotDraw:
    """Draw one of ``options`` by lot from the public ``seed``."""
    candidates = tuple(sorted(options))
    if not seed:
        raise ValueError("a draw by lot needs a non-empty public seed")
    if len(candidates) < 2 or len(set(candidates)) != len(candidates):
        raise ValueError(f"a draw by lot needs two or more distinct options, got {candidates!r}")
    text = ":".join((seed, *candidates))
    digest = hashlib.sha256(text.encode("utf-8")).hexdigest()
    return LotDraw(seed, candidates, text, digest, int(digest, 16) % len(candidates))


@dataclass(frozen=True)
class StepRecord:
    """One step of the chain as applied: the options tied before it and what it gave."""

    step: str
    tied: tuple[str, ...]
    outcome: Outcome
    winner: str | None
    message: str
    lot: LotDraw | None = None

    def to_json(self) -> dict[str, Any]:
        lot = None if self.lot is None else asdict(self.lot) | {"winner": self.lot.winner}
        return asdict(self) | {"tied": list(self.tied), "lot": lot}

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> StepRecord:
        """Read back the form of :meth:`to_json`."""
        lot = data["lot"]
        return cls(
            step=data["step"],
            tied=tuple(data["tied"]),
            outcome=data["outcome"],
            winner=data["winner"],
            message=data["message"],
            lot=None if lot is None else LotDraw.from_json(lot),
        )


@dataclass(frozen=True)
class Resolution:
    """Where the chain stands: a winner, a step the caller must carry out, or no decision.

    ``tied`` names the options still tied (those of the required run-off or draw).
    """

    status: Status
    winner: str | None
    tied: tuple[str, ...]
    steps: tuple[StepRecord, ...]

    @property
    def message(self) -> str:
        between = ", ".join(self.tied)
        if self.status == "decided":
            return f"decided: {self.winner}"
        if self.status == "runoff_required":
            return f"a run-off ballot is required between {between}"
        if self.status == "lot_required":
            return f"a public draw by lot is required between {between}: reveal the seed"
        return f"tie between {between} unresolved: refer the decision to the next session"

    def to_json(self) -> dict[str, Any]:
        return {
            "status": self.status,
            "winner": self.winner,
            "tied": list(self.tied),
            "steps": [step.to_json() for step in self.steps],
            "message": self.message,
        }

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> Resolution:
        """Read back the form of :meth:`to_json` (its ``message`` is recomputed)."""
        return cls(
            status=data["status"],
            winner=data["winner"],
            tied=tuple(data["tied"]),
            steps=tuple(StepRecord.from_json(step) for step in data["steps"]),
        )


def resolve(
    result: Result,
    chain: Sequence[str],
    *,
    runoff: Result | None = None,
    seed: str | None = None,
) -> Resolution:
    """Apply the tie-break ``chain`` to ``result`` as far as what has been done allows.

    ``runoff`` is the tallied run-off between the tied options, once held; ``seed`` the public
    seed of the draw by lot, once revealed. Without a tie, the result's winner stands (``None``
    for a motion, whose ``adopted`` flag is the answer).
    """
    unknown = [step for step in chain if step not in STEPS]
    if unknown or len(set(chain)) != len(chain):
        raise ValueError(f"invalid tie-break chain {tuple(chain)!r}; steps are {STEPS}")
    if runoff is not None and "runoff" not in chain:
        raise ValueError("a run-off result was given but the chain has no run-off")
    if not result.tie_detected:
        return Resolution("decided", result.winner, (), ())
    tied = result.tied
    steps: list[StepRecord] = []
    for step in chain:
        if step == "method":
            record = _own_tie_break(result.method, tied)
        elif step == "runoff":
            if runoff is None:
                return Resolution("runoff_required", None, tied, tuple(steps))
            record = _runoff(tied, runoff)
            tied = runoff.tied
        else:
            if seed is None:
                return Resolution("lot_required", None, tied, tuple(steps))
            record = _lot(tied, seed)
        steps.append(record)
        if record.winner is not None:
            return Resolution("decided", record.winner, (), tuple(steps))
    return Resolution("unresolved", None, tied, tuple(steps))


def _own_tie_break(method: str, tied: tuple[str, ...]) -> StepRecord:
    if method == "majority_judgment":
        message = (
            "majority judgment's own tie-break (removing median grades one at a time) "
            "leaves them tied: identical grade distributions"
        )
        return StepRecord("method", tied, "still_tied", None, message)
    message = f"{method} has no tie-break of its own"
    return StepRecord("method", tied, "not_applicable", None, message)


def _runoff(tied: tuple[str, ...], runoff: Result) -> StepRecord:
    if set(runoff.options) != set(tied) or not runoff.ranking:
        raise ValueError(f"the run-off must rank exactly the tied options {tied!r}")
    if runoff.winner is not None:
        message = f"run-off ({runoff.method}, {runoff.turnout} votes): {runoff.winner} wins"
        return StepRecord("runoff", tied, "decided", runoff.winner, message)
    message = f"run-off ({runoff.method}, {runoff.turnout} votes): {', '.join(runoff.tied)} tied"
    return StepRecord("runoff", tied, "still_tied", None, message)


def _lot(tied: tuple[str, ...], seed: str) -> StepRecord:
    draw = draw_lot(seed, tied)
    message = (
        f"draw by lot: SHA-256({draw.text!r}) = {draw.digest}, mod {len(draw.candidates)} "
        f"= {draw.index} → {draw.winner}"
    )
    return StepRecord("lot", tied, "decided", draw.winner, message, draw)

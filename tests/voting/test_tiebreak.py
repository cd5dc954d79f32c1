"""The tie-break chain: run-off, then a reproducible public draw by lot (scenario S21)."""

from __future__ import annotations

import hashlib
import json

import pytest

from agora.plugins.contracts import DecisionRule, Quorum
from agora.voting import (
    Approvals,
    Choice,
    Grades,
    Resolution,
    Result,
    Vote,
    draw_lot,
    resolve,
    tally,
)

RULE = DecisionRule("subject", "majority_judgment", None, Quorum(), ("runoff", "lot"), 30, False)
S21_CHAIN = ("method", "runoff", "lot")
SEED = "drand mainnet round 4242: 8f2c…"  # any public string revealed in front of the plenary


def mj_tie() -> Result:
    """Subjects ``climat`` and ``ecoles`` with identical grade distributions; ``sport`` last."""
    columns = {"climat": [4, 3, 2, 1], "ecoles": [1, 2, 3, 4], "sport": [0, 1, 2, 2]}
    votes = [Vote("drawn", Grades({s: g[i] for s, g in columns.items()})) for i in range(4)]
    return tally("majority_judgment", tuple(columns), votes, RULE)


def approval(options: tuple[str, ...], *ballots: frozenset[str]) -> Result:
    votes = [Vote("drawn", Approvals(ballot)) for ballot in ballots]
    return tally("approval", options, votes, RULE)


def test_s21_tie_then_runoff_still_tied_then_reproducible_lot() -> None:
    result = mj_tie()
    assert result.tied == ("climat", "ecoles")

    first = resolve(result, S21_CHAIN)
    assert (first.status, first.tied) == ("runoff_required", ("climat", "ecoles"))
    assert [(s.step, s.outcome) for s in first.steps] == [("method", "still_tied")]
    assert first.message == "a run-off ballot is required between climat, ecoles"

    options = ("climat", "ecoles")
    runoff = approval(options, frozenset({"climat"}), frozenset({"ecoles"}))
    second = resolve(result, S21_CHAIN, runoff=runoff)
    assert (second.status, second.tied) == ("lot_required", ("climat", "ecoles"))
    assert second.steps[-1].outcome == "still_tied"

    final = resolve(result, S21_CHAIN, runoff=runoff, seed=SEED)
    text = f"{SEED}:climat:ecoles"
    index = int(hashlib.sha256(text.encode()).hexdigest(), 16) % 2
    assert final.status == "decided"
    assert final.winner == options[index]
    assert [(s.step, s.outcome) for s in final.steps] == [
        ("method", "still_tied"),
        ("runoff", "still_tied"),
        ("lot", "decided"),
    ]
    lot = final.steps[-1].lot
    assert lot is not None and (lot.seed, lot.text, lot.index) == (SEED, text, index)
    assert resolve(result, S21_CHAIN, runoff=runoff, seed=SEED) == final
    stored = json.loads(json.dumps(final.to_json()))
    assert stored["steps"][2]["lot"]["winner"] == final.winner
    assert stored["steps"][2]["lot"]["digest"] == hashlib.sha256(text.encode()).hexdigest()
    assert Resolution.from_json(stored) == final
    assert json.loads(json.dumps(Resolution.from_json(stored).to_json())) == stored


def test_the_draw_does_not_depend_on_the_order_of_the_options() -> None:
    assert draw_lot(SEED, ["b", "c", "a"]) == draw_lot(SEED, ("a", "b", "c"))
    winners = {draw_lot(f"seed {n}", ("a", "b", "c")).winner for n in range(30)}
    assert winners == {"a", "b", "c"}


@pytest.mark.parametrize(
    ("seed", "options"), [("", ("a", "b")), (SEED, ("a",)), (SEED, ("a", "a"))]
)
def test_a_draw_needs_a_seed_and_two_distinct_options(seed: str, options: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="draw by lot needs"):
        draw_lot(seed, options)


def test_a_decisive_runoff_ends_the_chain() -> None:
    options = ("climat", "ecoles")
    runoff = approval(options, frozenset({"ecoles"}), frozenset(options))
    resolution = resolve(mj_tie(), S21_CHAIN, runoff=runoff, seed=SEED)
    assert (resolution.status, resolution.winner) == ("decided", "ecoles")
    assert resolution.steps[-1].message == "run-off (approval, 2 votes): ecoles wins"
    assert resolution.message == "decided: ecoles"


def test_a_runoff_may_narrow_the_tie_before_the_lot() -> None:
    result = approval(("a", "b", "c"), frozenset("abc"))
    runoff = approval(("c", "b", "a"), frozenset("ab"))
    resolution = resolve(result, ("runoff", "lot"), runoff=runoff, seed=SEED)
    lot = resolution.steps[-1].lot
    assert lot is not None and lot.candidates == ("a", "b")
    assert resolution.winner in {"a", "b"}


def test_a_tie_with_no_step_left_is_referred_to_the_next_session() -> None:
    result = approval(("a", "b"), frozenset("ab"))
    resolution = resolve(result, ("method",))
    assert (resolution.status, resolution.winner, resolution.tied) == (
        "unresolved",
        None,
        ("a", "b"),
    )
    assert resolution.steps[0].outcome == "not_applicable"
    assert resolution.steps[0].message == "approval has no tie-break of its own"
    assert (
        resolution.message == "tie between a, b unresolved: refer the decision to the next session"
    )
    assert resolve(result, ()).status == "unresolved"


def test_without_a_tie_the_winner_stands() -> None:
    result = approval(("a", "b"), frozenset("a"))
    assert resolve(result, S21_CHAIN) == resolve(result, S21_CHAIN, seed=SEED)
    assert (resolve(result, S21_CHAIN).status, resolve(result, S21_CHAIN).winner) == (
        "decided",
        "a",
    )
    motion = tally("simple_majority", (), [Vote("drawn", Choice("for"))], RULE)
    assert resolve(motion, S21_CHAIN).winner is None


def test_a_runoff_must_be_between_the_tied_options() -> None:
    runoff = approval(("climat", "sport"), frozenset({"climat"}))
    with pytest.raises(ValueError, match="exactly the tied options"):
        resolve(mj_tie(), S21_CHAIN, runoff=runoff)


@pytest.mark.parametrize("chain", [("lot", "coin"), ("lot", "lot"), ("casting_vote",)])
def test_an_invalid_chain_is_refused(chain: tuple[str, ...]) -> None:
    with pytest.raises(ValueError, match="invalid tie-break chain"):
        resolve(mj_tie(), chain)


def test_a_runoff_result_needs_a_runoff_step() -> None:
    runoff = approval(("climat", "ecoles"), frozenset({"climat"}))
    with pytest.raises(ValueError, match="chain has no run-off"):
        resolve(mj_tie(), ("lot",), runoff=runoff)

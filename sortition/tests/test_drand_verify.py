"""A record committed to a drand round: ``verify`` checks the beacon's randomness offline.

The beacon is quicknet's real round 1000 (see ``test_drand_signature`` for where it comes from
and for the BLS signature check itself).
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_sortition import MalformedInput, VerificationFailed, write_pool, write_quotas
from agora_sortition.audit import reveal, verify
from agora_sortition.cli import main
from agora_sortition.randomness import panel_index

ROWS = [(g, a) for g in ("f", "m") for a in ("young", "old", "old")] * 3
BOUNDS = {("g", "f"): (3, 3), ("g", "m"): (3, 3), ("a", "young"): (2, 3), ("a", "old"): (3, 4)}
SIGNATURE = (
    "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125"
    "e342b73a8dd2bacbe47e4b6b63ed5e39"
)
RANDOMNESS = "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd"
BEACON: dict[str, Any] = {"round": 1000, "randomness": RANDOMNESS, "signature": SIGNATURE}


@pytest.fixture
def committed(tmp_path: Path, make: Callable[..., Any]) -> Path:
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    write_pool(tmp_path / "people.csv", pool)
    write_quotas(tmp_path / "features.csv", quotas)
    path = tmp_path / "record.json"
    arguments = ["commit", "--features", str(tmp_path / "features.csv")]
    arguments += ["--people", str(tmp_path / "people.csv"), "--panel-size", "6"]
    arguments += ["--lottery-size", "30", "--drand-round", "1000", "--record", str(path)]
    assert main(arguments) == 0
    return path


def test_reveal_with_the_committed_beacon_verifies(
    committed: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "beacon.json").write_text(json.dumps(BEACON))
    assert main(["reveal", str(committed), "--drand-beacon", str(tmp_path / "beacon.json")]) == 0
    record = json.loads(committed.read_text())
    assert record["commitment"]["drand"] == {"chain": "quicknet", "round": 1000}
    assert record["reveal"]["random_value"] == RANDOMNESS
    assert record["reveal"]["panel_index"] == panel_index(RANDOMNESS, 30)
    capsys.readouterr()
    assert main(["verify", str(committed)]) == 0
    out = capsys.readouterr().out
    assert "ok : la valeur aléatoire est l'aléa de drand quicknet, ronde 1000 (SHA-256" in out
    assert "ok : la signature BLS de drand quicknet, ronde 1000, est valide" in out
    assert main(["verify", str(committed), "--lang", "en"]) == 0
    out = capsys.readouterr().out
    assert "randomness of drand quicknet round 1000, SHA-256 of its signature" in out
    assert "BLS signature of drand quicknet round 1000 verifies" in out


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r["reveal"]["drand"].__setitem__("randomness", "00" * 32),
        lambda r: r["reveal"]["drand"].__setitem__("signature", "b2" * 48),
        lambda r: r["reveal"]["drand"].__setitem__("round", 1001),
        lambda r: r["reveal"].pop("drand"),
    ],
    ids=["randomness", "signature", "round", "no beacon"],
)
def test_tampered_beacon_fails(committed: Path, tamper: Callable[[dict[str, Any]], None]) -> None:
    record = reveal(json.loads(committed.read_text()), beacon=BEACON)
    verify(record)
    changed = copy.deepcopy(record)
    tamper(changed)
    with pytest.raises(VerificationFailed, match="random value"):
        verify(changed)


def test_a_random_value_other_than_the_beacons_fails(committed: Path) -> None:
    # randomness consistent with the beacon, but the panel drawn from another value
    record = reveal(json.loads(committed.read_text()), "some other value")
    record["reveal"]["drand"] = {"chain": "quicknet", **BEACON}
    with pytest.raises(VerificationFailed, match="not the beacon's randomness"):
        verify(record)


def test_reveal_refuses_a_beacon_that_does_not_match(committed: Path) -> None:
    record = json.loads(committed.read_text())
    with pytest.raises(MalformedInput, match="another round"):
        reveal(record, beacon={**BEACON, "round": 999})
    with pytest.raises(MalformedInput, match="not SHA-256 of its signature"):
        reveal(record, beacon={**BEACON, "randomness": "11" * 32})

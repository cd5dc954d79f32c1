"""Commit–reveal records, tamper detection and the command line."""

from __future__ import annotations

import copy
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_sortition import VerificationFailed, write_pool, write_quotas
from agora_sortition.audit import lottery_sha256, packed, reveal, sha256, unpacked, verify
from agora_sortition.randomness import panel_index

ENGINE = Path(__file__).resolve().parents[1]  # the distribution's folder, sortition/
ROWS = [(g, a) for g in ("f", "m") for a in ("young", "old", "old")] * 3
BOUNDS = {("g", "f"): (3, 3), ("g", "m"): (3, 3), ("a", "young"): (2, 3), ("a", "old"): (3, 4)}
DRAND = "647c07b2a1f0a4b0c9f2e3d4c5b6a7980123456789abcdef0123456789abcdef"


def _run(
    *args: str, env_path: str = str(ENGINE), **kwargs: Any
) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=ENGINE,
        env={"PYTHONPATH": env_path, "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
        **kwargs,
    )


@pytest.fixture
def files(tmp_path: Path, make: Callable[..., Any]) -> tuple[Path, Path]:
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    write_pool(tmp_path / "people.csv", pool)
    write_quotas(tmp_path / "features.csv", quotas)
    return tmp_path / "features.csv", tmp_path / "people.csv"


@pytest.fixture
def record(tmp_path: Path, files: tuple[Path, Path]) -> dict[str, Any]:
    features, people = files
    result = _run(
        "-m",
        "agora_sortition",
        "select",
        "--features",
        str(features),
        "--people",
        str(people),
        "--panel-size",
        "6",
        "--random-value",
        DRAND,
        "--lottery-size",
        "100",
        "--json",
        str(tmp_path / "out.json"),
        "--record",
        str(tmp_path / "record.json"),
        "--random-source",
        "drand mainnet round 1234567",
    )
    assert result.returncode == 0, result.stderr
    out = json.loads((tmp_path / "out.json").read_text())
    assert {"algorithm", "panel", "probabilities", "min_probability", "seconds"} <= set(out)
    assert sum(out["probabilities"].values()) == pytest.approx(6)
    data: dict[str, Any] = json.loads((tmp_path / "record.json").read_text())
    assert data["panel"] == out["panel"]
    assert data["reveal"]["panel_index"] == panel_index(DRAND, 100)
    return data


def test_record_verifies(record: dict[str, Any]) -> None:
    assert len(verify(record)) == 5


def test_the_lottery_hashes_as_its_canonical_json(record: dict[str, Any]) -> None:
    lotteries: list[list[list[str]]] = [record["lottery"], [], [[]], [['é"q', "a"], ["b"]]]
    for lottery in lotteries:
        assert lottery_sha256(lottery) == sha256(lottery)
    assert lottery_sha256(record["lottery"]) == record["commitment"]["lottery_sha256"]


def test_a_stored_record_reads_back_as_it_was_and_still_verifies(record: dict[str, Any]) -> None:
    stored = json.loads(json.dumps(packed(record)))
    assert "lottery" not in stored
    assert all(isinstance(at, int) for panel in stored["lottery_positions"] for at in panel)
    assert unpacked(stored) == record
    assert list(unpacked(stored)) == list(record)  # the keys in their order
    assert len(verify(unpacked(stored))) == 5
    assert unpacked({"job": 1}) == packed({"job": 1}) == {"job": 1}


@pytest.mark.parametrize(
    "tamper",
    [
        lambda r: r["pool"]["people"][0].__setitem__(0, "intruder"),
        lambda r: r["lottery"][0].__setitem__(0, r["lottery"][1][-1]),
        lambda r: r["probabilities"].__setitem__(next(iter(r["probabilities"])), 0.9),
        lambda r: r["reveal"].__setitem__("random_value", DRAND[:-1] + "0"),
        lambda r: r["panel"].__setitem__(0, r["reserve"][0]),
        lambda r: r["reserve"].reverse(),
        lambda r: r["commitment"].__setitem__("panel_size", 5),
        lambda r: r["quotas"][0].__setitem__(2, 0),
        lambda r: r["rounding"].__setitem__("exact_min_probability", 0.5),
    ],
    ids=[
        "pool id",
        "lottery id",
        "probability",
        "random value",
        "panel",
        "reserve",
        "commitment",
        "quota",
        "exact minimum reported",
    ],
)
def test_any_tamper_fails(record: dict[str, Any], tamper: Callable[[dict[str, Any]], None]) -> None:
    changed = copy.deepcopy(record)
    tamper(changed)
    with pytest.raises(VerificationFailed):
        verify(changed)


def test_commit_then_reveal_matches_files(
    tmp_path: Path, files: tuple[Path, Path], make: Callable[..., Any]
) -> None:
    features, people = files
    path = tmp_path / "commitment.json"
    result = _run(
        "-m",
        "agora_sortition",
        "commit",
        "--features",
        str(features),
        "--people",
        str(people),
        "--panel-size",
        "6",
        "--lottery-size",
        "50",
        "--record",
        str(path),
    )
    assert result.returncode == 0, result.stderr
    committed = json.loads(path.read_text())
    assert result.stdout.strip() == committed["commitment_sha256"]
    assert committed["panel"] is None
    verify(committed)
    revealed = reveal(committed, DRAND)
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    verify(revealed, pool=pool, quotas=quotas)
    other, _ = make(list(reversed(ROWS)), ("g", "a"), BOUNDS)
    with pytest.raises(VerificationFailed, match="people file"):
        verify(revealed, pool=other)


def test_verify_runs_without_flask_numpy_or_solver(tmp_path: Path, record: dict[str, Any]) -> None:
    # a sitecustomize that makes the platform, the web app and the heavy dependencies unimportable
    blocker = tmp_path / "blocked"
    blocker.mkdir()
    (blocker / "sitecustomize.py").write_text(
        "import sys\nfor name in ('agora', 'flask', 'sqlalchemy', 'numpy', 'highspy'):\n"
        "    sys.modules[name] = None\n"
    )
    path = tmp_path / "record.json"
    path.write_text(json.dumps(record))
    env_path = f"{blocker}:{ENGINE}"
    ok = _run("-m", "agora_sortition", "verify", str(path), env_path=env_path)
    assert ok.returncode == 0, ok.stderr
    assert ok.stdout.rstrip().endswith("vérifié")  # French unless asked otherwise
    record["panel"][0] = record["reserve"][0]
    path.write_text(json.dumps(record))
    bad = _run("-m", "agora_sortition", "verify", str(path), "--lang", "en", env_path=env_path)
    assert bad.returncode == 1
    assert "FAILED" in bad.stderr


def test_cli_reports_errors_as_json(tmp_path: Path, files: tuple[Path, Path]) -> None:
    features, people = files
    args = (
        "select",
        "--features",
        str(features),
        "--people",
        str(people),
        "--panel-size",
        "7",
        "--json",
        str(tmp_path / "o.json"),
    )
    result = _run("-m", "agora_sortition", *args)
    assert result.returncode == 2
    assert result.stderr.startswith("quotas impossibles à respecter")  # French, for people
    assert "Traceback" not in result.stderr
    tools = _run("-m", "agora_sortition", "--json-errors", *args)
    assert tools.returncode == 2
    error = json.loads(tools.stderr.strip().splitlines()[-1])
    assert error["code"] == "infeasible_quotas"

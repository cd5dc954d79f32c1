"""``python -m agora_sortition replace``: a withdrawn member replaced from the record's reserve."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_sortition import VerificationFailed, write_pool, write_quotas
from agora_sortition.audit import current_panel, pool_from_record, quotas_from_record, verify
from agora_sortition.cli import main
from agora_sortition.pool import quota_violations

# three women and six men for a panel of three and three: every woman is always selected
ROWS = [("f", "young"), ("f", "old"), ("f", "old")] + [("m", "young"), ("m", "old")] * 3
BOUNDS = {("g", "f"): (3, 3), ("g", "m"): (3, 3), ("a", "young"): (1, 4), ("a", "old"): (2, 5)}


@pytest.fixture
def record_path(tmp_path: Path, make: Callable[..., Any]) -> Path:
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    write_pool(tmp_path / "people.csv", pool)
    write_quotas(tmp_path / "features.csv", quotas)
    status = main(
        [
            "select",
            "--features",
            str(tmp_path / "features.csv"),
            "--people",
            str(tmp_path / "people.csv"),
            "--panel-size",
            "6",
            "--random-value",
            "drand quicknet round 1000",
            "--lottery-size",
            "20",
            "--json",
            str(tmp_path / "out.json"),
            "--record",
            str(tmp_path / "record.json"),
        ]
    )
    assert status == 0
    return tmp_path / "record.json"


def read(path: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_replace_takes_the_first_reserve_who_fits(
    record_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = read(record_path)
    man = next(p for p in before["panel"] if p in {"p3", "p4", "p5", "p6", "p7", "p8"})
    assert main(["replace", str(record_path), "--withdrawn", man]) == 0
    printed = json.loads(capsys.readouterr().out)
    after = read(record_path)
    pool, _ = pool_from_record(after["pool"])
    fits = [
        p
        for p in before["reserve"]
        if not quota_violations(
            pool,
            quotas_from_record(after["quotas"]),
            [q for q in before["panel"] if q != man] + [p],
        )
    ]
    assert printed["withdrawn"] == man
    assert printed["replacement"] == fits[0]
    assert printed["fitting"] == len(fits)
    assert printed["panel"] == current_panel(after)
    assert after["panel"] == before["panel"]  # the revealed panel stays as drawn
    assert "replacements are the first reserves who fit" in verify(after)


def test_replacements_chain_and_a_forged_one_fails_verification(
    record_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    men = [p for p in read(record_path)["panel"] if p in {"p3", "p4", "p5", "p6", "p7", "p8"}]
    for man in men[:2]:
        assert main(["replace", str(record_path), "--withdrawn", man]) == 0
    record = read(record_path)
    first, second = record["replacements"]
    assert second["replacement"] != first["replacement"]
    assert first["replacement"] in current_panel(record)
    verify(record)
    forged = json.loads(json.dumps(record))
    forged["replacements"][1]["replacement"] = next(
        p for p in record["reserve"] if p not in current_panel(record) and p.startswith("p")
    )
    with pytest.raises(VerificationFailed, match="replacements"):
        verify(forged)


def test_no_fitting_reserve_names_the_quota_then_drift_is_recorded(
    record_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replace", str(record_path), "--withdrawn", "p0"]) == 2
    assert "personne ne peut remplacer 'p0'" in capsys.readouterr().err  # French by default
    assert main(["replace", str(record_path), "--withdrawn", "p0", "--json-errors"]) == 2
    error = json.loads(capsys.readouterr().err.strip().splitlines()[-1])
    assert error["code"] == "no_fitting_replacement"
    assert {"feature": "g", "value": "f", "bound": "min", "limit": 3, "count": 2} in error[
        "params"
    ]["breaking"]
    assert "replacements" not in read(record_path)  # nothing written
    assert main(["replace", str(record_path), "--withdrawn", "p0", "--allow-drift"]) == 0
    done = json.loads(capsys.readouterr().out)
    assert done["breaches"][0]["value"] == "f"
    assert {"feature": "g", "value": "f", "before": 3, "after": 2, "min": 3, "max": 3} in done[
        "drift"
    ]
    verify(read(record_path))


def test_unknown_member_and_unrevealed_record(
    record_path: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["replace", str(record_path), "--withdrawn", "nobody", "--json-errors"]) == 2
    assert json.loads(capsys.readouterr().err)["code"] == "malformed_input"
    committed = {**read(record_path), "reveal": None, "panel": None, "reserve": None}
    (tmp_path / "committed.json").write_text(json.dumps(committed))
    committed_path = str(tmp_path / "committed.json")
    assert main(["--json-errors", "replace", committed_path, "--withdrawn", "p0"]) == 2
    assert "reveal it first" in json.loads(capsys.readouterr().err)["message"]

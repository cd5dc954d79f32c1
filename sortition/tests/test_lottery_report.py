"""The lottery reported honestly, a draw verified against the commitment published before it, and
the legacy method's failure named for what it is."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from agora_sortition import (
    LegacyMethodStuck,
    compile_instance,
    find_leximin,
    legacy,
    legacy_panel,
    lottery,
    round_lottery,
    write_pool,
    write_quotas,
)
from agora_sortition.cli import main
from agora_sortition.messages import render
from agora_sortition.rounding import AUTO, SIZES, TOLERANCE

ROWS = [(g, a) for g in ("f", "m") for a in ("young", "old", "old")] * 5  # 30 people
BOUNDS = {("g", "f"): (3, 4), ("g", "m"): (3, 4), ("a", "young"): (2, 3), ("a", "old"): (4, 5)}


@pytest.fixture
def files(tmp_path: Path, make: Callable[..., Any]) -> list[str]:
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    write_pool(tmp_path / "people.csv", pool)
    write_quotas(tmp_path / "features.csv", quotas)
    return ["--features", str(tmp_path / "features.csv"), "--people", str(tmp_path / "people.csv")]


def test_select_reports_both_minima_and_a_recorded_draw_solves_once(
    tmp_path: Path,
    files: list[str],
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    solved = []

    def counted(*args: Any) -> Any:
        solved.append(args)
        return find_leximin(*args)

    monkeypatch.setattr("agora_sortition.engine.find_leximin", counted)
    out, record = tmp_path / "out.json", tmp_path / "record.json"
    args = ["select", *files, "--panel-size", "7", "--random-value", "R", "--lottery-size", "50"]
    assert main([*args, "--json", str(out), "--record", str(record)]) == 0
    assert len(solved) == 1
    said = capsys.readouterr().out.splitlines()
    data, kept = json.loads(out.read_text()), json.loads(record.read_text())
    rounded = data["lottery"]
    assert rounded["size"] == 50 and rounded["tolerance"] == TOLERANCE
    assert rounded["exact_min_probability"] == pytest.approx(min(data["probabilities"].values()))
    assert rounded["within_tolerance"] == (rounded["max_deviation"] <= TOLERANCE)
    exact = f"{rounded['exact_min_probability']:.4f}".replace(".", ",")
    low = f"{rounded['min_probability']:.4f}".replace(".", ",")
    assert said[0].startswith("Panel de 7 personnes tiré parmi 30 volontaires (leximin) en ")
    assert (
        said[1] == f"Probabilité minimale d'être tiré : {exact} (exacte, calculée par l'optimiseur)"
    )
    assert f"loterie de 50 panels équiprobables : minimum {low} ;" in said[2]
    verdict = (
        "respectée)" if rounded["within_tolerance"] else "NON respectée avec ce --lottery-size"
    )
    assert f"(tolérance 0,0010 : {verdict}" in said[2]
    assert kept["panel"] == data["panel"]
    assert kept["rounding"]["exact_min_probability"] == rounded["exact_min_probability"]
    assert kept["rounding"]["tolerance"] == TOLERANCE


def test_the_lottery_size_is_chosen_within_the_tolerance(
    make: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    distribution = find_leximin(compile_instance(pool, quotas, 7))
    chosen = round_lottery(distribution, AUTO)
    assert chosen.max_deviation <= TOLERANCE or chosen.size == SIZES[-1]
    assert chosen.within_tolerance == (chosen.max_deviation <= TOLERANCE)
    monkeypatch.setattr(lottery, "SIZES", (7, 1000))  # 7 panels cannot be within 0.001
    assert round_lottery(distribution, 7).max_deviation > TOLERANCE
    assert round_lottery(distribution, AUTO).size == 1000
    strict = round_lottery(distribution, AUTO, tolerance=1e-12)
    assert strict.tolerance == 1e-12 and not strict.within_tolerance  # said, not hidden
    assert strict.size == min((7, 1000), key=lambda m: round_lottery(distribution, m).max_deviation)
    monkeypatch.setattr(lottery, "MAX_SEATS", 7 * 999)  # 1000 panels of 7 would be too long
    assert round_lottery(distribution, AUTO).size == 7


def test_verify_refuses_a_record_rebuilt_whole(
    tmp_path: Path, files: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    def record(name: str, size: str) -> tuple[Path, str]:
        path = tmp_path / name
        args = ["commit", *files, "--panel-size", "7", "--lottery-size", size]
        assert main([*args, "--record", str(path)]) == 0
        published = capsys.readouterr().out.strip()
        assert main(["reveal", str(path), "--random-value", "R"]) == 0
        return path, published

    original, published = record("original.json", "30")
    rebuilt, _ = record("rebuilt.json", "40")  # another lottery, its own commitment
    assert main(["verify", str(rebuilt)]) == 0  # consistent in itself...
    capsys.readouterr()
    assert (
        main(["verify", str(rebuilt), "--commitment", published]) == 1
    )  # ...not the one announced
    said = capsys.readouterr()
    recorded = json.loads(rebuilt.read_text())["commitment_sha256"]
    assert said.out.splitlines()[0] == f"Engagement du relevé (SHA-256) : {recorded}"
    assert "vérifié" not in said.out
    assert f"n'est pas celui qui a été publié ({published})" in said.err
    assert said.err.startswith("ÉCHEC : vérification échouée [engagement publié]")
    assert main(["--lang", "en", "verify", str(original), "--commitment", published.upper()]) == 0
    said = capsys.readouterr()
    assert said.out.splitlines()[:3] == [
        f"Commitment of the record (SHA-256): {published}",
        "It is the published commitment.",
        "ok: commitment, the one published",
    ]
    assert said.out.rstrip().endswith("verified")


def test_the_legacy_method_stuck_is_not_called_infeasible(
    make: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    instance = compile_instance(pool, quotas, 7)  # feasible: leximin draws it

    def stuck(*args: object) -> None:
        raise legacy._Stuck

    monkeypatch.setattr(legacy, "_attempt", stuck)
    with pytest.raises(LegacyMethodStuck) as caught:
        legacy_panel(instance, np.random.default_rng(0))
    error = caught.value
    assert error.code == "legacy_method_stuck" and error.params["attempts"] == legacy.MAX_ATTEMPTS
    assert "the quotas are feasible" in str(error)
    assert "les quotas sont pourtant réalisables" in render(error, "fr")
    assert "utilisez leximin ou maximin" in render(error, "fr")

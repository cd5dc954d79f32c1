"""bench/assembly_day.py at a tiny size: its count check catches a lost or doubled vote, and
the whole scenario (locust, headless) runs against the app served here and counts every
vote it sent."""

from __future__ import annotations

import subprocess
import sys
from collections import Counter

import pytest
from flask import Flask

from support.fixtures import ROOT, Database
from support.server import serve

sys.path.insert(0, str(ROOT / "bench"))
from assembly_day import Cast, Stored, count_problems, phase_of

CODES = {"AAAA": 10, "BBBB": 11, "CCCC": 12}


def _stored(voters: list[int], **choices: int) -> Stored:
    return Stored(voters={1: voters}, choices={1: Counter(choices)}, person_of_code=CODES)


def test_the_count_check_passes_only_when_every_acknowledged_vote_is_stored_once() -> None:
    sent = [Cast(1, "AAAA", "for", True), Cast(1, "BBBB", "against", True)]
    assert count_problems(_stored([10, 11], against=1, **{"for": 1}), sent) == []

    lost = [*sent, Cast(1, "CCCC", "for", True)]
    assert count_problems(_stored([10, 11], against=1, **{"for": 1}), lost) == [
        "ballot 1: acknowledged votes of [12] not stored",
        "ballot 1: stored choices {'against': 1, 'for': 1} against acknowledged "
        "{'for': 2, 'against': 1} (+0 unacknowledged stored)",
    ]
    doubled = count_problems(_stored([10, 11], against=1, **{"for": 2}), sent)
    assert "ballot 1: 3 votes stored for 2 voters" in doubled
    registered_twice = count_problems(_stored([10, 10, 11], against=1, **{"for": 2}), sent)
    assert "ballot 1: people [10] registered more than once" in registered_twice
    phantom = count_problems(_stored([10, 11, 12], against=2, **{"for": 1}), sent)
    assert "ballot 1: people [12] registered without voting" in phantom


def test_an_unacknowledged_vote_may_be_stored_once_or_not_at_all() -> None:
    sent = [Cast(1, "AAAA", "for", True), Cast(1, "BBBB", "against", False)]
    assert count_problems(_stored([10], **{"for": 1}), sent) == []
    assert count_problems(_stored([10, 11], against=1, **{"for": 1}), sent) == []


def test_each_request_falls_in_the_part_of_the_day_it_was_sent_in() -> None:
    # Ballots open at 10 s and 40 s, close at 30 s and 55 s.
    opened, closed = [10.0, 40.0], [30.0, 55.0]
    parts = [phase_of(at, opened, closed) for at in (0.5, 9.9, 10.0, 29.9, 30.0, 39.9, 45, 70)]
    assert parts == [
        "arrivals",
        "arrivals",
        "voting",
        "voting",
        "results",
        "results",
        "voting",
        "results",
    ]
    assert phase_of(3.0, [], []) == "arrivals"  # no ballot ever opened


@pytest.mark.slow
def test_a_tiny_assembly_day_runs_and_every_vote_is_counted(
    postgresql_database: Database, app: Flask
) -> None:
    with serve(app) as base:
        completed = subprocess.run(
            [
                *(sys.executable, str(ROOT / "bench" / "assembly_day.py")),
                *("--target", base, "--database-url", postgresql_database.app_url),
                *("--secret-key", app.config["SECRET_KEY"]),
                *("--residents", "4", "--staff", "2", "--ballots", "2", "--communes", "2"),
                *("--public-users", "1", "--public-per-minute", "120", "--vote-spread", "0.5"),
                *("--max-seconds", "90"),
            ],
            capture_output=True,
            text=True,
            timeout=240,
            cwd=ROOT,
        )
    out = completed.stdout
    assert "votes: 8 sent, 8 acknowledged" in out, out + completed.stderr[-3000:]
    assert "every acknowledged vote stored once, no other: PASS" in out, out
    assert "errors: 0 (goal 0: PASS)" in out, out
    assert "public page p95 by part: " in out, out
    table = {line.split()[0] for line in out.splitlines() if line[:1].isalpha()}
    assert {"vote", "check-in", "open/close", "public", "results"} <= table, out

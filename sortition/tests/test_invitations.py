from __future__ import annotations

import csv
from collections import Counter
from pathlib import Path

import pytest

from agora_sortition import MalformedInput, draw_invitations


@pytest.fixture
def register(tmp_path: Path) -> Path:
    """600 electors in 3 neighbourhoods (300/200/100), two per address."""
    path = tmp_path / "register.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "quartier", "address"])
        for i in range(600):
            quartier = "A" if i < 300 else "B" if i < 500 else "C"
            writer.writerow([f"e{i}", f"Name {i}", quartier, f"{i // 2} rue de la Paix"])
    return path


def test_uniform_draw_is_seeded(register: Path) -> None:
    first = draw_invitations(register, 50, seed=3)
    assert len(first.rows) == len(set(first.rows)) == 50
    assert first == draw_invitations(register, 50, seed=3)
    assert first != draw_invitations(register, 50, seed=4)
    assert len(draw_invitations(register, 1000, seed=3).rows) == 600


def test_uniform_draw_is_uniform(register: Path) -> None:
    hits = Counter(
        row[0] for seed in range(300) for row in draw_invitations(register, 60, seed=seed).rows
    )
    # each elector is drawn with probability 0.1: 30 times in 300 draws on average
    assert len(hits) == 600
    assert max(hits.values()) < 60 and min(hits.values()) > 8


def test_proportional_strata_households_and_exclusions(register: Path) -> None:
    drawn = draw_invitations(
        register,
        60,
        seed=1,
        stratify="quartier",
        household_columns=["address"],
        id_column="id",
        exclude={"e0", "e1", "e2"},
    )
    counts = Counter(row[2] for row in drawn.rows)
    assert counts == {"A": 30, "B": 20, "C": 10}
    assert drawn.strata["A"] == (30, 297)  # 297 eligible rows after exclusions
    addresses = [row[3] for row in drawn.rows]
    assert len(addresses) == len(set(addresses))  # one per household
    assert not {"e0", "e1", "e2"} & {row[0] for row in drawn.rows}
    assert drawn == draw_invitations(
        register,
        60,
        seed=1,
        stratify="quartier",
        household_columns=["address"],
        id_column="id",
        exclude={"e0", "e1", "e2"},
    )


def test_household_member_is_uniform(register: Path) -> None:
    seen = Counter(
        row[0]
        for seed in range(200)
        for row in draw_invitations(register, 300, seed=seed, household_columns=["address"]).rows
    )
    # every household is drawn each time; each of its two members about half the time
    assert sum(seen.values()) == 200 * 300
    assert 60 < seen["e10"] < 140


def test_fixed_allocation_and_small_strata(register: Path) -> None:
    drawn = draw_invitations(register, 0, seed=2, stratify="quartier", fixed={"A": 5, "C": 120})
    assert Counter(row[2] for row in drawn.rows) == {"A": 5, "C": 100}
    assert drawn.strata["C"] == (100, 100)


def test_proportional_second_pass(tmp_path: Path) -> None:
    # a stratum holding a tiny share of the 2N smallest priorities still gets its allocation
    path = tmp_path / "r.csv"
    path.write_text(
        "id,s\n" + "".join(f"x{i},{'big' if i < 990 else 'small'}\n" for i in range(1000))
    )
    drawn = draw_invitations(path, 500, seed=5, stratify="s")
    assert Counter(row[1] for row in drawn.rows) == {"big": 495, "small": 5}


def test_errors(register: Path) -> None:
    with pytest.raises(MalformedInput, match="missing column"):
        draw_invitations(register, 5, seed=1, stratify="ward")
    with pytest.raises(MalformedInput, match="needs the id column"):
        draw_invitations(register, 5, seed=1, exclude={"e1"})

"""Stage 1 streamed in chunks or batches: the draw is the one its definition gives, whatever
the chunks, the batches or the way the rows are read."""

from __future__ import annotations

import csv
import random
from collections import Counter, defaultdict
from pathlib import Path

import numpy as np
import pytest

from agora_sortition import MalformedInput, draw_invitations
from agora_sortition import invitations as stage1
from agora_sortition.invitations import _allocate, _Priorities

EXCLUDED = {"e3", "e50", "e51", "e199"}


@pytest.fixture
def register(tmp_path: Path) -> Path:
    """500 electors in name order: 220 addresses of 1 to 4 people, in 3 neighbourhoods."""
    rng = random.Random(7)
    homes = [rng.randrange(220) for _ in range(500)]
    path = tmp_path / "register.csv"
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(["id", "name", "quartier", "address"])
        for i, home in enumerate(homes):
            quartier = "ABC"[home % 3] if home % 17 else "A"
            writer.writerow([f"e{i}", f"Name {i}", quartier, f"{home} rue de la Paix"])
    return path


def by_definition(
    path: Path, count: int, seed: int, fixed: dict[str, int] | None = None
) -> list[tuple[str, ...]]:
    """Per stratum, the households with the smallest priorities, each by its member with the
    smallest secondary priority: the draw computed row by row, without batches."""
    priorities = _Priorities(seed)
    with path.open(newline="") as handle:
        rows = list(csv.reader(handle))[1:]
    units: dict[tuple[str, str], tuple[int, int, list[str]]] = {}
    sizes: Counter[str] = Counter()
    for number, row in enumerate(rows):
        if row[0] in EXCLUDED:
            continue
        sizes[row[2]] += 1
        priority = int(priorities.households([row[3]])[0])
        member = int(priorities.members(np.array([number]))[0])
        unit = units.get((row[2], row[3]))
        if unit is None or member < unit[1]:
            units[(row[2], row[3])] = (priority, member, row)
    allocation = fixed if fixed is not None else _allocate(sizes, count)
    per_stratum: dict[str, list[tuple[int, int, list[str]]]] = defaultdict(list)
    for (stratum, _), unit in units.items():
        per_stratum[stratum].append(unit)
    return [
        tuple(row)
        for stratum in sorted(allocation)
        for _, _, row in sorted(per_stratum[stratum])[: allocation[stratum]]
    ]


@pytest.mark.parametrize(("batch", "chunk"), [(3, 40), (64, 1000), (4096, 1 << 20)])
@pytest.mark.parametrize("direct", [True, False])
def test_streamed_draw_equals_its_definition(
    register: Path, batch: int, chunk: int, direct: bool, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stage1, "BATCH", batch)
    monkeypatch.setattr(stage1, "CHUNK", chunk)
    if not direct:  # every row read by csv.reader, not as bytes
        monkeypatch.setattr(stage1, "_first_line", lambda *args: None)

    def draw(count: int, seed: int, fixed: dict[str, int] | None = None) -> list[tuple[str, ...]]:
        return list(
            draw_invitations(
                register,
                count,
                seed=seed,
                stratify="quartier",
                fixed=fixed,
                household_columns=["address"],
                id_column="id",
                exclude=EXCLUDED,
            ).rows
        )

    for seed in (1, 2, 3):
        assert draw(40, seed) == by_definition(register, 40, seed)
        fixed = {"A": 12, "C": 5}
        assert draw(0, seed, fixed) == by_definition(register, 0, seed, fixed)


def test_one_invitation_per_household_and_strata_sizes(register: Path) -> None:
    drawn = draw_invitations(
        register, 60, seed=4, stratify="quartier", household_columns=["address"]
    )
    addresses = [row[3] for row in drawn.rows]
    assert len(addresses) == len(set(addresses))
    assert sum(size for _, size in drawn.strata.values()) == 500
    assert sum(invited for invited, _ in drawn.strata.values()) == len(drawn.rows) == 60


def test_second_pass_for_a_stratum_of_large_households(tmp_path: Path) -> None:
    # "flats" holds half the rows in 100 homes of 8; the 2N smallest overall hold few of them
    path = tmp_path / "r.csv"
    lines = [f"h{i},houses,house {i}" for i in range(800)]
    lines += [f"f{i},flats,flat {i % 100}" for i in range(800)]
    random.Random(1).shuffle(lines)
    path.write_text("id,s,home\n" + "\n".join(lines) + "\n")
    drawn = draw_invitations(path, 160, seed=5, stratify="s", household_columns=["home"])
    assert Counter(row[1] for row in drawn.rows) == {"houses": 80, "flats": 80}
    assert len({row[2] for row in drawn.rows}) == 160


def test_cells_holding_the_separator_come_back_intact(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,s,note\n" + "".join(f"x{i},s{i % 2},a\x1fb\n" for i in range(50)))
    drawn = draw_invitations(path, 10, seed=1, stratify="s")
    assert {row[2] for row in drawn.rows} == {"a\x1fb"}


def test_a_short_row_is_named(tmp_path: Path) -> None:
    path = tmp_path / "r.csv"
    path.write_text("id,s\nx1,a\nx2\nx3,b\n")
    with pytest.raises(MalformedInput, match="line 3"):
        draw_invitations(path, 1, seed=1, stratify="s")

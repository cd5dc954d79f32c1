"""Stage 1 reads most chunks as bytes: the draw is the one csv.reader's rows give."""

from __future__ import annotations

import csv
import functools
import io
import random
from collections import Counter
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from agora_sortition import MalformedInput, draw_invitations
from agora_sortition import invitations as stage1

Quoting = Literal[0, 1, 2, 3]  # csv.QUOTE_MINIMAL, QUOTE_ALL...
QUARTIERS = ("Nord", "Sud", "Centre-ville historique", "Écluse", "Q")


def write(
    path: Path,
    rows: list[list[str]],
    *,
    encoding: str = "utf-8",
    end: str = "\n",
    quoting: Quoting = csv.QUOTE_MINIMAL,
    sep: str = ",",
) -> Path:
    with path.open("w", newline="", encoding=encoding) as handle:
        writer = csv.writer(handle, lineterminator=end, quoting=quoting, delimiter=sep)
        writer.writerows([["id", "q", "rue", "num", "x"], *rows])
    return path


def register(size: int = 400, seed: int = 1, long_keys: bool = False) -> list[list[str]]:
    """People at 150 addresses (two columns: street and number), strata of 1 to 23 bytes."""
    rng = random.Random(seed)
    rows = []
    for i in range(size):
        home = rng.randrange(150)
        street = f"rue {'Émile-' * (40 if long_keys and home % 5 == 0 else 1)}{home % 7}"
        if home % 11 == 0:
            street += ", bât. B"  # a comma in a quoted cell
        rows.append([f"é{i}" if i % 9 == 0 else f"p{i}", QUARTIERS[home % 5], street, str(home)])
        rows[-1].append(",".join(("x",) * (i % 3)))  # a quoted cell on some lines
    return rows


def multi_line(rows: list[list[str]]) -> list[list[str]]:
    """The rows with a line end in every fourth street (quoted by csv.writer)."""
    return [
        [row[0], row[1], row[2].replace(" ", "\n", 1) if i % 4 == 0 else row[2], *row[3:]]
        for i, row in enumerate(rows)
    ]


def files(folder: Path) -> list[Path]:
    """Registers written in the ways csv allows, and a few it reads though it would not write."""
    plain = [[*row[:4], "y"] for row in register(long_keys=True) if "," not in row[2]]
    quoted = register(long_keys=True)
    written = [
        write(folder / "plain.csv", plain),
        write(folder / "quoted.csv", quoted),
        write(folder / "all-quoted.csv", quoted, quoting=csv.QUOTE_ALL),
        write(folder / "crlf.csv", register(seed=2), end="\r\n"),
        write(folder / "multi-line.csv", multi_line(quoted)),
    ]
    text = written[0].read_bytes()
    odd = {
        "open.csv": text.rstrip(b"\n"),  # no last line end
        "doubled.csv": text.replace(b"\np30,", b'\n"p""30",', 1),  # a quote within a quoted cell
        "lines.csv": text.replace(b"\np41,", b'\n"p\n41",', 1),  # a line end within a cell
        "lone-cr.csv": text.replace(b"\np50,", b"\rp50,", 1),  # an old Mac line end
        "stray.csv": text.replace(b"\np61,", b'\np"61,', 1),  # a quote within an unquoted cell
    }
    for name, content in odd.items():
        assert content != text or name == "open.csv"
        (folder / name).write_bytes(content)
        written.append(folder / name)
    return written


def both(monkeypatch: pytest.MonkeyPatch, draw: Callable[[], Any]) -> tuple[Any, Any]:
    """The draw as made (chunks read as bytes), then with every row read by csv.reader."""
    direct = draw()
    with monkeypatch.context() as patch:
        patch.setattr(stage1, "_first_line", lambda *args: None)
        read = draw()
    return direct, read


OPTIONS: list[dict[str, Any]] = [
    {},  # uniform: Algorithm L, skipping lines as bytes
    {"stratify": "q"},
    {"stratify": "q", "household_columns": ["rue"]},
    {"stratify": "q", "household_columns": ["rue", "num"], "id_column": "id"},
    {"household_columns": ["num"], "id_column": "id"},
    {"id_column": "id"},
    {"stratify": "q", "fixed": {"Nord": 9, "Écluse": 4, "Centre-ville historique": 200}},
]


@pytest.mark.parametrize("chunk", [7, 300, 1 << 20])
@pytest.mark.parametrize("options", OPTIONS)
def test_bytes_and_csv_rows_give_the_same_draw(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, chunk: int, options: dict[str, Any]
) -> None:
    monkeypatch.setattr(stage1, "CHUNK", chunk)
    monkeypatch.setattr(stage1, "BATCH", 16)
    excluded = {"p1", "é9", "p200", "p399", "nobody", "p30", 'p"30'}
    for path in files(tmp_path):
        for seed, count in ((chunk % 5, 30), (2, 500)):

            def draw(path: Path = path, seed: int = seed, count: int = count) -> Any:
                exclude = excluded if "id_column" in options else frozenset()
                return draw_invitations(path, count, seed=seed, exclude=exclude, **options)

            direct, read = both(monkeypatch, draw)
            assert direct == read, path.name
            assert list(direct.strata) == list(read.strata)  # in order of appearance
            if "id_column" in options:
                assert not excluded & {row[0] for row in direct.rows}
            if options.get("household_columns") == ["rue", "num"]:
                homes = [(row[2], row[3]) for row in direct.rows]
                assert len(homes) == len(set(homes))


@pytest.mark.parametrize(
    ("quoting", "sep"), [(csv.QUOTE_MINIMAL, ","), (csv.QUOTE_ALL, ","), (csv.QUOTE_MINIMAL, ";")]
)
def test_a_register_of_quoted_cells_never_reaches_csv_reader(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, quoting: Quoting, sep: str
) -> None:
    rows = multi_line(register())
    if sep != ",":  # a cell holding the separator
        rows = [[*row[:2], row[2].replace(",", sep), *row[3:]] for row in rows]
    path = write(tmp_path / "r.csv", rows, quoting=quoting, end="\r\n", sep=sep)

    def refuse(*args: object) -> None:
        raise AssertionError("csv.reader used")

    original = stage1._layout

    def layout(chunk: bytes, utf8: bool, *, commas: bool, sep: int = 44) -> Any:
        found = original(chunk, utf8, commas=commas, sep=sep)
        assert isinstance(found, stage1._Layout | stage1._Cut)  # a cut: read again from there
        return found

    monkeypatch.setattr(stage1._Scan, "_rows", refuse)
    monkeypatch.setattr(stage1, "_layout", layout)
    monkeypatch.setattr(stage1, "CHUNK", 100)
    for options in OPTIONS:
        exclude = {"p1"} if "id_column" in options else frozenset()
        drawn = draw_invitations(path, 40, seed=1, exclude=exclude, **options)
        assert drawn.rows
        assert any(sep in row[2] for row in drawn.rows)  # quoted cells come back unquoted
        assert any("\n" in row[2] for row in drawn.rows)


def test_a_latin1_register_is_read_as_bytes_while_it_is_ascii(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(stage1, "CHUNK", 64)
    rows = [[f"p{i}", "Nord" if i % 2 else "Sud", f"rue {i % 40}", "1", "y"] for i in range(300)]
    rows[250][1] = "Écluse"  # the chunk holding it is read by csv.reader
    path = write(tmp_path / "latin.csv", rows, encoding="latin-1")

    def draw() -> Any:
        return draw_invitations(
            path, 60, seed=3, stratify="q", household_columns=["rue"], encoding="latin-1"
        )

    direct, read = both(monkeypatch, draw)
    assert direct == read
    assert direct.strata["Écluse"] == (0, 1)


def test_strata_are_uniform_per_household(tmp_path: Path) -> None:
    # 2 strata of 40 and 20 addresses, 1 to 3 people each; 12 invitations, 1 per address
    rows = []
    for home in range(60):
        for person in range(1 + home % 3):
            rows.append([f"p{home}-{person}", "A" if home < 40 else "B", f"r{home}", "1", "y"])
    random.Random(4).shuffle(rows)
    path = write(tmp_path / "r.csv", rows)
    drawn: Counter[str] = Counter()
    for seed in range(400):
        invitations = draw_invitations(
            path, 0, seed=seed, stratify="q", fixed={"A": 8, "B": 4}, household_columns=["rue"]
        )
        homes = [row[2] for row in invitations.rows]
        assert len(set(homes)) == 12
        drawn.update(homes)
    # each address is drawn with probability 8/40 = 4/20 = 0.2: 80 times in 400 draws
    assert len(drawn) == 60
    assert all(45 < n < 120 for n in drawn.values()), drawn


@pytest.mark.parametrize("direct", [True, False])
def test_errors_are_those_of_a_csv_read(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, direct: bool
) -> None:
    if not direct:
        monkeypatch.setattr(stage1, "_first_line", lambda *args: None)
    short = tmp_path / "short.csv"
    short.write_text("id,q,x\n" + "p1,a,1\n" * 50 + "p51\n" + "p52,b,1\n")
    with pytest.raises(MalformedInput, match="line 52"):
        draw_invitations(short, 5, seed=1, stratify="q")
    empty = tmp_path / "empty.csv"
    empty.write_text("id,q\np1,a\n\np3,b\n")
    with pytest.raises(MalformedInput, match="line 3: a row has 0 cells"):
        draw_invitations(empty, 1, seed=1, stratify="id")
    latin = tmp_path / "latin.csv"
    latin.write_bytes(b"id,q\np1,a\np2,\xff\n")  # not UTF-8: read as Windows-1252
    assert draw_invitations(latin, 2, seed=1, stratify="q").strata["ÿ"] == (1, 1)
    invalid = tmp_path / "invalid.csv"
    invalid.write_bytes(b"id,q\np1,a\np2,\x81\n")  # neither UTF-8 nor Windows-1252
    with pytest.raises(MalformedInput, match="line 3: bytes \\(0x81\\) neither UTF-8") as caught:
        draw_invitations(invalid, 1, seed=1, stratify="q")
    assert caught.value.key == "undecodable"
    huge = tmp_path / "huge.csv"
    huge.write_text("id,q\np1,a\np2," + "b" * 200_000 + "\n")
    with pytest.raises(MalformedInput, match=r"line 3: .*field larger than field limit") as caught:
        draw_invitations(huge, 1, seed=1, stratify="q")
    assert caught.value.key == "cell_too_long"
    header_only = tmp_path / "header.csv"
    header_only.write_text("id,q\n")
    assert draw_invitations(header_only, 3, seed=1, stratify="q").rows == ()


CELL = st.text(st.sampled_from(["a", "é", "Q", " ", ",", '"', "\n", "\r", "1"]), max_size=6)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["A", "Bé", "Centre-ville"]), CELL, CELL), max_size=30),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    end=st.sampled_from(["\n", "\r\n"]),
    damage=st.lists(
        st.tuples(st.integers(0, 10**4), st.sampled_from(['"', '""', 'a"b"', "\r", "\n", ","]))
    ),
    chunk=st.sampled_from([4, 25, 1 << 20]),
    options=st.sampled_from(OPTIONS[:5]),
    seed=st.integers(0, 9),
)
def test_any_register_gives_the_draw_or_the_error_of_csv_rows(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    rows: list[tuple[str, str, str]],
    quoting: Quoting,
    end: str,
    damage: list[tuple[int, str]],
    chunk: int,
    options: dict[str, Any],
    seed: int,
) -> None:
    out = io.StringIO()
    writer = csv.writer(out, quoting=quoting, lineterminator=end)
    writer.writerows([["id", "q", "rue", "num", "x"]])
    writer.writerows([[f"p{i}", q, a, b, "y"] for i, (q, a, b) in enumerate(rows)])
    text = out.getvalue()
    for at, mark in damage:  # what csv.writer would not write, though csv.reader reads it
        at = 16 + at % max(1, len(text) - 15)
        text = text[:at] + mark + text[at:]
    path = tmp_path / "r.csv"
    path.write_bytes(text.encode())
    monkeypatch.setattr(stage1, "CHUNK", chunk)
    monkeypatch.setattr(stage1, "BATCH", 3)

    def draw() -> Any:
        exclude = {"p1", "p3"} if "id_column" in options else frozenset()
        try:
            return draw_invitations(path, 5, seed=seed, exclude=exclude, **options)
        except MalformedInput as error:
            return str(error)
        except csv.Error as error:
            return type(error)

    direct, read = both(monkeypatch, draw)
    assert direct == read


def test_a_long_exclusion_list(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    rows = [[f"p{i}", "AB"[i % 2], f"rue {i // 3}", "1", "y"] for i in range(3000)]
    path = write(tmp_path / "r.csv", rows)
    excluded = {f"p{i}" for i in range(0, 3000, 3)} | {f"absent{i}" for i in range(50_000)}

    def draw() -> Any:
        return draw_invitations(
            path,
            300,
            seed=4,
            stratify="q",
            household_columns=["rue"],
            id_column="id",
            exclude=excluded,
        )

    direct, read = both(monkeypatch, draw)
    assert direct == read
    assert direct.strata == {"A": (150, 1000), "B": (150, 1000)}
    assert not excluded & {row[0] for row in direct.rows}


@pytest.mark.parametrize(
    ("sep", "encoding"), [(";", "cp1252"), ("\t", "utf-8"), (";", "utf-8-sig")]
)
@pytest.mark.parametrize("chunk", [64, 1 << 20])
def test_other_separators_and_encodings_draw_as_the_comma_utf8_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, sep: str, encoding: str, chunk: int
) -> None:
    monkeypatch.setattr(stage1, "CHUNK", chunk)
    written = files(tmp_path)
    for path in (written[1], written[3], written[4]):  # quoted cells, CRLF, cells of lines
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.reader(handle))
        other = tmp_path / f"{path.stem}-other.csv"
        with other.open("w", newline="", encoding=encoding) as handle:
            csv.writer(handle, delimiter=sep, lineterminator="\r\n").writerows(rows)
        for options in (OPTIONS[0], OPTIONS[3], OPTIONS[6]):
            exclude = {"p1", "é9"} if "id_column" in options else frozenset()

            def draw(
                source: Path, options: dict[str, Any] = options, exclude: Any = exclude
            ) -> Any:
                return draw_invitations(source, 40, seed=3, exclude=exclude, **options)

            direct, read = both(monkeypatch, functools.partial(draw, other))
            assert direct == read == draw(path), (path.name, options)

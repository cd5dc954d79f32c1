"""The draw sources read a register by batches of entries, column by column: the same entries,
line numbers and faults as one row at a time (the first faulty row of the file is the one
refused), for small files, files of several batches, and the volunteers' spreadsheets."""

from __future__ import annotations

import csv
import random
import re
import zipfile
from collections.abc import Iterable, Sequence
from dataclasses import fields
from datetime import date
from pathlib import Path
from types import SimpleNamespace
from typing import Any, cast
from xml.sax.saxutils import escape

import pytest

from agora.plugins.contracts import (
    BATCH_SIZE,
    CommuneSettings,
    RegisterBatch,
    RegisterFormatError,
)
from agora_draw_sources import address_file, electoral_roll, generic_csv, volunteers
from agora_draw_sources.reader import CsvRegister

ROLL = electoral_roll.DEFAULTS
#: The electoral roll with the gender feature, as a commune's settings add it.
ROLL_GENDER = CsvRegister.configured(ROLL, {"feature_columns": {"gender": "sexe"}})
HEADER = "ine;nom;prenoms;adresse;code_postal;bureau_de_vote;date_naissance;sexe"
GOOD = "1001;Martin;Léa;12 rue de la Paix;86000;1;12/03/1980;F"


def _write(path: Path, lines: Iterable[str], encoding: str = "utf-8") -> Path:
    path.write_bytes(("\r\n".join(lines) + "\r\n").encode(encoding))
    return path


def _columns(batches: Iterable[RegisterBatch]) -> dict[str, list[Any]]:
    """The batches' columns end to end (``features`` and ``attributes`` flattened)."""
    joined: dict[str, list[Any]] = {}
    for batch in batches:
        assert 0 < len(batch) <= BATCH_SIZE
        for column in fields(RegisterBatch):
            value = getattr(batch, column.name)
            if isinstance(value, dict):
                for name, values in value.items():
                    assert len(values) == len(batch)
                    joined.setdefault(f"{column.name}.{name}", []).extend(values)
            elif value is None:
                joined.setdefault(column.name, []).extend([None] * len(batch))
            else:
                assert len(value) == len(batch)
                joined.setdefault(column.name, []).extend(value)
    return joined


def _fault(source: CsvRegister, path: Path) -> RegisterFormatError:
    with pytest.raises(RegisterFormatError) as raised:
        for _batch in source.read_batches(path):
            pass
    return raised.value


# --- small files, written by hand -------------------------------------------------------------


def test_a_small_roll_gives_its_entries_stripped_and_normalised(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "roll.csv",
        [
            HEADER,
            " 1001 ; Martin ;Léa;12  Rue de la PAIX ; 86000 ; 1 ;12/03/1980; F ",
            "1002;Martin;Paul;12 rue de la paix;86000;1;1978-07-01;M",
            "",
            "1003;Durand;Zoé;\t3 Place du\tMarché;86000;2; 1.2.1999 ;F",
            "   ",
            "1004;STRAUẞ;Jules;8 Straße Carnot;86 000;2;31-12-2001;M",
            "1005;Élu;Marc;ÉCOLE  ;86000;3;04/05-1966;M",
        ],
    )
    batches = list(ROLL_GENDER.read_batches(path))
    assert len(batches) == 1
    batch = batches[0]
    assert list(batch.lines) == [2, 3, 5, 7, 8]
    assert list(batch.person_keys) == ["1001", "1002", "1003", "1004", "1005"]
    assert list(batch.household_keys) == [
        "12 rue de la paix | 86000",
        "12 rue de la paix | 86000",
        "3 place du marché | 86000",
        "8 strasse carnot | 86 000",
        "école | 86000",
    ]
    assert list(batch.strata) == ["1", "1", "2", "2", "3"]
    assert list(batch.birth_dates or ()) == [
        date(1980, 3, 12),
        date(1978, 7, 1),
        date(1999, 2, 1),
        date(2001, 12, 31),
        date(1966, 5, 4),
    ]
    assert {f: list(v) for f, v in batch.features.items()} == {"gender": ["F", "M", "F", "M", "M"]}
    assert {a: list(v) for a, v in batch.attributes.items()} == {
        "nom": ["Martin", "Martin", "Durand", "STRAUẞ", "Élu"],
        "prenoms": ["Léa", "Paul", "Zoé", "Jules", "Marc"],
        "adresse": [
            "12  Rue de la PAIX",
            "12 rue de la paix",
            "3 Place du\tMarché",
            "8 Straße Carnot",
            "ÉCOLE",
        ],
        "code_postal": ["86000", "86000", "86000", "86 000", "86000"],
    }


def test_tidy_values_are_read_alike(tmp_path: Path) -> None:
    """Values with no whitespace to tidy (the common case), in Latin-1 text, with dates all
    written one way, then all the other."""
    path = _write(
        tmp_path / "roll.csv",
        [
            "ine;nom;prenoms;adresse;code_postal;bureau_de_vote;date_naissance",
            "A1;GARCIA;Inès;176 Rue Saint-Laurent;38000;98;03/08/2004",
            "A2;RICHARD;Olivier;176 rue de la République;38000;195;17.02.1944",
            "A3;Muñoz;Ana;4 Allée des Érables;38100;7;29-02-2000",
            "A4;Müller;Jörg;1 PLACE DU MARCHÉ;38100;7;01/01/1900",
        ],
        encoding="cp1252",
    )
    batch = _columns(ROLL.read_batches(path))
    assert batch["household_keys"] == [
        "176 rue saint-laurent | 38000",
        "176 rue de la république | 38000",
        "4 allée des érables | 38100",
        "1 place du marché | 38100",
    ]
    assert batch["birth_dates"] == [
        date(2004, 8, 3),
        date(1944, 2, 17),
        date(2000, 2, 29),
        date(1900, 1, 1),
    ]
    assert batch["lines"] == [2, 3, 4, 5]
    iso = _write(
        tmp_path / "iso.csv",
        [
            "ine;nom;prenoms;adresse;code_postal;bureau_de_vote;date_naissance",
            "B1;Petit;Jules;8 rue Carnot;86000;2;2020-01-01",
            "B2;Petit;Lou;8 rue Carnot;86000;2;1999-11-30",
        ],
    )
    assert _columns(ROLL.read_batches(iso))["birth_dates"] == [date(2020, 1, 1), date(1999, 11, 30)]


def test_an_address_file_keys_households_by_the_address_id(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "adresses.csv",
        [
            "id;numero;rep;nom_voie;code_postal;quartier",
            "86194_0010_00012;12;;Rue Carnot;86000;Centre",
            " 86194_0010_00012B ;12;bis; Rue  Carnot ;86000; Centre ",
            "86194_ABC;1;;Place du Marché;86000;Gare",
        ],
    )
    batch = _columns(address_file.DEFAULTS.read_batches(path))
    assert batch["person_keys"] == ["86194_0010_00012", "86194_0010_00012B", "86194_ABC"]
    assert batch["household_keys"] == ["86194_0010_00012", "86194_0010_00012b", "86194_abc"]
    assert batch["strata"] == ["Centre", "Centre", "Gare"]
    assert batch["birth_dates"] == [None, None, None]
    assert batch["attributes.rep"] == ["", "bis", ""]
    assert batch["attributes.nom_voie"] == ["Rue Carnot", "Rue  Carnot", "Place du Marché"]


def test_a_generic_csv_reads_the_columns_mapped_for_the_file(tmp_path: Path) -> None:
    header = ["Identifiant", "Nom", "Rue", "CP", "Quartier", "Naissance", "Genre"]
    path = _write(
        tmp_path / "jeunes.csv",
        [
            ";".join(header),
            "J0001;Nom1;1 RUE Carnot;86000;centre;02/03/2009;M",
            "J0002;Nom2; 2 rue Carnot;86000;gare;2009-03-04;F",
        ],
    )
    # The plugin's source, as a commune's settings give it (a label and a channel only).
    settings = SimpleNamespace(plugin_settings=lambda _: {"label": "jeunes", "channel": "letter"})
    (proposed,) = generic_csv.agora_draw_source(cast(CommuneSettings, settings))
    assert proposed.headers(path) == header
    source = proposed.mapped(
        {
            "person": ["Identifiant"],
            "household": ["Rue", "CP"],
            "stratum": ["Quartier"],
            "birth_date": ["Naissance"],
            "gender": ["Genre"],
            "attributes": ["Nom"],
        }
    )
    batch = _columns(source.read_batches(path))
    assert batch == {
        "lines": [2, 3],
        "person_keys": ["J0001", "J0002"],
        "household_keys": ["1 rue carnot | 86000", "2 rue carnot | 86000"],
        "strata": ["centre", "gare"],
        "birth_dates": [date(2009, 3, 2), date(2009, 3, 4)],
        "features.gender": ["M", "F"],
        "attributes.Nom": ["Nom1", "Nom2"],
    }


def test_without_a_stratum_nor_dates_the_columns_are_empty(tmp_path: Path) -> None:
    path = _write(tmp_path / "v.csv", ["id;nom;prenom;courriel;telephone", "V1;A;B;a@b.fr;06"])
    (batch,) = volunteers.DEFAULTS.read_batches(path)
    assert list(batch.strata) == [""]
    assert batch.birth_dates is None
    assert batch.features == {}


def test_an_empty_file_or_missing_columns_are_refused(tmp_path: Path) -> None:
    empty = tmp_path / "empty.csv"
    empty.write_bytes(b"")
    assert _fault(ROLL, empty).code == "empty_file"
    blank = _write(tmp_path / "blank.csv", ["", ""])
    assert _fault(ROLL, blank).code == "empty_file"
    missing = _write(tmp_path / "missing.csv", ["ine;nom;prenoms;adresse", "1;a;b;c"])
    fault = _fault(ROLL, missing)
    assert (fault.code, fault.line) == ("missing_columns", 1)
    assert fault.params["columns"] == "code_postal, bureau_de_vote, date_naissance"


def test_a_file_of_blank_lines_after_its_header_has_no_batch(tmp_path: Path) -> None:
    path = _write(tmp_path / "roll.csv", [HEADER, "", "  ", ""])
    assert list(ROLL.read_batches(path)) == []


# --- faults ---------------------------------------------------------------------------------

FAULTS = {
    "field_count": (
        "1002;Martin;Paul;12 rue de la Paix;86000;1;01/07/1978",
        ("field_count", None, {"found": "7", "expected": "8"}),
    ),
    "empty_identifier": (
        " ;Martin;Paul;12 rue de la Paix;86000;1;01/07/1978;M",
        ("empty_identifier", "ine", {"detail": "empty identifier"}),
    ),
    "empty_address": (
        "1002;Martin;Paul; ;;1;01/07/1978;M",
        ("empty_address", "adresse, code_postal", {"detail": "empty address"}),
    ),
    "address_of_bars": (
        "1002;Martin;Paul;|;| ;1;01/07/1978;M",
        ("empty_address", "adresse, code_postal", {"detail": "empty address"}),
    ),
    "address_of_bars_tidy": (
        "1002;Martin;Paul;|;|;1;01/07/1978;M",
        ("empty_address", "adresse, code_postal", {"detail": "empty address"}),
    ),
    "unreadable_date": (
        "1002;Martin;Paul;12 rue de la Paix;86000;1; 31/02/1978 ;M",
        ("unreadable_date", "date_naissance", {"value": "31/02/1978"}),
    ),
    "unreadable_date_separators": (
        "1002;Martin;Paul;12 rue de la Paix;86000;1;01 07 1978;M",
        ("unreadable_date", "date_naissance", {"value": "01 07 1978"}),
    ),
    "unreadable_date_text": (
        "1002;Martin;Paul;12 rue de la Paix;86000;1;inconnue;M",
        ("unreadable_date", "date_naissance", {"value": "inconnue"}),
    ),
}


@pytest.mark.parametrize("kind", sorted(FAULTS))
def test_each_fault_is_refused_with_its_code_line_and_column(tmp_path: Path, kind: str) -> None:
    row, (code, column, params) = FAULTS[kind]
    path = _write(
        tmp_path / "roll.csv", [HEADER, GOOD, "", GOOD.replace("1001", "1003"), row, GOOD]
    )
    fault = _fault(ROLL_GENDER, path)
    assert (fault.code, fault.line, fault.column, dict(fault.params)) == (code, 5, column, params)


def test_an_address_file_refuses_an_address_of_bars(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "adresses.csv",
        ["id;numero;rep;nom_voie;code_postal;quartier", "A;1;;r;86000;c", "|;2;;r;86000;c"],
    )
    fault = _fault(address_file.DEFAULTS, path)
    assert (fault.code, fault.line, fault.column) == ("empty_address", 3, "id")


def test_an_address_with_bars_and_more_is_no_fault(tmp_path: Path) -> None:
    path = _write(tmp_path / "roll.csv", [HEADER, "1;A;B;|;86000;1;01/01/1990;F", GOOD])
    assert _columns(ROLL.read_batches(path))["household_keys"] == [
        "| | 86000",
        "12 rue de la paix | 86000",
    ]


@pytest.mark.parametrize(
    ("row", "code"),
    [
        # every check fails: the field count is checked first, then the identifier…
        (" ;Martin;Paul; ; ;1;inconnue", "field_count"),
        (" ;Martin;Paul; ; ;1;inconnue;M", "empty_identifier"),
        ("1002;Martin;Paul; ; ;1;inconnue;M", "empty_address"),
        ("1002;Martin;Paul;|;|;1;inconnue;M", "empty_address"),
        ("1002;Martin;Paul;1 rue;86000;1;inconnue;M", "unreadable_date"),
    ],
)
def test_within_a_row_the_checks_run_in_order(tmp_path: Path, row: str, code: str) -> None:
    path = _write(tmp_path / "roll.csv", [HEADER, GOOD, row])
    fault = _fault(ROLL, path)
    assert (fault.code, fault.line) == (code, 3)


@pytest.mark.parametrize(
    ("first", "second", "distance"),
    [
        ("unreadable_date", "field_count", 1),
        ("empty_address", "empty_identifier", 3),
        ("field_count", "unreadable_date", 1),
        ("address_of_bars_tidy", "unreadable_date", 2),
        ("unreadable_date", "empty_identifier", 900),
        ("empty_identifier", "field_count", 19_000),
    ],
)
def test_of_two_faults_the_earlier_row_is_refused(
    tmp_path: Path, first: str, second: str, distance: int
) -> None:
    lines = [HEADER] + [GOOD.replace("1001", str(10_000 + n)) for n in range(20_100)]
    lines[40] = FAULTS[first][0]
    lines[40 + distance] = FAULTS[second][0]
    fault = _fault(ROLL_GENDER, _write(tmp_path / "roll.csv", lines))
    code, column, _params = FAULTS[first][1]
    assert (fault.code, fault.line, fault.column) == (code, 41, column)


def test_a_fault_before_a_malformed_line_is_refused_first(tmp_path: Path) -> None:
    malformed = '1009;"Mar"tin;Paul;1 rue;86000;1;01/01/1990;M'
    path = _write(tmp_path / "roll.csv", [HEADER, GOOD, FAULTS["empty_identifier"][0], malformed])
    fault = _fault(ROLL_GENDER, path)
    assert (fault.code, fault.line) == ("empty_identifier", 3)
    path = _write(tmp_path / "roll.csv", [HEADER, GOOD, malformed, FAULTS["empty_identifier"][0]])
    assert _fault(ROLL_GENDER, path).code == "malformed"


# --- files of several batches ---------------------------------------------------------------


def _reference_date(raw: str) -> date | None:
    found = re.fullmatch(
        r"(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})|(\d{4})-(\d{2})-(\d{2})", raw.strip()
    )
    if found is None:
        return None
    day, month, year = found.group(1, 2, 3) if found.group(1) else found.group(6, 5, 4)
    try:
        return date(int(year), int(month), int(day))
    except ValueError:
        return None


def _reference(path: Path, source: CsvRegister) -> dict[str, list[Any]]:
    """The columns computed one row at a time, as the reader did before batches."""
    with path.open(newline="", encoding="utf-8") as stream:
        rows = list(enumerate(csv.reader(stream, delimiter=";"), start=1))
    names = [name.strip() for name in rows[0][1]]
    at = {name: names.index(name) for name in names}
    expected: dict[str, list[Any]] = {}

    def add(column: str, value: Any) -> None:
        expected.setdefault(column, []).append(value)

    for line, row in rows[1:]:
        if not row or (len(row) == 1 and not row[0].strip()):
            continue
        add("lines", line)
        add("person_keys", row[at[source.person_column]].strip())
        add(
            "household_keys",
            " | ".join(
                " ".join(row[at[name]].casefold().split()) for name in source.household_columns
            ),
        )
        add("strata", row[at[source.stratum_column]].strip() if source.stratum_column else "")
        birth = source.birth_date_column
        add("birth_dates", _reference_date(row[at[birth]]) if birth else None)
        for feature, name in source.feature_columns.items():
            add(f"features.{feature}", row[at[name]].strip())
        for name in source.attribute_columns:
            add(f"attributes.{name}", row[at[name]].strip())
    return expected


#: Addresses whose whitespace or letters a household key tidies or folds in its own way.
ODD_ADDRESSES = [
    " 3 rue Haute",
    "3 rue Haute ",
    "3  rue Haute",
    "3\true Haute",
    "3\u00a0rue Haute",
    '"3 rue\nHaute"',  # quoted: a new line within the value
    "Straße",
    "Grand'Rue µ",
    "Cœur de Ville",
    "İSTANBUL",
    "a¦b",
    "x | y",
    "|",
    "ǅ ΣΑΣ",
]
#: Dates as parse_date reads them, besides dd/mm/yyyy.
ODD_DATES = ["3/8/2004", " 03/08/2004", "03.08-2004", "2004-08-03", "٠٣/٠٨/٢٠٠٤", "1/12/1950 "]


def _big_roll(path: Path, rows: int, seed: int = 7, fault_at: int | None = None) -> Path:
    """A roll of ``rows`` people (utf-8, ``;``), some values written oddly, a few blank
    lines; the row ``fault_at`` (counted from 0) without its identifier."""
    rng = random.Random(seed)
    streets = ["rue de la Paix", "Avenue Jean Jaurès", "place du Marché", "Allée des Érables"]
    lines = [HEADER]
    iso_run = False
    for n in range(rows):
        if n % 1000 == 0:
            iso_run = rng.random() < 0.2  # some stretches with ISO dates only
        born = date(1930, 1, 1).toordinal() + rng.randrange(80 * 365)
        birth = date.fromordinal(born)
        written = birth.isoformat() if iso_run else f"{birth:%d/%m/%Y}"
        if rng.random() < 0.001:
            written = rng.choice(ODD_DATES)
        address = f"{rng.randint(1, 99)} {rng.choice(streets)}"
        if rng.random() < 0.002:
            address = rng.choice(ODD_ADDRESSES)
        postcode = rng.choice(["86000", "86100", "86 000"])
        if rng.random() < 0.001:
            postcode = rng.choice(["86000 ", " 86000", "", "|"])
        person = "" if n == fault_at else f" P{n:06d}" if rng.random() < 0.01 else f"P{n:06d}"
        name = rng.choice(["MARTIN", "Durand ", "Zoé", '"Le\nGoff"'])
        sex = rng.choice("FM")
        lines.append(f"{person};{name};Prénom;{address};{postcode};{n % 37};{written};{sex}")
        if rng.random() < 0.0005:
            lines.append(rng.choice(["", "  ", "\t"]))
    return _write(path, lines)


#: Two batches and a quarter.
SEVERAL = 2 * BATCH_SIZE + BATCH_SIZE // 4


def test_a_file_of_several_batches_gives_the_same_columns_as_row_by_row(tmp_path: Path) -> None:
    path = _big_roll(tmp_path / "roll.csv", SEVERAL)
    batches = list(ROLL_GENDER.read_batches(path))
    assert len(batches) == 3
    assert sum(map(len, batches)) == SEVERAL
    got, expected = _columns(batches), _reference(path, ROLL_GENDER)
    assert expected["lines"][-1] > SEVERAL + 1  # blank lines were met
    assert got.keys() == expected.keys()
    for column, values in expected.items():
        assert got[column] == values, column
    assert len(set(got["household_keys"])) > 400


def test_a_fault_in_the_second_batch_names_its_line(tmp_path: Path) -> None:
    path = _big_roll(tmp_path / "roll.csv", SEVERAL, fault_at=BATCH_SIZE + BATCH_SIZE // 2)
    expected = _reference(path, ROLL)
    line = next(
        line for line, person in zip(expected["lines"], expected["person_keys"], strict=True)
        if not person
    )  # fmt: skip
    batches = ROLL.read_batches(path)
    assert len(next(batches)) > BATCH_SIZE - 100
    fault = _fault_of(batches)
    assert (fault.code, fault.line, fault.column) == ("empty_identifier", line, "ine")
    assert line > BATCH_SIZE + 1


def _fault_of(batches: Iterable[RegisterBatch]) -> RegisterFormatError:
    with pytest.raises(RegisterFormatError) as raised:
        for _batch in batches:
            pass
    return raised.value


# --- the volunteers' spreadsheet --------------------------------------------------------------

_ODS_CONTENT = (
    '<?xml version="1.0" encoding="UTF-8"?>'
    '<office:document-content xmlns:office="urn:oasis:names:tc:opendocument:xmlns:office:1.0"'
    ' xmlns:table="urn:oasis:names:tc:opendocument:xmlns:table:1.0"'
    ' xmlns:text="urn:oasis:names:tc:opendocument:xmlns:text:1.0" office:version="1.2">'
    "<office:body><office:spreadsheet>"
    '<table:table table:name="Volontaires">{rows}</table:table>'
    '<table:table table:name="Autre"><table:table-row><table:table-cell>'
    "<text:p>ignored</text:p></table:table-cell></table:table-row></table:table>"
    "</office:spreadsheet></office:body></office:document-content>"
)


def _ods_row(cells: Sequence[str], repeated: int = 1) -> str:
    xml = "".join(
        f'<table:table-cell office:value-type="string"><text:p>{escape(cell)}</text:p>'
        "</table:table-cell>"
        if cell
        else "<table:table-cell/>"
        for cell in cells
    )
    repeat = f' table:number-rows-repeated="{repeated}"' if repeated > 1 else ""
    return f"<table:table-row{repeat}>{xml}</table:table-row>"


def test_a_volunteers_spreadsheet_is_read_by_batches(tmp_path: Path) -> None:
    rows = [
        _ods_row(["id", "nom", "prenom", "courriel", "telephone"]),
        _ods_row(["V1", "Martin", "Léa", "lea@example.org", "0601"]),
        _ods_row(["", "", "", "", ""], repeated=3),  # empty rows: lines 3 to 5
        _ods_row([" V2 ", "Durand", "Zoé", "zoe@example.org", "0602"]),
        _ods_row(["V3", "Petit", "Jules", "", "0603"], repeated=2),
    ]
    path = tmp_path / "volontaires.ods"
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("mimetype", "application/vnd.oasis.opendocument.spreadsheet")
        archive.writestr("content.xml", _ODS_CONTENT.format(rows="".join(rows)))
    batch = _columns(volunteers.DEFAULTS.read_batches(path))
    assert batch == {
        "lines": [2, 6, 7, 8],
        "person_keys": ["V1", "V2", "V3", "V3"],
        "household_keys": ["v1", "v2", "v3", "v3"],
        "strata": ["", "", "", ""],
        "birth_dates": [None, None, None, None],
        "attributes.nom": ["Martin", "Durand", "Petit", "Petit"],
        "attributes.prenom": ["Léa", "Zoé", "Jules", "Jules"],
        "attributes.courriel": ["lea@example.org", "zoe@example.org", "", ""],
        "attributes.telephone": ["0601", "0602", "0603", "0603"],
    }


def test_entries_read_one_by_one_are_batched_without_inventing_a_feature() -> None:
    """A list of members (nested draws) whose profiles differ (a pool of 16–17-year-olds has
    no age) is given in batches of entries that share their features: none gets an empty
    one, which the import would refuse as an unknown value."""
    from agora.plugins.contracts import RegisterEntry, entry_batches

    def entry(line: int, **features: str) -> RegisterEntry:
        return RegisterEntry(f"p{line}", f"h{line}", "", {"nom": "X"}, line, None, features)

    entries = [
        entry(1, gender="F", age="18-24"),
        entry(2, gender="M", age="65+"),
        entry(3, gender="F"),
        entry(4, gender="M", age="25-34"),
    ]
    batches = list(entry_batches(entries, size=3))
    assert [list(b.lines) for b in batches] == [[1, 2], [3], [4]]
    assert [dict(b.features) for b in batches] == [
        {"gender": ["F", "M"], "age": ["18-24", "65+"]},
        {"gender": ["F"]},
        {"gender": ["M"], "age": ["25-34"]},
    ]
    assert all(b.birth_dates is None and b.attributes == {"nom": ["X"] * len(b)} for b in batches)
    assert [len(b) for b in entry_batches([entry(n, gender="F") for n in range(7)], size=3)] == [
        3,
        3,
        1,
    ]

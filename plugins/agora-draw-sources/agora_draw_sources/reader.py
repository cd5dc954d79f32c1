"""Streaming readers shared by the register plugins: delimited text, and ODS spreadsheets.

A text file's encoding and separator are those the commune's settings pin, else they are
sniffed as the sortition engine sniffs its own files (``agora_sortition.tables``: UTF-8 with or
without BOM, UTF-16 with BOM, Windows-1252; ``,``, ``;`` or tab): a file saved by French Excel
or by registry software is read as it comes; one that cannot be read is refused with its line
and the probable cause. Entries are given by batches, worked out a column at a time
(:meth:`CsvRegister.read_batches`).
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
import zipfile
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from datetime import date
from itertools import count, islice, repeat
from operator import itemgetter
from pathlib import Path
from typing import IO, Any, Self
from xml.etree import ElementTree

from agora.plugins.contracts import BATCH_SIZE, RegisterBatch, RegisterFormatError
from agora_sortition import MalformedInput, sniff

#: Settings every register plugin accepts (each plugin adds its own defaults).
CSV_SETTINGS_PROPERTIES: dict[str, Any] = {
    # The name sub-draws give this source (unique in the commune).
    "source": {"type": "string", "pattern": "^[a-z][a-z0-9_]{0,39}$"},
    "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
    "encoding": {"enum": ["utf-8", "utf-8-sig", "latin-1", "cp1252"]},
    "person_column": {"type": "string", "minLength": 1},
    "household_columns": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "stratum_column": {"type": "string", "minLength": 1},
    "birth_date_column": {"type": "string", "minLength": 1},
    # quota feature → the column holding it (e.g. {gender = "sexe"}).
    "feature_columns": {"type": "object", "additionalProperties": {"type": "string"}},
    "attribute_columns": {"type": "array", "items": {"type": "string"}},
}

_DATE = re.compile(r"^(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})$|^(\d{4})-(\d{2})-(\d{2})$")
_DELIMITERS = (";", ",", "\t", "|")
#: Rows worked out at a time, few enough for their cells to stay in the processor's cache
#: (a batch is filled chunk after chunk).
_CHUNK = 250


def settings_schema() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": CSV_SETTINGS_PROPERTIES}


def _normalise(value: str) -> str:
    # "12  Rue de la Paix " and "12 rue de la paix" are the same household.
    return " ".join(value.casefold().split())


@functools.lru_cache(maxsize=1 << 16)
def parse_date(value: str) -> date | None:
    """``31/01/1990``, ``31-01-1990``, ``31.01.1990`` or ``1990-01-31``; ``None`` if unreadable.
    Cached: a roll of a million people holds a few tens of thousands of birth dates."""
    match = _DATE.match(value.strip())
    if match is None:
        return None
    if match.group(1):
        day, month, year = int(match.group(1)), int(match.group(2)), int(match.group(3))
    else:
        year, month, day = int(match.group(4)), int(match.group(5)), int(match.group(6))
    try:
        return date(year, month, day)
    except ValueError:
        return None


@dataclass(frozen=True)
class CsvRegister:
    """A register in a delimited text file (or an ODS sheet) with a header line."""

    name: str
    label: str
    channel: str
    person_column: str
    household_columns: tuple[str, ...]
    stratum_column: str | None = None
    attribute_columns: tuple[str, ...] = ()
    #: ``None``: sniffed from the file (see the module's docstring).
    delimiter: str | None = None
    encoding: str | None = None
    birth_date_column: str | None = None
    feature_columns: Mapping[str, str] = field(default_factory=dict)
    #: Whether an OpenDocument spreadsheet (.ods) is accepted besides delimited text.
    spreadsheets: bool = False

    @classmethod
    def configured(cls, defaults: Self, settings: Mapping[str, Any]) -> Self:
        """``defaults`` overridden by the commune's settings."""
        return cls(
            name=settings.get("source", defaults.name),
            label=defaults.label,
            channel=defaults.channel,
            person_column=settings.get("person_column", defaults.person_column),
            household_columns=tuple(settings.get("household_columns", defaults.household_columns)),
            stratum_column=settings.get("stratum_column", defaults.stratum_column),
            attribute_columns=tuple(settings.get("attribute_columns", defaults.attribute_columns)),
            delimiter=settings.get("delimiter", defaults.delimiter),
            encoding=settings.get("encoding", defaults.encoding),
            birth_date_column=settings.get("birth_date_column", defaults.birth_date_column),
            feature_columns=dict(settings.get("feature_columns", defaults.feature_columns)),
            spreadsheets=defaults.spreadsheets,
        )

    @property
    def columns(self) -> Mapping[str, str]:
        roles = {"person": self.person_column, "household": ", ".join(self.household_columns)}
        if self.stratum_column:
            roles["stratum"] = self.stratum_column
        if self.birth_date_column:
            roles["birth_date"] = self.birth_date_column
        roles.update(self.feature_columns)
        return roles

    @property
    def required_columns(self) -> list[str]:
        columns = [self.person_column, *self.household_columns, *self.attribute_columns]
        if self.stratum_column:
            columns.append(self.stratum_column)
        if self.birth_date_column:
            columns.append(self.birth_date_column)
        columns.extend(self.feature_columns.values())
        return list(dict.fromkeys(columns))

    def read_batches(self, path: Path) -> Iterator[RegisterBatch]:
        """The register's entries by batches of at most :data:`BATCH_SIZE`, in the file's order.

        Rows are read by chunks of :data:`_CHUNK`, each worked out a column at a time while
        still in the processor's cache. A chunk holding a fault is read again row by row, so
        that the file's first faulty row is the one refused (within a row: field count, empty
        identifier, empty address, unreadable date)."""
        with self._table(path) as table:
            first = table.next()
            if first is None:
                raise RegisterFormatError(
                    "the file is empty (a header line is expected)", line=1, code="empty_file"
                )
            index, width = self._read_header(first[1]), len(first[1])
            batch, read = self._empty_batch(), 0
            while True:
                chunk: list[tuple[int, list[str]]] = []
                try:
                    table.extend(chunk, min(_CHUNK, BATCH_SIZE - read))
                except RegisterFormatError:
                    # An unreadable line: the rows read before it may hold an earlier fault.
                    self._refuse_first_fault(chunk, index, width)
                    raise
                if chunk:
                    self._add(batch, chunk, index, width)
                read += len(chunk)
                if read == BATCH_SIZE or not chunk:
                    if batch.lines:
                        yield batch.done()
                    if not chunk:
                        return
                    batch, read = self._empty_batch(), 0

    def _empty_batch(self) -> _Filling:
        """A batch to fill, with a column for each of this register's features and attributes."""
        return _Filling(
            birth_dates=[] if self.birth_date_column else None,
            features={feature: [] for feature in self.feature_columns},
            attributes={name: [] for name in self.attribute_columns},
        )

    def _add(
        self,
        batch: _Filling,
        chunk: list[tuple[int, list[str]]],
        index: Mapping[str, int],
        width: int,
    ) -> None:
        """Add the entries of a chunk of numbered rows to ``batch``, a column at a time."""
        cells = _columns(chunk)
        if width == 1 or len(cells) != width:
            chunk = [
                (line, row)
                for line, row in chunk
                if row and (len(row) != 1 or row[0].strip())  # blank lines are skipped
            ]
            if not chunk:
                return
            cells = _columns(chunk)
            if len(cells) != width:  # some row has another count of fields
                self._refuse_first_fault(chunk, index, width)
        names = {self.person_column, *self.feature_columns.values(), *self.attribute_columns}
        if self.stratum_column:
            names.add(self.stratum_column)
        stripped = {name: list(map(str.strip, cells[index[name]])) for name in names}
        persons = stripped[self.person_column]
        households, no_empty_address = _households(
            [cells[index[name]] for name in self.household_columns]
        )
        dates, all_read = None, True
        if self.birth_date_column:
            dates, all_read = _dates(cells[index[self.birth_date_column]])
        if "" in persons or not no_empty_address or not all_read:
            self._refuse_first_fault(chunk, index, width)
        first, last = chunk[0][0], chunk[-1][0]
        if last - first == len(chunk) - 1:  # rising lines as many as their span: consecutive
            batch.lines.extend(range(first, last + 1))
        else:
            batch.lines.extend(map(itemgetter(0), chunk))
        batch.person_keys.extend(persons)
        batch.household_keys.extend(households)
        if self.stratum_column:
            batch.strata.extend(stripped[self.stratum_column])
        else:
            batch.strata.extend(repeat("", len(chunk)))
        if dates is not None and batch.birth_dates is not None:
            batch.birth_dates.extend(dates)
        for feature, name in self.feature_columns.items():
            batch.features[feature].extend(stripped[name])
        for name in self.attribute_columns:
            batch.attributes[name].extend(stripped[name])

    @contextmanager
    def _table(self, path: Path) -> Iterator[_Table]:
        """The file's rows, numbered from 1 (the header)."""
        if self.spreadsheets and zipfile.is_zipfile(path):
            yield _Table(_ods_rows(path))
            return
        encoding, delimiter = self._format(path)
        with path.open(newline="", encoding=encoding) as stream:
            numbers = count(1)
            unreadable = functools.partial(_unreadable, path, encoding, numbers)
            try:
                _check_text(stream)
            except UnicodeDecodeError as error:
                raise unreadable(error) from error
            # Numbered by zip and count, inside C's loops: a generator numbering them in
            # Python cost a quarter of csv's own time.
            rows = zip(numbers, csv.reader(stream, delimiter=delimiter, strict=True), strict=False)
            yield _Table(rows, unreadable)

    def _format(self, path: Path) -> tuple[str, str]:
        """The encoding and separator: pinned by the settings, else sniffed."""
        if self.encoding is not None and self.delimiter is not None:
            return self.encoding, self.delimiter
        try:
            found = sniff(path)
        except MalformedInput as unreadable:
            raise RegisterFormatError(
                str(unreadable.params.get("problem", unreadable.message)),
                line=int(unreadable.params.get("line") or 1),
                code=unreadable.key,
            ) from unreadable
        encoding = self.encoding or found.encoding
        if self.encoding is None and found.presumed:
            encoding = _settled(path)  # ASCII in the sample: is the rest UTF-8 or cp1252?
        return encoding, self.delimiter or found.delimiter

    def _read_header(self, header: list[str]) -> dict[str, int]:
        names = self._header_names(header)
        missing = [c for c in self.required_columns if c not in names]
        if missing and len(names) == 1:
            self._check_delimiter(names[0])
        if missing:
            raise RegisterFormatError(
                f"missing column(s) {', '.join(map(repr, missing))}; "
                f"the header has {', '.join(map(repr, names))}",
                line=1,
                code="missing_columns",
                params={"columns": ", ".join(missing)},
            )
        return {name: names.index(name) for name in self.required_columns}

    @staticmethod
    def _header_names(header: list[str]) -> list[str]:
        names = [name.strip() for name in header]
        if not any(names):
            raise RegisterFormatError(
                "the file is empty (a header line is expected)", line=1, code="empty_file"
            )
        return names

    def _check_delimiter(self, only_name: str) -> None:
        """A header read as one column holding another separator than the one the settings
        pin: say which."""
        if self.delimiter is None:
            return  # sniffed: the header holds no other separator
        for other in _DELIMITERS:
            if other != self.delimiter and other in only_name:
                raise RegisterFormatError(
                    f"columns are separated by {other!r} where {self.delimiter!r} is expected",
                    line=1,
                    code="delimiter",
                    params={"expected": self.delimiter, "found": other},
                )

    def _refuse_first_fault(
        self, chunk: Iterable[tuple[int, list[str]]], index: Mapping[str, int], width: int
    ) -> None:
        """Raise the fault of the first faulty row of a chunk, each row checked in turn (the
        chunk's columns tell whether it may hold one, not which row); return if none has."""
        for line, row in chunk:
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise RegisterFormatError(
                    f"{len(row)} fields where the header has {width}",
                    line=line,
                    code="field_count",
                    params={"found": str(len(row)), "expected": str(width)},
                )
            if not row[index[self.person_column]].strip():
                raise RegisterFormatError(
                    "empty identifier",
                    line=line,
                    column=self.person_column,
                    code="empty_identifier",
                )
            household = " | ".join(_normalise(row[index[c]]) for c in self.household_columns)
            if not household.strip(" |"):
                raise RegisterFormatError(
                    "empty address",
                    line=line,
                    column=", ".join(self.household_columns),
                    code="empty_address",
                )
            if self.birth_date_column:
                raw = row[index[self.birth_date_column]].strip()
                if parse_date(raw) is None:
                    raise RegisterFormatError(
                        f"unreadable date {raw!r}",
                        line=line,
                        column=self.birth_date_column,
                        code="unreadable_date",
                        params={"value": raw},
                    )


class _Table:
    """Numbered rows of a register file, taken a chunk at a time; a row that cannot be read
    raises the :class:`RegisterFormatError` saying why."""

    def __init__(
        self,
        rows: Iterator[tuple[int, list[str]]],
        unreadable: Callable[[Exception], RegisterFormatError] | None = None,
    ) -> None:
        self.rows, self.unreadable = rows, unreadable

    def extend(self, chunk: list[tuple[int, list[str]]], count: int) -> None:
        """Add the next ``count`` rows (fewer at the end of the file) to ``chunk``."""
        try:
            chunk.extend(islice(self.rows, count))
        except (UnicodeDecodeError, csv.Error) as error:
            if self.unreadable is None:
                raise
            raise self.unreadable(error) from error

    def next(self) -> tuple[int, list[str]] | None:
        chunk: list[tuple[int, list[str]]] = []
        self.extend(chunk, 1)
        return chunk[0] if chunk else None


def _unreadable(
    path: Path, encoding: str, numbers: Iterator[int], error: Exception
) -> RegisterFormatError:
    """The fault of a row ``csv`` could not read; ``numbers`` had given its number."""
    if isinstance(error, UnicodeDecodeError):
        return RegisterFormatError(
            f"the file is not valid {encoding} text",
            line=_line_of_bad_byte(path, encoding),
            code="encoding",
            params={"encoding": _encoding_name(encoding)},
        )
    return RegisterFormatError(
        f"malformed CSV: {error}",
        line=next(numbers) - 2,  # as before: the line of the last row read
        code="malformed",
        params={"detail": str(error)},
    )


@dataclass
class _Filling:
    """A batch being filled, chunk after chunk."""

    lines: list[int] = field(default_factory=list)
    person_keys: list[str] = field(default_factory=list)
    household_keys: list[str] = field(default_factory=list)
    strata: list[str] = field(default_factory=list)
    birth_dates: list[date | None] | None = None
    features: dict[str, list[str]] = field(default_factory=dict)
    attributes: dict[str, list[str]] = field(default_factory=dict)

    def done(self) -> RegisterBatch:
        return RegisterBatch(
            lines=self.lines,
            person_keys=self.person_keys,
            household_keys=self.household_keys,
            strata=self.strata,
            birth_dates=self.birth_dates,
            features=self.features,
            attributes=self.attributes,
        )


def _columns(chunk: Iterable[tuple[int, list[str]]]) -> list[tuple[str, ...]]:
    """The columns of numbered rows; none if the rows differ in length."""
    try:
        return list(zip(*map(itemgetter(1), chunk), strict=True))
    except ValueError:
        return []


#: Joins the rows' household keys in one text: printable, not whitespace, in Latin-1, and
#: case folding keeps it (a chunk whose values hold it is worked out one value at a time).
_ROWS_APART = "¦"


def _latin_1_folded(byte: int) -> int:
    char = chr(byte)
    folded = char.casefold()
    if (char.isspace() and char != " ") or len(folded) != 1 or ord(folded) > 0xFF:
        return 0
    return ord(folded)


#: Case folding of Latin-1 text, by bytes; whitespace but spaces, NUL, and the two letters
#: whose case folding is not one Latin-1 letter (µ, ß) become NUL.
_LATIN_1_FOLDED = bytes(map(_latin_1_folded, range(0x100)))


def _households(columns: Sequence[Sequence[str]]) -> tuple[list[str], bool]:
    """The household keys of rows from their household columns, ``" | ".join(_normalise(v)
    for v in row)``, worked out a column at a time (see :func:`_folded`); and ``True`` if
    none is an empty address (``False`` if one may be)."""
    one = columns[0] if len(columns) == 1 else None
    text = _ROWS_APART.join(one if one is not None else map(" | ".join, zip(*columns, strict=True)))
    folded = _folded(text)
    if folded is not None:
        households = folded.split(_ROWS_APART)
        if len(households) == len(columns[0]):  # no value held _ROWS_APART
            # No value has whitespace at either end: an empty address is empty (one column)
            # or begins with "|".
            return households, "" not in households and not (
                "|" in folded and (folded.startswith("|") or f"{_ROWS_APART}|" in folded)
            )
    parts = [map(" ".join, map(str.split, map(str.casefold, column))) for column in columns]
    households = list(parts[0] if len(parts) == 1 else map(" | ".join, zip(*parts, strict=True)))
    return households, "" not in map(str.strip, households, repeat(" |"))


def _folded(text: str) -> str | None:
    """``text.casefold()``, if no value joined in it has whitespace :func:`_normalise` would
    tidy (none at either end, no two spaces in a row, none but spaces; case folding neither
    makes nor unmakes whitespace); ``None`` if some has (or might have)."""
    if (
        "  " in text
        or f"{_ROWS_APART} " in text
        or f" {_ROWS_APART}" in text
        or text.startswith(" ")
        or text.endswith(" ")
    ):
        return None
    try:
        latin_1 = text.encode("latin-1").translate(_LATIN_1_FOLDED)
    except UnicodeEncodeError:
        return text.casefold() if text.isprintable() else None
    return None if b"\x00" in latin_1 else latin_1.decode("latin-1")


def _dates(column: Sequence[str]) -> tuple[list[date | None], bool]:
    """:func:`parse_date` of each value (``None``: unreadable), worked out a column at a time
    when all are written alike (see :func:`_iso_dates`); and whether all are readable."""
    iso = _iso_dates(column)
    if iso is not None:
        try:
            return list(map(date.fromisoformat, iso)), True
        except ValueError:
            pass  # not digits, or no such day: read one at a time
    dates = list(map(parse_date, column))
    return dates, None not in dates


def _iso_dates(column: Sequence[str]) -> Sequence[str] | None:
    """The values written ``yyyy-mm-dd``, if all are written so or ``dd/mm/yyyy`` (any of
    ``/.-`` apart; ASCII, no whitespace); ``None`` if not. Their digits are left for
    ``date.fromisoformat`` to check: with ASCII digits, it reads them as :func:`parse_date`."""
    if set(map(len, column)) != {10} or not (text := "".join(column)).isascii():
        return None
    data, count = text.encode("ascii"), len(column)
    if data[4::10] == data[7::10] == b"-" * count:
        return column
    if data[2::10].strip(b"/.-") or data[5::10].strip(b"/.-"):
        return None
    iso = bytearray(b"-" * (11 * count))  # yyyy-mm-dd and a newline, from dd/mm/yyyy
    for start, source in ((0, 6), (1, 7), (2, 8), (3, 9), (5, 3), (6, 4), (8, 0), (9, 1)):
        iso[start::11] = data[source::10]
    iso[10::11] = b"\n" * count
    return iso[:-1].decode("ascii").split("\n")


def _line_of_bad_byte(path: Path, encoding: str) -> int:
    """The line holding the first byte ``encoding`` cannot decode (text is read by blocks,
    so the reader's own count is that of the block)."""
    with path.open("rb") as stream:
        for line, raw in enumerate(stream, start=1):
            try:
                raw.decode(encoding)
            except UnicodeDecodeError:
                return line
    return 1


def _settled(path: Path) -> str:
    """The encoding of a file whose first megabyte is ASCII: UTF-8, unless a later byte is
    not, and no UTF-8 beyond ASCII came before it (Windows-1252 then; both mixed is refused)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    seen_beyond_ascii = False
    with path.open("rb") as stream:
        while block := stream.read(1 << 20):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as error:
                if seen_beyond_ascii or not block[: error.start].isascii():
                    raise RegisterFormatError(
                        "the file mixes UTF-8 and Windows-1252 text",
                        line=_line_of_bad_byte(path, "utf-8"),
                        code="mixed_encoding",
                    ) from error
                return "cp1252"
            seen_beyond_ascii = seen_beyond_ascii or not block.isascii()
    return "utf-8"


def _check_text(stream: IO[str]) -> None:
    """Refuse binary data (a workbook, UTF-16) before the CSV reader sees it."""
    start = stream.read(4096)
    stream.seek(0)
    if "\x00" in start:
        raise RegisterFormatError("the file is not a text file", line=1, code="not_text")


def _encoding_name(encoding: str) -> str:
    names = {"utf-8-sig": "UTF-8", "utf-8": "UTF-8", "latin-1": "Latin-1", "cp1252": "Windows-1252"}
    return names.get(encoding, encoding.upper())


_OFFICE = "urn:oasis:names:tc:opendocument:xmlns:office:1.0"
_TABLE = "urn:oasis:names:tc:opendocument:xmlns:table:1.0"
_TEXT = "urn:oasis:names:tc:opendocument:xmlns:text:1.0"
#: A sheet row or cell repeated more than this is the spreadsheet's empty padding.
_REPEAT_MAX = 1000


def _cell_text(cell: ElementTree.Element) -> str:
    parts = []
    for paragraph in cell.iter(f"{{{_TEXT}}}p"):
        pieces = [paragraph.text or ""]
        for child in paragraph:
            if child.tag == f"{{{_TEXT}}}s":
                pieces.append(" " * int(child.get(f"{{{_TEXT}}}c", "1")))
            else:
                pieces.append("".join(child.itertext()))
            pieces.append(child.tail or "")
        parts.append("".join(pieces))
    return "\n".join(parts)


def _ods_rows(path: Path) -> Iterator[tuple[int, list[str]]]:
    """The first sheet of an OpenDocument spreadsheet, row by row (trailing empty cells and
    rows dropped). Read with the standard library: the XML has no external entities to
    resolve, and expat refuses entity expansion bombs."""
    try:
        archive = zipfile.ZipFile(path)
        content = archive.open("content.xml")
    except (zipfile.BadZipFile, KeyError) as error:
        raise RegisterFormatError(
            "not an OpenDocument spreadsheet", line=1, code="not_text"
        ) from error
    line = 0
    with archive, content:
        try:
            # expat >= 2.4 refuses entity-expansion bombs; ElementTree resolves no external entity.
            for _event, element in ElementTree.iterparse(content, events=("end",)):  # noqa: S314
                if element.tag == f"{{{_TABLE}}}table":
                    break  # the first sheet only
                if element.tag != f"{{{_TABLE}}}table-row":
                    continue
                cells: list[str] = []
                for cell in element:
                    if cell.tag not in (
                        f"{{{_TABLE}}}table-cell",
                        f"{{{_TABLE}}}covered-table-cell",
                    ):
                        continue
                    repeat = int(cell.get(f"{{{_TABLE}}}number-columns-repeated", "1"))
                    cells.extend([_cell_text(cell)] * min(repeat, _REPEAT_MAX))
                while cells and not cells[-1]:
                    cells.pop()
                repeat = int(element.get(f"{{{_TABLE}}}number-rows-repeated", "1"))
                element.clear()
                if not cells:
                    line += min(repeat, _REPEAT_MAX)
                    continue
                for _ in range(min(repeat, _REPEAT_MAX)):
                    line += 1
                    yield line, cells
        except ElementTree.ParseError as error:
            raise RegisterFormatError(
                f"unreadable spreadsheet: {error}",
                line=line,
                code="malformed",
                params={"detail": str(error)},
            ) from error


@dataclass(frozen=True)
class MappedCsvRegister(CsvRegister):
    """A CSV register whose columns are chosen for each file, on the draw's column-mapping
    screen (``agora.plugins.contracts.ColumnMappedSource``); the commune's settings only
    propose them."""

    def headers(self, path: Path) -> list[str]:
        with self._table(path) as table:
            first = table.next()
        if first is not None:
            names = self._header_names(first[1])
            if len(names) == 1:
                self._check_delimiter(names[0])
            duplicated = sorted({name for name in names if names.count(name) > 1 and name})
            if duplicated:
                raise RegisterFormatError(
                    f"the header names {', '.join(map(repr, duplicated))} twice",
                    line=1,
                    code="duplicate_columns",
                    params={"columns": ", ".join(duplicated)},
                )
            return [name for name in names if name]
        raise RegisterFormatError(
            "the file is empty (a header line is expected)", line=1, code="empty_file"
        )

    def mapped(self, columns: Mapping[str, Sequence[str]]) -> MappedCsvRegister:
        def one(role: str) -> str | None:
            chosen = list(columns.get(role, ()))
            return chosen[0] if chosen else None

        person = one("person")
        if person is None or not columns.get("household"):
            raise ValueError("a mapping names the person's column and the household's")
        roles = {"person", "household", "stratum", "birth_date", "attributes"}
        return replace(
            self,
            person_column=person,
            household_columns=tuple(columns["household"]),
            stratum_column=one("stratum"),
            birth_date_column=one("birth_date"),
            attribute_columns=tuple(columns.get("attributes", ())),
            feature_columns={
                role: chosen[0] for role, chosen in columns.items() if role not in roles and chosen
            },
        )

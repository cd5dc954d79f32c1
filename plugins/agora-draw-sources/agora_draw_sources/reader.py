"""Streaming readers shared by the register plugins: delimited text, and ODS spreadsheets.

A text file's encoding and separator are those the commune's settings pin, else they are
sniffed as the sortition engine sniffs its own files (``agora_sortition.tables``: UTF-8 with or
without BOM, UTF-16 with BOM, Windows-1252; ``,``, ``;`` or tab): a file saved by French Excel
or by registry software is read as it comes; one that cannot be read is refused with its line
and the probable cause.
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
import zipfile
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import date
from pathlib import Path
from typing import IO, Any, Self
from xml.etree import ElementTree

from agora.plugins.contracts import RegisterEntry, RegisterFormatError
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

    def read(self, path: Path) -> Iterator[RegisterEntry]:
        yield from self._entries(self._rows(path))

    def _rows(self, path: Path) -> Iterator[tuple[int, list[str]]]:
        """The file's rows, numbered from 1 (the header)."""
        if self.spreadsheets and zipfile.is_zipfile(path):
            yield from _ods_rows(path)
            return
        encoding, delimiter = self._format(path)
        where = [1]

        def numbered(rows: Iterable[list[str]]) -> Iterator[tuple[int, list[str]]]:
            for line, row in enumerate(rows, start=1):
                where[0] = line + 1  # a decoding error is met reading the next line
                yield line, row

        try:
            with path.open(newline="", encoding=encoding) as stream:
                _check_text(stream)
                where[0] = 1
                rows = csv.reader(stream, delimiter=delimiter, strict=True)
                yield from numbered(rows)
        except UnicodeDecodeError as error:
            raise RegisterFormatError(
                f"the file is not valid {encoding} text",
                line=_line_of_bad_byte(path, encoding),
                code="encoding",
                params={"encoding": _encoding_name(encoding)},
            ) from error
        except csv.Error as error:
            raise RegisterFormatError(
                f"malformed CSV: {error}",
                line=where[0] - 1,
                code="malformed",
                params={"detail": str(error)},
            ) from error

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

    def _entries(self, rows: Iterable[tuple[int, list[str]]]) -> Iterator[RegisterEntry]:
        """The entries of numbered rows, the first being the header."""
        index: dict[str, int] | None = None
        width = 0
        for line, row in rows:
            if index is None:
                index, width = self._read_header(row), len(row)
                continue
            if not row or (len(row) == 1 and not row[0].strip()):
                continue
            if len(row) != width:
                raise RegisterFormatError(
                    f"{len(row)} fields where the header has {width}",
                    line=line,
                    code="field_count",
                    params={"found": str(len(row)), "expected": str(width)},
                )
            yield self._entry(row, index, line)
        if index is None:
            raise RegisterFormatError(
                "the file is empty (a header line is expected)", line=1, code="empty_file"
            )

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

    def _entry(self, row: list[str], index: Mapping[str, int], line: int) -> RegisterEntry:
        person = row[index[self.person_column]].strip()
        if not person:
            raise RegisterFormatError(
                "empty identifier", line=line, column=self.person_column, code="empty_identifier"
            )
        household = " | ".join(_normalise(row[index[c]]) for c in self.household_columns)
        if not household.strip(" |"):
            raise RegisterFormatError(
                "empty address",
                line=line,
                column=", ".join(self.household_columns),
                code="empty_address",
            )
        stratum = row[index[self.stratum_column]].strip() if self.stratum_column else ""
        birth_date = None
        if self.birth_date_column:
            raw = row[index[self.birth_date_column]].strip()
            birth_date = parse_date(raw)
            if birth_date is None:
                raise RegisterFormatError(
                    f"unreadable date {raw!r}",
                    line=line,
                    column=self.birth_date_column,
                    code="unreadable_date",
                    params={"value": raw},
                )
        return RegisterEntry(
            person_key=person,
            household_key=household,
            stratum=stratum,
            attributes={c: row[index[c]].strip() for c in self.attribute_columns},
            line=line,
            birth_date=birth_date,
            features={f: row[index[c]].strip() for f, c in self.feature_columns.items()},
        )


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
        for _line, row in self._rows(path):
            names = self._header_names(row)
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

"""Streaming CSV reader shared by the register plugins."""

from __future__ import annotations

import csv
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from agora.plugins.contracts import RegisterEntry, RegisterFormatError

#: Settings every CSV register accepts (each plugin adds its own defaults).
CSV_SETTINGS_PROPERTIES: dict[str, Any] = {
    "delimiter": {"type": "string", "minLength": 1, "maxLength": 1},
    "encoding": {"enum": ["utf-8", "utf-8-sig", "latin-1", "cp1252"]},
    "person_column": {"type": "string", "minLength": 1},
    "household_columns": {"type": "array", "items": {"type": "string"}, "minItems": 1},
    "stratum_column": {"type": "string", "minLength": 1},
    "attribute_columns": {"type": "array", "items": {"type": "string"}},
}


def settings_schema() -> dict[str, Any]:
    return {"type": "object", "additionalProperties": False, "properties": CSV_SETTINGS_PROPERTIES}


def _normalise(value: str) -> str:
    # "12  Rue de la Paix " and "12 rue de la paix" are the same household.
    return " ".join(value.casefold().split())


@dataclass(frozen=True)
class CsvRegister:
    """A register in a delimited text file with a header line."""

    name: str
    label: str
    channel: str
    person_column: str
    household_columns: tuple[str, ...]
    stratum_column: str | None = None
    attribute_columns: tuple[str, ...] = ()
    delimiter: str = ";"
    encoding: str = "utf-8-sig"

    @classmethod
    def configured(cls, defaults: CsvRegister, settings: Mapping[str, Any]) -> CsvRegister:
        """``defaults`` overridden by the commune's settings."""
        return cls(
            name=defaults.name,
            label=defaults.label,
            channel=defaults.channel,
            person_column=settings.get("person_column", defaults.person_column),
            household_columns=tuple(settings.get("household_columns", defaults.household_columns)),
            stratum_column=settings.get("stratum_column", defaults.stratum_column),
            attribute_columns=tuple(settings.get("attribute_columns", defaults.attribute_columns)),
            delimiter=settings.get("delimiter", defaults.delimiter),
            encoding=settings.get("encoding", defaults.encoding),
        )

    @property
    def required_columns(self) -> list[str]:
        columns = [self.person_column, *self.household_columns, *self.attribute_columns]
        if self.stratum_column:
            columns.append(self.stratum_column)
        return list(dict.fromkeys(columns))

    def read(self, path: Path) -> Iterator[RegisterEntry]:
        line = 1
        try:
            with path.open(newline="", encoding=self.encoding) as stream:
                rows = csv.reader(stream, delimiter=self.delimiter, strict=True)
                header = next(rows, None)
                if not header:
                    raise RegisterFormatError(
                        "the file is empty (a header line is expected)", line=1
                    )
                header = [name.strip() for name in header]
                missing = [c for c in self.required_columns if c not in header]
                if missing:
                    raise RegisterFormatError(
                        f"missing column(s) {', '.join(map(repr, missing))}; "
                        f"the header has {', '.join(map(repr, header))}",
                        line=1,
                    )
                index = {name: header.index(name) for name in self.required_columns}
                width = len(header)
                for line, row in enumerate(rows, start=2):
                    if not row:
                        continue
                    if len(row) != width:
                        raise RegisterFormatError(
                            f"{len(row)} fields where the header has {width}", line=line
                        )
                    yield self._entry(row, index, line)
        except UnicodeDecodeError as error:
            raise RegisterFormatError(
                f"the file is not valid {self.encoding} text", line=line
            ) from error
        except csv.Error as error:
            raise RegisterFormatError(f"malformed CSV: {error}", line=line) from error

    def _entry(self, row: list[str], index: Mapping[str, int], line: int) -> RegisterEntry:
        person = row[index[self.person_column]].strip()
        if not person:
            raise RegisterFormatError("empty identifier", line=line, column=self.person_column)
        household = " | ".join(_normalise(row[index[c]]) for c in self.household_columns)
        if not household.strip(" |"):
            raise RegisterFormatError(
                "empty address", line=line, column=", ".join(self.household_columns)
            )
        stratum = row[index[self.stratum_column]].strip() if self.stratum_column else ""
        return RegisterEntry(
            person_key=person,
            household_key=household,
            stratum=stratum,
            attributes={c: row[index[c]].strip() for c in self.attribute_columns},
        )

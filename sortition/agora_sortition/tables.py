"""Reading the tables a town hall has: CSV files as spreadsheets and registry software save them.

One reader serves the quota and people files of ``select``, the register of ``invite`` (whose
fast byte-level reader takes its encoding and separator from ``sniff``) and, through the public
functions ``sniff`` and ``read_table``, the platform's registers:

* **encoding**: UTF-8 with or without a byte-order mark (BOM), UTF-16 with a BOM (Excel's
  "Unicode text"), and Windows-1252 (cp1252, French Excel's "CSV (séparateur: point-virgule)",
  a superset of latin-1's printable characters). ``sniff`` looks at the first ``SAMPLE``
  bytes: a BOM decides; else bytes that are valid UTF-8 mean UTF-8, others cp1252. When the
  sample holds ASCII only, UTF-8 is *presumed* (``TableFormat.presumed``) and the reader turns
  to cp1252 at the first line that is not UTF-8, provided no line before was UTF-8 beyond ASCII
  (a file mixing both is refused, with the line);
* **separator**: ``,``, ``;`` or tab, the one the header line holds most often outside quotes
  (``,`` when it holds none: a one-column file);
* **header names** match without regard to case, accents and repeated spaces (``normalise``),
  when that leaves a single candidate (``find_column``); values likewise (``value_matcher``);
* **files that cannot be read** are refused with ``MalformedInput`` naming the file, the line
  and the probable cause, under a stable ``key``: ``empty_file``, ``utf16_without_bom``,
  ``spreadsheet`` (an .xlsx/.ods/.xls workbook), ``binary``, ``undecodable``,
  ``mixed_encoding``, ``broken_quoting`` (a quote left open, or text after a closing quote),
  ``cell_too_long`` (over ``csv.field_size_limit()``: a quote never closed, most likely),
  ``file_not_found``, ``file_unreadable``.

Standard library only: ``verify`` reads the people and quota files with it.
"""

from __future__ import annotations

import codecs
import csv
import io
import os
import re
import unicodedata
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from types import TracebackType
from typing import BinaryIO

from .errors import MalformedInput

SAMPLE = 1 << 20  # bytes ``sniff`` looks at
DELIMITERS = (",", ";", "\t")
_BOMS = (
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
_WORKBOOKS = (
    (b"PK\x03\x04", "Excel (.xlsx) ou OpenDocument (.ods)"),
    (b"\xd0\xcf\x11\xe0", "Excel 97-2003 (.xls)"),
    (b"%PDF", "PDF"),
)
# bytes that are not in a text file (\x1a, DOS's end of file, may be)
_CONTROL = re.compile(rb"[\x00-\x08\x0e-\x19\x1b-\x1f\x7f]")
_LONE_CR = re.compile(r"(?<=\r)(?!\n)")  # an old Mac line end: where to split


@dataclass(frozen=True)
class TableFormat:
    """How a file is written: its ``encoding`` (a Python codec name: ``utf-8-sig``, ``utf-8``,
    ``cp1252`` or ``utf-16``) and its ``delimiter``; ``presumed`` when UTF-8 was chosen on a
    sample of ASCII only (readers turn to cp1252 if a later line is not UTF-8)."""

    encoding: str
    delimiter: str
    presumed: bool = False

    def describe(self, lang: str = "fr") -> str:
        """E.g. ``UTF-8 avec BOM, séparateur « ; »``."""
        names = {
            "utf-8-sig": ("UTF-8 with BOM", "UTF-8 avec BOM"),
            "utf-8": ("UTF-8", "UTF-8"),
            "cp1252": ("Windows-1252", "Windows-1252"),
            "utf-16": ("UTF-16", "UTF-16"),
        }
        english, french = names.get(self.encoding, (self.encoding, self.encoding))
        shown = {"\t": "tab" if lang == "en" else "tabulation"}.get(self.delimiter, self.delimiter)
        if lang == "en":
            return f"{english}, separator '{shown}'"
        return f"{french}, séparateur « {shown} »"


def normalise(text: str) -> str:
    """``text`` without case, accents nor repeated or surrounding spaces: ``" Critère "`` and
    ``"critere"`` are the same header."""
    decomposed = unicodedata.normalize("NFKD", text)
    bare = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(bare.casefold().split())


def find_column(
    header: Sequence[str], wanted: str, *, file: str | None = None, aliases: Iterable[str] = ()
) -> int | None:
    """The position of column ``wanted`` (or of one of its ``aliases``): the exact name first,
    else the only header cell equal to it up to ``normalise``; None when there is none, and
    ``MalformedInput`` (``ambiguous_column``) when several are."""
    for name in (wanted, *aliases):
        if name in header:
            return header.index(name)
    for name in (wanted, *aliases):
        key = normalise(name)
        found = [i for i, cell in enumerate(header) if normalise(cell) == key]
        if len(found) > 1:
            candidates = ", ".join(repr(header[i]) for i in found)
            raise MalformedInput(
                f"column {wanted!r} could be any of {candidates}",
                key="ambiguous_column",
                file=file,
                line=1,
                column=wanted,
                candidates=candidates,
            )
        if found:
            return found[0]
    return None


def value_matcher(values: Iterable[str]) -> Callable[[str], str | None]:
    """A function giving, for a cell, the one of ``values`` it names: itself, else the only value
    equal to it up to ``normalise`` (``"Femme"`` for ``"femme"``); None when none or several."""
    known = set(values)
    loose: dict[str, str | None] = {}
    for value in known:
        key = normalise(value)
        loose[key] = None if key in loose else value  # two values alike: exact matches only
    get = loose.get

    def match(cell: str) -> str | None:
        return cell if cell in known else get(normalise(cell))

    return match


# --- sniffing ---------------------------------------------------------------------------------


def _unreadable(key: str, english: str, name: str | None, **params: object) -> MalformedInput:
    line = params.pop("line", None)
    return MalformedInput(english, key=key, file=name, line=line, **params)  # type: ignore[arg-type]


def _line_of(data: bytes, offset: int) -> int:
    return data.count(b"\n", 0, offset) + 1


def detect_encoding(head: bytes, *, complete: bool, name: str | None = None) -> tuple[str, bool]:
    """The encoding of a file starting with ``head`` (all of it when ``complete``), and whether
    UTF-8 is only presumed (ASCII so far). Raises ``MalformedInput`` for files that are not text
    or not in an encoding read here."""
    if not head:
        raise _unreadable("empty_file", "the file is empty (a header line is expected)", name)
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return encoding, False
    for magic, kind in _WORKBOOKS:
        if head.startswith(magic):
            raise _unreadable(
                "spreadsheet", f"this is a {kind} file, not CSV: save it as CSV", name, kind=kind
            )
    zeros = head.count(0)
    if zeros:
        even, odd = head[0::2].count(0), head[1::2].count(0)
        if zeros > len(head) // 8 and max(even, odd) > 0.9 * zeros:
            raise _unreadable(
                "utf16_without_bom",
                "the file seems to be UTF-16 without a byte-order mark: save it as UTF-8",
                name,
            )
    # NUL never is in text; other control bytes may be, a few (a register's own separators)
    control = _CONTROL.search(head)
    if control and (zeros or len(_CONTROL.findall(head)) > len(head) // 10):
        at = head.index(0) if zeros else control.start()
        raise _unreadable(
            "binary",
            f"binary data (byte 0x{head[at]:02x} at offset {at}): not a CSV text file",
            name,
            line=_line_of(head, at),
            byte=f"0x{head[at]:02x}",
            offset=at,
        )
    if head.isascii():
        return "utf-8", not complete
    try:
        codecs.getincrementaldecoder("utf-8")().decode(head, final=complete)
    except UnicodeDecodeError:
        pass
    else:
        return "utf-8", False
    try:
        head.decode("cp1252")
    except UnicodeDecodeError as error:
        byte = f"0x{head[error.start]:02x}"
        raise _unreadable(
            "undecodable",
            f"bytes ({byte}) neither UTF-8 nor Windows-1252: save the file as UTF-8 CSV",
            name,
            line=_line_of(head, error.start),
            byte=byte,
        ) from None
    return "cp1252", False


def detect_delimiter(header_line: str) -> str:
    """The separator the header line holds most often outside quotes (``,`` if none)."""
    outside = re.sub(r'"[^"]*"?', "", header_line)
    counts = [outside.count(d) for d in DELIMITERS]
    best = max(counts)
    return DELIMITERS[counts.index(best)] if best else ","


def sniff_bytes(head: bytes, *, complete: bool, name: str | None = None) -> TableFormat:
    """``sniff`` on the first bytes of a file (all of them when ``complete``)."""
    encoding, presumed = detect_encoding(head, complete=complete, name=name)
    if encoding == "utf-16":
        text = head[: len(head) // 2 * 2].decode("utf-16", errors="replace")
    else:
        text = head.decode("utf-8-sig" if encoding != "cp1252" else encoding, errors="replace")
    lines = (line for line in re.split(r"\r\n|\r|\n", text, maxsplit=64) if line.strip())
    return TableFormat(encoding, detect_delimiter(next(lines, "")), presumed)


def sniff(path: str | os.PathLike[str], *, sample: int | None = None) -> TableFormat:
    """The encoding and separator of the file at ``path``, from its first ``sample`` bytes
    (default ``SAMPLE``)."""
    name = os.fspath(path)
    sample = sample or SAMPLE
    with open_bytes(name) as raw:
        head = raw.read(sample + 1)
    return sniff_bytes(head[:sample], complete=len(head) <= sample, name=name)


def open_bytes(name: str) -> BinaryIO:
    """The file opened for reading bytes, or ``MalformedInput`` saying why it cannot be."""
    try:
        return open(name, "rb")  # the caller closes it
    except FileNotFoundError:
        raise _unreadable("file_not_found", "file not found", name) from None
    except OSError as error:
        reason = error.strerror or str(error)
        raise _unreadable(
            "file_unreadable", f"cannot read the file: {reason}", name, reason=reason
        ) from None


# --- reading ----------------------------------------------------------------------------------


def decoded_lines(raw: BinaryIO, table: TableFormat, name: str | None = None) -> Iterator[str]:
    """The lines of a binary file, decoded as ``table`` says (``presumed`` UTF-8 turns to cp1252
    at the first line that is not UTF-8 when no line before was UTF-8 beyond ASCII), with their
    line ends (``\\r\\n``, ``\\n`` or ``\\r``), as ``open(newline="")`` gives them."""
    if table.encoding == "utf-16":
        wide = io.TextIOWrapper(raw, "utf-16", newline="")
        try:
            yield from wide
        except UnicodeDecodeError:
            raise _unreadable(
                "undecodable", "bytes that are not UTF-16", name, byte="UTF-16"
            ) from None
        finally:
            wide.detach()  # the caller closes ``raw``
        return
    utf8 = table.encoding in ("utf-8", "utf-8-sig")
    seen_utf8 = False
    for number, line in enumerate(raw, 1):
        if number == 1 and line.startswith(codecs.BOM_UTF8):
            line = line[len(codecs.BOM_UTF8) :]
        if b"\x00" in line:
            at = line.index(b"\x00")
            raise _unreadable(
                "binary",
                f"binary data (byte 0x00 at offset {at} of the line): not a CSV text file",
                name,
                line=number,
                byte="0x00",
                offset=at,
            )
        if line.isascii():
            text = line.decode("ascii")
        else:
            text = ""
            if utf8:
                try:
                    text = line.decode("utf-8")
                    seen_utf8 = True
                except UnicodeDecodeError as error:
                    byte = f"0x{line[error.start]:02x}"
                    if seen_utf8 or not table.presumed:
                        raise _unreadable(
                            "mixed_encoding",
                            f"bytes ({byte}) that are not UTF-8, after lines in UTF-8",
                            name,
                            line=number,
                            byte=byte,
                        ) from None
                    utf8 = False
            if not utf8:
                try:
                    text = line.decode("cp1252")
                except UnicodeDecodeError as error:
                    byte = f"0x{line[error.start]:02x}"
                    raise _unreadable(
                        "undecodable",
                        f"bytes ({byte}) neither UTF-8 nor Windows-1252: save the file as UTF-8",
                        name,
                        line=number,
                        byte=byte,
                    ) from None
        if "\r" in text[:-2]:
            yield from _LONE_CR.split(text)
        else:
            yield text


class Table:
    """A delimited text file open for reading: its ``format``, its ``header`` (cells without
    surrounding spaces) and, iterating, its records as ``(line, cells)`` (the line where the
    record ends, as ``csv`` counts; blank records are skipped). A context manager.

    Quoting is read strictly: a quote left open or text after a closing quote raises
    ``MalformedInput`` (``broken_quoting``) naming the line where the record starts.
    """

    def __init__(self, path: str | os.PathLike[str], table: TableFormat | None = None) -> None:
        self.name = os.fspath(path)
        self.format = table or sniff(self.name)
        self._raw = open_bytes(self.name)
        self._reader = csv.reader(
            decoded_lines(self._raw, self.format, self.name),
            delimiter=self.format.delimiter,
            strict=True,
        )
        try:
            first = self._next()
            while first is not None and not any(cell.strip() for cell in first[1]):
                first = self._next()  # blank lines before the header
        except BaseException:
            self.close()
            raise
        if first is None:
            self.close()
            raise _unreadable(
                "empty_file", "the file is empty (a header line is expected)", self.name
            )
        self.header = [cell.strip() for cell in first[1]]

    @property
    def line(self) -> int:
        """The number of lines read so far."""
        return int(self._reader.line_num)

    def _next(self) -> tuple[int, list[str]] | None:
        start = self._reader.line_num + 1
        try:
            cells = next(self._reader, None)
        except csv.Error as error:
            reason = str(error)
            if "field limit" in reason:
                limit = csv.field_size_limit()
                raise _unreadable(
                    "cell_too_long",
                    f"a cell longer than {limit} characters ({reason}): most likely a quote "
                    "opened and never closed",
                    self.name,
                    line=start,
                    limit=limit,
                ) from None
            raise _unreadable(
                "broken_quoting",
                f"broken quoting ({reason}): a quote opens a cell without closing it, or stands "
                "within a cell",
                self.name,
                line=start,
                reason=reason,
            ) from None
        return None if cells is None else (self._reader.line_num, cells)

    def __iter__(self) -> Iterator[tuple[int, list[str]]]:
        while (record := self._next()) is not None:
            if any(cell.strip() for cell in record[1]):
                yield record

    def close(self) -> None:
        self._raw.close()

    def __enter__(self) -> Table:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def read_table(path: str | os.PathLike[str], table: TableFormat | None = None) -> Table:
    """Open the delimited file at ``path`` (its format sniffed unless given): ``with
    read_table(path) as rows: rows.header; for line, cells in rows: ...``."""
    return Table(path, table)

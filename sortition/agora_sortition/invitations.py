"""Stage 1: draw the people (or households) to invite from a register streamed from disk.

Uniform draws without further options use reservoir sampling with skip-ahead (Li's Algorithm L):
the rows skipped are passed over as lines found by NumPy in chunks of bytes (see below), or
consumed by ``csv.reader`` inside C where a chunk is not read as bytes; the same rows are drawn
either way. Every other draw gives each sampling *unit* a seeded 63-bit priority and keeps,
per stratum, the units with the smallest priorities ("bottom-k" sampling), which is a uniform
sample without replacement:

* a unit is a row, or with household columns a household (the rows sharing the household key)
  within a stratum. All rows of a household share its priority, so it is drawn at most once per
  stratum; the member invited is its eligible row with the smallest secondary priority (uniform
  among its eligible members). A household key that determines the stratum (an address and its
  neighbourhood) therefore gives at most one invitation per household overall;
* excluded ids are skipped (their housemates stay eligible);
* a fixed allocation keeps one bottom-k per stratum. A proportional allocation needs each
  stratum's size: one pass counts the eligible rows of each stratum and keeps the 2N smallest
  priorities overall plus the 32 smallest of every stratum; a second pass is made only for
  strata the first pass did not keep enough of (rare: a stratum whose share of households is far
  below its share of rows). Allocation is proportional to the number of eligible rows, largest
  remainders first.

Speed: a row whose priority is above its stratum's current threshold can never be drawn, and
all a pass needs of it is its stratum (to count it), its priority and whether it is excluded.
So the bottom-k draws do not parse such rows at all. The file is read as bytes in chunks of
``CHUNK`` whole lines. NumPy finds the chunk's quotes, commas and line ends at once; when every
quote opens a cell just after a separator or closes one just before a separator, the commas and
line ends outside quotes split the records and cells exactly as ``csv`` would (the cells needed
lose their surrounding quotes). The few cells the draw needs are read as little-endian 64-bit
words straight from the buffer, and the strata, the priorities and the exclusion candidates (a
64-bit digest of the id, sifted by a bit table, confirmed on the decoded id) come from vectorised
passes; only the rows under their stratum's threshold become Python objects (their line, split
when drawn). A chunk with a doubled quote, a carriage return that does not end a line, a line
longer than ``csv``'s field limit or bytes neither UTF-8 nor ASCII is read by ``csv.reader`` on
its own, in batches of ``BATCH`` rows; a chunk whose last quoted cell goes on past its end is
cut at its last record's end, the rest read again with the next chunk; quotes that do not
surround cells hand the rest of the file to ``csv.reader``. Both ways compute the same
priorities and counts, so the draw does not depend on which way, nor on the chunk or batch size;
decoding errors and short rows are reported as a full ``csv`` read would.

Priorities come from keys derived from the seed with BLAKE2b. A cell's digest walks its UTF-8
bytes eight at a time, mixing each word (and first the length) into the state with a keyed round
of SplitMix64's finalizer, a bijection, so two cells of equal length differing in one word never
collide and distinct cells collide with probability about 2^-64 (a collision only ties two
households' priorities: they are drawn or left together). A household's priority chains its
columns' digests and ends with two keyed rounds; a row's is two keyed rounds on its number. This
is statistically uniform, not a cryptographic function; as with any seed, a draw that must not
depend on its operator takes its seed from a public random value fixed in advance. (Version 2 of
these priorities, "agora-invitations/2", hashes bytes instead of code points: a seed draws other
households than under version 1.)

Encodings and separators: the register's are those ``tables.sniff`` finds (UTF-8 with or
without BOM, UTF-16 with BOM, Windows-1252; ``,``, ``;`` or tab). The bytes read directly are
split on the separator's byte as on the comma; a Windows-1252 chunk holding bytes beyond ASCII is
read by ``csv.reader``, as is all of a UTF-16 file. Cells are hashed as UTF-8 whatever the file's
encoding, so a register and its UTF-8, comma-separated copy draw the same people.

Time O(rows), memory O(N + strata + exclusions + CHUNK); the seed makes the draw reproducible.
"""

from __future__ import annotations

import codecs
import csv
import functools
import hashlib
import io
import math
import os
import random
import re
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter, methodcaller
from typing import BinaryIO, NamedTuple, Protocol

import numpy as np
import numpy.typing as npt

from .errors import MalformedInput
from .tables import TableFormat, find_column, read_table, sniff

Int64s = npt.NDArray[np.int64]
UInt64s = npt.NDArray[np.uint64]
Indexes = npt.NDArray[np.intp]
Bools = npt.NDArray[np.bool_]
Row = str | list[str] | bytes  # a candidate: packed cells, its cells, or its line's bytes
Take = Callable[[Indexes], tuple[list[Row], list[bytes] | None]]

BATCH = 512  # rows per batch read by csv.reader: below the garbage collector's trigger
CHUNK = 1 << 20  # bytes per chunk read directly
EVERY = np.iinfo(np.int64).max  # threshold letting every priority through
NONE = -1  # threshold letting none through
_SEPARATOR = "\x1f"
FLOOR = 32  # units every stratum keeps in a proportional draw, beyond its share of the 2N
_UTF8 = frozenset({"utf-8", "utf-8-sig"})
_ASCII = frozenset({"ascii", "iso8859-1", "iso8859-15", "cp1252"})  # ASCII bytes mean ASCII


@functools.cache
def _record(sep: str) -> re.Pattern[bytes]:
    """A line that is one record: cells unquoted, or quoted without line ends (quotes doubled)."""
    cell = rb'(?:"(?:[^"\r\n]|"")*"|[^"%s\r\n]*)' % re.escape(sep.encode())
    return re.compile(cell + rb"(?:" + re.escape(sep.encode()) + cell + rb")*\r?\n")


_ALONE = -1  # a chunk to read with csv.reader, on its own
_MASKS = np.array([(1 << 8 * i) - 1 for i in range(8)] + [2**64 - 1], np.uint64)
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)


@dataclass(frozen=True)
class Invitations:
    """The drawn rows (in draw order) and, per stratum, ``(invited, eligible rows)``."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    strata: dict[str, tuple[int, int]]


class _Cells(Protocol):
    """One column of a batch: each cell's byte length and its bytes as 64-bit words."""

    lengths: Int64s

    def word(self, j: int) -> UInt64s:
        """Bytes 8j to 8j+7 of every cell, little-endian, zero past the cell's end (a copy)."""
        ...


class _Padded:
    """Cells given as bytes objects (rows read by ``csv.reader``)."""

    def __init__(self, cells: list[bytes]) -> None:
        self.lengths = np.fromiter(map(len, cells), np.int64, len(cells))
        width = max(1, (int(self.lengths.max(initial=0)) + 7) // 8)
        self.words = np.array(cells, dtype=f"S{8 * width}").view("<u8").reshape(-1, width)

    def word(self, j: int) -> UInt64s:
        if j >= self.words.shape[1]:
            return np.zeros(len(self.lengths), np.uint64)
        return self.words[:, j].astype(np.uint64)


class _Span:
    """Cells given as byte ranges of a chunk (``words``: the chunk's unaligned 8-byte windows)."""

    def __init__(self, words: UInt64s, starts: Int64s, ends: Int64s) -> None:
        self.words, self.starts, self.lengths = words, starts, ends - starts

    def word(self, j: int) -> UInt64s:
        at = self.starts + 8 * j
        np.minimum(at, len(self.words) - 1, out=at)
        word: UInt64s = self.words[at]
        word &= _MASKS[np.clip(self.lengths - 8 * j, 0, 8)]
        return word


def _fmix(x: UInt64s) -> None:
    """SplitMix64's finalizer, in place."""
    x ^= x >> 30
    x *= _M1
    x ^= x >> 27
    x *= _M2
    x ^= x >> 31


class _Priorities:
    """Seeded priorities in [0, 2^63): of household keys, of row numbers, of household members."""

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.home, self.row, self.member = (self._words(k, 2) for k in ("home", "row", "member"))
        self.keys: dict[str, UInt64s] = {}

    def _words(self, label: str, count: int, start: int = 0) -> UInt64s:
        return np.array(
            [
                int.from_bytes(
                    hashlib.blake2b(
                        f"agora-invitations/2 {self.seed} {label} {j}".encode(), digest_size=8
                    ).digest()
                )
                for j in range(start, start + count)
            ],
            dtype=np.uint64,
        )

    def digest(self, cells: _Cells, label: str) -> UInt64s:
        """A keyed 64-bit digest of each cell's bytes (cells of any length)."""
        words = (int(cells.lengths.max(initial=0)) + 7) // 8
        keys = self.keys.get(label, np.zeros(0, np.uint64))
        if len(keys) < words + 1:
            keys = self.keys[label] = np.concatenate(
                [keys, self._words(label, words + 9 - len(keys), len(keys))]
            )
        state = cells.lengths.astype(np.uint64)
        state ^= keys[0]
        _fmix(state)
        shortest = int(cells.lengths.min(initial=1 << 62))
        for j in range(words):
            word = cells.word(j)
            word ^= state
            word ^= keys[j + 1]
            _fmix(word)
            if 8 * j >= shortest:  # cells already ended keep their state
                np.copyto(word, state, where=cells.lengths <= 8 * j)
            state = word
        return state

    def _mix(self, x: UInt64s, keys: UInt64s) -> Int64s:
        for key in keys:  # two keyed rounds of SplitMix64's finalizer, in place
            x ^= key
            _fmix(x)
        x >>= 1
        return x.view(np.int64)

    def homes(self, columns: Sequence[_Cells]) -> Int64s:
        """The priorities of households given by the cells of their key columns."""
        state = self.digest(columns[0], "home 0")
        for c, cells in enumerate(columns[1:], 1):
            state ^= self.digest(cells, f"home {c}")
            _fmix(state)
        return self._mix(state, self.home)

    def households(self, keys: list[str]) -> Int64s:
        """The priorities of households keyed by one column."""
        return self.homes([_Padded([key.encode() for key in keys])])

    def ids(self, cells: _Cells) -> UInt64s:
        return self.digest(cells, "id")

    def rows(self, numbers: Int64s) -> Int64s:
        return self._mix(numbers.astype(np.uint64), self.row)

    def members(self, numbers: Int64s) -> Int64s:
        return self._mix(numbers.astype(np.uint64), self.member)


class _Index(dict[str, int]):
    """Stratum name -> number, numbering new names as they come (C-level ``__getitem__``)."""

    def __missing__(self, name: str) -> int:
        number = self[name] = len(self)
        return number


class _Sample:
    """Bottom-k units per group over a stream of batches, with counts of eligible rows.

    A stratum keeps its ``each`` smallest units (a mapping, or one number for every stratum),
    and with ``total`` the strata together also keep their ``total`` smallest. Rows under their
    stratum's threshold are kept; when as many new rows as the caps have come, each threshold is
    lowered to the priority that keeps just the caps, and the rows above it are dropped (those of
    the current batch before they are even fetched). A threshold only ever decreases, so no row
    dropped could be needed: every row of every unit under the final thresholds is kept.
    """

    def __init__(
        self,
        each: Mapping[str, int] | int,
        *,
        total: int = 0,
        stratified: bool,
        priorities: _Priorities,
    ) -> None:
        self.each = each
        self.total = total
        self.priorities = priorities
        self.index = _Index() if stratified else _Index({"": 0})
        self.counts = np.zeros(0, np.int64)
        self.limits = np.zeros(0, np.int64)  # threshold per stratum number
        self.grow()
        self.flush_at = max(total + (sum(each.values()) if isinstance(each, Mapping) else 0), BATCH)
        self.rows: list[Row] = []  # the rows of the units under the thresholds
        self.homes: list[bytes] = []  # their household keys (with households)
        self.parts: list[tuple[Int64s, Indexes, Int64s]] = []  # priority, stratum, row number
        self.pending = 0

    def grow(self) -> None:
        """Give the strata numbered since the last call their count and threshold."""
        grown = len(self.index) - len(self.counts)
        if not grown:
            return
        self.counts = np.concatenate([self.counts, np.zeros(grown, np.int64)])
        names = list(self.index)[len(self.limits) :]
        new = [EVERY if self.total or self._cap(name) else NONE for name in names]
        self.limits = np.concatenate([self.limits, np.array(new, np.int64)])

    def _cap(self, name: str) -> int:
        return self.each.get(name, 0) if isinstance(self.each, Mapping) else self.each

    def add(
        self,
        first: int,
        number: Indexes,
        priority: Int64s,
        eligible: Bools | None,
        take: Take,
    ) -> None:
        """Offer a batch whose rows are numbered from ``first``, in strata ``number``;
        ``take`` gives the rows (and household keys) at some of its positions."""
        self.grow()
        counted = number if eligible is None else number[eligible]
        self.counts += np.bincount(counted, minlength=len(self.counts))
        passing = priority <= self.limits[number]
        if eligible is not None:
            passing &= eligible
        picked = np.flatnonzero(passing)
        if not len(picked):
            return
        old = len(self.rows)
        self.parts.append((priority[picked], number[picked], picked + first))
        self.pending += len(picked)
        if self.pending >= self.flush_at:
            kept = self._cut()
            split = int(np.searchsorted(kept, old))
            keep = kept[:split].tolist()
            self.rows = list(map(self.rows.__getitem__, keep))
            if self.homes:
                self.homes = list(map(self.homes.__getitem__, keep))
            picked = picked[kept[split:] - old]
        rows, homes = take(picked)
        self.rows.extend(rows)
        if homes is not None:
            self.homes.extend(homes)

    def _cut(self) -> Indexes:
        """Lower the thresholds to the priorities that keep just the caps; the positions kept.

        The rows of a household share its priority, so distinct priorities stand for units (two
        households sharing one only leave a threshold higher, which is safe).
        """
        self.pending = 0
        priority, stratum, line = self._columns()
        caps = np.array([self._cap(name) for name in self.index], np.int64)
        if self.total:
            overall = _limits(priority, np.zeros_like(stratum), np.array([self.total]))[0]
            limits = np.full(len(caps), overall)
            # strata with fewer rows than their cap under the overall threshold keep their own
            sparse = np.bincount(stratum[priority <= overall], minlength=len(caps)) < caps
            if sparse.any():
                mine = sparse[stratum]
                own = _limits(priority[mine], stratum[mine], np.where(sparse, caps, 0))
                limits[sparse] = np.maximum(own[sparse], overall)
        else:
            limits = _limits(priority, stratum, caps)
        self.limits = limits
        kept = np.flatnonzero(priority <= limits[stratum])
        self.parts = [(priority[kept], stratum[kept], line[kept])]
        return kept

    def _columns(self) -> tuple[Int64s, Indexes, Int64s]:
        priority, stratum, line = zip(*self.parts, strict=True)
        return np.concatenate(priority), np.concatenate(stratum), np.concatenate(line)

    def drawn(self) -> dict[str, list[Row]]:
        """Per stratum, the rows of its units under the thresholds, in priority order.

        A household's row is its eligible member with the smallest secondary priority. Each
        stratum's list starts with its capped units, or holds all of its units when shorter.
        """
        if not self.parts:
            return {}
        priority, stratum, line = self._columns()
        if not self.homes:
            order = np.lexsort((line, priority, stratum))
        else:
            order = np.lexsort((self.priorities.members(line), priority, stratum))
            order = np.delete(order, self._repeated(order, priority, stratum))
        names = list(self.index)
        found: dict[str, list[Row]] = {}
        for i, number in zip(order.tolist(), stratum[order].tolist(), strict=True):
            found.setdefault(names[number], []).append(self.rows[i])
        return found

    def _repeated(self, order: Indexes, priority: Int64s, stratum: Indexes) -> list[int]:
        """Positions in ``order`` of rows whose (stratum, household) came earlier in ``order``."""
        p, s = priority[order], stratum[order]
        tied = np.flatnonzero((p[1:] == p[:-1]) & (s[1:] == s[:-1])) + 1
        homes, at = self.homes, order.tolist()
        repeated = []
        seen: set[bytes] = set()
        previous = -2
        for i in tied.tolist():
            if i != previous + 1:  # a new run of equal priorities, starting at i - 1
                seen = {homes[at[i - 1]]}
            home = homes[at[i]]
            if home in seen:
                repeated.append(i)
            seen.add(home)
            previous = i
        return repeated

    def complete(self, name: str) -> bool:
        """Whether every unit of the stratum was kept (its threshold never went down)."""
        return name not in self.index or self.limits[self.index[name]] == EVERY

    @property
    def sizes(self) -> dict[str, int]:
        return dict(zip(self.index, self.counts.tolist(), strict=True))


def _packed(rows: list[list[str]]) -> list[Row]:
    """Each row as one string of its cells (or as itself when a cell holds the separator).

    Keeping a candidate as one string instead of a list of cells spares the allocator: the
    cells go back at once, and the rows read next reuse memory that is still in the cache.
    """
    packed: list[Row] = list(map(_SEPARATOR.join, rows))
    separators = sum(map(methodcaller("count", _SEPARATOR), packed))
    if separators == sum(map(len, rows)) - len(rows):
        return packed
    return [r if _SEPARATOR in "".join(r) else p for p, r in zip(packed, rows, strict=True)]


def _unpack(row: Row, sep: str = ",") -> tuple[str, ...]:
    if isinstance(row, bytes):  # a line: csv would split one without quotes on separators
        if not row:
            return ()
        text = row.decode()
        if '"' in text:
            return tuple(next(csv.reader(io.StringIO(text, newline=""), delimiter=sep)))
        return tuple(text.split(sep))
    return tuple(row.split(_SEPARATOR) if isinstance(row, str) else row)


def _limits(priority: Int64s, group: Indexes, caps: Int64s) -> Int64s:
    """Per group, the cap-th smallest distinct priority (every one when fewer, none when 0)."""
    order = np.argsort(priority) if len(caps) == 1 else np.lexsort((priority, group))
    p, g = priority[order], group[order]
    first = np.r_[True, (p[1:] != p[:-1]) | (g[1:] != g[:-1])]
    p, g = p[first], g[first]
    at_cap = _rank(g) == caps[g] - 1
    limits = np.where(caps > 0, EVERY, NONE)
    limits[g[at_cap]] = p[at_cap]
    return limits


def _rank(groups: Indexes) -> Indexes:
    """Each element's position within its run of equal values (``groups`` is sorted)."""
    starts = np.flatnonzero(np.r_[True, groups[1:] != groups[:-1]])
    return np.arange(len(groups)) - np.repeat(starts, np.diff(np.r_[starts, len(groups)]))


def _allocate(sizes: Mapping[str, int], total: int) -> dict[str, int]:
    """Largest-remainder proportional allocation of ``total`` seats (ties by stratum name)."""
    population = sum(sizes.values())
    if population == 0:
        return dict.fromkeys(sizes, 0)
    exact = {s: total * n / population for s, n in sizes.items()}
    seats = {s: math.floor(x) for s, x in exact.items()}
    spare = total - sum(seats.values())
    for s in sorted(exact, key=lambda s: (seats[s] - exact[s], s))[:spare]:
        seats[s] += 1
    return seats


def _reservoir(
    rows: Iterator[Row], count: int, rng: random.Random, skip: Callable[[int], None]
) -> list[Row]:
    """Algorithm L (Li 1994): uniform sample of ``count`` rows, ``skip`` passing over rows."""
    sample = list(islice(rows, count))
    if len(sample) < count:
        return sample
    weight = math.exp(math.log(rng.random()) / count)
    while True:
        skip(math.floor(math.log(rng.random()) / math.log1p(-weight)))
        row = next(rows, None)
        if row is None:
            return sample
        sample[rng.randrange(count)] = row
        weight *= math.exp(math.log(rng.random()) / count)


def _skipper(rows: Iterator[list[str]]) -> Callable[[int], None]:
    def skip(count: int) -> None:
        deque(islice(rows, count), maxlen=0)  # in C

    return skip


class _Pieces:
    """The rest of the file in chunks of whole lines, each with its position; a chunk of None
    when a line is longer than a chunk and than csv allows (csv.reader reads from there)."""

    def __init__(self, raw: BinaryIO, position: int) -> None:
        raw.seek(position)
        self.raw, self.position = raw, position
        self.rest = b""
        self.ended = False

    def __iter__(self) -> _Pieces:
        return self

    def __next__(self) -> tuple[int, bytes | None]:
        while True:
            block = b"" if self.ended else self.raw.read(CHUNK)
            data = self.rest + block if self.rest else block
            if not block:  # the end, perhaps a last line without its line end
                self.ended = True
                if not data:
                    raise StopIteration
                chunk, self.rest = data if data.endswith(b"\n") else data + b"\n", b""
                break
            cut = data.rfind(b"\n") + 1
            if cut:
                chunk, self.rest = data[:cut], data[cut:]
                break
            if len(data) > csv.field_size_limit():  # a line longer than a chunk and csv allows
                self.ended, self.rest = True, b""
                return self.position, None
            self.rest = data
        position = self.position
        self.position += len(chunk)
        return position, chunk

    def back(self, tail: bytes) -> None:
        """Read again the end of the last chunk (from a record's start) with what follows."""
        self.position -= len(tail)
        self.rest = tail + self.rest


def _layouts(
    raw: BinaryIO, start: int, utf8: bool, *, commas: bool, sep: int = 44
) -> Iterator[tuple[int, bytes | None, _Layout | int | None]]:
    """The file from byte ``start`` in chunks of whole records: each chunk's position, bytes
    and layout (or what ``_layout`` says instead)."""
    pieces = _Pieces(raw, start)
    for position, chunk in pieces:
        layout = None if chunk is None else _layout(chunk, utf8, commas=commas, sep=sep)
        if isinstance(layout, _Cut):  # a quoted line end straddles the chunk's end
            assert chunk is not None
            pieces.back(chunk[layout:])
            chunk = chunk[:layout]
            layout = _layout(chunk, utf8, commas=commas, sep=sep)
        yield position, chunk, layout


class _Cut(int):
    """A chunk's records end at this byte (a quoted cell goes on past the chunk's end)."""


class _Lines:
    """The rows after the header, as csv.reader would give them, from byte ``position``:
    a chunk whose layout is known yields its lines (bytes) and skips them without parsing."""

    def __init__(self, raw: BinaryIO, position: int, encoding: str, utf8: bool, sep: str) -> None:
        self.raw, self.encoding, self.utf8, self.sep = raw, encoding, utf8, sep
        self.layouts = _layouts(raw, position, utf8, commas=False, sep=ord(sep))
        self.chunk = b""
        self.starts = self.ends = np.zeros(0, np.int64)
        self.parsed: list[list[str]] | None = None  # a chunk read by csv.reader
        self.at = self.size = 0
        self.reader: Iterator[list[str]] | None = None  # csv.reader for the rest of the file

    def __iter__(self) -> _Lines:
        return self

    def __next__(self) -> Row:
        while self.at == self.size:
            if self.reader is not None:
                return next(self.reader)
            if not self._load():
                raise StopIteration
        self.at += 1
        if self.parsed is not None:
            return self.parsed[self.at - 1]
        return self.chunk[self.starts[self.at - 1] : self.ends[self.at - 1]]

    def skip(self, count: int) -> None:
        while count > self.size - self.at:
            count -= self.size - self.at
            self.at = self.size
            if self.reader is not None:
                deque(islice(self.reader, count), maxlen=0)
                return
            if not self._load():
                return
        self.at += count

    def _load(self) -> bool:
        """Take the next chunk (or the rest of the file); whether there is any."""
        position, chunk, layout = next(self.layouts, (0, b"", None))
        if not chunk and chunk is not None:
            return False
        self.at, self.parsed = 0, None
        if isinstance(layout, _Layout):
            assert chunk is not None
            self.chunk, self.starts, self.ends = chunk, layout.starts, layout.ends
            self.size = len(self.starts)
        elif layout == _ALONE:
            assert chunk is not None
            text = io.StringIO(chunk.decode(self.encoding), newline="")
            self.parsed = list(csv.reader(text, delimiter=self.sep, strict=True))
            self.size = len(self.parsed)
        else:
            self.raw.seek(position)
            wrapper = io.TextIOWrapper(self.raw, self.encoding, newline="")
            self.reader = csv.reader(wrapper, delimiter=self.sep, strict=True)
            self.size = 0
        return True


class _UntilError:
    """The rows of a ``csv.reader`` up to its first error, which is kept in ``error``."""

    def __init__(self, reader: Iterator[list[str]]) -> None:
        self.reader = reader
        self.error: csv.Error | None = None

    def __iter__(self) -> Iterator[list[str]]:
        try:
            yield from self.reader
        except csv.Error as error:
            self.error = error


class _Layout(NamedTuple):
    """A chunk's records: its bytes, its separators outside quotes (the line ends, and the
    commas when asked), which of them end lines, and where each line starts and ends (without
    its carriage return); whether the chunk holds quotes."""

    buf: npt.NDArray[np.uint8]
    cuts: Int64s
    at_end: Int64s
    starts: Int64s
    ends: Int64s
    quoted: bool


def _layout(chunk: bytes, utf8: bool, *, commas: bool, sep: int = 44) -> _Layout | int | None:
    """The chunk's layout; or ``_ALONE`` when its records are whole but csv.reader must read
    them (doubled quotes, a carriage return that does not end a line, a line longer than csv
    allows, bytes that are neither ASCII nor, in a UTF-8 file, UTF-8); or a ``_Cut`` when a
    quoted cell goes on past the chunk's end; or None when quotes do not surround cells, or a
    quoted cell holds the chunk's every line end (csv.reader must read the rest of the file).
    ``sep`` is the separator's byte (44, the comma; or 59, 9: semicolon, tab)."""
    buf = np.frombuffer(chunk, np.uint8)
    separators = buf == 10
    if commas:
        separators |= buf == sep
    quoted = b'"' in chunk
    if quoted:  # cells "...": quotes open just after a separator, close just before one
        quotes = np.flatnonzero(buf == 34)
        if len(quotes) % 2:  # records end at the last line end outside quotes, if any
            lines = np.flatnonzero(buf[: quotes[-1]] == 10)
            outside = lines[(np.searchsorted(quotes, lines) & 1) == 0]
            return _Cut(int(outside[-1]) + 1) if len(outside) else None
        opening, closing = quotes[0::2], quotes[1::2]
        doubled = closing[:-1] + 1 == opening[1:]  # "" within a quoted cell
        left, right = buf[opening - 1], buf[closing + 1]
        opens = (left == sep) | (left == 10)
        opens[1:] |= doubled
        closes = (right == sep) | (right == 10) | (right == 13)
        closes[:-1] |= doubled
        if not (opens.all() and closes.all()):
            return None
        if doubled.any():
            return _ALONE
    if not chunk.isascii():
        if not utf8:
            return _ALONE
        chunk.decode()  # invalid bytes fail here as they would in csv.reader's text
    cuts = np.flatnonzero(separators)
    if quoted:  # those after an odd number of quotes are within a cell
        cuts = cuts[(np.searchsorted(quotes, cuts) & 1) == 0]
    at_end = np.flatnonzero(buf[cuts] == 10) if commas else np.arange(len(cuts))
    ends = cuts[at_end]
    starts = np.empty_like(ends)
    starts[0] = 0
    starts[1:] = ends[:-1] + 1
    crlf = buf[ends - 1] == 13
    if np.count_nonzero(buf == 13) != np.count_nonzero(crlf):
        return _ALONE  # a carriage return that does not end a line
    ends -= crlf
    if int((ends - starts).max()) > csv.field_size_limit():
        return _ALONE  # perhaps a cell over the limit: csv.reader says so
    return _Layout(buf, cuts, at_end, starts, ends, quoted)


def _first_line(
    path: str | os.PathLike[str], encoding: str, header: Sequence[str], sep: str
) -> int | None:
    """The byte length of the file's first line when it alone is the header ``csv`` read."""
    if codecs.lookup(encoding).name not in _UTF8 | _ASCII:
        return None
    with open(path, "rb") as raw:
        line = raw.readline(1 << 20)  # a longer header is read by csv.reader
    if not _record(sep).fullmatch(line):
        return None
    cells = next(csv.reader([line.decode(encoding)], delimiter=sep), [])
    return len(line) if cells == list(header) else None


def draw_invitations(
    path: str | os.PathLike[str],
    count: int,
    *,
    seed: int,
    stratify: str | None = None,
    fixed: Mapping[str, int] | None = None,
    household_columns: Sequence[str] = (),
    id_column: str | None = None,
    exclude: Collection[str] = frozenset(),
    encoding: str | None = None,
    delimiter: str | None = None,
) -> Invitations:
    """Draw ``count`` rows (or, with ``fixed``, the given number per stratum) from a CSV.

    ``encoding`` and ``delimiter`` are those ``tables.sniff`` finds unless given (UTF-8 with or
    without BOM, UTF-16 with BOM, Windows-1252; ``,``, ``;`` or tab); UTF-8 presumed on an ASCII
    sample turns to Windows-1252 when a later line is not UTF-8 (the draw is then made again:
    ASCII reads the same in both). Column names match the header's up to case and accents where
    that is unambiguous (``tables.find_column``). A file that cannot be read is refused with
    ``MalformedInput`` naming its line and the probable cause. Cells are hashed as UTF-8 bytes
    whatever the file's encoding: a register and its UTF-8 copy draw the same people.
    """
    name = os.fspath(path)
    if count < 0 or (fixed is not None and any(v < 0 for v in fixed.values())):
        raise MalformedInput(
            "the number of invitations must not be negative", key="negative_invitations"
        )
    if fixed is not None and stratify is None:
        raise MalformedInput(
            "a fixed allocation needs a stratification column", key="fixed_needs_stratum"
        )
    if exclude and id_column is None:
        raise MalformedInput("an exclusion list needs the id column", key="exclude_needs_id")
    sniffed = sniff(name) if encoding is None or delimiter is None else None
    table = TableFormat(
        encoding or (sniffed.encoding if sniffed else "utf-8-sig"),
        delimiter or (sniffed.delimiter if sniffed else ","),
        encoding is None and sniffed is not None and sniffed.presumed,
    )
    draw = functools.partial(
        _draw, name, count, seed, stratify, fixed, household_columns, id_column, exclude
    )
    try:
        return draw(table.encoding, table.delimiter)
    except (UnicodeDecodeError, csv.Error) as error:
        if not (table.presumed and isinstance(error, UnicodeDecodeError)):
            raise _diagnosis(name, table, error) from None
    table = TableFormat("cp1252", table.delimiter)
    try:
        return draw(table.encoding, table.delimiter)
    except (UnicodeDecodeError, csv.Error) as error:
        raise _diagnosis(name, table, error) from None


def _diagnosis(name: str, table: TableFormat, error: Exception) -> MalformedInput:
    """The error ``tables.read_table`` finds in the file (with its line and cause)."""
    try:
        with read_table(name, table) as rows:
            for _ in rows:
                pass
    except MalformedInput as found:
        return found
    reason = str(error)
    return MalformedInput(
        f"cannot read the file: {reason}", key="file_unreadable", file=name, reason=reason
    )


def _draw(
    name: str,
    count: int,
    seed: int,
    stratify: str | None,
    fixed: Mapping[str, int] | None,
    household_columns: Sequence[str],
    id_column: str | None,
    exclude: Collection[str],
    encoding: str,
    sep: str,
) -> Invitations:
    unpack = functools.partial(_unpack, sep=sep)
    with open(name, newline="", encoding=encoding) as handle:
        reader = csv.reader(handle, delimiter=sep, strict=True)
        cells = next(reader, [])
        header = tuple(h.strip() for h in cells)
        wanted = [c for c in (stratify, id_column, *household_columns) if c]
        found = {c: find_column(header, c, file=name) for c in wanted}
        missing = [c for c, at in found.items() if at is None]
        if missing:
            raise MalformedInput(
                f"missing column(s) {', '.join(missing)}",
                key="missing_columns",
                file=name,
                line=1,
                column=missing[0],
                missing=", ".join(missing),
                found=sep.join(header),
                delimiter=repr(sep),
            )
        real = {c: header[at] for c, at in found.items() if at is not None}
        stratify = real.get(stratify or "", stratify)
        id_column = real.get(id_column or "", id_column)
        household_columns = [real[c] for c in household_columns]
        offset = _first_line(name, encoding, cells, sep)
        if stratify is None and not household_columns and not exclude:
            rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not secrecy
            if offset is None:
                drawn = _reservoir(reader, count, rng, _skipper(reader))
            else:
                with open(name, "rb") as raw:
                    codec = codecs.lookup(encoding).name
                    body = "utf-8" if codec == "utf-8-sig" else encoding
                    lines = _Lines(raw, offset, body, codec in _UTF8, sep)
                    drawn = _reservoir(lines, count, rng, lines.skip)
            rng.shuffle(drawn)  # report in a random order, not file order
            invited = list(map(unpack, drawn))
            _check_width(invited, header, name)
            return Invitations(header, tuple(invited), {"": (len(drawn), -1)})
    scan = _Scan(name, header, seed, stratify, household_columns, id_column, exclude, encoding, sep)
    if fixed is not None:
        sample = scan.run(offset, fixed)
        alloc = dict(fixed)
    else:
        # the 2N smallest overall, and at least the FLOOR smallest of every stratum
        sample = scan.run(offset, FLOOR, total=2 * count)
        alloc = _allocate(sample.sizes, count)
    chosen = sample.drawn()
    sizes = sample.sizes
    short = {
        s: n for s, n in alloc.items() if len(chosen.get(s, ())) < n and not sample.complete(s)
    }
    if short:  # second pass restricted to the strata the first pass kept too few of
        chosen.update(scan.run(offset, short).drawn())
    invited = [unpack(row) for s in sorted(alloc) for row in chosen.get(s, [])[: alloc[s]]]
    _check_width(invited, header, name)
    strata = {s: (min(n, len(chosen.get(s, ()))), sizes.get(s, 0)) for s, n in alloc.items()}
    return Invitations(header, tuple(invited), strata)


class _Scan:
    """One pass over the register's rows, feeding a ``_Sample`` chunk by chunk (read as bytes,
    or by ``csv.reader`` when a chunk must be), then, if quotes do not surround cells, batch by
    batch of rows read by ``csv.reader`` for the rest of the file."""

    def __init__(
        self,
        name: str,
        header: Sequence[str],
        seed: int,
        stratify: str | None,
        household_columns: Sequence[str],
        id_column: str | None,
        exclude: Collection[str],
        encoding: str,
        sep: str = ",",
    ) -> None:
        self.name = name
        self.encoding = encoding
        self.sep = sep
        codec = codecs.lookup(encoding).name
        self.utf8 = codec in _UTF8
        self.body_encoding = "utf-8" if codec == "utf-8-sig" else encoding  # no BOM past 0
        self.width = len(header)
        self.priorities = _Priorities(seed)
        self.stratum = header.index(stratify) if stratify else None
        self.id = header.index(id_column) if id_column else None
        self.home = [header.index(c) for c in household_columns]
        self.used = max([c for c in (self.stratum, self.id) if c is not None] + self.home)
        self.exclude = exclude if isinstance(exclude, set | frozenset) else frozenset(exclude)
        self.excluded = np.zeros(0, np.uint64)  # sorted digests of the excluded ids
        self.slot, self.slots = np.uint64(63), np.zeros(2, np.bool_)  # their top bits' table
        if self.exclude and self.id is not None:
            ids = _Padded([i.encode() for i in self.exclude])
            self.excluded = np.unique(self.priorities.ids(ids))
            # 16 to 32 slots per exclusion (at most 2^24): most ids are ruled out by one lookup
            bits = min(24, max(16, (16 * len(self.excluded)).bit_length()))
            self.slot = np.uint64(64 - bits)
            self.slots = np.zeros(1 << bits, np.bool_)
            self.slots[self.excluded >> self.slot] = True

    def run(self, offset: int | None, each: Mapping[str, int] | int, *, total: int = 0) -> _Sample:
        """A pass over the rows, from byte ``offset`` (directly) or, when None, past the
        header read by ``csv.reader``."""
        sample = _Sample(
            each,
            total=total,
            stratified=self.stratum is not None,
            priorities=self.priorities,
        )
        if offset is None:
            with open(self.name, newline="", encoding=self.encoding) as handle:
                reader = csv.reader(handle, delimiter=self.sep, strict=True)
                next(reader, None)
                self._rows(reader, sample, 0)
            return sample
        with open(self.name, "rb") as raw:
            first, position = self._chunks(raw, sample, offset)
            if position is not None:  # the rest is not simple: csv.reader from that record
                raw.seek(position)
                text = io.TextIOWrapper(raw, encoding=self.body_encoding, newline="")
                self._rows(csv.reader(text, delimiter=self.sep, strict=True), sample, first)
        return sample

    # ---- bytes read directly

    def _chunks(self, raw: BinaryIO, sample: _Sample, start: int) -> tuple[int, int | None]:
        """Feed the chunks; the rows fed and, when csv.reader must read the rest, where."""
        first = 0
        codes = _Codes()
        chunks = _layouts(raw, start, self.utf8, commas=True, sep=ord(self.sep))
        for position, chunk, layout in chunks:
            rows = None if chunk is None else self._chunk(chunk, layout, first, sample, codes)
            if rows is None:
                return first, position
            if rows == _ALONE:
                assert chunk is not None
                text = io.StringIO(chunk.decode(self.body_encoding), newline="")
                first = self._rows(csv.reader(text, delimiter=self.sep, strict=True), sample, first)
            else:
                first += rows
        return first, None

    def _chunk(
        self, chunk: bytes, layout: _Layout | int | None, first: int, sample: _Sample, codes: _Codes
    ) -> int | None:
        """Feed the chunk's rows and say how many; or, when the chunk is not to be read as
        bytes, what ``_layout`` says."""
        if not isinstance(layout, _Layout):
            return layout
        buf, cuts, at_end, starts, ends, quoted = layout
        words = np.ndarray((len(chunk) + 1,), "<u8", chunk + bytes(8), strides=(1,))
        before = np.empty_like(at_end)  # where each line's cuts start
        before[0] = 0
        before[1:] = at_end[:-1] + 1
        cells = at_end - before + 1
        cells[ends == starts] = 0  # an empty line: csv gives no cell
        short = cells <= self.used
        if short.any():
            i = int(np.argmax(short))
            raise MalformedInput(
                f"a row has {cells[i]} cells, the header {self.width}",
                key="short_row",
                file=self.name,
                line=first + i + 2,
                found=int(cells[i]),
                expected=self.width,
            )

        def span(c: int) -> tuple[Int64s, Int64s]:
            """Cell c of every line (which has more cells: checked above)."""
            begin = starts if c == 0 else cuts[before + (c - 1)] + 1
            end = cuts[before + c]
            end -= (buf[end] == 10) & (buf[end - 1] == 13)
            if quoted:  # the quotes around a cell are not in it
                around = buf[begin] == 34
                begin = begin + around
                end -= around
            return begin, end

        n = len(ends)
        number = np.zeros(n, np.intp)
        if self.stratum is not None:
            number = codes.numbers(_Span(words, *span(self.stratum)), chunk, sample)
        eligible = None
        if len(self.excluded):
            assert self.id is not None
            ids = _Span(words, *span(self.id))
            digest = self.priorities.ids(ids)
            maybe = np.flatnonzero(self.slots[digest >> self.slot])
            at = np.minimum(np.searchsorted(self.excluded, digest[maybe]), len(self.excluded) - 1)
            maybe = maybe[self.excluded[at] == digest[maybe]]
            if len(maybe):
                s, e = ids.starts[maybe].tolist(), (ids.starts + ids.lengths)[maybe].tolist()
                found = zip(maybe.tolist(), s, e, strict=True)
                out = [i for i, a, b in found if _cell(chunk, a, b) in self.exclude]
                if out:
                    eligible = np.ones(n, np.bool_)
                    eligible[out] = False
        homes = [span(c) for c in self.home]
        if homes:
            priority = self.priorities.homes([_Span(words, *h) for h in homes])
        else:
            priority = self.priorities.rows(np.arange(first, first + n))

        def take(at: Indexes) -> tuple[list[Row], list[bytes] | None]:
            rows: list[Row] = list(_slices(chunk, starts[at], ends[at]))
            if not homes:
                return rows, None
            keys = [_slices(chunk, b[at], e[at]) for b, e in homes]
            if len(keys) == 1:
                return rows, keys[0]
            return rows, list(map(b"\x1f".join, zip(*keys, strict=True)))

        sample.add(first, number, priority, eligible, take)
        return n

    # ---- rows read by csv.reader

    def _rows(self, reader: Iterator[list[str]], sample: _Sample, first: int) -> int:
        """Feed the rows csv.reader gives, numbered from ``first``; the number after the last."""
        stratum_of = itemgetter(self.stratum) if self.stratum is not None else None
        id_of = itemgetter(self.id) if self.id is not None else None
        home_of = [itemgetter(c) for c in self.home]
        # A quoting error is raised once the rows before it are fed: a short row above it
        # is then the error reported, as the direct reading of the bytes reports it.
        rows = _UntilError(reader)
        reader = iter(rows)
        while batch := list(islice(reader, BATCH)):
            n = len(batch)
            try:
                if stratum_of is None:
                    number = np.zeros(n, np.intp)
                else:
                    strata = map(sample.index.__getitem__, map(stratum_of, batch))
                    number = np.fromiter(strata, np.intp, n)
                eligible = None
                if self.exclude and id_of is not None:
                    # one C-level pass; the rows are looked at only in the rare batches with a hit
                    hits = self.exclude.intersection(map(id_of, batch))
                    if hits:
                        excluded = map(hits.__contains__, map(id_of, batch))
                        eligible = ~np.fromiter(excluded, np.bool_, n)
                keys = [list(map(str.encode, map(get, batch))) for get in home_of]
            except IndexError:
                self._short_row(batch, first)
                raise
            if keys:
                priority = self.priorities.homes([_Padded(k) for k in keys])
            else:
                priority = self.priorities.rows(np.arange(first, first + n))

            def take(
                at: Indexes, batch: list[list[str]] = batch, keys: list[list[bytes]] = keys
            ) -> tuple[list[Row], list[bytes] | None]:
                where = at.tolist()
                rows = _packed(list(map(batch.__getitem__, where)))
                if not keys:
                    return rows, None
                chosen = [list(map(k.__getitem__, where)) for k in keys]
                if len(chosen) == 1:
                    return rows, chosen[0]
                return rows, list(map(b"\x1f".join, zip(*chosen, strict=True)))

            sample.add(first, number, priority, eligible, take)
            first += n
        if rows.error is not None:
            raise rows.error
        return first

    def _short_row(self, batch: list[list[str]], first: int) -> None:
        for i, row in enumerate(batch):
            if len(row) <= self.used:
                raise MalformedInput(
                    f"a row has {len(row)} cells, the header {self.width}",
                    key="short_row",
                    file=self.name,
                    line=first + i + 2,
                    found=len(row),
                    expected=self.width,
                )


def _cell(chunk: bytes, start: int, end: int) -> str:
    return chunk[start:end].decode()


def _slices(chunk: bytes, starts: Int64s, ends: Int64s) -> list[bytes]:
    return list(map(chunk.__getitem__, map(slice, starts.tolist(), ends.tolist())))


class _Codes:
    """Stratum cells -> stratum numbers over one pass of chunks. A cell of at most 7 bytes is
    coded as its word with its length in the top byte, and looked up among the codes met."""

    def __init__(self) -> None:
        self.known = np.zeros(0, np.uint64)  # sorted codes
        self.number = np.zeros(0, np.intp)  # their strata

    def numbers(self, cells: _Span, chunk: bytes, sample: _Sample) -> Indexes:
        longest = int(cells.lengths.max())
        if longest > 7:
            return self._long(cells, chunk, sample, (longest + 7) // 8)
        code = cells.word(0)
        code |= cells.lengths.astype(np.uint64) << np.uint64(56)
        at = self._find(code)
        missing = (
            np.flatnonzero(self.known[at] != code) if len(self.known) else np.arange(len(code))
        )
        if len(missing):
            new, where = np.unique(code[missing], return_index=True)
            order = np.argsort(where)  # strata numbered in order of appearance, as csv rows do
            new, where = new[order], where[order]
            names = self._names(cells, chunk, missing[where])
            known = np.concatenate([self.known, new])
            number = np.concatenate([self.number, [sample.index[s] for s in names]])
            order = np.argsort(known)
            self.known, self.number = known[order], number[order].astype(np.intp)
            at = self._find(code)
        return self.number[at]

    def _find(self, code: UInt64s) -> Indexes:
        at = np.searchsorted(self.known, code)
        np.minimum(at, max(len(self.known) - 1, 0), out=at)
        return at

    @staticmethod
    def _names(cells: _Span, chunk: bytes, where: Indexes) -> list[str]:
        begin = cells.starts[where]
        return [b.decode() for b in _slices(chunk, begin, begin + cells.lengths[where])]

    def _long(self, cells: _Span, chunk: bytes, sample: _Sample, words: int) -> Indexes:
        matrix = np.empty((len(cells.lengths), words + 1), np.uint64)
        for j in range(words):
            matrix[:, j] = cells.word(j)
        matrix[:, words] = cells.lengths
        rows = matrix.view(np.dtype((np.void, 8 * (words + 1)))).ravel()
        _, where, inverse = np.unique(rows, return_index=True, return_inverse=True)
        order = np.argsort(where)  # strata numbered in order of appearance, as csv rows do
        number = np.empty(len(where), np.intp)
        number[order] = [sample.index[s] for s in self._names(cells, chunk, where[order])]
        return number[inverse.ravel()]


def _check_width(rows: Sequence[Sequence[str]], header: Sequence[str], name: str) -> None:
    for row in rows:
        if len(row) != len(header):
            raise MalformedInput(
                f"a drawn row has {len(row)} cells, the header {len(header)}: {row!r}", file=name
            )


def write_invitations(path: str | os.PathLike[str], invitations: Invitations) -> None:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(invitations.header)
        writer.writerows(invitations.rows)

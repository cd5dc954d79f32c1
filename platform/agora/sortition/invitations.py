"""Stage 1: draw the people (or households) to invite from a register streamed from disk.

Uniform draws without further options use reservoir sampling with skip-ahead (Li's Algorithm L):
the rows skipped are consumed by ``csv.reader`` inside C, so the draw costs little more than
reading the file. Every other draw gives each sampling *unit* a seeded 63-bit priority and keeps,
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

Speed: rows are read in batches of ``BATCH``; per batch, C-level ``map`` calls pick the stratum,
the id and the household key, NumPy computes every priority at once and only the rows under the
current threshold reach Python. Priorities come from keys derived from the seed with BLAKE2b: a
household's is a keyed multilinear hash of its key's code points (distinct keys collide with
probability below 2^-44, and a collision only ties two households' priorities: they are drawn or
left together) followed by two keyed rounds of SplitMix64's finalizer; a row's is the same
finalizer applied to its number. This is statistically uniform, not a cryptographic function;
as with any seed, a draw that must not depend on its operator takes its seed from a public
random value fixed in advance.

Time O(rows), memory O(N + strata + exclusions); the seed makes the draw reproducible, whatever
the batch size.
"""

from __future__ import annotations

import csv
import hashlib
import math
import os
import random
from collections import deque
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice
from operator import itemgetter, methodcaller

import numpy as np
import numpy.typing as npt

from .errors import MalformedInput

Int64s = npt.NDArray[np.int64]
UInt64s = npt.NDArray[np.uint64]
Indexes = npt.NDArray[np.intp]

BATCH = 512  # rows per batch: below the garbage collector's 700-allocation trigger
EVERY = np.iinfo(np.int64).max  # threshold letting every priority through
NONE = -1  # threshold letting none through
_SEPARATOR = "\x1f"
FLOOR = 32  # units every stratum keeps in a proportional draw, beyond its share of the 2N


@dataclass(frozen=True)
class Invitations:
    """The drawn rows (in draw order) and, per stratum, ``(invited, eligible rows)``."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    strata: dict[str, tuple[int, int]]


class _Priorities:
    """Seeded priorities in [0, 2^63): of household keys, of row numbers, of household members."""

    _M1 = np.uint64(0xBF58476D1CE4E5B9)
    _M2 = np.uint64(0x94D049BB133111EB)

    def __init__(self, seed: int) -> None:
        self.seed = seed
        self.home, self.row, self.member = (self._words(k, 2) for k in ("home", "row", "member"))
        self.coefficients = self._words("coefficient", 32)

    def _words(self, label: str, count: int, start: int = 0) -> UInt64s:
        return np.array(
            [
                int.from_bytes(
                    hashlib.blake2b(
                        f"agora-invitations/1 {self.seed} {label} {j}".encode(), digest_size=8
                    ).digest()
                )
                for j in range(start, start + count)
            ],
            dtype=np.uint64,
        )

    def _mix(self, x: UInt64s, keys: UInt64s) -> Int64s:
        for key in keys:  # two keyed rounds of SplitMix64's finalizer, in place
            x ^= key
            x ^= x >> 30
            x *= self._M1
            x ^= x >> 27
            x *= self._M2
            x ^= x >> 31
        x >>= 1
        return x.view(np.int64)

    def households(self, keys: list[str]) -> Int64s:
        codes = np.array(keys)  # '<U{longest}': code points, zero-padded (zeros add nothing)
        width = codes.itemsize // 4
        if width > len(self.coefficients):
            known = len(self.coefficients)
            more = self._words("coefficient", width - known, known)
            self.coefficients = np.concatenate([self.coefficients, more])
        points = codes.view(np.uint32).reshape(len(keys), width).astype(np.uint64)
        hashed: UInt64s = points @ self.coefficients[:width]
        return self._mix(hashed, self.home)

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
    stratum's threshold are kept (packed); when as many new rows as the caps have come, each
    threshold is lowered to the priority that keeps just the caps, and the rows above it are
    dropped. A threshold only ever decreases, so no row dropped could be needed: every row of
    every unit under the final thresholds is kept.
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
        self._grow()
        self.flush_at = max(total + (sum(each.values()) if isinstance(each, Mapping) else 0), BATCH)
        self.rows: list[str | list[str]] = []  # packed rows of the units under the thresholds
        self.homes: list[str] = []  # their household keys (with households)
        self.parts: list[tuple[Int64s, Indexes, Int64s]] = []  # priority, stratum, row number
        self.pending = 0

    def _grow(self) -> None:
        grown = len(self.index) - len(self.counts)
        self.counts = np.concatenate([self.counts, np.zeros(grown, np.int64)])
        names = list(self.index)[len(self.limits) :]
        new = [EVERY if self.total or self._cap(name) else NONE for name in names]
        self.limits = np.concatenate([self.limits, np.array(new, np.int64)])

    def _cap(self, name: str) -> int:
        return self.each.get(name, 0) if isinstance(self.each, Mapping) else self.each

    def add(
        self,
        batch: list[list[str]],
        first: int,
        strata: Iterable[str] | None,
        homes: list[str] | None,
        priority: Int64s,
        eligible: npt.NDArray[np.bool_] | None,
    ) -> None:
        """Offer a batch whose rows are numbered from ``first``."""
        n = len(batch)
        if strata is None:
            number = np.zeros(n, np.intp)
        else:
            number = np.fromiter(map(self.index.__getitem__, strata), np.intp, n)
        if len(self.index) > len(self.counts):
            self._grow()
        counted = number if eligible is None else number[eligible]
        self.counts += np.bincount(counted, minlength=len(self.counts))
        passing = priority <= self.limits[number]
        if eligible is not None:
            passing &= eligible
        picked = np.flatnonzero(passing)
        if not len(picked):
            return
        at = picked.tolist()
        self.rows.extend(_packed(list(map(batch.__getitem__, at))))
        if homes is not None:
            self.homes.extend(map(homes.__getitem__, at))
        self.parts.append((priority[picked], number[picked], picked + first))
        self.pending += len(picked)
        if self.pending >= self.flush_at:
            self.cut()

    def cut(self) -> None:
        """Lower the thresholds to the priorities that keep just the caps; drop the rows above.

        The rows of a household share its priority, so distinct priorities stand for units (two
        households sharing one only leave a threshold higher, which is safe).
        """
        self.pending = 0
        if not self.parts:
            return
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
        kept = np.flatnonzero(priority <= limits[stratum]).tolist()
        self.rows = [self.rows[i] for i in kept]
        if self.homes:
            self.homes = [self.homes[i] for i in kept]
        self.parts = [(priority[kept], stratum[kept], line[kept])]

    def _columns(self) -> tuple[Int64s, Indexes, Int64s]:
        priority, stratum, line = zip(*self.parts, strict=True)
        return np.concatenate(priority), np.concatenate(stratum), np.concatenate(line)

    def drawn(self) -> dict[str, list[str | list[str]]]:
        """Per stratum, the packed rows of its units under the thresholds, in priority order.

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
        found: dict[str, list[str | list[str]]] = {}
        for i, number in zip(order.tolist(), stratum[order].tolist(), strict=True):
            found.setdefault(names[number], []).append(self.rows[i])
        return found

    def _repeated(self, order: Indexes, priority: Int64s, stratum: Indexes) -> list[int]:
        """Positions in ``order`` of rows whose (stratum, household) came earlier in ``order``."""
        p, s = priority[order], stratum[order]
        tied = np.flatnonzero((p[1:] == p[:-1]) & (s[1:] == s[:-1])) + 1
        homes, at = self.homes, order.tolist()
        repeated = []
        seen: set[str] = set()
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


def _packed(rows: list[list[str]]) -> list[str | list[str]]:
    """Each row as one string of its cells (or as itself when a cell holds the separator).

    Keeping a candidate as one string instead of a list of cells spares the allocator: the
    cells go back at once, and the rows read next reuse memory that is still in the cache.
    """
    packed: list[str | list[str]] = list(map(_SEPARATOR.join, rows))
    separators = sum(map(methodcaller("count", _SEPARATOR), packed))
    if separators == sum(map(len, rows)) - len(rows):
        return packed
    return [r if _SEPARATOR in "".join(r) else p for p, r in zip(packed, rows, strict=True)]


def _unpack(packed: str | list[str]) -> tuple[str, ...]:
    return tuple(packed.split(_SEPARATOR) if isinstance(packed, str) else packed)


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


def _reservoir(rows: Iterator[list[str]], count: int, rng: random.Random) -> list[list[str]]:
    """Algorithm L (Li 1994): uniform sample of ``count`` rows, skipping rows in C."""
    sample = list(islice(rows, count))
    if len(sample) < count:
        return sample
    weight = math.exp(math.log(rng.random()) / count)
    while True:
        skip = math.floor(math.log(rng.random()) / math.log1p(-weight))
        deque(islice(rows, skip), maxlen=0)
        row = next(rows, None)
        if row is None:
            return sample
        sample[rng.randrange(count)] = row
        weight *= math.exp(math.log(rng.random()) / count)


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
    encoding: str = "utf-8-sig",
) -> Invitations:
    """Draw ``count`` rows (or, with ``fixed``, the given number per stratum) from a CSV."""
    name = os.fspath(path)
    if count < 0 or (fixed is not None and any(v < 0 for v in fixed.values())):
        raise MalformedInput("the number of invitations must not be negative")
    if fixed is not None and stratify is None:
        raise MalformedInput("a fixed allocation needs a stratification column")
    if exclude and id_column is None:
        raise MalformedInput("an exclusion list needs the id column")

    with open(path, newline="", encoding=encoding) as handle:
        reader = csv.reader(handle)
        header = tuple(h.strip() for h in next(reader, []))
        wanted = [c for c in (stratify, id_column, *household_columns) if c]
        missing = [c for c in wanted if c not in header]
        if missing:
            raise MalformedInput(
                f"missing column(s) {', '.join(missing)}", file=name, line=1, column=missing[0]
            )
        if stratify is None and not household_columns and not exclude:
            rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not secrecy
            drawn = _reservoir(reader, count, rng)
            rng.shuffle(drawn)  # report in a random order, not file order
            _check_width(drawn, header, name)
            return Invitations(header, tuple(map(tuple, drawn)), {"": (len(drawn), -1)})
        scan = _Scan(name, header, seed, stratify, household_columns, id_column, exclude)
        if fixed is not None:
            sample = scan.run(reader, fixed)
            alloc = dict(fixed)
        else:
            # the 2N smallest overall, and at least the FLOOR smallest of every stratum
            sample = scan.run(reader, FLOOR, total=2 * count)
            alloc = _allocate(sample.sizes, count)
        chosen = sample.drawn()
    sizes = sample.sizes
    short = {
        s: n for s, n in alloc.items() if len(chosen.get(s, ())) < n and not sample.complete(s)
    }
    if short:  # second pass restricted to the strata the first pass kept too few of
        with open(path, newline="", encoding=encoding) as handle:
            reader = csv.reader(handle)
            next(reader, None)
            chosen.update(scan.run(reader, short).drawn())
    invited = [_unpack(row) for s in sorted(alloc) for row in chosen.get(s, [])[: alloc[s]]]
    _check_width(invited, header, name)
    strata = {s: (min(n, len(chosen.get(s, ()))), sizes.get(s, 0)) for s, n in alloc.items()}
    return Invitations(header, tuple(invited), strata)


class _Scan:
    """One pass over the register's rows, feeding a ``_Sample`` batch by batch."""

    def __init__(
        self,
        name: str,
        header: Sequence[str],
        seed: int,
        stratify: str | None,
        household_columns: Sequence[str],
        id_column: str | None,
        exclude: Collection[str],
    ) -> None:
        self.name = name
        self.width = len(header)
        self.priorities = _Priorities(seed)
        self.stratum_of = itemgetter(header.index(stratify)) if stratify else None
        self.id_of = itemgetter(header.index(id_column)) if id_column else None
        self.exclude = exclude if isinstance(exclude, set | frozenset) else frozenset(exclude)
        self.homes: Callable[[list[list[str]]], list[str]] | None = None
        if len(household_columns) == 1:
            one = itemgetter(header.index(household_columns[0]))
            self.homes = lambda batch: list(map(one, batch))
        elif household_columns:
            pick = itemgetter(*(header.index(c) for c in household_columns))
            self.homes = lambda batch: list(map(_SEPARATOR.join, map(pick, batch)))
        self.used = max(header.index(c) for c in (stratify, id_column, *household_columns) if c)

    def run(
        self, reader: Iterator[list[str]], each: Mapping[str, int] | int, *, total: int = 0
    ) -> _Sample:
        sample = _Sample(
            each,
            total=total,
            stratified=self.stratum_of is not None,
            priorities=self.priorities,
        )
        first = 0
        while batch := list(islice(reader, BATCH)):
            try:
                sample.add(batch, first, *self._batch(batch, first))
            except IndexError:
                self._short_row(batch, first)
                raise
            first += len(batch)
        return sample

    def _batch(
        self, batch: list[list[str]], first: int
    ) -> tuple[Iterable[str] | None, list[str] | None, Int64s, npt.NDArray[np.bool_] | None]:
        strata = map(self.stratum_of, batch) if self.stratum_of else None
        eligible = None
        if self.exclude and self.id_of is not None:
            # one C-level pass; the rows are looked at only in the rare batches with a hit
            hits = self.exclude.intersection(map(self.id_of, batch))
            if hits:
                excluded = map(hits.__contains__, map(self.id_of, batch))
                eligible = ~np.fromiter(excluded, np.bool_, len(batch))
        homes = self.homes(batch) if self.homes else None
        if homes is None:
            priority = self.priorities.rows(np.arange(first, first + len(batch)))
        else:
            priority = self.priorities.households(homes)
        return strata, homes, priority, eligible

    def _short_row(self, batch: list[list[str]], first: int) -> None:
        for i, row in enumerate(batch):
            if len(row) <= self.used:
                raise MalformedInput(
                    f"a row has {len(row)} cells, the header {self.width}",
                    file=self.name,
                    line=first + i + 2,
                )


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

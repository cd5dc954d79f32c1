"""Stage 1: draw the people (or households) to invite from a register streamed from disk.

Uniform draws without further options use reservoir sampling with skip-ahead (Li's Algorithm L):
the rows skipped are consumed by ``csv.reader`` inside C, so the draw costs little more than
reading the file. Every other draw gives each sampling *unit* (a row, or a household when
household columns are given) a seeded pseudo-random priority and keeps the units with the
smallest priorities ("bottom-k" sampling), which is a uniform sample without replacement:

* a household's priority is a keyed BLAKE2b hash of its key, so all its rows share it and the
  household is drawn at most once; the member invited is its row with the smallest secondary
  priority (uniform among its eligible members);
* excluded ids are skipped (their housemates stay eligible);
* stratified draws keep one bottom-k per stratum for a fixed allocation; for a proportional
  allocation, which needs each stratum's size, one pass keeps the 2N smallest priorities overall
  and counts the rows of each stratum, and a second pass is made only for strata the first pass
  did not keep enough of (rare). Allocation is proportional to the number of eligible rows (the
  stratum's population), largest remainders first.

Time O(rows), memory O(N) (plus the exclusion list); the seed makes the draw reproducible.
"""

from __future__ import annotations

import csv
import hashlib
import heapq
import math
import os
import random
from collections import deque
from collections.abc import Callable, Collection, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import islice

from .errors import MalformedInput


@dataclass(frozen=True)
class Invitations:
    """The drawn rows (in draw order) and, per stratum, ``(invited, eligible rows)``."""

    header: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    strata: dict[str, tuple[int, int]]


class _BottomK:
    """The ``size`` units with the smallest priorities seen so far (max-heap + index)."""

    def __init__(self, size: int) -> None:
        self.size = size
        self.heap: list[tuple[float, str]] = []  # (-priority, unit)
        self.kept: dict[str, tuple[float, float, list[str]]] = {}  # unit -> (prio, second, row)

    @property
    def threshold(self) -> float:
        return -self.heap[0][0] if len(self.heap) >= self.size else 2.0

    def offer(self, unit: str, priority: float, second: float, row: list[str]) -> None:
        current = self.kept.get(unit)
        if current is not None:
            if second < current[1]:
                self.kept[unit] = (priority, second, row)
            return
        if self.size == 0 or priority >= self.threshold:
            return
        if len(self.heap) >= self.size:
            _, evicted = heapq.heapreplace(self.heap, (-priority, unit))
            del self.kept[evicted]
        else:
            heapq.heappush(self.heap, (-priority, unit))
        self.kept[unit] = (priority, second, row)

    def smallest(self, count: int) -> list[list[str]]:
        ranked = sorted(self.kept.values(), key=lambda kept: kept[0])
        return [row for _, _, row in ranked[:count]]


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

    def open_rows() -> tuple[tuple[str, ...], Iterator[list[str]], Callable[[], None]]:
        handle = open(path, newline="", encoding=encoding)  # noqa: SIM115 - closed by caller
        reader = csv.reader(handle)
        header = tuple(h.strip() for h in next(reader, []))
        wanted = [c for c in (stratify, id_column, *household_columns) if c]
        missing = [c for c in wanted if c not in header]
        if missing:
            handle.close()
            raise MalformedInput(
                f"missing column(s) {', '.join(missing)}", file=name, line=1, column=missing[0]
            )
        return header, reader, handle.close

    rng = random.Random(seed)  # noqa: S311 - seeded for reproducibility, not secrecy
    header, rows, close = open_rows()
    try:
        if stratify is None and not household_columns and not exclude:
            drawn = _reservoir(rows, count, rng)
            rng.shuffle(drawn)  # report in a random order, not file order
            _check_width(drawn, header, name)
            return Invitations(header, tuple(map(tuple, drawn)), {"": (len(drawn), -1)})
        if fixed is not None:
            keep = {s: _BottomK(n) for s, n in fixed.items()}
            sizes = _scan(
                rows, header, keep, None, stratify, household_columns, id_column, exclude, seed, rng
            )
            alloc = dict(fixed)
        else:
            overall = _BottomK(2 * count + 16)
            sizes = _scan(
                rows,
                header,
                None,
                overall,
                stratify,
                household_columns,
                id_column,
                exclude,
                seed,
                rng,
            )
            alloc = _allocate(sizes, count)
            keep = _split(overall, alloc, header, stratify)
            short = {s for s, n in alloc.items() if len(keep[s].kept) < n}
            if short:  # second pass restricted to the strata the first pass kept too few of
                close()
                header, rows, close = open_rows()
                again = {s: _BottomK(alloc[s]) for s in short}
                _scan(
                    rows,
                    header,
                    again,
                    None,
                    stratify,
                    household_columns,
                    id_column,
                    exclude,
                    seed,
                    random.Random(seed),  # noqa: S311 - as above
                )
                keep.update(again)
    finally:
        close()
    drawn = [row for s in sorted(keep) for row in keep[s].smallest(alloc.get(s, 0))]
    _check_width(drawn, header, name)
    strata = {s: (min(alloc.get(s, 0), len(keep[s].kept)), sizes.get(s, 0)) for s in keep}
    return Invitations(header, tuple(map(tuple, drawn)), strata)


def _split(
    overall: _BottomK, alloc: Mapping[str, int], header: Sequence[str], stratify: str | None
) -> dict[str, _BottomK]:
    column = header.index(stratify) if stratify else None
    keep = {s: _BottomK(n) for s, n in alloc.items()}
    for unit, (priority, second, row) in overall.kept.items():
        stratum = row[column] if column is not None else ""
        keep[stratum].offer(unit, priority, second, row)
    return keep


def _scan(
    rows: Iterator[list[str]],
    header: Sequence[str],
    per_stratum: Mapping[str, _BottomK] | None,
    overall: _BottomK | None,
    stratify: str | None,
    household_columns: Sequence[str],
    id_column: str | None,
    exclude: Collection[str],
    seed: int,
    rng: random.Random,
) -> dict[str, int]:
    """One pass offering every eligible row; returns the number of eligible rows per stratum."""
    stratum_at = header.index(stratify) if stratify else None
    id_at = header.index(id_column) if id_column else None
    home_at = [header.index(c) for c in household_columns]
    key = hashlib.blake2b(digest_size=8, key=seed.to_bytes(16, "big", signed=True))
    scale = 2.0**-64
    sizes: dict[str, int] = {}
    uniform = rng.random
    for line, row in enumerate(rows, start=2):
        if id_at is not None and row[id_at] in exclude:
            continue
        stratum = row[stratum_at] if stratum_at is not None else ""
        sizes[stratum] = sizes.get(stratum, 0) + 1
        if home_at:
            unit = "\x1f".join(row[i] for i in home_at)
            digest = key.copy()
            digest.update(unit.encode())
            priority = int.from_bytes(digest.digest(), "big") * scale
        else:
            unit, priority = str(line), uniform()
        if overall is not None:
            if priority < overall.threshold or unit in overall.kept:
                overall.offer(unit, priority, uniform(), row)
        elif per_stratum is not None and stratum in per_stratum:
            target = per_stratum[stratum]
            if priority < target.threshold or unit in target.kept:
                target.offer(unit, priority, uniform(), row)
    return sizes


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

"""A register's eligible rows, packed by blocks: one database row per block of entries.

A roll of a million and a half people stored one row per person costs PostgreSQL several
times the time ``csv`` takes to read the file (each row's header, its index entry, its WAL
record), whatever the application does. A block holds some thousands of entries a column at
a time, so the import of a million people writes a few hundred rows and stage 1 reads them
back in as many fetches. Nothing needs to find one person among them: stage 1 reads every
row, and keeps in the invitation what later steps need of the people it invites (their
contact).

A block's bytes: a JSON header line (``rows``, the names of the ``features`` and ``contact``
columns), then the people's SHA-256 digests (32 bytes each), their households' digests, then
each text column (the strata, then each feature, then each contact field) as its length in
bytes (8, big-endian) and its cells in UTF-8 separated by NUL, a byte no text register holds
(a cell holding one is refused at import).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

DIGEST = 32
SEPARATOR = "\x00"
_LENGTH = 8


class CellHoldsSeparator(ValueError):
    """A text cell holds a NUL byte: ``column`` names the column, ``index`` the cell."""

    def __init__(self, column: str, index: int) -> None:
        super().__init__(f"a cell of {column!r} holds a NUL byte")
        self.column, self.index = column, index


@dataclass(frozen=True)
class Block:
    """Entries of a register, column by column (the ``i``-th entry is ``persons[32 i:32 i +
    32]``, ``strata[i]``, ``features[f][i]``…)."""

    persons: bytes
    households: bytes
    strata: Sequence[str]
    features: Mapping[str, Sequence[str]] = field(default_factory=dict)
    contact: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.strata)

    def person(self, index: int) -> str:
        """The hexadecimal hash of the ``index``-th entry's person."""
        return self.persons[index * DIGEST : (index + 1) * DIGEST].hex()

    def household(self, index: int) -> str:
        return self.households[index * DIGEST : (index + 1) * DIGEST].hex()

    def person_hashes(self) -> list[str]:
        return [self.person(i) for i in range(len(self))]

    def profile(self, index: int) -> dict[str, str]:
        return {feature: cells[index] for feature, cells in self.features.items()}

    def contact_of(self, index: int) -> dict[str, str]:
        return {name: cells[index] for name, cells in self.contact.items()}


def _text(name: str, cells: Sequence[str]) -> bytes:
    joined = SEPARATOR.join(cells)
    if joined.count(SEPARATOR) != max(len(cells) - 1, 0):
        index = next(i for i, cell in enumerate(cells) if SEPARATOR in cell)
        raise CellHoldsSeparator(name, index)
    data = joined.encode()
    return len(data).to_bytes(_LENGTH) + data


def encode(block: Block) -> bytes:
    """The block's bytes; :class:`CellHoldsSeparator` when a cell holds a NUL byte."""
    rows = len(block)
    if len(block.persons) != rows * DIGEST or len(block.households) != rows * DIGEST:
        raise ValueError("a block's digests and cells do not align")
    header = {"rows": rows, "features": list(block.features), "contact": list(block.contact)}
    parts = [json.dumps(header, separators=(",", ":")).encode(), b"\n"]
    parts += [block.persons, block.households, _text("stratum", block.strata)]
    parts += [_text(name, cells) for name, cells in block.features.items()]
    parts += [_text(name, cells) for name, cells in block.contact.items()]
    return b"".join(parts)


def _rows_at(data: bytes) -> tuple[dict[str, Any], int, int]:
    """The block's header, its number of entries and where its digests begin."""
    end = data.index(b"\n")
    header = json.loads(data[:end])
    return header, int(header["rows"]), end + 1


def household_digests(data: bytes) -> bytes:
    """The households' digests of the block ``encode`` wrote, its text columns left unread
    (stage 1 looks for its invited households in every block, and reads few of them)."""
    _header, rows, at = _rows_at(data)
    at += rows * DIGEST
    return data[at : at + rows * DIGEST]


def decode(data: bytes, *, features: bool = True, contact: bool = True) -> Block:
    """The block ``encode`` wrote (without its features or its contact columns unless
    asked: a column not read is not split)."""
    header, rows, at = _rows_at(data)
    persons, at = data[at : at + rows * DIGEST], at + rows * DIGEST
    households, at = data[at : at + rows * DIGEST], at + rows * DIGEST

    def column(read: bool) -> list[str]:
        nonlocal at
        length = int.from_bytes(data[at : at + _LENGTH])
        start, at = at + _LENGTH, at + _LENGTH + length
        return data[start:at].decode().split(SEPARATOR) if rows and read else []

    strata = column(True)
    profiles = {name: column(features) for name in header["features"]}
    if not features:
        profiles = {}
    contacts = {name: column(True) for name in header["contact"]} if contact else {}
    return Block(persons, households, strata, profiles, contacts)

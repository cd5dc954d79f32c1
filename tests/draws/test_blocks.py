"""A register's entries packed by blocks (``agora.draws.blocks``): what is written is read
back, cell for cell, and a cell that would break the packing is refused."""

from __future__ import annotations

import hashlib

import pytest

from agora.draws import blocks, hashing


def _digest(text: str) -> bytes:
    return hashlib.sha256(text.encode()).digest()


def test_a_block_reads_back_what_was_written() -> None:
    people = ["1001", "1002", "1003"]
    block = blocks.Block(
        b"".join(map(_digest, people)),
        b"".join(_digest(h) for h in ("12 rue de la paix", "12 rue de la paix", "3 place")),
        ["Saint-Éloi", "Saint-Éloi", ""],
        features={"gender": ["F", "M", "F"], "age": ["18-24", "", "65+"]},
        contact={"nom": ["Martin", "Martin", "Durand"], "adresse": ["12 rue", "12 rue", ""]},
    )
    read = blocks.decode(blocks.encode(block))
    assert len(read) == 3
    assert read.person_hashes() == [_digest(p).hex() for p in people]
    assert read.household(0) == read.household(1) != read.household(2)
    assert list(read.strata) == ["Saint-Éloi", "Saint-Éloi", ""]
    assert read.profile(2) == {"gender": "F", "age": "65+"}
    assert read.contact_of(1) == {"nom": "Martin", "adresse": "12 rue"}
    # Without its contact columns (stage 1's first reading), the rest is the same.
    bare = blocks.decode(blocks.encode(block), contact=False)
    assert bare.contact == {} and bare.profile(0) == {"gender": "F", "age": "18-24"}
    # Nor its profiles (stage 1's second reading): the contact columns are still found.
    unprofiled = blocks.decode(blocks.encode(block), features=False)
    assert unprofiled.features == {} and unprofiled.contact_of(2) == {
        "nom": "Durand",
        "adresse": "",
    }
    # The households' digests alone (stage 1 looking for its invited households).
    assert blocks.household_digests(blocks.encode(block)) == block.households


def test_blocks_of_one_empty_cell_and_of_no_entry() -> None:
    one = blocks.Block(_digest("a"), _digest("b"), [""], contact={"nom": [""]})
    assert blocks.decode(blocks.encode(one)).contact_of(0) == {"nom": ""}
    none = blocks.Block(b"", b"", [], features={"gender": []})
    assert len(blocks.decode(blocks.encode(none))) == 0


def test_a_cell_holding_the_separator_is_refused_naming_it() -> None:
    block = blocks.Block(
        _digest("a") * 2, _digest("b") * 2, ["1", "2"], contact={"nom": ["Léa", "Dur\x00and"]}
    )
    with pytest.raises(blocks.CellHoldsSeparator) as refused:
        blocks.encode(block)
    assert (refused.value.column, refused.value.index) == ("nom", 1)


def test_misaligned_digests_are_refused() -> None:
    with pytest.raises(ValueError, match="align"):
        blocks.encode(blocks.Block(_digest("a"), b"", ["1"]))


def test_the_fast_sha256_gives_hashlibs_digests() -> None:
    texts = ["1001", "Saint-Éloi", ""]
    assert hashing.digests(b"7:roll:", texts) == [
        hashlib.sha256(b"7:roll:" + t.encode()).digest() for t in texts
    ]
    assert list(hashing.hexdigests(b"7:", texts)) == [
        hashlib.sha256(b"7:" + t.encode()).hexdigest() for t in texts
    ]
    # A household's people share its digest, computed once.
    households = ["12 rue de la paix", "12 rue de la paix", "3 place", "12 rue de la paix"]
    assert hashing.repeated_digests(b"7:", households) == b"".join(
        hashlib.sha256(b"7:" + h.encode()).digest() for h in households
    )
    assert hashing.repeated_digests(b"7:", texts) == b"".join(hashing.digests(b"7:", texts))
    packed = b"".join(hashing.digests(b"", texts))
    assert list(hashing.hexadecimal(packed)) == [
        hashlib.sha256(t.encode()).hexdigest() for t in texts
    ]

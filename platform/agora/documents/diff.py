"""Word-level differences between two versions of a text, as shown to the public."""

from __future__ import annotations

import difflib


def word_diff(before: str, after: str) -> list[tuple[str, str]]:
    """(kind, words) pieces with kind in ``equal``, ``removed``, ``added``."""
    old, new = before.split(), after.split()
    parts: list[tuple[str, str]] = []
    for op, a1, a2, b1, b2 in difflib.SequenceMatcher(a=old, b=new).get_opcodes():
        if op == "equal":
            parts.append(("equal", " ".join(old[a1:a2])))
        if op in ("delete", "replace"):
            parts.append(("removed", " ".join(old[a1:a2])))
        if op in ("insert", "replace"):
            parts.append(("added", " ".join(new[b1:b2])))
    return parts

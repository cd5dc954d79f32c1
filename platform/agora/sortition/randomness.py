"""Public randomness: which panel of the lottery, and the order of the reserve list.

Commit–reveal: before the draw, publish the commitment (hashes of the pseudonymised pool, the
quotas and the M-panel lottery, k, versions) and name a *future* public random value, e.g. the
randomness of drand mainnet round N (https://drand.love). Once it is out, anyone computes

    R = int(SHA-256(random_value)) mod M            (random_value as its UTF-8 text)

e.g. ``printf %s VALUE | sha256sum``. Panel R of the lottery (0-based) is selected. The reserve
list orders the volunteers not selected by ``SHA-256(random_value ":" id)``: a uniformly random
order, so that "the first reserve who fits" is a uniform choice among those who fit.
Standard library only.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable


def panel_index(random_value: str, lottery_size: int) -> int:
    """Index of the selected panel in a lottery of ``lottery_size`` equally likely panels."""
    if not random_value:
        raise ValueError("the random value is empty")
    digest = hashlib.sha256(random_value.encode("utf-8")).hexdigest()
    return int(digest, 16) % lottery_size


def reserve_order(random_value: str, people: Iterable[str]) -> list[str]:
    """``people`` in the order given by the public random value."""
    return sorted(people, key=lambda p: hashlib.sha256(f"{random_value}:{p}".encode()).hexdigest())


def seed_value(seed: int) -> str:
    """The random value used when a caller gives a plain seed (tests, rehearsals)."""
    return f"seed:{seed}"

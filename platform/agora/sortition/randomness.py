"""Public randomness: which panel of the lottery, and the order of the reserve list.

Commit–reveal: before the draw, publish the commitment (hashes of the pseudonymised pool, the
quotas and the M-panel lottery, k, versions) and name a *future* public random value, e.g. the
randomness of drand mainnet round N (https://drand.love). Once it is out, anyone computes

    R = int(SHA-256(random_value)) mod M            (random_value as its UTF-8 text)

e.g. ``printf %s VALUE | sha256sum``. Panel R of the lottery (0-based) is selected. The reserve
list orders the volunteers not selected by ``SHA-256(random_value ":" id)``: a uniformly random
order, so that "the first reserve who fits" is a uniform choice among those who fit.
With drand, the revealed value is a beacon's ``randomness``; drand defines it as the SHA-256 of
the round's BLS signature, which anyone can check offline (``drand_randomness``). Checking the
signature itself against the chain's public key needs a BLS12-381 pairing library, which the
standard library does not have: ``verify`` says so instead of claiming it.
Standard library only.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

# League of Entropy mainnet chains (https://api.drand.sh/chains): public keys for a later BLS check
DRAND_CHAINS = {
    "quicknet": {
        "hash": "52db9ba70e0cc0f6eaf7803dd07447a1f5477735fd3f661792ba94600c84e971",
        "public_key": "83cf0f2896adee7eb8b5f01fcad3912212c437e0073e911fb90022d3e760183c"
        "8c4b450b6a0a6c3ac6a5776a2d1064510d1fec758c921cc22b0e17e63aaf4bcb5ed66304de9cf809bd"
        "274ca73bab4af5a6e9c76a4bc09e76eae8991ef5ece45a",
        "scheme": "bls-unchained-g1-rfc9380",
    },
    "default": {
        "hash": "8990e7a9aaed2ffed73dbd7092123d6f289930540d7651336225dc172e51b2ce",
        "public_key": "868f005eb8e6e4ca0a47c8a77ceaa5309a47978a7c71bc5cce96366b5d7a5699"
        "37c529eeda66c7293784a9402801af31",
        "scheme": "pedersen-bls-chained",
    },
}


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


def drand_randomness(beacon: Mapping[str, Any]) -> str:
    """The beacon's randomness, once checked to be the SHA-256 of its signature (hex)."""
    match = re.fullmatch(r"[0-9a-f]+", str(beacon.get("signature", "")))
    if match is None or len(match.group()) % 2:
        raise ValueError("the drand beacon has no hexadecimal signature")
    expected = hashlib.sha256(bytes.fromhex(match.group())).hexdigest()
    if beacon.get("randomness") != expected:
        raise ValueError(
            f"the beacon's randomness is not SHA-256 of its signature (expected {expected})"
        )
    return expected

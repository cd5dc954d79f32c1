"""Public randomness: which panel of the lottery, and the order of the reserve list.

Commit–reveal: before the draw, publish the commitment (hashes of the pseudonymised pool, the
quotas and the M-panel lottery, k, versions) and name a *future* public random value, e.g. the
randomness of drand mainnet round N (https://drand.love). Once it is out, anyone computes

    R = int(SHA-256(random_value)) mod M            (random_value as its UTF-8 text)

e.g. ``printf %s VALUE | sha256sum``. Panel R of the lottery (0-based) is selected. The reserve
list orders the volunteers not selected by ``SHA-256(random_value ":" id)``: a uniformly random
order, so that "the first reserve who fits" is a uniform choice among those who fit.

With drand, the revealed value is a beacon's ``randomness``; drand defines it as the SHA-256 of
the round's BLS signature (``drand_randomness``, standard library). ``verify_drand_signature``
then checks that signature against the chain's public key (``DRAND_CHAINS``), on BLS12-381:

- ``quicknet`` (``bls-unchained-g1-rfc9380``): signature on G1 (48 bytes), key on G2; the signed
  message is SHA-256 of the round as 8 big-endian bytes, hashed to G1 per RFC 9380 with the tag
  ``BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_``;
- ``default`` (``pedersen-bls-chained``): signature on G2 (96 bytes), key on G1; the message is
  SHA-256(previous_signature ‖ round as 8 big-endian bytes), hashed to G2 with
  ``BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_``;

and the signature is valid when e(signature, g) = e(H(message), public key) (the pairing taken
with the generator and key of the other group). The pairing comes from ``py_ecc`` (MIT, the
Ethereum Foundation's pure-Python BLS12-381: point decompression, RFC 9380 hash-to-curve for G1
and G2, optimised ate pairing), imported only when a signature is checked (about 0.5 s), then
0.25 s a quicknet beacon, 0.35 s a default one on a 2-core machine.
Everything else here is standard library only. Where ``py_ecc`` is not installed, or a chained
beacon comes without its ``previous_signature`` (so the signed message cannot be rebuilt),
``verify_drand_signature`` raises ``SignatureNotChecked`` instead of claiming anything.
"""

from __future__ import annotations

import functools
import hashlib
import re
from collections.abc import Iterable, Mapping
from typing import Any

# League of Entropy mainnet chains (https://api.drand.sh/chains): the public keys the beacons'
# BLS signatures are checked against
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


CHAINED = "pedersen-bls-chained"
UNCHAINED_G1 = "bls-unchained-g1-rfc9380"
# per scheme: the group of the signature, its compressed size, the hash-to-curve tag
SCHEMES = {
    UNCHAINED_G1: ("G1", 48, b"BLS_SIG_BLS12381G1_XMD:SHA-256_SSWU_RO_NUL_"),
    CHAINED: ("G2", 96, b"BLS_SIG_BLS12381G2_XMD:SHA-256_SSWU_RO_NUL_"),
}


class SignatureNotChecked(Exception):
    """The BLS signature could not be checked here; the message says why (nothing is claimed)."""


def bls_backend() -> str:
    """The library the BLS check runs on (``"py_ecc 8.0.0"``), or ``SignatureNotChecked``."""
    try:
        import py_ecc
        from py_ecc.bls import g2_primitives, hash_to_curve  # noqa: F401
    except ImportError:
        raise SignatureNotChecked(
            "py_ecc, the BLS12-381 library it needs, is not installed (pip install py-ecc)"
        ) from None
    return f"py_ecc {getattr(py_ecc, '__version__', '?')}"


def drand_message(scheme: str, round_number: int, previous_signature: bytes = b"") -> bytes:
    """The 32 bytes a drand beacon's signature signs (before hashing to the curve)."""
    if not 0 < round_number < 2**64:
        raise ValueError(f"drand round {round_number} is not a round number (1 to 2^64 - 1)")
    round_bytes = round_number.to_bytes(8, "big")
    if scheme == CHAINED:
        return hashlib.sha256(previous_signature + round_bytes).digest()
    if scheme == UNCHAINED_G1:
        return hashlib.sha256(round_bytes).digest()
    raise ValueError(f"unknown drand scheme {scheme!r}: one of {sorted(SCHEMES)}")


def _hex_bytes(beacon: Mapping[str, Any], field: str) -> bytes:
    text = beacon.get(field)
    if not isinstance(text, str) or re.fullmatch(r"(?:[0-9a-f]{2})+", text) is None:
        raise ValueError(f"the drand beacon's {field} is not lowercase hexadecimal")
    return bytes.fromhex(text)


def verify_drand_signature(
    beacon: Mapping[str, Any],
    chain: str,
    *,
    scheme: str | None = None,
    public_key: str | None = None,
) -> str:
    """Check the beacon's BLS signature against ``chain``'s public key (``DRAND_CHAINS``).

    ``scheme``/``public_key`` replace the chain's (another drand network, tests). Returns how
    it was checked; raises ``ValueError`` saying what is wrong when the signature is not that
    chain's signature of that round, ``SignatureNotChecked`` when no BLS library is installed
    or when a chained beacon has no ``previous_signature`` (its message cannot be rebuilt, so
    nothing is claimed either way; a wrong one is a ``ValueError``). Malformed beacons are
    refused before the library is needed.
    """
    known = DRAND_CHAINS.get(chain)
    if known is None and (scheme is None or public_key is None):
        raise ValueError(f"unknown drand chain {chain!r}: one of {sorted(DRAND_CHAINS)}")
    scheme = scheme or (known or {})["scheme"]
    public_key = public_key or (known or {})["public_key"]
    if scheme not in SCHEMES:
        raise ValueError(f"unknown drand scheme {scheme!r}: one of {sorted(SCHEMES)}")
    group, size, tag = SCHEMES[scheme]
    round_number = beacon.get("round")
    if not isinstance(round_number, int) or isinstance(round_number, bool):
        raise ValueError("the drand beacon has no integer round")
    signature = _hex_bytes(beacon, "signature")
    if len(signature) != size:
        raise ValueError(
            f"drand {chain} ({scheme}) signs on {group}, {size} bytes: this signature has "
            f"{len(signature)} bytes, so it is no beacon of that chain"
        )
    previous = b""
    if scheme == CHAINED:
        if beacon.get("previous_signature") is None:
            raise SignatureNotChecked(
                f"drand {chain} is chained: its round {round_number} signs the previous "
                "signature with the round, and the beacon has no previous_signature"
            )
        previous = _hex_bytes(beacon, "previous_signature")
    message = drand_message(scheme, round_number, previous)
    backend = bls_backend()
    try:
        valid = _pairing_check(group, signature, bytes.fromhex(public_key), message, tag)
    except ValueError as error:
        raise ValueError(f"drand {chain} round {round_number}: {error}") from None
    if not valid:
        raise ValueError(
            f"the BLS signature does not verify for drand {chain} round {round_number} "
            f"under the chain's public key {public_key[:16]}…: it is not that chain's "
            "signature of that round" + (" and previous signature" if previous else "")
        )
    return f"{scheme} signature on {group}, pairing check by {backend}"


# The same bytes give the same answer: a beacon read again (its draw's stage 1, then stage 2,
# then ``verify``) is checked once per process, not once per quarter of a second.
@functools.lru_cache(maxsize=64)
def _pairing_check(group: str, signature: bytes, key: bytes, message: bytes, tag: bytes) -> bool:
    """e(signature, generator) == e(H(message), key), the signature on ``group``, the key on the
    other; ``ValueError`` when a point is not on the curve or not in the prime-order subgroup."""
    from py_ecc.bls.g2_primitives import pubkey_to_G1, signature_to_G2, subgroup_check
    from py_ecc.bls.hash_to_curve import hash_to_G1, hash_to_G2
    from py_ecc.fields import optimized_bls12_381_FQ12 as FQ12
    from py_ecc.optimized_bls12_381.optimized_curve import G1, G2, neg
    from py_ecc.optimized_bls12_381.optimized_pairing import final_exponentiate, pairing

    def point(what: str, decode: Any, data: bytes, on: str) -> Any:
        try:
            decoded = decode(data)
        except (ValueError, AssertionError) as error:
            raise ValueError(f"the {what} is not a point of {on}: {error}") from None
        if not subgroup_check(decoded):
            raise ValueError(f"the {what} is not in the prime-order subgroup of {on}")
        return decoded

    sha256: Any = hashlib.sha256  # py_ecc annotates the hash as an _hashlib.HASH object
    if group == "G1":  # quicknet: e(g2, sig) == e(pk, H(m)), i.e. e(g2, sig)·e(-pk, H(m)) == 1
        product = pairing(
            G2, point("signature", pubkey_to_G1, signature, "G1"), final_exponentiate=False
        ) * pairing(
            neg(point("public key", signature_to_G2, key, "G2")),
            hash_to_G1(message, tag, sha256),
            final_exponentiate=False,
        )
    else:  # chained: e(sig, g1) == e(H(m), pk)
        product = pairing(
            point("signature", signature_to_G2, signature, "G2"), G1, final_exponentiate=False
        ) * pairing(
            hash_to_G2(message, tag, sha256),
            neg(point("public key", pubkey_to_G1, key, "G1")),
            final_exponentiate=False,
        )
    result: bool = final_exponentiate(product) == FQ12.one()
    return result

"""drand beacons' BLS signatures, checked against the League of Entropy public keys.

Test vectors (public data; each genuine beacon's randomness is also checked to be SHA-256 of
its signature):

- quicknet (bls-unchained-g1-rfc9380) round 1000: the beacon served by the drand relays for
  that round, as pinned in public drand consumers' tests (e.g. ideal-lab5/idn-sdk,
  pallet-drand's benchmarks); round 657413: the example of mcdcam/python-drand-verify's README.
- default (pedersen-bls-chained) round 1 (its previous signature is the chain's genesis seed)
  and round 1000: drand/drand-client, test/data.ts; round 2634945: drand/drand,
  crypto/schemes_test.go (TestVerifyBeacon).
- the ``walkthrough`` test network of drand/drand-client's test/beacon-verification.test.ts,
  round 38: same scheme as quicknet under another key.
- RFC 9380 appendix J.9.1 (suite BLS12381G1_XMD:SHA-256_SSWU_RO_) and J.10.1 (G2), which
  pin the hash-to-curve the two schemes sign through.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from agora_sortition import MalformedInput, VerificationFailed, write_pool, write_quotas
from agora_sortition.audit import NOT_CHECKED, reveal, verify
from agora_sortition.cli import main
from agora_sortition.randomness import (
    SignatureNotChecked,
    bls_backend,
    drand_message,
    drand_randomness,
    verify_drand_signature,
)

ENGINE = Path(__file__).resolve().parents[1]  # the distribution's folder, sortition/

QUICKNET_1000: dict[str, Any] = {
    "round": 1000,
    "randomness": "fe290beca10872ef2fb164d2aa4442de4566183ec51c56ff3cd603d930e54fdd",
    "signature": "b44679b9a59af2ec876b1a6b1ad52ea9b1615fc3982b19576350f93447cb1125"
    "e342b73a8dd2bacbe47e4b6b63ed5e39",
}
QUICKNET_657413: dict[str, Any] = {
    "round": 657413,
    "randomness": "fc1873a13f3545aeade8401532ef5519920652eee6b0d2b19ca12643b87b3587",
    "signature": "b713718a38ae728dfd477991af2822e08d2f305e47718cef9f7848ce4050e7be"
    "41076862b98fad56e91a6b85b89cd97b",
}
DEFAULT_1: dict[str, Any] = {
    "round": 1,
    "randomness": "101297f1ca7dc44ef6088d94ad5fb7ba03455dc33d53ddb412bbc4564ed986ec",
    "signature": "8d61d9100567de44682506aea1a7a6fa6e5491cd27a0a0ed349ef6910ac5ac20"
    "ff7bc3e09d7c046566c9f7f3c6f3b10104990e7cb424998203d8f7de586fb7fa5f60045417a432684f"
    "85093b06ca91c769f0e7ca19268375e659c2a2352b4655",
    "previous_signature": "176f93498eac9ca337150b46d21dd58673ea4e3581185f869672e59fa4cb390a",
}
DEFAULT_1000: dict[str, Any] = {
    "round": 1000,
    "randomness": "a40d3e0e7e3c71f28b7da2fd339f47f0bcf10910309f5253d7c323ec8cea3212",
    "signature": "99bf96de133c3d3937293cfca10c8152b18ab2d034ccecf115658db324d2edc0"
    "0a16a2044cd04a8a38e2a307e5ecff3511315be8d282079faf24098f283e0ed2c199663b334d2e84c5"
    "5c032fe469b212c5c2087ebb83a5b25155c3283f5b79ac",
    "previous_signature": "af0d93299a363735fe847f5ea241442c65843dc1bd3a7b79646b3b10072e908b"
    "f034d35cd69d378e3341f139100cd4cd03030399864ef8803a5a4f5e64fccc20bbae36d1ca22a6ddc4"
    "3d2630c41105e90598fab11e5c7456df3925d4b577b113",
}
DEFAULT_2634945: dict[str, Any] = {
    "round": 2634945,
    "signature": "814778ed1e480406beb43b74af71ce2f0373e0ea1bfdfea8f9ed62c876c20fcb"
    "c7f0163860e3da42ed2148756015f4551451898ffe06d384b4d002245025571b6b7a752f7158b40ad9"
    "2b13b6d703ad31922a617f2c7f6d960b84d56cf1d79eef",
    "previous_signature": "8bd96294383b4d1e04e736360bd7a487f9f409f1e7bd800b720656a310d577b3"
    "bdb1e1631af6c5782a1d8979c502f395036181eff4058960fc40bb7034cdae1991d3eda518ab204a07"
    "7d2f7e724974cf87b407e549bd815cf0b8e5a3832f675d",
}
WALKTHROUGH_KEY = (
    "81d320f220ee9c79e60e19dedc838c31e3ab919b15481e9feb52f643628c4f6a13fdc52129493875a818"
    "109d767272ca0541cbcdcea9335f2870d781b39b845ba8cbd44fdfe4967781cf72ca5917fc9398bcf97c"
    "a0548ed5a709016c4b1ff0f3"
)
WALKTHROUGH_38: dict[str, Any] = {
    "round": 38,
    "randomness": "b2fc21325a24904a6a9e81a6c63f65f6cec3f0b2400df3f4a56b214770e9ccca",
    "signature": "95c93585c513ebbcb4777ff15599b3140e5ec0295faa0e483f3deadd88fa6d43"
    "f0d3703e3a4ce106e8fd6c6987f32126",
}
GENUINE = [
    ("quicknet", QUICKNET_1000),
    ("quicknet", QUICKNET_657413),
    ("default", DEFAULT_1),
    ("default", DEFAULT_1000),
    ("default", DEFAULT_2634945),
]


def _flip(hexadecimal: str, bit: int) -> str:
    """``hexadecimal`` with one bit flipped, counting from the last byte's lowest bit."""
    data = bytearray(bytes.fromhex(hexadecimal))
    data[-1 - bit // 8] ^= 1 << (bit % 8)
    return data.hex()


# -- the hash-to-curve both schemes sign through (RFC 9380, as implemented by py_ecc) ------


@pytest.mark.parametrize(
    ("message", "x", "y"),
    [
        (
            b"",
            "052926add2207b76ca4fa57a8734416c8dc95e24501772c814278700eed6d1e4e8cf62d9c09db0fac349612b759e79a1",
            "08ba738453bfed09cb546dbb0783dbb3a5f1f566ed67bb6be0e8c67e2e81a4cc68ee29813bb7994998f3eae0c9c6a265",
        ),
        (
            b"abc",
            "03567bc5ef9c690c2ab2ecdf6a96ef1c139cc0b2f284dca0a9a7943388a49a3aee664ba5379a7655d3c68900be2f6903",
            "0b9c15f3fe6e5cf4211f346271d7b01c8f3b28be689c8429c85b67af215533311f0b8dfaaa154fa6b88176c229f2885d",
        ),
        (
            b"abcdef0123456789",
            "11e0b079dea29a68f0383ee94fed1b940995272407e3bb916bbf268c263ddd57a6a27200a784cbc248e84f357ce82d98",
            "03a87ae2caf14e8ee52e51fa2ed8eefe80f02457004ba4d486d6aa1f517c0889501dc7413753f9599b099ebcbbd2d709",
        ),
    ],
)
def test_hash_to_g1_follows_rfc_9380(message: bytes, x: str, y: str) -> None:
    from py_ecc.bls.hash_to_curve import hash_to_G1
    from py_ecc.optimized_bls12_381.optimized_curve import normalize

    sha256: Any = hashlib.sha256
    point = normalize(
        hash_to_G1(message, b"QUUX-V01-CS02-with-BLS12381G1_XMD:SHA-256_SSWU_RO_", sha256)
    )
    assert (point[0].n, point[1].n) == (int(x, 16), int(y, 16))


def test_hash_to_g2_follows_rfc_9380() -> None:
    from py_ecc.bls.hash_to_curve import hash_to_G2
    from py_ecc.optimized_bls12_381.optimized_curve import normalize

    sha256: Any = hashlib.sha256
    point = normalize(
        hash_to_G2(b"", b"QUUX-V01-CS02-with-BLS12381G2_XMD:SHA-256_SSWU_RO_", sha256)
    )
    assert [int(c) for c in point[0].coeffs] == [
        0x0141EBFBDCA40EB85B87142E130AB689C673CF60F1A3E98D69335266F30D9B8D4AC44C1038E9DCDD5393FAF5C41FB78A,
        0x05CB8437535E20ECFFAEF7752BADDF98034139C38452458BAEEFAB379BA13DFF5BF5DD71B72418717047F5B0F37DA03D,
    ]
    assert [int(c) for c in point[1].coeffs] == [
        0x0503921D7F6A12805E72940B963C0CF3471C7B2A524950CA195D11062EE75EC076DAF2D4BC358C4B190C0C98064FDD92,
        0x12424AC32561493F3FE3C260708A12B7C620E7BE00099A974E259DDC7D1F6395C3C811CDD19F1E8DBF3E9ECFDCBAB8D6,
    ]


def test_the_signed_messages() -> None:
    assert (
        drand_message("bls-unchained-g1-rfc9380", 1000)
        == hashlib.sha256((1000).to_bytes(8, "big")).digest()
    )
    previous = bytes.fromhex(DEFAULT_1000["previous_signature"])
    assert (
        drand_message("pedersen-bls-chained", 1000, previous)
        == hashlib.sha256(previous + bytes.fromhex("00000000000003e8")).digest()
    )


# -- genuine beacons verify ----------------------------------------------------------------


@pytest.mark.parametrize(
    ("chain", "beacon"), GENUINE, ids=[f"{c}-{b['round']}" for c, b in GENUINE]
)
def test_genuine_beacons_verify(chain: str, beacon: dict[str, Any]) -> None:
    if "randomness" in beacon:
        assert drand_randomness(beacon) == beacon["randomness"]
    started = time.perf_counter()
    how = verify_drand_signature(beacon, chain)
    assert time.perf_counter() - started < 10  # about 0.3-0.7 s here
    group = "G1" if chain == "quicknet" else "G2"
    assert how.startswith(f"{'bls-unchained-g1-rfc9380' if group == 'G1' else 'pedersen'}")
    assert f"signature on {group}, pairing check by py_ecc" in how


def test_drands_own_vector_for_the_quicknet_scheme_under_another_key() -> None:
    scheme = "bls-unchained-g1-rfc9380"
    verify_drand_signature(WALKTHROUGH_38, "walkthrough", scheme=scheme, public_key=WALKTHROUGH_KEY)
    with pytest.raises(ValueError, match="does not verify for drand walkthrough round 39"):
        verify_drand_signature(
            {**WALKTHROUGH_38, "round": 39},
            "walkthrough",
            scheme=scheme,
            public_key=WALKTHROUGH_KEY,
        )


# -- forgeries are refused, each with what is wrong ------------------------------------------


@pytest.mark.parametrize(
    ("chain", "beacon", "bit", "message"),
    [
        ("quicknet", QUICKNET_1000, 0, "round 1000: the signature is not in the prime-order"),
        ("quicknet", QUICKNET_1000, 100, "round 1000: the signature is not a point of G1"),
        ("quicknet", QUICKNET_1000, 381, "does not verify for drand quicknet round 1000"),
        ("default", DEFAULT_1000, 0, "round 1000: the signature is not a point of G2"),
        ("default", DEFAULT_1000, 500, "round 1000: the signature is not in the prime-order"),
    ],
    ids=["quicknet-low-bit", "quicknet-x", "quicknet-sign-of-y", "default-low-bit", "default-x"],
)
def test_one_flipped_bit_is_refused(
    chain: str, beacon: dict[str, Any], bit: int, message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        verify_drand_signature({**beacon, "signature": _flip(beacon["signature"], bit)}, chain)


@pytest.mark.parametrize(
    ("chain", "beacon", "change", "message"),
    [
        (
            "quicknet",
            QUICKNET_1000,
            {"round": 1001},
            "does not verify for drand quicknet round 1001",
        ),
        ("default", DEFAULT_1000, {"round": 1001}, "does not verify for drand default round 1001"),
        (
            "default",
            DEFAULT_1000,
            {"previous_signature": DEFAULT_2634945["previous_signature"]},
            "not that chain's signature of that round and previous signature",
        ),
        (
            "quicknet",
            QUICKNET_1000,
            {"signature": QUICKNET_657413["signature"]},
            "does not verify for drand quicknet round 1000",
        ),
        ("quicknet", QUICKNET_1000, {"round": 0}, "round 0 is not a round number"),
        ("quicknet", QUICKNET_1000, {"round": "1000"}, "no integer round"),
        ("quicknet", QUICKNET_1000, {"signature": "B4" * 48}, "not lowercase hexadecimal"),
    ],
    ids=[
        "quicknet-wrong-round",
        "default-wrong-round",
        "default-wrong-previous",
        "another-rounds-signature",
        "round-0",
        "round-text",
        "uppercase",
    ],
)
def test_a_wrong_round_or_beacon_is_refused(
    chain: str, beacon: dict[str, Any], change: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        verify_drand_signature({**beacon, **change}, chain)


def test_a_chained_beacon_without_previous_signature_is_not_checked() -> None:
    # its signed message cannot be rebuilt: nothing is claimed, neither valid nor forged
    old = {key: value for key, value in DEFAULT_1000.items() if key != "previous_signature"}
    for beacon in (old, {**old, "previous_signature": None}):
        with pytest.raises(
            SignatureNotChecked,
            match=r"default is chained: .* the beacon has no previous_signature",
        ):
            verify_drand_signature(beacon, "default")
    with pytest.raises(ValueError, match="previous_signature is not lowercase hexadecimal"):
        verify_drand_signature({**old, "previous_signature": ""}, "default")


def test_the_other_chains_key_is_refused() -> None:
    with pytest.raises(ValueError, match=r"drand default \(pedersen-bls-chained\) signs on G2"):
        verify_drand_signature(QUICKNET_1000, "default")
    with pytest.raises(
        ValueError, match=r"drand quicknet \(bls-unchained-g1-rfc9380\) signs on G1"
    ):
        verify_drand_signature(DEFAULT_1000, "quicknet")
    with pytest.raises(ValueError, match="does not verify for drand quicknet round 1000"):
        verify_drand_signature(QUICKNET_1000, "quicknet", public_key=WALKTHROUGH_KEY)
    with pytest.raises(ValueError, match="unknown drand chain 'testnet'"):
        verify_drand_signature(QUICKNET_1000, "testnet")


# -- in the audit record: reveal and verify ----------------------------------------------------

ROWS = [(g, a) for g in ("f", "m") for a in ("young", "old", "old")] * 3
BOUNDS = {("g", "f"): (3, 3), ("g", "m"): (3, 3), ("a", "young"): (2, 3), ("a", "old"): (3, 4)}


@pytest.fixture
def commit_to(tmp_path: Path, make: Callable[..., Any]) -> Callable[[str, int], dict[str, Any]]:
    pool, quotas = make(ROWS, ("g", "a"), BOUNDS)
    write_pool(tmp_path / "people.csv", pool)
    write_quotas(tmp_path / "features.csv", quotas)

    def committed(chain: str, round_number: int) -> dict[str, Any]:
        path = tmp_path / f"{chain}-{round_number}.json"
        arguments = ["commit", "--features", str(tmp_path / "features.csv")]
        arguments += ["--people", str(tmp_path / "people.csv"), "--panel-size", "6"]
        arguments += ["--lottery-size", "30", "--drand-chain", chain]
        arguments += ["--drand-round", str(round_number), "--record", str(path)]
        assert main(arguments) == 0
        record: dict[str, Any] = json.loads(path.read_text())
        return record

    return committed


def test_a_chained_beacon_from_drands_v2_api_is_revealed_and_verified(
    commit_to: Callable[[str, int], dict[str, Any]],
) -> None:
    v2 = {key: DEFAULT_1000[key] for key in ("round", "signature", "previous_signature")}
    record = reveal(commit_to("default", 1000), beacon=v2)
    assert record["reveal"]["random_value"] == DEFAULT_1000["randomness"]
    assert record["reveal"]["drand"]["previous_signature"] == DEFAULT_1000["previous_signature"]
    passed = verify(record, require_signature=True)
    assert "the BLS signature of drand default round 1000 verifies" in passed[-2]


def test_reveal_refuses_a_forged_or_incomplete_beacon(
    commit_to: Callable[[str, int], dict[str, Any]],
) -> None:
    committed = commit_to("quicknet", 1001)
    relabelled = {**QUICKNET_1000, "round": 1001}
    with pytest.raises(MalformedInput, match="does not verify for drand quicknet round 1001"):
        reveal(committed, beacon=relabelled)
    chained = commit_to("default", 1000)
    with pytest.raises(MalformedInput, match="has no previous_signature"):
        reveal(chained, beacon={k: v for k, v in DEFAULT_1000.items() if k != "previous_signature"})


def test_verify_refuses_a_record_carrying_another_rounds_beacon(
    commit_to: Callable[[str, int], dict[str, Any]],
) -> None:
    # forged by hand: round 1000's real beacon presented as the committed round 1001
    record = reveal(commit_to("quicknet", 1001), QUICKNET_1000["randomness"])
    record["reveal"]["drand"] = {"chain": "quicknet", **QUICKNET_1000, "round": 1001}
    with pytest.raises(VerificationFailed, match=r"\[drand signature\].*round 1001"):
        verify(record)


# -- records revealed before signatures were checked: no previous_signature kept ------------


@pytest.fixture
def old_record(tmp_path: Path, commit_to: Callable[[str, int], dict[str, Any]]) -> Path:
    """A chained record as the reveal of before signature checking wrote it (no
    previous_signature), of drand default's real round 1000."""
    record = reveal(commit_to("default", 1000), beacon=DEFAULT_1000)
    del record["reveal"]["drand"]["previous_signature"]
    path = tmp_path / "old-record.json"
    path.write_text(json.dumps(record))
    return path


def test_an_old_chained_record_verifies_with_its_signature_not_checked(
    old_record: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["--lang", "en", "verify", str(old_record)]) == 0
    out = capsys.readouterr().out
    assert "ok: random value is the randomness of drand default round 1000" in out
    assert "ok: panel and reserve follow the random value" in out
    assert "NOT CHECKED: the BLS signature of drand default round 1000" in out
    assert "the beacon has no previous_signature; the record holds none (records revealed" in out
    assert "verify --drand-beacon FILE" in out
    assert "verifies" not in out
    assert "verified, except what is NOT CHECKED above" in out

    assert main(["--lang", "en", "verify", str(old_record), "--require-signature"]) == 1
    captured = capsys.readouterr()
    assert "FAILED: verification failed [drand signature]: not checked: drand default is " in (
        captured.err
    )
    assert "no previous_signature; the record holds none" in captured.err
    assert "verified" not in captured.out


def test_an_old_chained_record_is_checked_with_the_beacon_given(
    old_record: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    beacon = tmp_path / "beacon.json"
    v2 = {key: DEFAULT_1000[key] for key in ("round", "signature", "previous_signature")}
    beacon.write_text(json.dumps(v2))
    assert (
        main(
            [
                "--lang",
                "en",
                "verify",
                str(old_record),
                "--drand-beacon",
                str(beacon),
                "--require-signature",
            ]
        )
        == 0
    )
    out = capsys.readouterr().out
    assert "ok: the BLS signature of drand default round 1000 verifies" in out
    assert out.rstrip().endswith("verified")

    # another round's beacon, or one whose previous signature is wrong, is refused
    beacon.write_text(json.dumps(DEFAULT_2634945))
    assert main(["--lang", "en", "verify", str(old_record), "--drand-beacon", str(beacon)]) == 1
    assert "[drand beacon]: the given beacon is not the record's" in capsys.readouterr().err
    wrong = {**v2, "previous_signature": DEFAULT_2634945["previous_signature"]}
    beacon.write_text(json.dumps(wrong))
    assert main(["--lang", "en", "verify", str(old_record), "--drand-beacon", str(beacon)]) == 1
    assert "and previous signature" in capsys.readouterr().err


def test_a_wrong_previous_signature_still_fails(
    commit_to: Callable[[str, int], dict[str, Any]],
) -> None:
    record = reveal(commit_to("default", 1000), beacon=DEFAULT_1000)
    record["reveal"]["drand"]["previous_signature"] = DEFAULT_2634945["previous_signature"]
    with pytest.raises(
        VerificationFailed, match=r"\[drand signature\]: the BLS signature does not verify"
    ):
        verify(record)
    record["reveal"]["drand"]["previous_signature"] = "zz"
    with pytest.raises(VerificationFailed, match="previous_signature is not lowercase"):
        verify(record)
    # a given beacon does not override the record's previous_signature
    with pytest.raises(VerificationFailed, match=r"\[drand beacon\].*differ in previous"):
        verify(record, drand_beacon=DEFAULT_1000)
    # and a beacon is refused for a record committed to no drand round
    with pytest.raises(MalformedInput, match="names no drand round"):
        verify({**record, "commitment": {**record["commitment"], "drand": None}}, drand_beacon={})


# -- without py_ecc: said, never claimed ------------------------------------------------------


def test_without_py_ecc_the_signature_is_reported_not_checked(
    commit_to: Callable[[str, int], dict[str, Any]], monkeypatch: pytest.MonkeyPatch
) -> None:
    record = reveal(commit_to("quicknet", 1000), beacon=QUICKNET_1000)
    monkeypatch.setitem(sys.modules, "py_ecc", None)
    with pytest.raises(SignatureNotChecked, match=r"py_ecc.* is not installed"):
        bls_backend()
    passed = verify(record)
    assert passed[-2].startswith(NOT_CHECKED)
    assert "BLS signature of drand quicknet round 1000" in passed[-2]
    assert not any("verifies" in check for check in passed)
    with pytest.raises(VerificationFailed, match=r"\[drand signature\]: not checked"):
        verify(record, require_signature=True)
    # what needs no pairing is still refused
    with pytest.raises(ValueError, match="signs on G2"):
        verify_drand_signature(QUICKNET_1000, "default")
    # reveal goes on (verify will say it), unless the check is required
    reveal(commit_to("quicknet", 1000), beacon=QUICKNET_1000)
    with pytest.raises(MalformedInput, match="cannot be checked"):
        reveal(commit_to("quicknet", 1000), beacon=QUICKNET_1000, require_signature=True)


def test_standalone_verify_command_with_and_without_py_ecc(
    tmp_path: Path, commit_to: Callable[[str, int], dict[str, Any]]
) -> None:
    path = tmp_path / "record.json"
    path.write_text(json.dumps(reveal(commit_to("quicknet", 1000), beacon=QUICKNET_1000)))
    blocked = ["agora", "flask", "sqlalchemy", "numpy", "highspy"]

    def run(*extra: str, without: list[str]) -> subprocess.CompletedProcess[str]:
        site = tmp_path / ("site-" + "-".join(without))
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(
            f"import sys\nfor name in {without!r}:\n    sys.modules[name] = None\n"
        )
        return subprocess.run(
            [sys.executable, "-m", "agora_sortition", "verify", str(path), "--lang", "en", *extra],
            cwd=ENGINE,
            env={"PYTHONPATH": f"{site}:{ENGINE}", "PATH": "/usr/bin:/bin"},
            capture_output=True,
            text=True,
            check=False,
        )

    checked = run("--require-signature", without=blocked)
    assert checked.returncode == 0, checked.stderr
    assert "ok: the BLS signature of drand quicknet round 1000 verifies" in checked.stdout
    assert checked.stdout.rstrip().endswith("verified")

    unchecked = run(without=[*blocked, "py_ecc"])
    assert unchecked.returncode == 0, unchecked.stderr
    assert "NOT CHECKED: the BLS signature of drand quicknet round 1000" in unchecked.stdout
    assert "pip install py-ecc" in unchecked.stdout
    assert "verifies" not in unchecked.stdout
    assert "verified, except what is NOT CHECKED above" in unchecked.stdout

    strict = run("--require-signature", without=[*blocked, "py_ecc"])
    assert strict.returncode == 1
    assert "FAILED: verification failed [drand signature]: not checked" in strict.stderr

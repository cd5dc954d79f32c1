"""Audit record: commitment, reveal and verification of a draw.

A record is one JSON document::

    {"format": "agora-sortition-record/1",
     "commitment": {...}, "commitment_sha256": "...",
     "pool": {"features": [...], "people": [[id, [values], household-number|null], ...]},
     "quotas": [[feature, value, min, max], ...],
     "lottery": [[ids of panel 0], ...],            # M equally likely panels
     "probabilities": {id: exact probability},     # from the optimiser
     "rounding": {"max_deviation": x, "min_probability": y,   # under the lottery
                  "exact_min_probability": z, "tolerance": t},  # the optimiser's; M's target
     "reveal": {"random_value": "...", "panel_index": R, "drand": beacon?} | null,
     "panel": [ids] | null, "reserve": [ids] | null,
     "replacements": [{"withdrawn", "replacement", "fitting", "drift", "breaches"}, ...]}

The commitment holds the SHA-256 of the canonical pool (pseudonymous ids, households replaced by
numbers), of the quotas and of the lottery, with k, M, the algorithm, engine and solver versions
and the named future random value (e.g. a drand round; named as ``"drand": {"chain", "round"}``,
the reveal must carry that round's beacon, whose randomness ``verify`` checks to be SHA-256 of its
signature and whose BLS signature it checks against the chain's public key, see ``randomness``;
``reveal`` keeps a chained beacon's ``previous_signature``, which that check needs. Where
``py_ecc`` is missing, or a chained record holds no ``previous_signature`` (records revealed
before signatures were checked did not keep it; the round's beacon can be given to ``verify``
instead), the signature is reported ``NOT CHECKED``, and refused with ``require_signature``).
``verify`` recomputes every hash, checks
every lottery panel against the quotas, the probabilities, the panel index and the reserve order,
replays the replacements made since (each must be the first reserve who fits, see
``replacement``), and raises ``VerificationFailed`` naming the first check that fails.

Standard library only (plus ``py_ecc``, imported lazily, for the BLS signature), so that anyone can
run ``python -m agora_sortition verify RECORD`` without the web application, NumPy or the solver.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from collections.abc import Mapping, Sequence
from itertools import chain
from typing import Any

from .errors import MalformedInput, SortitionError, VerificationFailed
from .pool import Pool, Quota, QuotaSet, quota_violations, shared_households
from .randomness import (
    CHAINED,
    DRAND_CHAINS,
    SignatureNotChecked,
    drand_randomness,
    panel_index,
    reserve_order,
    verify_drand_signature,
)
from .replacement import replace_member
from .version import ENGINE_VERSION, solver_version

FORMAT = "agora-sortition-record/1"
ROUNDING_SLACK = 1e-9  # float noise allowed when comparing recorded probabilities
NOT_CHECKED = "NOT CHECKED: "  # starts the entries of ``verify``'s list that were not checked


def canonical(value: Any) -> bytes:
    """Canonical JSON bytes (sorted keys, no spaces, UTF-8) that hashes are taken over."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sha256(value: Any) -> str:
    return hashlib.sha256(canonical(value)).hexdigest()


def pool_record(pool: Pool, *, households: bool) -> dict[str, Any]:
    """The pseudonymised pool: sorted ids, feature values, household numbers (no addresses)."""
    order = sorted(range(len(pool)), key=lambda i: pool.ids[i])
    numbers: dict[str, int] = {}
    people = []
    for i in order:
        home = None
        if households and pool.households is not None:
            home = numbers.setdefault(pool.households[i], len(numbers))
        people.append([pool.ids[i], list(pool.rows[i]), home])
    return {"features": list(pool.features), "people": people}


def quotas_record(quotas: QuotaSet) -> list[list[Any]]:
    return [[q.feature, q.value, q.min, q.max] for q in quotas.quotas]


def pool_from_record(data: Mapping[str, Any]) -> tuple[Pool, bool]:
    people = data["people"]
    households = any(p[2] is not None for p in people)
    return (
        Pool(
            tuple(p[0] for p in people),
            tuple(data["features"]),
            tuple(tuple(p[1]) for p in people),
            tuple(str(p[2]) for p in people) if households else None,
        ),
        households,
    )


def quotas_from_record(rows: Sequence[Sequence[Any]]) -> QuotaSet:
    return QuotaSet(tuple(Quota(str(f), str(v), int(lo), int(hi)) for f, v, lo, hi in rows))


def commit(
    pool: Pool,
    quotas: QuotaSet,
    *,
    panel_size: int,
    households: bool,
    algorithm: str,
    lottery: Sequence[Sequence[str]],
    probabilities: Mapping[str, float],
    max_deviation: float,
    random_source: str,
    drand: tuple[str, int] | None = None,
    tolerance: float | None = None,
) -> dict[str, Any]:
    """A record committing to everything before the random value is known (no reveal yet).

    ``drand`` names the future beacon, ``(chain, round)``, whose randomness will be revealed.
    """
    if drand is not None and drand[0] not in DRAND_CHAINS:
        raise MalformedInput(f"unknown drand chain {drand[0]!r}: one of {sorted(DRAND_CHAINS)}")
    pool_data = pool_record(pool, households=households)
    quota_data = quotas_record(quotas)
    lottery_data = [sorted(panel) for panel in lottery]
    commitment = {
        "pool_sha256": sha256(pool_data),
        "pool_size": len(pool),
        "quotas_sha256": sha256(quota_data),
        "panel_size": panel_size,
        "households": households,
        "algorithm": algorithm,
        "engine": ENGINE_VERSION,
        "solver": solver_version(),
        "lottery_size": len(lottery_data),
        "lottery_sha256": lottery_sha256(lottery_data),
        "random_source": random_source,
    }
    if drand is not None:
        commitment["drand"] = {"chain": drand[0], "round": drand[1]}
    rounded = _lottery_probabilities(pool_data, lottery_data)
    return {
        "format": FORMAT,
        "commitment": commitment,
        "commitment_sha256": sha256(commitment),
        "pool": pool_data,
        "quotas": quota_data,
        "lottery": lottery_data,
        "probabilities": {p: float(probabilities[p]) for p in sorted(probabilities)},
        "rounding": {
            "max_deviation": max_deviation,
            "min_probability": min(rounded.values()),
            "exact_min_probability": min(map(float, probabilities.values())),
        }
        | ({"tolerance": tolerance} if tolerance is not None else {}),
        "reveal": None,
        "panel": None,
        "reserve": None,
    }


def reveal(
    record: Mapping[str, Any],
    random_value: str | None = None,
    *,
    beacon: Mapping[str, Any] | None = None,
    require_signature: bool = False,
) -> dict[str, Any]:
    """The record completed with the public random value, the selected panel and the reserve.

    A drand ``beacon`` (``{"round", "randomness", "signature", "previous_signature"}`` as the
    drand relays serve it; ``randomness`` may be left out, as in drand's v2 API) gives the random
    value; it must be the round the commitment names, and its BLS signature must verify (when
    ``py_ecc`` is missing it is not checked here, unless ``require_signature``: ``verify``
    says so). A chained chain's beacon must carry its ``previous_signature``, kept in the record.
    """
    drand = None
    if beacon is not None:
        named = record["commitment"].get("drand")
        if named is None or beacon.get("round") != named["round"]:
            raise MalformedInput(f"the commitment names no beacon or another round: {named}")
        chained = DRAND_CHAINS[named["chain"]]["scheme"] == CHAINED
        if chained and beacon.get("previous_signature") is None:
            raise MalformedInput(
                f"drand {named['chain']} is chained: its round {named['round']} signs the "
                "previous signature with the round, and the beacon has no previous_signature "
                "(the record must keep it for verify to check the signature)"
            )
        if "randomness" not in beacon and isinstance(beacon.get("signature"), str):
            beacon = {**beacon, "randomness": _sha256_hex(beacon["signature"])}
        try:
            random_value = drand_randomness(beacon)
            verify_drand_signature(beacon, named["chain"])
        except SignatureNotChecked as why:
            if require_signature:
                raise MalformedInput(
                    f"the beacon's BLS signature cannot be checked: {why}"
                ) from None
        except ValueError as error:
            raise MalformedInput(str(error)) from None
        drand = {"chain": named["chain"], "round": named["round"], "randomness": random_value}
        drand["signature"] = beacon["signature"]
        if chained:
            drand["previous_signature"] = beacon["previous_signature"]
    if not random_value:
        raise MalformedInput("a random value or a drand beacon is needed")
    index = panel_index(random_value, len(record["lottery"]))
    panel = record["lottery"][index]
    chosen = set(panel)
    others = [p[0] for p in record["pool"]["people"] if p[0] not in chosen]
    return {
        **record,
        "reveal": {"random_value": random_value, "panel_index": index}
        | ({"drand": drand} if drand else {}),
        "panel": list(panel),
        "reserve": reserve_order(random_value, others),
    }


def current_panel(record: Mapping[str, Any]) -> list[str]:
    """The revealed panel with the replacements recorded since applied, in order."""
    panel = list(record["panel"])
    for done in record.get("replacements") or ():
        panel = [done["replacement"] if p == done["withdrawn"] else p for p in panel]
    return panel


def replace(
    record: Mapping[str, Any], withdrawn: str, *, allow_drift: bool = False
) -> dict[str, Any]:
    """Replace ``withdrawn`` on a revealed record's current panel from the record's reserve.

    Returns the record with the replacement appended to ``replacements``; the commitment and the
    revealed panel are unchanged, so the record still verifies, replacements included.
    """
    if record.get("reveal") is None:
        raise MalformedInput("the record has no revealed panel yet: reveal it first")
    pool, households = pool_from_record(record["pool"])
    done = replace_member(
        pool,
        quotas_from_record(record["quotas"]),
        current_panel(record),
        withdrawn,
        record["reserve"],
        households=households,
        allow_drift=allow_drift,
    )
    entry = {
        "withdrawn": done.withdrawn,
        "replacement": done.replacement,
        "fitting": done.fitting,
        "drift": list(done.drift),
        "breaches": list(done.breaches),
    }
    return {**record, "replacements": [*(record.get("replacements") or ()), entry]}


def _sha256_hex(signature: str) -> str:
    try:
        return hashlib.sha256(bytes.fromhex(signature)).hexdigest()
    except ValueError:
        return ""  # drand_randomness then says the signature is not hexadecimal


def lottery_sha256(lottery: Sequence[Sequence[str]]) -> str:
    """``sha256(lottery)``, the same bytes, with each distinct id encoded once instead of at
    each of its M * k seats (a lottery holds up to millions of ids, a pool a few hundred)."""
    quoted = {person: canonical(person) for person in set(chain.from_iterable(lottery))}
    digest = hashlib.sha256(b"[")
    for at, panel in enumerate(lottery):
        digest.update(b"[" if not at else b",[")
        digest.update(b",".join(map(quoted.__getitem__, panel)))
        digest.update(b"]")
    digest.update(b"]")
    return digest.hexdigest()


def packed(record: Mapping[str, Any]) -> dict[str, Any]:
    """The record as it may be stored: its lottery's ids as positions in its pool's people
    (``lottery_positions``), some twenty times shorter; ``unpacked`` gives it back as it was.
    A record without a pool or a lottery is returned as it is."""
    people = (record.get("pool") or {}).get("people")
    if not isinstance(record.get("lottery"), list) or not people:
        return dict(record)
    position = {person[0]: at for at, person in enumerate(people)}
    return {
        ("lottery_positions" if key == "lottery" else key): (
            [list(map(position.__getitem__, panel)) for panel in value]
            if key == "lottery"
            else value
        )
        for key, value in record.items()
    }


def unpacked(stored: Mapping[str, Any]) -> dict[str, Any]:
    """The record ``packed`` stored (any other record as it is)."""
    if "lottery_positions" not in stored:
        return dict(stored)
    ids = [person[0] for person in stored["pool"]["people"]]
    return {
        ("lottery" if key == "lottery_positions" else key): (
            [list(map(ids.__getitem__, panel)) for panel in value]
            if key == "lottery_positions"
            else value
        )
        for key, value in stored.items()
    }


def _lottery_probabilities(
    pool_data: Mapping[str, Any], lottery: Sequence[Sequence[str]]
) -> dict[str, float]:
    counts = Counter(chain.from_iterable(lottery))
    return {p[0]: counts[p[0]] / len(lottery) for p in pool_data["people"]}


def _completed_beacon(
    recorded: Mapping[str, Any], given: Mapping[str, Any], named: Mapping[str, Any]
) -> dict[str, Any]:
    """The record's beacon completed by ``given``, the committed round's beacon as a drand relay
    serves it: ``given`` must be that very beacon (same round and signature, and the same
    ``previous_signature`` when the record holds one), and gives the ``previous_signature``
    that records revealed before signatures were checked lack."""
    where = f"drand {named['chain']} round {named['round']}"
    _check(
        given.get("round") == named["round"]
        and given.get("signature") == recorded.get("signature"),
        "drand beacon",
        f"the given beacon is not the record's beacon of {where}: round or signature differ",
    )
    previous = recorded.get("previous_signature")
    if previous is None:
        previous = given.get("previous_signature")
    else:
        _check(
            given.get("previous_signature") in (None, previous),
            "drand beacon",
            f"the given beacon of {where} and the record's differ in previous_signature",
        )
    return {**recorded} | ({"previous_signature": previous} if previous is not None else {})


def _check(condition: bool, check: str, detail: str) -> None:
    if not condition:
        raise VerificationFailed(check, detail)


def verify(
    record: Mapping[str, Any],
    *,
    pool: Pool | None = None,
    quotas: QuotaSet | None = None,
    require_signature: bool = False,
    drand_beacon: Mapping[str, Any] | None = None,
    commitment: str | None = None,
) -> list[str]:
    """Check a record from scratch; returns the checks passed, raises ``VerificationFailed``.

    ``commitment``, the SHA-256 published before the draw, must be the record's: a record
    rebuilt whole (another lottery, its own commitment) is consistent in itself, and only the
    published value tells it from the one announced.

    ``pool``/``quotas``, when given (e.g. the commune's own files), must hash to the committed
    values too. A record without reveal is verified up to the commitment. A drand beacon's BLS
    signature is checked when ``py_ecc`` is installed and, on a chained chain, the record holds
    the ``previous_signature`` (older records do not: ``drand_beacon``, the committed round's
    beacon as the relays serve it, can supply it); otherwise the list holds an entry starting
    with ``NOT_CHECKED`` saying why, or, with ``require_signature``, verification fails. A wrong
    ``previous_signature`` fails like a wrong signature.
    """
    passed: list[str] = []

    def ok(check: str) -> None:
        passed.append(check)

    _check(record.get("format") == FORMAT, "format", f"expected {FORMAT!r}")
    if commitment is not None:
        published = commitment.strip().lower()
        recorded = record.get("commitment_sha256")
        if recorded != published:
            raise VerificationFailed(
                "published commitment",
                f"the record's commitment {recorded} is not the one published, {published}: this "
                "record is not the announced draw's (it was rebuilt, or it is another file)",
                key="commitment_mismatch",
                recorded=recorded,
                published=published,
            )
    committed = record["commitment"]
    if drand_beacon is not None and committed.get("drand") is None:
        raise MalformedInput("a drand beacon was given, but the commitment names no drand round")
    _check(
        sha256(committed) == record["commitment_sha256"],
        "commitment",
        "the commitment does not hash to commitment_sha256",
    )
    ok("commitment" if commitment is None else "commitment, the one published")
    _check(
        sha256(record["pool"]) == committed["pool_sha256"],
        "pool",
        "the pool does not hash to the committed pool_sha256",
    )
    _check(
        sha256(record["quotas"]) == committed["quotas_sha256"],
        "quotas",
        "the quotas do not hash to the committed quotas_sha256",
    )
    record_pool, households = pool_from_record(record["pool"])
    record_quotas = quotas_from_record(record["quotas"])
    _check(
        len(record_pool) == committed["pool_size"] and households == committed["households"],
        "pool",
        "pool size or household flag differs from the commitment",
    )
    if pool is not None:
        _check(
            sha256(pool_record(pool, households=households)) == committed["pool_sha256"],
            "pool",
            "the given people file does not match the committed pool",
        )
    if quotas is not None:
        _check(
            sha256(quotas_record(quotas)) == committed["quotas_sha256"],
            "quotas",
            "the given quota file does not match the committed quotas",
        )
    ok("pool and quotas")

    lottery = record["lottery"]
    _check(
        lottery_sha256(lottery) == committed["lottery_sha256"]
        and len(lottery) == committed["lottery_size"],
        "lottery",
        "the lottery does not hash to the committed lottery_sha256",
    )
    known = set(record_pool.ids)
    k = committed["panel_size"]
    for number, panel in enumerate(lottery):
        _check(
            len(panel) == k and len(set(panel)) == k and set(panel) <= known,
            "lottery",
            f"panel {number} is not {k} distinct people of the pool",
        )
        broken = quota_violations(record_pool, record_quotas, panel)
        _check(not broken, "lottery", f"panel {number} breaks quotas: {broken}")
        homes = shared_households(record_pool, panel) if households else []
        _check(not homes, "lottery", f"panel {number} has two people from one household")
    ok("lottery panels meet the quotas")

    rounded = _lottery_probabilities(record["pool"], lottery)
    exact = record["probabilities"]
    _check(set(exact) == known, "probabilities", "probabilities are not given for the pool")
    deviation = max(abs(rounded[p] - exact[p]) for p in known)
    rounding = record["rounding"]
    _check(
        deviation <= rounding["max_deviation"] + ROUNDING_SLACK
        and abs(min(rounded.values()) - rounding["min_probability"]) <= ROUNDING_SLACK,
        "probabilities",
        f"the lottery moves a probability by {deviation:.6g}, more than recorded",
    )
    recorded_exact = rounding.get("exact_min_probability")
    _check(
        recorded_exact is None or abs(recorded_exact - min(exact.values())) <= ROUNDING_SLACK,
        "probabilities",
        "the recorded exact minimum is not the smallest of the probabilities",
    )
    _check(
        abs(sum(exact.values()) - k) <= 1e-6,
        "probabilities",
        f"probabilities sum to {sum(exact.values()):.9g}, not {k}",
    )
    ok("probabilities")

    if record.get("reveal") is None:
        _check(record.get("panel") is None, "reveal", "a panel without a revealed random value")
        return passed
    value = record["reveal"]["random_value"]
    named = committed.get("drand")
    if named is not None:
        beacon = record["reveal"].get("drand") or {}
        _check(
            beacon.get("chain") == named["chain"] and beacon.get("round") == named["round"],
            "random value",
            f"the commitment names drand {named['chain']} round {named['round']}: "
            "the reveal must carry that beacon",
        )
        try:
            randomness = drand_randomness(beacon)
        except ValueError as error:
            raise VerificationFailed("random value", str(error)) from None
        _check(
            value == randomness,
            "random value",
            "the revealed random value is not the beacon's randomness",
        )
        ok(
            f"random value is the randomness of drand {named['chain']} round {named['round']}, "
            "SHA-256 of its signature"
        )
        if drand_beacon is not None:
            beacon = _completed_beacon(beacon, drand_beacon, named)
        try:
            how = verify_drand_signature(beacon, named["chain"])
        except SignatureNotChecked as why:
            reason = str(why)
            if beacon.get("previous_signature") is None and (
                DRAND_CHAINS.get(named["chain"], {}).get("scheme") == CHAINED
            ):
                reason += (
                    "; the record holds none (records revealed before drand signatures were "
                    "checked did not keep it)"
                    + (
                        " and neither does the given beacon"
                        if drand_beacon is not None
                        else ": give the round's beacon as the drand relays serve it "
                        "(verify --drand-beacon FILE) to check the signature"
                    )
                )
            if require_signature:
                raise VerificationFailed("drand signature", f"not checked: {reason}") from None
            passed.append(
                f"{NOT_CHECKED}the BLS signature of drand {named['chain']} round "
                f"{named['round']} against the chain's public key: {reason}"
            )
        except ValueError as error:
            raise VerificationFailed("drand signature", str(error)) from None
        else:
            ok(
                f"the BLS signature of drand {named['chain']} round {named['round']} verifies "
                f"against the League of Entropy public key of {named['chain']} ({how})"
            )
    index = panel_index(value, len(lottery))
    _check(
        index == record["reveal"]["panel_index"],
        "reveal",
        f"the random value gives panel {index}, not {record['reveal']['panel_index']}",
    )
    _check(
        record["panel"] == lottery[index],
        "panel",
        f"the selected panel is not panel {index} of the lottery",
    )
    others = [p for p in sorted(known) if p not in set(lottery[index])]
    _check(
        record["reserve"] == reserve_order(value, others),
        "reserve",
        "the reserve list is not in the order given by the random value",
    )
    ok("panel and reserve follow the random value")

    replayed: dict[str, Any] = {key: record[key] for key in ("pool", "quotas", "reveal")}
    replayed |= {"panel": record["panel"], "reserve": record["reserve"], "replacements": []}
    for number, entry in enumerate(record.get("replacements") or ()):
        try:
            replayed = replace(replayed, entry["withdrawn"], allow_drift=bool(entry["breaches"]))
        except SortitionError as error:
            raise VerificationFailed("replacements", f"replacement {number}: {error}") from None
        _check(
            replayed["replacements"][-1] == entry,
            "replacements",
            f"replacement {number} is not the first reserve who fits, or its drift differs",
        )
    if record.get("replacements"):
        ok("replacements are the first reserves who fit")
    return passed

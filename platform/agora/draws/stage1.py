"""Stage 1 of a draw: the commitment, the drawing of the invitations, the reveal.

The commitment is published before the randomness exists: the registers' fingerprints and
sizes, the number of invitations and their allocation per source and per stratum, and either
a future drand round or the SHA-256 of a seed the witnesses hold. Stage 1 then reads that
round's beacon (or the seed, checked against its sealed hash) and applies a public rule that
anyone can recompute from the public data:

* in each stratum, the households are ordered by SHA-256(random value ":" household hash)
  (hexadecimal, ascending) and the first ones are invited, as many as the allocation says;
* in each invited household, the person invited is the one with the smallest
  SHA-256(random value ":" person hash);
* a household whose people are listed under several strata belongs to the first of them in
  alphabetical order, so that a household is invited once at most.

Only sources whose people are reached by letter or by a visit are drawn here; people of a
volunteers' list have already come forward. The register's blocks are read twice: once to
key and order every household (NumPy, a few tens of bytes a household), once to pick the
person of each invited household and copy their contact into the invitation.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, NamedTuple

from flask_babel import gettext as _
from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from agora.assembly.sessions import CODE_ALPHABET
from agora.audit import services as audit
from agora.db import DbSession, new_id, utcnow
from agora.draws import beacons, blocks, hashing, services
from agora.draws.models import Draw, DrawStatus, Invitation, Register
from agora.errors import Conflict, Invalid
from agora.extensions import db
from agora.jobs import job
from agora.plugins.manager import TenantHooks
from agora.sortition import ENGINE_VERSION
from agora.tenancy.isolation import bind_tenant, bound_tenant_id
from agora.tenancy.models import Tenant
from agora_sortition.audit import sha256
from agora_sortition.randomness import (
    SignatureNotChecked,
    drand_randomness,
    verify_drand_signature,
)

if TYPE_CHECKING:
    import numpy as np
    import numpy.typing as npt

#: Channels whose people are drawn at stage 1 (the others have come forward by themselves).
INVITING_CHANNELS = ("letter", "door_to_door")
#: The rule above, named in the commitment: a change of rule is a new name.
RULE = "agora-stage1/1"
SEED_HASH = re.compile(r"[0-9a-f]{64}")
CODE_LENGTH = 10
#: Invitations are written by batches of this many.
BATCH = 5000
#: On PostgreSQL, the rows read so far are written (in their own transaction) this often.
PROGRESS_EVERY = 100_000

#: Told the number of register rows read so far, during stage 1.
Progress = Callable[[int], None]


# ---------------------------------------------------------------------------------------
# The commitment


def largest_remainder(total: int, weights: dict[str, int]) -> dict[str, int]:
    """``total`` shared in proportion to ``weights``: each gets the whole part of its share,
    and the units left go to the largest remainders (ties: in the keys' order)."""
    whole = sum(weights.values())
    if whole == 0:
        return dict.fromkeys(weights, 0)
    shares = {key: total * weight // whole for key, weight in weights.items()}
    left = total - sum(shares.values())
    by_remainder = sorted(weights, key=lambda key: (-(total * weights[key] % whole), key))
    for key in by_remainder[:left]:
        shares[key] += 1
    return shares


def households_by_stratum(session: DbSession, register: Register) -> dict[str, int]:
    """The number of households of each stratum of ``register`` (a household counts in the
    first of its strata)."""
    import numpy as np  # here only: the application's other requests need no NumPy

    households = _Households.read(session, register, None)
    counts = np.bincount(households.strata, minlength=len(households.names))
    return {name: int(count) for name, count in zip(households.names, counts, strict=True) if count}


class Inviting(NamedTuple):
    """A sub-draw invited at stage 1, with its register and how its people are reached."""

    source: str
    #: The source's name as the commune reads it (« la liste électorale de la commune »).
    label: str
    sub_draw_id: int
    seats: int
    register: Register
    channel: str


def inviting_registers(session: DbSession, hooks: TenantHooks, draw: Draw) -> list[Inviting]:
    """The draw's sub-draws invited at stage 1, in the draw's order."""
    sources = services.draw_sources(session, hooks, draw)
    latest = services.current_registers(session, draw)
    found = []
    for part in services.sub_draws(session, draw):
        source = sources.get(part.source)
        register = latest.get(part.id)
        if source is not None and source.channel in INVITING_CHANNELS and register is not None:
            found.append(
                Inviting(part.source, source.label, part.id, part.seats, register, source.channel)
            )
    return found


def commit(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    *,
    actor: str,
    invitations: int,
    stratified: bool,
    seed_sha256: str | None,
) -> Draw:
    """Publish stage 1's commitment: ``invitations`` shared between the inviting sub-draws in
    proportion to their seats, then between the strata in proportion to their households
    (or uniformly); the randomness is the next drand round, or the seed whose SHA-256 is
    ``seed_sha256``. Refused, with nothing stored, on a bad number or a malformed hash."""
    services._check_registers_imported(session, draw)
    parts = inviting_registers(session, hooks, draw)
    if parts and invitations < 1:
        raise Invalid(_("Enter a number of invitations of at least 1."))
    if seed_sha256 is not None:
        seed_sha256 = seed_sha256.strip().lower()
        if not SEED_HASH.fullmatch(seed_sha256):
            raise Invalid(
                _(
                    "The sealed seed's fingerprint must be its SHA-256: 64 hexadecimal "
                    "characters (0 to 9, a to f)."
                )
            )
    wanted = invitations if parts else 0
    split = largest_remainder(wanted, {part.source: part.seats for part in parts})
    allocation: dict[str, dict[str, int]] = {}
    committed_parts = []
    for source, label, sub_draw_id, _seats, register, channel in parts:
        households = households_by_stratum(session, register)
        total = sum(households.values())
        if split[source] > total:
            raise Invalid(
                _(
                    "Source “%(source)s”: only %(households)s households, so %(wanted)s "
                    "invitations cannot be drawn from it, one per household.",
                    source=label,
                    households=total,
                    wanted=split[source],
                )
            )
        weights = households if stratified else {"": total}
        allocation[source] = largest_remainder(split[source], weights)
        committed_parts.append(
            {
                "source": source,
                "sub_draw": sub_draw_id,
                "channel": channel,
                "register": register.id,
                "register_sha256": register.sha256,
                "rows": register.row_count,
                "households": households,
            }
        )
    randomness: dict[str, Any] = (
        {"seed_sha256": seed_sha256}
        if seed_sha256 is not None
        else {"drand": beacons.next_round().as_record()}
    )
    commitment = {
        "draw": draw.id,
        "rule": RULE,
        "engine": ENGINE_VERSION,
        "invitations": wanted,
        "stratified": stratified,
        "sub_draws": committed_parts,
        "allocation": allocation,
        **randomness,
    }
    draw.invitations_wanted = wanted
    draw.stratified = stratified
    draw.allocation = allocation
    draw.commitment = commitment
    draw.commitment_sha256 = sha256(commitment)
    services.advance(session, tenant, draw, DrawStatus.COMMITTED, actor=actor)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.stage1_commitment",
        object_type="draw",
        object_id=draw.id,
        details={"commitment_sha256": draw.commitment_sha256, "commitment": commitment},
        public=True,
    )
    session.flush()
    return draw


# ---------------------------------------------------------------------------------------
# The randomness


def _beacon(draw: Draw) -> dict[str, Any]:
    """The committed round's beacon, its randomness checked; refused while it is not out."""
    committed = draw.commitment["drand"]
    beacon = beacons.published_beacon(committed, _("Stage 1 can only be drawn once it is out."))
    try:
        drand_randomness(beacon)
    except ValueError:
        raise Conflict(
            _(
                "The beacon of round %(round)s is not valid: its randomness is not the SHA-256 "
                "of its signature.",
                round=committed["round"],
            )
        ) from None
    return beacon


def _check_committed(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> None:
    if draw.status != DrawStatus.COMMITTED:
        # The lifecycle's own refusal: from any other status, this step is refused.
        services.advance(session, tenant, draw, DrawStatus.STAGE1_DONE, actor=actor)


def check_ready(
    session: DbSession, tenant: Tenant, draw: Draw, *, actor: str, seed: str = ""
) -> None:
    """Refuse stage 1 unless the draw is committed and its randomness is there: the committed
    round is out, or ``seed`` is the sealed one."""
    _check_committed(session, tenant, draw, actor=actor)
    if "seed_sha256" in draw.commitment:
        _unsealed(draw, seed)
    else:
        _beacon(draw)


def _unsealed(draw: Draw, seed: str) -> str:
    seed = seed.strip()
    if not seed:
        raise Invalid(_("Type the seed the witnesses hold."))
    if hashlib.sha256(seed.encode()).hexdigest() != draw.commitment["seed_sha256"]:
        raise Invalid(
            _(
                "This seed does not match the fingerprint sealed in the commitment "
                "(%(hash)s): check it with the witnesses.",
                hash=draw.commitment["seed_sha256"],
            )
        )
    return seed


def _randomness(draw: Draw, seed: str) -> dict[str, Any]:
    """What the reveal publishes of the randomness, with the random value itself."""
    if "seed_sha256" in draw.commitment:
        value = _unsealed(draw, seed)
        return {"seed": value, "seed_sha256": draw.commitment["seed_sha256"], "random_value": value}
    beacon = _beacon(draw)
    chain = draw.commitment["drand"]["chain"]
    try:
        signature = {"checked": True, "how": verify_drand_signature(beacon, chain)}
    except SignatureNotChecked as why:
        signature = {"checked": False, "why": str(why)}
    except ValueError:
        raise Conflict(
            _(
                "The signature of drand's round %(round)s does not verify: this beacon is not "
                "drand's.",
                round=beacon["round"],
            )
        ) from None
    return {
        "drand": {**draw.commitment["drand"], **beacon},
        "signature": signature,
        "random_value": beacon["randomness"],
    }


# ---------------------------------------------------------------------------------------
# Stage 1


def _key(random_value: str, item: str) -> bytes:
    return hashlib.sha256(f"{random_value}:{item}".encode()).digest()


class _Codes(dict[str, int]):
    """Each stratum's number, given in order of appearance."""

    def __missing__(self, name: str) -> int:
        self[name] = code = len(self)
        return code


@dataclass(frozen=True)
class _Households:
    """A register's households, one entry each: the first 128 bits of their key (their
    stored digest, or the rule's SHA-256 of the random value and their hash), their stratum
    (the first of their people's, as a number in ``names``, which is sorted) and the first 64
    bits of their stored digest (to find their people again)."""

    high: npt.NDArray[np.uint64]
    low: npt.NDArray[np.uint64]
    strata: npt.NDArray[np.int32]
    homes: npt.NDArray[np.uint64]
    names: list[str]

    @classmethod
    def read(
        cls,
        session: DbSession,
        register: Register,
        random_value: str | None,
        progress: Progress | None = None,
    ) -> _Households:
        """Every entry of the register read once, its key computed inside C's loops (about a
        microsecond an entry), then grouped by household with NumPy."""
        import numpy as np

        codes = _Codes()
        # Filled in place, block after block: a roll of 1.5 million people takes 42 MB here.
        size = register.row_count
        key = np.zeros((size, 2), np.uint64)
        home = np.zeros(size, np.uint64)
        stratum = np.zeros(size, np.int32)
        prefix = f"{random_value}:".encode() if random_value is not None else None
        at = 0
        for data in services.stored_blocks(session, register):
            block = blocks.decode(data, features=False, contact=False)
            rows = len(block)
            digests = np.frombuffer(block.households, dtype=">u8").reshape(rows, 4)
            if prefix is not None:
                hexed = list(hashing.hexadecimal(block.households))
                hashed = hashing.repeated_digests(prefix, hexed)
                key[at : at + rows] = np.frombuffer(hashed, dtype=">u8").reshape(rows, 4)[:, :2]
            else:
                key[at : at + rows] = digests[:, :2]
            home[at : at + rows] = digests[:, 0]
            stratum[at : at + rows] = np.fromiter(map(codes.__getitem__, block.strata), np.int32)
            at += rows
            if progress is not None:
                progress(rows)
        if at != size:
            raise RuntimeError(f"register {register.id}: {at} entries stored, {size} counted")
        names = sorted(codes)
        rank = np.zeros(len(names), np.int32)
        rank[[codes[name] for name in names]] = np.arange(len(names))
        stratum = rank[stratum]
        order = np.lexsort((stratum, key[:, 1], key[:, 0]))
        high, low = key[order, 0], key[order, 1]
        del key
        stratum, home = stratum[order], home[order]
        del order
        first = np.ones(size, bool)
        first[1:] = (high[1:] != high[:-1]) | (low[1:] != low[:-1])
        return cls(high[first], low[first], stratum[first], home[first], names)


class Drawn(NamedTuple):
    """A household the rule invites, and the one of its people it invites."""

    key: bytes
    household: str
    person: str
    stratum: str
    contact: dict[str, str]


def draw_households(
    session: DbSession,
    register: Register,
    random_value: str,
    allocation: dict[str, int],
    *,
    stratified: bool,
    progress: Progress | None = None,
) -> list[Drawn]:
    """The households the rule invites from a register, in the draw's order (ascending
    key). The register is read twice: once to order every household by its key (the first
    128 bits of the SHA-256, which equal ones would only tie with a chance of 2^-128 among
    a million households), once for the people of the invited ones."""
    import numpy as np

    households = _Households.read(session, register, random_value, progress)
    names = households.names if stratified else [""]
    group = households.strata if stratified else np.zeros(len(households.high), np.int64)
    wanted = np.array([allocation.get(name, 0) for name in names], np.int64)
    order = np.lexsort((households.low, households.high, group))
    sorted_group = group[order]
    starts = np.searchsorted(sorted_group, np.arange(len(names)))
    position = np.arange(len(order)) - starts[sorted_group]
    chosen = order[position < wanted[sorted_group]]
    # The invited households, by their key's first 128 bits.
    invited = {
        (int(households.high[i]), int(households.low[i])): households.names[
            int(households.strata[i])
        ]
        for i in chosen.tolist()
    }
    homes = np.unique(households.homes[chosen])
    # Per household whose digest's first 64 bits are an invited one's: its best person so
    # far, as (their key, their hash, their contact).
    best: dict[str, tuple[bytes, str, dict[str, str]]] = {}
    prefix = f"{random_value}:".encode()
    for data in services.stored_blocks(session, register):
        first_words = np.frombuffer(blocks.household_digests(data), dtype=">u8")[::4]
        found = np.flatnonzero(np.isin(first_words, homes)).tolist()
        if not found:
            continue
        block = blocks.decode(data, features=False)  # their contact too
        people = [block.person(index) for index in found]
        for index, person, key in zip(found, people, hashing.digests(prefix, people), strict=True):
            household = block.household(index)
            current = best.get(household)
            if current is None or key < current[0]:
                best[household] = (key, person, block.contact_of(index))
    drawn = []
    for household, (_key_bytes, person, contact) in best.items():
        key = _key(random_value, household)
        stratum = invited.get((int.from_bytes(key[:8]), int.from_bytes(key[8:16])))
        if stratum is not None:  # not another household sharing the first 64 bits
            drawn.append(Drawn(key, household, person, stratum, contact))
    return sorted(drawn)


def _new_codes(session: DbSession, tenant_id: int, count: int) -> list[str]:
    """``count`` unguessable codes, none already used in the commune."""
    taken = set(
        session.execute(select(Invitation.code).where(Invitation.tenant_id == tenant_id)).scalars()
    )
    codes: list[str] = []
    while len(codes) < count:
        code = "".join(secrets.choice(CODE_ALPHABET) for _letter in range(CODE_LENGTH))
        if code not in taken:  # a collision is drawn again
            taken.add(code)
            codes.append(code)
    return codes


def run(
    session: DbSession,
    tenant: Tenant,
    draw: Draw,
    *,
    actor: str,
    seed: str = "",
    progress: Progress | None = None,
) -> Draw:
    """Draw stage 1's invitations by the public rule, store them, and move the draw to
    ``stage1_done`` (refused unless committed with its randomness out)."""
    _check_committed(session, tenant, draw, actor=actor)
    reveal = _randomness(draw, seed)
    random_value = reveal["random_value"]
    read = 0

    def count(rows: int) -> None:
        nonlocal read
        before, read = read, read + rows
        if progress is not None and before // PROGRESS_EVERY != read // PROGRESS_EVERY:
            progress(read)

    invited: list[dict[str, Any]] = []
    for part in draw.commitment["sub_draws"]:
        if not any(draw.allocation[part["source"]].values()):
            continue
        register = session.get(Register, (tenant.id, part["register"]))
        assert register is not None
        drawn = draw_households(
            session,
            register,
            random_value,
            draw.allocation[part["source"]],
            stratified=draw.stratified,
            progress=count,
        )
        for _key_bytes, household, person, stratum, contact in drawn:
            invited.append(
                {
                    "tenant_id": tenant.id,
                    "draw_id": draw.id,
                    "sub_draw_id": part["sub_draw"],
                    "register_id": part["register"],
                    "person_hash": person,
                    "household_hash": household,
                    "stratum": stratum,
                    "contact": contact,
                    "position": len(invited) + 1,
                    "channel": part["channel"],
                }
            )
    now = utcnow()
    for row, code in zip(invited, _new_codes(session, tenant.id, len(invited)), strict=True):
        row.update(id=new_id(), created_at=now, code=code)
    for start in range(0, len(invited), BATCH):
        session.execute(insert(Invitation), invited[start : start + BATCH])
    reveal["invited"] = len(invited)
    reveal["result_sha256"] = sha256(sorted(row["person_hash"] for row in invited))
    draw.reveal = reveal
    services.advance(session, tenant, draw, DrawStatus.STAGE1_DONE, actor=actor)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.stage1_drawn",
        object_type="draw",
        object_id=draw.id,
        details={"invited": len(invited), "result_sha256": reveal["result_sha256"]},
    )
    session.flush()
    return draw


def reveal(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> Draw:
    """Publish stage 1's randomness and result on the draw's public page."""
    services.advance(session, tenant, draw, DrawStatus.REVEALED, actor=actor)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.stage1_revealed",
        object_type="draw",
        object_id=draw.id,
        details={
            "commitment_sha256": draw.commitment_sha256,
            "random_value": draw.reveal.get("random_value"),
            "result_sha256": draw.reveal.get("result_sha256"),
            "invited": draw.reveal.get("invited"),
        },
        public=True,
    )
    session.flush()
    return draw


def invitations_of(session: DbSession, draw: Draw) -> list[Invitation]:
    """The draw's invitations, in the order of the draw."""
    return list(
        session.execute(
            select(Invitation)
            .where(Invitation.tenant_id == draw.tenant_id, Invitation.draw_id == draw.id)
            .order_by(Invitation.position)
        ).scalars()
    )


def invited_per_stratum(session: DbSession, draw: Draw) -> dict[str, dict[str, int]]:
    """How many households were invited, per source and per stratum of the allocation (the
    whole register, ``""``, when the draw is uniform)."""
    sources = {part["sub_draw"]: part["source"] for part in draw.commitment.get("sub_draws", [])}
    rows = session.execute(
        select(Invitation.sub_draw_id, Invitation.stratum, func.count())
        .where(Invitation.tenant_id == draw.tenant_id, Invitation.draw_id == draw.id)
        .group_by(Invitation.sub_draw_id, Invitation.stratum)
    ).all()
    invited: dict[str, dict[str, int]] = {}
    for sub_draw, stratum, count in rows:
        per_stratum = invited.setdefault(sources.get(sub_draw, ""), {})
        key = str(stratum) if draw.stratified else ""
        per_stratum[key] = per_stratum.get(key, 0) + int(count)
    return invited


# ---------------------------------------------------------------------------------------
# The job


def start(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str, seed: str = "") -> None:
    """Check that stage 1 can run and note that it started (the draw's page follows it)."""
    check_ready(session, tenant, draw, actor=actor, seed=seed)
    draw.reveal = {"started_at": utcnow().isoformat(), "started_by": actor, "rows_read": 0}
    session.flush()


def _progress_writer(tenant_id: int, draw_id: int, started: dict[str, Any]) -> Progress | None:
    """On PostgreSQL, the rows read so far, written in a transaction of their own so that the
    page sees them while the job's own transaction is open (as the register import does)."""
    if db.engine.dialect.name != "postgresql":
        return None

    def write(rows: int) -> None:
        with Session(db.engine) as side:
            bind_tenant(side, tenant_id)
            side.execute(
                update(Draw)
                .where(Draw.tenant_id == tenant_id, Draw.id == draw_id)
                .values(reveal={**started, "rows_read": rows})
            )
            side.commit()

    return write


@job("draws.stage1")
def stage1_job(draw_id: int, actor: str, seed: str = "") -> str:
    """Draw stage 1 of ``draw_id``; the draw's status afterwards. A draw already drawn (a
    job queued twice) is left as it is."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    draw = db.session.get(Draw, (tenant.id, draw_id))
    if draw is None:
        raise LookupError(f"no draw {draw_id}")
    if draw.status != DrawStatus.COMMITTED:
        return draw.status.value
    run(
        db.session,
        tenant,
        draw,
        actor=actor,
        seed=seed,
        progress=_progress_writer(tenant.id, draw.id, dict(draw.reveal)),
    )
    return draw.status.value

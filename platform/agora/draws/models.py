"""Tenant-owned records of a draw. Every reference between them is a composite
``(tenant_id, id)`` foreign key (``db.tenant_fk``)."""

from __future__ import annotations

import enum
from collections.abc import Callable, Mapping
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    CheckConstraint,
    Date,
    Float,
    ForeignKeyConstraint,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.types import TypeDecorator

from agora.db import Base, TenantEntity, TenantOwned, UtcDateTime, str_enum, tenant_fk, utcnow
from agora_sortition import audit as engine_records


class EngineRecords(TypeDecorator[dict[str, Any]]):
    """Stage 2's engine record of each sub-draw, by its id, each lottery stored as positions
    in its pool (``agora_sortition.audit.packed``): M panels of k ids are megabytes of JSON to
    write, parse and compress, their positions some twenty times less. Read back whole."""

    impl = JSON
    cache_ok = True

    def process_bind_param(self, value: dict[str, Any] | None, dialect: Any) -> Any:
        if value is None:
            return None
        return {key: _each(engine_records.packed, entry) for key, entry in value.items()}

    def process_result_value(self, value: Any, dialect: Any) -> dict[str, Any] | None:
        if value is None:
            return None
        return {key: _each(engine_records.unpacked, entry) for key, entry in value.items()}


def _each(convert: Callable[[Mapping[str, Any]], dict[str, Any]], entry: Any) -> Any:
    # Besides the records, ``draw.record`` holds the lottery job's progress while it runs.
    return convert(entry) if isinstance(entry, dict) and "format" in entry else entry


class DrawStatus(enum.StrEnum):
    """The lifecycle of a draw, in order; each step is irreversible and audited."""

    DESIGNED = "designed"
    METHOD_PUBLISHED = "method_published"
    COMMITTED = "committed"
    STAGE1_DONE = "stage1_done"
    REVEALED = "revealed"
    INVITATIONS = "invitations"
    RESPONSES = "responses"
    POOL_CLOSED = "pool_closed"
    LOTTERY_COMMITTED = "lottery_committed"
    STAGE2_DONE = "stage2_done"
    SEATED = "seated"


class Draw(TenantEntity, Base):
    """A draw filling the drawn seats of a body, for an edition or for the support programme
    (the prefiguration group). Its method (sources, eligibility, algorithm, witnesses) is
    frozen once published."""

    __tablename__ = "draw"
    __table_args__ = (
        tenant_fk("edition_id", "edition"),
        tenant_fk("programme_id", "programme"),
        tenant_fk("body_id", "body"),
        CheckConstraint(
            "(edition_id IS NULL) <> (programme_id IS NULL)", name="edition_or_programme"
        ),
    )

    edition_id: Mapped[int | None] = mapped_column(BigInteger)
    programme_id: Mapped[int | None] = mapped_column(BigInteger)
    body_id: Mapped[int] = mapped_column(BigInteger)
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[DrawStatus] = mapped_column(str_enum(DrawStatus), default=DrawStatus.DESIGNED)
    #: Eligibility, pinned from the commune's ``[draws]`` configuration when designed.
    minimum_age: Mapped[int] = mapped_column(Integer, default=0)
    #: The people seated by the draws of this many editions before the draw's own are not
    #: eligible (their register ids' hashes are matched).
    recent_editions_excluded: Mapped[int] = mapped_column(Integer, default=0)
    #: The day ages are computed on.
    reference_date: Mapped[date] = mapped_column(Date)
    #: SHA-256 of the register ids excluded (elected members, commune agents…): the ids
    #: themselves are not kept.
    excluded_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    #: The 16 low bits of the CRC-32 of each excluded id: an entry whose id gives none of them
    #: is not excluded, so that an import hashes the ids of a few entries in a thousand
    #: against ``excluded_hashes``, not every one (empty for a draw designed before: every id
    #: is then hashed). Sixteen bits name no one: thousands of ids share each value.
    excluded_filter: Mapped[list[int]] = mapped_column(JSON, default=list)
    algorithm: Mapped[str] = mapped_column(String(20), default="leximin")
    witnesses: Mapped[str] = mapped_column(Text, default="")
    method_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Stage 1: how many invitations, stratified by the register's stratum (or uniform),
    #: one per household; the number per stratum once computed.
    invitations_wanted: Mapped[int] = mapped_column(Integer, default=0)
    stratified: Mapped[bool] = mapped_column(Boolean, default=True)
    allocation: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Stage 1's commitment, published before the randomness exists: the registers' hashes,
    #: the parameters and the future drand round (``{"chain", "round", "at"}``) or a sealed
    #: seed's hash; and its SHA-256.
    commitment: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    commitment_sha256: Mapped[str] = mapped_column(String(64), default="")
    #: The revealed randomness of stage 1 (the drand beacon, or the unsealed seed).
    reveal: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Stage 2's audit record (``agora_sortition.audit``): commitment, lottery, reveal,
    #: panel, reserve and replacements. The public export is built from it. Loaded when
    #: first read (megabytes to decompress and unpack): most of a draw's pages never need it.
    record: Mapped[dict[str, Any]] = mapped_column(EngineRecords, default=dict, deferred=True)
    #: When the draw closed (seated), from which the retention period runs; when the
    #: personal data of the people not selected was purged.
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    purged_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: When the letters were last asked for as a batch for the print shop
    #: (``agora.draws.printing``): its progress is shown from then on.
    letters_requested_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    status_changed_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class SubDraw(TenantEntity, Base):
    """Part of a draw: ``seats`` of the body drawn from the commune's source ``source``."""

    __tablename__ = "sub_draw"
    __table_args__ = (
        tenant_fk("draw_id", "draw", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "draw_id", "source"),
        CheckConstraint("seats > 0", name="some_seats"),
    )

    draw_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))
    seats: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer, default=0)


class RegisterStatus(enum.StrEnum):
    UPLOADED = "uploaded"
    #: Waiting for its columns to be chosen (a source read with a column mapping).
    MAPPING = "mapping"
    IMPORTING = "importing"
    IMPORTED = "imported"
    FAILED = "failed"


class Register(TenantEntity, Base):
    """An uploaded register file, read through its sub-draw's source. The file is deleted
    once read; its name, size and SHA-256 stay, with what was found in it."""

    __tablename__ = "draw_register"
    __table_args__ = (
        tenant_fk("draw_id", "draw", ondelete="CASCADE"),
        tenant_fk("sub_draw_id", "sub_draw", ondelete="CASCADE"),
    )

    draw_id: Mapped[int] = mapped_column(BigInteger)
    sub_draw_id: Mapped[int] = mapped_column(BigInteger)
    source: Mapped[str] = mapped_column(String(40))
    filename: Mapped[str] = mapped_column(String(255))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    sha256: Mapped[str] = mapped_column(String(64))
    status: Mapped[RegisterStatus] = mapped_column(
        str_enum(RegisterStatus), default=RegisterStatus.UPLOADED
    )
    #: Lines read so far (progress) and, once imported, the eligible people stored.
    lines_read: Mapped[int] = mapped_column(Integer, default=0)
    row_count: Mapped[int] = mapped_column(Integer, default=0)
    #: People read but not eligible, by reason (``under_age``, ``excluded``,
    #: ``recent_member``).
    ineligible: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Why the import failed, in French, naming the file, the line and the column.
    error: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The file's columns chosen by role (``ColumnMappedSource``), when its source asks.
    column_mapping: Mapped[dict[str, list[str]]] = mapped_column(JSON, default=dict)


class RegisterBlock(TenantOwned, Base):
    """Some thousands of a register's eligible people (or addresses), packed column by column
    (:mod:`agora.draws.blocks`) with only what the draw needs: a stable hashed id, the
    household's, the stratum, the profile on the quota criteria and what invitations need
    (name, address)."""

    __tablename__ = "register_block"
    __table_args__ = (
        ForeignKeyConstraint(
            ["tenant_id", "register_id"],
            ["draw_register.tenant_id", "draw_register.id"],
            ondelete="CASCADE",
        ),
    )
    # The commune comes through the register (bulk inserts need no lock on the commune).
    references_tenant = False

    register_id: Mapped[int] = mapped_column(BigInteger, primary_key=True)
    number: Mapped[int] = mapped_column(Integer, primary_key=True)
    rows: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class InvitationStatus(enum.StrEnum):
    """Where an invitation stands, from the letter (or visit) to the answer."""

    INVITED = "invited"
    NOT_REACHED = "not_reached"
    REFUSED = "refused"
    INTERESTED = "interested"
    RESPONDED = "responded"


class VisitRound(TenantEntity, Base):
    """A door-to-door round: a pair (an elected member and a commune agent) visiting some of
    a draw's invited addresses. The pair records outcomes for its own round's addresses only."""

    __tablename__ = "visit_round"
    __table_args__ = (
        tenant_fk("draw_id", "draw", ondelete="CASCADE"),
        UniqueConstraint("tenant_id", "draw_id", "name"),
    )

    draw_id: Mapped[int] = mapped_column(BigInteger)
    name: Mapped[str] = mapped_column(String(100))
    #: The accounts of the pair (``account.id``), who may record this round's outcomes.
    member_account_ids: Mapped[list[int]] = mapped_column(JSON, default=list)
    day: Mapped[date | None] = mapped_column(Date)


class Invitation(TenantEntity, Base):
    """One household (or person) invited at stage 1: by letter with a unique code, or by a
    door-to-door visit, with the contact its register gave (name, address) for the letter or
    the visit sheet (the register's other rows are purged with it)."""

    __tablename__ = "invitation"
    __table_args__ = (
        tenant_fk("draw_id", "draw", ondelete="CASCADE"),
        tenant_fk("sub_draw_id", "sub_draw", ondelete="CASCADE"),
        tenant_fk("visit_round_id", "visit_round", ondelete="SET NULL"),
        UniqueConstraint("tenant_id", "code"),
        UniqueConstraint("tenant_id", "draw_id", "person_hash"),
    )

    draw_id: Mapped[int] = mapped_column(BigInteger)
    sub_draw_id: Mapped[int] = mapped_column(BigInteger)
    register_id: Mapped[int] = mapped_column(BigInteger)
    person_hash: Mapped[str] = mapped_column(String(64))
    household_hash: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(100), default="")
    #: Order of the draw (the letters are printed in this order).
    position: Mapped[int] = mapped_column(Integer)
    #: The code printed on the letter, which opens the response form (no ambiguous letters).
    code: Mapped[str] = mapped_column(String(16))
    channel: Mapped[str] = mapped_column(String(20), default="letter")
    visit_round_id: Mapped[int | None] = mapped_column(BigInteger)
    status: Mapped[InvitationStatus] = mapped_column(
        str_enum(InvitationStatus), default=InvitationStatus.INVITED
    )
    outcome_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    outcome_by: Mapped[str] = mapped_column(String(200), default="")
    #: When the GDPR art. 14 notice was shown (first contact: the letter or the visit).
    notice_shown_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The part of the draw's batch of letters that holds this invitation's letter, once
    #: printed (``draws/printing.py``).
    letter_part: Mapped[int | None] = mapped_column(Integer)
    #: What the letter or the visit sheet needs, from the register (name, address).
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class Response(TenantEntity, Base):
    """An answer: online with the letter's code, typed in by an agent from paper, recorded at
    a visit, or a volunteer's row. With consent and availability, it is in the pool."""

    __tablename__ = "draw_response"
    __table_args__ = (
        tenant_fk("draw_id", "draw", ondelete="CASCADE"),
        tenant_fk("sub_draw_id", "sub_draw", ondelete="CASCADE"),
        tenant_fk("invitation_id", "invitation", ondelete="SET NULL"),
        UniqueConstraint("tenant_id", "draw_id", "person_hash"),
    )

    draw_id: Mapped[int] = mapped_column(BigInteger)
    sub_draw_id: Mapped[int] = mapped_column(BigInteger)
    invitation_id: Mapped[int | None] = mapped_column(BigInteger)
    person_hash: Mapped[str] = mapped_column(String(64))
    household_hash: Mapped[str] = mapped_column(String(64), default="")
    #: The self-declared profile on the quota criteria (feature → value).
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: How to reach the person if selected (name, e-mail, phone): deleted by the retention
    #: purge unless selected.
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    available: Mapped[bool] = mapped_column(Boolean, default=False)
    consent: Mapped[bool] = mapped_column(Boolean, default=False)
    #: ``online``, ``paper``, ``visit`` or ``volunteer``.
    channel: Mapped[str] = mapped_column(String(20))
    entered_by: Mapped[str] = mapped_column(String(200), default="")
    #: The selection probability stage 2 gave this person (kept for the public record).
    probability: Mapped[float | None] = mapped_column(Float)


class PickRole(enum.StrEnum):
    PANEL = "on_panel"
    RESERVE = "in_reserve"


class PickStatus(enum.StrEnum):
    """A selected person's way from the draw to the seat."""

    SELECTED = "selected"
    CONFIRMED = "confirmed"
    DECLINED = "declined"
    SEATED = "seated"
    WITHDRAWN = "withdrawn"


class Pick(TenantEntity, Base):
    """One person stage 2 selected: on the panel, or on the ordered reserve."""

    __tablename__ = "draw_pick"
    __table_args__ = (
        tenant_fk("draw_id", "draw", ondelete="CASCADE"),
        tenant_fk("response_id", "draw_response", ondelete="CASCADE"),
        tenant_fk("membership_id", "membership", ondelete="SET NULL"),
        tenant_fk("replaces_id", "draw_pick", ondelete="SET NULL"),
        UniqueConstraint("tenant_id", "draw_id", "response_id"),
    )

    draw_id: Mapped[int] = mapped_column(BigInteger)
    response_id: Mapped[int] = mapped_column(BigInteger)
    role: Mapped[PickRole] = mapped_column(str_enum(PickRole))
    #: Order on the panel or the reserve (the reserve is called in this order).
    rank: Mapped[int] = mapped_column(Integer)
    status: Mapped[PickStatus] = mapped_column(str_enum(PickStatus), default=PickStatus.SELECTED)
    membership_id: Mapped[int | None] = mapped_column(BigInteger)
    #: The withdrawn pick this one replaces.
    replaces_id: Mapped[int | None] = mapped_column(BigInteger)
    #: Where no reserve fitted: the quotas the replacement breaks ("écart de quota"), shown
    #: publicly once the methodology committee confirms it.
    quota_gap: Mapped[list[Any]] = mapped_column(JSON, default=list)
    gap_confirmed_by: Mapped[str] = mapped_column(String(200), default="")
    gap_confirmed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class Deviation(TenantEntity, Base):
    """A public departure from the published method: a quota bound relaxed, more invitations
    in targeted strata, a replacement outside the quotas. Logged and shown on the public page."""

    __tablename__ = "draw_deviation"
    __table_args__ = (tenant_fk("draw_id", "draw", ondelete="CASCADE"),)

    draw_id: Mapped[int] = mapped_column(BigInteger)
    #: ``relaxed_bound``, ``targeted_invitations`` or ``quota_gap``.
    kind: Mapped[str] = mapped_column(String(40))
    #: What was decided and why, as shown on the public page (French).
    summary: Mapped[str] = mapped_column(Text)
    detail: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    decided_by: Mapped[str] = mapped_column(String(200))
    decided_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

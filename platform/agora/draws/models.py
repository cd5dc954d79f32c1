"""Tenant-owned records of a draw. Every reference between them is a composite
``(tenant_id, id)`` foreign key (``db.tenant_fk``)."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKeyConstraint,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantEntity, TenantOwned, UtcDateTime, str_enum, tenant_fk, utcnow


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
    #: The day ages are computed on.
    reference_date: Mapped[date] = mapped_column(Date)
    #: SHA-256 of the register ids excluded (elected members, commune agents…): the ids
    #: themselves are not kept.
    excluded_hashes: Mapped[list[str]] = mapped_column(JSON, default=list)
    algorithm: Mapped[str] = mapped_column(String(20), default="leximin")
    witnesses: Mapped[str] = mapped_column(Text, default="")
    method_published_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
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
    #: People read but not eligible, by reason (``under_age``, ``excluded``).
    ineligible: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Why the import failed, in French, naming the file, the line and the column.
    error: Mapped[str] = mapped_column(Text, default="")
    imported_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class RegisterRow(TenantOwned, Base):
    """One eligible person (or address) of a register, with only what the draw needs: a
    stable hashed id, the household, the stratum, the profile on the quota criteria and
    what invitations need (name, address)."""

    __tablename__ = "register_row"
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
    #: SHA-256 of the commune, the source and the register's own id.
    person_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    line: Mapped[int] = mapped_column(Integer)
    household_hash: Mapped[str] = mapped_column(String(64))
    stratum: Mapped[str] = mapped_column(String(100), default="")
    birth_date: Mapped[date | None] = mapped_column(Date)
    features: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    contact: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)

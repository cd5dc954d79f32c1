"""A petition, with the interpellation rules it opened under, and its signatures."""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantEntity, UtcDateTime, str_enum, tenant_fk, utcnow


class PetitionStatus(enum.StrEnum):
    OPEN = "open"
    #: A level short of the council was reached (a meeting with the mayor, say).
    THRESHOLD_REACHED = "threshold_reached"
    ON_COUNCIL_AGENDA = "on_council_agenda"
    REFERENDUM_REQUESTED = "referendum_requested"
    DECIDED = "decided"
    #: The signature window ended without reaching any level.
    CLOSED = "closed"


class Petition(TenantEntity, Base):
    __tablename__ = "petition"
    __table_args__ = (tenant_fk("author_id", "person"),)

    title: Mapped[str] = mapped_column(String(200))
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(BigInteger)
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    closes_at: Mapped[datetime] = mapped_column(UtcDateTime())
    status: Mapped[PetitionStatus] = mapped_column(
        str_enum(PetitionStatus), default=PetitionStatus.OPEN
    )
    #: The commune's interpellation rules when the petition opened (a later change of the
    #: commune's configuration does not move its thresholds).
    rules: Mapped[dict[str, Any]] = mapped_column(JSON)
    signature_count: Mapped[int] = mapped_column(Integer, default=0)
    #: level key → {"at": ISO moment, "signatures": count} when the level was crossed.
    levels_reached: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    meeting_held_on: Mapped[date | None] = mapped_column(Date)
    council_session_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    #: The mayor's or the council's public answer.
    answer: Mapped[str] = mapped_column(Text, default="")


class PetitionSignature(TenantEntity, Base):
    """One person's signature: once per petition (the database refuses a second). Only the
    attestations the rules ask for are kept; nothing here is shown publicly but the count."""

    __tablename__ = "petition_signature"
    __table_args__ = (
        tenant_fk("petition_id", "petition", ondelete="CASCADE"),
        tenant_fk("person_id", "person"),
        UniqueConstraint("tenant_id", "petition_id", "person_id"),
    )

    petition_id: Mapped[int] = mapped_column(BigInteger)
    person_id: Mapped[int] = mapped_column(BigInteger)
    attests_residence: Mapped[bool] = mapped_column(Boolean, default=False)
    attests_age: Mapped[bool] = mapped_column(Boolean, default=False)

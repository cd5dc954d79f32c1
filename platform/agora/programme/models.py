from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Date, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantEntity, UtcDateTime, str_enum, tenant_fk


class ProgrammeStatus(enum.StrEnum):
    DRAFT = "draft"
    IN_PROGRESS = "in_progress"
    LAUNCHED = "launched"
    CLOSED = "closed"
    CANCELLED = "cancelled"


class SessionStatus(enum.StrEnum):
    PLANNED = "planned"
    CONFIRMED = "confirmed"
    HELD = "held"
    MINUTES_PUBLISHED = "minutes_published"
    POSTPONED = "postponed"
    CANCELLED = "cancelled"


class Programme(TenantEntity, Base):
    """A commune's support programme, instantiated from the programme-template plugin."""

    __tablename__ = "programme"

    template_key: Mapped[str] = mapped_column(String(100))
    title: Mapped[str] = mapped_column(String(300))
    status: Mapped[ProgrammeStatus] = mapped_column(str_enum(ProgrammeStatus))
    starts_on: Mapped[date] = mapped_column(Date)
    target_launch: Mapped[date] = mapped_column(Date)
    budget_eur: Mapped[int | None] = mapped_column(Integer)


class ProgrammeSession(TenantEntity, Base):
    """One session of the programme (preliminary call, prefiguration 1-4, training…)."""

    __tablename__ = "programme_session"
    __table_args__ = (tenant_fk("programme_id", "programme", ondelete="CASCADE"),)

    programme_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    phase_key: Mapped[str] = mapped_column(String(50))
    phase_title: Mapped[str] = mapped_column(String(200))
    number: Mapped[int] = mapped_column(Integer)
    kind: Mapped[str] = mapped_column(String(60))
    title: Mapped[str] = mapped_column(String(300))
    scheduled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    remote: Mapped[bool] = mapped_column(Boolean, default=False)
    venue: Mapped[str] = mapped_column(String(300), default="")
    agenda: Mapped[str] = mapped_column(Text, default="")
    status: Mapped[SessionStatus] = mapped_column(
        str_enum(SessionStatus), default=SessionStatus.PLANNED
    )
    #: Deliverable keys expected from this session, and those accepted: {key: accepted_on}.
    deliverables: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    attendance: Mapped[int | None] = mapped_column(Integer)
    minutes: Mapped[str] = mapped_column(Text, default="")

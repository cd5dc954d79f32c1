"""A message to one participant of a commune."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import BigInteger, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantEntity, UtcDateTime, tenant_fk


class Notification(TenantEntity, Base):
    __tablename__ = "notification"
    __table_args__ = (tenant_fk("person_id", "person", ondelete="CASCADE"),)

    person_id: Mapped[int] = mapped_column(BigInteger)
    kind: Mapped[str] = mapped_column(String(60))
    subject: Mapped[str] = mapped_column(String(300))
    body: Mapped[str] = mapped_column(Text)
    #: A path on the commune's site (the mail prefixes the commune's address).
    link: Mapped[str] = mapped_column(String(500), default="")
    emailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

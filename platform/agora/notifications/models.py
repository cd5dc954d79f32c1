"""A message to one participant of a commune: what happened (a kind) and the parameters to
tell it, rendered for each reader in their language when shown or sent (see ``kinds``)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, String
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantEntity, UtcDateTime, tenant_fk


class Notification(TenantEntity, Base):
    __tablename__ = "notification"
    __table_args__ = (tenant_fk("person_id", "person", ondelete="CASCADE"),)

    person_id: Mapped[int] = mapped_column(BigInteger)
    #: A code registered in ``notifications.kinds`` by the capability that owns it.
    kind: Mapped[str] = mapped_column(String(60))
    #: What the kind's renderer needs: ids, numbers, codes, dates as ISO strings; no text.
    params: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    emailed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    read_at: Mapped[datetime | None] = mapped_column(UtcDateTime())

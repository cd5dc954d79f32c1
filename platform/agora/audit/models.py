from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import JSON, Boolean, Index, Integer, String, text
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantOwned, UtcDateTime, utcnow


class AuditEvent(TenantOwned, Base):
    """One thing that happened in a commune. Rows are never updated nor deleted: the app
    role is only granted INSERT and SELECT, and each row hashes the previous one."""

    __tablename__ = "audit_event"
    __table_args__ = (
        # The public journal, page by page, and its last event (the key of the public pages
        # kept in memory, shared/page_cache.py): one index entry per public act, so that a
        # run of private ones (a hall checking in) is never walked through.
        Index(
            "ix_audit_event_public",
            "tenant_id",
            "seq",
            # Each as SQLAlchemy writes ``where(AuditEvent.public)``, so that it is used.
            postgresql_where=text("public"),
            sqlite_where=text("public = 1"),
        ),
    )

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-10)
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(100))
    object_type: Mapped[str] = mapped_column(String(100))
    object_id: Mapped[str] = mapped_column(String(100))
    details: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    #: Shown in the commune's public journal (rule changes, draws…), never personal data.
    public: Mapped[bool] = mapped_column(Boolean, default=False)
    prev_hash: Mapped[str] = mapped_column(String(64))
    hash: Mapped[str] = mapped_column(String(64))

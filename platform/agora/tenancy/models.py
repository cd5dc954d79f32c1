"""Tenant records. ``tenant`` and ``tenant_domain`` are global (they are read to find the
commune before any tenant is bound); every other table here is tenant-owned."""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import JSON, BigInteger, Boolean, Enum, ForeignKey, Integer, String, false
from sqlalchemy.orm import Mapped, mapped_column, relationship

from agora.db import Base, TenantOwned, UtcDateTime, new_id, utcnow


class TenantKind(enum.StrEnum):
    COMMUNE = "commune"
    EPCI = "epci"


class TenantStatus(enum.StrEnum):
    PROSPECT = "prospect"
    ONBOARDING = "onboarding"
    ACTIVE = "active"
    SUSPENDED = "suspended"
    ARCHIVED = "archived"


class Tenant(Base):
    __tablename__ = "tenant"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    slug: Mapped[str] = mapped_column(String(63), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    insee_code: Mapped[str] = mapped_column(String(9), unique=True)
    kind: Mapped[TenantKind] = mapped_column(
        Enum(
            TenantKind, native_enum=False, length=20, values_callable=lambda e: [m.value for m in e]
        )
    )
    population: Mapped[int] = mapped_column(Integer)
    status: Mapped[TenantStatus] = mapped_column(
        Enum(
            TenantStatus,
            native_enum=False,
            length=20,
            values_callable=lambda e: [m.value for m in e],
        )
    )
    locale: Mapped[str] = mapped_column(String(5), default="fr")
    #: Version number of the configuration in force (see TenantConfigVersion).
    config_version: Mapped[int | None] = mapped_column(Integer)
    #: Head of the audit hash chain, so that deleting the newest events is detected too.
    audit_head_seq: Mapped[int] = mapped_column(Integer, default=0)
    audit_head_hash: Mapped[str] = mapped_column(String(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    domains: Mapped[list[TenantDomain]] = relationship(
        back_populates="tenant", cascade="all, delete-orphan", order_by="TenantDomain.hostname"
    )


class TenantDomain(Base):
    """A custom host name mapped to a commune, e.g. ``participer.example-commune.fr``."""

    __tablename__ = "tenant_domain"

    hostname: Mapped[str] = mapped_column(String(253), primary_key=True)
    tenant_id: Mapped[int] = mapped_column(BigInteger, ForeignKey("tenant.id", ondelete="CASCADE"))

    tenant: Mapped[Tenant] = relationship(back_populates="domains")


class TenantConfigVersion(TenantOwned, Base):
    """One applied version of a commune's configuration file; editions pin one."""

    __tablename__ = "tenant_config_version"

    version: Mapped[int] = mapped_column(Integer, primary_key=True, sort_order=-10)
    document: Mapped[dict[str, Any]] = mapped_column(JSON)
    digest: Mapped[str] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    #: Published while the internal rules in force say otherwise: this version takes effect
    #: (editions pin it, the site reads it) once a charter rendered from it is adopted.
    #: The only column the app may change (the document itself is append-only).
    awaiting_charter: Mapped[bool] = mapped_column(Boolean, default=False, server_default=false())

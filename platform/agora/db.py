"""Declarative base, identifiers and the tenant-owned mixin shared by every capability.

Every tenant-owned table has ``tenant_id`` first in its primary key and in every unique key,
and references other tenant tables through composite ``(tenant_id, id)`` foreign keys: the
database itself then refuses a link between two communes, and the schema can later be
distributed by tenant (Citus).
"""

from __future__ import annotations

import enum
import secrets
import threading
import time
from datetime import UTC, date, datetime
from typing import Any, ClassVar
from zoneinfo import ZoneInfo

from sqlalchemy import (
    BigInteger,
    DateTime,
    Enum,
    ForeignKey,
    ForeignKeyConstraint,
    MetaData,
    TypeDecorator,
)
from sqlalchemy.orm import (
    DeclarativeBase,
    Mapped,
    Session,
    declared_attr,
    mapped_column,
    scoped_session,
)

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

#: What services accept: a plain Session, or Flask-SQLAlchemy's request-scoped ``db.session``.
DbSession = Session | scoped_session[Any]


def plain_session(session: DbSession) -> Session:
    """The Session itself, behind ``db.session``'s proxy (which forwards only part of it)."""
    return session() if isinstance(session, scoped_session) else session


#: Global tables that carry a ``tenant_id`` column without being tenant-owned, and why:
#: they are read before a commune is bound (to resolve the host, to list a staff member's
#: communes in the console).
#: ``held_job`` stands in for the Redis queue, which is global too: the worker reads every
#: commune's held jobs before binding one (jobs/held.py).
GLOBAL_TABLES_WITH_TENANT_REF = frozenset({"tenant_domain", "staff_assignment", "held_job"})

# Tables whose rows belong to one commune; filled by TenantOwned subclasses so that the
# migration helper and the catalogue tests know which tables must carry row-level security.
TENANT_TABLES: set[str] = set()


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


_id_lock = threading.Lock()
_id_state = [0, 0]  # the last millisecond used, and the low bits last handed out in it


def new_id() -> int:
    """Return a time-ordered 62-bit identifier.

    Milliseconds since the epoch in the high bits, 20 bits below: ids sort by creation and
    need no sequence (so they work the same on SQLite, PostgreSQL and a sharded cluster).
    The low bits start at a random value in each millisecond and count up from there, so
    that a bulk insert — hundreds of rows in one millisecond — cannot collide with itself.
    """
    with _id_lock:
        now = int(time.time() * 1000)
        if now > _id_state[0]:
            _id_state[0], _id_state[1] = now, secrets.randbits(19)
        else:  # same millisecond (or the clock stepped back): keep counting
            _id_state[1] += 1
            if _id_state[1] >> 20:
                _id_state[0], _id_state[1] = _id_state[0] + 1, secrets.randbits(19)
        return (_id_state[0] << 20) | _id_state[1]


def new_random_id() -> int:
    """A 62-bit identifier with no time in it, for rows that must not be linkable by order
    (the votes of a secret ballot and the register of who voted)."""
    return secrets.randbits(62)


def tenant_fk(column: str, target: str, *, ondelete: str | None = None) -> ForeignKeyConstraint:
    """``(tenant_id, column) → target(tenant_id, id)``: the database refuses a link between
    two communes."""
    return ForeignKeyConstraint(
        ["tenant_id", column], [f"{target}.tenant_id", f"{target}.id"], ondelete=ondelete
    )


def str_enum(kind: type[enum.Enum]) -> Enum:
    """A string column holding an enum's values (no database enum type: easy migrations)."""
    return Enum(kind, native_enum=False, length=40, values_callable=lambda e: [m.value for m in e])


class UtcDateTime(TypeDecorator[datetime]):
    """A moment, always stored in UTC and always read back with its time zone.

    SQLite keeps no time zone: without this, an aware datetime would be stored as its local
    wall-clock time and read back naive.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime: give a time zone")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


#: Communes are in metropolitan France: times are stored in UTC and entered and shown here.
PARIS = ZoneInfo("Europe/Paris")


def utcnow() -> datetime:
    return datetime.now(UTC)


def paris_today() -> date:
    """Today for the communes (French local time), whatever the server's time zone: the date
    a milestone is late after, a date field must not go past, a report is dated."""
    return datetime.now(PARIS).date()


class TenantOwned:
    """Mixin for rows that belong to one commune: ``tenant_id`` leads the primary key.

    Subclasses are recorded in :data:`TENANT_TABLES`; the migration helper gives each of
    them row-level security and the catalogue tests check it.
    """

    __abstract__ = True
    #: Whether ``tenant_id`` carries its own foreign key to ``tenant``. A table whose rows all
    #: hang from a parent row through a composite ``(tenant_id, …)`` key already gets the
    #: commune from there; on a hot insert path the direct key is one more check and a lock
    #: on the commune's row that every concurrent insert takes.
    references_tenant: ClassVar[bool] = True

    def __init_subclass__(cls, **kwargs: object) -> None:
        super().__init_subclass__(**kwargs)
        table = cls.__dict__.get("__tablename__")
        if isinstance(table, str):
            TENANT_TABLES.add(table)

    @declared_attr
    def tenant_id(cls) -> Mapped[int]:
        tenant = [ForeignKey("tenant.id", ondelete="RESTRICT")] if cls.references_tenant else []
        # sort_order puts tenant_id first in the table, hence first in the primary key.
        return mapped_column(BigInteger, *tenant, primary_key=True, sort_order=-20)


class TenantEntity(TenantOwned):
    """A tenant-owned row identified by ``(tenant_id, id)`` with a creation time."""

    __abstract__ = True

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id, sort_order=-10)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

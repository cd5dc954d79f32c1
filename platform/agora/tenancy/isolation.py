"""Binding the current commune to database transactions.

On PostgreSQL every tenant-owned table has row-level security keyed on the
``app.tenant_id`` setting. It is set with ``set_config(..., true)``, i.e. for the current
transaction only, from an ``after_begin`` listener: a session-level setting would survive
a commit and leak to the next user of the pooled connection.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.orm import Session, SessionTransaction, scoped_session

from agora.db import DbSession

TENANT_SETTING = "app.tenant_id"
_SET_TENANT = f"SELECT set_config('{TENANT_SETTING}', %s, true)"


def _apply(connection: Connection, tenant_id: int | None) -> None:
    if connection.dialect.name == "postgresql":
        # As driver SQL: this runs at the start of every transaction (each vote's included),
        # and needs no compiling; SQLAlchemy still sees its errors (a lost connection).
        connection.exec_driver_sql(_SET_TENANT, ("" if tenant_id is None else str(tenant_id),))


@event.listens_for(Session, "after_begin")
def _bind_on_begin(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    tenant_id = session.info.get("tenant_id")
    # A savepoint inherits its transaction's setting; with no commune bound, a new
    # transaction's setting is already empty (it is only ever set transaction-locally), so
    # the round trip is saved — it counts on the vote path.
    if tenant_id is not None and not transaction.nested:
        _apply(connection, tenant_id)


def bind_tenant(session: DbSession, tenant_id: int | None) -> None:
    """Scope ``session`` to one commune (or to none) from now on, this transaction included."""
    plain: Session = session() if isinstance(session, scoped_session) else session
    plain.info["tenant_id"] = tenant_id
    transaction = plain.get_transaction()
    # A failed transaction is about to be rolled back: its setting dies with it.
    if transaction is not None and transaction.is_active:
        _apply(plain.connection(), tenant_id)


def bound_tenant_id(session: DbSession) -> int | None:
    value = session.info.get("tenant_id")
    return int(value) if value is not None else None


@contextmanager
def tenant_scope(session: DbSession, tenant_id: int) -> Iterator[None]:
    """Bind ``tenant_id`` for the duration of the block, then restore the previous binding.

    Pending writes are flushed before leaving, while the commune is still bound: row-level
    security checks every row against the binding in force when it is written.
    """
    previous = bound_tenant_id(session)
    bind_tenant(session, tenant_id)
    try:
        yield
        session.flush()
    finally:
        bind_tenant(session, previous)

"""Binding the current commune to database transactions.

On PostgreSQL every tenant-owned table has row-level security keyed on the
``app.tenant_id`` setting. It is set with ``set_config(..., true)``, i.e. for the current
transaction only, from an ``after_begin`` listener: a session-level setting would survive
a commit and leak to the next user of the pooled connection. A statement that is a
transaction of its own (:class:`StandaloneStatement`) sends the same binding in the same
round trip as itself.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from typing import Any, TypeGuard, cast

import psycopg
from sqlalchemy import event
from sqlalchemy.engine import Connection, Dialect, Engine
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql import ClauseElement
from sqlalchemy.sql.compiler import SQLCompiler

from agora.db import DbSession, plain_session

TENANT_SETTING = "app.tenant_id"
_SET_TENANT = f"SELECT set_config('{TENANT_SETTING}', %s, true)"


def _apply(connection: Connection, tenant_id: int | None) -> None:
    if connection.dialect.name == "postgresql":
        # As driver SQL: this runs at the start of every transaction (each vote's included),
        # and needs no compiling; SQLAlchemy still sees its errors (a lost connection).
        connection.exec_driver_sql(_SET_TENANT, ("" if tenant_id is None else str(tenant_id),))


#: ``Session.info`` key: the connections of the current transaction. There are two when a
#: request reads from the replica and writes to the primary (``agora/replica.py``); a
#: commune bound midway must reach both.
_CONNECTIONS = "agora_connections"


@event.listens_for(Session, "after_begin")
def _bind_on_begin(
    session: Session, transaction: SessionTransaction, connection: Connection
) -> None:
    if not transaction.nested:
        session.info.setdefault(_CONNECTIONS, []).append(connection)
    tenant_id = session.info.get("tenant_id")
    # A savepoint inherits its transaction's setting; with no commune bound, a new
    # transaction's setting is already empty (it is only ever set transaction-locally), so
    # the round trip is saved — it counts on the vote path.
    if tenant_id is not None and not transaction.nested:
        _apply(connection, tenant_id)


@event.listens_for(Session, "after_transaction_end")
def _forget_connections(session: Session, transaction: SessionTransaction) -> None:
    if transaction.parent is None:
        session.info.pop(_CONNECTIONS, None)


def bind_tenant(session: DbSession, tenant_id: int | None) -> None:
    """Scope ``session`` to one commune (or to none) from now on, this transaction included."""
    plain = plain_session(session)
    plain.info["tenant_id"] = tenant_id
    transaction = plain.get_transaction()
    # A failed transaction is about to be rolled back: its setting dies with it.
    if transaction is not None and transaction.is_active:
        for connection in plain.info.get(_CONNECTIONS) or [plain.connection()]:
            _apply(connection, tenant_id)


def holds_connection(session: DbSession) -> bool:
    """Whether ``session``'s transaction has reached the database yet (a session may begin
    its transaction without sending anything)."""
    return bool(plain_session(session).info.get(_CONNECTIONS))


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
    if previous == tenant_id:
        # Already bound (a request reading its own commune's rows): binding again would cost
        # two round trips, and a page reads its commune's configuration several times.
        yield
        session.flush()
        return
    bind_tenant(session, tenant_id)
    try:
        yield
        session.flush()
    finally:
        bind_tenant(session, previous)


class StandaloneStatement:
    """One statement that is a transaction of its own, sent in a single round trip.

    For the hot paths of an assembly day (a few hundred votes at once; the public pages'
    check that the page kept in memory is still the commune's latest), on PostgreSQL through
    psycopg. Without an explicit BEGIN, everything a client pipelines before a Sync message
    runs as one implicit transaction: the commune's binding — transaction-local, as
    everywhere — covers the statement and ends with it, an error rolls both back, and the
    round trips of BEGIN, of the binding and of COMMIT are saved. The statement is compiled
    once, its parameters converted as SQLAlchemy would, its errors raised as SQLAlchemy's
    (an :class:`~sqlalchemy.exc.IntegrityError` stays one).
    """

    def __init__(self, statement: ClauseElement) -> None:
        self.statement = statement
        self._compiled: tuple[SQLCompiler, dict[str, Callable[[Any], Any]]] | None = None
        self._lock = threading.Lock()

    @staticmethod
    def supports(bind: Engine | Connection) -> TypeGuard[Engine]:
        return (
            isinstance(bind, Engine)
            and bind.dialect.name == "postgresql"
            and bind.dialect.driver == "psycopg"
        )

    def _compile(self, dialect: Dialect) -> tuple[SQLCompiler, dict[str, Callable[[Any], Any]]]:
        found = self._compiled
        if found is not None:
            return found
        with self._lock:
            if self._compiled is None:
                compiled = cast(SQLCompiler, self.statement.compile(dialect=dialect))
                processors: dict[str, Callable[[Any], Any]] = {}
                for bind, name in compiled.bind_names.items():
                    process = bind.type.dialect_impl(dialect).bind_processor(dialect)
                    if process is not None:
                        processors[name] = process
                self._compiled = (compiled, processors)
            return self._compiled

    def first(self, engine: Engine, tenant_id: int, params: Mapping[str, Any]) -> Any | None:
        """Run the statement for the commune ``tenant_id``, committed on return; its first
        row, or ``None``."""
        compiled, processors = self._compile(engine.dialect)
        values = compiled.construct_params(params)
        for name, process in processors.items():
            values[name] = process(values[name])
        dbapi = engine.dialect.loaded_dbapi  # psycopg: its errors, typed as SQLAlchemy knows them
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT")
            pooled = connection.connection
            driver = cast(psycopg.Connection[Any], pooled.driver_connection)
            try:
                with driver.pipeline():
                    driver.execute(_SET_TENANT, (str(tenant_id),))
                    cursor = driver.execute(compiled.string, values)
                return cursor.fetchone()
            except dbapi.Error as error:
                if engine.dialect.is_disconnect(error, pooled.dbapi_connection, None):
                    connection.invalidate(error)
                raise DBAPIError.instance(
                    compiled.string, values, error, dbapi.Error, dialect=engine.dialect
                ) from error

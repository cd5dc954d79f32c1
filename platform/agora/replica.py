"""Reads from a streaming replica (``AGORA_DATABASE_REPLICA_URL``), writes to the primary.

Anonymous GET requests — the public pages most of an assembly day's traffic is made of —
read from the replica. A person always reads their own writes: a signed-in person's requests,
and every request for a short while after one that wrote (a vote, an answer to an invitation:
a cookie marks the browser), read from the primary. Within a replica request, only plain
SELECTs go to the replica; anything that writes or locks (a flush, an UPDATE, SELECT … FOR
UPDATE, raw SQL) still goes to the primary. The commune's row-level security binding is sent
on every connection of the transaction, the replica's included (``tenancy/isolation.py``).
"""

from __future__ import annotations

from typing import Any

from flask import Flask, current_app, request, session
from flask.wrappers import Response
from flask_sqlalchemy.session import Session as FlaskSession
from sqlalchemy import Select
from sqlalchemy.engine import Connection, Engine

from agora.db import plain_session

BIND = "replica"
#: ``Session.info`` key: this request's plain reads go to the replica.
READS_FROM_REPLICA = "agora_reads_from_replica"
#: The cookie a browser gets after a request that may have written: its next requests read
#: from the primary, long enough for any replication lag.
PRIMARY_COOKIE = "agora_primary"
PRIMARY_SECONDS = 30
_SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})


class RoutingSession(FlaskSession):
    """Flask-SQLAlchemy's session, sending plain reads to the replica when told to."""

    def get_bind(
        self,
        mapper: Any | None = None,
        clause: Any | None = None,
        bind: Engine | Connection | None = None,
        **kwargs: Any,
    ) -> Engine | Connection:
        if bind is None and self.info.get(READS_FROM_REPLICA) and _plain_read(mapper, clause):
            return self._db.engines[BIND]
        return super().get_bind(mapper, clause=clause, bind=bind, **kwargs)


def _plain_read(mapper: Any | None, clause: Any | None) -> bool:
    if clause is None:
        # A flush names its mapper; a bare ``session.connection()`` (the commune's binding)
        # names nothing and goes where the reads go.
        return mapper is None
    return isinstance(clause, Select) and clause._for_update_arg is None


def configure(app: Flask) -> None:
    """Declare the replica's engine (before ``db.init_app``), when one is configured."""
    url = app.config.get("AGORA_DATABASE_REPLICA_URL")
    if url:
        app.config["SQLALCHEMY_BINDS"] = {**app.config.get("SQLALCHEMY_BINDS", {}), BIND: url}


def _route_reads() -> None:
    if (
        request.method in ("GET", "HEAD")
        and "sid" not in session
        and PRIMARY_COOKIE not in request.cookies
    ):
        # The app's Flask-SQLAlchemy (agora.extensions builds it with this module's session).
        plain_session(current_app.extensions["sqlalchemy"].session).info[READS_FROM_REPLICA] = True


def _mark_writer(response: Response) -> Response:
    if request.method not in _SAFE_METHODS:
        response.set_cookie(
            PRIMARY_COOKIE,
            "1",
            max_age=PRIMARY_SECONDS,
            httponly=True,
            samesite="Lax",
            secure=current_app.config["SESSION_COOKIE_SECURE"],
        )
    return response


def init_app(app: Flask) -> None:
    """Route reads per request (first of the request hooks: before the commune is read)."""
    if BIND in app.config.get("SQLALCHEMY_BINDS", {}):
        app.before_request(_route_reads)
        app.after_request(_mark_writer)

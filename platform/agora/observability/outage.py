"""The database is unreachable, or dropped the connection mid-request: a 503 that says
to try again, never a 500 or a stack trace.

The transaction is rolled back (the database aborted it anyway: nothing is half-written)
and the page is drawn without the database: the bare error page, in the session's language
or the default one, not the commune's frame (which reads the commune). SQLAlchemy, seeing a
disconnection, invalidates the pool's connections: the next request opens fresh ones, so
the pool recovers by itself without a ping before every checkout (a round trip on every
vote; see ``config.py``).
"""

from __future__ import annotations

from contextlib import suppress

import psycopg
import structlog
from flask import Flask, Response, g, jsonify, render_template, request
from flask_babel import gettext as _
from sqlalchemy.exc import DisconnectionError, OperationalError, SQLAlchemyError

from agora.extensions import db

#: Seconds a client is asked to wait before trying again.
RETRY_AFTER = 5
UNAVAILABLE = (OperationalError, DisconnectionError, psycopg.OperationalError)


def _database_unavailable(error: Exception) -> Response:
    # The error's text may quote SQL parameters (personal data): its class is enough.
    structlog.stdlib.get_logger("agora.requests").warning(
        "database unavailable", error=type(error).__name__
    )
    # The connection may be gone already; the pool has discarded it.
    with suppress(SQLAlchemyError):
        db.session.rollback()
    # Without its commune, nothing on the page can reach for the database.
    g.pop("attached_tenant", None)
    g.pop("cached_tenant", None)
    message = _("The service is momentarily unavailable, try again in a moment.")
    if request.accept_mimetypes.best == "application/json" or request.is_json:
        response = jsonify(error="unavailable", message=message)
    else:
        page = render_template(
            "errors/bare.html", code=503, title=_("Service unavailable"), message=message
        )
        response = Response(page, mimetype="text/html")
    response.status_code = 503
    response.headers["Retry-After"] = str(RETRY_AFTER)
    return response


def init_app(app: Flask) -> None:
    for exception in UNAVAILABLE:
        app.register_error_handler(exception, _database_unavailable)

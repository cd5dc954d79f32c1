"""``/healthz``, ``/readyz`` and ``/metrics``, answered before Flask routes the request.

The probes come from Kubernetes, nginx or Prometheus on whatever host they use (a pod's IP,
``localhost``): Flask would refuse a host outside ``TRUSTED_HOSTS`` with a 400, and the
commune resolution answers 404 on an unknown one. So these three paths are served by a WSGI
layer in front of the application, on any host, with no session, commune or cookie.

- ``/healthz``: the process answers; touches nothing.
- ``/readyz``: ``SELECT 1`` on the database, the migrations at head (the database's alembic
  revision against the scripts'), Redis answering a ping when it is configured. 200 when all
  pass, else 503 naming the failing check. ``?optional=redis`` still reports Redis but does
  not fail on it: a load balancer's readiness should not take every node out of service for a
  Redis outage that voting survives (``jobs/held.py``); monitoring uses the plain form.
- ``/metrics``: Prometheus's text format, only for a request carrying ``Authorization:
  Bearer <AGORA_METRICS_TOKEN>``; 401 with a wrong or missing token, 404 when no token is
  configured (the endpoint does not exist).
"""

from __future__ import annotations

import hmac
import json
from collections.abc import Callable, Iterable
from functools import cache
from typing import Any

from alembic.script import ScriptDirectory
from flask import Flask
from sqlalchemy import Connection, inspect, text
from sqlalchemy.exc import ProgrammingError, SQLAlchemyError
from werkzeug.wrappers import Request, Response

from agora.extensions import db
from agora.observability import metrics

OK = "ok"


def _json(status: int, body: dict[str, Any]) -> Response:
    response = Response(json.dumps(body), status=status, mimetype="application/json")
    response.headers["Cache-Control"] = "no-store"
    return response


class Probes:
    """WSGI middleware answering the three paths and passing everything else on."""

    def __init__(self, app: Flask, wrapped: Callable[..., Iterable[bytes]]) -> None:
        self.app = app
        self.wrapped = wrapped
        self.routes: dict[str, Callable[[Request], Response]] = {
            "/healthz": lambda _request: _json(200, {"status": OK}),
            "/readyz": self.readyz,
            "/metrics": self.metrics,
        }

    def __call__(self, environ: dict[str, Any], start_response: Callable[..., Any]) -> Any:
        route = self.routes.get(environ.get("PATH_INFO", ""))
        if route is None:
            return self.wrapped(environ, start_response)
        return route(Request(environ))(environ, start_response)

    def readyz(self, request: Request) -> Response:
        checks = readiness(self.app)
        optional = set(request.args.getlist("optional"))
        failing = sorted(name for name, state in checks.items() if state != OK)
        blocking = [name for name in failing if name not in optional]
        body: dict[str, Any] = {"status": "unavailable" if blocking else "ready", "checks": checks}
        if failing:
            body["failing"] = failing
        return _json(503 if blocking else 200, body)

    def metrics(self, request: Request) -> Response:
        token = self.app.config.get("AGORA_METRICS_TOKEN")
        if not token:
            return Response("Not found\n", status=404, mimetype="text/plain")
        sent = request.headers.get("Authorization", "")
        if not hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
            return Response(
                "Unauthorized\n",
                status=401,
                mimetype="text/plain",
                headers={"WWW-Authenticate": 'Bearer realm="metrics"'},
            )
        body, content_type = metrics.exposition(self.app)
        return Response(body, status=200, content_type=content_type)


def readiness(app: Flask) -> dict[str, str]:
    """Each check's state: ``ok`` or what is wrong (also exported as a metric)."""
    checks = {"database": OK, "migrations": OK}
    with app.app_context():
        try:
            with db.engine.connect() as connection:
                connection.execute(text("SELECT 1"))
                try:
                    at_head = _revisions(connection) == _script_heads(
                        app.extensions["migrate"].directory
                    )
                except ProgrammingError:  # the revision table missing, or not readable
                    at_head = False
                if not at_head:
                    checks["migrations"] = "not at head"
        except SQLAlchemyError:
            checks["database"] = "unreachable"
            checks["migrations"] = "unknown"
    redis_url = app.config.get("AGORA_REDIS_URL")
    if redis_url:
        checks["redis"] = OK if _redis_answers(redis_url) else "unreachable"
    return checks


@cache
def _script_heads(directory: str) -> frozenset[str]:
    # Read once: the scripts do not change under a running process.
    return frozenset(ScriptDirectory(directory).get_heads())


def _revisions(connection: Connection) -> frozenset[str]:
    """The database's alembic revisions (none before the first migration). Read as plain
    SQL: alembic's own reader logs two lines at every probe."""
    if not inspect(connection).has_table("alembic_version"):
        return frozenset()
    return frozenset(connection.execute(text("SELECT version_num FROM alembic_version")).scalars())


def _redis_answers(redis_url: str) -> bool:
    from redis import Redis
    from redis.exceptions import RedisError

    try:
        client = Redis.from_url(redis_url, socket_connect_timeout=1, socket_timeout=1)
        try:
            return bool(client.ping())
        finally:
            client.close()
    except RedisError:
        return False

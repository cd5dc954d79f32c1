"""Structured logs: one line per request and per job, with who and where but never whom.

Each line carries the request id (``X-Request-ID`` when the caller sent a sane one, else a
new one, returned in the response), the commune's slug and id, the account's id, the
method, the route's endpoint (never the raw path or query string: they may hold a sign-in
code or a token), the status, the duration and the number of SQL statements sent through
SQLAlchemy (a vote's and a kept page's one round trip are not among them:
``tenancy/isolation.py``, ``StandaloneStatement``). No e-mail address, name or IP address.

The format is ``AGORA_LOG_FORMAT``: ``json`` (one JSON object a line) or ``console`` (for a
person). Unset, it is ``console`` when standard error is a terminal (``flask run``, a command
typed by hand) and ``json`` otherwise: the worker under systemd, Kubernetes or compose, a
cron job. gunicorn (``deploy/gunicorn.conf.py``) sets ``json`` even in a terminal.
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from typing import Any

import structlog
from flask import Flask, Response, g, has_request_context, request
from sqlalchemy import event
from sqlalchemy.engine import Engine

from agora.observability import metrics
from agora.tenancy.context import resolved_tenant

#: An incoming request id is kept only if it is a short plain token (a proxy's or a load
#: balancer's); anything else could smuggle text into the logs.
_SANE_REQUEST_ID = re.compile(r"[A-Za-z0-9._-]{1,128}")
_HANDLER_MARK = "agora_structlog"

logger = structlog.stdlib.get_logger("agora.requests")


_SHARED: list[Any] = [
    structlog.contextvars.merge_contextvars,
    structlog.stdlib.add_logger_name,
    structlog.stdlib.add_log_level,
    structlog.processors.TimeStamper(fmt="iso", utc=True),
]


def formatter(log_format: str) -> logging.Formatter:
    """Render any log record (structlog's or the standard library's) as JSON or for a
    terminal."""
    if log_format == "json":
        # JSON carries a traceback as one field; the console renderer prints it itself.
        rendering: list[Any] = [
            structlog.processors.format_exc_info,
            structlog.processors.JSONRenderer(),
        ]
    else:
        rendering = [structlog.dev.ConsoleRenderer(colors=False)]
    return structlog.stdlib.ProcessorFormatter(
        foreign_pre_chain=_SHARED,
        processors=[structlog.stdlib.ProcessorFormatter.remove_processors_meta, *rendering],
    )


def configure(log_format: str) -> None:
    """Send every log record through one handler on the root logger. Calling it again
    replaces the handler it installed and no other."""
    structlog.configure(
        processors=[*_SHARED, structlog.stdlib.ProcessorFormatter.wrap_for_formatter],
        logger_factory=structlog.stdlib.LoggerFactory(),
        wrapper_class=structlog.stdlib.BoundLogger,
        cache_logger_on_first_use=True,
    )
    handler = logging.StreamHandler()
    handler.setFormatter(formatter(log_format))
    setattr(handler, _HANDLER_MARK, True)
    root = logging.getLogger()
    for previous in [h for h in root.handlers if getattr(h, _HANDLER_MARK, False)]:
        root.removeHandler(previous)
    root.addHandler(handler)
    root.setLevel(logging.INFO)


def _count_statement(*_args: Any) -> None:
    # Statements sent for the request (round trips, for most): what its duration is made of.
    if has_request_context():
        g.db_statements = g.get("db_statements", 0) + 1


def _start() -> None:
    incoming = request.headers.get("X-Request-ID", "")
    g.request_id = incoming if _SANE_REQUEST_ID.fullmatch(incoming) else uuid.uuid4().hex
    g.request_started = time.perf_counter()
    # gthread workers reuse their threads: nothing of the previous request may linger.
    structlog.contextvars.clear_contextvars()
    structlog.contextvars.bind_contextvars(request_id=g.request_id)


def _identify() -> None:
    """Who and where, read once the commune and the person are resolved and still loaded:
    reading them at the end could reload an expired row from the database."""
    tenant = resolved_tenant()
    account = g.get("account")
    g.log_context = {
        "commune": tenant.slug if tenant is not None else None,
        "tenant_id": g.get("tenant_id"),
        "account_id": account.id if account is not None else None,
    }
    structlog.contextvars.bind_contextvars(**g.log_context)


def _finish(response: Response) -> Response:
    request_id = g.get("request_id")
    if request_id is None:  # a response made before this app's first hook (never expected)
        return response
    response.headers["X-Request-ID"] = request_id
    duration = time.perf_counter() - g.request_started
    # A 404 on an unknown address has no endpoint: grouped, so paths never become labels.
    endpoint = request.endpoint or "unmatched"
    metrics.observe_request(endpoint, request.method, response.status_code, duration)
    logger.info(
        "request",
        method=request.method,
        endpoint=endpoint,
        status=response.status_code,
        duration_ms=round(duration * 1000, 1),
        db_statements=g.get("db_statements", 0),
        **g.get("log_context", {}),
    )
    return response


def _forget(_error: BaseException | None) -> None:
    # What runs next in this thread (a job, a command) is not this request.
    structlog.contextvars.clear_contextvars()


def init_app(app: Flask) -> None:
    configure(app.config["AGORA_LOG_FORMAT"])
    if not event.contains(Engine, "before_cursor_execute", _count_statement):
        event.listen(Engine, "before_cursor_execute", _count_statement)
    # First of all hooks, so that a request refused early (unknown commune, database
    # down) still has its id and duration.
    app.before_request_funcs.setdefault(None, []).insert(0, _start)
    app.before_request(_identify)
    app.after_request(_finish)
    app.teardown_request(_forget)

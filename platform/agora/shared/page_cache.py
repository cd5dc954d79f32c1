"""A short-lived, per-process cache of the public pages an anonymous visitor reads.

On an assembly day hundreds of people open a commune's home, rules, journal and charter
while the same two cores count votes: drawing each of those pages takes 10 to 40 ms of
Python, serving it from memory well under one. A page is kept when the view marked it
(:func:`for_visitors`), the request is an anonymous GET without a session, and the answer is
a 200 that sets no cookie (a form's CSRF token, a language chosen, a flash message all
write the session, so such a page is never kept nor served from here).

The key holds the commune, the path with its query string, the language and the commune's
last public audit event: every act the public journal shows (a rule changed, a session
opened, a ballot closed, a decision published) shows at once, in every process (a page is
drawn from the commune as the database has it, not as the process's host cache last saw
it); anything else within ``AGORA_PUBLIC_PAGE_CACHE_SECONDS`` (60 s; 0 turns the cache
off, the tests' default). A commune's pages change by its acts, so the bound is long: 100
communes' four pages asked 2,000 times a minute are each asked every 12 s, and a 10 s bound
drew three of four of them. Private
bookkeeping does not redraw a commune's pages: when a hall of 500 checks in, each check-in
extends the audit chain, and a key on the whole chain would change with every one of them.
Each process keeps at most ``MAX_PAGES``, and draws a page once when many ask it at the same
moment (:class:`PageCache`). With Redis (``AGORA_REDIS_URL``), a page one process drew is
kept there too, for every process of every node (:class:`SharedPages`): five workers on two
nodes would otherwise each draw every page of every commune. It expires there and in the
memory of the process that read it at the same moment, so the bound on what a visitor may
see late stays ``AGORA_PUBLIC_PAGE_CACHE_SECONDS``. Redis away, pages are drawn as without it.
"""

from __future__ import annotations

import hashlib
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from redis import Redis
from redis.exceptions import RedisError
from sqlalchemy import bindparam, func, select

from agora.audit.models import AuditEvent
from agora.db import plain_session
from agora.extensions import db
from agora.tenancy.context import read_tenant_afresh
from agora.tenancy.isolation import StandaloneStatement, holds_connection

View = TypeVar("View", bound=Callable[..., Any])
MAX_PAGES = 1000
_EXTENSION = "agora_page_cache"
_SHARED_EXTENSION = "agora_shared_pages"


def for_visitors(view: View) -> View:
    """Mark a public view whose page is the same for every anonymous visitor."""
    view.agora_cached_for_visitors = True  # type: ignore[attr-defined]
    return view


class PageCache:
    """The kept pages, and the pages being drawn: when a page is asked by several threads at
    once (everyone reloading a ballot's result at its close), one draws it and the others wait
    for it, up to ``WAIT_SECONDS``, rather than all drawing the same page."""

    WAIT_SECONDS = 2.0

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, bytes, str]] = OrderedDict()
        self._drawing: dict[tuple[Any, ...], threading.Event] = {}
        self._lock = threading.Lock()

    def _fresh(self, key: tuple[Any, ...]) -> tuple[bytes, str] | None:
        entry = self._pages.get(key)
        if entry is None or entry[0] < time.monotonic():
            return None
        self._pages.move_to_end(key)
        return entry[1], entry[2]

    def get(self, key: tuple[Any, ...]) -> tuple[tuple[bytes, str] | None, bool]:
        """The kept page, or ``None`` and whether the caller now draws it for every thread
        (it must then :meth:`release` the key, whether the page was kept or not)."""
        with self._lock:
            found = self._fresh(key)
            if found is not None:
                return found, False
            drawing = self._drawing.get(key)
            if drawing is None:
                self._drawing[key] = threading.Event()
                return None, True
        drawing.wait(self.WAIT_SECONDS)
        with self._lock:
            # Not kept (an error, a cookie set) or too slow: this thread draws its own.
            return self._fresh(key), False

    def put(
        self, key: tuple[Any, ...], body: bytes, content_type: str, seconds: float | None = None
    ) -> None:
        """Keep a page for the cache's seconds, or for ``seconds`` (what is left of a page
        read from :class:`SharedPages`)."""
        lifetime = self.seconds if seconds is None else min(seconds, self.seconds)
        with self._lock:
            self._pages[key] = (time.monotonic() + lifetime, body, content_type)
            self._pages.move_to_end(key)
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)

    def release(self, key: tuple[Any, ...]) -> None:
        """The page is drawn (kept or not): the threads waiting for it go on."""
        with self._lock:
            drawing = self._drawing.pop(key, None)
        if drawing is not None:
            drawing.set()


class SharedPages:
    """The pages kept in Redis, for every process: a page drawn once serves the visitors of
    every worker until it expires. Each value carries its expiry (a wall-clock time), so that
    a process reading it keeps it in memory no longer than Redis does. A Redis that fails
    (gone, slow, full) is left alone for ``RETRY_SECONDS``: a page is then drawn, never
    refused nor delayed more than ``TIMEOUT_SECONDS`` once."""

    PREFIX = "agora:page:"
    TIMEOUT_SECONDS = 0.25
    RETRY_SECONDS = 5.0

    def __init__(self, redis_url: str, seconds: float) -> None:
        self.seconds = seconds
        self.client = Redis.from_url(
            redis_url,
            socket_connect_timeout=self.TIMEOUT_SECONDS,
            socket_timeout=self.TIMEOUT_SECONDS,
        )
        self._away_until = 0.0

    def _name(self, key: tuple[Any, ...]) -> str:
        return self.PREFIX + hashlib.sha256(repr(key).encode()).hexdigest()

    def _failed(self, error: RedisError) -> None:
        if time.monotonic() >= self._away_until:
            current_app.logger.warning("page cache: Redis unreachable (%s)", type(error).__name__)
        self._away_until = time.monotonic() + self.RETRY_SECONDS

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, str, float] | None:
        """The page, its content type and the seconds it has left; ``None`` when Redis has
        none (or is away)."""
        if time.monotonic() < self._away_until:
            return None
        try:
            value = self.client.get(self._name(key))
        except RedisError as error:
            self._failed(error)
            return None
        if not isinstance(value, bytes):
            return None
        try:
            expires, content_type, body = value.split(b"\n", 2)
            left = float(expires) - time.time()
            return (body, content_type.decode(), left) if left > 0 else None
        except ValueError:  # not a page this code wrote: drawn again
            return None

    def put(self, key: tuple[Any, ...], body: bytes, content_type: str) -> None:
        if time.monotonic() < self._away_until:
            return
        header = f"{time.time() + self.seconds:.3f}\n{content_type}\n".encode()
        try:
            self.client.set(self._name(key), header + body, px=int(self.seconds * 1000))
        except RedisError as error:
            self._failed(error)


def _key() -> tuple[Any, ...] | None:
    """The request's key, or None when its page must be drawn for it."""
    if request.method != "GET" or g.get("tenant_id") is None or g.get("account") is not None:
        return None
    if session or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "agora_cached_for_visitors", False):
        return None
    return (g.tenant_id, request.full_path, str(get_locale()), _public_head(g.tenant_id))


_PUBLIC_HEAD = select(func.max(AuditEvent.seq)).where(
    AuditEvent.tenant_id == bindparam("tenant_id"),
    AuditEvent.public,  # not IS TRUE: the public events' index is written so
)
_PUBLIC_HEAD_ALONE = StandaloneStatement(_PUBLIC_HEAD)


def _public_head(tenant_id: int) -> int | None:
    """The commune's last public act. Before anything else of the request has touched the
    database (a page served from memory touches nothing else), in one round trip on
    PostgreSQL rather than four (BEGIN, the commune's binding, the query, ROLLBACK)."""
    bind = plain_session(db.session).get_bind(clause=_PUBLIC_HEAD)
    if not holds_connection(db.session) and StandaloneStatement.supports(bind):
        row = _PUBLIC_HEAD_ALONE.first(bind, tenant_id, {"tenant_id": tenant_id})
        return None if row is None else row[0]
    head: int | None = db.session.execute(_PUBLIC_HEAD, {"tenant_id": tenant_id}).scalar()
    return head


def _serve() -> Response | None:
    cache: PageCache = current_app.extensions[_EXTENSION]
    key = _key()
    if key is None:
        return None
    found, drawing = cache.get(key)
    shared: SharedPages | None = current_app.extensions.get(_SHARED_EXTENSION)
    if found is None and drawing and shared is not None:
        # This thread draws the page for its process: another process may have drawn it.
        kept = shared.get(key)
        if kept is not None:
            body, content_type, left = kept
            cache.put(key, body, content_type, left)
            cache.release(key)
            found = body, content_type
    if found is None:
        g.page_cache_key = key  # drawn by its view, then kept by _keep
        g.page_cache_drawing = drawing  # released at teardown, even after a 404 below
        # Kept under the act read above: drawn from the commune as it is since, not as this
        # process last cached it.
        read_tenant_afresh()
        return None
    body, content_type = found
    return Response(body, content_type=content_type)


def _keep(response: Response) -> Response:
    key = g.get("page_cache_key")
    if (
        key is not None
        and response.status_code == 200
        and response.mimetype == "text/html"
        and not response.direct_passthrough
        and "Set-Cookie" not in response.headers
        and not session.modified
        and not session
    ):
        cache: PageCache = current_app.extensions[_EXTENSION]
        body = response.get_data()
        cache.put(key, body, response.content_type)
        shared: SharedPages | None = current_app.extensions.get(_SHARED_EXTENSION)
        if shared is not None:
            shared.put(key, body, response.content_type)
    _release()
    return response


def _release(_error: BaseException | None = None) -> None:
    """Let the threads waiting for this request's page go on (at teardown too: an error
    may skip ``_keep``)."""
    if g.pop("page_cache_drawing", False):
        cache: PageCache = current_app.extensions[_EXTENSION]
        cache.release(g.page_cache_key)


def init_app(app: Flask) -> None:
    seconds = float(app.config["AGORA_PUBLIC_PAGE_CACHE_SECONDS"])
    app.extensions[_EXTENSION] = PageCache(seconds)
    redis_url = app.config.get("AGORA_REDIS_URL")
    if seconds > 0 and redis_url:
        app.extensions[_SHARED_EXTENSION] = SharedPages(redis_url, seconds)
    if seconds > 0:
        app.before_request(_serve)
        app.after_request(_keep)
        app.teardown_request(_release)

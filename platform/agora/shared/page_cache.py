"""A short-lived, per-process cache of the public pages an anonymous visitor reads.

On an assembly day hundreds of people open a commune's home, rules, journal and charter
while the same two cores count votes: drawing each of those pages takes 10 to 40 ms of
Python, serving it from memory well under one. A page is kept when the view marked it
(:func:`for_visitors`), the request is an anonymous GET without a session, and the answer is
a 200 that sets no cookie (a form's CSRF token, a language chosen, a flash message all
write the session, so such a page is never kept nor served from here).

The key holds the commune, the path with its query string, the language and the commune's
last audit event: every act the journal records (a rule changed, a ballot closed, a
decision published) shows at once; anything else within ``AGORA_PUBLIC_PAGE_CACHE_SECONDS``
(0 turns the cache off; the tests' default). Each process keeps at most ``MAX_PAGES``.
"""

from __future__ import annotations

import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request, session
from flask_babel import get_locale
from sqlalchemy import func, select

from agora.audit.models import AuditEvent
from agora.extensions import db

View = TypeVar("View", bound=Callable[..., Any])
MAX_PAGES = 1000
_EXTENSION = "agora_page_cache"


def for_visitors(view: View) -> View:
    """Mark a public view whose page is the same for every anonymous visitor."""
    view.agora_cached_for_visitors = True  # type: ignore[attr-defined]
    return view


class PageCache:
    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self._pages: OrderedDict[tuple[Any, ...], tuple[float, bytes, str]] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[Any, ...]) -> tuple[bytes, str] | None:
        with self._lock:
            entry = self._pages.get(key)
            if entry is None or entry[0] < time.monotonic():
                return None
            self._pages.move_to_end(key)
            return entry[1], entry[2]

    def put(self, key: tuple[Any, ...], body: bytes, content_type: str) -> None:
        with self._lock:
            self._pages[key] = (time.monotonic() + self.seconds, body, content_type)
            self._pages.move_to_end(key)
            while len(self._pages) > MAX_PAGES:
                self._pages.popitem(last=False)


def _key() -> tuple[Any, ...] | None:
    """The request's key, or None when its page must be drawn for it."""
    if request.method != "GET" or g.get("tenant_id") is None or g.get("account") is not None:
        return None
    if session or request.endpoint is None:
        return None
    view = current_app.view_functions.get(request.endpoint)
    if not getattr(view, "agora_cached_for_visitors", False):
        return None
    head = db.session.execute(
        select(func.max(AuditEvent.seq)).where(AuditEvent.tenant_id == g.tenant_id)
    ).scalar()
    return (g.tenant_id, request.full_path, str(get_locale()), head)


def _serve() -> Response | None:
    cache: PageCache = current_app.extensions[_EXTENSION]
    key = _key()
    found = cache.get(key) if key is not None else None
    if found is None:
        g.page_cache_key = key  # drawn by its view, then kept by _keep
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
        cache.put(key, response.get_data(), response.content_type)
    return response


def init_app(app: Flask) -> None:
    seconds = float(app.config["AGORA_PUBLIC_PAGE_CACHE_SECONDS"])
    app.extensions[_EXTENSION] = PageCache(seconds)
    if seconds > 0:
        app.before_request(_serve)
        app.after_request(_keep)

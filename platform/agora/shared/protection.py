"""What every response promises about size, caching and transport: a page's form is small
unless its view takes files; what one person sees is never kept by a cache; HTTPS is
remembered by the browser wherever the platform is served over it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, TypeVar

from flask import Flask, Response, current_app, g, request

View = TypeVar("View", bound=Callable[..., Any])

_BODY_LIMIT = "agora_body_limit"  # the config key a view's own body limit is read from
_PERSONAL = "agora_personal"
#: A year, the HTTPS of every commune's subdomain included (RFC 6797).
HSTS = "max-age=31536000; includeSubDomains"


def accepts_files(limit_setting: str) -> Callable[[View], View]:
    """Let the view take a body of up to ``config[limit_setting]`` bytes (and a megabyte for
    the form around the file) instead of ``MAX_CONTENT_LENGTH``: set before the CSRF check
    reads the form, so a large file is not refused before its view is reached."""

    def mark(view: View) -> View:
        setattr(view, _BODY_LIMIT, limit_setting)
        return view

    return mark


def personal(view: View) -> View:
    """A page one person reaches without signing in (the code of their letter): never
    cached, like every page of a signed-in person."""
    setattr(view, _PERSONAL, True)
    return view


def _view() -> Any:
    return current_app.view_functions.get(request.endpoint or "")


def _apply_body_limit() -> None:
    setting = getattr(_view(), _BODY_LIMIT, None)
    if setting is not None:
        request.max_content_length = int(current_app.config[setting]) + (1 << 20)


def _cache_and_transport(response: Response) -> Response:
    # A signed-in person's page, their data export, a member list: no copy in a shared
    # cache or in the browser's history after sign-out.
    if "Cache-Control" not in response.headers and (
        g.get("account") is not None or getattr(_view(), _PERSONAL, False)
    ):
        response.headers["Cache-Control"] = "no-store"
    if current_app.config["SESSION_COOKIE_SECURE"]:
        response.headers.setdefault("Strict-Transport-Security", HSTS)
    return response


def init_app(app: Flask) -> None:
    """Before the CSRF check (which reads the form) and after every view."""
    app.before_request_funcs.setdefault(None, []).insert(0, _apply_body_limit)
    app.after_request(_cache_and_transport)

"""Server-rendered pages: the commune's public site and the operator console."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlsplit

from flask import Flask, Response, current_app, g, render_template, request
from flask.globals import request_ctx
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_limiter.errors import RateLimitExceeded
from flask_wtf.csrf import CSRFError
from jinja2 import BaseLoader, ChoiceLoader, PackageLoader, PrefixLoader
from werkzeug.exceptions import (
    BadRequest,
    Conflict,
    Forbidden,
    HTTPException,
    InternalServerError,
    RequestEntityTooLarge,
    SecurityError,
    UnprocessableEntity,
)
from werkzeug.routing import IntegerConverter, Map, UnicodeConverter

from agora.errors import DomainError
from agora.extensions import db
from agora.shared import page_cache, protection
from agora.web import console, filters, public, theme

_STATUS_EXCEPTIONS: dict[int, type[HTTPException]] = {
    403: Forbidden,
    409: Conflict,
    413: RequestEntityTooLarge,
    422: UnprocessableEntity,
}

SECURITY_HEADERS = {
    "Content-Security-Policy": (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "
        "frame-ancestors 'none'; base-uri 'self'; form-action 'self'"
    ),
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "strict-origin-when-cross-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=()",
}

ERRORS = {
    400: (_l("Bad request"), _l("The request could not be understood.")),
    401: (_l("Sign-in refused"), _l("You could not be signed in.")),
    403: (_l("Access denied"), _l("You are not allowed to do this.")),
    404: (_l("Page not found"), _l("This page does not exist, or is not yours to see.")),
    405: (_l("Method not allowed"), _l("This action is not possible on this page.")),
    409: (_l("Conflict"), _l("This change conflicts with the current state.")),
    410: (_l("Link no longer valid"), _l("This link can no longer be used.")),
    413: (
        _l("Too large"),
        _l(
            "What was sent is larger than this page accepts; nothing was saved."
            " Shorten it and send it again."
        ),
    ),
    422: (_l("Data refused"), _l("The data sent was refused.")),
    429: (_l("Too many requests"), _l("Too many requests: please wait a moment.")),
    502: (_l("Service unavailable"), _l("A service we depend on did not answer. Try again.")),
    500: (_l("Internal error"), _l("Something went wrong on our side. Nothing was saved.")),
}


def _add_security_headers(response: Response) -> Response:
    # In one pass over the response's headers (this runs on every response, each vote's
    # included); a header the view set itself is kept.
    present = {name.lower() for name, _value in response.headers}
    response.headers.extend(
        (name, value) for name, value in SECURITY_HEADERS.items() if name.lower() not in present
    )
    return response


def _way_back() -> tuple[str, str] | None:
    """Where the person was: the page they came from on this site, else the index of the
    section they were in (``/petitions`` for ``/petitions/12``); ``None`` for the home
    page, which the error page always offers."""
    came_from = urlsplit(request.referrer or "")
    if (
        came_from.scheme in ("http", "https")
        and came_from.netloc == request.host
        and came_from.path != request.path
    ):
        back = came_from.path + (f"?{came_from.query}" if came_from.query else "")
        return back, _("Back to the previous page")
    section = "/" + request.path.strip("/").split("/", 1)[0]
    adapter = request_ctx.url_adapter
    if section in ("/", request.path) or adapter is None:
        return None
    try:
        adapter.match(section, method="GET")
    except HTTPException:
        return None
    return section, _("Back to this section")


def _error_page(error: HTTPException) -> tuple[str, int]:
    code = error.code or 500
    title, generic = ERRORS.get(code, ERRORS[500])
    # A view that aborts with its own description has a precise, user-facing message; the
    # rate limiter's ("5 per 1 minute") is neither translated nor meant for people.
    precise = error.description != type(error).description and not isinstance(
        error, RateLimitExceeded
    )
    message = error.description if precise else generic
    if isinstance(error, SecurityError):
        # werkzeug's "Host '…' is not trusted": English, and about the server, not the person.
        message = _("No commune nor service of this platform answers at this address.")
    # An untrusted Host header leaves no URL adapter: the page must not build links.
    if request_ctx.url_adapter is not None:
        try:
            # The commune's own frame (its header and menus) and the way back.
            return (
                render_template(
                    "errors/error.html", code=code, title=title, message=message, back=_way_back()
                ),
                code,
            )
        except Exception as failure:  # the frame needs the database, which may be the fault
            current_app.logger.exception("error page without its frame", exc_info=failure)
            db.session.rollback()
    return render_template("errors/bare.html", code=code, title=title, message=message), code


def _csrf_error(error: CSRFError) -> tuple[str, int]:
    return _error_page(
        BadRequest(
            description=_(
                "This form has expired or was not sent from this site. "
                "Reload the page and try again."
            )
        )
    )


def _domain_error(error: DomainError) -> tuple[str, int]:
    db.session.rollback()  # a refusal writes nothing
    return _error_page(_STATUS_EXCEPTIONS[error.status](description=error.message))


def _unexpected_error(error: Exception) -> tuple[str, int]:
    # The traceback goes to the log; the visitor never sees it.
    current_app.logger.exception("unexpected error", exc_info=error)
    db.session.rollback()  # the page is drawn on a clean session; nothing is half-written
    return _error_page(InternalServerError())


@page_cache.for_visitors
def _home() -> str:
    # "/" is the commune's home on its own host and the console on the platform host.
    return public.home() if g.get("tenant_id") is not None else console.index()


def _design_system_loader(app: Flask) -> BaseLoader:
    """The app's templates, then GOV.UK Frontend's Jinja macros and WTForms widgets under
    their package names (``{% from "govuk_frontend_jinja/components/tag/macro.html" … %}``)."""
    loaders: list[BaseLoader] = [] if app.jinja_loader is None else [app.jinja_loader]
    loaders.append(
        PrefixLoader(
            {
                "govuk_frontend_jinja": PackageLoader("govuk_frontend_jinja"),
                "govuk_frontend_wtf": PackageLoader("govuk_frontend_wtf"),
            }
        )
    )
    return ChoiceLoader(loaders)


def compile_templates(app: Flask) -> int:
    """Compile every template the application can render (the number compiled). gunicorn
    loads the application before it forks its workers (``preload_app``): called there, the
    workers inherit the compiled templates instead of each compiling the ones it meets on
    its first requests — which were the first seconds of an assembly day, a hall checking
    in, and the first requests after each worker is recycled (``max_requests``)."""
    environment = app.jinja_env
    names = environment.list_templates()
    for name in names:
        environment.get_template(name)
    return len(names)


class RowId(IntegerConverter):
    """``<int:…>`` in every route: an id beyond a bigint names no row (404), rather than
    reaching the database as a number it cannot hold."""

    def __init__(self, url_map: Map, fixed_digits: int = 0, **kwargs: Any) -> None:
        kwargs.setdefault("max", 2**63 - 1)
        super().__init__(url_map, fixed_digits, **kwargs)


class PathText(UnicodeConverter):
    """``<…>`` and ``<string:…>`` in every route: no control character (a NUL cannot even
    reach PostgreSQL): such an address names no page (404)."""

    def __init__(self, url_map: Map, *args: Any, **kwargs: Any) -> None:
        super().__init__(url_map, *args, **kwargs)
        self.regex = self.regex.replace("[^/]", "[^/\\x00-\\x1f\\x7f]")


def init_app(app: Flask) -> None:
    # Before any route is added: the converters are bound when a rule is.
    app.url_map.converters.update(int=RowId, default=PathText, string=PathText)
    app.jinja_loader = _design_system_loader(app)
    filters.init_app(app)
    app.context_processor(lambda: {"theme": theme.request_theme()})
    app.register_blueprint(public.bp)
    app.register_blueprint(console.bp)
    app.add_url_rule("/", "home", _home)
    app.after_request(_add_security_headers)
    protection.init_app(app)
    page_cache.init_app(app)
    app.register_error_handler(CSRFError, _csrf_error)
    app.register_error_handler(DomainError, _domain_error)
    app.register_error_handler(HTTPException, _error_page)
    app.register_error_handler(Exception, _unexpected_error)

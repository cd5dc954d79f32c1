"""The request's person and the single point where permissions are enforced."""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint, Flask, abort, current_app, g, redirect, request, session, url_for
from flask.blueprints import BlueprintSetupState
from flask_babel import gettext as _
from werkzeug.wrappers import Response

from agora.extensions import db
from agora.identity.models import Account
from agora.identity.policy import (
    COMMUNE_ADMIN,
    PLATFORM_ADMIN,
    POLICY,
    STAFF,
    all_rules,
    allowed,
    rule_for,
)
from agora.identity.services import (
    record_break_glass,
    record_sign_in,
    record_sign_in_failure,
    roles_of,
)
from agora.identity.sessions import account_of_session, end_session, open_session
from agora.tenancy.context import request_tenant
from agora.tenancy.models import TenantStatus

#: Characters a browser removes from a URL or reads as a slash (see ``safe_next``).
_UNSAFE_IN_PATH = re.compile(r"[\x00-\x1f\x7f\\]")
_OFFERED = "agora_offered_only_if"  # app.extensions key: blueprint name → check
_ACT_WHILE_SUSPENDED = frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN})


def _load_person() -> None:
    g.account = None
    session_id = session.get("sid")
    # A session is only valid on the host where it was opened, and while its row lives.
    if isinstance(session_id, str):
        account = account_of_session(db.session, session_id, request.host)
        if account is not None:
            g.account = account
            _remember_language(account)
    # Roles are per commune, but an anonymous visitor has none: the commune is not loaded.
    g.roles = roles_of(db.session, g.account, request_tenant()) if g.account else frozenset()


def _language_chosen() -> str | None:
    """The language this session chose (``?lang=`` now, or earlier), if it chose one."""
    languages: tuple[str, ...] = current_app.config["AGORA_LANGUAGES"]
    for chosen in (request.args.get("lang"), session.get("lang")):
        if chosen in languages:
            return str(chosen)
    return None


def _remember_language(account: Account) -> None:
    """A signed-in person who changes the site's language gets their mails in it too."""
    asked = request.args.get("lang")
    if asked is None or asked == account.locale:
        return
    if asked in current_app.config["AGORA_LANGUAGES"]:
        account.locale = asked
        db.session.commit()


def offered_only_if(blueprint: Blueprint, check: Callable[[], None]) -> None:
    """Let ``check`` decide, before any permission, whether the blueprint's pages exist in
    the request's commune (it aborts with 404 when not): a capability that the commune's
    plugins do not give is missing for everyone, not first a reason to sign in."""

    def register(state: BlueprintSetupState) -> None:
        state.app.extensions.setdefault(_OFFERED, {})[blueprint.name] = check

    blueprint.record_once(register)


def _enforce() -> Response | None:
    if request.routing_exception is not None or request.endpoint is None:
        return None  # Flask answers 404 or 405 itself
    rule = rule_for(request.endpoint, g.host_kind)
    if rule is None or (rule.host != "any" and rule.host != g.host_kind):
        abort(404)
    offered = current_app.extensions.get(_OFFERED, {}).get(request.blueprint)
    if offered is not None:
        offered()
    if request.method not in ("GET", "HEAD") and request.blueprint != "identity":
        _refuse_while_suspended()
    if allowed(g.roles, rule.action):
        _audit_break_glass(rule.action)
        return None
    if g.account is None:
        return redirect(url_for("identity.login", next=request.full_path.rstrip("?")))
    abort(403, description=_("Your roles here do not allow this action."))


def _refuse_while_suspended() -> None:
    """A suspended commune's site stays readable, with its notice on every page; only its
    staff act in it (signing in and out, and a person's own data, stay open)."""
    if g.get("tenant_status") != TenantStatus.SUSPENDED or g.roles & _ACT_WHILE_SUSPENDED:
        return
    tenant = request_tenant()
    assert tenant is not None
    abort(403, description=_("Participation in %(commune)s is suspended.", commune=tenant.name))


def _audit_break_glass(action: str) -> None:
    """A platform admin acting in a commune where nothing else allows it: recorded there."""
    roles: frozenset[str] = g.roles
    if PLATFORM_ADMIN not in roles or allowed(roles - {PLATFORM_ADMIN}, action):
        return
    tenant = request_tenant()
    if tenant is None:
        return
    record_break_glass(
        db.session,
        tenant,
        g.account,
        endpoint=request.endpoint or "",
        method=request.method,
        path=request.path,
        action=action,
    )
    db.session.commit()


def sign_in(account: Account, method: str, id_token: str | None = None) -> None:
    """Open a fresh session for ``account`` on this host (the old one is discarded but for
    its language, which becomes the account's: their mails are written in it)."""
    language = _language_chosen()
    session.clear()
    if language is not None:
        session["lang"] = account.locale = language
    session["sid"] = open_session(db.session, account, request.host)
    session["method"] = method
    if id_token:
        session["id_token"] = id_token
    record_sign_in(db.session, request_tenant(), account, method)
    db.session.commit()


def sign_out() -> None:
    """End this request's session, on every browser holding a copy of its cookie."""
    session_id = session.get("sid")
    session.clear()
    if isinstance(session_id, str):
        end_session(db.session, session_id)


def record_failure(reason: str, method: str) -> None:
    """Failed sign-ins go to the commune's audit log (no personal data in it)."""
    tenant = request_tenant()
    if tenant is not None:
        record_sign_in_failure(db.session, tenant, reason, method)
        db.session.commit()


def safe_next(value: str | None) -> str:
    """Only same-host paths: never redirect a person to another site after sign-in.

    Browsers drop tabs and line breaks from a URL and read a backslash as a slash, so
    ``/<TAB>/evil.example`` or ``/\\evil.example`` would become ``//evil.example``: any
    control character or backslash sends the person home instead (a CR or LF would also
    break the ``Location`` header)."""
    if (
        value
        and value.startswith("/")
        and not value.startswith("//")
        and not _UNSAFE_IN_PATH.search(value)
        and not urlsplit(value).netloc
    ):
        return value
    return url_for("home")


def init_app(app: Flask) -> None:
    missing = sorted({rule.action for rule in all_rules()} - set(POLICY))
    if missing:
        raise RuntimeError(f"route actions missing from the policy: {missing}")
    app.before_request(_load_person)
    app.before_request(_enforce)

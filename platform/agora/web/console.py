"""The operator console, on the platform host: the communes a staff member works for, and
the installed plugins."""

from __future__ import annotations

from flask import Blueprint, abort, redirect, render_template, request, url_for
from werkzeug.wrappers import Response

from agora.extensions import db
from agora.identity import handoff
from agora.identity.access import safe_next
from agora.identity.acting import current_account
from agora.identity.services import communes_of_staff
from agora.plugins.manager import get_registry
from agora.tenancy.services import tenant_by_slug

bp = Blueprint("console", __name__, url_prefix="/console")


def index() -> str:
    account = current_account()
    tenants = communes_of_staff(db.session, account) if account is not None else []
    return render_template("console/index.html", tenants=tenants)


@bp.get("/plugins")
def plugins() -> str:
    registry = get_registry()
    rows = [(name, registry.implemented_hooks(name)) for name in registry.names()]
    return render_template("console/plugins.html", plugins=rows)


@bp.get("/communes/<slug>/open")
def open_commune(slug: str) -> Response:
    """Continue as the same person on the commune's own host (a signed one-time hand-off),
    on the page ``next`` names (a path of that site; its members' page otherwise)."""
    account = current_account()
    tenant = tenant_by_slug(db.session, slug)
    if account is None or tenant is None or tenant not in communes_of_staff(db.session, account):
        abort(404)
    next_path = request.args.get("next")
    landing = safe_next(next_path) if next_path else url_for("identity.members")
    return redirect(handoff.url_for_commune(account, tenant, method="console", next_path=landing))

"""The operator console, on the platform host: communes and installed plugins."""

from __future__ import annotations

from flask import Blueprint, abort, g, render_template
from sqlalchemy import select

from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.models import Tenant

bp = Blueprint("console", __name__, url_prefix="/console")


@bp.before_request
def _platform_host_only() -> None:
    if g.get("tenant") is not None:
        abort(404)


def index() -> str:
    tenants = db.session.execute(select(Tenant).order_by(Tenant.name)).scalars()
    return render_template("console/index.html", tenants=list(tenants))


@bp.get("/plugins")
def plugins() -> str:
    registry = get_registry()
    rows = [(name, registry.implemented_hooks(name)) for name in registry.names()]
    return render_template("console/plugins.html", plugins=rows)

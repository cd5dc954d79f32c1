"""A commune's public site: presentation, rules in force and their history, public journal."""

from __future__ import annotations

import tomli_w
from flask import Blueprint, Response, abort, current_app, render_template
from sqlalchemy import select

from agora.audit.models import AuditEvent
from agora.extensions import db
from agora.onboarding import readable
from agora.shared.forms import page_number
from agora.shared.page_cache import for_visitors
from agora.tenancy.context import current_tenant, get_owned_or_404, tenant_config, tenant_hooks
from agora.tenancy.models import TenantConfigVersion
from agora.tenancy.services import awaiting_charter, current_config
from agora.web import theme

bp = Blueprint("public", __name__)
bp.add_url_rule("/theme.css", "theme_css", theme.theme_css)

#: Decisions whose rules the home page shows.
DECISION_KINDS = ("subject_choice", "action_plan", "charter")


def home() -> str:
    tenant = current_tenant()
    hooks = tenant_hooks()
    return render_template(
        "public/home.html",
        tenant=tenant,
        config=tenant_config(),
        bodies=hooks.composition_rules(),
        programme=hooks.programme_template(),
        rules=[hooks.decision_rule(kind) for kind in DECISION_KINDS],
        draw_sources=list(hooks.draw_sources().values()),
        quotas=hooks.quota_criteria(),
    )


@bp.get("/rules")
@for_visitors
def rules() -> str:
    tenant = current_tenant()
    versions = db.session.execute(
        select(TenantConfigVersion)
        .where(TenantConfigVersion.tenant_id == tenant.id)
        .order_by(TenantConfigVersion.version.desc())
    ).scalars()
    in_force = current_config(db.session, tenant)
    return render_template(
        "public/rules.html",
        tenant=tenant,
        versions=list(versions),
        in_force=in_force.version if in_force else None,
        waiting=[v.version for v in awaiting_charter(db.session, tenant)],
    )


@bp.get("/rules/versions/<int:version>")
@for_visitors
def rules_version(version: int) -> str:
    row = get_owned_or_404(TenantConfigVersion, version)
    previous = db.session.execute(
        select(TenantConfigVersion)
        .where(
            TenantConfigVersion.tenant_id == row.tenant_id,
            TenantConfigVersion.version < row.version,
        )
        .order_by(TenantConfigVersion.version.desc())
        .limit(1)
    ).scalar()
    tenant = current_tenant()
    return render_template(
        "public/rules_version.html",
        tenant=tenant,
        version=row,
        waiting=row in awaiting_charter(db.session, tenant),
        in_force=row is current_config(db.session, tenant),
        sections=readable.describe(row.document),
        previous=previous,
        changes=readable.differences(previous.document, row.document) if previous else [],
    )


@bp.get("/rules/versions/<int:version>.toml")
def rules_version_toml(version: int) -> Response:
    """The version's file itself, for the technically minded."""
    row = get_owned_or_404(TenantConfigVersion, version)
    return Response(
        tomli_w.dumps(row.document),
        mimetype="application/toml",
        headers={"Content-Disposition": f'inline; filename="regles-v{row.version}.toml"'},
    )


@bp.get("/journal")
@for_visitors
def journal() -> str:
    tenant = current_tenant()
    page = page_number()
    # The public events' index (tenant_id, seq): its predicate reads ``public``, not IS TRUE.
    events = db.paginate(
        select(AuditEvent)
        .where(AuditEvent.tenant_id == tenant.id, AuditEvent.public)
        .order_by(AuditEvent.seq.desc()),
        page=page,
        per_page=current_app.config["AGORA_PAGE_SIZE"],
        error_out=True,
    )
    return render_template("public/journal.html", tenant=tenant, events=events)


@bp.get("/journal/<int:seq>")
@for_visitors
def journal_event(seq: int) -> str:
    event = get_owned_or_404(AuditEvent, seq)
    if not event.public:
        abort(404)
    return render_template("public/journal_event.html", tenant=current_tenant(), event=event)

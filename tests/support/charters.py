"""A commune's internal rules adopted, as its council would have voted them: what the rules
tests start from."""

from __future__ import annotations

from flask import Flask
from sqlalchemy import select


def adopt_charter(app: Flask, slug: str = "poitiers", actor: str = "test") -> None:
    """``slug``'s internal rules, rendered from its rules in force, validated and adopted."""
    from agora.assembly import charter
    from agora.extensions import db
    from agora.plugins.manager import get_registry
    from agora.tenancy.config import TenantConfig
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.models import Tenant
    from agora.tenancy.services import current_config

    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            hooks = get_registry().view(TenantConfig(version.document))
            draft = charter.draft(db.session, tenant, hooks, actor)
            charter.advance(db.session, tenant, draft, actor)
            charter.advance(db.session, tenant, draft, actor, "DEL-2026-01")
            charter.advance(db.session, tenant, draft, actor)
            db.session.commit()
        db.session.remove()

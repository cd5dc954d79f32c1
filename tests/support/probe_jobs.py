"""A job that reports what the database lets it see, to prove the worker re-binds the tenant."""

from __future__ import annotations

from sqlalchemy import text

from agora.extensions import db
from agora.jobs import job
from agora.tenancy.isolation import bound_tenant_id


@job("test.visible_tenants")
def visible_tenants() -> dict[str, object]:
    # Deliberately no WHERE: only row-level security limits what comes back.
    seen = db.session.execute(text("SELECT DISTINCT tenant_id FROM audit_event")).scalars()
    return {"bound": bound_tenant_id(db.session), "seen": sorted(seen)}

"""Audit jobs."""

from __future__ import annotations

from typing import Any

from agora.audit.services import verify_chain
from agora.extensions import db
from agora.jobs import job
from agora.tenancy.isolation import bound_tenant_id
from agora.tenancy.models import Tenant


@job("audit.verify")
def verify_bound_tenant() -> dict[str, Any]:
    """Verify the audit chain of the commune the job runs for."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    report = verify_chain(db.session, tenant)
    return {"slug": tenant.slug, "events": report.events, "problems": report.problems}

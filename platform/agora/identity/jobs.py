"""Identity jobs."""

from __future__ import annotations

from agora.audit import services as audit
from agora.extensions import db
from agora.identity.services import revoke_stale_resident_grants
from agora.jobs import job
from agora.tenancy.config import DEFAULT_INACTIVE_RESIDENT_MONTHS
from agora.tenancy.isolation import bound_tenant_id
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config


@job("identity.retention")
def apply_retention() -> int:
    """Revoke the resident roles of people not seen for as long as the commune's policy says."""
    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    version = current_config(db.session, tenant)
    privacy = version.document.get("privacy", {}) if version is not None else {}
    months = int(privacy.get("inactive_resident_months", DEFAULT_INACTIVE_RESIDENT_MONTHS))
    revoked = revoke_stale_resident_grants(db.session, tenant, months)
    if revoked:
        audit.record(
            db.session,
            tenant,
            actor="job:identity.retention",
            action="identity.retention_applied",
            object_type="role_grant",
            object_id="resident",
            details={"revoked": revoked, "months": months},
        )
    return revoked

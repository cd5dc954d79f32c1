"""Every model of every capability, imported in one place so the metadata is complete."""

from agora.audit.models import AuditEvent
from agora.tenancy.models import Tenant, TenantConfigVersion, TenantDomain

__all__ = ["AuditEvent", "Tenant", "TenantConfigVersion", "TenantDomain"]

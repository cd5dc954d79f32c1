"""Every model of every capability, imported in one place so the metadata is complete."""

from agora.audit.models import AuditEvent
from agora.identity.models import (
    Account,
    ExternalIdentity,
    IdentityProvider,
    LoginToken,
    RoleGrant,
    StaffAssignment,
)
from agora.tenancy.models import Tenant, TenantConfigVersion, TenantDomain

__all__ = [
    "Account",
    "AuditEvent",
    "ExternalIdentity",
    "IdentityProvider",
    "LoginToken",
    "RoleGrant",
    "StaffAssignment",
    "Tenant",
    "TenantConfigVersion",
    "TenantDomain",
]

"""Finding communes: by slug, by the host a request names, and their configuration in force.

Onboarding and updating them from configuration files is :mod:`agora.onboarding`'s work."""

from __future__ import annotations

from sqlalchemy import select

from agora.db import DbSession
from agora.tenancy.config import RESERVED_SLUGS
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import (
    Tenant,
    TenantConfigVersion,
    TenantDomain,
    TenantStatus,
)

#: Statuses whose public pages are served.
PUBLIC_STATUSES = frozenset({TenantStatus.ONBOARDING, TenantStatus.ACTIVE, TenantStatus.SUSPENDED})


def tenant_by_slug(session: DbSession, slug: str) -> Tenant | None:
    return session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one_or_none()


def current_config(session: DbSession, tenant: Tenant) -> TenantConfigVersion | None:
    """The configuration in force: the newest version, unless it awaits the revision of the
    internal rules (then the newest one that does not)."""
    newest = newest_config(session, tenant)
    if newest is None or not newest.awaiting_charter:
        return newest
    with tenant_scope(session, tenant.id):
        return session.execute(
            select(TenantConfigVersion)
            .where(
                TenantConfigVersion.tenant_id == tenant.id,
                TenantConfigVersion.version < newest.version,
                TenantConfigVersion.awaiting_charter.is_(False),
            )
            .order_by(TenantConfigVersion.version.desc())
            .limit(1)
        ).scalar_one_or_none()


def newest_config(session: DbSession, tenant: Tenant) -> TenantConfigVersion | None:
    """The last version published, in force or awaiting the revision of the internal rules."""
    if tenant.config_version is None:
        return None
    with tenant_scope(session, tenant.id):
        return session.get(TenantConfigVersion, (tenant.id, tenant.config_version))


def awaiting_charter(session: DbSession, tenant: Tenant) -> list[TenantConfigVersion]:
    """The versions published after the one in force that wait for a revised charter,
    oldest first (empty when the newest version is in force)."""
    in_force = current_config(session, tenant)
    newest = newest_config(session, tenant)
    if newest is None or in_force is newest:
        return []
    with tenant_scope(session, tenant.id):
        return list(
            session.execute(
                select(TenantConfigVersion)
                .where(
                    TenantConfigVersion.tenant_id == tenant.id,
                    TenantConfigVersion.version > (in_force.version if in_force else 0),
                    TenantConfigVersion.awaiting_charter.is_(True),
                )
                .order_by(TenantConfigVersion.version)
            ).scalars()
        )


def normalise_host(host: str) -> str:
    """A host as communes are looked up and cached: lower-case, without port or final dot.

    The one normalisation of host names (request routing, the host cache and the lookup all
    use it), so that ``Ville.localhost.:8000`` and ``ville.localhost`` are one commune.
    """
    name = host.strip().lower()
    if name.startswith("["):  # an IPv6 literal, with or without a port
        return name.split("]", 1)[0] + "]"
    return name.rsplit(":", 1)[0].rstrip(".")


def resolve_host(session: DbSession, host: str, base_domain: str) -> Tenant | None:
    """The commune served at ``host`` (``<slug>.<base domain>`` or a custom domain)."""
    name = normalise_host(host)
    suffix = f".{base_domain}"
    if name.endswith(suffix):
        slug = name[: -len(suffix)]
        if not slug or "." in slug or slug in RESERVED_SLUGS:
            return None
        return tenant_by_slug(session, slug)
    return session.execute(
        select(Tenant).join(TenantDomain).where(TenantDomain.hostname == name)
    ).scalar_one_or_none()

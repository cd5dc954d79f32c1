"""The request's commune: resolved once from the Host header, the single choke point
through which views load tenant-owned rows."""

from __future__ import annotations

from typing import Any, TypeVar

from flask import Flask, abort, current_app, g, request

from agora.extensions import db
from agora.plugins.manager import TenantHooks, get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.hostcache import HostCache
from agora.tenancy.isolation import bind_tenant
from agora.tenancy.models import Tenant, TenantConfigVersion
from agora.tenancy.services import (
    PUBLIC_STATUSES,
    current_config,
    normalise_host,
    resolve_host,
)

Model = TypeVar("Model")
AUTH_SUBDOMAIN = "auth"


def _resolve_request_tenant() -> None:
    base = current_app.config["AGORA_BASE_DOMAIN"]
    host = normalise_host(request.host)
    g.tenant_id = None
    if host == base:
        g.host_kind = "platform"
        return
    if host == f"{AUTH_SUBDOMAIN}.{base}":
        g.host_kind = "auth"  # every commune's OpenID callbacks land here
        return
    cache: HostCache = current_app.extensions["agora_host_cache"]
    cached = cache.get(host)
    if cached is not None and cached.status not in PUBLIC_STATUSES:
        abort(404)
    tenant = cached or _read_from_database(host)
    bind_tenant(db.session, tenant.id)
    g.tenant_id = tenant.id
    if cached is not None:
        g.tenant_status = cached.status  # read without attaching the commune (a vote does not)
        # Attached on first use only: a vote needs no more than the id.
        g.cached_tenant = cached
    g.host_kind = "tenant"


def _read_from_database(host: str) -> Tenant:
    """The commune served at ``host``, read from the database, attached to the request and
    kept with its host."""
    tenant = resolve_host(db.session, host, current_app.config["AGORA_BASE_DOMAIN"])
    if tenant is None or tenant.status not in PUBLIC_STATUSES:
        # Unknown, reserved and not-yet-public hosts all look the same from outside.
        abort(404)
    cache: HostCache = current_app.extensions["agora_host_cache"]
    cache.put(host, tenant)
    g.attached_tenant = tenant
    g.tenant_status = tenant.status
    return tenant


def read_tenant_afresh() -> None:
    """Read the request's commune and its rules in force from the database, not from this
    process's host cache: for a page about to be kept for every visitor under the commune's
    last public act (``shared/page_cache.py``), which another process may have made since
    this one cached the commune (new rules, the rules taking effect with the revised
    charter). The page then shows that act, not the commune as it was before."""
    if g.pop("cached_tenant", None) is None:
        return  # not served from the cache: read from the database in this request
    if _read_from_database(normalise_host(request.host)).id != g.tenant_id:
        abort(404)  # the host moved to another commune since: as without the cache
    g.rules_afresh = True


def init_app(app: Flask) -> None:
    app.extensions["agora_host_cache"] = HostCache(app.config["AGORA_TENANT_CACHE_SECONDS"])
    app.before_request(_resolve_request_tenant)


def request_tenant() -> Tenant | None:
    """The commune of this request, attached to the session; ``None`` on the platform and
    sign-in hosts."""
    tenant: Tenant | None = g.get("attached_tenant")
    if tenant is None:
        cached: Tenant | None = g.get("cached_tenant")
        if cached is None:
            return None
        # The binding was sent before: attaching opens the session's transaction.
        tenant = g.attached_tenant = db.session.merge(cached, load=False)
    return tenant


def resolved_tenant() -> Tenant | None:
    """The request's commune as resolved from its host, to read its own columns (slug,
    locale) without attaching it to the session: a page served from memory then opens no
    transaction. ``None`` on the platform and sign-in hosts."""
    tenant: Tenant | None = g.get("attached_tenant") or g.get("cached_tenant")
    return tenant


def current_tenant() -> Tenant:
    """The commune of this request; 404 on the platform host."""
    tenant = request_tenant()
    if tenant is None:
        abort(404)
    return tenant


def current_tenant_id() -> int:
    """The id of this request's commune, without loading it; 404 on the platform host."""
    tenant_id: int | None = g.get("tenant_id")
    if tenant_id is None:
        abort(404)
    return tenant_id


def get_owned_or_404(model: type[Model], *key: Any) -> Model:
    """Load a tenant-owned row of the current commune by the rest of its primary key.

    The commune's id is the first part of every tenant-owned primary key, so a row of
    another commune and a missing row are the same lookup miss, and the same 404.
    """
    tenant = current_tenant()
    row = db.session.get(model, (tenant.id, *key))
    if row is None:
        abort(404)
    return row


def tenant_config() -> TenantConfig:
    """The configuration in force for the current commune (cached for the request, and for
    ``AGORA_TENANT_CACHE_SECONDS`` in the process: every page's menu reads it)."""
    config: TenantConfig | None = g.get("tenant_config")
    if config is None:
        tenant = resolved_tenant()
        if tenant is None:
            abort(404)
        cache: HostCache = current_app.extensions["agora_host_cache"]
        config = None if g.get("rules_afresh") else cache.config(tenant.id, tenant.config_version)
        if config is None:
            version = current_config(db.session, current_tenant())
            if version is None:
                abort(404)
            config = TenantConfig(version.document)
            cache.put_config(tenant.id, tenant.config_version, config)
        g.tenant_config = config
    return config


def config_at(version: int) -> TenantConfig:
    """The commune's configuration version ``version`` (an edition keeps the one it started
    with); kept in the process once read, as a version never changes."""
    tenant_id = current_tenant_id()
    cache: HostCache = current_app.extensions["agora_host_cache"]
    config = cache.version(tenant_id, version)
    if config is None:
        config = TenantConfig(get_owned_or_404(TenantConfigVersion, version).document)
        cache.put_version(tenant_id, version, config)
    return config


def hooks_at(version: int) -> TenantHooks:
    """The hooks as configured by version ``version``."""
    return get_registry().view(config_at(version))


def tenant_hooks() -> TenantHooks:
    """The hooks of the plugins the current commune enables."""
    return get_registry().view(tenant_config())

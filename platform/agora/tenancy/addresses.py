"""The addresses of the platform's sites, from the configuration alone.

A link that leaves the request (in a mail, on a printed letter's QR code, at an identity
provider, in a hand-off between hosts) is built here from ``AGORA_BASE_DOMAIN``,
``AGORA_PUBLIC_SCHEME`` and ``AGORA_PUBLIC_PORT``, never from the request's Host header,
which whoever sends the request chooses.
"""

from __future__ import annotations

from typing import Any

from flask import current_app

from agora.tenancy.models import Tenant


def site_host(tenant: Tenant | None = None, *, subdomain: str | None = None) -> str:
    """The host of a commune's site, of ``subdomain`` (``auth``), or of the console (neither),
    with the port when the platform is not served on its scheme's default one."""
    base = current_app.config["AGORA_BASE_DOMAIN"]
    prefix = tenant.slug if tenant is not None else subdomain
    name = f"{prefix}.{base}" if prefix else base
    port = current_app.config["AGORA_PUBLIC_PORT"]
    return f"{name}:{port}" if port else name


def site_address(tenant: Tenant | None = None, *, subdomain: str | None = None) -> str:
    """``scheme://host`` of that site (no trailing slash)."""
    scheme = current_app.config["AGORA_PUBLIC_SCHEME"]
    return f"{scheme}://{site_host(tenant, subdomain=subdomain)}"


def page_address(tenant: Tenant | None, endpoint: str, **values: Any) -> str:
    """The absolute address of ``endpoint``'s page on that site."""
    adapter = current_app.url_map.bind(
        site_host(tenant), url_scheme=current_app.config["AGORA_PUBLIC_SCHEME"]
    )
    return adapter.build(endpoint, values, force_external=True)

"""Each commune's look: its colour, its logo and the notice every page shows, from the
``[commune]`` table of its configuration in force (``theme_colour``, ``logo_url``,
``notice``).

The colour reaches the page as CSS custom properties in a small stylesheet,
``/theme.css?v=<configuration version>``: the Content-Security-Policy allows no inline
style, and one compiled ``agora.css`` serves every commune. A process keeps each commune's
theme per configuration version, so a page costs no query for it.
"""

from __future__ import annotations

from dataclasses import dataclass
from threading import Lock

from flask import Response, abort, request

from agora.extensions import db
from agora.tenancy.config import TenantConfig
from agora.tenancy.context import request_tenant
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config


@dataclass(frozen=True)
class Theme:
    """A commune's look; ``None`` fields take Agora's own."""

    version: int
    colour: str | None = None
    logo_url: str | None = None
    #: The commune's public notice, on every page (``commune.notice``: why it is suspended…).
    notice: str | None = None

    def stylesheet(self) -> str:
        if self.colour is None:
            return ""
        # agora.css derives the darker and lighter shades from --agora-brand.
        return f":root{{--govuk-brand-colour:{self.colour};--agora-brand:{self.colour}}}\n"


_themes: dict[tuple[int, int], Theme] = {}
_lock = Lock()


def theme_of(tenant: Tenant) -> Theme | None:
    """The theme of ``tenant``'s configuration in force (``None`` before it has one)."""
    if tenant.config_version is None:
        return None
    key = (tenant.id, tenant.config_version)
    theme = _themes.get(key)
    if theme is None:
        version = current_config(db.session, tenant)
        if version is None:
            return None
        config = TenantConfig(version.document)
        theme = Theme(
            version=version.version,
            colour=config.theme_colour,
            logo_url=config.logo_url,
            notice=config.notice,
        )
        with _lock:
            _themes[key] = theme
    return theme


def request_theme() -> Theme | None:
    """The theme of this request's commune; ``None`` on the platform's own hosts."""
    tenant = request_tenant()
    return theme_of(tenant) if tenant is not None else None


def theme_css() -> Response:
    """``/theme.css``: the commune's colours as custom properties, cached for a year under
    its version (the layout links ``?v=<version>``, so a new version is a new address)."""
    theme = request_theme()
    if theme is None:
        abort(404)
    response = Response(theme.stylesheet(), mimetype="text/css")
    if request.args.get("v") == str(theme.version):
        response.headers["Cache-Control"] = "public, max-age=31536000, immutable"
    else:
        response.headers["Cache-Control"] = "no-cache"
    return response

"""Jinja filters and globals: dates and numbers in the reader's language."""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

import tomli_w
from flask import Flask, current_app, g
from flask_babel import format_date, format_datetime, get_locale
from sqlalchemy import select

from agora.assembly.models import Edition
from agora.extensions import db
from agora.identity.policy import allowed
from agora.plugins.contracts import ORIGINS
from agora.shared.formats import number, percent
from agora.shared.labels import (
    TEMPLATE_LABELS,
    audit_action,
    fraction_words,
    label,
    tag_colour,
)
from agora.tenancy.addresses import site_address
from agora.tenancy.context import request_tenant, resolved_tenant
from agora.tenancy.hostcache import HostCache
from agora.tenancy.models import Tenant
from agora.tenancy.services import PUBLIC_STATUSES
from agora.voting.ballots import FRENCH_SIX_GRADES


def _datetime(moment: datetime | str) -> str:
    """A moment in the reader's language, in Europe/Paris (Babel's default time zone); an
    ISO 8601 string (the personal data export's) is read first."""
    if isinstance(moment, str):
        moment = datetime.fromisoformat(moment)
    if moment.tzinfo is None:  # SQLite returns naive UTC datetimes
        moment = moment.replace(tzinfo=UTC)
    return str(format_datetime(moment, "d MMMM y, HH:mm"))


def _date(day: date | str) -> str:
    """A day in the reader's language; an ISO 8601 string (a deliverable's acceptance) is read
    first."""
    if isinstance(day, str):
        day = date.fromisoformat(day)
    return str(format_date(day, "long"))


def _toml(document: dict[str, Any]) -> str:
    return tomli_w.dumps(document)


def tenant_url(tenant: Tenant) -> str:
    """Address of a commune's public site."""
    return f"{site_address(tenant)}/"


def can(action: str) -> bool:
    """Whether the person reading the page may perform ``action`` here (menus, buttons);
    the policy is still enforced on the request that performs it."""
    roles: frozenset[str] = g.get("roles") or frozenset()
    return allowed(roles, action)


def has_edition() -> bool:
    """Whether this commune has an edition to show (the menu links to it only then)."""
    tenant: Tenant | None = resolved_tenant()
    if tenant is None:
        return False
    if "has_edition" not in g:
        cache: HostCache = current_app.extensions["agora_host_cache"]
        g.has_edition = cache.has_edition(tenant.id) or (
            db.session.execute(
                select(Edition.id).where(Edition.tenant_id == tenant.id).limit(1)
            ).first()
            is not None
        )
        if g.has_edition:
            cache.put_edition(tenant.id)
    return bool(g.has_edition)


def init_app(app: Flask) -> None:
    app.add_template_filter(_datetime, "datetime")
    app.add_template_filter(number, "number")
    app.add_template_filter(percent, "percent")
    app.add_template_filter(_date, "date")
    app.add_template_filter(_toml, "toml")
    app.add_template_filter(label, "label")
    app.add_template_filter(audit_action, "audit_action")
    app.add_template_filter(fraction_words, "fraction")
    app.add_template_global(tenant_url)
    app.add_template_global(get_locale)
    app.add_template_global(can)
    app.add_template_global(has_edition)
    app.add_template_global(tag_colour)
    app.jinja_env.globals["grade_labels"] = FRENCH_SIX_GRADES.labels
    app.jinja_env.globals["origins"] = ORIGINS
    app.jinja_env.globals["public_statuses"] = frozenset(s.value for s in PUBLIC_STATUSES)
    app.context_processor(lambda: TEMPLATE_LABELS)
    # Every page on a commune's host knows its commune (layouts name it).
    app.context_processor(lambda: {"tenant": request_tenant()})

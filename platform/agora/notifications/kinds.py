"""The registry of notification kinds: each kind's renderer turns the parameters stored with
a notification into what one reader sees, in their language, when it is shown or sent.

A notification row holds a kind and JSON parameters (ids, numbers, codes, dates as ISO
strings), never text: the capability that owns the kind registers its renderer here, so this
package imports no capability above it::

    @renderer("petition.decided")
    def _decided(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
        petition = context.session.get(Petition, (context.tenant.id, params["petition_id"]))
        ...
        return Rendered(subject, body, Link("petitions.petition_page", {"petition_id": …}))

:func:`render` runs the renderer under the reader's locale (``flask_babel.force_locale``), so
renderers simply call ``gettext``/``ngettext``, ``format_date`` and the labels of
:mod:`agora.shared.labels`. A link is an endpoint and its values, turned into a path on the page
and into an absolute address on the commune's host in a mail.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _

from agora.db import DbSession
from agora.tenancy.models import Tenant

logger = logging.getLogger(__name__)

#: Notifications written before kinds were rendered per reader keep their text as it was.
LEGACY = "legacy"
KIND_MAX = 60


class Gone(Exception):
    """Raised by a renderer when the rows its notification tells of no longer exist."""


@dataclass(frozen=True)
class Link:
    """A page of the commune's site: a Flask endpoint, its values and an optional anchor."""

    endpoint: str
    values: Mapping[str, Any] = field(default_factory=dict)
    anchor: str = ""


@dataclass(frozen=True)
class Rendered:
    """One notification as one reader sees it (plain text; templates escape it)."""

    subject: str
    body: str
    link: Link | str | None = None
    """A :class:`Link`, or a path on the commune's site (legacy notifications only)."""


@dataclass(frozen=True)
class RenderContext:
    """What a renderer may read: the commune's rows (the session is bound to it) and the
    reader's locale, already in force while the renderer runs."""

    session: DbSession
    tenant: Tenant
    locale: str


Renderer = Callable[[RenderContext, Mapping[str, Any]], Rendered]
_RENDERERS: dict[str, Renderer] = {}


def renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register ``function`` as the renderer of notifications of ``kind`` (a stable code,
    ``capability.event``, stored in every row of that kind)."""
    if not kind or len(kind) > KIND_MAX:
        raise ValueError(f"a notification kind has 1 to {KIND_MAX} characters: {kind!r}")

    def register(function: Renderer) -> Renderer:
        if _RENDERERS.get(kind, function) is not function:
            raise ValueError(f"notification kind {kind!r} is already registered")
        _RENDERERS[kind] = function
        return function

    return register


def is_registered(kind: str) -> bool:
    return kind in _RENDERERS


def registered_kinds() -> frozenset[str]:
    return frozenset(_RENDERERS)


def render(context: RenderContext, kind: str, params: Mapping[str, Any]) -> Rendered:
    """The notification of ``kind`` with ``params``, in ``context.locale``.

    A kind nobody registers any more (a capability removed), or one whose renderer finds
    the rows it tells of gone (it raises :class:`Gone`), still shows, without its
    text, rather than breaking the reader's page or the commune's mail."""
    with force_locale(context.locale):
        function = _RENDERERS.get(kind)
        if function is None:
            logger.warning("no renderer for notification kind %r", kind)
            return Rendered(_("Notification"), "")
        try:
            return function(context, params)
        except Gone:
            logger.warning("notification of kind %r: what it tells of is gone", kind)
            return Rendered(_("Notification"), "")


@renderer(LEGACY)
def _legacy(context: RenderContext, params: Mapping[str, Any]) -> Rendered:
    """Written before notifications were rendered per reader: the text stored then, in the
    language of the person who acted, and the path it linked to (see migration 0011)."""
    return Rendered(
        str(params.get("subject", "")), str(params.get("body", "")), params.get("link") or None
    )

"""The commune's rules changed in the browser by its administrator.

The form is generated from the settings schema of each plugin the commune's administrator
may change (:data:`~agora.onboarding.rules_labels.EDITABLE`); the rest of the configuration
(the commune's record, its domains and colours, the draw sources) is kept as it is. The
changed configuration goes through the same check as ``tenants apply``, every fault said in
French next to its field; the preview compares it with the version in force sentence by
sentence and field by field; publishing stores the next version through
:func:`~agora.onboarding.services.apply_config` (audited).

Once the internal rules are adopted, a change that would alter their clauses (the seats of a
body, a threshold…) waits for their revision: the version is published *awaiting the
charter* and takes effect, for the editions opened afterwards, when the council adopts a
charter rendered from it (:func:`agora.assembly.charter.advance`).
"""

from __future__ import annotations

import copy
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from flask_babel import format_decimal, ngettext
from flask_babel import gettext as _
from werkzeug.datastructures import MultiDict

from agora.assembly import charter
from agora.audit import services as audit
from agora.db import DbSession
from agora.errors import Conflict
from agora.onboarding import readable
from agora.onboarding.rules_form import (
    Node,
    build,
    flatten,
    read_settings,
    schema_errors,
    split_path,
)
from agora.onboarding.rules_labels import EDITABLE
from agora.onboarding.services import apply_config
from agora.plugins.manager import PluginRegistry
from agora.shared.labels import ORIGINS
from agora.tenancy.config import TenantConfig, TenantConfigError, validate_document
from agora.tenancy.models import Tenant, TenantConfigVersion
from agora.tenancy.services import current_config, newest_config

#: The ``source`` of the versions published in the browser.
SOURCE = "web"


def editable(document: Mapping[str, Any], registry: PluginRegistry) -> list[str]:
    """The plugins of ``document`` whose settings the form shows, in the form's order."""
    plugins = document.get("plugins") or {}
    return [name for name in EDITABLE if name in plugins and name in registry]


def form_tree(document: Mapping[str, Any], registry: PluginRegistry) -> list[Node]:
    roots = []
    for plugin in editable(document, registry):
        root = build(
            plugin,
            registry.settings_schema(plugin),
            document["plugins"][plugin],
            f"plugins.{plugin}",
            plugin,
        )
        root.label = str(EDITABLE[plugin])
        roots.append(root)
    return roots


def read_form(
    base: Mapping[str, Any], form: MultiDict[str, str], registry: PluginRegistry
) -> tuple[dict[str, Any], dict[str, str]]:
    """The configuration the form proposes: ``base`` with the editable plugins' settings as
    posted; and the texts refused as typed (path → message)."""
    document = copy.deepcopy(dict(base))
    refusals: dict[str, str] = {}
    for plugin in editable(base, registry):
        document["plugins"][plugin] = read_settings(
            plugin, registry.settings_schema(plugin), form, base["plugins"][plugin], refusals
        )
    return document, refusals


def problems(
    document: Mapping[str, Any], registry: PluginRegistry, refusals: Mapping[str, str]
) -> dict[str, str]:
    """Every fault of the proposed configuration, in French, by the path of its field: the
    schemas, the plugins' own checks, then the whole file's check (``tenants apply``'s)."""
    errors = dict(refusals)
    for plugin in editable(document, registry):
        settings = document["plugins"][plugin]
        found = schema_errors(plugin, registry.settings_schema(plugin), settings)
        for path, message in found.items():
            errors.setdefault(path, message)
        if found or any(path.startswith(f"plugins.{plugin}") for path in refusals):
            continue
        for path, message in registry.check_settings(plugin, dict(settings)):
            full = f"plugins.{plugin}.{path}" if path else f"plugins.{plugin}"
            errors.setdefault(full, plugin_message(plugin, path, message, settings))
    if errors:
        return errors
    try:
        validate_document(document, registry, SOURCE)
    except TenantConfigError as refusal:
        for fault in refusal.errors:
            errors.setdefault(fault.path, _("These rules cannot be applied as they are."))
    return errors


def plugin_message(plugin: str, path: str, message: str, settings: Mapping[str, Any]) -> str:
    """A plugin's own check (in English, for ``tenants apply``), said in French."""
    return str(_plugin_message(plugin, path, message, settings))


def _plugin_message(plugin: str, path: str, message: str, settings: Mapping[str, Any]) -> Any:
    parts: list[Any] = split_path(path)
    last = parts[-1] if parts else ""
    if plugin == "composition_seats" and len(parts) >= 4 and parts[0] == "bodies":
        body = settings["bodies"][parts[1]]
        if last == "key":
            return _("Another body already has this identifier.")
        constraint = body["constraints"][parts[3]]
        origin = ORIGINS[constraint["origin"]]
        if match := re.search(r"only (\d+) seat", message):
            seats = int(match.group(1))
            return ngettext(
                "At least %(min)d %(origin)s are asked for, but this body has only %(num)d"
                " seat they can hold.",
                "At least %(min)d %(origin)s are asked for, but this body has only %(num)d"
                " seats they can hold.",
                seats,
                min=constraint["min"],
                origin=origin,
            )
        if match := re.search(r"has (\d+) seat", message):
            seats = int(match.group(1))
            return ngettext(
                "At most %(max)d %(origin)s are allowed, but this body has %(num)d seat"
                " only they can hold.",
                "At most %(max)d %(origin)s are allowed, but this body has %(num)d seats"
                " only they can hold.",
                seats,
                max=constraint["max"],
                origin=origin,
            )
        if last == "max":
            return _("The maximum is smaller than the minimum.")
    if plugin == "composition_seats" and last == "key":
        return _("Another body already has this identifier.")
    if plugin == "quotas_census":
        if last == "values" and (match := re.search(r"add up to ([0-9.]+)", message)):
            total = float(match.group(1))
            return _(
                "The shares add up to %(total)s, not 1: check the figures.",
                total=format_decimal(total, format="0.###"),
            )
        if last == "value":
            return _("Another value of this criterion has the same identifier.")
    if plugin == "decision_rules" and last in ("threshold", "min_share_of_members"):
        return _("A share cannot be more than the whole: at most 1/1.")
    if plugin == "interpellation_rights" and len(parts) >= 3:
        if last == "key":
            return _("Another level has this identifier.")
        if last == "signatures":
            previous = settings["levels"][parts[1] - 1]["signatures"]
            return _(
                "Ask for more signatures than the previous level (%(num)s): levels rise.",
                num=format_decimal(previous),
            )
        if last == "effect":
            return _(
                "This level obliges the commune to less than an earlier level: what the commune"
                " must do rises with the levels."
            )
    return _("This value is not accepted.")


# --- the preview ----------------------------------------------------------------------------


@dataclass
class Change:
    labels: tuple[str, ...]
    before: str
    after: str


@dataclass
class Preview:
    #: Sentences of the public Règles page: ("removed" | "added", "section — sentence").
    sentences: list[tuple[str, str]]
    fields: list[Change]
    #: The clauses of the internal rules this change rewrites (empty: it binds none).
    clauses: list[str] = field(default_factory=list)

    @property
    def is_empty(self) -> bool:
        return not self.fields and not self.sentences


def preview(
    session: DbSession,
    tenant: Tenant,
    base: Mapping[str, Any],
    proposed: Mapping[str, Any],
    registry: PluginRegistry,
) -> Preview:
    before = {path: (labels, shown) for path, labels, shown in _leaves(base, registry)}
    after = {path: (labels, shown) for path, labels, shown in _leaves(proposed, registry)}
    changes = []
    for path in [*before, *(p for p in after if p not in before)]:
        old, new = before.get(path), after.get(path)
        if (old and old[1]) == (new and new[1]):
            continue
        labels = (new or old)[0]  # type: ignore[index]
        changes.append(Change(labels, old[1] if old else "", new[1] if new else ""))
    return Preview(
        sentences=readable.differences(dict(base), dict(proposed)),
        fields=changes,
        clauses=charter_clauses_changed(session, tenant, proposed, registry),
    )


def _leaves(document: Mapping[str, Any], registry: PluginRegistry) -> list[Any]:
    return [leaf for root in form_tree(document, registry) for leaf in flatten(root)]


def charter_clauses_changed(
    session: DbSession, tenant: Tenant, proposed: Mapping[str, Any], registry: PluginRegistry
) -> list[str]:
    """The titles of the clauses of the adopted internal rules that ``proposed`` rewrites
    (both rendered now, with today's template); empty when no charter is adopted."""
    adopted = charter.governing(session, tenant)
    if adopted is None:
        return []
    source = session.get(TenantConfigVersion, (tenant.id, adopted.config_version))
    if source is None:
        old_clauses = adopted.clauses
    else:
        _title, old_clauses = charter.render(
            registry.view(TenantConfig(source.document)), tenant.locale
        )
    _title, new_clauses = charter.render(registry.view(TenantConfig(proposed)), tenant.locale)
    old_by_key = {clause["key"]: clause for clause in old_clauses}
    return [
        clause["title"]
        for clause in new_clauses
        if old_by_key.get(clause["key"], {}).get("text") != clause["text"]
    ]


# --- publishing -----------------------------------------------------------------------------


def publish(
    session: DbSession,
    tenant: Tenant,
    base_version: int,
    proposed: Mapping[str, Any],
    registry: PluginRegistry,
    actor: str,
) -> TenantConfigVersion:
    """Store ``proposed`` as the commune's next version of the rules (audited).

    Refused when another version was published since the form was opened, or when nothing
    changes. The version awaits the revision of the internal rules when it rewrites one of
    their clauses.
    """
    newest = newest_config(session, tenant)
    if newest is None or newest.version != base_version:
        raise Conflict(
            _("The rules were changed by someone else meanwhile: start again from the new ones.")
        )
    config = validate_document(proposed, registry, SOURCE)
    in_force = current_config(session, tenant)
    if config.digest == newest.digest or (
        in_force is not None and config.digest == in_force.digest
    ):
        raise Conflict(_("These are already the rules: nothing to publish."))
    apply_config(session, config, SOURCE, actor)
    version = newest_config(session, tenant)
    assert version is not None and version.version == base_version + 1
    hold_for_charter(session, tenant, version, registry, actor)
    return version


def hold_for_charter(
    session: DbSession,
    tenant: Tenant,
    version: TenantConfigVersion,
    registry: PluginRegistry,
    actor: str,
) -> list[str]:
    """Mark ``version`` (just stored) as awaiting the revision of the internal rules when it
    rewrites one of their clauses; return those clauses' titles (empty: it is in force).

    Whoever stores a version calls it: the browser's publish, and ``tenants apply`` should
    too, so that a file applied by the consultancy cannot bypass an adopted charter.
    """
    clauses = charter_clauses_changed(session, tenant, version.document, registry)
    if clauses:
        version.awaiting_charter = True
        audit.record(
            session,
            tenant,
            actor=actor,
            action="config.awaiting_charter",
            object_type="tenant_config_version",
            object_id=version.version,
            details={"clauses": clauses},
            public=True,
        )
    session.flush()
    return clauses

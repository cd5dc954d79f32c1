"""Onboarding communes and changing their rules: a ``tenants/<commune>.toml`` file is
checked whole, compared with what the database holds, then applied as a new configuration
version (audited), or exported back in the same format."""

from __future__ import annotations

import difflib
from dataclasses import dataclass, field
from typing import Any

import tomli_w
from sqlalchemy import select

from agora.audit import services as audit
from agora.db import DbSession
from agora.tenancy.config import FieldError, TenantConfig, TenantConfigError
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import (
    Tenant,
    TenantConfigVersion,
    TenantDomain,
    TenantKind,
    TenantStatus,
)
from agora.tenancy.services import newest_config, tenant_by_slug

#: The commune lifecycle: prospect → onboarding → active ⇄ suspended → archived.
STATUS_TRANSITIONS: dict[TenantStatus, frozenset[TenantStatus]] = {
    TenantStatus.PROSPECT: frozenset({TenantStatus.ONBOARDING, TenantStatus.ARCHIVED}),
    TenantStatus.ONBOARDING: frozenset({TenantStatus.ACTIVE, TenantStatus.ARCHIVED}),
    TenantStatus.ACTIVE: frozenset({TenantStatus.SUSPENDED, TenantStatus.ARCHIVED}),
    TenantStatus.SUSPENDED: frozenset({TenantStatus.ACTIVE, TenantStatus.ARCHIVED}),
    TenantStatus.ARCHIVED: frozenset(),
}

_RECORD_FIELDS = ("name", "insee_code", "kind", "population", "status", "locale")


@dataclass
class ApplyPlan:
    """What applying a configuration changes; empty when the commune is already up to date."""

    slug: str
    creates_tenant: bool
    field_changes: dict[str, tuple[Any, Any]] = field(default_factory=dict)
    domains_added: list[str] = field(default_factory=list)
    domains_removed: list[str] = field(default_factory=list)
    config_diff: list[str] = field(default_factory=list)

    @property
    def changes_config(self) -> bool:
        return bool(self.config_diff)

    @property
    def is_empty(self) -> bool:
        return not (
            self.creates_tenant
            or self.field_changes
            or self.domains_added
            or self.domains_removed
            or self.config_diff
        )

    def describe(self, *, with_diff: bool = True) -> str:
        if self.is_empty:
            return f"{self.slug}: up to date"
        lines = [f"{self.slug}: {'new commune' if self.creates_tenant else 'changes'}"]
        lines += [
            f"  {name}: {old!r} -> {new!r}" for name, (old, new) in self.field_changes.items()
        ]
        lines += [f"  + domain {host}" for host in self.domains_added]
        lines += [f"  - domain {host}" for host in self.domains_removed]
        if with_diff:
            lines += [f"  {line}" for line in self.config_diff]
        elif self.config_diff:
            added = sum(1 for line in self.config_diff if line[:1] == "+" and line[:3] != "+++")
            removed = sum(1 for line in self.config_diff if line[:1] == "-" and line[:3] != "---")
            lines.append(f"  new configuration version (+{added} -{removed} lines)")
        return "\n".join(lines)


def _record_values(config: TenantConfig) -> dict[str, Any]:
    commune = config.commune
    return {
        "name": commune["name"],
        "insee_code": commune["insee_code"],
        "kind": TenantKind(commune["kind"]),
        "population": commune["population"],
        "status": TenantStatus(commune["status"]),
        "locale": commune.get("locale", "fr"),
    }


def plan_apply(session: DbSession, config: TenantConfig, source: str) -> ApplyPlan:
    """Compare ``config`` with what the database holds; raise if the change is not allowed."""
    tenant = tenant_by_slug(session, config.slug)
    values = _record_values(config)
    errors: list[FieldError] = []
    plan = ApplyPlan(slug=config.slug, creates_tenant=tenant is None)

    clash = session.execute(
        select(Tenant.slug).where(
            Tenant.insee_code == values["insee_code"], Tenant.slug != config.slug
        )
    ).scalar_one_or_none()
    if clash:
        errors.append(FieldError("commune.insee_code", f"already used by commune {clash!r}"))

    wanted_domains = set(config.commune.get("domains", []))
    taken = session.execute(
        select(TenantDomain.hostname, Tenant.slug)
        .join(Tenant)
        .where(TenantDomain.hostname.in_(wanted_domains), Tenant.slug != config.slug)
    ).all()
    errors += [
        FieldError("commune.domains", f"{host} already belongs to {slug!r}") for host, slug in taken
    ]

    if tenant is not None:
        for name in _RECORD_FIELDS:
            old, new = getattr(tenant, name), values[name]
            if old != new:
                plan.field_changes[name] = (str(old), str(new))
        if (
            tenant.status != values["status"]
            and values["status"] not in STATUS_TRANSITIONS[tenant.status]
        ):
            errors.append(
                FieldError(
                    "commune.status",
                    f"a commune cannot go from {tenant.status.value} to {values['status'].value}",
                )
            )
        current_domains = {domain.hostname for domain in tenant.domains}
        plan.domains_added = sorted(wanted_domains - current_domains)
        plan.domains_removed = sorted(current_domains - wanted_domains)
        # The newest version, in force or awaiting the charter's revision: a file equal to
        # it changes nothing.
        version = newest_config(session, tenant)
    else:
        version = None
        plan.domains_added = sorted(wanted_domains)
    if errors:
        raise TenantConfigError(source, errors)

    if version is None or version.digest != config.digest:
        old_document = tomli_w.dumps(version.document) if version is not None else ""
        new_document = config.to_toml()
        plan.config_diff = list(
            difflib.unified_diff(
                old_document.splitlines(),
                new_document.splitlines(),
                fromfile="in force",
                tofile=source,
                lineterm="",
            )
        )
    return plan


def apply_config(session: DbSession, config: TenantConfig, source: str, actor: str) -> ApplyPlan:
    """Onboard or update a commune from ``config``, idempotently, in the caller's transaction.

    A new configuration version is stored only when the content changed; every change is
    written to the commune's audit log.
    """
    plan = plan_apply(session, config, source)
    if plan.is_empty:
        return plan
    values = _record_values(config)
    tenant = tenant_by_slug(session, config.slug)
    if tenant is None:
        tenant = Tenant(slug=config.slug, **values)
        session.add(tenant)
        session.flush()
    else:
        for name, value in values.items():
            setattr(tenant, name, value)
    for host in plan.domains_removed:
        tenant.domains.remove(next(d for d in tenant.domains if d.hostname == host))
    for host in plan.domains_added:
        tenant.domains.append(TenantDomain(hostname=host))

    with tenant_scope(session, tenant.id):
        if plan.creates_tenant:
            audit.record(
                session,
                tenant,
                actor=actor,
                action="tenant.onboarded",
                object_type="tenant",
                object_id=tenant.slug,
                details={"source": source, "domains": plan.domains_added},
                public=True,
            )
        elif plan.field_changes or plan.domains_added or plan.domains_removed:
            audit.record(
                session,
                tenant,
                actor=actor,
                action="tenant.updated",
                object_type="tenant",
                object_id=tenant.slug,
                details={
                    "fields": {k: list(v) for k, v in plan.field_changes.items()},
                    "domains_added": plan.domains_added,
                    "domains_removed": plan.domains_removed,
                },
            )
        if plan.changes_config:
            number = (tenant.config_version or 0) + 1
            session.add(
                TenantConfigVersion(
                    tenant_id=tenant.id,
                    version=number,
                    document=dict(config.document),
                    digest=config.digest,
                    source=source,
                )
            )
            tenant.config_version = number
            audit.record(
                session,
                tenant,
                actor=actor,
                action="config.version_created",
                object_type="tenant_config_version",
                object_id=number,
                details={"digest": config.digest, "source": source},
                public=True,
            )
    session.flush()
    return plan


def made_in_browser(version: TenantConfigVersion) -> bool:
    """Whether ``version`` was made in the browser (the console, the commune's own rules
    pages) rather than applied from a ``tenants/*.toml`` file, whose path is its source."""
    return not version.source.endswith(".toml")


def browser_version_in_the_way(
    session: DbSession, config: TenantConfig
) -> TenantConfigVersion | None:
    """The version in force that applying ``config`` from a file would overwrite, when that
    version was made in the browser and differs from the file.

    The browser wins: files seed new communes and carry the changes of communes whose rules
    were last set from a file, but a release re-applying ``tenants/`` must not undo what a
    commune changed in its own pages. ``tenants apply --force`` overrides; ``tenants export``
    brings the file up to date.
    """
    tenant = tenant_by_slug(session, config.slug)
    if tenant is None:
        return None
    version = newest_config(session, tenant)  # in force, or awaiting the charter's revision
    if version is None or not made_in_browser(version) or version.digest == config.digest:
        return None
    return version


def export_config(session: DbSession, slug: str) -> str:
    """The newest configuration of ``slug`` (in force, or awaiting the revision of the
    internal rules), in the ``tenants/*.toml`` format."""
    tenant = tenant_by_slug(session, slug)
    if tenant is None:
        raise LookupError(f"no commune {slug!r}")
    version = newest_config(session, tenant)
    if version is None:
        raise LookupError(f"commune {slug!r} has no configuration yet")
    return tomli_w.dumps(version.document)

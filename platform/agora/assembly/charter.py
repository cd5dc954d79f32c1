"""The règlement intérieur: rendered from the charter-template plugin with the commune's
configuration (so the text and the software cannot disagree), versioned, adopted, in force."""

from __future__ import annotations

import difflib
from typing import Any

from flask_babel import force_locale
from flask_babel import gettext as _
from jinja2.sandbox import SandboxedEnvironment
from sqlalchemy import select

from agora.assembly.models import CharterStatus, CharterVersion
from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.documents.pdf import document
from agora.errors import Conflict, Invalid
from agora.plugins.manager import TenantHooks
from agora.shared.labels import CHARTER_STATUSES, TEMPLATE_LABELS, fraction_words
from agora.tenancy.models import Tenant, TenantConfigVersion

#: The kinds of decision whose rules the charter states.
DECISIONS = ("subject_choice", "action_plan", "charter")
NEXT_STATUS = {
    CharterStatus.DRAFT: CharterStatus.VALIDATED,
    CharterStatus.VALIDATED: CharterStatus.ADOPTED,
    CharterStatus.ADOPTED: CharterStatus.IN_FORCE,
}
_jinja = SandboxedEnvironment(autoescape=False, keep_trailing_newline=False)
_jinja.filters["fraction"] = fraction_words


def render(hooks: TenantHooks, locale: str) -> tuple[str, list[dict[str, str]]]:
    """The charter's title and clauses, as the commune's configuration makes them today."""
    template = hooks.charter_template()
    config = hooks.config
    context: dict[str, Any] = {
        "assembly": config.assembly,
        "commune": config.commune,
        "bodies": hooks.composition_rules(),
        "rules": {kind: hooks.decision_rule(kind) for kind in DECISIONS},
    }
    with force_locale(locale):
        context.update(
            {name: {k: str(v) for k, v in table.items()} for name, table in TEMPLATE_LABELS.items()}
        )
        title = _jinja.from_string(template.title).render(context)
        clauses = [
            {
                "key": c.key,
                "title": c.title,
                "text": _jinja.from_string(c.text).render(context).strip(),
            }
            for c in template.clauses
        ]
    return title, clauses


def versions(session: DbSession, tenant: Tenant) -> list[CharterVersion]:
    return list(
        session.execute(
            select(CharterVersion)
            .where(CharterVersion.tenant_id == tenant.id)
            .order_by(CharterVersion.number.desc())
        ).scalars()
    )


def draft(session: DbSession, tenant: Tenant, hooks: TenantHooks, actor: str) -> CharterVersion:
    """A new draft from the configuration in force (refused if nothing would change)."""
    existing = versions(session, tenant)
    title, clauses = render(hooks, tenant.locale)
    if (
        existing
        and existing[0].clauses == clauses
        and existing[0].status != CharterStatus.SUPERSEDED
    ):
        raise Conflict(_("the charter already says this: change the configuration first"))
    if any(v.status == CharterStatus.DRAFT for v in existing):
        raise Conflict(_("a draft is already under discussion"))
    version = CharterVersion(
        tenant_id=tenant.id,
        number=(existing[0].number + 1) if existing else 1,
        title=title,
        clauses=clauses,
        template_key=hooks.charter_template().key,
        config_version=tenant.config_version or 0,
        status=CharterStatus.DRAFT,
    )
    session.add(version)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="charter.drafted",
        object_type="charter_version",
        object_id=version.number,
        public=True,
    )
    return version


def advance(
    session: DbSession,
    tenant: Tenant,
    version: CharterVersion,
    actor: str,
    council_reference: str = "",
) -> None:
    """draft → validated by the group → adopted by the council → in force (the previous one is
    superseded)."""
    target = NEXT_STATUS.get(version.status)
    if target is None:
        raise Conflict(
            _(
                "a charter that is %(status)s cannot move on",
                status=CHARTER_STATUSES[version.status.value],
            )
        )
    if target == CharterStatus.ADOPTED:
        if not council_reference.strip():
            raise Invalid(
                _("give the reference of the council's deliberation adopting the charter")
            )
        version.council_reference = council_reference.strip()
        version.adopted_at = utcnow()
        _release_rules(session, tenant, version, actor)
    elif target == CharterStatus.VALIDATED:
        version.validated_at = utcnow()
    else:
        for other in versions(session, tenant):
            if other.status == CharterStatus.IN_FORCE:
                other.status = CharterStatus.SUPERSEDED
        version.in_force_at = utcnow()
    version.status = target
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"charter.{target.value}",
        object_type="charter_version",
        object_id=version.number,
        details={"council_reference": version.council_reference},
        public=True,
    )


def _release_rules(session: DbSession, tenant: Tenant, version: CharterVersion, actor: str) -> None:
    """The rules this charter was rendered from (and those before them) were waiting for
    it: adopted by the council, they take effect."""
    waiting = session.execute(
        select(TenantConfigVersion).where(
            TenantConfigVersion.tenant_id == tenant.id,
            TenantConfigVersion.awaiting_charter.is_(True),
            TenantConfigVersion.version <= version.config_version,
        )
    ).scalars()
    released = []
    for rules in waiting:
        rules.awaiting_charter = False
        released.append(rules.version)
    if released:
        audit.record(
            session,
            tenant,
            actor=actor,
            action="config.took_effect",
            object_type="tenant_config_version",
            object_id=max(released),
            details={"charter_version": version.number},
            public=True,
        )


def governing(session: DbSession, tenant: Tenant) -> CharterVersion | None:
    """The charter the rules must agree with: the newest adopted by the council (in force,
    or adopted and about to be)."""
    return next(
        (
            v
            for v in versions(session, tenant)
            if v.status in (CharterStatus.ADOPTED, CharterStatus.IN_FORCE)
        ),
        None,
    )


def in_force(session: DbSession, tenant: Tenant) -> CharterVersion | None:
    return next((v for v in versions(session, tenant) if v.status == CharterStatus.IN_FORCE), None)


def diff(old: CharterVersion | None, new: CharterVersion) -> list[str]:
    def lines(version: CharterVersion | None) -> list[str]:
        if version is None:
            return []
        return [f"{c['title']}: {line}" for c in version.clauses for line in c["text"].splitlines()]

    return list(difflib.unified_diff(lines(old), lines(new), lineterm="", n=0))[2:]


def pdf(tenant: Tenant, version: CharterVersion) -> bytes:
    status = {
        CharterStatus.DRAFT: "projet",
        CharterStatus.VALIDATED: "validé par le groupe",
        CharterStatus.ADOPTED: f"adopté par le conseil municipal ({version.council_reference})",
        CharterStatus.IN_FORCE: f"en vigueur — délibération {version.council_reference}",
        CharterStatus.SUPERSEDED: "remplacé",
    }[version.status]
    return document(
        version.title,
        f"{tenant.name} — version {version.number}, {status}",
        [
            (f"Article {number} — {clause['title']}", clause["text"])
            for number, clause in enumerate(version.clauses, start=1)
        ],
    )

"""Editions: one subject-year, pinned to the configuration version in force when it starts."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from agora.assembly.models import Body, Edition, EditionStatus
from agora.audit import services as audit
from agora.db import DbSession
from agora.errors import Conflict
from agora.plugins.contracts import BodySpec
from agora.shared.labels import EDITION_STATUSES
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config

#: The order an edition goes through; it may only move forward one step at a time.
LIFECYCLE = list(EditionStatus)


def editions_of(session: DbSession, tenant: Tenant) -> list[Edition]:
    return list(
        session.execute(
            select(Edition).where(Edition.tenant_id == tenant.id).order_by(Edition.year.desc())
        ).scalars()
    )


def current_edition(session: DbSession, tenant: Tenant) -> Edition | None:
    editions = editions_of(session, tenant)
    return editions[0] if editions else None


def open_edition(
    session: DbSession, tenant: Tenant, year: int, title: str, bodies: list[BodySpec], actor: str
) -> Edition:
    """Start an edition: pin the configuration in force and create its bodies, to compose."""
    # The rules in force: a version awaiting the revision of the internal rules is not.
    in_force = current_config(session, tenant)
    if in_force is None:
        raise Conflict(_("the commune has no configuration yet"))
    if any(edition.year == year for edition in editions_of(session, tenant)):
        raise Conflict(_("there is already an edition for %(year)s", year=year))
    edition = Edition(
        tenant_id=tenant.id,
        year=year,
        title=title,
        config_version=in_force.version,
        status=EditionStatus.PLANNED,
    )
    session.add(edition)
    session.flush()
    for spec in bodies:
        session.add(
            Body(
                tenant_id=tenant.id,
                edition_id=edition.id,
                key=spec.key,
                kind=spec.kind,
                name=spec.name,
                powers=list(spec.powers),
                openness=spec.openness,
            )
        )
    audit.record(
        session,
        tenant,
        actor=actor,
        action="edition.opened",
        object_type="edition",
        object_id=edition.id,
        details={"year": year, "config_version": edition.config_version},
        public=True,
    )
    session.flush()
    return edition


def advance(
    session: DbSession, tenant: Tenant, edition: Edition, to: EditionStatus, actor: str
) -> None:
    here, there = LIFECYCLE.index(edition.status), LIFECYCLE.index(to)
    if there != here + 1:
        raise Conflict(
            _(
                "an edition at step %(status)s cannot go to %(target)s",
                status=EDITION_STATUSES[edition.status.value],
                target=EDITION_STATUSES[to.value],
            )
        )
    edition.status = to
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"edition.{to.value}",
        object_type="edition",
        object_id=edition.id,
        public=True,
    )


def bodies_of(session: DbSession, edition: Edition) -> list[Body]:
    return list(
        session.execute(
            select(Body)
            .where(Body.tenant_id == edition.tenant_id, Body.edition_id == edition.id)
            .order_by(Body.created_at)
        ).scalars()
    )

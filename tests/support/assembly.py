"""An edition of Poitiers' assembly ready for votes, built through the services."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from flask import Flask
from sqlalchemy import select

from agora.assembly import bodies, editions, sessions, subjects
from agora.assembly.models import AssemblySession, AssemblySessionStatus, EditionStatus
from agora.demo import origins
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config


@dataclass
class Edition:
    tenant_id: int
    ids: dict[str, int]  # body key → id
    session_id: int  # an open session of the plenary (open to everyone present)
    committee_session_id: int  # an open session of the methodology committee (members only)
    subject_ids: list[int]


def build_edition(app: Flask, slug: str = "poitiers") -> Edition:
    """Bodies composed and installed as the commune's rules say, two admissible subjects,
    and open sessions of the plenary and of the methodology committee."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            hooks = get_registry().view(TenantConfig(version.document))
            specs = hooks.composition_rules()
            row = editions.open_edition(db.session, tenant, 2026, "Assemblée 2026", specs, "test")
            found = {b.key: b for b in editions.bodies_of(db.session, row)}
            for spec in specs:
                for number, (origin, voting) in enumerate(origins(spec)):
                    person = bodies.add_person(db.session, tenant, f"{spec.key} {number}")
                    bodies.add_member(
                        db.session, found[spec.key], person, origin, voting_right=voting
                    )
                bodies.install(db.session, tenant, found[spec.key], spec, "test")
            editions.advance(db.session, tenant, row, EditionStatus.SUBJECT_CALL, "test")
            made = [
                subjects.submit(db.session, tenant, row, title, "…", rule="anyone", person=None)
                for title in ("Mobilités douces", "Îlots de fraîcheur")
            ]
            for subject in made:
                subjects.review(
                    db.session,
                    tenant,
                    subject,
                    general_interest=True,
                    municipal_competence=True,
                    budget_sustainable=True,
                    reason="",
                    actor="test",
                )
            moment = datetime(2026, 3, 14, 9, tzinfo=UTC)
            plenary = sessions.plan(
                db.session, tenant, row, found["plenary"], 1, "Journée 1", moment, "", "test"
            )
            committee = sessions.plan(
                db.session,
                tenant,
                row,
                found["methodology_committee"],
                1,
                "Comité",
                moment,
                "",
                "test",
            )
            for planned in (plenary, committee):
                sessions.set_status(db.session, tenant, planned, AssemblySessionStatus.OPEN, "test")
            edition = Edition(
                tenant.id,
                {k: b.id for k, b in found.items()},
                plenary.id,
                committee.id,
                [s.id for s in made],
            )
        db.session.commit()
    return edition


@dataclass(frozen=True)
class OnRoster:
    person_id: int
    name: str
    origin: str


def roster_of(app: Flask, edition: Edition, session_id: int | None = None) -> list[OnRoster]:
    """The roster of a session (the open plenary's by default), in its order."""
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        row = db.session.get(AssemblySession, (edition.tenant_id, session_id or edition.session_id))
        assert row is not None
        return [
            OnRoster(e.person.id, e.person.display_name, e.membership.origin)
            for e in sessions.roster(db.session, row)
        ]

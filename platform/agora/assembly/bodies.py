"""Members of bodies and the composition check: a body is installed only when its members
match the seats the commune's composition rule calls for."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

from flask_babel import gettext as _
from flask_babel import ngettext
from sqlalchemy import Select, select

from agora.assembly.models import (
    Body,
    BodyStatus,
    Edition,
    Membership,
    MembershipStatus,
)
from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.errors import Conflict, Invalid
from agora.identity.services import get_or_create_account
from agora.plugins.contracts import ORIGINS, BodySpec
from agora.shared.labels import BODY_STATUSES
from agora.shared.labels import ORIGINS as ORIGIN_LABELS
from agora.shared.people import Person, person_for_account
from agora.tenancy.models import Tenant

ACTIVE = (MembershipStatus.ACCEPTED, MembershipStatus.ACTIVE)


def edition_members(edition: Edition) -> Select[Person]:
    """The people with a current membership in any body of ``edition``, each once."""
    in_a_body = (
        select(Membership.person_id)
        .join(Body, (Body.tenant_id == Membership.tenant_id) & (Body.id == Membership.body_id))
        .where(
            Membership.tenant_id == edition.tenant_id,
            Body.edition_id == edition.id,
            Membership.status.in_(ACTIVE),
        )
    )
    return select(Person).where(Person.tenant_id == edition.tenant_id, Person.id.in_(in_a_body))


def members_of(session: DbSession, body: Body) -> list[tuple[Membership, Person]]:
    rows = session.execute(
        select(Membership, Person)
        .join(
            Person,
            (Person.tenant_id == Membership.tenant_id) & (Person.id == Membership.person_id),
        )
        .where(
            Membership.tenant_id == body.tenant_id,
            Membership.body_id == body.id,
            Membership.status.in_(ACTIVE),
        )
        .order_by(Membership.origin, Person.display_name)
    ).all()
    return [(membership, person) for membership, person in rows]


def add_person(
    session: DbSession, tenant: Tenant, name: str, account_id: int | None = None
) -> Person:
    person = Person(tenant_id=tenant.id, display_name=name.strip(), account_id=account_id)
    session.add(person)
    session.flush()
    return person


def enrol(
    session: DbSession,
    tenant: Tenant,
    body: Body,
    names: list[str],
    origin: str,
    *,
    voting_right: bool = True,
    email: str = "",
) -> list[Membership]:
    """Add the people named (one per entry, blanks ignored) to ``body``. With ``email`` only
    one name is allowed: that member signs in with the address's account (created if need
    be), and acts as the same person everywhere in the commune."""
    account_id = get_or_create_account(session, email).id if email else None
    names = [name.strip() for name in names if name.strip()]
    if not names:
        raise Invalid(_("give the member's name"))
    if account_id is not None and len(names) > 1:
        raise Invalid(_("an e-mail address goes with one member at a time"))
    members = []
    for name in names:
        person = (
            person_for_account(session, tenant, account_id, name)
            if account_id is not None
            else add_person(session, tenant, name)
        )
        members.append(add_member(session, body, person, origin, voting_right=voting_right))
    return members


def add_member(
    session: DbSession, body: Body, person: Person, origin: str, *, voting_right: bool = True
) -> Membership:
    if origin not in ORIGINS:
        raise Invalid(_("unknown origin %(origin)s", origin=ORIGIN_LABELS[origin]))
    current = session.scalar(
        select(Membership.id).where(
            Membership.tenant_id == body.tenant_id,
            Membership.body_id == body.id,
            Membership.person_id == person.id,
            Membership.status != MembershipStatus.ENDED,
        )
    )
    if current is not None:
        raise Conflict(_("%(name)s is already a member of this body.", name=person.display_name))
    membership = Membership(
        tenant_id=body.tenant_id,
        body_id=body.id,
        person_id=person.id,
        origin=origin,
        voting_right=voting_right,
        status=MembershipStatus.ACCEPTED,
    )
    session.add(membership)
    session.flush()
    return membership


@dataclass(frozen=True)
class CompositionProblem:
    seat: str
    message: str


def composition_problems(spec: BodySpec, origins: list[str]) -> list[CompositionProblem]:
    """Where the members (by origin) differ from the seats and constraints of ``spec``."""
    counts = Counter(origins)
    problems = []
    covered: set[str] = set()

    def problem(origin: str, rule: str, taken: int) -> CompositionProblem:
        return CompositionProblem(
            origin,
            _(
                "%(origin)s: %(rule)s, %(taken)s",
                origin=ORIGIN_LABELS[origin],
                rule=rule,
                taken=ngettext("%(num)d taken", "%(num)d taken", taken),
            ),
        )

    for seat in spec.seats:
        taken = sum(n for origin, n in counts.items() if seat.covers(origin))
        covered |= {origin for origin in counts if seat.covers(origin)}
        if taken != seat.count:
            rule = ngettext("%(num)d seat required", "%(num)d seats required", seat.count)
            problems.append(problem(seat.origin, rule, taken))
    for constraint in spec.constraints:
        taken = counts.get(constraint.origin, 0)
        if taken < constraint.minimum:
            rule = ngettext("at least %(num)d seat", "at least %(num)d seats", constraint.minimum)
            problems.append(problem(constraint.origin, rule, taken))
        if constraint.maximum is not None and taken > constraint.maximum:
            rule = ngettext("at most %(num)d seat", "at most %(num)d seats", constraint.maximum)
            problems.append(problem(constraint.origin, rule, taken))
    problems += [
        CompositionProblem(
            origin,
            ngettext(
                "no seat for %(origin)s (%(num)d member)",
                "no seat for %(origin)s (%(num)d members)",
                counts[origin],
                origin=ORIGIN_LABELS[origin],
            ),
        )
        for origin in sorted(set(counts) - covered)
    ]
    return problems


def install(session: DbSession, tenant: Tenant, body: Body, spec: BodySpec, actor: str) -> None:
    """Install ``body`` if its members match ``spec``; otherwise refuse, naming the seats."""
    if body.status != BodyStatus.TO_COMPOSE:
        raise Conflict(
            _(
                "%(body)s is already %(status)s",
                body=body.name,
                status=BODY_STATUSES[body.status.value],
            )
        )
    problems = composition_problems(spec, [m.origin for m, _person in members_of(session, body)])
    if problems:
        raise Invalid(
            _(
                "%(body)s cannot be installed: %(problems)s",
                body=body.name,
                problems="; ".join(p.message for p in problems),
            )
        )
    body.status = BodyStatus.INSTALLED
    body.installed_at = utcnow()
    for membership, _person in members_of(session, body):
        membership.status = MembershipStatus.ACTIVE
    audit.record(
        session,
        tenant,
        actor=actor,
        action="body.installed",
        object_type="body",
        object_id=body.id,
        details={"key": body.key},
        public=True,
    )


def membership_of(session: DbSession, body: Body, person: Person) -> Membership | None:
    return session.execute(
        select(Membership).where(
            Membership.tenant_id == body.tenant_id,
            Membership.body_id == body.id,
            Membership.person_id == person.id,
            Membership.status.in_(ACTIVE),
        )
    ).scalar_one_or_none()

"""Door-to-door rounds: a pair (an elected member and a commune agent) visits some of the
invited addresses, shows the data notice at the door and records each outcome on a phone.
A pair sees and records its own round's addresses only; nothing else of the pool.
"""

from __future__ import annotations

import re
from datetime import date

from flask_babel import gettext as _
from sqlalchemy import select, update

from agora.audit import services as audit
from agora.db import DbSession
from agora.draws import responses
from agora.draws.models import (
    Draw,
    DrawStatus,
    Invitation,
    VisitRound,
)
from agora.errors import Conflict, Invalid
from agora.identity.models import Account, Role, RoleGrant
from agora.tenancy.models import Tenant

#: Rounds are planned once the invitations are drawn, and visited until the pool closes.
PLANNING = (DrawStatus.REVEALED, *responses.OPEN)
#: Who may make up a pair.
PAIR_ROLES = (Role.ELECTED, Role.AGENT)


def pair_candidates(session: DbSession, tenant: Tenant) -> list[tuple[int, str]]:
    """The commune's elected members and agents, as (account id, "name — role")."""
    rows = session.execute(
        select(Account.id, Account.display_name, Account.email, RoleGrant.role)
        .join(RoleGrant, RoleGrant.account_id == Account.id)
        .where(
            RoleGrant.tenant_id == tenant.id,
            RoleGrant.revoked_at.is_(None),
            RoleGrant.role.in_(PAIR_ROLES),
        )
        .order_by(Account.display_name, Account.email)
    ).all()
    labels = {Role.ELECTED: _("elected member"), Role.AGENT: _("municipal agent")}
    return [(i, f"{name or email} — {labels[role]}") for i, name, email, role in rows]


def create_round(
    session: DbSession,
    tenant: Tenant,
    draw: Draw,
    *,
    name: str,
    day: date | None,
    account_ids: list[int],
    strata: list[str],
    actor: str,
) -> VisitRound:
    """A round for the pair ``account_ids``, given the invited door-to-door addresses of
    ``strata`` that no round visits yet."""
    if draw.status not in PLANNING:
        raise Conflict(
            _("Rounds are planned between the invitations' draw and the pool's closing.")
        )
    if not name.strip():
        raise Invalid(_("Name the round."))
    known = {i for i, _label in pair_candidates(session, tenant)}
    if not account_ids or not set(account_ids) <= known:
        raise Invalid(_("Choose the pair among the commune's elected members and agents."))
    visit = VisitRound(
        tenant_id=tenant.id,
        draw_id=draw.id,
        name=name.strip(),
        day=day,
        member_account_ids=sorted(set(account_ids)),
    )
    session.add(visit)
    session.flush()
    result = session.execute(
        update(Invitation)
        .where(
            Invitation.tenant_id == tenant.id,
            Invitation.draw_id == draw.id,
            Invitation.channel == "door_to_door",
            Invitation.visit_round_id.is_(None),
            Invitation.stratum.in_(strata),
        )
        .values(visit_round_id=visit.id)
    )
    given = int(getattr(result, "rowcount", 0) or 0)
    if not given:
        raise Invalid(_("No address left to visit in these strata."))
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.visit_round_planned",
        object_type="draw",
        object_id=draw.id,
        details={"round": visit.id, "addresses": given, "strata": sorted(strata)},
    )
    return visit


def rounds(session: DbSession, draw: Draw) -> list[VisitRound]:
    return list(
        session.execute(
            select(VisitRound)
            .where(VisitRound.tenant_id == draw.tenant_id, VisitRound.draw_id == draw.id)
            .order_by(VisitRound.day, VisitRound.id)
        ).scalars()
    )


def visits_of(session: DbSession, tenant: Tenant, account_id: int) -> list[VisitRound]:
    """The rounds ``account_id`` is in (for the pair's own page)."""
    return [
        visit
        for visit in session.execute(
            select(VisitRound).where(VisitRound.tenant_id == tenant.id).order_by(VisitRound.day)
        ).scalars()
        if account_id in visit.member_account_ids
    ]


def may_visit(visit: VisitRound, account_id: int | None, roles: frozenset[str]) -> bool:
    """Those who run the draw see every round; a pair, its own."""
    runs = bool(roles & {"platform_admin", Role.CONSULTANCY_STAFF, Role.COMMUNE_ADMIN})
    return runs or (account_id is not None and account_id in visit.member_account_ids)


def _street_order(contact: dict[str, str]) -> tuple[str, int, str]:
    street = contact.get("nom_voie") or re.sub(r"^\d+\S*\s*", "", contact.get("adresse", ""))
    number = contact.get("numero") or (re.match(r"\d+", contact.get("adresse", "")) or [""])[0]
    return street.casefold(), int(number) if str(number).isdigit() else 0, contact.get("rep", "")


def addresses(session: DbSession, visit: VisitRound) -> list[tuple[Invitation, dict[str, str]]]:
    """The round's invitations with their address, in walking order (street, number)."""
    invitations = session.scalars(
        select(Invitation).where(
            Invitation.tenant_id == visit.tenant_id, Invitation.visit_round_id == visit.id
        )
    ).all()
    found = [(invitation, dict(invitation.contact or {})) for invitation in invitations]
    return sorted(found, key=lambda pair: _street_order(pair[1]))

"""Responses to the invitations: online with the letter's code, typed in from paper by an
agent, or a volunteer's row; the steps around them (invitations sent, responses collected,
the pool closed). A response with consent and availability is in the pool stage 2 reads.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Mapping
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import Select, func, select, update

from agora.audit import services as audit
from agora.db import PARIS, DbSession, utcnow
from agora.draws import services
from agora.draws.models import (
    Draw,
    DrawStatus,
    Invitation,
    InvitationStatus,
    Register,
    Response,
    SubDraw,
)
from agora.errors import Conflict, Invalid
from agora.plugins.contracts import QuotaCriterion
from agora.plugins.manager import TenantHooks
from agora.tenancy.models import Tenant

#: Answers are accepted while the invitations are out and the pool not closed.
OPEN = (DrawStatus.INVITATIONS, DrawStatus.RESPONSES)
#: The channels of the sources whose people are invited at stage 1; the others (a
#: volunteers' list) already said yes: their rows are the pool.
INVITING = ("letter", "door_to_door")
#: The GDPR art. 14 notice, shown where a resident answers (the data came from a register,
#: not from them).
NOTICE = (
    "La commune a reçu votre adresse d'un registre (liste électorale ou fichier des "
    "adresses) pour ce seul tirage au sort, mission d'intérêt public de participation des "
    "habitant·es. Vos réponses servent à composer une assemblée qui ressemble à la "
    "population ; elles sont effacées quelques mois après le tirage si vous n'êtes pas "
    "retenu·e. Vous pouvez y accéder, les rectifier, vous opposer à leur usage ou les faire "
    "effacer auprès de la mairie, et saisir la CNIL."
)
_CODE_NOISE = re.compile(r"[\s\-_.]")


def normalise_code(text: str) -> str:
    """The code as printed, whatever the case, spaces or dashes typed."""
    return _CODE_NOISE.sub("", text).upper()


def invitation_by_code(session: DbSession, tenant: Tenant, code: str) -> Invitation | None:
    return session.execute(
        select(Invitation).where(
            Invitation.tenant_id == tenant.id, Invitation.code == normalise_code(code)
        )
    ).scalar_one_or_none()


def criteria_for(hooks: TenantHooks, sub_draw: SubDraw) -> list[QuotaCriterion]:
    """The profile questions of a sub-draw: its source's quota criteria."""
    return [c for c in hooks.quota_criteria() if c.applies_to(sub_draw.source)]


def answers_state(draw: Draw) -> str:
    """``open`` while answers are taken, ``closed`` once the pool is, ``early`` before."""
    if draw.status in OPEN:
        return "open"
    if draw.status in services.LIFECYCLE[services.LIFECYCLE.index(DrawStatus.POOL_CLOSED) :]:
        return "closed"
    return "early"


def _check_open(draw: Draw) -> None:
    state = answers_state(draw)
    if state == "open":
        return
    if state == "closed":
        raise Conflict(
            _(
                "The answers to this draw are closed since %(day)s.",
                day=format_date(draw.status_changed_at.astimezone(PARIS).date(), "long"),
            )
        )
    raise Conflict(_("This draw does not take answers yet."))


def check_profile(criteria: list[QuotaCriterion], features: Mapping[str, str]) -> dict[str, str]:
    """The profile, each value checked against its criterion (refused in French, naming the
    criterion and the value, when unknown or missing)."""
    profile: dict[str, str] = {}
    for criterion in criteria:
        value = (features.get(criterion.feature) or "").strip()
        known = {v.value for v in criterion.values}
        if not value:
            raise Invalid(_("Answer the question “%(criterion)s”.", criterion=criterion.label))
        if value not in known:
            raise Invalid(
                _(
                    "“%(value)s” is not an answer to “%(criterion)s” (expected: %(known)s).",
                    value=value,
                    criterion=criterion.label,
                    known=", ".join(v.label for v in criterion.values),
                )
            )
        profile[criterion.feature] = value
    return profile


def record_response(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    draw: Draw,
    invitation: Invitation,
    *,
    features: Mapping[str, str],
    available: bool,
    consent: bool,
    contact: Mapping[str, str],
    channel: str,
    actor: str,
) -> Response:
    """Record (or replace, until the pool closes) the answer to ``invitation``. Nothing is
    stored on a refusal."""
    _check_open(draw)
    sub_draw = session.get(SubDraw, (tenant.id, invitation.sub_draw_id))
    assert sub_draw is not None
    profile = check_profile(criteria_for(hooks, sub_draw), features)
    if consent and not (contact.get("name") or "").strip():
        raise Invalid(_("Give the name by which you would be told if you are selected."))
    response = session.execute(
        select(Response).where(
            Response.tenant_id == tenant.id,
            Response.draw_id == draw.id,
            Response.person_hash == invitation.person_hash,
        )
    ).scalar_one_or_none()
    replaced = response is not None
    if response is None:
        response = Response(
            tenant_id=tenant.id,
            draw_id=draw.id,
            sub_draw_id=invitation.sub_draw_id,
            invitation_id=invitation.id,
            person_hash=invitation.person_hash,
            household_hash=invitation.household_hash,
            channel=channel,
        )
        session.add(response)
    response.features = profile
    response.available = available
    response.consent = consent
    # Without consent, nothing personal is kept.
    response.contact = {k: v.strip() for k, v in contact.items() if v.strip()} if consent else {}
    response.channel = channel
    response.entered_by = actor if channel == "paper" else ""
    invitation.status = InvitationStatus.RESPONDED
    invitation.outcome_at = utcnow()
    invitation.notice_shown_at = invitation.notice_shown_at or utcnow()
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.response_replaced" if replaced else "draw.response_recorded",
        object_type="draw",
        object_id=draw.id,
        details={"channel": channel, "in_pool": consent and available},
    )
    return response


def send_invitations(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> Draw:
    """The invitations are out (letters posted, visits started): answers open. The letter is
    the first contact, where the notice is shown; the volunteers' lists join the pool."""
    services.advance(session, tenant, draw, DrawStatus.INVITATIONS, actor=actor)
    session.execute(
        update(Invitation)
        .where(
            Invitation.tenant_id == tenant.id,
            Invitation.draw_id == draw.id,
            Invitation.notice_shown_at.is_(None),
        )
        .values(notice_shown_at=utcnow())
    )
    add_volunteers(session, tenant, draw)
    return draw


def add_volunteers(session: DbSession, tenant: Tenant, draw: Draw) -> int:
    """Each row of a volunteers' register (a source that invites nobody) becomes a response
    with the profile and consent its list holds; the number added."""
    parts = services.sub_draws(session, draw)
    registers = services.current_registers(session, draw)
    added = 0
    for part in parts:
        register = registers.get(part.id)
        if register is None or _invites(session, register):
            continue
        for block in services.read_blocks(session, register):
            for index in range(len(block)):
                session.add(
                    Response(
                        tenant_id=tenant.id,
                        draw_id=draw.id,
                        sub_draw_id=part.id,
                        person_hash=block.person(index),
                        household_hash=block.household(index),
                        features=block.profile(index),
                        contact=block.contact_of(index),
                        available=True,
                        consent=True,
                        channel="volunteer",
                    )
                )
                added += 1
    session.flush()
    return added


def _invites(session: DbSession, register: Register) -> bool:
    return (
        session.execute(
            select(Invitation.id)
            .where(
                Invitation.tenant_id == register.tenant_id,
                Invitation.register_id == register.id,
            )
            .limit(1)
        ).first()
        is not None
    )


def collect(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> Draw:
    """Reminders are over: only answers now (they are still accepted)."""
    return services.advance(session, tenant, draw, DrawStatus.RESPONSES, actor=actor)


def close_pool(session: DbSession, tenant: Tenant, draw: Draw, *, actor: str) -> Draw:
    """No more answers: the pool is what stage 2 reads."""
    services.advance(session, tenant, draw, DrawStatus.POOL_CLOSED, actor=actor)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.pool_closed",
        object_type="draw",
        object_id=draw.id,
        details={"pool": pool_size(session, draw)},
        public=True,
    )
    return draw


def pool_size(session: DbSession, draw: Draw) -> int:
    return int(
        session.execute(
            select(func.count()).where(
                Response.tenant_id == draw.tenant_id,
                Response.draw_id == draw.id,
                Response.consent.is_(True),
                Response.available.is_(True),
            )
        ).scalar_one()
    )


def counts(session: DbSession, draw: Draw) -> dict[str, Any]:
    """For the staff page: invitations by status, answers by channel, the pool's size."""
    invitations = Counter(
        dict(
            session.execute(
                select(Invitation.status, func.count())
                .where(Invitation.tenant_id == draw.tenant_id, Invitation.draw_id == draw.id)
                .group_by(Invitation.status)
            ).all()
        )
    )
    channels = Counter(
        dict(
            session.execute(
                select(Response.channel, func.count())
                .where(Response.tenant_id == draw.tenant_id, Response.draw_id == draw.id)
                .group_by(Response.channel)
            ).all()
        )
    )
    return {
        "invitations": {s.value: invitations.get(s, 0) for s in InvitationStatus},
        "channels": dict(channels),
        "pool": pool_size(session, draw),
    }


def responses_query(draw: Draw) -> Select[Response]:
    """The draw's answers, newest first (the staff list pages through them)."""
    return (
        select(Response)
        .where(Response.tenant_id == draw.tenant_id, Response.draw_id == draw.id)
        .order_by(Response.created_at.desc(), Response.id.desc())
    )


def record_outcome(
    session: DbSession,
    tenant: Tenant,
    draw: Draw,
    invitation: Invitation,
    status: InvitationStatus,
    *,
    actor: str,
) -> Invitation:
    """A visit without an answer: nobody at home, or a refusal (an answer goes through
    :func:`record_response`)."""
    _check_open(draw)
    if status not in (InvitationStatus.NOT_REACHED, InvitationStatus.REFUSED):
        raise Invalid(_("A visit's outcome is: not reached, or refused."))
    if invitation.status == InvitationStatus.RESPONDED:
        raise Conflict(_("This household has already answered."))
    invitation.status = status
    invitation.outcome_at = utcnow()
    invitation.outcome_by = actor
    invitation.notice_shown_at = invitation.notice_shown_at or utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="draw.visit_outcome",
        object_type="draw",
        object_id=draw.id,
        details={"invitation": invitation.id, "outcome": status.value},
    )
    session.flush()
    return invitation

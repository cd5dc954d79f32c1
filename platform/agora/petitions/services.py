"""Petitions: opening, signing, thresholds, and what the mayor and the council did.

The rules come from the commune's interpellation plugin and are pinned by each petition when
it opens. Signing locks the petition's row, so signatures are counted one after the other
and a level is crossed by exactly one of them; the database refuses a second signature by
the same person in any case.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any

from flask_babel import format_date
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from agora.audit import services as audit
from agora.db import PARIS, DbSession, paris_today, utcnow
from agora.errors import Conflict, Invalid
from agora.identity.models import Role
from agora.identity.services import holders_of
from agora.notifications.services import notify
from agora.petitions import notices
from agora.petitions.models import Petition, PetitionSignature, PetitionStatus
from agora.plugins.contracts import InterpellationRules, ThresholdLevel
from agora.shared.people import Person, person_for_account
from agora.tenancy.models import Tenant

TITLE_MAX = 200
#: The status a level's effect brings a petition to, in rising order.
_EFFECT_STATUS = {
    "meeting": PetitionStatus.THRESHOLD_REACHED,
    "council_agenda": PetitionStatus.ON_COUNCIL_AGENDA,
    "referendum": PetitionStatus.REFERENDUM_REQUESTED,
}
_RANK = {
    PetitionStatus.OPEN: 0,
    PetitionStatus.THRESHOLD_REACHED: 1,
    PetitionStatus.ON_COUNCIL_AGENDA: 2,
    PetitionStatus.REFERENDUM_REQUESTED: 3,
}
_COUNCIL_EFFECTS = frozenset({"council_agenda", "referendum"})


@dataclass(frozen=True)
class LevelProgress:
    """One threshold level of a petition: when it was crossed, and by how many signatures."""

    level: ThresholdLevel
    reached_at: datetime | None
    signatures_then: int | None


def add_months(moment: datetime, months: int) -> datetime:
    """The same wall-clock time in Paris ``months`` later (the last day of a shorter month)."""
    local = moment.astimezone(PARIS)
    years, month = divmod(local.month - 1 + months, 12)
    year, month = local.year + years, month + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    return local.replace(year=year, month=month, day=day).astimezone(UTC)


def rules_of(petition: Petition) -> InterpellationRules:
    return InterpellationRules.from_document(petition.rules)


def status_of(petition: Petition, now: datetime | None = None) -> PetitionStatus:
    """The petition's status as shown: an open petition whose window ended is closed."""
    if petition.status == PetitionStatus.OPEN and (now or utcnow()) >= petition.closes_at:
        return PetitionStatus.CLOSED
    return petition.status


def is_open_for_signature(petition: Petition, now: datetime | None = None) -> bool:
    return petition.status != PetitionStatus.DECIDED and (now or utcnow()) < petition.closes_at


def answered_before_close(petition: Petition) -> bool:
    """The commune answered before the signature window ended: that answer, not the end of
    the window, is what closed the signatures."""
    return (
        petition.status == PetitionStatus.DECIDED
        and petition.decided_on is not None
        and petition.decided_on < petition.closes_at.astimezone(PARIS).date()
    )


def progress_of(petition: Petition) -> list[LevelProgress]:
    reached = petition.levels_reached or {}
    rows = []
    for level in rules_of(petition).levels:
        entry = reached.get(level.key)
        rows.append(
            LevelProgress(
                level,
                datetime.fromisoformat(entry["at"]) if entry else None,
                entry["signatures"] if entry else None,
            )
        )
    return rows


def next_level(petition: Petition) -> ThresholdLevel | None:
    """The first level not reached yet (``None`` once the last one is)."""
    return next(
        (lv for lv in rules_of(petition).levels if lv.signatures > petition.signature_count),
        None,
    )


def reached_effects(petition: Petition) -> set[str]:
    reached = petition.levels_reached or {}
    return {lv.effect for lv in rules_of(petition).levels if lv.key in reached}


def petitions_of(session: DbSession, tenant: Tenant) -> list[Petition]:
    return list(
        session.execute(
            select(Petition)
            .where(Petition.tenant_id == tenant.id)
            .order_by(Petition.opened_at.desc(), Petition.id.desc())
        ).scalars()
    )


def has_signed(session: DbSession, petition: Petition, person: Person | None) -> bool:
    if person is None:
        return False
    return (
        session.execute(
            select(PetitionSignature.id).where(
                PetitionSignature.tenant_id == petition.tenant_id,
                PetitionSignature.petition_id == petition.id,
                PetitionSignature.person_id == person.id,
            )
        ).first()
        is not None
    )


def open_petition(
    session: DbSession,
    tenant: Tenant,
    rules: InterpellationRules,
    author: Person,
    title: str,
    text: str,
    actor: str,
    *,
    now: datetime | None = None,
) -> Petition:
    """Open a petition under the commune's rules in force, which it keeps."""
    title, text = title.strip(), text.strip()
    if not title:
        raise Invalid(_("Give the petition a title."))
    if len(title) > TITLE_MAX:
        raise Invalid(_("The title is limited to %(max)d characters.", max=TITLE_MAX))
    if not text:
        raise Invalid(_("Write the text of the petition: what do you ask the commune?"))
    opened = now or utcnow()
    petition = Petition(
        tenant_id=tenant.id,
        title=title,
        text=text,
        author_id=author.id,
        opened_at=opened,
        closes_at=add_months(opened, rules.window_months),
        status=PetitionStatus.OPEN,
        rules=rules.as_document(),
        signature_count=0,
        levels_reached={},
    )
    session.add(petition)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="petition.opened",
        object_type="petition",
        object_id=petition.id,
        details={"title": title, "closes_at": petition.closes_at.isoformat()},
        public=True,
    )
    return petition


def sign(
    session: DbSession,
    tenant: Tenant,
    petition: Petition,
    person: Person,
    *,
    lives_here: bool,
    old_enough: bool,
    now: datetime | None = None,
) -> PetitionSignature:
    """Sign once, with the attestations the petition's rules ask for; crossing a level
    moves the petition on and tells the commune's administrators."""
    moment = now or utcnow()
    # One signer at a time per petition: the count that crosses a level is exact.
    locked = session.execute(
        select(Petition)
        .where(Petition.tenant_id == petition.tenant_id, Petition.id == petition.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()
    if locked.status == PetitionStatus.DECIDED:
        raise Conflict(_("This petition has been answered: it can no longer be signed."))
    if moment >= locked.closes_at:
        raise Conflict(
            _(
                "The signature period of this petition ended on %(day)s: "
                "it can no longer be signed.",
                day=format_date(locked.closes_at.astimezone(PARIS).date(), "long"),
            )
        )
    if has_signed(session, locked, person):
        raise Conflict(_("You have already signed this petition: each person signs once."))
    rules = rules_of(locked)
    if rules.residents_only and not lives_here:
        raise Invalid(_("To sign, declare that you live in %(commune)s.", commune=tenant.name))
    if rules.minimum_age and not old_enough:
        raise Invalid(_("To sign, declare that you are %(age)d or older.", age=rules.minimum_age))
    signature = PetitionSignature(
        tenant_id=tenant.id,
        petition_id=locked.id,
        person_id=person.id,
        attests_residence=bool(rules.residents_only and lives_here),
        attests_age=bool(rules.minimum_age and old_enough),
        created_at=moment,
    )
    session.add(signature)
    try:
        session.flush()
    except IntegrityError as error:  # the database's unique key, behind the check above
        # No savepoint: a refusal rolls the whole request back.
        raise Conflict(
            _("You have already signed this petition: each person signs once.")
        ) from error
    locked.signature_count += 1
    _cross_levels(session, tenant, locked, rules, moment)
    return signature


def _cross_levels(
    session: DbSession,
    tenant: Tenant,
    petition: Petition,
    rules: InterpellationRules,
    moment: datetime,
) -> None:
    reached = dict(petition.levels_reached or {})
    crossed = [
        lv
        for lv in rules.levels
        if lv.signatures <= petition.signature_count and lv.key not in reached
    ]
    if not crossed:
        return
    for level in crossed:
        reached[level.key] = {"at": moment.isoformat(), "signatures": petition.signature_count}
    petition.levels_reached = reached  # a new dict: the JSON column sees the change
    target = max((_EFFECT_STATUS[lv.effect] for lv in crossed), key=_RANK.__getitem__)
    if petition.status in _RANK and _RANK[target] > _RANK[petition.status]:
        petition.status = target
    level = crossed[-1]
    audit.record(
        session,
        tenant,
        actor="system",
        action="petition.level_reached",
        object_type="petition",
        object_id=petition.id,
        details={
            "levels": [lv.key for lv in crossed],
            "signatures": petition.signature_count,
            "status": petition.status.value,
        },
        public=True,
    )
    notify(
        session,
        tenant,
        commune_admins(session, tenant),
        notices.LEVEL_REACHED,
        {"petition_id": petition.id, "level": level.key, "signatures": petition.signature_count},
    )


def commune_admins(session: DbSession, tenant: Tenant) -> list[Person]:
    """The commune's administrators, as participants (created on first need) so that they
    find the notification on their page as well as in their mail."""
    return [
        person_for_account(session, tenant, account.id, account.display_name or _("the commune"))
        for account in holders_of(session, tenant, (Role.COMMUNE_ADMIN,))
    ]


def opened_on(petition: Petition) -> date:
    """The day the petition opened, in the commune's time (the earliest date to record)."""
    return petition.opened_at.astimezone(PARIS).date()


def _not_in_future(day: date, message: str) -> None:
    if day > paris_today():
        raise Invalid(message)


def _not_before_opening(petition: Petition, day: date, message: str) -> None:
    """Refuse ``day`` before the petition opened; ``message`` names that day as ``%(day)s``."""
    opened = opened_on(petition)
    if day < opened:
        raise Invalid(message % {"day": format_date(opened, "long")})


def record_meeting(
    session: DbSession, tenant: Tenant, petition: Petition, held_on: date, actor: str
) -> None:
    """The meeting with the mayor and elected referents took place."""
    if "meeting" not in reached_effects(petition):
        raise Conflict(_("This petition has not reached the level that calls for a meeting."))
    if petition.meeting_held_on is not None:
        raise Conflict(_("The meeting on this petition is already recorded."))
    _not_in_future(held_on, _("A meeting cannot be recorded before it takes place."))
    _not_before_opening(
        petition,
        held_on,
        _("The meeting cannot be dated before the petition opened, on %(day)s."),
    )
    petition.meeting_held_on = held_on
    _record(session, tenant, petition, actor, "petition.meeting_held", {"on": str(held_on)})


def schedule_council(
    session: DbSession, tenant: Tenant, petition: Petition, session_on: date, actor: str
) -> None:
    """The petition is put on the agenda of the council's session of ``session_on``."""
    if not reached_effects(petition) & _COUNCIL_EFFECTS:
        raise Conflict(
            _("This petition has not reached the level that puts it on the council's agenda.")
        )
    if petition.status == PetitionStatus.DECIDED:
        raise Conflict(_("This petition has already been answered."))
    _not_before_opening(
        petition,
        session_on,
        _("The council session cannot be dated before the petition opened, on %(day)s."),
    )
    petition.council_session_on = session_on
    _record(session, tenant, petition, actor, "petition.council_scheduled", {"on": str(session_on)})


def record_decision(
    session: DbSession,
    tenant: Tenant,
    petition: Petition,
    decided_on: date,
    answer: str,
    actor: str,
) -> None:
    """The mayor's or the council's answer, made public; the author and signers are told."""
    if not reached_effects(petition):
        raise Conflict(_("A petition is answered once it has reached a threshold."))
    if petition.status == PetitionStatus.DECIDED:
        raise Conflict(_("This petition has already been answered."))
    answer = answer.strip()
    if not answer:
        raise Invalid(_("Write the public answer given to the petition."))
    _not_in_future(decided_on, _("A decision cannot be recorded before it is taken."))
    _not_before_opening(
        petition,
        decided_on,
        _("The answer cannot be dated before the petition opened, on %(day)s."),
    )
    petition.status = PetitionStatus.DECIDED
    petition.decided_on = decided_on
    petition.answer = answer
    _record(session, tenant, petition, actor, "petition.decided", {"on": str(decided_on)})
    signers = session.execute(
        select(Person)
        .join(
            PetitionSignature,
            (PetitionSignature.tenant_id == Person.tenant_id)
            & (PetitionSignature.person_id == Person.id),
        )
        .where(
            PetitionSignature.tenant_id == petition.tenant_id,
            PetitionSignature.petition_id == petition.id,
        )
    ).scalars()
    author = session.get(Person, (petition.tenant_id, petition.author_id))
    notify(
        session,
        tenant,
        [*signers, *([author] if author else [])],
        notices.DECIDED,
        {"petition_id": petition.id},
    )


def _record(
    session: DbSession,
    tenant: Tenant,
    petition: Petition,
    actor: str,
    action: str,
    details: dict[str, Any],
) -> None:
    audit.record(
        session,
        tenant,
        actor=actor,
        action=action,
        object_type="petition",
        object_id=petition.id,
        details=details,
        public=True,
    )

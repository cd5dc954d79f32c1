"""Assembly sessions and check-in. In a session of a body open to the public, checking in
is what gives the right to vote; each person checked in receives a voting code.

People are checked in from the session's *roster*: the members of its body and, in a session
open to everyone present, of every body of the edition. The origin a check-in records (and
the quorum counts) is the membership's, never one typed at the desk; a person who walks in
is added as a volunteer. Voting cards can be printed for the whole roster before the
session: each holds a code (only its hash is kept) and a QR code to check in by oneself.
"""

from __future__ import annotations

import hashlib
import secrets
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import datetime
from functools import lru_cache
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import Select, func, select, true
from sqlalchemy.exc import IntegrityError

from agora.assembly.bodies import ACTIVE, add_person
from agora.assembly.models import (
    AssemblySession,
    AssemblySessionStatus,
    Body,
    CheckIn,
    Edition,
    Membership,
    VotingCard,
)
from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.errors import Conflict, Forbidden, Invalid
from agora.shared.labels import ASSEMBLY_SESSION_STATUSES
from agora.shared.people import Person
from agora.tenancy.models import Tenant

#: Voting codes avoid letters and digits people confuse (0/O, 1/I/L).
CODE_ALPHABET = "ABCDEFGHJKMNPQRSTUVWXYZ23456789"


def sessions_of(session: DbSession, edition: Edition) -> list[AssemblySession]:
    return list(
        session.execute(
            select(AssemblySession)
            .where(
                AssemblySession.tenant_id == edition.tenant_id,
                AssemblySession.edition_id == edition.id,
            )
            .order_by(AssemblySession.starts_at)
        ).scalars()
    )


def plan(
    session: DbSession,
    tenant: Tenant,
    edition: Edition,
    body: Body,
    number: int,
    title: str,
    starts_at: datetime,
    venue: str,
    actor: str,
) -> AssemblySession:
    row = AssemblySession(
        tenant_id=tenant.id,
        edition_id=edition.id,
        body_id=body.id,
        number=number,
        title=title,
        starts_at=starts_at,
        venue=venue,
    )
    session.add(row)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="session.planned",
        object_type="assembly_session",
        object_id=row.id,
        public=True,
    )
    return row


def set_status(
    session: DbSession,
    tenant: Tenant,
    row: AssemblySession,
    status: AssemblySessionStatus,
    actor: str,
) -> None:
    order = list(AssemblySessionStatus)
    if order.index(status) != order.index(row.status) + 1:
        raise Conflict(
            _(
                "a session that is %(status)s cannot become %(target)s",
                status=ASSEMBLY_SESSION_STATUSES[row.status.value],
                target=ASSEMBLY_SESSION_STATUSES[status.value],
            )
        )
    row.status = status
    audit.record(
        session,
        tenant,
        actor=actor,
        action=f"session.{status.value}",
        object_type="assembly_session",
        object_id=row.id,
        public=True,
    )


def voting_code_hash(code: str) -> str:
    normalised = "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)
    return hashlib.sha256(normalised.encode()).hexdigest()


def normalised_code(code: str) -> str:
    """``code`` as printed (``ABCD-EFGH-JKMN``), whatever the case and separators typed."""
    letters = "".join(ch for ch in code.upper() if ch in CODE_ALPHABET)
    return "-".join(letters[i : i + 4] for i in range(0, len(letters), 4))


def new_voting_code() -> str:
    """Twelve characters of :data:`CODE_ALPHABET` in three groups (59 bits)."""
    return "-".join(
        "".join(secrets.choice(CODE_ALPHABET) for _letter in range(4)) for _group in range(3)
    )


# --- the roster ---------------------------------------------------------------------------


@dataclass(frozen=True)
class RosterEntry:
    """A person on a session's roster, with the membership that puts them there."""

    person: Person
    membership: Membership
    body: Body
    check_in: CheckIn | None
    has_card: bool


def open_to_all(session: DbSession, row: AssemblySession) -> bool:
    """Whether ``row`` is a session of a body open to everyone present."""
    return _body_of(session, row).openness == "open_to_public"


def _body_of(session: DbSession, row: AssemblySession) -> Body:
    body = session.get(Body, (row.tenant_id, row.body_id))
    assert body is not None  # a session belongs to a body of its commune (FK)
    return body


def _members_on_roster(
    session: DbSession, row: AssemblySession, *columns: Any
) -> tuple[Body, Select[Any]]:
    """The session's body, and ``columns`` of the current memberships that make its roster
    (joined to their person and body): its own body's; in a session open to everyone
    present, those of every body of the edition."""
    own = _body_of(session, row)
    bodies = (
        Body.edition_id == row.edition_id if own.openness == "open_to_public" else Body.id == own.id
    )
    query = (
        select(*columns)
        .select_from(Membership)
        .join(Body, (Body.tenant_id == Membership.tenant_id) & (Body.id == Membership.body_id))
        .join(
            Person,
            (Person.tenant_id == Membership.tenant_id) & (Person.id == Membership.person_id),
        )
        .where(Membership.tenant_id == row.tenant_id, Membership.status.in_(ACTIVE), bodies)
    )
    return own, query


def roster_names(session: DbSession, row: AssemblySession) -> list[tuple[int, str]]:
    """Who is on the session's roster, as ``(person id, name)`` sorted by name: a page of the
    roster searches and counts these, then reads the whole entries of its own people only."""
    _own, query = _members_on_roster(session, row, Person.id, Person.display_name)
    names = session.execute(query.distinct()).all()
    return sorted(
        [(person_id, name) for person_id, name in names], key=lambda p: (_folded(p[1]), p[0])
    )


def roster(
    session: DbSession, row: AssemblySession, people: Collection[int] | None = None
) -> list[RosterEntry]:
    """The session's roster, by name: the current members of its body and, in a session open
    to everyone present, of the edition's other bodies; each person once, on the membership
    of the session's body if they have one, else on their first. With ``people`` (person
    ids), only their entries, for those on it: a check-in reads one person, a page of the
    roster its own, not the hall."""
    # One statement: a person's check-in and card are at most one each per session.
    has_card = (
        select(VotingCard.id)
        .where(
            VotingCard.tenant_id == Membership.tenant_id,
            VotingCard.session_id == row.id,
            VotingCard.person_id == Membership.person_id,
        )
        .exists()
    )
    own, query = _members_on_roster(session, row, Membership, Person, Body, CheckIn, has_card)
    rows = session.execute(
        query.outerjoin(
            CheckIn,
            (CheckIn.tenant_id == Membership.tenant_id)
            & (CheckIn.session_id == row.id)
            & (CheckIn.person_id == Membership.person_id),
        )
        .where(_person_is(Membership.person_id, people))
        .order_by(Membership.id)
    ).all()
    chosen: dict[int, tuple[Membership, Person, Body, CheckIn | None, bool]] = {}
    for membership, person, body, check_in, carded in rows:
        if person.id not in chosen or (body.id == own.id and chosen[person.id][2].id != own.id):
            chosen[person.id] = (membership, person, body, check_in, carded)
    entries = [
        RosterEntry(person, membership, body, check_in, bool(carded))
        for membership, person, body, check_in, carded in chosen.values()
    ]
    return sorted(entries, key=lambda e: (_folded(e.person.display_name), e.person.id))


def _person_is(column: Any, people: Collection[int] | None) -> Any:
    """``column`` is one of ``people``; anyone when it is ``None``."""
    return column.in_(people) if people is not None else true()


@lru_cache(maxsize=8192)  # a desk's search folds every name on the roster, twice
def _folded(text: str) -> str:
    """``text`` without case or accents, to search names as people type them."""
    decomposed = unicodedata.normalize("NFKD", text.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


def search(names: list[tuple[int, str]], query: str) -> list[tuple[int, str]]:
    """The ``(person id, name)`` whose name holds every word of ``query`` (case and accents
    ignored)."""
    words = _folded(query).split()
    if not words:
        return names
    return [p for p in names if all(w in _folded(p[1]) for w in words)]


def _count_of_session(row: AssemblySession, model: type[CheckIn] | type[VotingCard]) -> Any:
    return (
        select(func.count())
        .select_from(model)
        .where(model.tenant_id == row.tenant_id, model.session_id == row.id)
        .scalar_subquery()
    )


def present_and_carded(session: DbSession, row: AssemblySession) -> tuple[int, int]:
    """How many people are checked in to the session, and how many voting cards its roster
    holds (in one statement: a desk reads both at every search)."""
    present, carded = session.execute(
        select(_count_of_session(row, CheckIn), _count_of_session(row, VotingCard))
    ).one()
    return int(present), int(carded)


def _roster_entry(session: DbSession, row: AssemblySession, person_id: int) -> RosterEntry:
    entry = next(iter(roster(session, row, [person_id])), None)
    if entry is None:
        raise Invalid(
            _(
                "this person is not on the roster of the session: only its bodies' members "
                "are checked in from it"
            )
        )
    return entry


# --- checking in --------------------------------------------------------------------------


def _check_in(
    session: DbSession,
    tenant: Tenant,
    row: AssemblySession,
    person: Person,
    *,
    membership: Membership | None,
    actor: str,
    source: str,
    code_hash: str | None = None,
) -> tuple[CheckIn, str | None]:
    """Record ``person`` as present, with ``membership``'s origin (a volunteer without one);
    return the check-in and, unless ``code_hash`` (a card's) is given, the new voting code."""
    if row.status != AssemblySessionStatus.OPEN:
        raise Conflict(_("check-in happens while the session is open"))
    existing = session.execute(
        select(CheckIn).where(
            CheckIn.tenant_id == tenant.id,
            CheckIn.session_id == row.id,
            CheckIn.person_id == person.id,
        )
    ).scalar_one_or_none()
    if existing is not None:
        raise Conflict(_("%(person)s is already checked in", person=person.display_name))
    code = None
    if code_hash is None:
        code = new_voting_code()
        code_hash = voting_code_hash(code)
    origin = membership.origin if membership is not None else "volunteer"
    entry = CheckIn(
        tenant_id=tenant.id,
        session_id=row.id,
        person_id=person.id,
        membership_id=membership.id if membership is not None else None,
        origin=origin,
        voting_code_hash=code_hash,
    )
    session.add(entry)
    try:
        session.flush()
    except IntegrityError as error:  # the database's unique keys, behind the check above
        # Two desks (or a double tap on a card's page) at once; no savepoint: a refusal rolls
        # the whole request back.
        raise Conflict(_("%(person)s is already checked in", person=person.display_name)) from error
    audit.record(
        session,
        tenant,
        actor=actor,
        action="session.checked_in",
        object_type="check_in",
        object_id=entry.id,
        details={"session": row.id, "origin": origin, "from": source},
    )
    return entry, code


def check_in_from_roster(
    session: DbSession, tenant: Tenant, row: AssemblySession, person_id: int, actor: str
) -> tuple[CheckIn, str | None]:
    """Check in a person on the session's roster, with their membership's origin. A person
    whose voting card was printed keeps its code (``None`` is returned: hand them the card);
    otherwise the new code is returned, to be shown once."""
    entry = _roster_entry(session, row, person_id)
    card = _card_of(session, row, person_id)
    return _check_in(
        session,
        tenant,
        row,
        entry.person,
        membership=entry.membership,
        actor=actor,
        source="card" if card is not None else "roster",
        code_hash=card.code_hash if card is not None else None,
    )


def check_in_walk_in(
    session: DbSession,
    tenant: Tenant,
    row: AssemblySession,
    name: str,
    actor: str,
    *,
    origin: str = "volunteer",
) -> tuple[CheckIn, str]:
    """Add a person who walks in, by ``name``, and check them in as a volunteer — only in a
    session open to everyone present. An ``origin`` other than volunteer is refused: who was
    drawn (or elected, or an agent) is what the roster says, never what is declared."""
    if origin != "volunteer":
        raise Invalid(
            _(
                "a person who walks in is checked in as a volunteer: drawn residents, elected "
                "members and agents are checked in from the roster. Nothing was recorded."
            )
        )
    if not open_to_all(session, row):
        raise Conflict(
            _(
                "only the members of the body are checked in at this session: "
                "check them in from the roster"
            )
        )
    if not name.strip():
        raise Invalid(_("give the name of the person checking in"))
    if row.status != AssemblySessionStatus.OPEN:
        raise Conflict(_("check-in happens while the session is open"))
    person = add_person(session, tenant, name)
    entry, code = _check_in(
        session, tenant, row, person, membership=None, actor=actor, source="walk_in"
    )
    assert code is not None  # a walk-in has no card
    return entry, code


def present_count(session: DbSession, row: AssemblySession) -> int:
    """How many people are checked in to the session."""
    return int(session.execute(select(_count_of_session(row, CheckIn))).scalar_one())


# --- voting cards -------------------------------------------------------------------------


@dataclass(frozen=True)
class IssuedCard:
    """A card to print: the code exists only here, until the PDF is made."""

    name: str
    code: str


def _card_of(session: DbSession, row: AssemblySession, person_id: int) -> VotingCard | None:
    return session.execute(
        select(VotingCard).where(
            VotingCard.tenant_id == row.tenant_id,
            VotingCard.session_id == row.id,
            VotingCard.person_id == person_id,
        )
    ).scalar_one_or_none()


def print_cards(
    session: DbSession, tenant: Tenant, row: AssemblySession, actor: str
) -> list[IssuedCard]:
    """A new voting card for every person on the roster, in the roster's order.

    Printing again gives everyone a new code: the cards printed before stop working, for
    self check-in and — where a person was checked in with their old card — for voting too.
    """
    # One printing at a time: a second one waits, then replaces this one's codes.
    session.refresh(row, with_for_update=True)
    if row.status == AssemblySessionStatus.CLOSED:
        raise Conflict(_("this session is closed: its voting cards can no longer be printed"))
    cards = {
        c.person_id: c
        for c in session.execute(
            select(VotingCard).where(
                VotingCard.tenant_id == row.tenant_id, VotingCard.session_id == row.id
            )
        ).scalars()
    }
    issued, now = [], utcnow()
    for entry in roster(session, row):
        code = new_voting_code()
        card = cards.get(entry.person.id)
        if card is None:
            session.add(
                VotingCard(
                    tenant_id=tenant.id,
                    session_id=row.id,
                    person_id=entry.person.id,
                    code_hash=voting_code_hash(code),
                    printed_at=now,
                )
            )
        else:
            if entry.check_in is not None and entry.check_in.voting_code_hash == card.code_hash:
                entry.check_in.voting_code_hash = voting_code_hash(code)
            card.code_hash, card.printed_at = voting_code_hash(code), now
        issued.append(IssuedCard(entry.person.display_name, code))
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="session.cards_printed",
        object_type="assembly_session",
        object_id=row.id,
        details={"cards": len(issued), "reprinted": len(cards)},
    )
    return issued


def check_in_with_card(
    session: DbSession, tenant: Tenant, row: AssemblySession, code: str, actor: str
) -> CheckIn:
    """The holder of a voting card (or of a code handed at the desk) confirms they are
    present: checked in with their roster origin if they were not, the same check-in if they
    were. An unknown code is refused."""
    code_hash = voting_code_hash(code)
    present = session.execute(
        select(CheckIn).where(
            CheckIn.tenant_id == tenant.id,
            CheckIn.session_id == row.id,
            CheckIn.voting_code_hash == code_hash,
        )
    ).scalar_one_or_none()
    if present is not None:
        return present
    card = session.execute(
        select(VotingCard).where(
            VotingCard.tenant_id == tenant.id,
            VotingCard.session_id == row.id,
            VotingCard.code_hash == code_hash,
        )
    ).scalar_one_or_none()
    if card is None:
        raise Forbidden(_("this voting code is not valid for this session"))
    entry = _roster_entry(session, row, card.person_id)
    checked_in, _code = _check_in(
        session,
        tenant,
        row,
        entry.person,
        membership=entry.membership,
        actor=actor,
        source="self_card",
        code_hash=code_hash,
    )
    return checked_in

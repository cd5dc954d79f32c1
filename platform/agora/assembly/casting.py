"""Casting a vote: the hot path of an assembly day, a few hundred people voting at once.

What a ballot looks like once open (its method, options, secrecy, electorate) never changes,
so each process keeps it in memory; what does change — whether the ballot is still open,
whether this code or member may vote, whether they already did — is decided by the database
in the statement that records the vote. On PostgreSQL that is a single statement — a code
holder's vote over HTTP goes to the server in one round trip, commit included; SQLite cannot
insert from a common table expression and takes three.

One vote per eligible person: the register of voters (``ballot_voter``) has the person in its
primary key, so a second vote — even two at the same instant — is refused by the database.
For a secret ballot the vote itself carries no person, only the voter's origin (for the
breakdown); neither table has a time column nor ordered ids, so the two cannot be matched.
The voter is registered only while the ballot is open, checked under a key-share lock that
:func:`agora.assembly.ballots.close` (which locks the ballot for update) waits for.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import JSON, BigInteger, Boolean, Select, bindparam, case, insert, null, select
from sqlalchemy.exc import IntegrityError
from werkzeug.datastructures import MultiDict

from agora.assembly.bodies import ACTIVE
from agora.assembly.models import BallotStatus
from agora.assembly.sessions import voting_code_hash
from agora.db import Base, DbSession, new_random_id, plain_session
from agora.errors import Conflict, Forbidden, Invalid
from agora.shared.people import Person
from agora.tenancy.isolation import StandaloneStatement
from agora.voting.ballots import InvalidVote, parse_payload, payload_to_json, validate_payload


@dataclass(frozen=True)
class BallotShape:
    """The parts of an open ballot that never change."""

    tenant_id: int
    ballot_id: int
    session_id: int
    body_id: int
    body_name: str
    open_to_public: bool
    method: str
    secret: bool
    option_ids: tuple[str, ...]


_ballot, _body, _option = (Base.metadata.tables[n] for n in ("ballot", "body", "ballot_option"))
_check_in, _membership = Base.metadata.tables["check_in"], Base.metadata.tables["membership"]
_voter, _vote = Base.metadata.tables["ballot_voter"], Base.metadata.tables["vote"]

# Statements are built once, on tables: building and ORM-compiling them on every vote cost
# more than the database work itself.
_SHAPE = (
    select(
        _ballot.c.session_id,
        _ballot.c.body_id,
        _body.c.name,
        _body.c.openness,
        _ballot.c.method,
        _ballot.c.secret,
        _option.c.id,
    )
    .join(_body, (_body.c.tenant_id == _ballot.c.tenant_id) & (_body.c.id == _ballot.c.body_id))
    .outerjoin(
        _option,
        (_option.c.tenant_id == _ballot.c.tenant_id) & (_option.c.ballot_id == _ballot.c.id),
    )
    .where(_ballot.c.tenant_id == bindparam("tenant_id"), _ballot.c.id == bindparam("ballot_id"))
    .order_by(_option.c.position)
)
_STATUS = select(_ballot.c.status).where(
    _ballot.c.tenant_id == bindparam("tenant_id"), _ballot.c.id == bindparam("ballot_id")
)
#: The voter, with their origin: by the code handed at check-in, in a body open to everyone
#: present; by membership with a voting right, in a closed body.
_CHECKED_IN: Select[Any] = select(_check_in.c.person_id, _check_in.c.origin).where(
    _check_in.c.tenant_id == bindparam("tenant_id"),
    _check_in.c.session_id == bindparam("session_id"),
    _check_in.c.voting_code_hash == bindparam("code_hash"),
)
_MEMBER: Select[Any] = select(_membership.c.person_id, _membership.c.origin).where(
    _membership.c.tenant_id == bindparam("tenant_id"),
    _membership.c.body_id == bindparam("body_id"),
    _membership.c.person_id == bindparam("person_id"),
    _membership.c.status.in_(ACTIVE),
    _membership.c.voting_right.is_(True),
)
_STILL_OPEN = (
    select(_ballot.c.id)
    .where(
        _ballot.c.tenant_id == bindparam("tenant_id"),
        _ballot.c.id == bindparam("ballot_id"),
        _ballot.c.status == BallotStatus.OPEN,
    )
    .with_for_update(read=True, key_share=True)
    .exists()
)
_KEYS = (bindparam("tenant_id", type_=BigInteger), bindparam("ballot_id", type_=BigInteger))


def _register(person_id: Any) -> Any:
    return insert(_voter).from_select(
        ["tenant_id", "ballot_id", "person_id"], select(*_KEYS, person_id).where(_STILL_OPEN)
    )


def _store(rows: Any, person_id: Any, origin: Any) -> Any:
    """The vote, from ``rows`` (for a secret ballot, without the person)."""
    return insert(_vote).from_select(
        ["tenant_id", "ballot_id", "id", "person_id", "origin", "payload"],
        select(
            *_KEYS,
            bindparam("vote_id", type_=BigInteger),
            case((bindparam("secret", type_=Boolean), null()), else_=person_id),
            origin,
            bindparam("payload", type_=JSON),
        ).select_from(rows),
    )


def _single_statement(voters: Select[Any]) -> Any:
    """PostgreSQL: find the voter, register them if the ballot is open, store the vote."""
    voter = voters.cte("voter")
    registered = _register(voter.c.person_id).returning(_voter.c.person_id).cte("registered")
    rows = registered.join(voter, voter.c.person_id == registered.c.person_id)
    return _store(rows, voter.c.person_id, voter.c.origin).returning(_vote.c.id)


_CAST_ALL_IN_ONE = {True: _single_statement(_CHECKED_IN), False: _single_statement(_MEMBER)}
_CAST_STANDALONE = {key: StandaloneStatement(one) for key, one in _CAST_ALL_IN_ONE.items()}
_REGISTER_ONE = _register(bindparam("person_id", type_=BigInteger)).returning(_voter.c.person_id)
_STORE_ONE = insert(_vote)


class _ShapeCache:
    """A bounded, thread-safe LRU of ballot shapes, per process."""

    def __init__(self, size: int) -> None:
        self.size = size
        self._entries: OrderedDict[tuple[int, int], BallotShape] = OrderedDict()
        self._lock = threading.Lock()

    def get(self, key: tuple[int, int]) -> BallotShape | None:
        with self._lock:
            shape = self._entries.get(key)
            if shape is not None:
                self._entries.move_to_end(key)
            return shape

    def put(self, shape: BallotShape) -> None:
        with self._lock:
            self._entries[(shape.tenant_id, shape.ballot_id)] = shape
            while len(self._entries) > self.size:
                self._entries.popitem(last=False)


_shapes = _ShapeCache(4096)


def shape_of(session: DbSession, tenant_id: int, ballot_id: int) -> BallotShape | None:
    """The ballot ``ballot_id`` of the commune; ``None`` if there is none."""
    shape = _shapes.get((tenant_id, ballot_id))
    if shape is not None:
        return shape
    rows = session.execute(_SHAPE, {"tenant_id": tenant_id, "ballot_id": ballot_id}).all()
    if not rows:
        return None
    session_id, body_id, body_name, openness, method, secret, _ = rows[0]
    shape = BallotShape(
        tenant_id=tenant_id,
        ballot_id=ballot_id,
        session_id=session_id,
        body_id=body_id,
        body_name=body_name,
        open_to_public=openness == "open_to_public",
        method=method,
        secret=secret,
        option_ids=tuple(str(row[-1]) for row in rows if row[-1] is not None),
    )
    _shapes.put(shape)
    return shape


def payload_from_form(method: str, form: MultiDict[str, str]) -> dict[str, object]:
    """The vote's payload from the ballot page's form fields: ``grade-<option>`` (majority
    judgment), ``approve`` (approval, repeated), ``objection`` (consent: empty to consent) or
    ``choice`` (for, against, abstain). :func:`cast` checks it against the ballot."""
    if method == "majority_judgment":
        return {
            "grades": {
                k.removeprefix("grade-"): int(v)
                for k, v in form.items()
                if k.startswith("grade-") and v.isdigit()
            }
        }
    if method == "approval":
        return {"approvals": form.getlist("approve")}
    if method == "consent":
        reason = form.get("objection", "").strip()
        return {"objection": reason} if reason else {"consent": True}
    return {"choice": form.get("choice", "")}


def cast(
    session: DbSession,
    shape: BallotShape,
    payload: dict[str, Any],
    *,
    person: Person | None = None,
    code: str | None = None,
    commit: bool = False,
) -> None:
    """Record one vote — by voting ``code`` in a body open to the public, by ``person`` in a
    closed body — or refuse it with nothing stored.

    The vote joins the session's transaction; with ``commit`` it is committed here. A code
    holder's vote over HTTP finds the session with nothing in progress: on PostgreSQL it is
    then a transaction of its own, sent with the commune's binding in a single round trip
    (:class:`~agora.tenancy.isolation.StandaloneStatement`).
    """
    try:
        parsed = parse_payload(payload)
        validate_payload(shape.method, shape.option_ids, parsed)
    except InvalidVote as error:
        raise Invalid(_("this vote cannot be counted: %(error)s", error=error)) from error
    params: dict[str, Any] = {
        "tenant_id": shape.tenant_id,
        "ballot_id": shape.ballot_id,
        "session_id": shape.session_id,
        "body_id": shape.body_id,
        "code_hash": voting_code_hash(code) if code else None,
        "person_id": person.id if person else None,
        "secret": shape.secret,
        "vote_id": new_random_id(),
        "payload": payload_to_json(parsed),
    }
    bind = session.get_bind()
    # The engine to send the vote alone through, when it is a transaction of its own.
    alone = (
        bind
        if commit
        and not plain_session(session).in_transaction()
        and StandaloneStatement.supports(bind)
        else None
    )
    try:
        if alone is not None:
            stored = _CAST_STANDALONE[shape.open_to_public].first(alone, shape.tenant_id, params)
        elif bind.dialect.name == "postgresql":
            stored = session.execute(_CAST_ALL_IN_ONE[shape.open_to_public], params).first()
        else:
            stored = _cast_in_steps(session, shape, params)
    except IntegrityError as error:
        raise Conflict(
            _("you have already voted on this ballot: your second vote was not recorded")
        ) from error
    if stored is None:
        _refuse(session, shape)
    if commit and alone is None:  # a vote sent alone is committed already
        session.commit()


def _cast_in_steps(session: DbSession, shape: BallotShape, params: dict[str, Any]) -> Any:
    voter = session.execute(_CHECKED_IN if shape.open_to_public else _MEMBER, params).first()
    if voter is None:
        return None
    keys = {"tenant_id": shape.tenant_id, "ballot_id": shape.ballot_id}
    if session.execute(_REGISTER_ONE, {**keys, "person_id": voter.person_id}).first() is None:
        return None
    return session.execute(
        _STORE_ONE,
        {
            **keys,
            "id": params["vote_id"],
            "person_id": None if shape.secret else voter.person_id,
            "origin": voter.origin,
            "payload": params["payload"],
        },
    )


def _refuse(session: DbSession, shape: BallotShape) -> None:
    """Nothing was stored: say why."""
    status = session.execute(
        _STATUS, {"tenant_id": shape.tenant_id, "ballot_id": shape.ballot_id}
    ).scalar_one()
    if status != BallotStatus.OPEN:
        raise Conflict(_("this ballot is closed: your vote was not recorded"))
    if shape.open_to_public:
        raise Forbidden(_("this voting code is not valid for this session"))
    raise Forbidden(_("you are not part of the electorate of the %(body)s", body=shape.body_name))

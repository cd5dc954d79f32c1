"""Voting under concurrency, on PostgreSQL: 300 voters casting at once over HTTP are each
counted once, closing a ballot while a vote is being cast neither loses nor adds it, and a
vote sent on its own in one round trip is as safe as one in a longer transaction."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from fractions import Fraction
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

import pytest
from flask import Flask
from pytest import MonkeyPatch
from sqlalchemy import func, select

from agora import create_app
from agora.assembly import ballots, casting, sessions
from agora.assembly.models import AssemblySession, Ballot, BallotVoter, Body, Vote
from agora.errors import Conflict
from agora.extensions import db
from agora.plugins.contracts import DecisionRule, Quorum
from agora.tenancy.isolation import StandaloneStatement, bind_tenant, tenant_scope
from agora.tenancy.models import Tenant
from support.assembly import build_edition
from support.fixtures import Database
from support.server import serve

pytestmark = pytest.mark.embedded  # see tests/conftest.py

VOTERS = 300
RULE = DecisionRule("action_plan", "qualified_majority", Fraction(2, 3), Quorum(), (), 30, False)


def _prepare(app: Flask, voters: int = VOTERS) -> tuple[int, list[str]]:
    """An open ballot in Poitiers' plenary and the voting codes of the people checked in."""
    edition = build_edition(app)
    with app.app_context():
        tenant = db.session.get(Tenant, edition.tenant_id)
        assert tenant is not None
        with tenant_scope(db.session, tenant.id):
            row = db.session.get(AssemblySession, (tenant.id, edition.session_id))
            body = db.session.get(Body, (tenant.id, edition.ids["plenary"]))
            assert row is not None and body is not None
            codes = [
                sessions.check_in_walk_in(db.session, tenant, row, f"P{i}", "test")[1]
                for i in range(voters)
            ]
            ballot = ballots.open_ballot(db.session, tenant, RULE, row, body, "Plan ?", [], "test")
            ballot_id = ballot.id
        db.session.commit()
    return ballot_id, codes


def _post(base: str, path: str, form: dict[str, str]) -> int:
    parts = urlsplit(base)
    connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port, timeout=60)
    try:
        body = urlencode(form)
        connection.request(
            "POST",
            path,
            body=body,
            headers={
                "Host": "poitiers.localhost",
                "Content-Type": "application/x-www-form-urlencoded",
            },
        )
        return connection.getresponse().status
    finally:
        connection.close()


def test_300_concurrent_voters_are_each_counted_once(
    postgresql_database: Database, onboarded: Path, app: Flask
) -> None:
    ballot_id, codes = _prepare(app)
    choices = ["for"] * 201 + ["against"] * 90 + ["abstain"] * 9
    served = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": postgresql_database.app_url,
            "WTF_CSRF_ENABLED": False,
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 20, "max_overflow": 10},
        }
    )
    start = threading.Barrier(50)

    def vote(index: int) -> tuple[int, int]:
        if index < 50:
            start.wait()  # the first wave leaves together
        form = {"code": codes[index], "choice": choices[index]}
        # Each voter also tries a second vote at once: exactly one of the two may count.
        with ThreadPoolExecutor(2) as twice:
            first, second = twice.map(
                lambda _: _post(base, f"/ballots/{ballot_id}/vote", form), range(2)
            )
        return first, second

    with serve(served) as base, ThreadPoolExecutor(50) as pool:
        results = list(pool.map(vote, range(VOTERS)))
    statuses = Counter(status for pair in results for status in pair)
    assert statuses == {303: VOTERS, 409: VOTERS}, statuses

    with served.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            stored = (
                db.session.execute(select(Vote.payload).where(Vote.ballot_id == ballot_id))
                .scalars()
                .all()
            )
            voters = db.session.execute(
                select(func.count())
                .select_from(BallotVoter)
                .where(BallotVoter.ballot_id == ballot_id)
            ).scalar_one()
            ballot = db.session.get(Ballot, (tenant.id, ballot_id))
            body = db.session.get(Body, (tenant.id, ballot.body_id)) if ballot else None
            assert ballot is not None and body is not None
            ballots.close(db.session, tenant, ballot, body, RULE, "test")
            tally = ballot.result["tally"] if ballot.result else {}
        # Give the connection back before closing the pool, or it would be left open.
        db.session.remove()
        db.engine.dispose()
    assert len(stored) == VOTERS and voters == VOTERS
    assert Counter(payload["choice"] for payload in stored) == Counter(choices)
    assert tally["totals"]["counts"] == {"for": 201, "against": 90, "abstain": 9}


def _in_thread(app: Flask, work: Callable[[], object]) -> tuple[threading.Thread, list[object]]:
    """Run ``work`` in its own app context (so its own session and connection)."""
    outcome: list[object] = []

    def run() -> None:
        with app.app_context():
            try:
                outcome.append(work())
                db.session.commit()
            except Exception as error:
                db.session.rollback()
                outcome.append(error)
            finally:
                db.session.remove()

    thread = threading.Thread(target=run)
    thread.start()
    return thread, outcome


def _ballot_and_body(tenant: Tenant, ballot_id: int) -> tuple[Ballot, Body]:
    ballot = db.session.get(Ballot, (tenant.id, ballot_id))
    assert ballot is not None
    body = db.session.get(Body, (tenant.id, ballot.body_id))
    assert body is not None
    return ballot, body


def _tenant() -> Tenant:
    return db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()


def _close(ballot_id: int) -> int:
    """Close the ballot; its turnout."""
    tenant = _tenant()
    bind_tenant(db.session, tenant.id)
    ballot, body = _ballot_and_body(tenant, ballot_id)
    ballots.close(db.session, tenant, ballot, body, RULE, "test")
    return int(ballot.result["tally"]["turnout"]) if ballot.result else -1


def _vote(ballot_id: int, code: str) -> None:
    tenant = _tenant()
    bind_tenant(db.session, tenant.id)
    shape = casting.shape_of(db.session, tenant.id, ballot_id)
    assert shape is not None
    casting.cast(db.session, shape, {"choice": "for"}, code=code)


def _stored_votes(ballot_id: int) -> int:
    bind_tenant(db.session, _tenant().id)
    return db.session.execute(
        select(func.count()).select_from(Vote).where(Vote.ballot_id == ballot_id)
    ).scalar_one()


def test_closing_waits_for_the_vote_being_cast_and_counts_it(
    postgresql_database: Database, onboarded: Path, app: Flask
) -> None:
    ballot_id, codes = _prepare(app, voters=1)
    with app.app_context():
        _vote(ballot_id, codes[0])  # cast, not yet committed
        closer, turnout = _in_thread(app, lambda: _close(ballot_id))
        time.sleep(0.5)
        assert closer.is_alive(), "the ballot closed under a vote being cast"
        db.session.commit()
        closer.join(timeout=30)
        assert turnout == [1]
        assert _stored_votes(ballot_id) == 1
        db.session.remove()
        db.engine.dispose()


def test_a_vote_arriving_while_the_ballot_closes_is_refused_and_not_stored(
    postgresql_database: Database, onboarded: Path, app: Flask
) -> None:
    ballot_id, codes = _prepare(app, voters=1)
    with app.app_context():
        assert _close(ballot_id) == 0  # closing, not yet committed
        voter, outcome = _in_thread(app, lambda: _vote(ballot_id, codes[0]))
        time.sleep(0.5)
        assert voter.is_alive(), "the vote did not wait for the ballot being closed"
        db.session.commit()
        voter.join(timeout=30)
        assert len(outcome) == 1 and isinstance(outcome[0], Conflict)
        assert "ce scrutin est clos" in str(outcome[0])
        assert _stored_votes(ballot_id) == 0
        db.session.remove()
        db.engine.dispose()


def test_a_vote_on_its_own_is_one_round_trip_that_leaves_its_connection_as_it_found_it(
    postgresql_database: Database, onboarded: Path, app: Flask, monkeypatch: MonkeyPatch
) -> None:
    """A code holder's vote, with nothing else in progress, is a transaction of its own sent
    in one round trip (binding, statement, implicit commit). It is stored under row-level
    security (the app role cannot see rows without the binding); a second one is refused
    with nothing stored; and the pooled connection comes back with no commune bound, out of
    autocommit."""
    ballot_id, codes = _prepare(app, voters=2)
    alone = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": postgresql_database.app_url,
            # One connection: the one the vote used is the one inspected afterwards.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_size": 1, "max_overflow": 0},
        }
    )
    sent: list[int] = []
    first = StandaloneStatement.first

    def spied(self: StandaloneStatement, engine: Any, tenant_id: int, params: Any) -> Any:
        sent.append(tenant_id)
        return first(self, engine, tenant_id, params)

    monkeypatch.setattr(StandaloneStatement, "first", spied)
    with alone.app_context():
        tenant_id = _tenant().id
        bind_tenant(db.session, tenant_id)
        shape = casting.shape_of(db.session, tenant_id, ballot_id)
        assert shape is not None
        db.session.commit()  # nothing in progress, as for a code holder over HTTP
        casting.cast(db.session, shape, {"choice": "against"}, code=codes[0], commit=True)
        with pytest.raises(Conflict, match="vous avez déjà voté"):
            casting.cast(db.session, shape, {"choice": "for"}, code=codes[0], commit=True)
        db.session.rollback()
        with db.engine.connect() as connection:
            setting = connection.exec_driver_sql(
                "SELECT current_setting('app.tenant_id', true)"
            ).scalar()
            assert setting in ("", None)
            assert connection.connection.driver_connection.autocommit is False  # type: ignore[union-attr]
        bind_tenant(db.session, tenant_id)
        stored = db.session.execute(select(Vote.payload).where(Vote.ballot_id == ballot_id))
        assert [row.payload for row in stored] == [{"choice": "against"}]
        db.session.remove()
        db.engine.dispose()
    assert sent == [tenant_id, tenant_id]

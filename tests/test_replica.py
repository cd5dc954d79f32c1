"""Reads from a replica (``AGORA_DATABASE_REPLICA_URL``): anonymous public pages read from
it, a person reads their own writes from the primary. The replica here is a second URL to
the same database, told apart by the statements each engine sends (the fault tests'
stack runs a real streaming replica)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event

from agora import create_app
from agora.draws import beacons
from agora.extensions import db
from agora.replica import PRIMARY_COOKIE
from support.fixtures import Database, SignIn
from support.voters import open_voting

POITIERS = {"Host": "poitiers.localhost"}


@pytest.fixture
def replica_app(database: Database, tmp_path: Path, tenant_files: Path) -> Iterator[Flask]:
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database.app_url,
            "AGORA_DATABASE_REPLICA_URL": database.app_url,
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "AGORA_REDIS_URL": None,
            "WTF_CSRF_ENABLED": False,
            "AGORA_DRAND_BEACONS": str(beacons.RECORDED),
            "AGORA_UPLOAD_DIR": str(tmp_path / "uploads"),
            "AGORA_PUBLIC_PORT": "",
        }
    )
    result = app.test_cli_runner().invoke(args=["tenants", "apply", str(tenant_files)])
    assert result.exit_code == 0, result.output
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()
    database.wipe()


class Statements:
    """The statements each engine sends, from now on."""

    def __init__(self, app: Flask) -> None:
        self.sent: dict[str, list[str]] = {"primary": [], "replica": []}
        with app.app_context():
            for name, engine in (("primary", db.engines[None]), ("replica", db.engines["replica"])):
                event.listen(engine, "before_cursor_execute", self._recorder(name))

    def _recorder(self, name: str) -> Any:
        def record(connection: Any, cursor: Any, statement: str, *args: Any) -> None:
            self.sent[name].append(statement)

        return record

    def clear(self) -> None:
        for sent in self.sent.values():
            sent.clear()


def test_an_anonymous_public_page_reads_from_the_replica(replica_app: Flask) -> None:
    sent = Statements(replica_app)
    response = replica_app.test_client().get("/", headers=POITIERS)
    # The commune's rules are tenant rows: read at all, they were read under its binding.
    assert "Assemblée Citoyenne et Populaire" in response.get_data(as_text=True)
    assert sent.sent["replica"] and not sent.sent["primary"]
    assert PRIMARY_COOKIE not in response.headers.get("Set-Cookie", "")


def test_a_signed_in_person_reads_from_the_primary(replica_app: Flask) -> None:
    client = replica_app.test_client()
    SignIn(replica_app)(client, "poitiers.localhost", "agent@poitiers.example")
    sent = Statements(replica_app)
    assert client.get("/", headers=POITIERS).status_code == 200
    assert sent.sent["primary"] and not sent.sent["replica"]


def test_a_voter_reads_their_vote_from_the_primary(replica_app: Flask) -> None:
    voting = open_voting(replica_app, voters=1, ballots=1)
    [code] = voting.codes
    client = replica_app.test_client()
    sent = Statements(replica_app)
    ballot = voting.ballot_ids[0]
    response = client.post(
        f"/ballots/{ballot}/vote", data={"code": code, "choice": "for"}, headers=POITIERS
    )
    assert response.status_code == 303
    assert f"{PRIMARY_COOKIE}=1" in response.headers["Set-Cookie"]
    assert not sent.sent["replica"]
    # The confirmation, and every page for a while, come from the primary: the vote is there.
    confirmation = client.get(response.headers["Location"], headers=POITIERS)
    assert confirmation.status_code == 200
    assert not sent.sent["replica"]
    # Once the marker has expired, this person is anonymous again.
    client.delete_cookie(PRIMARY_COOKIE, domain="poitiers.localhost")
    sent.clear()
    assert client.get(f"/ballots/{ballot}", headers=POITIERS).status_code == 200
    assert sent.sent["replica"] and not sent.sent["primary"]


def test_without_a_replica_nothing_changes(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    with app.app_context():
        assert set(db.engines) == {None}
    voting = open_voting(app, voters=1, ballots=1)
    [code] = voting.codes
    response = client.post(
        f"/ballots/{voting.ballot_ids[0]}/vote",
        data={"code": code, "choice": "for"},
        headers=POITIERS,
    )
    assert response.status_code == 303
    assert "Set-Cookie" not in response.headers

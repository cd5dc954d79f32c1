"""The database away, or a connection dropped under a request: the person reads « réessayez
dans un instant » with a 503 and Retry-After, never a 500 or a trace; nothing is written
twice or half; and the next request, once the database answers, is served as usual."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, func, select, text
from sqlalchemy.engine import make_url

from agora.assembly.models import Vote
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from support.assembly import build_edition
from support.fixtures import APP_ROLE, PG_ADMIN_URL, Database, SignIn, json_of
from support.outages import database_unreachable
from support.pages import page_text

POITIERS = {"Host": "poitiers.localhost"}
FRENCH = "Le service est momentanément indisponible, réessayez dans un instant."


def _unavailable(response: Any) -> str:
    assert response.status_code == 503
    assert response.headers["Retry-After"] == "5"
    text = page_text(response)
    assert "Traceback" not in text and "psycopg" not in text and "sqlite" not in text
    return text


def test_a_page_while_the_database_is_unreachable_says_try_again(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    assert client.get("/", headers=POITIERS).status_code == 200
    with database_unreachable(app):
        page = _unavailable(client.get("/", headers=POITIERS))
        assert FRENCH in page and "Recharger la page" in page  # a way to try again
        assert FRENCH in _unavailable(
            client.get("/petitions", headers={"Host": "grenoble.localhost"})
        )
        english = _unavailable(client.get("/?lang=en", headers=POITIERS))
        assert "The service is momentarily unavailable, try again in a moment." in english
        answer = client.get("/", headers={**POITIERS, "Accept": "application/json"})
        assert answer.status_code == 503 and answer.headers["Retry-After"] == "5"
        assert json_of(answer)["error"] == "unavailable"
    # The pool recovers by itself: no restart, no operator.
    assert client.get("/", headers=POITIERS).status_code == 200


def _walk_in(client: FlaskClient, session_id: int) -> str:
    response = client.post(
        f"/admin/sessions/{session_id}/check-ins", data={"name": "Habitante"}, headers=POITIERS
    )
    page = client.get(response.headers["Location"], headers=POITIERS).get_data(as_text=True)
    found = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', page)
    assert found, page
    return found.group(1)


def _open_ballot(client: FlaskClient, session_id: int, subject_ids: list[int]) -> int:
    response = client.post(
        f"/admin/sessions/{session_id}/ballots",
        data={
            "question": "Quel sujet ?",
            "decision": "subject_choice",
            "subject_ids": [str(i) for i in subject_ids],
        },
        headers=POITIERS,
    )
    assert response.status_code == 302, page_text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _votes(app: Flask, tenant_id: int, ballot_id: int) -> int:
    with app.app_context(), tenant_scope(db.session, tenant_id):
        return db.session.execute(
            select(func.count()).select_from(Vote).where(Vote.ballot_id == ballot_id)
        ).scalar_one()


def _terminate_the_apps_connections(database: Database) -> int:
    assert PG_ADMIN_URL is not None
    name = make_url(database.app_url).database
    admin = create_engine(make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg"))
    with admin.begin() as connection:
        ended = connection.execute(
            text(
                "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity"
                " WHERE datname = :name AND usename = :role"
            ),
            {"name": name, "role": APP_ROLE},
        ).scalar_one()
    admin.dispose()
    return int(ended)


def test_a_vote_on_a_dropped_connection_is_refused_whole_then_counted_once(
    postgresql_database: Database,
    app: Flask,
    client: FlaskClient,
    onboarded: Path,
    sign_in: SignIn,
) -> None:
    sign_in(
        client, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    edition = build_edition(app)
    code = _walk_in(client, edition.session_id)
    ballot = _open_ballot(client, edition.session_id, edition.subject_ids)
    page = client.get(f"/ballots/{ballot}", headers=POITIERS).get_data(as_text=True)
    first, second = re.findall(r'name="grade-(\d+)"', page)[::6]
    vote = {"code": code, f"grade-{first}": "5", f"grade-{second}": "1"}
    voter = app.test_client(use_cookies=False)

    # PostgreSQL restarted under the app: every connection in its pool is cut.
    assert _terminate_the_apps_connections(postgresql_database) >= 1
    assert FRENCH in _unavailable(
        voter.post(f"/ballots/{ballot}/vote", data=vote, headers=POITIERS)
    )
    assert _votes(app, edition.tenant_id, ballot) == 0
    # The person tries again: the pool has reconnected, the vote counts once.
    assert voter.post(f"/ballots/{ballot}/vote", data=vote, headers=POITIERS).status_code == 303
    assert _votes(app, edition.tenant_id, ballot) == 1

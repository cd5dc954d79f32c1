"""Public pages kept in memory for anonymous visitors (``shared/page_cache.py``): read again,
a page costs one query; an act the public journal records shows at once, a hall checking in
(private acts) redraws nothing; a signed-in person, a chosen language and another commune
always get their own page."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from agora.assembly import sessions
from agora.assembly.models import AssemblySession, AssemblySessionStatus
from agora.audit.services import record
from agora.extensions import db
from agora.shared.page_cache import PageCache
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import SignIn
from support.pages import page_text
from support.voters import open_voting

pytestmark = pytest.mark.app_config(AGORA_PUBLIC_PAGE_CACHE_SECONDS=60)

POITIERS = {"Host": "poitiers.localhost"}
GRENOBLE = {"Host": "grenoble.localhost"}


@contextmanager
def statements(app: Flask) -> Iterator[list[str]]:
    """The SQL statements the app sends meanwhile."""
    sent: list[str] = []

    def count(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        sent.append(statement)

    with app.app_context():
        engine = db.engine
    event.listen(engine, "before_cursor_execute", count)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", count)


def test_a_page_read_again_costs_one_query(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    for path in ("/", "/rules", "/journal", "/charter"):
        with statements(app) as first:
            drawn = client.get(path, headers=POITIERS)
        with statements(app) as again:
            kept = client.get(path, headers=POITIERS)
        assert drawn.status_code == kept.status_code == 200, path
        assert kept.get_data() == drawn.get_data(), path
        # The journal's last event (after binding the commune on PostgreSQL), nothing else.
        queries = [sql for sql in again if "set_config" not in sql]
        assert len(queries) == 1 < len(first), (path, again)
        assert "audit_event" in queries[0]
        assert "Set-Cookie" not in kept.headers
        assert kept.headers["X-Content-Type-Options"] == "nosniff"  # headers still added


def test_an_act_the_journal_records_shows_at_once(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    before = page_text(client.get("/journal", headers=POITIERS))
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            record(
                db.session,
                tenant,
                actor="test",
                action="config.version_created",
                object_type="tenant_config_version",
                object_id=99,
                public=True,
            )
            db.session.commit()
    after = page_text(client.get("/journal", headers=POITIERS))
    assert after != before
    assert (
        after.count("Nouvelle version des règles")
        == before.count("Nouvelle version des règles") + 1
    )


def test_signed_in_people_languages_and_communes_get_their_own_page(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    assert "Se déconnecter" not in page_text(client.get("/", headers=POITIERS))  # kept
    member = app.test_client()
    sign_in(member, "poitiers.localhost", "elu@example.org", role="elected")
    assert "Se déconnecter" in page_text(member.get("/", headers=POITIERS))
    assert "Grenoble" in page_text(client.get("/", headers=GRENOBLE))
    english = app.test_client()
    assert "Sign out" not in page_text(english.get("/rules?lang=en", headers=POITIERS))
    assert "Rules" in page_text(english.get("/rules", headers=POITIERS))
    assert "Règles" in page_text(app.test_client().get("/rules", headers=POITIERS))


def test_a_hall_checking_in_does_not_redraw_the_pages_a_public_act_does(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    voting = open_voting(app, voters=1, ballots=0)
    with app.app_context(), tenant_scope(db.session, voting.tenant_id):
        row = db.session.execute(
            select(AssemblySession).where(AssemblySession.tenant_id == voting.tenant_id)
        ).scalar_one()
        presence = f"/sessions/{row.id}/presence"
    drawn = client.get(presence, headers=POITIERS)
    assert drawn.status_code == 200 and "Set-Cookie" not in drawn.headers
    with app.app_context(), tenant_scope(db.session, voting.tenant_id):
        tenant = db.session.get(Tenant, voting.tenant_id)
        session_row = db.session.get(AssemblySession, (voting.tenant_id, row.id))
        assert tenant is not None and session_row is not None
        sessions.check_in_walk_in(db.session, tenant, session_row, "Nouvelle arrivée", "desk")
        db.session.commit()  # a private act of the chain: not in the public journal
    for path in (presence, "/", "/journal"):
        client.get(path, headers=POITIERS)
        with statements(app) as again:
            assert client.get(path, headers=POITIERS).status_code == 200
        assert len([sql for sql in again if "set_config" not in sql]) == 1, path
    with app.app_context(), tenant_scope(db.session, voting.tenant_id):
        tenant = db.session.get(Tenant, voting.tenant_id)
        session_row = db.session.get(AssemblySession, (voting.tenant_id, row.id))
        assert tenant is not None and session_row is not None
        sessions.set_status(db.session, tenant, session_row, AssemblySessionStatus.CLOSED, "t")
        db.session.commit()  # public: the journal says the session closed
    with statements(app) as after:
        journal = client.get("/journal", headers=POITIERS)
    assert len([sql for sql in after if "set_config" not in sql]) > 1
    assert "Séance de l’assemblée : close" in page_text(journal)


def test_threads_asking_a_page_being_drawn_wait_for_it_instead_of_drawing_it_again() -> None:
    cache = PageCache(seconds=60)
    key = (1, "/ballots/7?", "fr", 42)
    found, drawing = cache.get(key)
    assert found is None and drawing  # the first one draws
    answers: list[tuple[tuple[bytes, str] | None, bool]] = []
    waiting = [threading.Thread(target=lambda: answers.append(cache.get(key))) for _ in range(3)]
    for thread in waiting:
        thread.start()
    time.sleep(0.1)
    assert answers == []  # still waiting for the page
    cache.put(key, b"<p>Adopted</p>", "text/html")
    cache.release(key)
    for thread in waiting:
        thread.join(timeout=5)
    assert answers == [((b"<p>Adopted</p>", "text/html"), False)] * 3
    # A page that could not be kept (an error): the others draw their own, none hangs.
    other = (1, "/ballots/8?", "fr", 42)
    assert cache.get(other) == (None, True)
    late: list[tuple[tuple[bytes, str] | None, bool]] = []
    thread = threading.Thread(target=lambda: late.append(cache.get(other)))
    thread.start()
    cache.release(other)
    thread.join(timeout=5)
    assert late == [(None, False)]

"""Public pages kept in memory for anonymous visitors (``shared/page_cache.py``): read again,
a page costs one query; an act the public journal records shows at once, a hall checking in
(private acts) redraws nothing; a signed-in person, a chosen language and another commune
always get their own page."""

from __future__ import annotations

import threading
import time
import tomllib
import weakref
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from flask import Flask
from flask.testing import FlaskClient
from redis import Redis
from sqlalchemy import select

from agora import create_app
from agora.assembly import sessions
from agora.assembly.models import AssemblySession, AssemblySessionStatus
from agora.audit.services import record
from agora.extensions import db
from agora.shared.page_cache import PageCache, SharedPages
from agora.tenancy import hostcache
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import REDIS_URL, Database, SignIn
from support.pages import page_text
from support.statements import statements
from support.voters import open_voting

pytestmark = pytest.mark.app_config(AGORA_PUBLIC_PAGE_CACHE_SECONDS=60)
needs_redis = pytest.mark.skipif(
    REDIS_URL is None, reason="needs AGORA_TEST_REDIS_URL; .ci/run sets it"
)
CLOSED_REDIS = "redis://127.0.0.1:18199/0"

POITIERS = {"Host": "poitiers.localhost"}
GRENOBLE = {"Host": "grenoble.localhost"}


def test_a_page_read_again_costs_one_query(
    app: Flask, client: FlaskClient, onboarded: Path, database: Database
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
        if database.is_postgresql:  # with the binding, in one round trip: no BEGIN, no binding
            assert again == queries, (path, again)
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


def test_new_rules_another_process_published_show_on_the_next_page(
    app: Flask, client: FlaskClient, runner: Any, onboarded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """This process keeps the commune and its rules with its host for a while; rules another
    process publishes (a public act) still show on the next page, not after that while."""
    assert "Assemblée Citoyenne et Populaire" in page_text(client.get("/", headers=POITIERS))
    path = onboarded / "poitiers.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["assembly"]["name"] = "Assemblée citoyenne de Poitiers"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    with monkeypatch.context() as elsewhere:
        # Published as by another process: this one's caches are not told.
        elsewhere.setattr(hostcache, "_caches", weakref.WeakSet())
        assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    assert "Assemblée citoyenne de Poitiers" in page_text(client.get("/", headers=POITIERS))


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


AnotherProcess = Callable[[str], Flask]


@pytest.fixture
def another_process(app: Flask) -> Iterator[AnotherProcess]:
    """The same application as ``app`` built again, as another worker (or node) would: its
    own memory, the same database, and Redis at the URL given."""
    built: list[Flask] = []

    def build(redis_url: str) -> Flask:
        built.append(_rebuilt(app, redis_url))
        return built[-1]

    yield build
    for process in built:
        with process.app_context():
            db.engine.dispose()


def _rebuilt(app: Flask, redis_url: str) -> Flask:
    return create_app(
        {
            **{
                name: app.config[name]
                for name in (
                    "SQLALCHEMY_DATABASE_URI",
                    "TESTING",
                    "SECRET_KEY",
                    "AGORA_PUBLIC_PORT",
                    "AGORA_PUBLIC_PAGE_CACHE_SECONDS",
                )
            },
            "AGORA_REDIS_URL": redis_url,
        }
    )


@needs_redis
def test_a_page_one_process_drew_is_served_by_the_others_from_redis(
    another_process: AnotherProcess, onboarded: Path
) -> None:
    assert REDIS_URL is not None
    Redis.from_url(REDIS_URL).flushdb()
    first, second = another_process(REDIS_URL), another_process(REDIS_URL)
    drawn = first.test_client().get("/rules", headers=POITIERS)
    second.test_client().get("/charter", headers=POITIERS)  # its first look at the commune
    with statements(second) as sent:
        kept = second.test_client().get("/rules", headers=POITIERS)
    assert drawn.status_code == kept.status_code == 200
    assert kept.get_data() == drawn.get_data()
    # The public journal's head, to make the key; the page itself came from Redis.
    assert len([sql for sql in sent if "set_config" not in sql]) == 1
    # Another commune, or an act of the journal, is another key: drawn again.
    with statements(second) as sent:
        grenoble = second.test_client().get("/rules", headers=GRENOBLE)
    assert grenoble.status_code == 200 and grenoble.get_data() != drawn.get_data()
    assert len([sql for sql in sent if "set_config" not in sql]) > 1


@needs_redis
def test_redis_keeps_a_page_no_longer_than_the_cache_seconds() -> None:
    assert REDIS_URL is not None
    Redis.from_url(REDIS_URL).flushdb()
    shared = SharedPages(REDIS_URL, seconds=1)
    key = (1, "/rules?", "fr", 42)
    shared.put(key, b"<p>Rules</p>", "text/html; charset=utf-8")
    kept = shared.get(key)
    assert kept is not None
    body, content_type, left = kept
    assert (body, content_type) == (b"<p>Rules</p>", "text/html; charset=utf-8")
    assert 0.5 < left <= 1  # what the reading process keeps it in memory for, at most
    local = PageCache(seconds=60)
    local.put(key, body, content_type, left)
    time.sleep(1.1)
    assert shared.get(key) is None
    assert local.get(key) == (None, True)  # expired in memory too: drawn again
    shared.client.set(shared._name(key), b"not a page")  # another version's, or damaged
    assert shared.get(key) is None  # drawn again, not a server error


def test_pages_are_drawn_when_redis_is_away(
    another_process: AnotherProcess, onboarded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    away = another_process(CLOSED_REDIS)
    shared: SharedPages = away.extensions["agora_shared_pages"]
    attempts: list[str] = []
    reach = shared.client.get

    def counted(name: str) -> object:
        attempts.append(name)
        return reach(name)

    monkeypatch.setattr(shared.client, "get", counted)
    client = away.test_client()
    for path in ("/rules", "/journal", "/charter"):
        page = client.get(path, headers=POITIERS)
        assert page.status_code == 200, path
    # Tried once, then left alone for a while: no page waits for a Redis that is gone.
    assert len(attempts) == 1
    again = client.get("/rules", headers=POITIERS)  # in this process's memory still
    assert again.status_code == 200

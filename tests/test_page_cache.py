"""Public pages kept in memory for anonymous visitors (``shared/page_cache.py``): read again,
a page costs one query; an act the journal records shows at once; a signed-in person, a
chosen language and another commune always get their own page."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import event, select

from agora.audit.services import record
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import SignIn
from support.pages import page_text

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

"""What a visitor sees: French first, English on request, safe headers, clean errors."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agora.audit import services as audit
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.web import SECURITY_HEADERS
from support.fixtures import SignIn
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py

POITIERS = {"Host": "poitiers.localhost"}


def test_poitiers_home_shows_its_rules_in_french(client: FlaskClient, onboarded: Path) -> None:
    page = client.get("/", headers=POITIERS).get_data(as_text=True)
    assert '<html lang="fr">' in page
    assert "Assemblée Citoyenne et Populaire" in page
    assert "Groupe de proposition" in page and "Comité de méthodologie" in page
    assert "Aller au contenu" in page
    assert "jugement majoritaire" in page
    assert "porte-à-porte" in page  # the address-file draw source answers for Poitiers


def test_the_contrasting_commune_shows_its_own_rules(client: FlaskClient, onboarded: Path) -> None:
    page = client.get("/", headers={"Host": "grenoble.localhost"}).get_data(as_text=True)
    assert "Convention citoyenne" in page
    assert "liste électorale" in page
    assert "Groupe de proposition" not in page
    assert "vote par approbation" in page


def test_english_on_request(client: FlaskClient, onboarded: Path) -> None:
    page = client.get("/?lang=en", headers=POITIERS).get_data(as_text=True)
    assert '<html lang="en">' in page
    assert "Skip to content" in page and "Who sits where" in page
    # The choice sticks for the next page.
    assert "Public journal" in client.get("/journal", headers=POITIERS).get_data(as_text=True)


def test_console_lists_the_staff_members_communes(
    client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "localhost", "staff@cooperative.example", staff_of=("poitiers", "grenoble"))
    page = client.get("/", headers={"Host": "localhost"}).get_data(as_text=True)
    assert "Poitiers" in page and "Grenoble" in page
    # Each status is a tag of its own.
    assert re.search(r">\s*active\s*<", page) and re.search(
        r">\s*en cours d'installation\s*<", page
    )
    assert 'href="http://poitiers.localhost/"' in page


def test_staff_see_only_their_communes(
    client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "localhost", "staff@cooperative.example", staff_of=("grenoble",))
    page = client.get("/", headers={"Host": "localhost"}).get_data(as_text=True)
    assert "Grenoble" in page and "Poitiers" not in page


def test_console_needs_sign_in(client: FlaskClient, onboarded: Path) -> None:
    response = client.get("/", headers={"Host": "localhost"})
    assert response.status_code == 302
    assert response.headers["Location"].startswith("/login")


@pytest.mark.parametrize(
    "host,path",
    [
        ("poitiers.localhost", "/"),
        ("localhost", "/"),
        ("poitiers.localhost", "/nope"),
        ("evil.example", "/"),
    ],
)
def test_every_response_carries_the_security_headers(
    client: FlaskClient, onboarded: Path, host: str, path: str
) -> None:
    response = client.get(path, headers={"Host": host})
    for name, value in SECURITY_HEADERS.items():
        assert response.headers.get(name) == value, name


def test_unexpected_error_shows_no_stack_trace(
    app: Flask, client: FlaskClient, onboarded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from agora.identity import policy

    def explode() -> str:
        raise RuntimeError("secret internal detail")

    app.add_url_rule("/explode", "explode", explode)
    monkeypatch.setitem(policy.ROUTE_ACTIONS, "explode", policy.RouteRule("public.read", "any"))
    response = client.get("/explode", headers=POITIERS)
    body = response.get_data(as_text=True)
    assert response.status_code == 500
    assert "Erreur interne" in body
    assert "secret internal detail" not in body and "Traceback" not in body


def test_journal_is_paginated(app: Flask, client: FlaskClient, onboarded: Path) -> None:
    app.config["AGORA_PAGE_SIZE"] = 10
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            for number in range(23):
                audit.record(
                    db.session,
                    tenant,
                    actor="test",
                    action="config.version_created",
                    object_type="thing",
                    object_id=number,
                    public=True,
                )
        db.session.commit()
    first = client.get("/journal", headers=POITIERS).get_data(as_text=True)
    assert "Page 1 sur 3" in first
    assert first.count('href="/journal/') == 10
    last = client.get("/journal?page=3", headers=POITIERS).get_data(as_text=True)
    assert last.count('href="/journal/') == 5
    assert client.get("/journal?page=4", headers=POITIERS).status_code == 404
    assert client.get("/journal?page=0", headers=POITIERS).status_code == 404


def test_private_audit_events_stay_off_the_public_journal(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            event = audit.record(
                db.session,
                tenant,
                actor="test",
                action="person.read",
                object_type="person",
                object_id=1,
            )
            seq = event.seq
        db.session.commit()
    assert client.get(f"/journal/{seq}", headers=POITIERS).status_code == 404


def test_rules_history_shows_the_version_in_force(client: FlaskClient, onboarded: Path) -> None:
    page = client.get("/rules", headers=POITIERS).get_data(as_text=True)
    assert "Version 1" in page and "en vigueur" in page
    version = client.get("/rules/versions/1", headers=POITIERS)
    text = page_text(version)
    # Readable French, no TOML: thresholds in words, origins and methods labelled.
    assert "Plan d'action : majorité qualifiée (deux tiers des suffrages exprimés)." in text
    assert "100 habitant·es tiré·es au sort (tiré·es au sort sur la liste de référence)" in text
    assert "threshold" not in text and "majority_judgment" not in text
    exported = client.get("/rules/versions/1.toml", headers=POITIERS)
    assert 'threshold = "2/3"' in exported.get_data(as_text=True)


def test_each_rules_version_says_what_changed_since_the_previous_one(
    client: FlaskClient, runner: Any, onboarded: Path
) -> None:
    poitiers = onboarded / "poitiers.toml"
    poitiers.write_text(
        poitiers.read_text().replace('threshold = "2/3"', 'threshold = "3/5"'), encoding="utf-8"
    )
    assert runner.invoke(args=["tenants", "apply", str(onboarded)]).exit_code == 0
    text = page_text(client.get("/rules/versions/2", headers=POITIERS))
    assert "Ce qui a changé depuis la version 1" in text
    assert "Retiré :" in text and "Ajouté :" in text
    assert "deux tiers des suffrages exprimés" in text and "trois cinquièmes" in text


def test_french_catalog_is_complete() -> None:
    from babel.messages.pofile import read_po

    path = Path(__file__).resolve().parents[1] / "platform/agora/translations/fr/LC_MESSAGES"
    with (path / "messages.po").open("rb") as stream:
        catalog = read_po(stream)
    untranslated = [
        message.id
        for message in catalog
        if message.id
        and (
            message.fuzzy
            or not all(message.string if isinstance(message.string, tuple) else [message.string])
        )
    ]
    assert not untranslated, f"translate these in French: {untranslated}"


def test_templates_compiled_before_the_workers_fork_are_not_compiled_again(
    app: Flask, client: FlaskClient, onboarded: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """gunicorn's workers inherit what ``agora.wsgi`` compiled: serving the commune's pages
    afterwards compiles no template (each worker compiled its own before, on its first
    requests, while a hall checked in)."""
    from agora.web import compile_templates

    assert compile_templates(app) == len(app.jinja_env.list_templates()) > 100
    compiled: list[str] = []
    original = app.jinja_env.compile

    def counting(source: Any, name: str | None = None, *args: Any, **kwargs: Any) -> Any:
        compiled.append(str(name))
        return original(source, name, *args, **kwargs)

    monkeypatch.setattr(app.jinja_env, "compile", counting)
    for path in ("/", "/rules", "/journal", "/charter", "/nowhere"):
        assert client.get(path, headers=POITIERS).status_code in (200, 404)
    assert compiled == []

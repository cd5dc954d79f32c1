"""What every answer promises beyond its page: a bounded request size with a French 413 and
nothing written, no cached copy of a person's pages, HSTS over HTTPS, links mailed from the
configured address whatever the Host header says, and only web addresses as published links."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly.forms import DeliberationForm
from agora.extensions import db
from agora.identity.models import Account, LoginToken
from support.fixtures import SignIn
from support.pages import page_text
from support.smtp import Inbox

POITIERS = {"Host": "poitiers.localhost"}


def _count(app: Flask, model: Any) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(model)) or 0


def test_a_request_over_the_limit_gets_a_french_413_and_writes_nothing(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    big = "a" * (app.config["MAX_CONTENT_LENGTH"] + 1) + "@example.fr"
    response = client.post("/login/magic", data={"email": big}, headers=POITIERS)
    assert response.status_code == 413
    text = page_text(response)
    assert "Envoi trop volumineux" in text and "rien n’a été enregistré" in text
    assert "Traceback" not in text
    assert _count(app, Account) == 0 and _count(app, LoginToken) == 0
    assert inbox.messages == []


def test_a_persons_pages_are_never_cached(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    public = client.get("/", headers=POITIERS)
    assert "no-store" not in public.headers.get("Cache-Control", "")
    sign_in(
        client,
        "poitiers.localhost",
        "admin@poitiers.example",
        role="commune_admin",
        commune="poitiers",
    )
    for path in ("/me/data", "/me/data.json", "/admin/members", "/"):
        response = client.get(path, headers=POITIERS)
        assert response.status_code == 200, path
        assert response.headers["Cache-Control"] == "no-store", path


def test_hsts_is_sent_when_cookies_are_secure(app: Flask, onboarded: Path) -> None:
    plain = app.test_client().get("/", headers=POITIERS)
    assert "Strict-Transport-Security" not in plain.headers
    app.config["SESSION_COOKIE_SECURE"] = True
    secure = app.test_client().get("/", headers=POITIERS, base_url="https://poitiers.localhost")
    assert secure.headers["Strict-Transport-Security"] == "max-age=31536000; includeSubDomains"


def test_the_mailed_link_ignores_the_requests_port_and_scheme(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    app.config.update(AGORA_PUBLIC_SCHEME="https", AGORA_PUBLIC_PORT="8443")
    client.post(
        "/login/magic",
        data={"email": "camille@example.fr"},
        headers={"Host": "poitiers.localhost:6666"},
    )
    [body] = inbox.bodies()
    links = re.findall(r"\S+/login/magic/\S+", body)
    assert links and all(
        link.startswith("https://poitiers.localhost:8443/login/magic/") for link in links
    ), body
    # The token is for the configured host: the request's is not where it works.
    path = links[0].split("8443", 1)[1].split("?", 1)[0]
    assert client.post(path, headers={"Host": "poitiers.localhost:6666"}).status_code == 410
    assert client.post(path, headers={"Host": "poitiers.localhost:8443"}).status_code == 302


@pytest.mark.parametrize(
    "address",
    ["javascript:alert(1)", "data:text/html,<b>x</b>", "//evil.example/acte", "ftp://a.fr/x"],
)
def test_the_act_link_of_a_deliberation_must_be_a_web_address(app: Flask, address: str) -> None:
    for value, errors in (
        (address, ["Saisissez une adresse qui commence par https:// (ou http://)."]),
        ("https://www.poitiers.fr/deliberations/2026-114.pdf", []),
    ):
        with app.test_request_context(method="POST", data={"act_url": value}, headers=POITIERS):
            form = DeliberationForm()
            form.validate()
            assert form.act_url.errors == errors, value

"""Sessions end for good: a copied session cookie stops working when its session is signed
out, when the person signs out everywhere, when a role of theirs is withdrawn and when they
erase their data; a second-factor code completes one sign-in only."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pyotp
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.extensions import db
from agora.identity.models import AccountSession, RoleGrant
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import SignIn
from support.smtp import Inbox

POITIERS = {"Host": "poitiers.localhost"}
CONSOLE = {"Host": "localhost"}
LINK = re.compile(r"http://[^/\s]+(/login/magic/[A-Za-z0-9_-]+)")


def _sign_in_by_link(client: FlaskClient, inbox: Inbox, email: str) -> None:
    client.post("/login/magic", data={"email": email}, headers=POITIERS)
    match = LINK.search(inbox.bodies()[-1])
    assert match
    assert client.post(match.group(1), headers=POITIERS).status_code == 302


def _copy_of(app: Flask, client: FlaskClient, host: str) -> FlaskClient:
    """Another browser holding a copy of ``client``'s session cookie on ``host``."""
    cookie = client.get_cookie("session", domain=host)
    assert cookie is not None
    thief = app.test_client()
    thief.set_cookie("session", cookie.value, domain=host)
    return thief


def _signed_in(client: FlaskClient, headers: dict[str, str]) -> bool:
    return client.get("/me/data", headers=headers).status_code == 200


def _open_sessions(app: Flask) -> int:
    with app.app_context():
        return db.session.scalar(select(func.count()).select_from(AccountSession)) or 0


def test_sign_out_ends_every_copy_of_the_session(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    _sign_in_by_link(client, inbox, "camille@example.fr")
    copy = _copy_of(app, client, "poitiers.localhost")
    assert _signed_in(copy, POITIERS)
    with app.app_context():
        stored = db.session.scalars(select(AccountSession.id_hash)).all()
    cookie = client.get_cookie("session", domain="poitiers.localhost")
    assert cookie is not None and len(stored) == 1 and stored[0] not in cookie.value
    assert client.post("/logout", headers=POITIERS).status_code == 302
    assert not _signed_in(client, POITIERS)
    assert not _signed_in(copy, POITIERS), "a copied cookie must not outlive the sign-out"
    assert _open_sessions(app) == 0


def test_signing_out_everywhere_asks_first_then_ends_every_session(
    app: Flask, onboarded: Path, inbox: Inbox
) -> None:
    phone, laptop = app.test_client(), app.test_client()
    _sign_in_by_link(phone, inbox, "dominique@example.fr")
    _sign_in_by_link(laptop, inbox, "dominique@example.fr")
    page = phone.get("/me/data", headers=POITIERS).get_data(as_text=True)
    assert "Votre session est ouverte sur 2 navigateurs." in page
    # A confirmation page first, which ends nothing.
    asked = phone.post("/me/sessions/end", data={}, headers=POITIERS)
    assert asked.status_code == 200 and "Se déconnecter partout" in asked.get_data(as_text=True)
    assert _signed_in(phone, POITIERS) and _signed_in(laptop, POITIERS)
    done = phone.post("/me/sessions/end", data={"confirmed": "yes"}, headers=POITIERS)
    assert done.status_code == 302
    home = phone.get(done.headers["Location"], headers=POITIERS).get_data(as_text=True)
    assert "Vos sessions sont fermées sur tous vos navigateurs." in home
    assert not _signed_in(phone, POITIERS) and not _signed_in(laptop, POITIERS)
    assert _open_sessions(app) == 0


def test_a_withdrawn_role_ends_the_holders_sessions(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox, sign_in: SignIn
) -> None:
    agent = app.test_client()
    _sign_in_by_link(agent, inbox, "agent@poitiers.example")
    copy = _copy_of(app, agent, "poitiers.localhost")
    sign_in(
        client,
        "poitiers.localhost",
        "admin@poitiers.example",
        role="commune_admin",
        commune="poitiers",
    )
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            grant = db.session.scalars(select(RoleGrant).order_by(RoleGrant.created_at)).first()
            assert grant is not None
            grant_id = grant.id
    revoked = client.post(
        f"/admin/members/{grant_id}/revoke", data={"confirmed": "yes"}, headers=POITIERS
    )
    assert revoked.status_code == 302
    assert not _signed_in(agent, POITIERS) and not _signed_in(copy, POITIERS)
    assert _signed_in(client, POITIERS), "only the holder's sessions end"


def test_erasure_ends_every_copy_of_the_session(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    _sign_in_by_link(client, inbox, "sacha@example.fr")
    copy = _copy_of(app, client, "poitiers.localhost")
    assert client.post("/me/erase", data={"confirmed": "yes"}, headers=POITIERS).status_code == 302
    assert not _signed_in(copy, POITIERS)
    assert _open_sessions(app) == 0


def test_a_second_factor_code_works_once(
    app: Flask, onboarded: Path, inbox: Inbox, runner: Any
) -> None:
    runner.invoke(args=["identity", "assign-staff", "claude@cooperative.example", "poitiers"])
    first, second = app.test_client(), app.test_client()
    secret = ""
    for browser in (first, second):
        browser.post("/login/magic", data={"email": "claude@cooperative.example"}, headers=CONSOLE)
        match = LINK.search(inbox.bodies()[-1])
        assert match
        assert browser.post(match.group(1), headers=CONSOLE).status_code == 302
        page = browser.get("/login/second-factor", headers=CONSOLE).get_data(as_text=True)
        grouped = re.search(r"<code>([A-Z2-7 ]+)</code>", page)
        secret = grouped.group(1).replace(" ", "") if grouped else secret
    code = pyotp.TOTP(secret).now()
    accepted = first.post("/login/second-factor", data={"code": code}, headers=CONSOLE)
    assert accepted.status_code == 302 and _signed_in(first, CONSOLE)
    replayed = second.post("/login/second-factor", data={"code": code}, headers=CONSOLE)
    assert replayed.status_code == 401 and not _signed_in(second, CONSOLE)
    assert "Ce code n" in replayed.get_data(as_text=True)

"""Signing in by magic link (mail through a real SMTP server), the staff second factor,
hand-offs between hosts, sessions, rate limits, and GDPR rights."""

from __future__ import annotations

import re
from datetime import timedelta
from pathlib import Path
from typing import Any

import pyotp
import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select, text, update

from agora.audit.services import verify_chain
from agora.db import utcnow
from agora.extensions import db
from agora.identity import crypto
from agora.identity.models import Account, LoginToken, RoleGrant
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import SignIn, json_of
from support.pages import page_text
from support.smtp import Inbox

pytestmark = pytest.mark.embedded  # see tests/conftest.py

POITIERS = {"Host": "poitiers.localhost"}
CONSOLE = {"Host": "localhost"}
LINK = re.compile(r"http://[^/\s]+(/login/magic/[A-Za-z0-9_-]+)\?next=(\S*)")


def _ask_link(
    client: FlaskClient, inbox: Inbox, email: str, headers: dict[str, str], next_path: str = ""
) -> str:
    before = len(inbox.messages)
    response = client.post(
        "/login/magic", data={"email": email, "next": next_path}, headers=headers
    )
    assert response.status_code == 200
    assert len(inbox.messages) == before + 1, "the link must go through SMTP"
    match = LINK.search(inbox.bodies()[-1])
    assert match, inbox.bodies()[-1]
    return match.group(1)


def _signed_in(client: FlaskClient, headers: dict[str, str]) -> bool:
    return client.get("/me/data", headers=headers).status_code == 200


def _tenant(app: Flask, slug: str) -> Tenant:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        db.session.expunge(tenant)
        return tenant


def test_resident_signs_in_with_a_magic_link(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    path = _ask_link(client, inbox, "Camille@Example.fr", POITIERS, next_path="/rules")
    assert inbox.messages[-1]["To"] == "Camille@Example.fr"
    # Opening the link (as a mail scanner would) signs nobody in.
    page = client.get(path, headers=POITIERS)
    assert page.status_code == 200 and '<form method="post"' in page.get_data(as_text=True)
    assert not _signed_in(client, POITIERS)
    response = client.post(path, data={"next": "/rules"}, headers=POITIERS)
    assert response.status_code == 302 and response.headers["Location"] == "/rules"
    assert _signed_in(client, POITIERS)
    data = json_of(client.get("/me/data.json", headers=POITIERS))
    assert data["account"]["email"] == "camille@example.fr"
    assert data["commune"]["roles"][0]["role"] == "resident"
    tenant = _tenant(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant.id):
        actions = db.session.scalars(
            text("SELECT action FROM audit_event WHERE tenant_id = :t"), {"t": tenant.id}
        ).all()
    assert "identity.login" in actions


def test_only_the_hash_of_a_link_is_stored(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    path = _ask_link(client, inbox, "dominique@example.fr", POITIERS)
    token = path.rsplit("/", 1)[1]
    assert len(token) >= 43  # 256 bits in base64url
    with app.app_context():
        stored = db.session.scalars(select(LoginToken.token_hash)).all()
    assert token not in stored and len(stored) == 1 and len(stored[0]) == 64


@pytest.mark.parametrize("case", ["reused", "expired", "forged", "other host"])
def test_refused_links_open_no_session(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox, case: str
) -> None:
    path = _ask_link(client, inbox, "alex@example.fr", POITIERS)
    headers = POITIERS
    if case == "reused":
        assert client.post(path, headers=POITIERS).status_code == 302
        client.post("/logout", headers=POITIERS)
    elif case == "expired":
        with app.app_context():
            db.session.execute(
                update(LoginToken).values(expires_at=utcnow() - timedelta(minutes=1))
            )
            db.session.commit()
    elif case == "forged":
        path = path[:-6] + "AAAAAA"
    else:
        headers = {"Host": "grenoble.localhost"}
    response = client.post(path, headers=headers)
    assert response.status_code == 410
    body = response.get_data(as_text=True)
    assert "Traceback" not in body
    expected = {"reused": "déjà été utilisé", "expired": "expiré"}.get(case, "pas valide")
    assert expected in body
    assert not _signed_in(client, headers)


def test_unknown_address_on_the_console_gets_the_same_answer_and_no_mail(
    client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    response = client.post("/login/magic", data={"email": "nobody@example.fr"}, headers=CONSOLE)
    assert response.status_code == 200
    assert "nobody@example.fr" in response.get_data(as_text=True)
    assert inbox.messages == []


def test_staff_need_a_second_factor(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox, runner: Any
) -> None:
    runner.invoke(args=["identity", "assign-staff", "claude@cooperative.example", "poitiers"])
    path = _ask_link(client, inbox, "claude@cooperative.example", CONSOLE)
    response = client.post(path, headers=CONSOLE)
    assert response.headers["Location"].startswith("/login/second-factor")
    assert not _signed_in(client, CONSOLE)
    setup = client.get("/login/second-factor", headers=CONSOLE).get_data(as_text=True)
    # The key for typing by hand, in groups of four, and a QR code of the otpauth URI (an
    # SVG data URI, which the Content-Security-Policy's img-src allows).
    grouped = re.search(r"<code>([A-Z2-7]{4}(?: [A-Z2-7]{1,4})+)</code>", setup)
    assert grouped, setup
    assert re.search(r'<img class="agora-qr-code" src="data:image/svg\+xml;charset=utf-8,', setup)
    secret = grouped.group(1).replace(" ", "")
    wrong = client.post("/login/second-factor", data={"code": "000000"}, headers=CONSOLE)
    assert wrong.status_code == 401 and not _signed_in(client, CONSOLE)
    assert "Ce code n" in wrong.get_data(as_text=True)  # next to the field, the form again
    typo = client.post(
        "/login/second-factor", data={"code": "12a456", "next": "/rules"}, headers=CONSOLE
    )
    page = typo.get_data(as_text=True)
    assert typo.status_code == 422 and not _signed_in(client, CONSOLE)
    assert "Saisissez les six chiffres" in page and 'value="12a456"' in page
    assert 'name="next" type="hidden" value="/rules"' in page
    code = pyotp.TOTP(secret).now()
    assert (
        client.post("/login/second-factor", data={"code": code}, headers=CONSOLE).status_code == 302
    )
    assert _signed_in(client, CONSOLE)
    assert "Poitiers" in client.get("/", headers=CONSOLE).get_data(as_text=True)
    with app.app_context():
        account = db.session.execute(select(Account)).scalar_one()
        assert account.totp_confirmed and account.totp_secret is not None
        assert crypto.decrypt(account.totp_secret) == secret  # stored encrypted


def test_console_hands_staff_over_to_the_commune(
    client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))
    handoff = client.get("/console/communes/poitiers/open", headers=CONSOLE)
    assert handoff.status_code == 302
    target = handoff.headers["Location"]
    assert target.startswith("http://poitiers.localhost/login/handoff?token=")
    path = target.removeprefix("http://poitiers.localhost")
    response = client.get(path, headers=POITIERS)
    assert response.status_code == 302 and response.headers["Location"] == "/admin/members"
    assert client.get("/admin/members", headers=POITIERS).status_code == 200
    # Single use.
    client.post("/logout", headers=POITIERS)
    again = client.get(path, headers=POITIERS)
    assert again.status_code == 401 and not _signed_in(client, POITIERS)
    # Not for a commune the staff member does not work for.
    assert client.get("/console/communes/grenoble/open", headers=CONSOLE).status_code == 404


@pytest.mark.parametrize("case", ["forged", "expired", "wrong host"])
def test_refused_handoffs(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, case: str
) -> None:
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))
    path = client.get("/console/communes/poitiers/open", headers=CONSOLE).headers["Location"]
    path = path.removeprefix("http://poitiers.localhost")
    headers = POITIERS
    if case == "forged":
        path = re.sub(r"token=[^&]+", "token=eyJmb3JnZWQiOnRydWV9.AAAA.BBBB", path)
    elif case == "expired":
        with app.app_context():
            db.session.execute(
                update(LoginToken).values(expires_at=utcnow() - timedelta(seconds=1))
            )
            db.session.commit()
    else:
        headers = {"Host": "grenoble.localhost"}
    response = client.get(path, headers=headers)
    assert response.status_code == 401
    assert "Traceback" not in response.get_data(as_text=True)
    assert not _signed_in(client, headers)


def test_session_is_rotated_at_sign_in_and_bound_to_its_host(
    client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    client.get("/?lang=fr", headers=POITIERS)  # a first, anonymous session
    before = client.get_cookie("session", domain="poitiers.localhost")
    assert before is not None
    path = _ask_link(client, inbox, "sam@example.fr", POITIERS)
    client.post(path, headers=POITIERS)
    after = client.get_cookie("session", domain="poitiers.localhost")
    assert after is not None and after.value != before.value
    # The same cookie presented to another commune opens nothing there.
    client.set_cookie("session", after.value, domain="grenoble.localhost")
    assert not _signed_in(client, {"Host": "grenoble.localhost"})


def test_session_cookie_flags(database: Any, onboarded: Path) -> None:
    from agora import create_app

    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database.app_url,
            "TESTING": True,
            "AGORA_BASE_DOMAIN": "assemblees.example.fr",
            "TRUSTED_HOSTS": ["assemblees.example.fr", ".assemblees.example.fr"],
            "SESSION_COOKIE_SECURE": True,
        }
    )
    response = app.test_client().get(
        "/?lang=fr", headers={"Host": "poitiers.assemblees.example.fr"}
    )
    cookie = response.headers["Set-Cookie"]
    assert "Secure" in cookie and "HttpOnly" in cookie and "SameSite=Lax" in cookie
    with app.app_context():
        db.engine.dispose()


def test_magic_links_are_rate_limited(client: FlaskClient, onboarded: Path, inbox: Inbox) -> None:
    statuses = [
        client.post(
            "/login/magic", data={"email": f"p{i}@example.fr"}, headers=POITIERS
        ).status_code
        for i in range(7)
    ]
    assert statuses[:5] == [200] * 5
    assert statuses[5] == 429
    assert len(inbox.messages) == 5


def test_export_then_erasure_keeps_the_audit_chain(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox, runner: Any
) -> None:
    path = _ask_link(client, inbox, "morgan@example.fr", POITIERS)
    client.post(path, headers=POITIERS)
    exported = client.get("/me/data.json", headers=POITIERS)
    assert exported.headers["Content-Disposition"].startswith("attachment")
    assert json_of(exported)["account"]["email"] == "morgan@example.fr"
    page = client.get("/me/data", headers=POITIERS).get_data(as_text=True)
    assert "morgan@example.fr" in page and "Effacer mes données" in page

    # Irreversible: a confirmation page first, which erases nothing.
    asked = client.post("/me/erase", data={}, headers=POITIERS)
    assert asked.status_code == 200 and _signed_in(client, POITIERS)
    assert 'name="confirmed" value="yes"' in asked.get_data(as_text=True)
    assert client.post("/me/erase", data={"confirmed": "yes"}, headers=POITIERS).status_code == 302
    assert not _signed_in(client, POITIERS)

    tenant = _tenant(app, "poitiers")
    with app.app_context():
        account = db.session.execute(select(Account)).scalar_one()
        assert account.email is None and account.erased_at is not None
        with tenant_scope(db.session, tenant.id):
            grants = db.session.scalars(select(RoleGrant)).all()
            assert all(grant.revoked_at is not None for grant in grants)
            details = db.session.scalars(
                text("SELECT CAST(details AS TEXT) FROM audit_event")
            ).all()
            assert not any("morgan" in detail for detail in details)
            reloaded = db.session.get(Tenant, tenant.id)
            assert reloaded is not None and verify_chain(db.session, reloaded).intact
    assert runner.invoke(args=["audit", "verify", "poitiers"]).exit_code == 0
    # The erased address can no longer sign in to the old account.
    assert client.post(path, headers=POITIERS).status_code != 302


def test_retention_revokes_residents_not_seen_for_too_long(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    from agora.jobs import enqueue

    stale = sign_in(
        client, "poitiers.localhost", "ancien@example.fr", role="resident", commune="poitiers"
    )
    fresh = sign_in(
        client, "poitiers.localhost", "actif@example.fr", role="resident", commune="poitiers"
    )
    tenant = _tenant(app, "poitiers")
    with app.app_context():
        db.session.execute(
            update(Account)
            .where(Account.id == stale)
            .values(last_seen_at=utcnow() - timedelta(days=30 * 30))
        )
        db.session.execute(update(Account).where(Account.id == fresh).values(last_seen_at=utcnow()))
        db.session.commit()
        assert enqueue("identity.retention", tenant_id=tenant.id).result == 1
        with tenant_scope(db.session, tenant.id):
            revoked = {
                g.account_id: g.revoked_at is not None
                for g in db.session.scalars(select(RoleGrant))
            }
    assert revoked == {stale: True, fresh: False}


def test_the_sign_in_mail_is_written_in_its_recipients_language(
    app: Flask, client: FlaskClient, onboarded: Path, inbox: Inbox
) -> None:
    # A newcomer reading the site in English gets the link in English…
    client.get("/?lang=en", headers=POITIERS)
    _ask_link(client, inbox, "sam@example.fr", POITIERS)
    assert "To sign in to Poitiers" in inbox.bodies()[-1]
    assert inbox.messages[-1]["Subject"] == "Your sign-in link"
    # …and an account that reads French gets it in French, whoever asks and in whatever
    # language the page is read.
    with app.app_context():
        account = db.session.execute(
            select(Account).where(Account.email == "sam@example.fr")
        ).scalar_one()
        account.locale = "fr"
        db.session.commit()
    _ask_link(client, inbox, "sam@example.fr", POITIERS)
    assert "Pour vous connecter à Poitiers" in inbox.bodies()[-1], inbox.bodies()[-1]


def test_granting_and_withdrawing_a_role(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(
        client,
        "poitiers.localhost",
        "mairie@poitiers.example",
        role="commune_admin",
        commune="poitiers",
    )
    page = client.get("/admin/members", headers=POITIERS).get_data(as_text=True)
    # The role select starts on « Choisir… »: no role is granted by default.
    assert re.search(r'<select[^>]*name="role"[^>]*>\s*<option value="">Choisir…</option>', page)
    refused = client.post(
        "/admin/members", data={"email": "dominique.example.fr", "role": "agent"}, headers=POITIERS
    )
    text = refused.get_data(as_text=True)
    assert refused.status_code == 422 and "Il y a un problème" in text
    assert 'value="dominique.example.fr"' in text and '<option value="agent" selected>' in text
    no_role = client.post(
        "/admin/members", data={"email": "dominique@example.fr", "role": ""}, headers=POITIERS
    )
    assert no_role.status_code == 422 and "Choisissez un rôle." in no_role.get_data(as_text=True)
    granted = client.post(
        "/admin/members", data={"email": "dominique@example.fr", "role": "agent"}, headers=POITIERS
    )
    assert granted.status_code == 302
    members = client.get("/admin/members", headers=POITIERS).get_data(as_text=True)
    assert "dominique@example.fr a désormais le rôle : agent·e municipal·e." in members
    tenant = _tenant(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant.id):
        account = db.session.execute(
            select(Account).where(Account.email == "dominique@example.fr")
        ).scalar_one()
        grant_id = db.session.execute(
            select(RoleGrant.id).where(
                RoleGrant.account_id == account.id, RoleGrant.revoked_at.is_(None)
            )
        ).scalar_one()
    # Withdrawing asks first, and withdraws nothing until confirmed.
    asked = client.post(f"/admin/members/{grant_id}/revoke", headers=POITIERS)
    assert asked.status_code == 200
    assert 'name="confirmed" value="yes"' in asked.get_data(as_text=True)
    assert "dominique@example.fr" in page_text(client.get("/admin/members", headers=POITIERS))
    done = client.post(
        f"/admin/members/{grant_id}/revoke", data={"confirmed": "yes"}, headers=POITIERS
    )
    assert done.status_code == 302
    after = page_text(client.get("/admin/members", headers=POITIERS))
    assert "Le rôle « agent·e municipal·e » est retiré à dominique@example.fr." in after


@pytest.mark.parametrize(
    ("next_path", "landing"),
    [("/\\evil.example/", "/"), ("//evil.example/", "/"), ("https://evil.example/", "/"),
     ("/%0d%0a/x", "/%0d%0a/x")],
)  # fmt: skip
def test_sign_in_never_sends_a_person_to_another_site(
    client: FlaskClient, onboarded: Path, inbox: Inbox, next_path: str, landing: str
) -> None:
    """Browsers read « \\ » as « / »: the first three would lead to evil.example; an
    encoded line break is a path of this site like any other."""
    path = _ask_link(client, inbox, "camille@example.fr", POITIERS)
    response = client.post(path, data={"next": next_path}, headers=POITIERS)
    assert response.status_code == 302
    assert response.headers["Location"] == landing
    assert _signed_in(client, POITIERS)


@pytest.mark.parametrize(
    "next_path", ["/\t/evil.example/", "/\n/evil.example", "/a\r\nSet-Cookie: x=1"]
)
def test_a_next_page_with_a_control_character_is_refused_before_any_sign_in(
    client: FlaskClient, onboarded: Path, inbox: Inbox, next_path: str
) -> None:
    """Browsers drop tabs and line breaks from a URL (« /<TAB>/evil.example » is
    « //evil.example »), and a CR or LF would break the redirect: the form refuses them."""
    path = _ask_link(client, inbox, "camille@example.fr", POITIERS)
    response = client.post(path, data={"next": next_path}, headers=POITIERS)
    assert response.status_code == 422
    assert not _signed_in(client, POITIERS)
    # The link was not spent: the same link still signs in.
    assert client.post(path, data={"next": "/rules"}, headers=POITIERS).status_code == 302


@pytest.mark.parametrize(
    "next_path",
    [
        "/\t/evil.example/",
        "/\n/evil.example",
        "/\\evil.example",
        "///evil.example",
        "/\\/evil.example",
        "\\\\evil.example",
        " //evil.example",
        "/\x0b/evil.example",
        "https:evil.example",
        "https://evil.example",
        "javascript:alert(1)",
        "data:text/html,<script>alert(1)</script>",
    ],
)
def test_the_next_page_of_a_hand_off_stays_on_the_site(app: Flask, next_path: str) -> None:
    """The console's hand-off reads ``next`` from its URL, where no form checks it."""
    from agora.identity.access import safe_next

    with app.test_request_context("/"):
        assert safe_next(next_path) == "/"
        assert safe_next("/rules?page=2") == "/rules?page=2"

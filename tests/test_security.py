"""CSRF on every form, and refused when missing."""

from __future__ import annotations

import re
from pathlib import Path

from flask import Flask
from flask.testing import FlaskClient

from support.fixtures import SignIn
from support.routes import HOSTS, route_samples

FORM = re.compile(r"<form\b[^>]*>.*?</form>", re.S | re.I)


def test_every_post_form_carries_a_csrf_token(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    """Crawl every GET route on every host, as someone who sees the most forms."""
    checked = 0
    for host in HOSTS.values():
        # Forms are rendered as production renders them, with CSRF on (a WTForms form
        # writes its token only then); signing in goes through the test helper without it.
        app.config["WTF_CSRF_ENABLED"] = False
        sign_in(
            client,
            host,
            f"admin@{host}",
            role="commune_admin",
            commune="poitiers",
            platform_admin=True,
        )
        app.config["WTF_CSRF_ENABLED"] = True
        for endpoint, method, path in route_samples(app, grant_id=1):
            if method != "GET" or endpoint == "static":
                continue
            response = client.get(path, headers={"Host": host})
            for form in FORM.findall(response.get_data(as_text=True)):
                if re.search(r'method="post"', form, re.I):
                    checked += 1
                    assert 'name="csrf_token"' in form, f"{host}{path}: {form[:200]}"
    app.config["WTF_CSRF_ENABLED"] = False
    assert checked >= 5, "the crawl should meet the sign-in, sign-out, erase and members forms"


def test_a_post_without_the_token_is_refused(database: object, onboarded: Path, app: Flask) -> None:
    app.config["WTF_CSRF_ENABLED"] = True
    client = app.test_client()
    response = client.post(
        "/login/magic", data={"email": "a@example.fr"}, headers={"Host": "poitiers.localhost"}
    )
    body = response.get_data(as_text=True)
    assert response.status_code == 400
    assert "Ce formulaire a expiré" in body and "Traceback" not in body


def test_sign_in_requests_are_rate_limited(database: object, onboarded: Path, app: Flask) -> None:
    """The sign-in form's limit (5 a minute) holds though the limiter only runs on the views
    that declare a limit; the sixth request gets a 429 with a message in French."""
    client = app.test_client()

    def ask(number: int) -> tuple[int, str]:
        response = client.post(
            "/login/magic",
            data={"email": f"p{number}@example.fr"},
            headers={"Host": "poitiers.localhost"},
        )
        return response.status_code, response.get_data(as_text=True)

    assert [ask(number)[0] for number in range(5)] == [200] * 5
    status, body = ask(5)
    assert status == 429
    assert "Trop de requêtes : merci de patienter un instant." in body
    assert "per 1 minute" not in body and "Traceback" not in body

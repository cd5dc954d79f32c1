"""FranceConnect, ProConnect and the staff provider, end to end: the real Authlib client
against a provider built from Authlib's server components, over HTTP on 127.0.0.1."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from flask.testing import FlaskClient

from support.fixtures import SignIn, json_of
from support.oidc_provider import ProviderClient, TestProvider, provider_factory

POITIERS = {"Host": "poitiers.localhost"}
AUTH = {"Host": "auth.localhost"}
CONSOLE = {"Host": "localhost"}
CALLBACK = "http://auth.localhost/oidc/callback"
LOGGED_OUT = "http://auth.localhost/oidc/logged-out"
POITIERS_SIRET = "21860194200019"


def _path(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def _register(provider: TestProvider, client_id: str) -> ProviderClient:
    client = ProviderClient(client_id, f"{client_id}-secret-0123456789", [CALLBACK], [LOGGED_OUT])
    provider.add_client(client)
    return client


@pytest.fixture
def providers() -> Iterator[Any]:
    with provider_factory() as start:
        yield start


def _configure(
    runner: Any, provider: TestProvider, kind: str, client: ProviderClient, siret: str = ""
) -> None:
    args = [
        "identity",
        "set-provider",
        "poitiers",
        kind,
        "--discovery-url",
        provider.discovery_url,
        "--client-id",
        client.client_id,
        "--client-secret",
        client.client_secret,
    ]
    result = runner.invoke(args=[*args, "--siret", siret] if siret else args)
    assert result.exit_code == 0, result.output


def _sign_in(
    client: FlaskClient, provider: TestProvider, kind: str, host: dict[str, str] = POITIERS
) -> Any:
    """Drive the redirects as a browser would; return the app's last answer."""
    start = client.get(f"/login/oidc/{kind}?next=/rules", headers=host)
    assert start.status_code == 302 and start.headers["Location"].startswith(
        "http://auth.localhost/"
    )
    begin = client.get(_path(start.headers["Location"]), headers=AUTH)
    assert begin.status_code == 302 and begin.headers["Location"].startswith(provider.issuer)
    callback = provider.visit(begin.headers["Location"])
    assert callback.startswith(CALLBACK), callback
    answer = client.get(_path(callback), headers=AUTH)
    if answer.status_code != 302:
        return answer
    return client.get(_path(answer.headers["Location"]), headers=host)


def _sign_out(client: FlaskClient, provider: TestProvider, host: dict[str, str] = POITIERS) -> None:
    """Sign out of the site and of the provider (RP-initiated logout), back to the site."""
    logout = client.post("/logout", headers=host)
    assert logout.headers["Location"].startswith("http://auth.localhost/oidc/logout?")
    to_provider = client.get(_path(logout.headers["Location"]), headers=AUTH)
    end_session = to_provider.headers["Location"]
    assert end_session.startswith(provider.end_session_endpoint)
    assert "id_token_hint=" in end_session and "state=" in end_session
    back = provider.visit(end_session)
    assert back.startswith(LOGGED_OUT)
    home = client.get(_path(back), headers=AUTH)
    assert home.status_code == 302 and home.headers["Location"] == f"http://{host['Host']}/"
    assert not _signed_in(client, host)


def _signed_in(client: FlaskClient, host: dict[str, str] = POITIERS) -> bool:
    return client.get("/me/data", headers=host).status_code == 200


@pytest.fixture
def franceconnect(providers: Any, runner: Any, onboarded: Path) -> TestProvider:
    provider: TestProvider = providers("franceconnect")
    _configure(runner, provider, "franceconnect", _register(provider, "poitiers-fc"))
    provider.set_user(
        "fc-0001", {"given_name": "Camille", "family_name": "MARTIN", "email": "camille@example.fr"}
    )
    provider.login_as("fc-0001")
    return provider


def test_franceconnect_sign_in_and_logout(
    app: Flask, client: FlaskClient, franceconnect: TestProvider
) -> None:
    login_page = client.get("/login", headers=POITIERS).get_data(as_text=True)
    assert "FranceConnect" in login_page and "Qu’est-ce que FranceConnect ?" in login_page
    final = _sign_in(client, franceconnect, "franceconnect")
    assert final.status_code == 302 and final.headers["Location"] == "/rules"
    data = json_of(client.get("/me/data.json", headers=POITIERS))
    assert data["sign_in_providers"][0]["provider"] == "franceconnect"
    assert data["commune"]["roles"][0]["role"] == "resident"
    # The same person signing in again gets the same account.
    first_id = data["account"]["id"]

    _sign_out(client, franceconnect)
    assert franceconnect.logouts, "the provider's session must be ended too"

    franceconnect.login_as("fc-0001")
    _sign_in(client, franceconnect, "franceconnect")
    assert json_of(client.get("/me/data.json", headers=POITIERS))["account"]["id"] == first_id


def test_authorize_request_follows_the_franceconnect_profile(
    client: FlaskClient, franceconnect: TestProvider
) -> None:
    start = client.get("/login/oidc/franceconnect", headers=POITIERS)
    begin = client.get(_path(start.headers["Location"]), headers=AUTH)
    query = dict(
        pair.split("=", 1) for pair in urlsplit(begin.headers["Location"]).query.split("&")
    )
    assert query["acr_values"] == "eidas1"
    assert len(query["state"]) >= 32 and len(query["nonce"]) >= 32


@pytest.mark.parametrize(
    "misbehaviour,message",
    [
        ("tampered_id_token", "jeton invalide"),
        ("wrong_nonce", "jeton invalide"),
        ("wrong_issuer", "jeton invalide"),
        ("wrong_acr", "niveau de garantie requis"),
        ("unsigned_userinfo", "n’est pas signée"),
        ("tampered_userinfo", "jeton invalide"),
    ],
)
def test_untrustworthy_answers_are_refused(
    client: FlaskClient, franceconnect: TestProvider, misbehaviour: str, message: str
) -> None:
    franceconnect.misbehave.add(misbehaviour)
    answer = _sign_in(client, franceconnect, "franceconnect")
    body = answer.get_data(as_text=True)
    assert answer.status_code == 401
    assert "Connexion refusée" in body and message in body
    assert "Traceback" not in body
    assert not _signed_in(client)


def _query(url: str) -> dict[str, str]:
    return dict(pair.split("=", 1) for pair in urlsplit(url).query.split("&"))


def test_a_replayed_code_is_refused(client: FlaskClient, franceconnect: TestProvider) -> None:
    start = client.get("/login/oidc/franceconnect", headers=POITIERS).headers["Location"]
    callback = franceconnect.visit(client.get(_path(start), headers=AUTH).headers["Location"])
    assert client.get(_path(callback), headers=AUTH).status_code == 302  # the code's first use
    # A new sign-in is in progress; an attacker replays the old code with its state.
    new_state = _query(client.get(_path(start), headers=AUTH).headers["Location"])["state"]
    replay = client.get(
        f"/oidc/callback?code={_query(callback)['code']}&state={new_state}", headers=AUTH
    )
    assert replay.status_code == 401
    assert "a refusé le code de connexion" in replay.get_data(as_text=True)


def test_a_forged_state_is_refused(client: FlaskClient, franceconnect: TestProvider) -> None:
    start = client.get("/login/oidc/franceconnect", headers=POITIERS)
    begin = client.get(_path(start.headers["Location"]), headers=AUTH)
    callback = franceconnect.visit(begin.headers["Location"])
    forged = callback.replace("state=", "state=x")
    answer = client.get(_path(forged), headers=AUTH)
    assert answer.status_code == 401 and "state" in answer.get_data(as_text=True)


@pytest.fixture
def proconnect(providers: Any, runner: Any, onboarded: Path) -> TestProvider:
    provider: TestProvider = providers("proconnect")
    _configure(
        runner, provider, "proconnect", _register(provider, "poitiers-pc"), siret=POITIERS_SIRET
    )
    return provider


def test_proconnect_matches_agents_by_email_and_siret(
    client: FlaskClient, proconnect: TestProvider, sign_in: SignIn
) -> None:
    proconnect.set_user(
        "pc-42",
        {
            "given_name": "Nadia",
            "usual_name": "BENALI",
            "email": "n.benali@poitiers.fr",
            "siret": POITIERS_SIRET,
        },
    )
    proconnect.login_as("pc-42")
    final = _sign_in(client, proconnect, "proconnect")
    assert final.status_code == 302
    assert (
        json_of(client.get("/me/data.json", headers=POITIERS))["account"]["email"]
        == "n.benali@poitiers.fr"
    )
    _sign_out(client, proconnect)


def test_proconnect_refuses_another_organisation(
    client: FlaskClient, proconnect: TestProvider
) -> None:
    proconnect.set_user(
        "pc-43", {"given_name": "Luc", "email": "luc@grenoble.fr", "siret": "21380185500015"}
    )
    proconnect.login_as("pc-43")
    answer = _sign_in(client, proconnect, "proconnect")
    assert answer.status_code == 401
    assert "votre organisation n’est pas cette commune" in answer.get_data(as_text=True)
    assert not _signed_in(client)


def test_staff_sign_in_with_their_own_provider(
    app: Flask, client: FlaskClient, providers: Any, runner: Any, onboarded: Path
) -> None:
    provider: TestProvider = providers("generic")
    registration = _register(provider, "cooperative")
    app.config.update(
        AGORA_STAFF_OIDC_DISCOVERY_URL=provider.discovery_url,
        AGORA_STAFF_OIDC_CLIENT_ID=registration.client_id,
        AGORA_STAFF_OIDC_CLIENT_SECRET=registration.client_secret,
    )
    runner.invoke(args=["identity", "assign-staff", "claude@cooperative.example", "grenoble"])
    provider.set_user("staff-1", {"name": "Claude", "email": "claude@cooperative.example"})
    provider.login_as("staff-1")
    final = _sign_in(client, provider, "staff", host=CONSOLE)
    assert final.status_code == 302
    assert "Grenoble" in client.get("/", headers=CONSOLE).get_data(as_text=True)
    _sign_out(client, provider, host=CONSOLE)

    client = app.test_client()  # another browser
    provider.set_user("stranger", {"name": "X", "email": "x@example.org"})
    provider.login_as("stranger")
    answer = _sign_in(client, provider, "staff", host=CONSOLE)
    assert answer.status_code == 401 and "n’appartient pas à l’équipe" in answer.get_data(
        as_text=True
    )


def test_no_provider_configured_means_no_button_and_404(
    client: FlaskClient, onboarded: Path
) -> None:
    assert "FranceConnect" not in client.get("/login", headers=POITIERS).get_data(as_text=True)
    assert client.get("/login/oidc/franceconnect", headers=POITIERS).status_code == 404

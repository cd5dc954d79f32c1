"""The test identity provider enforces the FranceConnect / ProConnect profile.

Driven by Authlib's real clients (``requests_client.OAuth2Session`` and, for the full relying
party path, ``flask_client.OAuth``) over HTTP on 127.0.0.1; tokens checked with joserfc.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qs, urlencode, urlsplit

import pytest
import requests
from authlib.common.security import generate_token
from authlib.integrations.base_client import OAuthError
from authlib.integrations.flask_client import OAuth
from authlib.integrations.requests_client import OAuth2Session
from authlib.oauth2.rfc7636 import create_s256_code_challenge
from flask import Flask, session
from joserfc import jwt
from joserfc.errors import BadSignatureError, InvalidClaimError
from joserfc.jwk import KeySet

from support.oidc_provider import (
    IMPOSTOR_ISSUER,
    MISBEHAVIOURS,
    ProviderClient,
    TestProvider,
    provider_factory,
)

REDIRECT_URI = "https://poitiers.agora.test/auth/callback"
LOGGED_OUT_URI = "https://poitiers.agora.test/auth/logged-out"
CLIENT = ProviderClient(
    client_id="agora-poitiers",
    client_secret="s3cret-" + "x" * 32,
    redirect_uris=[REDIRECT_URI],
    post_logout_redirect_uris=[LOGGED_OUT_URI],
)
SCOPES = {
    "franceconnect": "openid given_name family_name birthdate birthplace",
    "proconnect": "openid given_name usual_name email uid siret",
    "generic": "openid profile email",
}
EXTRA = {"franceconnect": {"acr_values": "eidas1"}, "proconnect": {}, "generic": {}}
CLAIMS = {
    "given_name": "Marie Salomea",
    "family_name": "SKLODOWSKA",
    "usual_name": "Curie",
    "birthdate": "1867-11-07",
    "birthplace": "",
    "birthcountry": "99122",
    "gender": "female",
    "email": "marie.curie@poitiers.fr",
    "uid": "mcurie",
    "siret": "21860194400013",
    "name": "Marie Curie",
}


@pytest.fixture
def start() -> Iterator[Callable[..., TestProvider]]:
    with provider_factory() as start_provider:
        yield start_provider


def ready(start: Callable[..., TestProvider], profile: str, **options: Any) -> TestProvider:
    provider = start(profile, **options)
    provider.add_client(CLIENT)
    provider.set_user("user-1", CLAIMS)
    provider.login_as("user-1")
    return provider


@pytest.fixture(params=["franceconnect", "proconnect", "generic"])
def provider(request: pytest.FixtureRequest, start: Callable[..., TestProvider]) -> TestProvider:
    return ready(start, request.param)


@pytest.fixture
def fc(start: Callable[..., TestProvider]) -> TestProvider:
    return ready(start, "franceconnect")


@pytest.fixture
def pc(start: Callable[..., TestProvider]) -> TestProvider:
    return ready(start, "proconnect")


@pytest.fixture
def generic(start: Callable[..., TestProvider]) -> TestProvider:
    return ready(start, "generic")


@dataclass
class Login:
    provider: TestProvider
    rp: OAuth2Session
    state: str
    nonce: str
    callback: str

    def exchange(self) -> dict[str, Any]:
        token = self.rp.fetch_token(
            self.provider.token_endpoint, authorization_response=self.callback, state=self.state
        )
        return dict(token)


def session_for(provider: TestProvider, *, auth: str = "client_secret_post") -> OAuth2Session:
    # leeway: Authlib's default (60 s) equals the providers' access token lifetime, so the
    # session would call every fresh token expired.
    return OAuth2Session(
        CLIENT.client_id,
        CLIENT.client_secret,
        scope=SCOPES[provider.profile],
        redirect_uri=REDIRECT_URI,
        token_endpoint_auth_method=auth,
        leeway=5,
    )


def authorize_url(provider: TestProvider, **params: str | None) -> str:
    defaults = {
        "response_type": "code",
        "client_id": CLIENT.client_id,
        "redirect_uri": REDIRECT_URI,
        "scope": SCOPES[provider.profile],
        "state": generate_token(48),
        "nonce": generate_token(48),
        **EXTRA[provider.profile],
    }
    query = {key: value for key, value in {**defaults, **params}.items() if value is not None}
    return f"{provider.authorization_endpoint}?{urlencode(query)}"


def login(provider: TestProvider, *, auth: str = "client_secret_post", **extra: str) -> Login:
    rp = session_for(provider, auth=auth)
    state, nonce = generate_token(48), generate_token(48)
    url, _ = rp.create_authorization_url(
        provider.authorization_endpoint,
        state=state,
        nonce=nonce,
        **{**EXTRA[provider.profile], **extra},
    )
    return Login(provider, rp, state, nonce, provider.visit(url))


def keys(provider: TestProvider) -> KeySet:
    jwks_uri = requests.get(provider.discovery_url, timeout=5).json()["jwks_uri"]
    return KeySet.import_key_set(requests.get(jwks_uri, timeout=5).json())


def verify_id_token(provider: TestProvider, id_token: str, nonce: str) -> dict[str, Any]:
    token = jwt.decode(id_token, keys(provider), algorithms=["ES256"])
    assert token.header["alg"] == "ES256" and token.header["kid"]
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": CLIENT.client_id},
        sub={"essential": True, "value": "user-1"},
        nonce={"essential": True, "value": nonce},
        acr={"essential": True, "value": "eidas1"},
        amr={"essential": True},
        auth_time={"essential": True},
    ).validate(token.claims)
    return dict(token.claims)


def userinfo(provider: TestProvider, access_token: str) -> requests.Response:
    return requests.get(
        provider.userinfo_endpoint,
        headers={"Authorization": f"Bearer {access_token}"},
        timeout=5,
    )


def userinfo_jwt(provider: TestProvider, response: requests.Response) -> dict[str, Any]:
    assert response.headers["Content-Type"] == "application/jwt"
    token = jwt.decode(response.text, keys(provider), algorithms=["ES256"])
    jwt.JWTClaimsRegistry(
        iss={"essential": True, "value": provider.issuer},
        aud={"essential": True, "value": CLIENT.client_id},
    ).validate(token.claims)
    return dict(token.claims)


def refused(url: str) -> str:
    """The 400 page of a refused request: its error_description."""
    response = requests.get(url, allow_redirects=False, timeout=5)
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["error"] in ("invalid_request", "invalid_client"), body
    return str(body["error_description"])


def redirect_params(location: str) -> dict[str, str]:
    assert location.startswith(REDIRECT_URI + "?"), location
    return {key: values[0] for key, values in parse_qs(urlsplit(location).query).items()}


def end_session_url(provider: TestProvider, **params: str | None) -> str:
    query = {key: value for key, value in params.items() if value is not None}
    return f"{provider.end_session_endpoint}?{urlencode(query)}"


# -- discovery, keys --------------------------------------------------------------------


def test_discovery_advertises_the_profile(provider: TestProvider) -> None:
    document = requests.get(provider.discovery_url, timeout=5).json()
    base = provider.issuer
    assert base.startswith("http://127.0.0.1:") and base.endswith("/api/v2")
    assert provider.discovery_url == base + "/.well-known/openid-configuration"
    assert document["issuer"] == base
    assert document["authorization_endpoint"] == base + "/authorize"
    assert document["token_endpoint"] == base + "/token"
    assert document["userinfo_endpoint"] == base + "/userinfo"
    assert document["jwks_uri"] == base + "/jwks"
    assert document["end_session_endpoint"] == base + "/session/end"
    assert document["id_token_signing_alg_values_supported"] == ["ES256"]
    assert document["token_endpoint_auth_methods_supported"] == ["client_secret_post"]
    assert document["response_types_supported"] == ["code"]
    assert "openid" in document["scopes_supported"]
    assert "eidas1" in document["acr_values_supported"]
    if provider.profile == "generic":
        assert "userinfo_signing_alg_values_supported" not in document
        assert document["code_challenge_methods_supported"] == ["S256"]
    else:
        assert document["userinfo_signing_alg_values_supported"] == ["ES256"]
        assert "code_challenge_methods_supported" not in document
    if provider.profile == "franceconnect":
        assert {"given_name", "birthplace", "identite_pivot"} <= set(document["scopes_supported"])
        assert "profile" not in document["scopes_supported"]
    if provider.profile == "proconnect":
        assert {"usual_name", "siret", "uid", "organizational_unit"} <= set(
            document["scopes_supported"]
        )


def test_jwks_holds_one_public_es256_key(provider: TestProvider) -> None:
    jwks = requests.get(provider.jwks_uri, timeout=5).json()
    (key,) = jwks["keys"]
    assert key["kty"] == "EC" and key["crv"] == "P-256" and key["kid"]
    assert key["alg"] == "ES256" and key["use"] == "sig"
    assert "d" not in key


# -- the full code flow -----------------------------------------------------------------


def test_code_flow_with_authlib_client(provider: TestProvider) -> None:
    flow = login(provider)
    params = redirect_params(flow.callback)
    assert params["state"] == flow.state and len(params["code"]) >= 32
    token = flow.exchange()
    assert token["token_type"] == "Bearer" and token["expires_in"] == 60
    assert "refresh_token" not in token
    claims = verify_id_token(provider, token["id_token"], flow.nonce)
    assert claims["exp"] - claims["iat"] <= 60
    assert "given_name" not in claims  # identity claims only come from /userinfo

    response = flow.rp.get(provider.userinfo_endpoint)
    assert response.status_code == 200
    if provider.profile == "generic":
        assert response.headers["Content-Type"] == "application/json"
        info = response.json()
    else:
        info = userinfo_jwt(provider, response)
    assert info["sub"] == "user-1"
    assert provider.errors == []


def test_fc_releases_one_claim_per_scope(fc: TestProvider) -> None:
    token = login(fc).exchange()
    info = userinfo_jwt(fc, userinfo(fc, token["access_token"]))
    assert set(info) == {
        "iss",
        "aud",
        "sub",
        "given_name",
        "family_name",
        "birthdate",
        "birthplace",
    }
    assert info["birthplace"] == ""  # born abroad

    fc.set_user("user-1", {**CLAIMS, "preferred_username": "CURIE"})
    flow = login(fc, scope="openid identite_pivot")
    info = userinfo_jwt(fc, userinfo(fc, flow.exchange()["access_token"]))
    pivot = {"given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"}
    assert set(info) == {"iss", "aud", "sub", *pivot}

    flow = login(fc, scope="openid email preferred_username")
    info = userinfo_jwt(fc, userinfo(fc, flow.exchange()["access_token"]))
    assert (info["email"], info["preferred_username"]) == (CLAIMS["email"], "CURIE")
    assert "given_name" not in info


def test_proconnect_releases_agent_claims(pc: TestProvider) -> None:
    info = userinfo_jwt(pc, userinfo(pc, login(pc).exchange()["access_token"]))
    assert {key: info[key] for key in ("given_name", "usual_name", "email", "uid", "siret")} == {
        key: CLAIMS[key] for key in ("given_name", "usual_name", "email", "uid", "siret")
    }
    assert "family_name" not in info and "birthdate" not in info


def test_generic_uses_standard_scopes_and_json(generic: TestProvider) -> None:
    response = userinfo(generic, login(generic).exchange()["access_token"])
    assert response.headers["Content-Type"] == "application/json"
    info = response.json()
    assert info["email"] == CLAIMS["email"] and info["name"] == "Marie Curie"
    assert info["birthdate"] == CLAIMS["birthdate"]  # standard "profile" claim
    assert "siret" not in info and "uid" not in info and "iss" not in info


def test_generic_can_sign_userinfo(start: Callable[..., TestProvider]) -> None:
    provider = ready(start, "generic", signed_userinfo=True)
    info = userinfo_jwt(provider, userinfo(provider, login(provider).exchange()["access_token"]))
    assert info["email"] == CLAIMS["email"]


def test_configured_acr_is_in_the_id_token(start: Callable[..., TestProvider]) -> None:
    provider = ready(start, "franceconnect", acr="eidas2")
    flow = login(provider, acr_values="eidas2")
    claims = jwt.decode(flow.exchange()["id_token"], keys(provider), algorithms=["ES256"]).claims
    assert claims["acr"] == "eidas2"
    assert "eidas1" in refused(authorize_url(provider, acr_values="eidas1"))


# -- authorize: profile rules -----------------------------------------------------------


@pytest.mark.parametrize("profile", ["franceconnect", "proconnect"])
@pytest.mark.parametrize("name", ["state", "nonce"])
def test_short_or_missing_state_and_nonce_are_refused(
    start: Callable[..., TestProvider], profile: str, name: str
) -> None:
    provider = ready(start, profile)
    assert name in refused(authorize_url(provider, **{name: generate_token(31)}))
    assert name in refused(authorize_url(provider, **{name: None}))
    # Authlib's own defaults are too short: nonce generate_token(20), state generate_token(30)
    assert "20" in refused(authorize_url(provider, nonce=generate_token(20)))
    redirect_params(provider.visit(authorize_url(provider, **{name: generate_token(32)})))


def test_generic_requires_a_nonce_but_not_32_characters(generic: TestProvider) -> None:
    params = redirect_params(generic.visit(authorize_url(generic, state="s", nonce="n")))
    assert params["state"] == "s" and "code" in params
    params = redirect_params(generic.visit(authorize_url(generic, state="abc", nonce=None)))
    assert params["error"] == "invalid_request" and "nonce" in params["error_description"]
    assert params["state"] == "abc"


def test_fc_requires_supported_acr_values(fc: TestProvider) -> None:
    assert "acr_values" in refused(authorize_url(fc, acr_values=None))
    assert "eidas3" in refused(authorize_url(fc, acr_values="eidas3"))


def test_proconnect_refuses_any_other_parameter(pc: TestProvider) -> None:
    description = refused(authorize_url(pc, login_hint="agent@poitiers.fr"))
    assert "Y000400" in description and "login_hint" in description
    challenge = create_s256_code_challenge(generate_token(48))
    description = refused(authorize_url(pc, code_challenge=challenge, code_challenge_method="S256"))
    assert "code_challenge" in description and "code_challenge_method" in description
    allowed = authorize_url(
        pc,
        acr_values="eidas1",
        prompt="login",
        idp_hint="fia1v2",
        claims='{"id_token": {"amr": {"essential": true}}}',
    )
    assert "code" in redirect_params(pc.visit(allowed))


def test_openid_scope_is_required(provider: TestProvider) -> None:
    assert "openid" in refused(authorize_url(provider, scope="email"))


def test_unknown_scope_is_refused(provider: TestProvider) -> None:
    scope = "openid siret" if provider.profile == "franceconnect" else "openid birthplace"
    params = redirect_params(provider.visit(authorize_url(provider, scope=scope)))
    assert params["error"] == "invalid_scope"


def test_client_and_redirect_uri_must_match_exactly(provider: TestProvider) -> None:
    assert "client" in refused(authorize_url(provider, client_id="someone-else"))
    for wrong in (REDIRECT_URI + "/", REDIRECT_URI + "?next=/", REDIRECT_URI.upper()):
        assert "Redirect URI" in refused(authorize_url(provider, redirect_uri=wrong))
    assert "redirect_uri" in refused(authorize_url(provider, redirect_uri=None))


def test_only_response_type_code(provider: TestProvider) -> None:
    location = provider.visit(authorize_url(provider, response_type="token"))
    assert redirect_params(location)["error"] == "unsupported_response_type"


def test_no_current_user_redirects_with_login_required(provider: TestProvider) -> None:
    provider.logout()
    state = generate_token(48)
    params = redirect_params(provider.visit(authorize_url(provider, state=state)))
    assert params == {
        "error": "login_required",
        "error_description": params["error_description"],
        "state": state,
    }
    provider.login_as("user-1")
    assert "code" in redirect_params(provider.visit(authorize_url(provider)))


def test_login_as_needs_a_known_user(fc: TestProvider) -> None:
    with pytest.raises(KeyError):
        fc.login_as("nobody")


# -- token endpoint ---------------------------------------------------------------------


def test_replayed_code_is_refused_and_revokes_its_tokens(provider: TestProvider) -> None:
    flow = login(provider)
    token = flow.exchange()
    assert userinfo(provider, token["access_token"]).status_code == 200
    with pytest.raises(OAuthError) as replay:
        flow.exchange()
    assert replay.value.error == "invalid_grant"
    assert userinfo(provider, token["access_token"]).status_code == 401


def test_code_lives_30_seconds(provider: TestProvider) -> None:
    flow = login(provider)
    code = redirect_params(flow.callback)["code"]
    provider._codes[code].issued_at -= 31
    with pytest.raises(OAuthError) as expired:
        flow.exchange()
    assert expired.value.error == "invalid_grant"
    assert "expired" in str(expired.value.description)


def test_access_token_lives_60_seconds(provider: TestProvider) -> None:
    token = login(provider).exchange()
    provider._tokens[token["access_token"]].issued_at -= 61
    response = userinfo(provider, token["access_token"])
    assert response.status_code == 401
    assert "invalid_token" in response.headers["WWW-Authenticate"]


def test_basic_client_authentication_is_refused(provider: TestProvider) -> None:
    flow = login(provider, auth="client_secret_basic")
    with pytest.raises(OAuthError) as basic:
        flow.exchange()
    assert basic.value.error == "invalid_client"
    assert "client_secret_post" in str(basic.value.description)
    # the code was not spent: the right method still works
    flow.rp = session_for(provider)
    assert "id_token" in flow.exchange()


def test_wrong_secret_and_redirect_uri_are_refused(provider: TestProvider) -> None:
    flow = login(provider)
    flow.rp.client_secret = "wrong"
    with pytest.raises(OAuthError) as wrong_secret:
        flow.exchange()
    assert wrong_secret.value.error == "invalid_client"

    flow = login(provider)
    flow.rp.redirect_uri = REDIRECT_URI + "/other"
    with pytest.raises(OAuthError) as wrong_redirect:
        flow.exchange()
    assert wrong_redirect.value.error == "invalid_grant"


def test_code_of_another_client_is_refused(provider: TestProvider) -> None:
    other = ProviderClient("other", "other-secret", [REDIRECT_URI], [])
    provider.add_client(other)
    flow = login(provider)
    flow.rp = OAuth2Session(
        other.client_id,
        other.client_secret,
        redirect_uri=REDIRECT_URI,
        token_endpoint_auth_method="client_secret_post",
    )
    with pytest.raises(OAuthError) as stolen:
        flow.exchange()
    assert stolen.value.error == "invalid_grant"


def test_generic_pkce_is_verified(generic: TestProvider) -> None:
    verifier = generate_token(48)
    challenge = create_s256_code_challenge(verifier)
    flow = login(generic, code_challenge=challenge, code_challenge_method="S256")
    with pytest.raises(OAuthError) as wrong:
        flow.rp.fetch_token(
            generic.token_endpoint,
            authorization_response=flow.callback,
            state=flow.state,
            code_verifier=generate_token(48),
        )
    assert wrong.value.error == "invalid_grant"

    flow = login(generic, code_challenge=challenge, code_challenge_method="S256")
    token = flow.rp.fetch_token(
        generic.token_endpoint,
        authorization_response=flow.callback,
        state=flow.state,
        code_verifier=verifier,
    )
    assert "id_token" in token


def test_userinfo_needs_a_bearer_token(provider: TestProvider) -> None:
    assert requests.get(provider.userinfo_endpoint, timeout=5).status_code == 401
    assert userinfo(provider, "not-a-token").status_code == 401


# -- session/end ------------------------------------------------------------------------


def test_session_end_redirects_with_state_and_logs_out(provider: TestProvider) -> None:
    token = login(provider).exchange()
    state = generate_token(48)
    location = provider.visit(
        end_session_url(
            provider,
            id_token_hint=token["id_token"],
            state=state,
            post_logout_redirect_uri=LOGGED_OUT_URI,
        )
    )
    assert location == f"{LOGGED_OUT_URI}?{urlencode({'state': state})}"
    assert provider.logouts == ["user-1"]
    params = redirect_params(provider.visit(authorize_url(provider)))
    assert params["error"] == "login_required"


def test_session_end_rules(provider: TestProvider) -> None:
    id_token = login(provider).exchange()["id_token"]
    good = {
        "id_token_hint": id_token,
        "state": generate_token(48),
        "post_logout_redirect_uri": LOGGED_OUT_URI,
    }
    cases: dict[str, dict[str, str | None]] = {
        "id_token_hint": {"id_token_hint": None},
        "post_logout_redirect_uri": {"post_logout_redirect_uri": None},
        "not registered": {"post_logout_redirect_uri": REDIRECT_URI},
        "signature": {
            "id_token_hint": id_token[:-4] + ("AAAA" if id_token[-4:] != "AAAA" else "BBBB")
        },
    }
    if provider.profile != "generic":
        cases["state"] = {"state": None}
        cases["32 characters"] = {"state": generate_token(20)}
    for expected, change in cases.items():
        response = requests.get(
            end_session_url(provider, **{**good, **change}), allow_redirects=False, timeout=5
        )
        assert response.status_code == 400, (expected, response.text)
        assert expected.lower() in response.json()["error_description"].lower(), expected
    assert provider.logouts == []


def test_session_end_refuses_an_id_token_of_another_provider(
    start: Callable[..., TestProvider],
) -> None:
    first, second = ready(start, "franceconnect"), ready(start, "franceconnect")
    id_token = login(first).exchange()["id_token"]
    url = end_session_url(
        second,
        id_token_hint=id_token,
        state=generate_token(48),
        post_logout_redirect_uri=LOGGED_OUT_URI,
    )
    assert requests.get(url, allow_redirects=False, timeout=5).status_code == 400


# -- misbehaviour switches --------------------------------------------------------------


def test_every_switch_is_tested() -> None:
    tested = {
        "tampered_id_token",
        "wrong_nonce",
        "wrong_acr",
        "wrong_issuer",
        "unsigned_userinfo",
        "tampered_userinfo",
        "wrong_userinfo_issuer",
    }
    assert tested == MISBEHAVIOURS


@pytest.mark.parametrize("profile", ["franceconnect", "proconnect"])
def test_misbehaving_id_tokens(start: Callable[..., TestProvider], profile: str) -> None:
    provider = ready(start, profile)
    key_set = keys(provider)

    provider.misbehave = {"tampered_id_token"}
    flow = login(provider)
    with pytest.raises(BadSignatureError):
        jwt.decode(flow.exchange()["id_token"], key_set, algorithms=["ES256"])

    for switch, claim in (("wrong_nonce", "nonce"), ("wrong_acr", "acr"), ("wrong_issuer", "iss")):
        provider.misbehave = {switch}
        flow = login(provider)
        with pytest.raises(InvalidClaimError) as wrong:
            verify_id_token(provider, flow.exchange()["id_token"], flow.nonce)
        assert wrong.value.claim == claim, switch

    provider.misbehave = {"wrong_acr"}
    claims = jwt.decode(login(provider).exchange()["id_token"], key_set).claims
    assert claims["acr"] not in ("eidas1", None)
    provider.misbehave = {"wrong_issuer"}
    claims = jwt.decode(login(provider).exchange()["id_token"], key_set).claims
    assert claims["iss"] == IMPOSTOR_ISSUER

    provider.misbehave = set()
    flow = login(provider)
    verify_id_token(provider, flow.exchange()["id_token"], flow.nonce)


@pytest.mark.parametrize("profile", ["franceconnect", "proconnect"])
def test_misbehaving_userinfo(start: Callable[..., TestProvider], profile: str) -> None:
    provider = ready(start, profile)

    provider.misbehave = {"unsigned_userinfo"}
    response = userinfo(provider, login(provider).exchange()["access_token"])
    assert response.headers["Content-Type"] == "application/json"
    assert response.json()["sub"] == "user-1"

    provider.misbehave = {"tampered_userinfo"}
    response = userinfo(provider, login(provider).exchange()["access_token"])
    with pytest.raises(BadSignatureError):
        userinfo_jwt(provider, response)

    for switch in ("wrong_userinfo_issuer", "wrong_issuer"):
        provider.misbehave = {switch}
        response = userinfo(provider, login(provider).exchange()["access_token"])
        with pytest.raises(InvalidClaimError) as wrong:
            userinfo_jwt(provider, response)
        assert wrong.value.claim == "iss"


# -- the Flask relying-party client, end to end -----------------------------------------


def flask_rp(provider: TestProvider, **claims_options: Any) -> Flask:
    """A minimal Authlib Flask client, configured the way the identity module should be."""
    app = Flask("rp")
    app.testing = True  # let the client's exceptions reach the test
    app.secret_key = "test"
    oauth = OAuth(app)
    oauth.register(
        "idp",
        client_id=CLIENT.client_id,
        client_secret=CLIENT.client_secret,
        server_metadata_url=provider.discovery_url,
        client_kwargs={
            "scope": SCOPES[provider.profile],
            "token_endpoint_auth_method": "client_secret_post",
        },
    )
    idp: Any = oauth.create_client("idp")

    @app.get("/login")
    def start_login() -> Any:
        return idp.authorize_redirect(
            REDIRECT_URI,
            state=generate_token(48),
            nonce=generate_token(48),
            **EXTRA[provider.profile],
        )

    @app.get("/auth/callback")
    def callback() -> dict[str, Any]:
        options = claims_options or None
        token = idp.authorize_access_token(claims_options=options)
        session["id_token"] = token["id_token"]
        return dict(token["userinfo"])

    @app.get("/logout")
    def logout() -> Any:
        return idp.logout_redirect(
            LOGGED_OUT_URI, id_token_hint=session["id_token"], state=generate_token(48)
        )

    @app.get("/auth/logged-out")
    def logged_out() -> dict[str, Any]:
        return dict(idp.validate_logout_response())

    return app


def browse(provider: TestProvider, app: Flask) -> Any:
    """Log in through the relying party: its redirect → provider → its callback."""
    client = app.test_client()
    response = client.get("/login")
    assert response.status_code == 302
    callback = provider.visit(response.headers["Location"])
    return client, client.get(callback.removeprefix("https://poitiers.agora.test"))


def test_authlib_flask_client_end_to_end(provider: TestProvider) -> None:
    app = flask_rp(provider)
    client, response = browse(provider, app)
    assert response.status_code == 200, response.text
    assert response.json is not None and response.json["sub"] == "user-1"

    response = client.get("/logout")
    back = provider.visit(response.headers["Location"])
    assert back.startswith(LOGGED_OUT_URI + "?state=")
    response = client.get(back.removeprefix("https://poitiers.agora.test"))
    assert response.status_code == 200
    assert provider.logouts == ["user-1"]


@pytest.mark.parametrize(
    ("switch", "caught"),
    [
        ("tampered_id_token", BadSignatureError),
        ("wrong_nonce", InvalidClaimError),
        ("wrong_issuer", InvalidClaimError),
    ],
)
def test_authlib_flask_client_rejects(
    fc: TestProvider, switch: str, caught: type[Exception]
) -> None:
    fc.misbehave = {switch}
    with pytest.raises(caught):
        browse(fc, flask_rp(fc))


def test_authlib_flask_client_needs_claims_options_for_acr(fc: TestProvider) -> None:
    """Authlib does not check ``acr``; and ``claims_options`` replaces its ``iss`` check."""
    fc.misbehave = {"wrong_acr"}
    _, response = browse(fc, flask_rp(fc))
    assert response.status_code == 200  # accepted by default!
    acr = {"essential": True, "value": "eidas1"}
    with pytest.raises(InvalidClaimError):
        browse(fc, flask_rp(fc, acr=acr))

    fc.misbehave = {"wrong_issuer"}
    _, response = browse(fc, flask_rp(fc, acr=acr))
    assert response.status_code == 200  # iss no longer checked: pass it too
    with pytest.raises(InvalidClaimError):
        browse(fc, flask_rp(fc, acr=acr, iss={"essential": True, "value": fc.issuer}))

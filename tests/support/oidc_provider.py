"""A FranceConnect v2 / ProConnect / generic OpenID provider for tests, over real HTTP.

Built from Authlib's own server components (``flask_oauth2.AuthorizationServer``,
``AuthorizationCodeGrant`` + ``OpenIDCode(require_nonce=True)``, ``UserInfoEndpoint``,
``rpinitiated.EndSessionEndpoint``, a bearer ``ResourceProtector``), with in-memory storage, an
ES256 key generated at start, and the profile rules of the French providers enforced on top
(as the FranceConnect and ProConnect partner documentation states them):

* ``/authorize``: ``scope`` contains ``openid``; FranceConnect and ProConnect require ``state``
  and ``nonce`` of at least 32 characters; FranceConnect requires ``acr_values`` (values from
  ``acr_values_supported``); ProConnect answers any parameter outside its list with a 400 page
  (its ``Y000400`` rule). Those profile checks come first and answer **400** with a JSON body
  ``{"error": "invalid_request", "error_description": ...}`` (the real providers show an error
  page, they do not redirect). The rest is Authlib's: unknown client → 400 ``invalid_client``,
  unregistered (exact match) ``redirect_uri`` → 400, unsupported scope → redirect with
  ``invalid_scope``; no logged-in user → redirect with ``error=login_required``.
* Codes live 30 s and are single use: a replayed code → ``invalid_grant`` (and the tokens issued
  with it are revoked). Access tokens live 60 s. No refresh tokens.
* ``/token``: ``client_secret_post`` only; an ``Authorization`` header → 401 ``invalid_client``.
* ``id_token``: ES256 with ``kid``; ``iss aud sub nonce acr amr auth_time iat exp at_hash``;
  ``aud`` is the client id (a string). No identity claims in it: they come from ``/userinfo``.
* ``/userinfo`` (GET or POST, bearer token in the header): FranceConnect and ProConnect answer
  ``application/jwt`` (ES256, ``iss``, ``aud``, ``sub`` + the claims the scopes release, one
  scope per claim, FranceConnect's ``identite_pivot`` grouping the pivot identity). The generic
  profile answers ``application/json`` with the standard OpenID scope mapping (``profile``,
  ``email``), unless ``start_provider("generic", signed_userinfo=True)``.
* ``/session/end`` (GET): ``id_token_hint`` (an ID token this provider signed),
  ``post_logout_redirect_uri`` registered for the token's client and ``state`` (FranceConnect /
  ProConnect: ≥ 32 characters; generic: optional) → 302 to the URI with ``state``; anything else
  → 400. It also logs the current user out (``login_as`` again to log back in).
* The generic profile additionally supports PKCE (``S256``); FranceConnect and ProConnect do not
  advertise it, and ProConnect refuses ``code_challenge`` as an unknown parameter.

``misbehave`` switches (see ``MISBEHAVIOURS``) make one answer wrong on purpose, for the relying
party's negative tests.
"""

from __future__ import annotations

import base64
import hmac
import json
import secrets
import threading
import time
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any, Literal, cast, get_args
from urllib.parse import urljoin

import requests
from authlib.integrations.flask_oauth2 import AuthorizationServer, ResourceProtector
from authlib.oauth2 import OAuth2Error
from authlib.oauth2.rfc6749 import grants
from authlib.oauth2.rfc6749.errors import (
    InvalidClientError,
    InvalidGrantError,
    InvalidRequestError,
)
from authlib.oauth2.rfc6750 import BearerTokenValidator
from authlib.oauth2.rfc7636 import CodeChallenge
from authlib.oidc.core import AuthorizationCodeMixin as OIDCAuthorizationCodeMixin
from authlib.oidc.core import OpenIDCode, UserInfo, UserInfoEndpoint
from authlib.oidc.core.errors import LoginRequiredError
from authlib.oidc.rpinitiated import EndSessionEndpoint
from flask import Flask, Response, jsonify, request
from joserfc.jwk import ECKey, KeySet
from werkzeug.exceptions import HTTPException
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

Profile = Literal["franceconnect", "proconnect", "generic"]
PROFILES: tuple[str, ...] = get_args(Profile)

PREFIX = "/api/v2"
AUTHORIZE_PATH = f"{PREFIX}/authorize"
TOKEN_PATH = f"{PREFIX}/token"
USERINFO_PATH = f"{PREFIX}/userinfo"
JWKS_PATH = f"{PREFIX}/jwks"
END_SESSION_PATH = f"{PREFIX}/session/end"
DISCOVERY_PATH = f"{PREFIX}/.well-known/openid-configuration"

ALG = "ES256"
CODE_LIFETIME = 30
ACCESS_TOKEN_LIFETIME = 60
ID_TOKEN_LIFETIME = 60
MIN_RANDOM_LENGTH = 32
IMPOSTOR_ISSUER = "https://impostor.invalid/api/v2"

#: The test switches ``TestProvider.misbehave`` understands.
MISBEHAVIOURS: frozenset[str] = frozenset(
    {
        "tampered_id_token",  # one byte of the id_token signature flipped
        "wrong_nonce",  # id_token carries another nonce than the one requested
        "wrong_acr",  # id_token acr other than the configured/requested one
        "wrong_issuer",  # iss of the id_token and of the userinfo JWT is an impostor
        "unsigned_userinfo",  # /userinfo answers application/json instead of a JWT
        "tampered_userinfo",  # one byte of the userinfo JWT signature flipped
        "wrong_userinfo_issuer",  # only the userinfo JWT has an impostor iss
    }
)

_FC_PIVOT = ["given_name", "family_name", "birthdate", "gender", "birthplace", "birthcountry"]
_FC_SCOPES: dict[str, list[str]] = {
    "openid": ["sub"],
    **{claim: [claim] for claim in [*_FC_PIVOT, "email", "preferred_username"]},
    "identite_pivot": _FC_PIVOT,
}
_PC_CLAIMS = [
    "given_name",
    "usual_name",
    "email",
    "uid",
    "siret",
    "siren",
    "organizational_unit",
    "phone",
    "idp_id",
    "belonging_population",
    "chorusdt",
]
_PC_SCOPES: dict[str, list[str]] = {
    "openid": ["sub"],
    **{claim: [claim] for claim in _PC_CLAIMS},
}
_GENERIC_SCOPES: dict[str, list[str]] = {
    scope: list(claims)
    for scope, claims in cast("dict[str, list[str]]", UserInfo.SCOPES_CLAIMS_MAPPING).items()
    if scope in ("openid", "profile", "email")
}
SCOPE_CLAIMS: dict[str, dict[str, list[str]]] = {
    "franceconnect": _FC_SCOPES,
    "proconnect": _PC_SCOPES,
    "generic": _GENERIC_SCOPES,
}
#: ProConnect: "tout paramètre supplémentaire dans l'URL génèrera une erreur Y000400".
PROCONNECT_AUTHORIZE_PARAMETERS = frozenset(
    {
        "response_type",
        "client_id",
        "redirect_uri",
        "scope",
        "state",
        "nonce",
        "claims",
        "prompt",
        "idp_hint",
        "acr_values",
    }
)


@dataclass
class ProviderClient:
    """A registered relying party."""

    client_id: str
    client_secret: str
    redirect_uris: list[str]
    post_logout_redirect_uris: list[str] = field(default_factory=list)


@dataclass
class _User:
    sub: str
    claims: dict[str, Any]
    auth_time: int = 0


class _Client:
    """Authlib's ``ClientMixin`` interface over a ``ProviderClient``."""

    def __init__(self, provider: TestProvider, registration: ProviderClient) -> None:
        self.provider = provider
        self.registration = registration
        self.client_id = registration.client_id

    @property
    def client_metadata(self) -> dict[str, Any]:
        metadata: dict[str, Any] = {
            "post_logout_redirect_uris": list(self.registration.post_logout_redirect_uris),
            "id_token_signed_response_alg": ALG,
        }
        if self.provider.signed_userinfo and "unsigned_userinfo" not in self.provider.misbehave:
            metadata["userinfo_signed_response_alg"] = ALG
        return metadata

    def get_client_id(self) -> str:
        return self.client_id

    def get_default_redirect_uri(self) -> None:
        return None  # redirect_uri is always required

    def get_allowed_scope(self, scope: str | None) -> str:
        return scope or ""

    def check_redirect_uri(self, redirect_uri: str) -> bool:
        return redirect_uri in self.registration.redirect_uris

    def check_client_secret(self, client_secret: str) -> bool:
        return hmac.compare_digest(client_secret.encode(), self.registration.client_secret.encode())

    def check_endpoint_auth_method(self, method: str, endpoint: str) -> bool:
        return method == "client_secret_post"

    def check_response_type(self, response_type: str) -> bool:
        return response_type == "code"

    def check_grant_type(self, grant_type: str) -> bool:
        return grant_type == "authorization_code"


class _AuthorizationCode(OIDCAuthorizationCodeMixin):  # type: ignore[misc]  # authlib is untyped
    def __init__(
        self,
        *,
        code: str,
        client_id: str,
        redirect_uri: str,
        scope: str,
        sub: str,
        nonce: str | None,
        auth_time: int,
        acr: str,
        code_challenge: str | None,
        code_challenge_method: str | None,
    ) -> None:
        self.code = code
        self.client_id = client_id
        self.redirect_uri = redirect_uri
        self.scope = scope
        self.sub = sub
        self.nonce = nonce
        self.auth_time = auth_time
        self.acr = acr
        self.code_challenge = code_challenge
        self.code_challenge_method = code_challenge_method
        self.issued_at = time.time()
        self.used = False

    def get_redirect_uri(self) -> str:
        return self.redirect_uri

    def get_scope(self) -> str:
        return self.scope

    def get_nonce(self) -> str | None:
        return self.nonce

    def get_auth_time(self) -> int:
        return self.auth_time

    def get_acr(self) -> str:
        return self.acr

    def get_amr(self) -> list[str]:
        return ["pwd"]

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + CODE_LIFETIME


@dataclass
class _Token:
    """Authlib's ``TokenMixin`` interface (``UserInfoEndpoint`` reads ``.scope``)."""

    provider: TestProvider
    access_token: str
    client_id: str
    sub: str
    scope: str
    code: str | None
    expires_in: int
    issued_at: float = field(default_factory=time.time)
    revoked: bool = False

    def check_client(self, client: _Client) -> bool:
        return client.client_id == self.client_id

    def get_scope(self) -> str:
        return self.scope

    def get_expires_in(self) -> int:
        return self.expires_in

    def is_expired(self) -> bool:
        return time.time() > self.issued_at + self.expires_in

    def is_revoked(self) -> bool:
        return self.revoked

    def get_user(self) -> _User | None:
        return self.provider.users.get(self.sub)

    def get_client(self) -> _Client | None:
        return self.provider._query_client(self.client_id)


def _provider_of(server: Any) -> TestProvider:
    return cast(TestProvider, server.provider)


def _tamper(jws: str) -> str:
    """Flip one byte of a compact JWS signature."""
    head, payload, signature = jws.split(".")
    raw = bytearray(base64.urlsafe_b64decode(signature + "=" * (-len(signature) % 4)))
    raw[len(raw) // 2] ^= 0x01
    return ".".join([head, payload, base64.urlsafe_b64encode(raw).rstrip(b"=").decode()])


class _CodeGrant(grants.AuthorizationCodeGrant):  # type: ignore[misc]  # authlib is untyped
    TOKEN_ENDPOINT_AUTH_METHODS = ["client_secret_post"]  # noqa: RUF012  (authlib's shape)

    def authenticate_token_endpoint_client(self) -> _Client:
        if self.request.headers.get("Authorization"):
            raise InvalidClientError(
                status_code=401,
                description="Only client_secret_post is accepted: send client_id and "
                "client_secret in the request body, not in an Authorization header.",
            )
        return cast(_Client, super().authenticate_token_endpoint_client())

    def save_authorization_code(self, code: str, oauth_request: Any) -> None:
        provider = _provider_of(self.server)
        user = cast(_User, oauth_request.user)
        data = oauth_request.payload.data
        item = _AuthorizationCode(
            code=code,
            client_id=oauth_request.client.client_id,
            redirect_uri=oauth_request.payload.redirect_uri,
            scope=oauth_request.scope,
            sub=user.sub,
            nonce=data.get("nonce"),
            auth_time=user.auth_time,
            acr=provider.acr,
            code_challenge=data.get("code_challenge"),
            code_challenge_method=data.get("code_challenge_method"),
        )
        with provider._lock:
            provider._codes[code] = item

    def query_authorization_code(self, code: str, client: _Client) -> _AuthorizationCode:
        provider = _provider_of(self.server)
        with provider._lock:
            item = provider._codes.get(code)
            if item is None or item.client_id != client.client_id:
                raise InvalidGrantError("Unknown authorization code.")
            if item.used:
                for token in provider._tokens.values():
                    if token.code == code:
                        token.revoked = True
                raise InvalidGrantError("The authorization code has already been used.")
            item.used = True  # single use, even if this exchange fails later
            if item.is_expired():
                raise InvalidGrantError("The authorization code has expired.")
            return item

    def delete_authorization_code(self, authorization_code: _AuthorizationCode) -> None:
        authorization_code.used = True  # kept, so that a replay is recognised

    def authenticate_user(self, authorization_code: _AuthorizationCode) -> _User | None:
        return _provider_of(self.server).users.get(authorization_code.sub)


class _OpenIDCode(OpenIDCode):  # type: ignore[misc]  # authlib is untyped
    def __init__(self, provider: TestProvider) -> None:
        super().__init__(require_nonce=True)
        self.provider = provider

    def exists_nonce(self, nonce: str, oauth_request: Any) -> bool:
        client_id = oauth_request.payload.client_id
        with self.provider._lock:
            return any(
                code.nonce == nonce and code.client_id == client_id
                for code in self.provider._codes.values()
            )

    def resolve_client_private_key(self, client: _Client) -> KeySet:
        return self.provider._private_keys  # a set of one: joserfc writes its kid

    def get_client_algorithm(self, client: _Client) -> str:
        return ALG

    def get_client_claims(self, client: _Client) -> dict[str, Any]:
        issuer = self.provider.issuer
        if "wrong_issuer" in self.provider.misbehave:
            issuer = IMPOSTOR_ISSUER
        return {"iss": issuer, "aud": client.client_id, "exp": int(time.time()) + ID_TOKEN_LIFETIME}

    def generate_user_info(self, user: _User, scope: str) -> dict[str, Any]:
        return {"sub": user.sub}  # identity claims are only released by /userinfo

    def get_authorization_code_claims(self, authorization_code: Any) -> dict[str, Any]:
        claims = dict(super().get_authorization_code_claims(authorization_code))
        misbehave = self.provider.misbehave
        if "wrong_nonce" in misbehave:
            claims["nonce"] = secrets.token_urlsafe(36)
        if "wrong_acr" in misbehave:
            claims["acr"] = "eidas2" if claims.get("acr") != "eidas2" else "eidas3"
        return claims

    def process_token(self, grant: Any, response: Any) -> dict[str, Any]:
        token = cast("dict[str, Any]", super().process_token(grant, response))
        if "id_token" in token and "tampered_id_token" in self.provider.misbehave:
            token["id_token"] = _tamper(token["id_token"])
        return token


class _BearerValidator(BearerTokenValidator):  # type: ignore[misc]  # authlib is untyped
    def __init__(self, provider: TestProvider) -> None:
        super().__init__()
        self.provider = provider

    def authenticate_token(self, token_string: str) -> _Token | None:
        return self.provider._tokens.get(token_string)


class _UserInfoEndpoint(UserInfoEndpoint):  # type: ignore[misc]  # authlib is untyped
    def __init__(self, provider: TestProvider, resource_protector: Any) -> None:
        super().__init__(resource_protector=resource_protector)
        self.provider = provider

    def get_issuer(self) -> str:
        if self.provider.misbehave & {"wrong_issuer", "wrong_userinfo_issuer"}:
            return IMPOSTOR_ISSUER
        return self.provider.issuer

    def generate_user_info(self, user: _User, scope: str) -> dict[str, Any]:
        return self.provider._released_claims(user, scope)

    def resolve_private_key(self) -> KeySet:
        return self.provider._private_keys

    def get_supported_algorithms(self) -> list[str]:
        return [ALG]

    def __call__(self, oauth_request: Any) -> tuple[int, Any, list[tuple[str, str]]]:
        status, body, headers = super().__call__(oauth_request)
        if isinstance(body, str) and "tampered_userinfo" in self.provider.misbehave:
            body = _tamper(body)
        return status, body, headers


class _EndSessionEndpoint(EndSessionEndpoint):  # type: ignore[misc]  # authlib is untyped
    def __init__(self, provider: TestProvider) -> None:
        super().__init__()
        self.provider = provider

    def validate_request(self, oauth_request: Any) -> Any:
        data = oauth_request.payload.data
        for name in ("id_token_hint", "post_logout_redirect_uri"):
            if not data.get(name):
                raise InvalidRequestError(f"Missing '{name}'.")
        state = data.get("state")
        if self.provider.profile != "generic" and (not state or len(state) < MIN_RANDOM_LENGTH):
            raise InvalidRequestError(
                f"'state' is required and must be at least {MIN_RANDOM_LENGTH} characters."
            )
        try:
            validated = super().validate_request(oauth_request)
        except InvalidRequestError as error:
            if not error.description:  # joserfc's BadSignatureError has none
                error.description = "'id_token_hint' has an invalid signature."
            raise
        claims = validated.id_token_claims or {}
        if claims.get("iss") != self.provider.issuer:
            raise InvalidRequestError("'id_token_hint' was not issued by this provider.")
        if validated.client is None:
            raise InvalidRequestError("'id_token_hint' names no client of this provider.")
        if validated.redirect_uri is None:
            raise InvalidRequestError(
                "'post_logout_redirect_uri' is not registered for this client."
            )
        return validated

    def get_server_jwks(self) -> KeySet:
        return self.provider._public_keys

    def get_algorithms(self) -> list[str]:
        return [ALG]

    def end_session(self, end_session_request: Any) -> None:
        sub = (end_session_request.id_token_claims or {}).get("sub")
        self.provider.logouts.append(str(sub))
        if self.provider.current_sub == sub:
            self.provider.current_sub = None


class _QuietHandler(WSGIRequestHandler):
    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        pass


class TestProvider:
    """A running test identity provider. Create it with ``start_provider``."""

    __test__ = False  # not a pytest test class

    profile: Profile
    issuer: str
    discovery_url: str
    misbehave: set[str]

    def __init__(self, profile: Profile, *, acr: str, signed_userinfo: bool) -> None:
        self.profile = profile
        self.acr = acr
        self.signed_userinfo = signed_userinfo
        self.misbehave = set()
        self.clients: dict[str, ProviderClient] = {}
        self.users: dict[str, _User] = {}
        self.current_sub: str | None = None
        self.logouts: list[str] = []
        #: exceptions raised inside the provider (they also answer 500)
        self.errors: list[BaseException] = []
        self._codes: dict[str, _AuthorizationCode] = {}
        self._tokens: dict[str, _Token] = {}
        self._lock = threading.RLock()
        key = ECKey.generate_key("P-256", parameters={"use": "sig", "alg": ALG}, auto_kid=True)
        self._private_keys = KeySet([key])
        self._public_keys = KeySet.import_key_set(self._private_keys.as_dict(private=False))
        self.app = self._build_app()
        self._server: BaseWSGIServer = make_server(
            "127.0.0.1", 0, self.app, threaded=True, request_handler=_QuietHandler
        )
        self.base_url = f"http://127.0.0.1:{self._server.server_port}"
        self.issuer = self.base_url + PREFIX
        self.discovery_url = self.base_url + DISCOVERY_PATH
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name=f"oidc-{profile}",
            daemon=True,
        )
        self._thread.start()

    # -- test controls -------------------------------------------------------------------

    def add_client(self, client: ProviderClient) -> None:
        self.clients[client.client_id] = client

    def set_user(self, sub: str, claims: Mapping[str, Any]) -> None:
        """Create or replace a user; ``claims`` are released by ``/userinfo`` per scope."""
        previous = self.users.get(sub)
        self.users[sub] = _User(sub, dict(claims), previous.auth_time if previous else 0)

    def login_as(self, sub: str) -> None:
        """Authorize requests are approved, without any page, as this user from now on."""
        if sub not in self.users:
            raise KeyError(f"unknown user {sub!r}: call set_user first")
        self.users[sub].auth_time = int(time.time())
        self.current_sub = sub

    def logout(self) -> None:
        """No current user: authorize answers ``error=login_required``."""
        self.current_sub = None

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)

    # -- conveniences for relying-party tests --------------------------------------------

    @property
    def authorization_endpoint(self) -> str:
        return self.base_url + AUTHORIZE_PATH

    @property
    def token_endpoint(self) -> str:
        return self.base_url + TOKEN_PATH

    @property
    def userinfo_endpoint(self) -> str:
        return self.base_url + USERINFO_PATH

    @property
    def jwks_uri(self) -> str:
        return self.base_url + JWKS_PATH

    @property
    def end_session_endpoint(self) -> str:
        return self.base_url + END_SESSION_PATH

    def public_jwks(self) -> dict[str, Any]:
        return cast("dict[str, Any]", self._public_keys.as_dict(private=False))

    def visit(self, url: str) -> str:
        """GET ``url`` as the browser would and return where the provider redirects to.

        Use it for the authorize and session/end URLs the relying party redirects to; raises
        ``AssertionError`` (with the body) when the provider answers anything but a redirect.
        """
        response = requests.get(url, allow_redirects=False, timeout=10)
        if response.status_code not in (302, 303):
            raise AssertionError(
                f"{self.profile} provider answered {response.status_code}: {response.text}"
            )
        return urljoin(url, response.headers["Location"])

    # -- internals -----------------------------------------------------------------------

    def _query_client(self, client_id: str | None) -> _Client | None:
        registration = self.clients.get(client_id or "")
        return _Client(self, registration) if registration else None

    def _save_token(self, token: Mapping[str, Any], oauth_request: Any) -> None:
        code = oauth_request.authorization_code
        item = _Token(
            provider=self,
            access_token=token["access_token"],
            client_id=oauth_request.client.client_id,
            sub=oauth_request.user.sub,
            scope=token.get("scope", ""),
            code=code.code if code is not None else None,
            expires_in=int(token.get("expires_in", ACCESS_TOKEN_LIFETIME)),
        )
        with self._lock:
            self._tokens[item.access_token] = item

    def _released_claims(self, user: _User, scope: str) -> dict[str, Any]:
        mapping = SCOPE_CLAIMS[self.profile]
        released: dict[str, Any] = {"sub": user.sub}
        for name in scope.split():
            for claim in mapping.get(name, []):
                if claim in user.claims:
                    released[claim] = user.claims[claim]
        return released

    def _acr_values_supported(self) -> list[str]:
        if self.profile == "proconnect":
            return sorted({self.acr, "eidas1", "eidas2", "eidas3"})
        return [self.acr]

    def _authorize_problem(self, args: Any) -> str | None:
        """The profile rule the authorize request breaks, if any."""
        if self.profile == "proconnect":
            unknown = sorted(set(args) - PROCONNECT_AUTHORIZE_PARAMETERS)
            if unknown:
                return f"Y000400: unsupported parameter(s): {', '.join(unknown)}."
        if "openid" not in (args.get("scope") or "").split():
            return "'scope' must contain 'openid'."
        if self.profile != "generic":
            for name in ("state", "nonce"):
                value = args.get(name) or ""
                if len(value) < MIN_RANDOM_LENGTH:
                    return (
                        f"'{name}' is required and must be at least "
                        f"{MIN_RANDOM_LENGTH} characters (got {len(value)})."
                    )
        acr_values = (args.get("acr_values") or "").split()
        if self.profile == "franceconnect" and not acr_values:
            return "'acr_values' is required (e.g. 'eidas1')."
        if self.profile == "franceconnect":
            unsupported = [
                value for value in acr_values if value not in self._acr_values_supported()
            ]
            if unsupported:
                return f"'acr_values' not supported: {' '.join(unsupported)}."
        if args.get("claims"):
            try:
                claims = json.loads(args["claims"])
            except ValueError:
                claims = None
            if not isinstance(claims, dict):
                return "'claims' must be a JSON object."
        return None

    def _discovery(self) -> dict[str, Any]:
        mapping = SCOPE_CLAIMS[self.profile]
        document: dict[str, Any] = {
            "issuer": self.issuer,
            "authorization_endpoint": self.authorization_endpoint,
            "token_endpoint": self.token_endpoint,
            "userinfo_endpoint": self.userinfo_endpoint,
            "jwks_uri": self.jwks_uri,
            "end_session_endpoint": self.end_session_endpoint,
            "response_types_supported": ["code"],
            "response_modes_supported": ["query"],
            "grant_types_supported": ["authorization_code"],
            "subject_types_supported": ["public"],
            "scopes_supported": list(mapping),
            "claims_supported": sorted(
                {claim for claims in mapping.values() for claim in claims}
                | {"iss", "aud", "exp", "iat", "auth_time", "nonce", "acr", "amr"}
            ),
            "acr_values_supported": self._acr_values_supported(),
            "id_token_signing_alg_values_supported": [ALG],
            "token_endpoint_auth_methods_supported": ["client_secret_post"],
            "claims_parameter_supported": True,
            "request_parameter_supported": False,
            "request_uri_parameter_supported": False,
            "prompt_values_supported": ["login", "none"],
        }
        if self.signed_userinfo:
            document["userinfo_signing_alg_values_supported"] = [ALG]
        if self.profile == "generic":
            document["code_challenge_methods_supported"] = ["S256"]
        return document

    def _build_app(self) -> Flask:
        app = Flask(__name__)
        app.config.update(
            OAUTH2_TOKEN_EXPIRES_IN={"authorization_code": ACCESS_TOKEN_LIFETIME},
            OAUTH2_REFRESH_TOKEN_GENERATOR=False,
            OAUTH2_SCOPES_SUPPORTED=list(SCOPE_CLAIMS[self.profile]),
        )
        server = AuthorizationServer(
            app, query_client=self._query_client, save_token=self._save_token
        )
        server.provider = self
        extensions: list[Any] = [_OpenIDCode(self)]
        if self.profile == "generic":
            pkce = CodeChallenge(required=False)
            pkce.SUPPORTED_CODE_CHALLENGE_METHOD = ["S256"]
            extensions.append(pkce)
        server.register_grant(_CodeGrant, extensions)
        protector = ResourceProtector()
        protector.register_token_validator(_BearerValidator(self))
        server.register_endpoint(_UserInfoEndpoint(self, protector))
        server.register_endpoint(_EndSessionEndpoint(self))

        def refuse(description: str) -> Response:
            response = jsonify(error="invalid_request", error_description=description)
            response.status_code = 400
            return response

        @app.get(DISCOVERY_PATH)
        def discovery() -> Response:
            return jsonify(self._discovery())

        @app.get(JWKS_PATH)
        def jwks() -> Response:
            return jsonify(self.public_jwks())

        @app.get(AUTHORIZE_PATH)
        def authorize() -> Response:
            problem = self._authorize_problem(request.args)
            if problem:
                return refuse(problem)
            user = self.users.get(self.current_sub or "")
            try:
                grant = server.get_consent_grant(end_user=user)
            except OAuth2Error as error:
                return cast(Response, server.handle_error_response(None, error))
            if user is None:
                not_logged_in = LoginRequiredError(
                    description="No user is logged in at the provider (see login_as).",
                    redirect_uri=grant.redirect_uri,
                    state=request.args.get("state"),
                )
                return cast(Response, server.handle_error_response(None, not_logged_in))
            return cast(
                Response, server.create_authorization_response(grant_user=user, grant=grant)
            )

        @app.post(TOKEN_PATH)
        def token() -> Response:
            return cast(Response, server.create_token_response())

        @app.route(USERINFO_PATH, methods=["GET", "POST"])
        def userinfo() -> Response:
            return cast(Response, server.create_endpoint_response("userinfo"))

        @app.get(END_SESSION_PATH)
        def end_session() -> Response:
            response = server.create_endpoint_response("end_session")
            if response is None:  # validate_request makes this unreachable
                return refuse("Logout without a post_logout_redirect_uri.")
            return cast(Response, response)

        @app.errorhandler(Exception)
        def crashed(error: Exception) -> Response | HTTPException:
            if isinstance(error, HTTPException):
                return error
            self.errors.append(error)
            response = jsonify(error="server_error", error_description=repr(error))
            response.status_code = 500
            return response

        return app


def start_provider(
    profile: str, *, acr: str = "eidas1", signed_userinfo: bool | None = None
) -> TestProvider:
    """Start a provider on 127.0.0.1 (a free port) in a daemon thread; ``stop()`` it after.

    ``signed_userinfo`` defaults to True for FranceConnect/ProConnect (``application/jwt``) and
    False for the generic profile (``application/json``).
    """
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; one of {', '.join(PROFILES)}")
    if signed_userinfo is None:
        signed_userinfo = profile != "generic"
    return TestProvider(cast(Profile, profile), acr=acr, signed_userinfo=signed_userinfo)


@contextmanager
def provider_factory() -> Iterator[Callable[..., TestProvider]]:
    """Yield ``start_provider``; every provider started through it is stopped on exit.

    In a conftest::

        @pytest.fixture
        def start_idp() -> Iterator[Callable[..., TestProvider]]:
            with provider_factory() as start:
                yield start
    """
    started: list[TestProvider] = []

    def start(profile: str, **options: Any) -> TestProvider:
        provider = start_provider(profile, **options)
        started.append(provider)
        return provider

    try:
        yield start
    finally:
        for provider in started:
            provider.stop()

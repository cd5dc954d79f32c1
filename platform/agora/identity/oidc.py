"""OpenID Connect sign-in with Authlib's client: FranceConnect v2 (residents), ProConnect
(agents and elected members) — with each commune's own credentials — and a generic
provider for consultancy staff.

The profile rules of FranceConnect and ProConnect are applied here: state and nonce of 48
characters (Authlib's defaults are shorter than the 32 required), ``acr_values=eidas1``
sent and ``acr`` checked for FranceConnect, no extra authorize parameter for ProConnect,
the client secret in the request body, ID token and userinfo (a signed JWT) verified
against the provider's published keys.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlencode

import requests
from authlib.common.security import generate_token
from authlib.integrations.requests_client import OAuth2Session
from flask import current_app
from flask_babel import gettext as _
from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import KeySet
from joserfc.jwt import ClaimsOption
from sqlalchemy import select

from agora.db import DbSession
from agora.identity import crypto
from agora.identity.models import IdentityProvider, ProviderKind
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant

STAFF = "staff"
STATE_LENGTH = 48
FRANCECONNECT_ACR = "eidas1"
SCOPES = {
    ProviderKind.FRANCECONNECT.value: "openid given_name family_name email",
    ProviderKind.PROCONNECT.value: "openid given_name usual_name email siret",
    STAFF: "openid profile email",
}
_HTTP_TIMEOUT = 10
_DISCOVERY_TTL = 3600.0
_discovery_cache: dict[str, tuple[float, dict[str, Any]]] = {}


class SignInRefused(Exception):
    """The provider's answer cannot be trusted or does not match; ``message`` says why."""


@dataclass(frozen=True)
class ProviderConfig:
    kind: str
    discovery_url: str
    client_id: str
    client_secret: str
    siret: str | None = None

    @property
    def scope(self) -> str:
        return SCOPES[self.kind]

    @property
    def signs_userinfo(self) -> bool:
        # FranceConnect v2 and ProConnect answer /userinfo with a signed JWT.
        return self.kind != STAFF


def provider_for(session: DbSession, kind: str, tenant: Tenant | None) -> ProviderConfig | None:
    """The configured provider of that kind for the commune (or the staff provider)."""
    if kind == STAFF:
        config = current_app.config
        if not config.get("AGORA_STAFF_OIDC_DISCOVERY_URL"):
            return None
        return ProviderConfig(
            STAFF,
            config["AGORA_STAFF_OIDC_DISCOVERY_URL"],
            config["AGORA_STAFF_OIDC_CLIENT_ID"],
            config["AGORA_STAFF_OIDC_CLIENT_SECRET"],
        )
    if tenant is None or kind not in {k.value for k in ProviderKind}:
        return None
    with tenant_scope(session, tenant.id):
        row = session.execute(
            select(IdentityProvider).where(
                IdentityProvider.tenant_id == tenant.id, IdentityProvider.kind == ProviderKind(kind)
            )
        ).scalar_one_or_none()
        if row is None:
            return None
        return ProviderConfig(
            kind, row.discovery_url, row.client_id, crypto.decrypt(row.client_secret), row.siret
        )


def providers_enabled(session: DbSession, tenant: Tenant | None) -> list[str]:
    kinds = [k.value for k in ProviderKind] if tenant is not None else [STAFF]
    return [kind for kind in kinds if provider_for(session, kind, tenant) is not None]


def discover(url: str) -> dict[str, Any]:
    cached = _discovery_cache.get(url)
    if cached and time.monotonic() - cached[0] < _DISCOVERY_TTL:
        return cached[1]
    try:
        response = requests.get(url, timeout=_HTTP_TIMEOUT)
        response.raise_for_status()
        metadata: dict[str, Any] = response.json()
    except (requests.RequestException, ValueError) as error:
        raise SignInRefused(_("the identity provider cannot be reached")) from error
    _discovery_cache[url] = (time.monotonic(), metadata)
    return metadata


def _client(config: ProviderConfig, redirect_uri: str) -> OAuth2Session:
    return OAuth2Session(
        client_id=config.client_id,
        client_secret=config.client_secret,
        scope=config.scope,
        redirect_uri=redirect_uri,
        token_endpoint_auth_method="client_secret_post",  # noqa: S106 - a method name
    )


@dataclass(frozen=True)
class PendingSignIn:
    """What the auth host keeps between the redirect and the callback."""

    url: str
    state: str
    nonce: str


def new_state() -> str:
    """A random state of the length FranceConnect and ProConnect require (≥ 32)."""
    return str(generate_token(STATE_LENGTH))


def authorization(config: ProviderConfig, redirect_uri: str) -> PendingSignIn:
    metadata = discover(config.discovery_url)
    state, nonce = new_state(), new_state()
    extra = {"acr_values": FRANCECONNECT_ACR} if config.kind == ProviderKind.FRANCECONNECT else {}
    url, _state = _client(config, redirect_uri).create_authorization_url(
        metadata["authorization_endpoint"], state=state, nonce=nonce, **extra
    )
    return PendingSignIn(url, state, nonce)


def _keys(metadata: dict[str, Any]) -> KeySet:
    try:
        response = requests.get(metadata["jwks_uri"], timeout=_HTTP_TIMEOUT)
        response.raise_for_status()
        return KeySet.import_key_set(response.json())
    except (requests.RequestException, ValueError, KeyError) as error:
        raise SignInRefused(_("the identity provider's keys cannot be read")) from error


def _verified_claims(
    token: str, keys: KeySet, *, issuer: str, audience: str, nonce: str | None = None
) -> dict[str, Any]:
    def must_be(value: str) -> ClaimsOption:
        return {"essential": True, "value": value}

    registry = (
        jwt.JWTClaimsRegistry(
            iss=must_be(issuer),
            aud=must_be(audience),
            exp={"essential": True},
            nonce=must_be(nonce),
        )
        if nonce is not None
        else jwt.JWTClaimsRegistry(iss=must_be(issuer), aud=must_be(audience))
    )
    try:
        claims: dict[str, Any] = jwt.decode(token, keys, algorithms=["ES256", "RS256"]).claims
        registry.validate(claims)
    except JoseError as error:
        raise SignInRefused(
            _("invalid token from the identity provider (%(error)s)", error=error.error)
        ) from error
    return claims


@dataclass(frozen=True)
class VerifiedIdentity:
    issuer: str
    subject: str
    id_token: str
    claims: dict[str, Any]


def complete(config: ProviderConfig, redirect_uri: str, code: str, nonce: str) -> VerifiedIdentity:
    """Exchange the code, verify the ID token and the userinfo; raise :class:`SignInRefused`."""
    metadata = discover(config.discovery_url)
    client = _client(config, redirect_uri)
    try:
        token = client.fetch_token(metadata["token_endpoint"], code=code)
    except Exception as error:  # Authlib raises OAuthError and requests' errors alike
        raise SignInRefused(_("the identity provider refused the sign-in code")) from error
    id_token = token.get("id_token")
    if not id_token:
        raise SignInRefused(_("the identity provider sent no ID token"))
    keys = _keys(metadata)
    claims = _verified_claims(
        id_token, keys, issuer=metadata["issuer"], audience=config.client_id, nonce=nonce
    )
    if config.kind == ProviderKind.FRANCECONNECT and claims.get("acr") != FRANCECONNECT_ACR:
        raise SignInRefused(_("the identity provider did not give the required assurance level"))
    userinfo = _userinfo(config, metadata, keys, token["access_token"])
    if userinfo.get("sub") != claims["sub"]:
        raise SignInRefused(_("the identity provider's answers disagree"))
    return VerifiedIdentity(metadata["issuer"], claims["sub"], id_token, {**claims, **userinfo})


def _userinfo(
    config: ProviderConfig, metadata: dict[str, Any], keys: KeySet, access_token: str
) -> dict[str, Any]:
    try:
        response = requests.get(
            metadata["userinfo_endpoint"],
            headers={"Authorization": f"Bearer {access_token}"},
            timeout=_HTTP_TIMEOUT,
        )
        response.raise_for_status()
    except requests.RequestException as error:
        raise SignInRefused(_("the identity provider did not answer about the person")) from error
    if response.headers.get("Content-Type", "").split(";")[0].strip() == "application/jwt":
        return _verified_claims(
            response.text, keys, issuer=metadata["issuer"], audience=config.client_id
        )
    if config.signs_userinfo:
        raise SignInRefused(_("the identity provider's answer about the person is not signed"))
    try:
        data: dict[str, Any] = response.json()
    except ValueError as error:
        raise SignInRefused(
            _("the identity provider's answer about the person is unreadable")
        ) from error
    return data


def end_session_url(config: ProviderConfig, id_token: str, state: str, return_uri: str) -> str:
    """The provider's logout address (id_token_hint, state and the registered return URL)."""
    metadata = discover(config.discovery_url)
    query = urlencode(
        {"id_token_hint": id_token, "state": state, "post_logout_redirect_uri": return_uri}
    )
    return f"{metadata['end_session_endpoint']}?{query}"

"""Passing a signed-in person from one host to another.

Cookies are per host, so after signing in on the ``auth.`` host (OpenID callbacks) or in
the console, the person is handed to the commune's host with a token that is signed
(forgeries are refused before any lookup), single-use and valid for one minute.
"""

from __future__ import annotations

from urllib.parse import urlencode

from flask import current_app, request
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer

from agora.extensions import db
from agora.identity.models import Account, LoginToken, TokenPurpose
from agora.identity.services import HANDOFF_TTL, TokenRefused, consume_token, issue_token
from agora.tenancy.addresses import site_address, site_host
from agora.tenancy.models import Tenant

_SALT = "agora.identity.handoff"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=_SALT)


def url_for_commune(
    account: Account,
    tenant: Tenant | None,
    *,
    method: str,
    next_path: str = "/",
    id_token: str | None = None,
) -> str:
    host = site_host(tenant)
    token = issue_token(
        db.session,
        purpose=TokenPurpose.HANDOFF,
        account=account,
        host=host,
        method=method,
        ttl=HANDOFF_TTL,
        id_token=id_token,
    )
    db.session.commit()
    signed = _serializer().dumps(token)
    query = urlencode({"token": signed, "next": next_path})
    return f"{site_address(tenant)}/login/handoff?{query}"


def accept(signed: str) -> LoginToken:
    """The hand-off record for this host; :class:`TokenRefused` if forged, stale or reused."""
    try:
        token = _serializer().loads(signed, max_age=int(HANDOFF_TTL.total_seconds()))
    except SignatureExpired as error:
        raise TokenRefused("expired") from error
    except BadSignature as error:
        raise TokenRefused("forged") from error
    return consume_token(db.session, str(token), purpose=TokenPurpose.HANDOFF, host=request.host)

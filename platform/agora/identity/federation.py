"""Who a verified OpenID identity is here: the account to sign in, created or linked as
each provider's rules say (FranceConnect by its per-commune subject, ProConnect by the
professional e-mail within the commune's SIRET, staff only if they already are staff)."""

from __future__ import annotations

from flask_babel import gettext as _
from sqlalchemy import select

from agora.db import DbSession
from agora.identity import oidc
from agora.identity.models import Account, ExternalIdentity, Role
from agora.identity.services import (
    account_by_email,
    active_grants,
    get_or_create_account,
    grant_role,
    needs_second_factor,
)
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant


def account_for(
    session: DbSession,
    config: oidc.ProviderConfig,
    tenant: Tenant | None,
    identity: oidc.VerifiedIdentity,
) -> Account:
    link = session.execute(
        select(ExternalIdentity).where(
            ExternalIdentity.issuer == identity.issuer, ExternalIdentity.subject == identity.subject
        )
    ).scalar_one_or_none()
    email = identity.claims.get("email")
    if config.kind == oidc.STAFF:
        account = account_by_email(session, email) if email else None
        if account is None or not needs_second_factor(session, account):
            raise oidc.SignInRefused(_("this account is not consultancy staff"))
        return account
    if config.kind == "proconnect":
        # ProConnect's sub is per (service, provider) pair: match on the professional e-mail,
        # and the person's organisation must be this commune.
        if config.siret and identity.claims.get("siret") != config.siret:
            raise oidc.SignInRefused(_("your organisation is not this commune"))
        if not email:
            raise oidc.SignInRefused(_("the provider gave no professional e-mail"))
        account = get_or_create_account(session, email, identity.claims.get("given_name", ""))
    elif link is not None:
        account = session.get(Account, link.account_id)
        if account is None or account.erased_at is not None:
            raise oidc.SignInRefused(_("this account was erased"))
    else:
        account = Account(email=None, display_name=identity.claims.get("given_name", ""))
        session.add(account)
        session.flush()
    if link is None:
        session.add(
            ExternalIdentity(
                account_id=account.id,
                provider=config.kind,
                issuer=identity.issuer,
                subject=identity.subject,
            )
        )
    if tenant is not None and config.kind == "franceconnect":
        with tenant_scope(session, tenant.id):
            if not active_grants(session, account, tenant):
                grant_role(session, tenant, account, Role.RESIDENT, granted_by="self:franceconnect")
    session.flush()
    return account

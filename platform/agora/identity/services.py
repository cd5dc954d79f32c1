"""Accounts, roles, sign-in tokens, TOTP and GDPR rights."""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, NamedTuple

import pyotp
from sqlalchemy import delete, or_, select, update

from agora.audit import services as audit
from agora.db import DbSession, utcnow
from agora.identity import crypto
from agora.identity.models import (
    Account,
    AccountSession,
    ExternalIdentity,
    IdentityProvider,
    LoginToken,
    ProviderKind,
    Role,
    RoleGrant,
    StaffAssignment,
    TokenPurpose,
)
from agora.identity.policy import AUTHENTICATED, PLATFORM_ADMIN, STAFF
from agora.identity.sessions import end_all_sessions
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import tenant_by_slug

MAGIC_LINK_TTL = timedelta(minutes=15)
HANDOFF_TTL = timedelta(seconds=60)
TOTP_ISSUER = "Agora"


def _aware(moment: datetime) -> datetime:
    # SQLite returns naive datetimes, stored in UTC.
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def normalise_email(email: str) -> str:
    return email.strip().lower()


def actor(account: Account | None) -> str:
    """How audit events name a person: by account number, never by e-mail, so that erasure
    leaves the audit chain intact."""
    return f"account:{account.id}" if account is not None else "anonymous"


# --- accounts and roles ------------------------------------------------------------------


def account_by_email(session: DbSession, email: str) -> Account | None:
    return session.execute(
        select(Account).where(Account.email == normalise_email(email), Account.erased_at.is_(None))
    ).scalar_one_or_none()


def get_or_create_account(session: DbSession, email: str, display_name: str = "") -> Account:
    account = account_by_email(session, email)
    if account is None:
        account = Account(email=normalise_email(email), display_name=display_name)
        session.add(account)
        session.flush()
    return account


def active_grants(session: DbSession, account: Account, tenant: Tenant) -> list[RoleGrant]:
    return list(
        session.execute(
            select(RoleGrant).where(
                RoleGrant.tenant_id == tenant.id,
                RoleGrant.account_id == account.id,
                RoleGrant.revoked_at.is_(None),
            )
        ).scalars()
    )


def holders_of(session: DbSession, tenant: Tenant, roles: tuple[Role, ...]) -> list[Account]:
    """The accounts (not erased) holding one of ``roles`` in the commune."""
    return list(
        session.execute(
            select(Account)
            .join(RoleGrant, RoleGrant.account_id == Account.id)
            .where(
                RoleGrant.tenant_id == tenant.id,
                RoleGrant.role.in_(roles),
                RoleGrant.revoked_at.is_(None),
                Account.erased_at.is_(None),
            )
            .distinct()
            .order_by(Account.id)
        ).scalars()
    )


def addresses_of(session: DbSession, tenant: Tenant, roles: tuple[Role, ...]) -> list[str]:
    """The e-mail addresses of the accounts holding one of ``roles`` in the commune."""
    return sorted({a.email for a in holders_of(session, tenant, roles) if a.email is not None})


def is_staff_of(session: DbSession, account: Account, tenant: Tenant) -> bool:
    return (
        session.get(StaffAssignment, {"account_id": account.id, "tenant_id": tenant.id}) is not None
    )


def is_staff(session: DbSession, account: Account) -> bool:
    return (
        session.execute(
            select(StaffAssignment.tenant_id)
            .where(StaffAssignment.account_id == account.id)
            .limit(1)
        ).first()
        is not None
    )


def roles_of(session: DbSession, account: Account | None, tenant: Tenant | None) -> frozenset[str]:
    """Everything ``account`` is, here: per-commune grants count only in their commune."""
    if account is None:
        return frozenset()
    roles = {AUTHENTICATED}
    if account.is_platform_admin:
        roles.add(PLATFORM_ADMIN)
    if tenant is None:
        if is_staff(session, account):
            roles.add(STAFF)
    else:
        if is_staff_of(session, account, tenant):
            roles.add(STAFF)
        roles.update(grant.role.value for grant in active_grants(session, account, tenant))
    return frozenset(roles)


def needs_second_factor(session: DbSession, account: Account) -> bool:
    """Staff and platform admins always use a second factor; others when they set one up."""
    return account.is_platform_admin or is_staff(session, account) or account.totp_confirmed


def grant_role(
    session: DbSession, tenant: Tenant, account: Account, role: Role, granted_by: str
) -> RoleGrant:
    """Grant ``role`` (once: an active grant is returned as is), recorded in the audit log."""
    existing = next((g for g in active_grants(session, account, tenant) if g.role == role), None)
    if existing is not None:
        return existing
    grant = RoleGrant(tenant_id=tenant.id, account_id=account.id, role=role, granted_by=granted_by)
    session.add(grant)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=granted_by,
        action="identity.role_granted",
        object_type="role_grant",
        object_id=grant.id,
        details={"account": account.id, "role": role.value},
    )
    return grant


def grant_role_by_email(
    session: DbSession, tenant: Tenant, email: str, role: Role, granted_by: str
) -> RoleGrant:
    """Grant ``role`` to the account of ``email``, created if it does not exist yet."""
    return grant_role(session, tenant, get_or_create_account(session, email), role, granted_by)


def revoke_grant(session: DbSession, tenant: Tenant, grant: RoleGrant, revoked_by: str) -> None:
    """End ``grant`` now, recorded in the audit log. The holder's sessions end with it: they
    sign in again with the roles they still have."""
    grant.revoked_at = utcnow()
    end_all_sessions(session, grant.account_id)
    audit.record(
        session,
        tenant,
        actor=revoked_by,
        action="identity.role_revoked",
        object_type="role_grant",
        object_id=grant.id,
        details={"account": grant.account_id, "role": grant.role.value},
    )


class Member(NamedTuple):
    """An active role grant in a commune, with the account holding it."""

    grant: RoleGrant
    account: Account


def members_of(session: DbSession, tenant: Tenant) -> list[Member]:
    """The commune's active grants, by role then e-mail address."""
    rows = session.execute(
        select(RoleGrant, Account)
        .join(Account, Account.id == RoleGrant.account_id)
        .where(RoleGrant.tenant_id == tenant.id, RoleGrant.revoked_at.is_(None))
        .order_by(RoleGrant.role, Account.email)
    ).all()
    return [Member(grant, account) for grant, account in rows]


def communes_of_staff(session: DbSession, account: Account) -> list[Tenant]:
    if account.is_platform_admin:
        return list(session.execute(select(Tenant).order_by(Tenant.name)).scalars())
    return list(
        session.execute(
            select(Tenant)
            .join(StaffAssignment, StaffAssignment.tenant_id == Tenant.id)
            .where(StaffAssignment.account_id == account.id)
            .order_by(Tenant.name)
        ).scalars()
    )


def commune_followed_by(session: DbSession, account: Account | None, slug: str) -> Tenant | None:
    """The commune ``slug`` when ``account`` works for it (a platform admin for every one);
    ``None`` otherwise, whether or not it exists (a console page then answers 404)."""
    tenant = tenant_by_slug(session, slug)
    if account is None or tenant is None or tenant not in communes_of_staff(session, account):
        return None
    return tenant


# --- signing in, in the commune's audit log ---------------------------------------------


def assign_staff(session: DbSession, tenant: Tenant, account: Account, actor: str) -> bool:
    """Let consultancy staff member ``account`` work for ``tenant``, audited there; ``False``
    when the assignment already existed (nothing written)."""
    if session.get(StaffAssignment, {"account_id": account.id, "tenant_id": tenant.id}):
        return False
    session.add(StaffAssignment(account_id=account.id, tenant_id=tenant.id))
    with tenant_scope(session, tenant.id):
        audit.record(
            session,
            tenant,
            actor=actor,
            action="identity.staff_assigned",
            object_type="account",
            object_id=account.id,
        )
    return True


def configure_provider(
    session: DbSession,
    tenant: Tenant,
    kind: ProviderKind,
    *,
    discovery_url: str,
    client_id: str,
    client_secret: str,
    siret: str | None,
    actor: str,
) -> IdentityProvider:
    """Store ``tenant``'s credentials at FranceConnect or ProConnect (the secret encrypted),
    audited."""
    with tenant_scope(session, tenant.id):
        row = session.execute(
            select(IdentityProvider).where(
                IdentityProvider.tenant_id == tenant.id, IdentityProvider.kind == kind
            )
        ).scalar_one_or_none()
        if row is None:
            row = IdentityProvider(tenant_id=tenant.id, kind=kind)
            session.add(row)
        row.discovery_url, row.client_id, row.siret = discovery_url, client_id, siret
        row.client_secret = crypto.encrypt(client_secret)
        audit.record(
            session,
            tenant,
            actor=actor,
            action="identity.provider_configured",
            object_type="identity_provider",
            object_id=kind.value,
        )
    return row


def record_sign_in(
    session: DbSession, tenant: Tenant | None, account: Account, method: str
) -> None:
    """``account`` signed in by ``method``: seen now, and said in the commune's audit log."""
    account.last_seen_at = utcnow()
    if tenant is not None:
        audit.record(
            session,
            tenant,
            actor=actor(account),
            action="identity.login",
            object_type="account",
            object_id=account.id,
            details={"method": method},
        )


def record_sign_in_failure(session: DbSession, tenant: Tenant, reason: str, via: str) -> None:
    """A refused sign-in through ``via`` (magic link, hand-off, OpenID…), in the commune's
    audit log; it holds no personal data."""
    audit.record(
        session,
        tenant,
        actor="anonymous",
        action="identity.login_failed",
        object_type="sign_in",
        object_id=via,
        details={"reason": reason},
    )


def record_sign_out(
    session: DbSession, tenant: Tenant, account: Account, *, everywhere: int | None = None
) -> None:
    """A sign-out in the commune's audit log; ``everywhere``: every session of the account
    ended at once (how many)."""
    audit.record(
        session,
        tenant,
        actor=actor(account),
        action="identity.logout",
        object_type="account",
        object_id=account.id,
        details={} if everywhere is None else {"sessions_ended": everywhere},
    )


def record_break_glass(
    session: DbSession,
    tenant: Tenant,
    account: Account | None,
    *,
    endpoint: str,
    method: str,
    path: str,
    action: str,
) -> None:
    """A platform admin used their break-glass access in the commune: said in its log."""
    audit.record(
        session,
        tenant,
        actor=actor(account),
        action="platform_admin.access",
        object_type="route",
        object_id=endpoint,
        details={"method": method, "path": path, "action": action},
    )


# --- single-use tokens -------------------------------------------------------------------


class TokenRefused(Exception):
    """A sign-in token that cannot be used; ``reason`` is unknown, expired or used."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def _hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def issue_token(
    session: DbSession,
    *,
    purpose: TokenPurpose,
    account: Account,
    host: str,
    method: str,
    ttl: timedelta,
    id_token: str | None = None,
) -> str:
    """A fresh 256-bit token; only its hash is kept."""
    token = secrets.token_urlsafe(32)
    session.add(
        LoginToken(
            token_hash=_hash(token),
            purpose=purpose,
            account_id=account.id,
            host=host,
            method=method,
            id_token=id_token,
            expires_at=utcnow() + ttl,
        )
    )
    session.flush()
    return token


def issue_magic_link(
    session: DbSession, email: str, *, tenant: Tenant | None, host: str
) -> str | None:
    """A sign-in link's token for ``email`` on ``host``, or ``None`` when none is sent.

    On a commune's site anyone may join as a resident (the account is created); the console
    (no ``tenant``) only lets in people who use a second factor, staff and platform admins.
    """
    account = get_or_create_account(session, email) if tenant else account_by_email(session, email)
    if account is None or (tenant is None and not needs_second_factor(session, account)):
        return None
    return issue_token(
        session,
        purpose=TokenPurpose.MAGIC_LINK,
        account=account,
        host=host,
        method="magic_link",
        ttl=MAGIC_LINK_TTL,
    )


def redeem_magic_link(
    session: DbSession, token: str, *, tenant: Tenant | None, host: str
) -> Account:
    """The account a sign-in link opens (used up now); on a commune's site a newcomer becomes
    a resident. Raise :class:`TokenRefused`."""
    row = consume_token(session, token, purpose=TokenPurpose.MAGIC_LINK, host=host)
    account = session.get(Account, row.account_id)
    assert account is not None
    if tenant is not None and not active_grants(session, account, tenant):
        grant_role(session, tenant, account, Role.RESIDENT, granted_by="self:magic_link")
    return account


def check_token(session: DbSession, token: str, *, purpose: TokenPurpose, host: str) -> LoginToken:
    """The token's record if it may still be used on ``host``; raise :class:`TokenRefused`."""
    row = session.execute(
        select(LoginToken).where(LoginToken.token_hash == _hash(token)).with_for_update()
    ).scalar_one_or_none()
    if row is None or row.purpose != purpose or row.host != host:
        raise TokenRefused("unknown")
    if row.used_at is not None:
        raise TokenRefused("used")
    if _aware(row.expires_at) < utcnow():
        raise TokenRefused("expired")
    return row


def consume_token(
    session: DbSession, token: str, *, purpose: TokenPurpose, host: str
) -> LoginToken:
    row = check_token(session, token, purpose=purpose, host=host)
    row.used_at = utcnow()
    session.flush()
    return row


def purge_tokens(session: DbSession, older_than: timedelta = timedelta(days=1)) -> int:
    """Delete sign-in tokens that expired more than ``older_than`` ago."""
    result = session.execute(
        delete(LoginToken).where(LoginToken.expires_at < utcnow() - older_than)
    )
    return int(getattr(result, "rowcount", 0) or 0)


# --- second factor -----------------------------------------------------------------------


def totp_provisioning(account: Account) -> tuple[str, str]:
    """Create (or return the pending) TOTP secret: ``(secret, otpauth URI)``."""
    if account.totp_secret is None:
        account.totp_secret = crypto.encrypt(pyotp.random_base32())
    secret = crypto.decrypt(account.totp_secret)
    uri = pyotp.TOTP(secret).provisioning_uri(
        name=account.email or str(account.id), issuer_name=TOTP_ISSUER
    )
    return secret, uri


def verify_totp(session: DbSession, account: Account, code: str) -> bool:
    """Whether ``code`` is the account's current code (one step of clock drift either way),
    used now: a code is accepted once, so one code cannot complete two pending sign-ins.
    The claim is one conditional UPDATE, so two requests racing with it cannot both win."""
    if account.totp_secret is None:
        return False
    totp = pyotp.TOTP(crypto.decrypt(account.totp_secret))
    typed = code.strip().replace(" ", "")
    now = totp.timecode(utcnow())
    step = next(
        (s for s in (now - 1, now, now + 1) if secrets.compare_digest(totp.generate_otp(s), typed)),
        None,
    )
    if step is None:
        return False
    claimed = session.execute(
        update(Account)
        .where(
            Account.id == account.id,
            or_(Account.totp_last_step.is_(None), Account.totp_last_step < step),
        )
        .values(totp_last_step=step, totp_confirmed=True)
    )
    return int(getattr(claimed, "rowcount", 0) or 0) == 1


# --- GDPR ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class PersonalData:
    """What the platform and one commune hold about a person."""

    document: dict[str, Any]


def export_personal_data(
    session: DbSession, account: Account, tenant: Tenant | None
) -> PersonalData:
    identities = session.execute(
        select(ExternalIdentity).where(ExternalIdentity.account_id == account.id)
    ).scalars()
    document: dict[str, Any] = {
        "account": {
            "id": account.id,
            "email": account.email,
            "display_name": account.display_name,
            "created_at": _aware(account.created_at).isoformat(),
            "last_seen_at": _aware(account.last_seen_at).isoformat()
            if account.last_seen_at
            else None,
            "second_factor": account.totp_confirmed,
            "language": account.locale,
        },
        "sessions": [
            {"site": s.host, "opened_at": _aware(s.created_at).isoformat()}
            for s in session.scalars(
                select(AccountSession)
                .where(AccountSession.account_id == account.id)
                .order_by(AccountSession.created_at)
            )
        ],
        "sign_in_providers": [
            {
                "provider": i.provider,
                "issuer": i.issuer,
                "linked_at": _aware(i.created_at).isoformat(),
            }
            for i in identities
        ],
    }
    if tenant is not None:
        document["commune"] = {
            "name": tenant.name,
            "roles": [
                {"role": g.role.value, "since": _aware(g.created_at).isoformat()}
                for g in active_grants(session, account, tenant)
            ],
        }
    return PersonalData(document)


def erase_account(session: DbSession, account: Account, tenant: Tenant | None) -> None:
    """Pseudonymise the person's fields; keep ids so aggregates and the audit chain hold.
    The erasure is recorded in the audit log of the commune where it was asked for."""
    account.email = None
    account.display_name = ""
    account.totp_secret = None
    account.totp_confirmed = False
    account.erased_at = utcnow()
    session.execute(delete(ExternalIdentity).where(ExternalIdentity.account_id == account.id))
    session.execute(delete(LoginToken).where(LoginToken.account_id == account.id))
    end_all_sessions(session, account.id)
    session.execute(delete(StaffAssignment).where(StaffAssignment.account_id == account.id))
    if tenant is not None:
        for grant in active_grants(session, account, tenant):
            grant.revoked_at = utcnow()
    session.flush()
    if tenant is not None:
        audit.record(
            session,
            tenant,
            actor=actor(account),
            action="identity.erased",
            object_type="account",
            object_id=account.id,
        )


def revoke_stale_resident_grants(session: DbSession, tenant: Tenant, months: int) -> int:
    """Retention: revoke resident grants of people not seen for ``months`` months."""
    cutoff = utcnow() - timedelta(days=30 * months)
    stale = session.execute(
        select(RoleGrant)
        .join(Account, Account.id == RoleGrant.account_id)
        .where(
            RoleGrant.tenant_id == tenant.id,
            RoleGrant.role == Role.RESIDENT,
            RoleGrant.revoked_at.is_(None),
            (Account.last_seen_at.is_(None) & (RoleGrant.created_at < cutoff))
            | (Account.last_seen_at < cutoff),
        )
    ).scalars()
    count = 0
    for grant in stale:
        grant.revoked_at = utcnow()
        count += 1
    session.flush()
    return count

"""Accounts are global (one person may act in several communes); what they may do in a
commune is a tenant-owned role grant. Consultancy staff are assigned to communes by the
operator, in a global table the console reads before any commune is bound."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    Boolean,
    ForeignKey,
    Integer,
    LargeBinary,
    String,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantEntity, UtcDateTime, new_id, str_enum, utcnow


class Role(enum.StrEnum):
    """Roles inside one commune (platform admin is a flag on the account)."""

    CONSULTANCY_STAFF = "consultancy_staff"
    COMMUNE_ADMIN = "commune_admin"
    ELECTED = "elected"
    AGENT = "agent"
    FACILITATOR = "facilitator"
    EVALUATOR = "evaluator"
    #: The draw's methodology committee: confirms the departures from a published method.
    METHODOLOGY_COMMITTEE = "methodology_committee"
    BODY_MEMBER = "body_member"
    RESIDENT = "resident"


class Account(Base):
    """A person who can sign in. Holds no demographic data."""

    __tablename__ = "account"

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    email: Mapped[str | None] = mapped_column(String(320), unique=True)
    display_name: Mapped[str] = mapped_column(String(200), default="")
    #: Break-glass access to every commune; every such access is audited.
    is_platform_admin: Mapped[bool] = mapped_column(Boolean, default=False)
    #: TOTP secret, encrypted (see identity.crypto); required for staff.
    totp_secret: Mapped[bytes | None] = mapped_column(LargeBinary)
    totp_confirmed: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Set when the person asked for erasure: personal fields are then pseudonymised.
    erased_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: The language the person reads the site in (one of ``AGORA_LANGUAGES``): their mails,
    #: notifications included, are written in it. Set from the language the session chose,
    #: at sign-in and whenever a signed-in person changes it.
    locale: Mapped[str] = mapped_column(String(5), default="fr", server_default="fr")
    #: The time step of the last second-factor code accepted: a code works once.
    totp_last_step: Mapped[int | None] = mapped_column(BigInteger)
    #: Signed into a staff member's calendar address: renewing the address moves it on, and
    #: every address given out before stops working.
    calendar_generation: Mapped[int] = mapped_column(Integer, default=0, server_default="0")


class ExternalIdentity(Base):
    """An identity at an OpenID provider (FranceConnect's ``sub`` is per commune)."""

    __tablename__ = "external_identity"
    __table_args__ = (UniqueConstraint("issuer", "subject"),)

    id: Mapped[int] = mapped_column(BigInteger, primary_key=True, default=new_id)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE")
    )
    provider: Mapped[str] = mapped_column(String(40))
    issuer: Mapped[str] = mapped_column(String(300))
    subject: Mapped[str] = mapped_column(String(255))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class StaffAssignment(Base):
    """Consultancy staff member ``account_id`` works for commune ``tenant_id``."""

    __tablename__ = "staff_assignment"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), primary_key=True
    )
    tenant_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("tenant.id", ondelete="CASCADE"), primary_key=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class RoleGrant(TenantEntity, Base):
    """``account_id`` holds ``role`` in this commune until revoked."""

    __tablename__ = "role_grant"

    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE")
    )
    role: Mapped[Role] = mapped_column(str_enum(Role))
    granted_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class TokenPurpose(enum.StrEnum):
    MAGIC_LINK = "magic_link"
    HANDOFF = "handoff"


class LoginToken(Base):
    """A single-use sign-in token; only its SHA-256 is stored.

    Global: a token is looked up by its hash, before knowing whose it is. ``host`` is the
    only host where it may be used.
    """

    __tablename__ = "login_token"

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    purpose: Mapped[TokenPurpose] = mapped_column(str_enum(TokenPurpose))
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE")
    )
    host: Mapped[str] = mapped_column(String(253))
    #: For a hand-off after an OpenID sign-in: how the person signed in, and the ID token
    #: needed to sign out of the provider.
    method: Mapped[str] = mapped_column(String(40))
    id_token: Mapped[str | None] = mapped_column(String(8000))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    used_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class AccountSession(Base):
    """A signed-in browser session; only the SHA-256 of its id is stored.

    The session cookie carries the id. A request whose id has no row here is anonymous,
    so deleting rows ends every copy of a session: sign-out, "sign out everywhere", a role
    revoked, an erasure. Global, like the account it belongs to; ``host`` is the only host
    where it is valid.
    """

    __tablename__ = "account_session"

    id_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="CASCADE"), index=True
    )
    host: Mapped[str] = mapped_column(String(253))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class ProviderKind(enum.StrEnum):
    FRANCECONNECT = "franceconnect"
    PROCONNECT = "proconnect"


class IdentityProvider(TenantEntity, Base):
    """A commune's credentials at FranceConnect or ProConnect (habilitations are per commune)."""

    __tablename__ = "identity_provider"
    __table_args__ = (UniqueConstraint("tenant_id", "kind"),)

    kind: Mapped[ProviderKind] = mapped_column(str_enum(ProviderKind))
    discovery_url: Mapped[str] = mapped_column(String(500))
    client_id: Mapped[str] = mapped_column(String(200))
    #: Encrypted with the platform key (identity.crypto), never stored in clear.
    client_secret: Mapped[bytes] = mapped_column(LargeBinary)
    #: The commune's SIRET: ProConnect agents are matched to the commune by it.
    siret: Mapped[str | None] = mapped_column(String(14))

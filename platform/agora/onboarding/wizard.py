"""Onboarding a commune in the browser: the console's wizard.

A commune created here is the same thing as one applied from a ``tenants/<commune>.toml``
file: its first configuration is a plugin's profile plus the ``commune`` table the staff
member fills in, checked by the same :func:`~agora.tenancy.config.validate_document` and
stored by the same :func:`~agora.onboarding.services.apply_config`, so that ``tenants
export`` writes back a file that re-applies with no change. In the same transaction the
wizard assigns the consultancy's staff, grants the first commune administrator their role
and launches the support programme; the invitation is mailed once that is committed.
"""

from __future__ import annotations

import copy
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from flask import render_template
from flask_babel import force_locale
from flask_babel import gettext as _
from sqlalchemy import select

from agora.db import DbSession
from agora.errors import Invalid
from agora.identity.models import Account, Role, StaffAssignment, TokenPurpose
from agora.identity.services import (
    assign_staff,
    get_or_create_account,
    grant_role,
    issue_token,
)
from agora.onboarding.services import apply_config
from agora.plugins.contracts import CommuneProfile
from agora.plugins.manager import get_registry
from agora.programme.services import instantiate
from agora.shared import mail
from agora.shared.identifiers import is_valid_siren
from agora.tenancy.addresses import site_address, site_host
from agora.tenancy.config import RESERVED_SLUGS, TenantConfig, validate_document
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant, TenantKind, TenantStatus
from agora.tenancy.services import tenant_by_slug

#: The configuration source of a commune created or changed in the console.
CONSOLE_SOURCE = "console"

#: How long the first administrator's invitation stays usable: a mayor's office reads its
#: mail within the week, not within the quarter of an hour a sign-in link lasts.
INVITATION_TTL = timedelta(days=7)

#: How far in the past a support programme may be said to have started (one already under
#: way when the commune is brought into Agora).
LATEST_PAST_START = timedelta(days=365)


@dataclass(frozen=True)
class NewCommune:
    """What the wizard asks: the commune, its kind of assembly, who follows it, and when
    its support programme starts."""

    name: str
    insee_code: str
    kind: TenantKind
    population: int
    slug: str
    profile: str
    staff_ids: tuple[int, ...]
    admin_email: str
    starts_on: date


#: The departments' numbers an INSEE commune code starts with: 01 to 95 but 20 (Corsica is
#: 2A and 2B since 1976), and the overseas departments' three digits.
DEPARTMENTS = frozenset(
    {f"{n:02d}" for n in range(1, 96) if n != 20} | {"2A", "2B"} | {str(n) for n in range(971, 977)}
)


def insee_code_problem(code: str) -> str | None:
    """Why ``code`` (already of the right shape) is no commune's INSEE code nor any SIREN."""
    if len(code) == 9:  # an intercommunality's SIREN
        if not is_valid_siren(code):
            return str(_("This SIREN number is not valid: check its digits."))
        return None
    if code[:2] not in DEPARTMENTS and code[:3] not in DEPARTMENTS:
        return str(_("No department has the number %(number)s: check the code.", number=code[:2]))
    return None


class CommuneRefused(Invalid):
    """Values the form let through that the commune cannot have: ``errors`` lists each
    field's name with its message, shown next to it."""

    def __init__(self, errors: list[tuple[str, str]]) -> None:
        super().__init__(errors[0][1])
        self.errors = errors


def profiles() -> list[CommuneProfile]:
    """The kinds of assembly the installed plugins offer, in their order."""
    return list(get_registry().commune_profiles().values())


def consultancy_staff(session: DbSession) -> list[Account]:
    """The consultancy's staff: the accounts assigned to at least one commune."""
    assigned = select(StaffAssignment.account_id)
    return list(
        session.execute(
            select(Account).where(Account.id.in_(assigned)).order_by(Account.email)
        ).scalars()
    )


def commune_document(profile: CommuneProfile, new: NewCommune) -> dict[str, Any]:
    """The new commune's first configuration: the profile, under the commune's own table."""
    document = copy.deepcopy(dict(profile.document))
    commune = {
        "slug": new.slug,
        "name": new.name,
        "insee_code": new.insee_code,
        "kind": new.kind.value,
        "population": new.population,
        "status": TenantStatus.ONBOARDING.value,
        "locale": "fr",
    }
    return {"commune": commune, **document}


def check_new_commune(session: DbSession, new: NewCommune, *, today: date) -> TenantConfig:
    """The new commune's configuration, checked whole; raise :class:`CommuneRefused` naming
    each field that cannot be accepted (nothing is written)."""
    errors: list[tuple[str, str]] = []
    taken = tenant_by_slug(session, new.slug)
    if new.slug in RESERVED_SLUGS:
        errors.append(("slug", _("This address is reserved for the platform itself.")))
    elif taken is not None:
        errors.append(
            ("slug", _("This address is already that of %(commune)s.", commune=taken.name))
        )
    if (problem := insee_code_problem(new.insee_code)) is not None:
        errors.append(("insee_code", problem))
    same_code = session.execute(
        select(Tenant.name).where(Tenant.insee_code == new.insee_code)
    ).scalar_one_or_none()
    if same_code is not None:
        errors.append(
            ("insee_code", _("This code is already that of %(commune)s.", commune=same_code))
        )
    offered = get_registry().commune_profiles()
    if new.profile not in offered:
        errors.append(("profile", _("Choose one of the kinds of assembly listed.")))
    if new.starts_on < today - LATEST_PAST_START:
        errors.append(("starts_on", _("The programme cannot have started more than a year ago.")))
    if errors:
        raise CommuneRefused(errors)
    return validate_document(
        commune_document(offered[new.profile], new), get_registry(), CONSOLE_SOURCE
    )


def create_commune(
    session: DbSession, new: NewCommune, *, creator: Account, actor: str, today: date
) -> Tenant:
    """Onboard ``new`` in the caller's transaction: its first configuration version, its
    staff (the creator among them, when staff), its first administrator and its support
    programme, each in its audit log. Raise :class:`CommuneRefused` before writing anything."""
    config = check_new_commune(session, new, today=today)
    apply_config(session, config, CONSOLE_SOURCE, actor)
    tenant = tenant_by_slug(session, new.slug)
    assert tenant is not None  # apply_config created it
    followers = set(new.staff_ids)
    if not creator.is_platform_admin:
        followers.add(creator.id)
    for account in session.execute(select(Account).where(Account.id.in_(followers))).scalars():
        assign_staff(session, tenant, account, actor)
    with tenant_scope(session, tenant.id):
        admin = get_or_create_account(session, new.admin_email)
        grant_role(session, tenant, admin, Role.COMMUNE_ADMIN, granted_by=actor)
        template = get_registry().view(config).programme_template()
        instantiate(session, tenant, template, new.starts_on, actor)
    session.flush()
    return tenant


def invite_administrator(session: DbSession, tenant: Tenant, email: str, inviter: str) -> None:
    """Mail the commune's first administrator a link that signs them in on its site (valid
    for :data:`INVITATION_TTL`, once). Called once the commune is committed; the caller
    commits the link's token."""
    account = get_or_create_account(session, email)
    token = issue_token(
        session,
        purpose=TokenPurpose.MAGIC_LINK,
        account=account,
        host=site_host(tenant),
        method="invitation",
        ttl=INVITATION_TTL,
    )
    link = f"{site_address(tenant)}/login/magic/{token}?next=/programme"
    # The mail is written in its recipient's language (French for a newcomer).
    with force_locale(account.locale or "fr"):
        subject = _("Your space on Agora for %(commune)s", commune=tenant.name)
        body = render_template(
            "console/invitation_mail.txt",
            link=link,
            commune=tenant.name,
            inviter=inviter,
            days=INVITATION_TTL.days,
        )
    mail.send(email, subject, body)

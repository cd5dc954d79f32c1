"""A commune onboarded through the console's wizard, for the demonstration: Brest, on the
open-assembly profile, ten weeks into its support programme. It shows what staff see of a
commune mid-programme (its late sessions and deliverables on ``/console/programmes``), a
commune whose rules were made in the browser (``tenants apply`` keeps them), and a quote of
24 000 € TTC sent to it, which its administrator accepts or refuses on its site."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from agora.billing import services as billing
from agora.db import PARIS, DbSession
from agora.identity.services import account_by_email
from agora.onboarding import wizard
from agora.plugins.manager import get_registry
from agora.programme import services as programme
from agora.programme.models import SessionStatus
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant, TenantKind
from agora.tenancy.services import current_config, tenant_by_slug

#: Ten weeks in: its first sessions are past, some deliverables not yet accepted.
WEEKS_IN = 10
#: Sessions held this long ago or more have their minutes and deliverables; the more recent
#: ones are still to be written up, which the console shows as late.
WRITTEN_UP_AFTER = timedelta(days=14)
ATTENDANCE = 14
MINUTES = "Relevé de décisions envoyé au groupe de préfiguration."


def brest(today: date) -> wizard.NewCommune:
    return wizard.NewCommune(
        name="Brest",
        insee_code="29019",
        kind=TenantKind.COMMUNE,
        population=139926,
        slug="brest",
        profile="open_assembly",
        staff_ids=(),
        admin_email="mairie@brest.example",
        starts_on=today - timedelta(weeks=WEEKS_IN),
    )


def onboard(session: DbSession, staff_email: str, today: date) -> Tenant | None:
    """Onboard Brest as ``staff_email`` would in the console (that staff member follows it,
    its administrator is invited by mail); ``None`` when it is already there."""
    creator = account_by_email(session, staff_email)
    if creator is None:
        raise LookupError(f"no account {staff_email!r}: create it first")
    if tenant_by_slug(session, "brest") is not None:
        return None
    new = brest(today)
    tenant = wizard.create_commune(
        session, new, creator=creator, actor=f"staff:{staff_email}", today=today
    )
    actor = f"staff:{staff_email}"
    _live_first_weeks(session, tenant, actor, today)
    _send_quote(session, tenant, actor)
    session.commit()
    wizard.invite_administrator(session, tenant, new.admin_email, inviter=staff_email)
    session.commit()
    return tenant


def _live_first_weeks(session: DbSession, tenant: Tenant, actor: str, today: date) -> None:
    """The sessions held long enough ago are written up; the last ones are not yet."""
    written_up = datetime.combine(today - WRITTEN_UP_AFTER, datetime.min.time(), PARIS)
    with tenant_scope(session, tenant.id):
        support = programme.programme_of(session, tenant)
        assert support is not None  # the wizard launched it
        for row in programme.sessions_of(session, support):
            if row.scheduled_at is None or row.scheduled_at >= written_up:
                continue
            programme.change_status(session, tenant, row, SessionStatus.CONFIRMED, actor)
            programme.change_status(
                session, tenant, row, SessionStatus.HELD, actor, attendance=ATTENDANCE
            )
            programme.change_status(
                session, tenant, row, SessionStatus.MINUTES_PUBLISHED, actor, minutes=MINUTES
            )
            for key in row.deliverables:
                programme.accept_deliverable(session, tenant, row, key, actor)


#: Who pays for Brest: the town hall (a SIRET whose check digit holds), with its Chorus Pro
#: service and commitment.
BREST_BILLING = billing.ProfileValues(
    legal_name="Ville de Brest",
    siret="21290019800012",
    service_code="DEMOCRATIE-PARTICIPATIVE",
    engagement_number="EJ-2026-0412",
    email="comptabilite@brest.example",
    address="2 rue Frézier, 29200 Brest",
)


def _send_quote(session: DbSession, tenant: Tenant, actor: str) -> None:
    """The programme's priced phases plus a one-year review day: 20 000 € HT, 24 000 € TTC."""
    with tenant_scope(session, tenant.id):
        billing.save_profile(session, tenant, BREST_BILLING, actor)
        rules = current_config(session, tenant)
        assert rules is not None  # the wizard applied them
        hooks = get_registry().view(TenantConfig(rules.document))
        quote = billing.draft_quote(session, tenant, hooks.programme_template(), actor)
        missing = 2_000_000 - quote.total_excl_tax_cents
        if missing > 0:
            billing.add_line(
                session, tenant, quote, "Journée d'évaluation, un an après", missing, actor
            )
        billing.send_quote(session, tenant, quote, actor)

"""A commune onboarded through the console's wizard, for the demonstration: Brest, on the
open-assembly profile, ten weeks into its support programme. It shows what staff see of a
commune mid-programme (its late sessions and deliverables on ``/console/programmes``) and a
commune whose rules were made in the browser (``tenants apply`` keeps them)."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from agora.db import PARIS, DbSession
from agora.identity.services import account_by_email
from agora.onboarding import wizard
from agora.programme import services as programme
from agora.programme.models import SessionStatus
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant, TenantKind
from agora.tenancy.services import tenant_by_slug

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
    _live_first_weeks(session, tenant, f"staff:{staff_email}", today)
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

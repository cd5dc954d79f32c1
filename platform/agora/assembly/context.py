"""Who is acting, as a participant of this commune's assembly (their Person record)."""

from __future__ import annotations

from flask_babel import gettext as _

from agora.assembly.bodies import person_for_account, person_of_account
from agora.assembly.models import Person
from agora.db import DbSession
from agora.identity.access import current_account
from agora.identity.services import actor
from agora.tenancy.models import Tenant


def acting_person(session: DbSession, tenant: Tenant, *, create: bool = False) -> Person | None:
    account = current_account()
    if account is None:
        return None
    if not create:
        return person_of_account(session, tenant, account.id)
    # Names are public (a subject's submitter, an amendment's author): never the e-mail.
    return person_for_account(
        session, tenant, account.id, account.display_name or _("a participant")
    )


def who() -> str:
    return actor(current_account())

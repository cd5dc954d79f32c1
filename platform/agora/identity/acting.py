"""Who is acting in this request: the signed-in account, how the audit log names it, and its
participant record (:class:`~agora.shared.people.Person`) in the request's commune."""

from __future__ import annotations

from flask import g
from flask_babel import gettext as _

from agora.db import DbSession
from agora.identity.models import Account
from agora.identity.services import actor
from agora.shared.people import Person, person_for_account, person_of_account
from agora.tenancy.models import Tenant


def current_account() -> Account | None:
    """The account signed in on this host (set by the access check before each request)."""
    account: Account | None = g.get("account")
    return account


def who() -> str:
    """The acting account as the audit log names it."""
    return actor(current_account())


def acting_person(session: DbSession, tenant: Tenant, *, create: bool = False) -> Person | None:
    """The signed-in account's participant record in ``tenant``; with ``create``, made on
    first need under the account's display name."""
    account = current_account()
    if account is None:
        return None
    if not create:
        return person_of_account(session, tenant, account.id)
    # Names are public (a subject's submitter, an amendment's author): never the e-mail.
    return person_for_account(
        session, tenant, account.id, account.display_name or _("a participant")
    )

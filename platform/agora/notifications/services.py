"""Creating notifications, showing them to their reader, and e-mailing them once their
transaction commits, each in its recipient's language."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from agora.db import DbSession, utcnow
from agora.identity.models import Account
from agora.jobs import enqueue, job
from agora.notifications.kinds import Link, RenderContext, is_registered, render
from agora.notifications.models import Notification
from agora.shared import mail
from agora.shared.people import Person
from agora.tenancy.addresses import page_address, site_address, site_host
from agora.tenancy.isolation import bound_tenant_id
from agora.tenancy.models import Tenant

_PENDING = "agora_notifications_pending"

_TO_PERSON = (Person.tenant_id == Notification.tenant_id) & (Person.id == Notification.person_id)


def notify(
    session: DbSession,
    tenant: Tenant,
    people: Iterable[Person],
    kind: str,
    params: Mapping[str, Any],
) -> int:
    """Notify each person once of ``kind`` (a registered kind) with ``params``, what its
    renderer needs (JSON: ids, numbers, codes, ISO dates; no text); they are e-mailed after
    the transaction commits. The number of people notified."""
    if not is_registered(kind):
        raise LookupError(f"notification kind {kind!r} has no renderer")
    count = 0
    for person_id in sorted({person.id for person in people}):
        session.add(
            Notification(tenant_id=tenant.id, person_id=person_id, kind=kind, params=dict(params))
        )
        count += 1
    if count:
        session.info.setdefault(_PENDING, set()).add(tenant.id)
    return count


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    # A job started before the commit would not see the rows (nor, on SQLite, get the lock).
    # SQLAlchemy also calls this when a savepoint is released: the rows are not committed yet.
    if session.in_nested_transaction():
        return
    for tenant_id in sorted(session.info.pop(_PENDING, set())):
        enqueue("notifications.deliver", tenant_id=tenant_id)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    if session.in_nested_transaction():  # a savepoint undone: the transaction goes on
        return
    session.info.pop(_PENDING, None)


# --- links ----------------------------------------------------------------------------------


def url_of(tenant: Tenant, link: Link | str, *, external: bool) -> str:
    """The page ``link`` names on the commune's site: a path, or an absolute address."""
    if isinstance(link, str):  # a path stored by a legacy notification
        return f"{site_address(tenant)}{link}" if external else link
    if external:
        url = page_address(tenant, link.endpoint, **dict(link.values))
    else:
        url = current_app.url_map.bind(site_host(tenant)).build(link.endpoint, dict(link.values))
    return f"{url}#{link.anchor}" if link.anchor else url


# --- reading --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shown:
    """A notification as its reader sees it."""

    notification: Notification
    subject: str
    body: str
    url: str | None


def shown_to(session: DbSession, tenant: Tenant, account: Account, locale: str) -> list[Shown]:
    """The account's notifications in this commune, newest first, rendered in ``locale``."""
    rows = session.execute(
        select(Notification)
        .join(Person, _TO_PERSON)
        .where(Notification.tenant_id == tenant.id, Person.account_id == account.id)
        .order_by(Notification.created_at.desc(), Notification.id.desc())
    ).scalars()
    context = RenderContext(session, tenant, locale)
    shown = []
    for notification in rows:
        rendered = render(context, notification.kind, notification.params)
        url = url_of(tenant, rendered.link, external=False) if rendered.link else None
        shown.append(Shown(notification, rendered.subject, rendered.body, url))
    return shown


def is_addressed_to(session: DbSession, notification: Notification, account: Account) -> bool:
    owner = session.execute(
        select(Person.account_id).where(
            Person.tenant_id == notification.tenant_id, Person.id == notification.person_id
        )
    ).scalar_one_or_none()
    return owner is not None and owner == account.id


# --- mail -----------------------------------------------------------------------------------


@job("notifications.deliver")
def deliver() -> int:
    """E-mail the commune's notifications not yet sent to people who have an address, each
    rendered now in its recipient's language, its link on the commune's host.

    At least once: if sending fails midway the job's transaction rolls back, and the mails
    already sent go again with the rest on the next run."""
    from agora.extensions import db

    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    rows = db.session.execute(
        select(Notification, Account.email, Account.locale)
        .join(Person, _TO_PERSON)
        .join(Account, Account.id == Person.account_id)
        .where(
            Notification.tenant_id == tenant.id,
            Notification.emailed_at.is_(None),
            Account.email.is_not(None),
            Account.erased_at.is_(None),
        )
        .order_by(Notification.id)
    ).all()
    for notification, email, locale in rows:
        assert email is not None  # filtered in the query
        rendered = render(
            RenderContext(db.session, tenant, locale), notification.kind, notification.params
        )
        body = rendered.body
        if rendered.link:
            body += f"\n\n{url_of(tenant, rendered.link, external=True)}"
        mail.send(email, f"{tenant.name} — {rendered.subject}", body)
        notification.emailed_at = utcnow()
    return len(rows)


def mark_read(notification: Notification) -> None:
    """Mark ``notification`` read (the first reading's time is kept)."""
    notification.read_at = notification.read_at or utcnow()

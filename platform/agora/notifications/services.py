"""Creating notifications, listing them, and e-mailing them once their transaction commits."""

from __future__ import annotations

from collections.abc import Iterable

from flask import current_app
from sqlalchemy import event, select
from sqlalchemy.orm import Session

from agora.db import DbSession, utcnow
from agora.identity.models import Account
from agora.jobs import enqueue, job
from agora.notifications.models import Notification
from agora.shared import mail
from agora.shared.people import Person
from agora.tenancy.isolation import bound_tenant_id
from agora.tenancy.models import Tenant

_PENDING = "agora_notifications_pending"


def notify(
    session: DbSession,
    tenant: Tenant,
    people: Iterable[Person],
    kind: str,
    subject: str,
    body: str,
    link: str = "",
) -> int:
    """Notify each person once; they are e-mailed after the transaction commits."""
    count = 0
    for person_id in sorted({person.id for person in people}):
        session.add(
            Notification(
                tenant_id=tenant.id,
                person_id=person_id,
                kind=kind,
                subject=subject,
                body=body,
                link=link,
            )
        )
        count += 1
    if count:
        session.info.setdefault(_PENDING, set()).add(tenant.id)
    return count


@event.listens_for(Session, "after_commit")
def _dispatch(session: Session) -> None:
    # A job started before the commit would not see the rows (nor, on SQLite, get the lock).
    for tenant_id in sorted(session.info.pop(_PENDING, set())):
        enqueue("notifications.deliver", tenant_id=tenant_id)


@event.listens_for(Session, "after_rollback")
def _forget(session: Session) -> None:
    session.info.pop(_PENDING, None)


_TO_PERSON = (Person.tenant_id == Notification.tenant_id) & (Person.id == Notification.person_id)


def notifications_of(session: DbSession, tenant: Tenant, account: Account) -> list[Notification]:
    return list(
        session.execute(
            select(Notification)
            .join(Person, _TO_PERSON)
            .where(Notification.tenant_id == tenant.id, Person.account_id == account.id)
            .order_by(Notification.created_at.desc())
        ).scalars()
    )


def is_addressed_to(session: DbSession, notification: Notification, account: Account) -> bool:
    person = session.get(Person, (notification.tenant_id, notification.person_id))
    return person is not None and person.account_id == account.id


def _commune_address(tenant: Tenant) -> str:
    base = current_app.config["AGORA_BASE_DOMAIN"]
    scheme = "http" if base == "localhost" else "https"
    return f"{scheme}://{tenant.slug}.{base}"


@job("notifications.deliver")
def deliver() -> int:
    """E-mail the commune's notifications not yet sent to people who have an address.

    At least once: if sending fails midway the job's transaction rolls back, and the mails
    already sent go again with the rest on the next run."""
    from agora.extensions import db

    tenant = db.session.get(Tenant, bound_tenant_id(db.session))
    if tenant is None:
        raise LookupError("the job's commune no longer exists")
    rows = db.session.execute(
        select(Notification, Account.email)
        .join(Person, _TO_PERSON)
        .join(Account, Account.id == Person.account_id)
        .where(
            Notification.tenant_id == tenant.id,
            Notification.emailed_at.is_(None),
            Account.email.is_not(None),
            Account.erased_at.is_(None),
        )
    ).all()
    for notification, email in rows:
        assert email is not None  # filtered in the query
        link = f"\n\n{_commune_address(tenant)}{notification.link}" if notification.link else ""
        mail.send(email, f"{tenant.name} — {notification.subject}", notification.body + link)
        notification.emailed_at = utcnow()
    return len(rows)

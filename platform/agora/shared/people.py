"""A participant's record in a commune, shared by every capability that names people.

An account is global and holds no demographic data; what a person does in a commune (sign,
vote, sit in a body, submit a subject) they do as one :class:`Person` of that commune.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, ForeignKey, String, UniqueConstraint, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, DbSession, TenantEntity
from agora.tenancy.models import Tenant


class Person(TenantEntity, Base):
    """Someone taking part in the commune's assembly (names shown only with consent).

    An account has at most one record per commune: whatever it signs or votes, it does as
    one person."""

    __tablename__ = "person"
    __table_args__ = (UniqueConstraint("tenant_id", "account_id"),)

    display_name: Mapped[str] = mapped_column(String(200))
    account_id: Mapped[int | None] = mapped_column(
        BigInteger, ForeignKey("account.id", ondelete="SET NULL")
    )
    postcode: Mapped[str] = mapped_column(String(10), default="")


def person_of_account(session: DbSession, tenant: Tenant, account_id: int) -> Person | None:
    return (
        session.execute(
            select(Person).where(Person.tenant_id == tenant.id, Person.account_id == account_id)
        )
        .scalars()
        .first()
    )


def person_for_account(session: DbSession, tenant: Tenant, account_id: int, name: str) -> Person:
    """The commune's participant record of an account, created as ``name`` on first need.

    Two first requests at once (a double click on "sign") race to create it: the database
    keeps one record per account, the other insertion does nothing, and both requests go on
    as that one person.
    """
    person = person_of_account(session, tenant, account_id)
    if person is not None:
        return person
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(
        insert(Person)
        .values(tenant_id=tenant.id, display_name=name.strip(), account_id=account_id)
        .on_conflict_do_nothing(index_elements=[Person.tenant_id, Person.account_id])
    )
    person = person_of_account(session, tenant, account_id)
    assert person is not None  # inserted, or kept from the request that won the race
    return person

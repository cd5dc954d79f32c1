"""The billing records of a commune: its billing profile, its quotes and their lines, its
milestone invoices and the Stripe events already applied to them.

Amounts are integer cents. A quote is a frozen document: its lines are copied from the
programme's prices when it is drafted, and its totals are computed once by the service
(:func:`agora.billing.money.totals`), never in a template.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import BigInteger, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, TenantEntity, TenantOwned, UtcDateTime, str_enum, tenant_fk, utcnow


class BillingProfile(TenantOwned, Base):
    """Who pays, as Chorus Pro knows the commune: one row per commune."""

    __tablename__ = "billing_profile"

    legal_name: Mapped[str] = mapped_column(String(200))
    siret: Mapped[str] = mapped_column(String(14))
    #: Chorus Pro's "code service" of the department that receives the invoices.
    service_code: Mapped[str] = mapped_column(String(100), default="")
    #: The commune's commitment number (numéro d'engagement), on every invoice.
    engagement_number: Mapped[str] = mapped_column(String(50), default="")
    email: Mapped[str] = mapped_column(String(254))
    address: Mapped[str] = mapped_column(String(500), default="")
    stripe_customer_id: Mapped[str | None] = mapped_column(String(100))
    #: The French IBAN Stripe gives the commune to pay its invoices by bank transfer.
    transfer_iban: Mapped[str] = mapped_column(String(34), default="")
    transfer_bic: Mapped[str] = mapped_column(String(11), default="")
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class QuoteStatus(enum.StrEnum):
    DRAFT = "draft"
    #: Sent to the commune, awaiting its answer.
    SUBMITTED = "submitted"
    ACCEPTED = "accepted"
    REFUSED = "refused"


class Quote(TenantEntity, Base):
    __tablename__ = "quote"
    __table_args__ = (UniqueConstraint("tenant_id", "number"),)

    #: D-<year>-<n>, unique in the commune.
    number: Mapped[str] = mapped_column(String(40))
    title: Mapped[str] = mapped_column(String(200))
    status: Mapped[QuoteStatus] = mapped_column(str_enum(QuoteStatus), default=QuoteStatus.DRAFT)
    total_excl_tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    vat_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    total_incl_tax_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    #: VAT rate in basis points (2000 = 20 %).
    vat_rate_bp: Mapped[int] = mapped_column(Integer, default=2000)
    created_by: Mapped[str] = mapped_column(String(200))
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str] = mapped_column(String(200), default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")


class QuoteLine(TenantEntity, Base):
    __tablename__ = "quote_line"
    __table_args__ = (tenant_fk("quote_id", "quote", ondelete="CASCADE"),)

    quote_id: Mapped[int] = mapped_column(BigInteger)
    position: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    amount_excl_tax_cents: Mapped[int] = mapped_column(BigInteger)


class InvoiceStatus(enum.StrEnum):
    #: Recorded here, not yet issued through Stripe (or Stripe failed: it can be retried).
    TO_ISSUE = "to_issue"
    OPEN = "open"
    PAID = "paid"
    VOID = "void"
    UNCOLLECTIBLE = "uncollectible"


class Invoice(TenantEntity, Base):
    """One milestone of an accepted quote, issued as a Stripe invoice."""

    __tablename__ = "invoice"
    __table_args__ = (
        tenant_fk("quote_id", "quote"),
        UniqueConstraint("tenant_id", "quote_id", "milestone"),
    )

    quote_id: Mapped[int] = mapped_column(BigInteger)
    milestone: Mapped[int] = mapped_column(Integer)
    label: Mapped[str] = mapped_column(String(200))
    amount_excl_tax_cents: Mapped[int] = mapped_column(BigInteger)
    vat_cents: Mapped[int] = mapped_column(BigInteger)
    total_incl_tax_cents: Mapped[int] = mapped_column(BigInteger)
    amount_paid_cents: Mapped[int] = mapped_column(BigInteger, default=0)
    status: Mapped[InvoiceStatus] = mapped_column(
        str_enum(InvoiceStatus), default=InvoiceStatus.TO_ISSUE
    )
    stripe_invoice_id: Mapped[str | None] = mapped_column(String(100))
    #: Stripe's invoice number once finalised (the legal number).
    number: Mapped[str] = mapped_column(String(100), default="")
    hosted_url: Mapped[str] = mapped_column(String(500), default="")
    issued_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    due_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    #: Why the last attempt to issue it through Stripe failed (for staff; empty otherwise).
    last_error: Mapped[str] = mapped_column(String(500), default="")


class StripeEvent(TenantOwned, Base):
    """A Stripe event already applied, recorded in the same transaction as its effect: the
    same event delivered again finds its row and does nothing."""

    __tablename__ = "stripe_event"

    event_id: Mapped[str] = mapped_column(String(100), primary_key=True)
    event_type: Mapped[str] = mapped_column(String(100))
    invoice_id: Mapped[int | None] = mapped_column(BigInteger)
    received_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

"""Quotes and invoices: the rules of their lifecycle, their figures, and what Stripe says.

A quote is drafted from the programme's priced phases (copied: later price changes do not
move it), adjusted by the consultancy while it is a draft, sent to the commune, then
accepted or refused by the commune's administrator. Accepting it records its milestone
invoices here first (status "to issue"), in the same transaction; they are then issued
through Stripe (:func:`issue_invoices`), each step idempotent, so that a failure leaves
invoices marked "to issue" with the reason, which staff can retry.

Stripe's webhooks (:func:`apply_event`) are recorded by event id in the same transaction
as their effect, and read the invoice again from the API: a replayed event does nothing,
and events arriving out of order leave the invoice as Stripe has it now.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from flask_babel import gettext as _
from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from agora.audit import services as audit
from agora.billing import money, notices
from agora.billing.gateway import (
    INVOICE_KEY,
    TENANT_KEY,
    CustomerRequest,
    Gateway,
    GatewayError,
    InvoiceRequest,
)
from agora.billing.models import (
    BillingProfile,
    Invoice,
    InvoiceStatus,
    Quote,
    QuoteLine,
    QuoteStatus,
    StripeEvent,
)
from agora.db import DbSession, paris_today, plain_session, utcnow
from agora.errors import Conflict, Invalid
from agora.identity.models import Role
from agora.identity.services import holders_of
from agora.notifications.services import notify
from agora.plugins.contracts import ProgrammeTemplate
from agora.shared.identifiers import is_valid_siret
from agora.shared.people import person_for_account
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant

#: The milestones of an accepted quote: their share of the amount, and what they pay for.
MILESTONES: tuple[tuple[int, str], ...] = (
    (50, "Échéance 1/2 — acompte à l'acceptation du devis"),
    (50, "Échéance 2/2 — solde au lancement de l'assemblée"),
)
#: Stripe's invoice statuses, as ours.
_STRIPE_STATUSES = {
    "open": InvoiceStatus.OPEN,
    "paid": InvoiceStatus.PAID,
    "void": InvoiceStatus.VOID,
    "uncollectible": InvoiceStatus.UNCOLLECTIBLE,
}
#: The events billing acts on; any other is acknowledged and ignored.
INVOICE_EVENTS = frozenset(
    {
        "invoice.finalized",
        "invoice.sent",
        "invoice.updated",
        "invoice.paid",
        "invoice.payment_succeeded",
        "invoice.voided",
        "invoice.marked_uncollectible",
        "invoice.overdue",
    }
)


# --- Reading -----------------------------------------------------------------------------


def profile_of(session: DbSession, tenant: Tenant) -> BillingProfile | None:
    return session.get(BillingProfile, tenant.id)


def quotes_of(session: DbSession, tenant: Tenant) -> list[Quote]:
    return list(
        session.scalars(select(Quote).where(Quote.tenant_id == tenant.id).order_by(Quote.id.desc()))
    )


def lines_of(session: DbSession, quote: Quote) -> list[QuoteLine]:
    return list(
        session.scalars(
            select(QuoteLine)
            .where(QuoteLine.tenant_id == quote.tenant_id, QuoteLine.quote_id == quote.id)
            .order_by(QuoteLine.position)
        )
    )


def invoices_of(session: DbSession, tenant: Tenant, quote: Quote | None = None) -> list[Invoice]:
    statement = select(Invoice).where(Invoice.tenant_id == tenant.id)
    if quote is not None:
        statement = statement.where(Invoice.quote_id == quote.id)
    return list(session.scalars(statement.order_by(Invoice.quote_id.desc(), Invoice.milestone)))


def quote_in(session: DbSession, tenant: Tenant, quote_id: int) -> Quote | None:
    return session.get(Quote, (tenant.id, quote_id))


def invoice_in(session: DbSession, tenant: Tenant, invoice_id: int) -> Invoice | None:
    return session.get(Invoice, (tenant.id, invoice_id))


def line_in(session: DbSession, quote: Quote, line_id: int) -> QuoteLine | None:
    line = session.get(QuoteLine, (quote.tenant_id, line_id))
    return line if line is not None and line.quote_id == quote.id else None


# --- The billing profile -----------------------------------------------------------------


@dataclass(frozen=True)
class ProfileValues:
    legal_name: str
    siret: str
    service_code: str
    engagement_number: str
    email: str
    address: str


def save_profile(
    session: DbSession, tenant: Tenant, values: ProfileValues, actor: str
) -> BillingProfile:
    """Record who pays for the commune. The form has checked each value; the SIRET is
    checked again here, since an invoice Chorus Pro refuses is a lost month."""
    if not is_valid_siret(values.siret):
        raise Invalid(_("Enter a SIRET of 14 digits, as the INSEE register gives it."))
    profile = profile_of(session, tenant)
    if profile is None:
        profile = BillingProfile(tenant_id=tenant.id)
        session.add(profile)
    elif profile.stripe_customer_id and profile.siret != values.siret:
        raise Conflict(
            _("Invoices were issued to this SIRET: it cannot change. Write to the consultancy.")
        )
    profile.legal_name = values.legal_name
    profile.siret = values.siret
    profile.service_code = values.service_code
    profile.engagement_number = values.engagement_number
    profile.email = values.email
    profile.address = values.address
    profile.updated_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="billing.profile_saved",
        object_type="billing_profile",
        object_id=tenant.id,
        details={"siret": values.siret, "service_code": values.service_code},
    )
    return profile


# --- Quotes ------------------------------------------------------------------------------


def priced_phases(template: ProgrammeTemplate) -> list[tuple[str, int]]:
    """The programme's phases that carry a price: (label, amount before tax in cents)."""
    return [
        (phase.title, phase.price_cents_excl_tax)
        for phase in template.phases
        if phase.price_cents_excl_tax is not None
    ]


def _refresh_totals(session: DbSession, quote: Quote) -> None:
    figures = money.totals([line.amount_excl_tax_cents for line in lines_of(session, quote)])
    quote.total_excl_tax_cents = figures.excl_tax
    quote.vat_cents = figures.vat
    quote.total_incl_tax_cents = figures.incl_tax


def _next_number(session: DbSession, tenant: Tenant) -> str:
    year = paris_today().year
    count = session.scalar(
        select(func.count()).select_from(Quote).where(Quote.tenant_id == tenant.id)
    )
    return f"D-{year}-{(count or 0) + 1:03d}"


def draft_quote(
    session: DbSession, tenant: Tenant, template: ProgrammeTemplate, actor: str
) -> Quote:
    """A new draft quote holding the programme's priced phases."""
    current = [quote for quote in quotes_of(session, tenant) if quote.status != QuoteStatus.REFUSED]
    if any(quote.status == QuoteStatus.ACCEPTED for quote in current):
        raise Conflict(_("The commune has already accepted a quote."))
    if current:
        raise Conflict(_("The commune already has a quote in progress."))
    phases = priced_phases(template)
    if not phases:
        raise Conflict(_("The commune's programme has no priced phase to quote."))
    quote = Quote(
        tenant_id=tenant.id,
        number=_next_number(session, tenant),
        title=template.title,
        created_by=actor,
    )
    session.add(quote)
    session.flush()
    for position, (label, cents) in enumerate(phases, start=1):
        session.add(
            QuoteLine(
                tenant_id=tenant.id,
                quote_id=quote.id,
                position=position,
                label=label,
                amount_excl_tax_cents=cents,
            )
        )
    session.flush()
    _refresh_totals(session, quote)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="quote.drafted",
        object_type="quote",
        object_id=quote.id,
        details={"number": quote.number, "total_excl_tax_cents": quote.total_excl_tax_cents},
    )
    return quote


def _draft(quote: Quote) -> None:
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(_("This quote was sent: it can no longer change."))


def add_line(
    session: DbSession, tenant: Tenant, quote: Quote, label: str, cents: int, actor: str
) -> QuoteLine:
    _draft(quote)
    if not 0 < cents <= money.MAX_LINE_CENTS:
        raise Invalid(_("Enter an amount between 0,01 € and 10 000 000 €."))
    position = max((line.position for line in lines_of(session, quote)), default=0) + 1
    line = QuoteLine(
        tenant_id=tenant.id,
        quote_id=quote.id,
        position=position,
        label=label,
        amount_excl_tax_cents=cents,
    )
    session.add(line)
    session.flush()
    _refresh_totals(session, quote)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="quote.line_added",
        object_type="quote",
        object_id=quote.id,
        details={"label": label, "amount_excl_tax_cents": cents},
    )
    return line


def remove_line(
    session: DbSession, tenant: Tenant, quote: Quote, line: QuoteLine, actor: str
) -> None:
    _draft(quote)
    session.delete(line)
    session.flush()
    _refresh_totals(session, quote)
    audit.record(
        session,
        tenant,
        actor=actor,
        action="quote.line_removed",
        object_type="quote",
        object_id=quote.id,
        details={"label": line.label, "amount_excl_tax_cents": line.amount_excl_tax_cents},
    )


def commune_admins(session: DbSession, tenant: Tenant) -> list[Any]:
    return [
        person_for_account(session, tenant, account.id, account.display_name or _("the commune"))
        for account in holders_of(session, tenant, (Role.COMMUNE_ADMIN,))
    ]


def check_sendable(session: DbSession, tenant: Tenant, quote: Quote) -> None:
    _lock(session, quote)
    _draft(quote)
    if profile_of(session, tenant) is None:
        raise Conflict(_("Fill in the commune's billing details before sending a quote."))
    if quote.total_excl_tax_cents <= 0:
        raise Conflict(_("A quote needs at least one line with an amount."))


def send_quote(session: DbSession, tenant: Tenant, quote: Quote, actor: str) -> None:
    """Send the quote to the commune: it can no longer change; its administrators are
    notified, and find its PDF on their billing page."""
    check_sendable(session, tenant, quote)
    quote.status = QuoteStatus.SUBMITTED
    quote.sent_at = utcnow()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="quote.sent",
        object_type="quote",
        object_id=quote.id,
        details={"number": quote.number, "total_incl_tax_cents": quote.total_incl_tax_cents},
    )
    notify(
        session, tenant, commune_admins(session, tenant), notices.QUOTE_SENT, {"quote_id": quote.id}
    )


def _lock(session: DbSession, quote: Quote) -> None:
    """Read the quote's row again, locked until the transaction ends: two answers given at
    once (a double click, two administrators) are taken one after the other, and the second
    finds the quote answered."""
    session.execute(
        select(Quote)
        .where(Quote.tenant_id == quote.tenant_id, Quote.id == quote.id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).scalar_one()


def _sent(session: DbSession, quote: Quote) -> None:
    _lock(session, quote)
    if quote.status != QuoteStatus.SUBMITTED:
        raise Conflict(_("This quote was already answered."))


def accept_quote(session: DbSession, tenant: Tenant, quote: Quote, actor: str) -> list[Invoice]:
    """The commune accepts: its milestone invoices are recorded, to be issued through
    Stripe once this transaction is committed (:func:`issue_invoices`)."""
    _sent(session, quote)
    quote.status = QuoteStatus.ACCEPTED
    quote.decided_at = utcnow()
    quote.decided_by = actor
    figures = money.Totals(quote.total_excl_tax_cents, quote.vat_cents, quote.total_incl_tax_cents)
    parts = money.milestones(figures, [share for share, _label in MILESTONES])
    invoices = []
    for number, ((_share, label), part) in enumerate(zip(MILESTONES, parts, strict=True), 1):
        invoice = Invoice(
            tenant_id=tenant.id,
            quote_id=quote.id,
            milestone=number,
            label=label,
            amount_excl_tax_cents=part.excl_tax,
            vat_cents=part.vat,
            total_incl_tax_cents=part.incl_tax,
        )
        session.add(invoice)
        invoices.append(invoice)
    session.flush()
    audit.record(
        session,
        tenant,
        actor=actor,
        action="quote.accepted",
        object_type="quote",
        object_id=quote.id,
        details={"number": quote.number, "invoices": [invoice.id for invoice in invoices]},
    )
    return invoices


def refuse_quote(session: DbSession, tenant: Tenant, quote: Quote, reason: str, actor: str) -> None:
    _sent(session, quote)
    quote.status = QuoteStatus.REFUSED
    quote.decided_at = utcnow()
    quote.decided_by = actor
    quote.refusal_reason = reason
    audit.record(
        session,
        tenant,
        actor=actor,
        action="quote.refused",
        object_type="quote",
        object_id=quote.id,
        details={"number": quote.number},
    )


# --- Invoices through Stripe ------------------------------------------------------------


def _moment(timestamp: Any) -> datetime | None:
    return datetime.fromtimestamp(int(timestamp), UTC) if timestamp else None


def _copy_stripe_state(invoice: Invoice, stripe_invoice: dict[str, Any]) -> bool:
    """Set the local invoice from Stripe's; whether its status changed."""
    before = invoice.status
    invoice.stripe_invoice_id = str(stripe_invoice["id"])
    invoice.number = str(stripe_invoice.get("number") or invoice.number)
    invoice.hosted_url = str(stripe_invoice.get("hosted_invoice_url") or invoice.hosted_url)
    invoice.amount_paid_cents = int(stripe_invoice.get("amount_paid") or 0)
    invoice.due_at = _moment(stripe_invoice.get("due_date")) or invoice.due_at
    transitions = stripe_invoice.get("status_transitions") or {}
    invoice.issued_at = _moment(transitions.get("finalized_at")) or invoice.issued_at
    invoice.paid_at = _moment(transitions.get("paid_at")) or invoice.paid_at
    status = _STRIPE_STATUSES.get(str(stripe_invoice.get("status")))
    if status is not None:
        invoice.status = status
    invoice.last_error = ""
    return invoice.status != before


def _ensure_customer(session: DbSession, tenant: Tenant, gateway: Gateway) -> BillingProfile:
    profile = profile_of(session, tenant)
    if profile is None:
        raise Conflict(_("Fill in the commune's billing details before sending a quote."))
    if not profile.stripe_customer_id:
        customer = gateway.ensure_customer(
            CustomerRequest(
                key=f"agora-{tenant.id}-profile",
                tenant_id=tenant.id,
                tenant_slug=tenant.slug,
                name=profile.legal_name,
                email=profile.email,
                siret=profile.siret,
                service_code=profile.service_code,
            )
        )
        profile.stripe_customer_id = str(customer["id"])
    if not profile.transfer_iban:
        profile.transfer_iban, profile.transfer_bic = gateway.transfer_details(
            profile.stripe_customer_id
        )
    return profile


def issue_invoices(session: DbSession, tenant: Tenant, gateway: Gateway, actor: str) -> int:
    """Issue through Stripe every invoice of the commune still "to issue"; each one is
    committed as soon as Stripe has it. The number that Stripe refused (each keeps the
    reason, to retry)."""
    failed = 0
    for invoice in invoices_of(session, tenant):
        if invoice.status != InvoiceStatus.TO_ISSUE:
            continue
        quote = quote_in(session, tenant, invoice.quote_id)
        assert quote is not None  # invoices reference their quote
        try:
            with tenant_scope(session, tenant.id):
                profile = _ensure_customer(session, tenant, gateway)
            session.commit()  # the customer is kept even if the invoice fails
            assert profile.stripe_customer_id is not None
            issued = gateway.issue_invoice(
                InvoiceRequest(
                    key=f"agora-{tenant.id}-invoice-{invoice.id}",
                    tenant_id=tenant.id,
                    invoice_id=invoice.id,
                    customer_id=profile.stripe_customer_id,
                    label=f"{quote.title} — {invoice.label}",
                    amount_excl_tax_cents=invoice.amount_excl_tax_cents,
                    engagement_number=profile.engagement_number,
                    quote_number=quote.number,
                )
            )
        except GatewayError as error:
            session.rollback()
            with tenant_scope(session, tenant.id):
                invoice.last_error = error.message[:500]
            session.commit()
            failed += 1
            continue
        with tenant_scope(session, tenant.id):
            _copy_stripe_state(invoice, issued)
            if int(issued.get("total") or 0) != invoice.total_incl_tax_cents:
                invoice.last_error = f"Stripe total differs: {issued.get('total')}"
            audit.record(
                session,
                tenant,
                actor=actor,
                action="invoice.issued",
                object_type="invoice",
                object_id=invoice.id,
                details={"stripe_invoice": invoice.stripe_invoice_id, "number": invoice.number},
            )
        session.commit()
    return failed


# --- Webhooks ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Outcome:
    """What a webhook did: "applied", "duplicate" or "ignored" (not an event of ours)."""

    result: str
    invoice_id: int | None = None


def apply_event(session: DbSession, gateway: Gateway, event: dict[str, Any]) -> Outcome:
    """Apply a verified Stripe event about one of our invoices.

    The invoice is read again from the API (the event's copy may be older than another
    event already applied), the event is recorded by id with the change, in one transaction:
    a second delivery of the same event hits the event's key and changes nothing."""
    if event.get("type") not in INVOICE_EVENTS:
        return Outcome("ignored")
    carried = (event.get("data") or {}).get("object") or {}
    stripe_id = carried.get("id")
    if not stripe_id or carried.get("object") != "invoice":
        return Outcome("ignored")
    current = gateway.retrieve_invoice(str(stripe_id))
    metadata = current.get("metadata") or {}
    try:
        tenant_id, invoice_id = int(metadata[TENANT_KEY]), int(metadata[INVOICE_KEY])
    except (KeyError, TypeError, ValueError):
        return Outcome("ignored")  # an invoice made outside Agora
    tenant = session.get(Tenant, tenant_id)
    if tenant is None:
        return Outcome("ignored")
    plain = plain_session(session)
    try:
        with tenant_scope(session, tenant.id):
            invoice = invoice_in(session, tenant, invoice_id)
            if invoice is None or invoice.stripe_invoice_id not in (None, str(stripe_id)):
                return Outcome("ignored")
            plain.add(
                StripeEvent(
                    tenant_id=tenant.id,
                    event_id=str(event["id"]),
                    event_type=str(event["type"]),
                    invoice_id=invoice.id,
                )
            )
            plain.flush()  # a replayed event stops here, before any effect
            before = invoice.status
            if _copy_stripe_state(invoice, current):
                audit.record(
                    session,
                    tenant,
                    actor="stripe",
                    action=f"invoice.{invoice.status.value}",
                    object_type="invoice",
                    object_id=invoice.id,
                    details={
                        "event": str(event["id"]),
                        "from": before.value,
                        "amount_paid_cents": invoice.amount_paid_cents,
                    },
                )
        session.commit()
    except IntegrityError:
        session.rollback()
        return Outcome("duplicate")
    return Outcome("applied", invoice_id)

"""Billing's pages: the consultancy's (console host, for the communes a staff member
follows), the commune administrator's (the commune's host), and Stripe's webhook endpoint
(platform host: no session, no CSRF token — the signature is the credential)."""

from __future__ import annotations

from datetime import UTC, datetime

from flask import (
    Blueprint,
    Response,
    abort,
    current_app,
    redirect,
    render_template,
    request,
    url_for,
)
from flask_babel import gettext as _
from werkzeug.wrappers import Response as BaseResponse

from agora.billing import documents, money, services
from agora.billing.forms import LineForm, ProfileForm, RefusalForm
from agora.billing.gateway import BadSignature, Gateway, GatewayError
from agora.billing.labels import COLOURS, INVOICE_STATUSES, QUOTE_STATUSES
from agora.billing.models import BillingProfile, Invoice, Quote, QuoteStatus
from agora.db import PARIS
from agora.documents.tables import attachment
from agora.errors import Conflict, DomainError, Invalid
from agora.extensions import csrf, db
from agora.identity.acting import current_account, who
from agora.identity.services import commune_followed_by
from agora.plugins.manager import get_registry
from agora.shared.forms import ask_confirmation, notify
from agora.tenancy.config import TenantConfig
from agora.tenancy.context import current_tenant
from agora.tenancy.isolation import bind_tenant
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config

#: The commune's billing page (its administrator answers quotes there).
bp = Blueprint("billing", __name__, url_prefix="/billing", template_folder="templates")
#: The consultancy's billing page of one commune, in the console.
console_bp = Blueprint(
    "billing_console",
    __name__,
    url_prefix="/console/communes/<slug>/billing",
    template_folder="templates",
)
#: Stripe's webhooks.
webhook_bp = Blueprint("billing_webhook", __name__)


@bp.app_template_filter("euros")
def _euros(cents: int) -> str:
    return money.euros(cents)


@bp.app_context_processor
def _labels() -> dict[str, object]:
    return {
        "quote_status_labels": QUOTE_STATUSES,
        "invoice_status_labels": INVOICE_STATUSES,
        "billing_colours": COLOURS,
    }


def gateway() -> Gateway | None:
    key = current_app.config.get("AGORA_STRIPE_API_KEY")
    if not key:
        return None
    return Gateway(key, current_app.config.get("AGORA_STRIPE_API_BASE"))


# --- Documents -----------------------------------------------------------------------------


def _seller() -> documents.Party:
    config = current_app.config
    return documents.Party(
        name=config["AGORA_BILLING_SELLER_NAME"] or _("The consultancy"),
        siret=config["AGORA_BILLING_SELLER_SIRET"],
        address=config["AGORA_BILLING_SELLER_ADDRESS"],
        vat_number=config["AGORA_BILLING_SELLER_VAT_NUMBER"],
    )


def _buyer(tenant: Tenant, profile: BillingProfile | None) -> documents.Party:
    if profile is None:
        return documents.Party(name=tenant.name, siret="—")
    return documents.Party(
        name=profile.legal_name,
        siret=profile.siret,
        address=profile.address,
        service_code=profile.service_code,
        email=profile.email,
    )


def _day(moment: datetime | None) -> datetime:
    return (moment or datetime.now(UTC)).astimezone(PARIS)


def _quote_bill(tenant: Tenant, quote: Quote) -> documents.Bill:
    profile = services.profile_of(db.session, tenant)
    lines = services.lines_of(db.session, quote)
    return documents.Bill(
        kind="quote",
        number=quote.number,
        title=quote.title,
        issued_on=_day(quote.sent_at or quote.created_at).date(),
        seller=_seller(),
        buyer=_buyer(tenant, profile),
        lines=[documents.Line(line.label, line.amount_excl_tax_cents) for line in lines],
        excl_tax_cents=quote.total_excl_tax_cents,
        vat_cents=quote.vat_cents,
        incl_tax_cents=quote.total_incl_tax_cents,
        engagement_number=profile.engagement_number if profile else "",
        notes=[
            "Devis valable trois mois. Facturation en deux échéances : 50 % à l'acceptation, "
            "50 % au lancement de l'assemblée ; paiement par virement à 30 jours."
        ],
    )


def _invoice_bill(tenant: Tenant, invoice: Invoice) -> documents.Bill:
    if not invoice.number:
        raise Conflict(_("This invoice is not issued yet: it has no number."))
    quote = services.quote_in(db.session, tenant, invoice.quote_id)
    assert quote is not None
    profile = services.profile_of(db.session, tenant)
    return documents.Bill(
        kind="invoice",
        number=invoice.number,
        title=quote.title,
        issued_on=_day(invoice.issued_at).date(),
        due_on=_day(invoice.due_at).date() if invoice.due_at else None,
        seller=_seller(),
        buyer=_buyer(tenant, profile),
        lines=[documents.Line(invoice.label, invoice.amount_excl_tax_cents)],
        excl_tax_cents=invoice.amount_excl_tax_cents,
        vat_cents=invoice.vat_cents,
        incl_tax_cents=invoice.total_incl_tax_cents,
        engagement_number=profile.engagement_number if profile else "",
        quote_number=quote.number,
        iban=profile.transfer_iban if profile else "",
        bic=profile.transfer_bic if profile else "",
    )


def _pdf(content: bytes, name: str) -> Response:
    return attachment(content, f"{name}.pdf", "application/pdf")


def _quote_pdf(tenant: Tenant, quote_id: int) -> Response:
    quote = services.quote_in(db.session, tenant, quote_id)
    if quote is None:
        abort(404)
    return _pdf(documents.render_pdf(_quote_bill(tenant, quote)), f"devis-{quote.number}")


def _invoice_pdf(tenant: Tenant, invoice_id: int, facturx: bool) -> Response:
    invoice = services.invoice_in(db.session, tenant, invoice_id)
    if invoice is None:
        abort(404)
    bill = _invoice_bill(tenant, invoice)
    if not facturx:
        return _pdf(documents.render_pdf(bill), f"facture-{invoice.number}")
    if not (bill.seller.siret and bill.seller.vat_number):
        raise Conflict(
            _("The consultancy's SIRET and VAT number are not configured: no Factur-X file.")
        )
    return _pdf(documents.facturx_pdf(bill), f"facture-{invoice.number}-factur-x")


# --- The consultancy's page (console host) ------------------------------------------------


def _followed_commune(slug: str) -> Tenant:
    """A commune the signed-in staff member works for (every commune for a platform admin),
    bound to the session for this request."""
    tenant = commune_followed_by(db.session, current_account(), slug)
    if tenant is None:
        abort(404)
    bind_tenant(db.session, tenant.id)
    return tenant


def _console_page(
    tenant: Tenant,
    *,
    profile_form: ProfileForm | None = None,
    line_form: LineForm | None = None,
    line_quote_id: int | None = None,
    status: int = 200,
) -> tuple[str, int]:
    profile = services.profile_of(db.session, tenant)
    if profile_form is None:
        profile_form = ProfileForm(formdata=None, obj=profile)
    quotes = services.quotes_of(db.session, tenant)
    return (
        render_template(
            "billing/console.html",
            tenant=tenant,
            profile=profile,
            profile_form=profile_form,
            line_form=line_form or LineForm(formdata=None),
            line_quote_id=line_quote_id,
            quotes=quotes,
            lines={quote.id: services.lines_of(db.session, quote) for quote in quotes},
            invoices=services.invoices_of(db.session, tenant),
            invoicing=gateway() is not None,
        ),
        status,
    )


@console_bp.get("")
def console_page(slug: str) -> tuple[str, int]:
    return _console_page(_followed_commune(slug))


@console_bp.post("/profile")
def save_profile(slug: str) -> tuple[str, int] | BaseResponse:
    tenant = _followed_commune(slug)
    form = ProfileForm()
    if not form.validate():
        return _console_page(tenant, profile_form=form, status=422)
    values = services.ProfileValues(
        legal_name=form.legal_name.data,
        siret=form.siret_digits,
        service_code=form.service_code.data or "",
        engagement_number=form.engagement_number.data or "",
        email=form.email.data,
        address=form.address.data or "",
    )
    try:
        services.save_profile(db.session, tenant, values, who())
    except DomainError as refusal:
        db.session.rollback()
        form.refuse("siret" if isinstance(refusal, Invalid) else None, refusal.message)
        return _console_page(tenant, profile_form=form, status=refusal.status)
    db.session.commit()
    notify(_("The billing details of %(commune)s are saved.", commune=tenant.name))
    return redirect(url_for("billing_console.console_page", slug=tenant.slug))


@console_bp.post("/quotes")
def draft_quote(slug: str) -> BaseResponse:
    tenant = _followed_commune(slug)
    version = current_config(db.session, tenant)
    if version is None:
        abort(404)
    template = get_registry().view(TenantConfig(version.document)).programme_template()
    quote = services.draft_quote(db.session, tenant, template, who())
    db.session.commit()
    notify(_("The quote %(number)s is drafted from the programme's prices.", number=quote.number))
    return redirect(url_for("billing_console.console_page", slug=tenant.slug))


def _staff_quote(tenant: Tenant, quote_id: int) -> Quote:
    quote = services.quote_in(db.session, tenant, quote_id)
    if quote is None:
        abort(404)
    return quote


@console_bp.post("/quotes/<int:quote_id>/lines")
def add_line(slug: str, quote_id: int) -> tuple[str, int] | BaseResponse:
    tenant = _followed_commune(slug)
    quote = _staff_quote(tenant, quote_id)
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(_("This quote was sent: it can no longer change."))
    form = LineForm()
    if not form.validate():
        return _console_page(tenant, line_form=form, line_quote_id=quote.id, status=422)
    services.add_line(db.session, tenant, quote, form.label.data, form.cents, who())
    db.session.commit()
    notify(
        _(
            "The line is added: the quote now comes to %(total)s including VAT.",
            total=money.euros(quote.total_incl_tax_cents),
        )
    )
    return redirect(url_for("billing_console.console_page", slug=tenant.slug))


@console_bp.post("/quotes/<int:quote_id>/lines/<int:line_id>/remove")
def remove_line(slug: str, quote_id: int, line_id: int) -> str | BaseResponse:
    tenant = _followed_commune(slug)
    quote = _staff_quote(tenant, quote_id)
    line = services.line_in(db.session, quote, line_id)
    if line is None:
        abort(404)
    if quote.status != QuoteStatus.DRAFT:
        raise Conflict(_("This quote was sent: it can no longer change."))
    if (
        page := ask_confirmation(
            title=_("Remove the line “%(label)s”?", label=line.label),
            consequences=[_("The quote's totals are computed again without it.")],
            cancel_url=url_for("billing_console.console_page", slug=tenant.slug),
            confirm_text=_("Remove the line"),
            irreversible=False,
        )
    ) is not None:
        return page
    services.remove_line(db.session, tenant, quote, line, who())
    db.session.commit()
    notify(_("The line is removed."))
    return redirect(url_for("billing_console.console_page", slug=tenant.slug))


@console_bp.post("/quotes/<int:quote_id>/send")
def send_quote(slug: str, quote_id: int) -> str | BaseResponse:
    tenant = _followed_commune(slug)
    quote = _staff_quote(tenant, quote_id)
    services.check_sendable(db.session, tenant, quote)
    if (
        page := ask_confirmation(
            title=_(
                "Send the quote %(number)s for %(total)s including VAT?",
                number=quote.number,
                total=money.euros(quote.total_incl_tax_cents),
            ),
            consequences=[
                _("The quote can no longer change."),
                _("The commune's administrators are notified and can accept or refuse it."),
            ],
            cancel_url=url_for("billing_console.console_page", slug=tenant.slug),
            confirm_text=_("Send the quote"),
        )
    ) is not None:
        return page
    services.send_quote(db.session, tenant, quote, who())
    db.session.commit()
    notify(
        _("The quote %(number)s is sent to %(commune)s.", number=quote.number, commune=tenant.name)
    )
    return redirect(url_for("billing_console.console_page", slug=tenant.slug))


@console_bp.post("/invoices/issue")
def issue_invoices(slug: str) -> BaseResponse:
    """Issue again through Stripe the invoices Stripe refused or could not be reached for."""
    tenant = _followed_commune(slug)
    client = gateway()
    if client is None:
        raise Conflict(_("Invoicing through Stripe is not configured on this platform."))
    failed = services.issue_invoices(db.session, tenant, client, who())
    if failed:
        notify(_("Stripe could not issue every invoice: the reason is shown next to each."))
    else:
        notify(_("The invoices are issued and sent to the commune."))
    return redirect(url_for("billing_console.console_page", slug=tenant.slug))


@console_bp.get("/quotes/<int:quote_id>.pdf")
def staff_quote_pdf(slug: str, quote_id: int) -> Response:
    return _quote_pdf(_followed_commune(slug), quote_id)


@console_bp.get("/invoices/<int:invoice_id>.pdf")
def staff_invoice_pdf(slug: str, invoice_id: int) -> Response:
    return _invoice_pdf(_followed_commune(slug), invoice_id, facturx=False)


@console_bp.get("/invoices/<int:invoice_id>/factur-x.pdf")
def staff_invoice_facturx(slug: str, invoice_id: int) -> Response:
    return _invoice_pdf(_followed_commune(slug), invoice_id, facturx=True)


# --- The commune's page (its own host) ----------------------------------------------------


def _commune_page(refusal_form: RefusalForm | None = None, status: int = 200) -> tuple[str, int]:
    tenant = current_tenant()
    quotes = services.quotes_of(db.session, tenant)
    return (
        render_template(
            "billing/commune.html",
            tenant=tenant,
            profile=services.profile_of(db.session, tenant),
            quotes=quotes,
            lines={quote.id: services.lines_of(db.session, quote) for quote in quotes},
            invoices=services.invoices_of(db.session, tenant),
            refusal_form=refusal_form or RefusalForm(formdata=None),
        ),
        status,
    )


@bp.get("/")
def commune_page() -> tuple[str, int]:
    return _commune_page()


def _commune_quote(quote_id: int) -> Quote:
    quote = services.quote_in(db.session, current_tenant(), quote_id)
    if quote is None:
        abort(404)
    return quote


@bp.post("/quotes/<int:quote_id>/accept")
def accept_quote(quote_id: int) -> str | BaseResponse:
    tenant = current_tenant()
    quote = _commune_quote(quote_id)
    if quote.status != QuoteStatus.SUBMITTED:
        raise Conflict(_("This quote was already answered."))
    if (
        page := ask_confirmation(
            title=_(
                "Accept the quote %(number)s for %(total)s including VAT?",
                number=quote.number,
                total=money.euros(quote.total_incl_tax_cents),
            ),
            consequences=[
                _("The acceptance commits the commune: it is recorded in its audit log."),
                _(
                    "Two invoices of half the amount each are issued, payable by bank "
                    "transfer within 30 days."
                ),
            ],
            cancel_url=url_for("billing.commune_page"),
            confirm_text=_("Accept the quote"),
        )
    ) is not None:
        return page
    services.accept_quote(db.session, tenant, quote, who())
    db.session.commit()
    client = gateway()
    failed = services.issue_invoices(db.session, tenant, client, who()) if client else 0
    if client is None or failed:
        notify(_("The quote is accepted. The invoices will follow: the consultancy issues them."))
    else:
        notify(_("The quote is accepted. The invoices are issued and sent by e-mail."))
    return redirect(url_for("billing.commune_page"))


@bp.post("/quotes/<int:quote_id>/refuse")
def refuse_quote(quote_id: int) -> str | tuple[str, int] | BaseResponse:
    tenant = current_tenant()
    quote = _commune_quote(quote_id)
    if quote.status != QuoteStatus.SUBMITTED:
        raise Conflict(_("This quote was already answered."))
    form = RefusalForm()
    if not form.validate():
        return _commune_page(form, 422)
    if (
        page := ask_confirmation(
            title=_("Refuse the quote %(number)s?", number=quote.number),
            consequences=[_("The consultancy is told and may propose another quote.")],
            cancel_url=url_for("billing.commune_page"),
            confirm_text=_("Refuse the quote"),
        )
    ) is not None:
        return page
    services.refuse_quote(db.session, tenant, quote, form.reason.data or "", who())
    db.session.commit()
    notify(_("The quote %(number)s is refused.", number=quote.number))
    return redirect(url_for("billing.commune_page"))


@bp.get("/quotes/<int:quote_id>.pdf")
def quote_pdf(quote_id: int) -> Response:
    return _quote_pdf(current_tenant(), quote_id)


@bp.get("/invoices/<int:invoice_id>.pdf")
def invoice_pdf(invoice_id: int) -> Response:
    return _invoice_pdf(current_tenant(), invoice_id, facturx=False)


@bp.get("/invoices/<int:invoice_id>/factur-x.pdf")
def invoice_facturx(invoice_id: int) -> Response:
    return _invoice_pdf(current_tenant(), invoice_id, facturx=True)


# --- Stripe's webhooks ---------------------------------------------------------------------


@webhook_bp.post("/billing/stripe/webhook")
@csrf.exempt  # type: ignore[untyped-decorator]  # Flask-WTF has no annotations
def stripe_webhook() -> tuple[dict[str, str], int]:
    """An event from Stripe: verified on the raw body, applied once (see
    :func:`agora.billing.services.apply_event`)."""
    client = gateway()
    secret = current_app.config.get("AGORA_STRIPE_WEBHOOK_SECRET")
    if client is None or not secret:
        return {"error": "billing is not configured"}, 404
    try:
        event = client.verified_event(
            request.get_data(cache=False), request.headers.get("Stripe-Signature"), secret
        )
    except BadSignature:
        return {"error": "invalid signature"}, 400
    try:
        outcome = services.apply_event(db.session, client, event)
    except GatewayError:
        db.session.rollback()
        # Stripe delivers the event again later.
        return {"error": "Stripe could not be reached"}, 503
    return {"result": outcome.result}, 200

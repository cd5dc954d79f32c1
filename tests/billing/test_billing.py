"""Quotes and invoices, end to end: staff send a 24,000 € quote (VAT included), the
commune's administrator accepts it, two milestone invoices are issued through Stripe (the
real ``stripe`` client, against a local fake of its endpoints or Stripe's test mode), a
bank transfer arrives and a signed webhook marks the invoice paid — once, whatever the
order or the number of deliveries."""

from __future__ import annotations

import json
import threading
import time
from pathlib import Path
from typing import Any

import facturx
import pytest
from flask import Flask
from flask.testing import FlaskClient
from flask_babel import force_locale, pgettext
from flask_babel import gettext as babel_gettext
from lxml import etree
from sqlalchemy import select

from agora.audit.models import AuditEvent
from agora.billing.models import BillingProfile, Invoice, Quote, QuoteLine, StripeEvent
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.billing_backend import StripeBackend, deliver
from support.fixtures import SignIn

CONSOLE = "/console/communes/poitiers/billing"
SIRET = "21860194400018"  # a town hall's SIRET (passes the Luhn check)
PROFILE = {
    "legal_name": "Commune de Poitiers",
    "siret": "218 601 944 00018",
    "service_code": "FINANCES-01",
    "engagement_number": "EJ-2026-0042",
    "email": "comptabilite@poitiers.example",
    "address": "Place du Maréchal Leclerc\n86000 Poitiers",
}


def french(app: Flask, message: str, **values: Any) -> str:
    """``message`` as a French reader sees it (the catalogue's translation, if any yet)."""
    with app.test_request_context(), force_locale("fr"):
        return str(babel_gettext(message, **values))


def _text(response: Any) -> str:
    return str(response.get_data(as_text=True)).replace("&#39;", "'").replace("&#34;", '"')


def _clients(app: Flask, sign_in: SignIn) -> tuple[FlaskClient, FlaskClient]:
    staff, commune = app.test_client(), app.test_client()
    sign_in(staff, "localhost", "equipe@cooperative.example", staff_of=("poitiers",))
    sign_in(
        commune,
        "poitiers.localhost",
        "mairie@poitiers.example",
        role="commune_admin",
        commune="poitiers",
    )
    return staff, commune


def _rows(app: Flask, model: Any, slug: str = "poitiers") -> list[Any]:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            rows = list(db.session.scalars(select(model)))
            for row in rows:
                db.session.expunge(row)
        db.session.remove()
    return rows


def _audit_count(app: Flask) -> int:
    return len(_rows(app, AuditEvent))


def _send_24000_quote(staff: FlaskClient) -> None:
    assert (
        staff.post(f"{CONSOLE}/profile", data=PROFILE, headers={"Host": "localhost"}).status_code
        == 302
    )
    assert staff.post(f"{CONSOLE}/quotes", headers={"Host": "localhost"}).status_code == 302
    drafted = staff.get(CONSOLE, headers={"Host": "localhost"})
    # The programme's five priced phases: 16,500 € before tax, 19,800 € with VAT.
    assert "16\u00a0500,00\u00a0€" in _text(drafted) and "19\u00a0800,00\u00a0€" in _text(drafted)
    response = staff.post(
        f"{CONSOLE}/quotes/{_quote_id(staff)}/lines",
        data={"label": "Séance supplémentaire et restitution", "amount": "3 500"},
        headers={"Host": "localhost"},
    )
    assert response.status_code == 302
    page = _text(staff.get(CONSOLE, headers={"Host": "localhost"}))
    assert (
        "20\u00a0000,00\u00a0€" in page
        and "4\u00a0000,00\u00a0€" in page
        and "24\u00a0000,00\u00a0€" in page
    )
    sent = staff.post(
        f"{CONSOLE}/quotes/{_quote_id(staff)}/send",
        data={"confirmed": "yes"},
        headers={"Host": "localhost"},
    )
    assert sent.status_code == 302


def _quote_id(client: FlaskClient) -> int:
    app = client.application
    quotes = _rows(app, Quote)
    assert len(quotes) == 1
    return int(quotes[0].id)


def _accept(commune: FlaskClient, quote_id: int) -> Any:
    return commune.post(
        f"/billing/quotes/{quote_id}/accept",
        data={"confirmed": "yes"},
        headers={"Host": "poitiers.localhost"},
    )


def test_staff_send_a_24000_euro_quote_the_commune_accepts_and_a_transfer_pays_an_invoice(
    app: Flask, onboarded: Path, sign_in: SignIn, stripe_backend: StripeBackend
) -> None:
    staff, commune = _clients(app, sign_in)
    _send_24000_quote(staff)
    quote_id = _quote_id(staff)

    page = commune.get("/billing/", headers={"Host": "poitiers.localhost"})
    assert page.status_code == 200
    assert "24\u00a0000,00\u00a0€" in _text(page)
    pdf = commune.get(f"/billing/quotes/{quote_id}.pdf", headers={"Host": "poitiers.localhost"})
    assert pdf.status_code == 200 and pdf.data.startswith(b"%PDF")

    # Accepting asks for a confirmation first, and writes nothing until it is given.
    asked = commune.post(
        f"/billing/quotes/{quote_id}/accept", headers={"Host": "poitiers.localhost"}
    )
    assert asked.status_code == 200 and 'name="confirmed"' in _text(asked)
    assert _rows(app, Invoice) == []
    assert _accept(commune, quote_id).status_code == 302

    invoices = sorted(_rows(app, Invoice), key=lambda invoice: invoice.milestone)
    assert [i.status.value for i in invoices] == ["open", "open"]
    assert [i.total_incl_tax_cents for i in invoices] == [1_200_000, 1_200_000]
    assert sum(i.amount_excl_tax_cents + i.vat_cents for i in invoices) == 2_400_000
    assert all(i.stripe_invoice_id and i.number for i in invoices)
    profile = _rows(app, BillingProfile)[0]
    assert profile.siret == SIRET and profile.transfer_iban.startswith("FR")

    stripe_invoice = stripe_backend.client.v1.invoices.retrieve(invoices[0].stripe_invoice_id)
    assert stripe_invoice.collection_method == "send_invoice"
    assert stripe_invoice.payment_settings.payment_method_types == ["customer_balance"]
    assert stripe_invoice.total == 1_200_000 and stripe_invoice.status == "open"
    finalized_at = int(stripe_invoice.status_transitions.finalized_at or 0)
    assert int(stripe_invoice.due_date or 0) - finalized_at >= 29 * 86400

    # The commune pays the first milestone by bank transfer; Stripe says so by webhook.
    assert profile.stripe_customer_id is not None
    stripe_backend.transfer(profile.stripe_customer_id, 1_200_000, invoices[0].number)
    paid_events = stripe_backend.events(invoices[0].stripe_invoice_id, "invoice.paid", wait=60)
    assert paid_events, "Stripe made no invoice.paid event"
    answer = deliver(staff, paid_events[0])
    assert answer.status_code == 200 and answer.get_json() == {"result": "applied"}

    invoices = sorted(_rows(app, Invoice), key=lambda invoice: invoice.milestone)
    assert [i.status.value for i in invoices] == ["paid", "open"]
    assert invoices[0].amount_paid_cents == 1_200_000 and invoices[0].paid_at is not None
    shown = _text(commune.get("/billing/", headers={"Host": "poitiers.localhost"}))
    with app.test_request_context(), force_locale("fr"):
        paid_label = str(pgettext("invoice", "paid"))
    assert shown.count(f'govuk-tag--green">{paid_label}</strong>') == 1
    staff_page = _text(staff.get(CONSOLE, headers={"Host": "localhost"}))
    assert invoices[0].number in staff_page and invoices[1].number in staff_page


def _issued(app: Flask, sign_in: SignIn) -> tuple[FlaskClient, list[Invoice]]:
    staff, commune = _clients(app, sign_in)
    _send_24000_quote(staff)
    assert _accept(commune, _quote_id(staff)).status_code == 302
    return staff, sorted(_rows(app, Invoice), key=lambda invoice: invoice.milestone)


def test_tampered_stale_duplicated_and_out_of_order_webhooks_count_nothing_twice(
    app: Flask, onboarded: Path, sign_in: SignIn, stripe_backend: StripeBackend
) -> None:
    staff, invoices = _issued(app, sign_in)
    first = invoices[0]
    assert first.stripe_invoice_id is not None
    finalized = stripe_backend.events(first.stripe_invoice_id, "invoice.finalized", wait=60)[0]
    customer = _rows(app, BillingProfile)[0].stripe_customer_id
    assert customer is not None
    stripe_backend.transfer(customer, 1_200_000, first.number)
    paid = stripe_backend.events(first.stripe_invoice_id, "invoice.paid", wait=60)[0]
    audit_before = _audit_count(app)

    # Tampered: the body is not the one signed (a larger amount paid) → refused.
    forged = dict(paid, data={"object": dict(paid["data"]["object"], amount_paid=9_999_999)})
    tampered = deliver(staff, paid, body=json.dumps(forged).encode())
    assert tampered.status_code == 400
    # Signed with another secret → refused.
    assert deliver(staff, paid, secret="whsec_someone_else").status_code == 400
    # Stale: signed ten minutes ago (Stripe's tolerance is five) → refused.
    assert deliver(staff, paid, timestamp=int(time.time()) - 600).status_code == 400
    assert _rows(app, StripeEvent) == [] and _audit_count(app) == audit_before
    assert {i.status.value for i in _rows(app, Invoice)} == {"open"}

    # Delivered: paid. Delivered again: nothing more.
    assert deliver(staff, paid).get_json() == {"result": "applied"}
    audit_after_paid = _audit_count(app)
    assert audit_after_paid == audit_before + 1
    assert deliver(staff, paid).get_json() == {"result": "duplicate"}
    assert _audit_count(app) == audit_after_paid
    assert len(_rows(app, StripeEvent)) == 1

    # Out of order: the older "finalized" event arrives after "paid"; the invoice is read
    # again from Stripe, so it stays paid, with its amount counted once.
    assert deliver(staff, finalized).get_json() == {"result": "applied"}
    state = {i.milestone: i for i in _rows(app, Invoice)}
    assert state[1].status.value == "paid" and state[1].amount_paid_cents == 1_200_000
    assert state[2].status.value == "open" and state[2].amount_paid_cents == 0
    assert _audit_count(app) == audit_after_paid
    assert len(_rows(app, StripeEvent)) == 2

    # An event about something that is not one of our invoices: acknowledged, ignored.
    other = {
        "id": "evt_other",
        "object": "event",
        "type": "customer.created",
        "data": {"object": {"id": "cus_x", "object": "customer"}},
        "created": int(time.time()),
        "livemode": False,
        "api_version": None,
        "pending_webhooks": 1,
        "request": {"id": None, "idempotency_key": None},
    }
    assert deliver(staff, other).get_json() == {"result": "ignored"}
    # An invoice event about an invoice Stripe does not know (another account's): ignored.
    unknown = dict(
        paid, id="evt_unknown", data={"object": {"id": "in_unknown", "object": "invoice"}}
    )
    assert deliver(staff, unknown).get_json() == {"result": "ignored"}
    assert len(_rows(app, StripeEvent)) == 2


def test_a_stripe_failure_leaves_invoices_to_issue_and_staff_retry(
    app: Flask, onboarded: Path, sign_in: SignIn, stripe_backend: StripeBackend
) -> None:
    if stripe_backend.fake is None:
        pytest.skip("a failure is simulated by the local fake only")
    staff, commune = _clients(app, sign_in)
    _send_24000_quote(staff)
    stripe_backend.fake.failing["/v1/invoices"] = 400
    assert _accept(commune, _quote_id(staff)).status_code == 302
    invoices = _rows(app, Invoice)
    assert [i.status.value for i in invoices] == ["to_issue", "to_issue"]
    assert all(i.stripe_invoice_id is None and i.last_error for i in invoices)
    assert _rows(app, Quote)[0].status.value == "accepted"
    page = _text(staff.get(CONSOLE, headers={"Host": "localhost"}))
    assert 'action="/console/communes/poitiers/billing/invoices/issue"' in page

    del stripe_backend.fake.failing["/v1/invoices"]
    assert staff.post(f"{CONSOLE}/invoices/issue", headers={"Host": "localhost"}).status_code == 302
    invoices = _rows(app, Invoice)
    assert [i.status.value for i in invoices] == ["open", "open"]
    assert all(not i.last_error for i in invoices)
    # One customer, two invoices at Stripe: the retry made nothing twice.
    assert len(stripe_backend.fake.customers) == 1 and len(stripe_backend.fake.invoices) == 2
    # Retrying again issues nothing more.
    assert staff.post(f"{CONSOLE}/invoices/issue", headers={"Host": "localhost"}).status_code == 302
    assert len(stripe_backend.fake.invoices) == 2


def test_the_factur_x_copy_is_valid_and_carries_the_totals(
    app: Flask, onboarded: Path, sign_in: SignIn, stripe_backend: StripeBackend
) -> None:
    staff, invoices = _issued(app, sign_in)
    first = invoices[0]
    response = staff.get(
        f"{CONSOLE}/invoices/{first.id}/factur-x.pdf", headers={"Host": "localhost"}
    )
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    _name, xml = facturx.get_xml_from_pdf(response.data, check_xsd=False)
    assert facturx.xml_check_xsd(xml, flavor="factur-x", level="basic")
    tree = etree.fromstring(xml)
    ns = {
        "ram": "urn:un:unece:uncefact:data:standard:ReusableAggregateBusinessInformationEntity:100"
    }

    def value(path: str) -> str:
        return str(tree.xpath(f"string(//{path})", namespaces=ns))

    assert value("ram:TaxBasisTotalAmount") == "10000.00"
    assert value("ram:TaxTotalAmount") == "2000.00"
    assert value("ram:GrandTotalAmount") == "12000.00"
    assert value("ram:BuyerTradeParty/ram:SpecifiedLegalOrganization/ram:ID") == SIRET
    assert value("ram:BuyerReference") == "FINANCES-01"
    assert value("ram:BuyerOrderReferencedDocument/ram:IssuerAssignedID") == "EJ-2026-0042"
    assert value("ram:IBANID").startswith("FR")
    assert (
        tree.xpath("string(//*[local-name()='ExchangedDocument']/ram:ID)", namespaces=ns)
        == first.number
    )
    # The commune's administrator downloads the same file from the commune's site.
    commune = app.test_client()
    sign_in(
        commune,
        "poitiers.localhost",
        "mairie@poitiers.example",
        role="commune_admin",
        commune="poitiers",
    )
    mine = commune.get(
        f"/billing/invoices/{first.id}/factur-x.pdf", headers={"Host": "poitiers.localhost"}
    )
    assert mine.status_code == 200


def test_without_a_stripe_key_quotes_work_and_invoicing_says_it_is_not_configured(
    app: Flask, onboarded: Path, sign_in: SignIn
) -> None:
    staff, commune = _clients(app, sign_in)
    page = _text(staff.get(CONSOLE, headers={"Host": "localhost"}))
    assert (
        french(
            app,
            "Invoicing through Stripe is not configured on this platform: quotes can be drafted, "
            "sent and answered; their invoices are issued once it is.",
        )
        in page
    )
    _send_24000_quote(staff)
    assert _accept(commune, _quote_id(staff)).status_code == 302
    assert [i.status.value for i in _rows(app, Invoice)] == ["to_issue", "to_issue"]
    # No key, no webhook endpoint.
    assert deliver(staff, {"id": "evt_1", "type": "invoice.paid"}).status_code == 404


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        (
            "siret",
            "21860194400013",
            "This SIRET does not exist: one digit is wrong (its check digit does not match).",
        ),
        ("siret", "2186019440", "Enter the SIRET as 14 digits (spaces allowed)."),
        ("email", "comptabilite", "Enter an e-mail address such as comptabilite@mairie.fr."),
        ("legal_name", "", "Enter the name the invoices are addressed to."),
        (
            "service_code",
            "FINANCES\u00e9",
            "Use only letters without accents, digits, spaces and . / _ - in this reference.",
        ),
    ],
)
def test_bad_billing_details_are_refused_next_to_the_field_and_nothing_is_written(
    app: Flask, onboarded: Path, sign_in: SignIn, field: str, value: str, message: str
) -> None:
    staff, _commune = _clients(app, sign_in)
    audit_before = _audit_count(app)
    sent = dict(PROFILE, **{field: value})
    response = staff.post(f"{CONSOLE}/profile", data=sent, headers={"Host": "localhost"})
    assert response.status_code == 422
    page = _text(response)
    expected = french(app, message)
    assert f'id="{field}-error"' in page
    error = page.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert expected in error
    for other, typed in sent.items():
        if other != field and other != "address":
            assert f'value="{typed}"' in page, other
    assert "Place du Maréchal Leclerc" in page
    assert _rows(app, BillingProfile) == [] and _audit_count(app) == audit_before


@pytest.mark.parametrize(
    ("data", "field", "message"),
    [
        (
            {"label": "Séance", "amount": "trois mille"},
            "amount",
            "Enter an amount in euros, such as 3 500 or 3 500,50.",
        ),
        (
            {"label": "Séance", "amount": "0"},
            "amount",
            "Enter an amount between 0,01 € and 10 000 000 €.",
        ),
        ({"label": "", "amount": "3 500"}, "label", "Enter what the line pays for."),
    ],
)
def test_a_bad_quote_line_is_refused_and_the_quote_is_unchanged(
    app: Flask, onboarded: Path, sign_in: SignIn, data: dict[str, str], field: str, message: str
) -> None:
    staff, _commune = _clients(app, sign_in)
    staff.post(f"{CONSOLE}/quotes", headers={"Host": "localhost"})
    quote_id = _quote_id(staff)
    lines_before = len(_rows(app, QuoteLine))
    response = staff.post(
        f"{CONSOLE}/quotes/{quote_id}/lines", data=data, headers={"Host": "localhost"}
    )
    assert response.status_code == 422
    page = _text(response)
    error = page.split(f'id="{field}-error"', 1)[1].split("</p>", 1)[0]
    assert french(app, message) in error
    for typed in data.values():
        if typed:
            assert f'value="{typed}"' in page
    assert len(_rows(app, QuoteLine)) == lines_before
    assert _rows(app, Quote)[0].total_incl_tax_cents == 1_980_000


def test_a_commune_administrator_never_sees_another_communes_billing(
    app: Flask, onboarded: Path, sign_in: SignIn
) -> None:
    staff, _commune = _clients(app, sign_in)
    staff.post(f"{CONSOLE}/profile", data=PROFILE, headers={"Host": "localhost"})
    staff.post(f"{CONSOLE}/quotes", headers={"Host": "localhost"})
    quote_id = _quote_id(staff)
    staff.post(
        f"{CONSOLE}/quotes/{quote_id}/send",
        data={"confirmed": "yes"},
        headers={"Host": "localhost"},
    )

    grenoble = app.test_client()
    sign_in(
        grenoble,
        "grenoble.localhost",
        "mairie@grenoble.example",
        role="commune_admin",
        commune="grenoble",
    )
    # On Grenoble's own site, Poitiers' quote is not there.
    assert (
        grenoble.get(
            f"/billing/quotes/{quote_id}.pdf", headers={"Host": "grenoble.localhost"}
        ).status_code
        == 404
    )
    mine = grenoble.post(
        f"/billing/quotes/{quote_id}/accept",
        data={"confirmed": "yes"},
        headers={"Host": "grenoble.localhost"},
    )
    assert mine.status_code == 404
    assert "D-" not in _text(grenoble.get("/billing/", headers={"Host": "grenoble.localhost"}))
    assert _rows(app, Quote)[0].status.value == "submitted"
    # Staff who follow only Grenoble do not reach Poitiers' billing in the console.
    other_staff = app.test_client()
    sign_in(other_staff, "localhost", "autre@cooperative.example", staff_of=("grenoble",))
    assert other_staff.get(CONSOLE, headers={"Host": "localhost"}).status_code == 404
    assert (
        other_staff.get(
            f"{CONSOLE}/quotes/{quote_id}.pdf", headers={"Host": "localhost"}
        ).status_code
        == 404
    )


def test_a_refused_quote_keeps_its_reason_and_a_new_one_can_be_drafted(
    app: Flask, onboarded: Path, sign_in: SignIn
) -> None:
    staff, commune = _clients(app, sign_in)
    staff.post(f"{CONSOLE}/profile", data=PROFILE, headers={"Host": "localhost"})
    staff.post(f"{CONSOLE}/quotes", headers={"Host": "localhost"})
    quote_id = _quote_id(staff)
    staff.post(
        f"{CONSOLE}/quotes/{quote_id}/send",
        data={"confirmed": "yes"},
        headers={"Host": "localhost"},
    )
    refused = commune.post(
        f"/billing/quotes/{quote_id}/refuse",
        data={"reason": "Budget voté en mars", "confirmed": "yes"},
        headers={"Host": "poitiers.localhost"},
    )
    assert refused.status_code == 302
    quote = _rows(app, Quote)[0]
    assert quote.status.value == "refused" and quote.refusal_reason == "Budget voté en mars"
    # Answering twice is refused.
    again = _accept(commune, quote_id)
    assert again.status_code == 409
    assert staff.post(f"{CONSOLE}/quotes", headers={"Host": "localhost"}).status_code == 302
    assert len(_rows(app, Quote)) == 2


def test_two_acceptances_at_once_issue_the_invoices_once(
    app: Flask, postgresql_database: Any, onboarded: Path, sign_in: SignIn
) -> None:
    staff, commune = _clients(app, sign_in)
    staff.post(f"{CONSOLE}/profile", data=PROFILE, headers={"Host": "localhost"})
    staff.post(f"{CONSOLE}/quotes", headers={"Host": "localhost"})
    quote_id = _quote_id(staff)
    staff.post(
        f"{CONSOLE}/quotes/{quote_id}/send",
        data={"confirmed": "yes"},
        headers={"Host": "localhost"},
    )
    second = app.test_client()
    sign_in(
        second,
        "poitiers.localhost",
        "adjoint@poitiers.example",
        role="commune_admin",
        commune="poitiers",
    )
    barrier = threading.Barrier(2)
    statuses: list[int] = []

    def accept(client: FlaskClient) -> None:
        barrier.wait()
        statuses.append(_accept(client, quote_id).status_code)

    threads = [threading.Thread(target=accept, args=(c,)) for c in (commune, second)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(statuses) == [302, 409]
    assert len(_rows(app, Invoice)) == 2
    accepted = [e for e in _rows(app, AuditEvent) if e.action == "quote.accepted"]
    assert len(accepted) == 1

"""Quotes and invoices in a real headless Chromium, against a local fake of Stripe's
endpoints: staff fill Poitiers' billing details, draft the quote from the programme's prices,
add a line to reach 24 000 € TTC and send it; the commune's administrator accepts it on the
commune's site and two milestone invoices are issued; a bank transfer pays the first, and
Stripe's signed webhook marks it paid. axe-core audits each page (no serious or critical
violation)."""

from __future__ import annotations

import json
import urllib.request
from collections.abc import Iterator
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect
from sqlalchemy import select

from agora.billing.models import BillingProfile, Invoice
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from e2e.accessibility import Audit
from e2e.pages import Site, prepare_people, signed_in
from support.billing_backend import WEBHOOK_SECRET, StripeBackend
from support.fake_stripe import FakeStripe, fake_stripe, sign

TWENTY_FOUR_THOUSAND = "24\u00a0000,00\u00a0€"
TWELVE_THOUSAND = "12\u00a0000,00\u00a0€"


@pytest.fixture
def stripe_fake(monkeypatch: pytest.MonkeyPatch) -> Iterator[FakeStripe]:
    """The fake Stripe, named in the environment before the served application reads it
    (ask for this fixture before ``site``)."""
    with fake_stripe() as fake:
        for name, value in {
            "AGORA_STRIPE_API_KEY": fake.api_key,
            "AGORA_STRIPE_API_BASE": fake.url,
            "AGORA_STRIPE_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "AGORA_BILLING_SELLER_NAME": "Coopérative Fréquence Test",
            "AGORA_BILLING_SELLER_SIRET": "73282932000074",
            "AGORA_BILLING_SELLER_VAT_NUMBER": "FR44732829320",
        }.items():
            monkeypatch.setenv(name, value)
        yield fake


def _deliver(console: str, event: dict[str, Any]) -> Any:
    """POST ``event`` to the served webhook, signed as Stripe signs it."""
    payload = json.dumps(event).encode()
    request = urllib.request.Request(
        f"{console}/billing/stripe/webhook",
        data=payload,
        headers={
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload, WEBHOOK_SECRET),
        },
        method="POST",
    )
    with urllib.request.urlopen(request, timeout=30) as answer:
        return answer.status, json.loads(answer.read())


def test_a_quote_sent_accepted_and_paid_by_transfer(
    browser: Browser, app: Flask, stripe_fake: FakeStripe, site: str
) -> None:
    people = prepare_people(app)
    served = Site(app, site)
    console, commune = served.base("platform"), served.base("tenant")
    audit = Audit()
    staff = signed_in(browser, served, people["staff"])
    mayor = signed_in(browser, served, people["commune admin"])
    try:
        page = staff.new_page()
        page.goto(f"{console}/console/communes/poitiers/billing")
        expect(page.get_by_role("heading", name="Facturation de Poitiers")).to_be_visible()
        audit.check(page, "staff billing page")
        page.locator("#legal_name").fill("Commune de Poitiers")
        page.locator("#siret").fill("218 601 944 00018")
        page.locator("#service_code").fill("FINANCES-01")
        page.locator("#engagement_number").fill("EJ-2026-0042")
        page.locator("#email").fill("comptabilite@poitiers.example")
        page.locator("#address").fill("Place du Maréchal Leclerc\n86000 Poitiers")
        page.get_by_role("button", name="Enregistrer les coordonnées de facturation").click()
        expect(page.locator(".govuk-notification-banner")).to_be_visible()
        page.get_by_role("button", name="Préparer un devis").click()
        page.locator("#label").fill("Séance supplémentaire et restitution")
        page.locator("#amount").fill("3 500")
        page.get_by_role("button", name="Ajouter la ligne").click()
        expect(page.locator("main")).to_contain_text(TWENTY_FOUR_THOUSAND)
        audit.check(page, "staff billing page with a draft quote")
        page.get_by_role("button", name="Envoyer le devis à la commune").click()
        expect(page.locator("h1")).to_contain_text("TTC")
        page.get_by_role("button", name="Envoyer le devis", exact=True).click()
        expect(page.locator(".govuk-notification-banner")).to_be_visible()

        page = mayor.new_page()
        page.goto(f"{commune}/billing/")
        expect(page.locator("main")).to_contain_text(TWENTY_FOUR_THOUSAND)
        audit.check(page, "commune billing page with a quote to answer")
        page.get_by_role("button", name="Accepter le devis").click()
        audit.check(page, "acceptance confirmation")
        page.get_by_role("button", name="Accepter le devis").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("Le devis est accepté")
        expect(page.locator("main")).to_contain_text(TWELVE_THOUSAND)
        audit.check(page, "commune billing page with its invoices")

        # The first milestone is paid by bank transfer; Stripe tells the platform by webhook.
        with app.app_context():
            poitiers = db.session.execute(
                select(Tenant).where(Tenant.slug == "poitiers")
            ).scalar_one()
            with tenant_scope(db.session, poitiers.id):
                profile = db.session.scalars(
                    select(BillingProfile).where(BillingProfile.tenant_id == poitiers.id)
                ).one()
                invoices = db.session.scalars(
                    select(Invoice).where(Invoice.tenant_id == poitiers.id)
                )
                first = min(invoices, key=lambda invoice: invoice.milestone)
                customer, invoice_id, number = (
                    profile.stripe_customer_id,
                    first.stripe_invoice_id,
                    first.number,
                )
            db.session.remove()
        assert customer and invoice_id
        backend = StripeBackend(stripe_fake.api_key, stripe_fake.url, stripe_fake)
        backend.transfer(customer, 1_200_000, number)
        paid = backend.events(invoice_id, "invoice.paid")
        assert paid, "the fake Stripe made no invoice.paid event"
        assert _deliver(console, paid[0]) == (200, {"result": "applied"})

        page.reload()
        expect(page.locator("main .govuk-tag", has_text="payée")).to_have_count(1)
        audit.check(page, "commune billing page with an invoice paid")
    finally:
        staff.close()
        mayor.close()
    if audit.failures:
        pytest.fail(audit.report(), pytrace=False)

"""Billing's Stripe back-end for the tests: a local fake of Stripe's endpoints (always), or
Stripe's own test mode when ``STRIPE_TEST_KEY`` is set (otherwise skipped, saying so)."""

from __future__ import annotations

import json
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pytest
import stripe
from flask import Flask
from flask.testing import FlaskClient

from support.fake_stripe import FakeStripe, fake_stripe, sign

WEBHOOK_SECRET = "whsec_agora_tests"
LIVE_KEY = os.environ.get("STRIPE_TEST_KEY")


@dataclass
class StripeBackend:
    """What a test does to Stripe besides the app: pay by bank transfer, fetch the events
    Stripe made, sign them as Stripe does and deliver them to the app's webhook."""

    api_key: str
    api_base: str | None
    fake: FakeStripe | None

    @property
    def client(self) -> stripe.StripeClient:
        bases: Any = {"api": self.api_base} if self.api_base else {}
        return stripe.StripeClient(self.api_key, base_addresses=bases)

    def transfer(self, customer: str, cents: int, reference: str) -> None:
        """A bank transfer of ``cents`` reaching the customer's balance."""
        self.client.v1.test_helpers.customers.fund_cash_balance(
            customer, params={"amount": cents, "currency": "eur", "reference": reference}
        )

    def events(self, invoice_id: str, kind: str, wait: float = 0.0) -> list[dict[str, Any]]:
        """Stripe's events of ``kind`` about the invoice, newest first (waiting up to
        ``wait`` seconds for one: Stripe's test mode makes them asynchronously)."""
        deadline = time.monotonic() + wait
        while True:
            listed = self.client.v1.events.list(params={"type": kind, "limit": 50})
            events = [event.to_dict() for event in listed.data]
            found = [event for event in events if event["data"]["object"].get("id") == invoice_id]
            if found or time.monotonic() >= deadline:
                return found
            time.sleep(1)


@pytest.fixture(params=["fake", "live"])
def stripe_backend(request: pytest.FixtureRequest, app: Flask) -> Iterator[StripeBackend]:
    app.config["AGORA_STRIPE_WEBHOOK_SECRET"] = WEBHOOK_SECRET
    app.config["AGORA_BILLING_SELLER_NAME"] = "Coopérative Fréquence Test"
    app.config["AGORA_BILLING_SELLER_SIRET"] = "73282932000074"
    app.config["AGORA_BILLING_SELLER_VAT_NUMBER"] = "FR44732829320"
    if request.param == "live":
        if not LIVE_KEY:
            pytest.skip("Stripe's test mode: set STRIPE_TEST_KEY (a sk_test_ key) to run it")
        app.config["AGORA_STRIPE_API_KEY"] = LIVE_KEY
        app.config["AGORA_STRIPE_API_BASE"] = None
        yield StripeBackend(LIVE_KEY, None, None)
        return
    with fake_stripe() as fake:
        app.config["AGORA_STRIPE_API_KEY"] = fake.api_key
        app.config["AGORA_STRIPE_API_BASE"] = fake.url
        yield StripeBackend(fake.api_key, fake.url, fake)


def deliver(
    client: FlaskClient,
    event: dict[str, Any],
    *,
    secret: str = WEBHOOK_SECRET,
    timestamp: int | None = None,
    body: bytes | None = None,
) -> Any:
    """POST ``event`` to the app's webhook endpoint, signed as Stripe signs it (``body``:
    send other bytes than the ones signed)."""
    payload = json.dumps(event).encode()
    return client.post(
        "/billing/stripe/webhook",
        data=body if body is not None else payload,
        headers={
            "Host": "localhost",
            "Content-Type": "application/json",
            "Stripe-Signature": sign(payload, secret, timestamp),
        },
    )

"""A local fake of the Stripe API endpoints billing uses, served on 127.0.0.1, for the real
``stripe`` client to talk to (``StripeClient(base_addresses={"api": fake.url})``).

The objects' shapes follow Stripe's published OpenAPI description (github.com/stripe/
openapi, ``openapi/fixtures3.json``: ``customer``, ``funding_instructions``, ``tax_rate``,
``invoiceitem``, ``invoice``, ``customer_cash_balance_transaction``, ``event``), reduced to
the fields Agora reads and a few around them. Its behaviour is Stripe's where billing
relies on it: form-encoded bodies with bracketed keys, ``Authorization: Bearer``, the
``Idempotency-Key`` header (the same key gives back the first answer), invoices going
draft → open (finalize, with a number) → paid, a cash balance funded by bank transfer
(``test_helpers/customers/{id}/fund_cash_balance``) paying the customer's open invoices,
and the events those changes make (``GET /v1/events``).

:func:`sign` signs a webhook's payload as Stripe does (``Stripe-Signature: t=…,v1=…``).
"""

from __future__ import annotations

import hashlib
import hmac
import itertools
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit


def sign(payload: bytes, secret: str, timestamp: int | None = None) -> str:
    """The ``Stripe-Signature`` header of ``payload``: HMAC-SHA256 of ``"{t}.{payload}"``
    with the endpoint's signing secret."""
    moment = int(time.time()) if timestamp is None else timestamp
    signed = f"{moment}.".encode() + payload
    digest = hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    return f"t={moment},v1={digest}"


def parse_form(body: str) -> dict[str, Any]:
    """``a[b][0][c]=v`` → ``{"a": {"b": [{"c": "v"}]}}`` (Stripe's form encoding)."""
    result: dict[str, Any] = {}
    for key, value in parse_qsl(body, keep_blank_values=True):
        parts = re.findall(r"[^\[\]]+", key)
        node: Any = result
        for index, part in enumerate(parts):
            last = index == len(parts) - 1
            following = None if last else parts[index + 1]
            if isinstance(node, list):
                position = int(part)
                while len(node) <= position:
                    node.append(None)
                if last:
                    node[position] = value
                else:
                    if node[position] is None:
                        node[position] = [] if following and following.isdigit() else {}
                    node = node[position]
            else:
                if last:
                    node[part] = value
                else:
                    node = node.setdefault(part, [] if following and following.isdigit() else {})
    return result


def _flag(value: Any) -> bool:
    return str(value).lower() == "true"


@dataclass
class FakeStripe:
    api_key: str
    customers: dict[str, dict[str, Any]] = field(default_factory=dict)
    invoices: dict[str, dict[str, Any]] = field(default_factory=dict)
    items: dict[str, dict[str, Any]] = field(default_factory=dict)
    tax_rates: dict[str, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    balances: dict[str, int] = field(default_factory=dict)
    idempotent: dict[str, tuple[int, dict[str, Any]]] = field(default_factory=dict)
    #: Paths (prefixes) that answer with an error: what a failing Stripe looks like.
    failing: dict[str, int] = field(default_factory=dict)
    requests: list[tuple[str, str]] = field(default_factory=list)
    url: str = ""
    lock: threading.Lock = field(default_factory=threading.Lock)
    _counter: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def _id(self, prefix: str) -> str:
        return f"{prefix}_{secrets.token_hex(8)}"

    def _event(
        self, kind: str, obj: dict[str, Any], previous: dict[str, Any] | None = None
    ) -> None:
        data: dict[str, Any] = {"object": json.loads(json.dumps(obj))}
        if previous:
            data["previous_attributes"] = previous
        self.events.append(
            {
                "id": self._id("evt"),
                "object": "event",
                "api_version": "2025-09-30.clover",
                "created": int(time.time()),
                "data": data,
                "livemode": False,
                "pending_webhooks": 1,
                "request": {"id": None, "idempotency_key": None},
                "type": kind,
            }
        )

    # --- the endpoints ----------------------------------------------------------------

    def handle(self, method: str, path: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        routes: list[tuple[str, str, Callable[..., tuple[int, dict[str, Any]]]]] = [
            ("POST", r"/v1/customers", self.create_customer),
            ("POST", r"/v1/customers/(cus_\w+)/funding_instructions", self.funding_instructions),
            ("GET", r"/v1/tax_rates", self.list_tax_rates),
            ("POST", r"/v1/tax_rates", self.create_tax_rate),
            ("POST", r"/v1/invoices", self.create_invoice),
            ("GET", r"/v1/invoices/(in_\w+)", self.retrieve_invoice),
            ("POST", r"/v1/invoices/(in_\w+)/finalize", self.finalize_invoice),
            ("POST", r"/v1/invoices/(in_\w+)/send", self.send_invoice),
            ("POST", r"/v1/invoiceitems", self.create_item),
            ("POST", r"/v1/test_helpers/customers/(cus_\w+)/fund_cash_balance", self.fund),
            ("GET", r"/v1/events", self.list_events),
        ]
        for verb, pattern, handler in routes:
            match = re.fullmatch(pattern, path)
            if verb == method and match:
                return handler(params, *match.groups())
        return 404, _error(f"Unrecognized request URL ({method}: {path}).")

    def create_customer(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        customer = {
            "id": self._id("cus"),
            "object": "customer",
            "address": None,
            "balance": 0,
            "created": int(time.time()),
            "currency": None,
            "default_source": None,
            "delinquent": False,
            "description": params.get("description"),
            "email": params.get("email"),
            "invoice_prefix": secrets.token_hex(4).upper(),
            "invoice_settings": {
                "custom_fields": params.get("invoice_settings", {}).get("custom_fields"),
                "default_payment_method": None,
                "footer": None,
                "rendering_options": None,
            },
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "name": params.get("name"),
            "next_invoice_sequence": 1,
            "phone": None,
            "preferred_locales": params.get("preferred_locales", []),
            "shipping": None,
            "tax_exempt": "none",
            "test_clock": None,
        }
        self.customers[customer["id"]] = customer
        self.balances[customer["id"]] = 0
        return 200, customer

    def funding_instructions(
        self, params: dict[str, Any], customer: str
    ) -> tuple[int, dict[str, Any]]:
        if customer not in self.customers:
            return 404, _error(f"No such customer: '{customer}'", "resource_missing")
        transfer = params.get("bank_transfer", {})
        if transfer.get("type") != "eu_bank_transfer":
            return 400, _error(
                "bank_transfer[type] must be eu_bank_transfer here", param="bank_transfer[type]"
            )
        # A French IBAN per customer (its check digits are computed, not invented).
        bban = (
            "30006"
            + "00001"
            + f"{int(hashlib.sha256(customer.encode()).hexdigest(), 16) % 10**11:011d}"
            + "00"
        )
        iban = _french_iban(bban)
        return 200, {
            "object": "funding_instructions",
            "bank_transfer": {
                "country": transfer.get("eu_bank_transfer", {}).get("country", "FR"),
                "financial_addresses": [
                    {
                        "iban": {
                            "account_holder_name": "Stripe Technology Europe Ltd",
                            "bic": "SXPYFRP1XXX",
                            "country": "FR",
                            "iban": iban,
                        },
                        "supported_networks": ["sepa"],
                        "type": "iban",
                    }
                ],
                "type": "eu_bank_transfer",
            },
            "currency": params.get("currency", "eur"),
            "funding_type": "bank_transfer",
            "livemode": False,
        }

    def list_tax_rates(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        rates = [
            rate for rate in self.tax_rates.values() if not params.get("active") or rate["active"]
        ]
        return 200, {"object": "list", "data": rates, "has_more": False, "url": "/v1/tax_rates"}

    def create_tax_rate(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        percentage = float(params["percentage"])
        rate = {
            "id": self._id("txr"),
            "object": "tax_rate",
            "active": True,
            "country": params.get("country"),
            "created": int(time.time()),
            "description": params.get("description"),
            "display_name": params["display_name"],
            "effective_percentage": percentage,
            "inclusive": _flag(params.get("inclusive")),
            "jurisdiction": params.get("jurisdiction"),
            "jurisdiction_level": None,
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "percentage": percentage,
            "rate_type": "percentage",
            "state": None,
            "tax_type": None,
        }
        self.tax_rates[rate["id"]] = rate
        return 200, rate

    def create_invoice(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        customer = self.customers.get(params.get("customer", ""))
        if customer is None:
            return 400, _error(
                f"No such customer: '{params.get('customer')}'", "resource_missing", "customer"
            )
        if params.get("collection_method") == "send_invoice" and not params.get("days_until_due"):
            return 400, _error("Missing days_until_due for send_invoice", param="days_until_due")
        now = int(time.time())
        invoice = {
            "id": self._id("in"),
            "object": "invoice",
            "account_country": "FR",
            "amount_due": 0,
            "amount_paid": 0,
            "amount_remaining": 0,
            "attempt_count": 0,
            "attempted": False,
            "auto_advance": _flag(params.get("auto_advance", "false")),
            "billing_reason": "manual",
            "collection_method": params.get("collection_method", "charge_automatically"),
            "created": now,
            "currency": params.get("currency", "eur"),
            "custom_fields": params.get("custom_fields"),
            "customer": customer["id"],
            "customer_email": customer["email"],
            "customer_name": customer["name"],
            "description": params.get("description"),
            "due_date": now + int(params.get("days_until_due", 0)) * 86400,
            "hosted_invoice_url": None,
            "invoice_pdf": None,
            "lines": {"object": "list", "data": [], "has_more": False, "url": ""},
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "number": None,
            "payment_settings": params.get("payment_settings", {}),
            "status": "draft",
            "status_transitions": {
                "finalized_at": None,
                "marked_uncollectible_at": None,
                "paid_at": None,
                "voided_at": None,
            },
            "subtotal": 0,
            "total": 0,
            "total_excluding_tax": 0,
            "total_taxes": [],
        }
        invoice["lines"]["url"] = f"/v1/invoices/{invoice['id']}/lines"
        self.invoices[invoice["id"]] = invoice
        self._event("invoice.created", invoice)
        return 200, invoice

    def create_item(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        invoice = self.invoices.get(params.get("invoice", ""))
        if invoice is None or invoice["status"] != "draft":
            return 400, _error("The invoice must be a draft to take items", param="invoice")
        rates = [self.tax_rates[rate] for rate in params.get("tax_rates", [])]
        amount = int(params["amount"])
        item = {
            "id": self._id("ii"),
            "object": "invoiceitem",
            "amount": amount,
            "currency": params.get("currency", "eur"),
            "customer": params["customer"],
            "date": int(time.time()),
            "description": params.get("description"),
            "discountable": True,
            "invoice": invoice["id"],
            "livemode": False,
            "metadata": params.get("metadata", {}),
            "quantity": 1,
            "tax_rates": rates,
        }
        self.items[item["id"]] = item
        taxes = [
            {
                "amount": (amount * round(rate["percentage"] * 100) + 5000) // 10000,
                "tax_behavior": "exclusive",
                "tax_rate_details": {"tax_rate": rate["id"]},
                "taxability_reason": "standard_rated",
                "taxable_amount": amount,
                "type": "tax_rate_details",
            }
            for rate in rates
        ]
        invoice["lines"]["data"].append(
            {
                "id": self._id("il"),
                "object": "line_item",
                "amount": amount,
                "currency": item["currency"],
                "description": item["description"],
                "invoice": invoice["id"],
                "livemode": False,
                "metadata": item["metadata"],
                "quantity": 1,
                "taxes": taxes,
                "parent": {
                    "type": "invoice_item_details",
                    "invoice_item_details": {"invoice_item": item["id"]},
                },
            }
        )
        subtotal = sum(line["amount"] for line in invoice["lines"]["data"])
        tax = sum(t["amount"] for line in invoice["lines"]["data"] for t in line["taxes"])
        invoice["total_taxes"] = [t for line in invoice["lines"]["data"] for t in line["taxes"]]
        invoice.update(
            subtotal=subtotal,
            total_excluding_tax=subtotal,
            total=subtotal + tax,
            amount_due=subtotal + tax,
            amount_remaining=subtotal + tax,
        )
        return 200, item

    def retrieve_invoice(
        self, params: dict[str, Any], invoice_id: str
    ) -> tuple[int, dict[str, Any]]:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return 404, _error(f"No such invoice: '{invoice_id}'", "resource_missing", "id")
        return 200, invoice

    def finalize_invoice(
        self, params: dict[str, Any], invoice_id: str
    ) -> tuple[int, dict[str, Any]]:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return 404, _error(f"No such invoice: '{invoice_id}'", "resource_missing", "id")
        if invoice["status"] != "draft":
            return 400, _error("This invoice is already finalized", "invoice_not_editable")
        customer = self.customers[invoice["customer"]]
        invoice["number"] = f"{customer['invoice_prefix']}-{customer['next_invoice_sequence']:04d}"
        customer["next_invoice_sequence"] += 1
        invoice["status"] = "open"
        invoice["status_transitions"]["finalized_at"] = int(time.time())
        invoice["hosted_invoice_url"] = f"{self.url}/i/{invoice['id']}"
        invoice["invoice_pdf"] = f"{self.url}/i/{invoice['id']}/pdf"
        self._event("invoice.finalized", invoice)
        return 200, invoice

    def send_invoice(self, params: dict[str, Any], invoice_id: str) -> tuple[int, dict[str, Any]]:
        invoice = self.invoices.get(invoice_id)
        if invoice is None:
            return 404, _error(f"No such invoice: '{invoice_id}'", "resource_missing", "id")
        if invoice["status"] != "open" or invoice["collection_method"] != "send_invoice":
            return 400, _error(
                "Only open send_invoice invoices can be sent", "invoice_not_editable"
            )
        self._event("invoice.sent", invoice)
        return 200, invoice

    def fund(self, params: dict[str, Any], customer: str) -> tuple[int, dict[str, Any]]:
        """A bank transfer reaching the customer's balance: it pays the open invoice whose
        number is the transfer's reference, then the oldest open ones, as far as it goes."""
        if customer not in self.customers:
            return 404, _error(f"No such customer: '{customer}'", "resource_missing")
        amount = int(params["amount"])
        self.balances[customer] += amount
        reference = params.get("reference")
        open_invoices = sorted(
            (
                i
                for i in self.invoices.values()
                if i["customer"] == customer and i["status"] == "open"
            ),
            key=lambda i: (i["number"] != reference, i["created"], i["number"]),
        )
        for invoice in open_invoices:
            if self.balances[customer] < invoice["amount_remaining"]:
                break
            self.balances[customer] -= invoice["amount_remaining"]
            previous = {"amount_paid": invoice["amount_paid"], "status": "open"}
            invoice.update(
                amount_paid=invoice["amount_due"], amount_remaining=0, status="paid", attempted=True
            )
            invoice["status_transitions"]["paid_at"] = int(time.time())
            for kind in ("invoice.payment_succeeded", "invoice.paid", "invoice.updated"):
                self._event(kind, invoice, previous)
        return 200, {
            "id": self._id("ccsbtxn"),
            "object": "customer_cash_balance_transaction",
            "created": int(time.time()),
            "currency": params.get("currency", "eur"),
            "customer": customer,
            "ending_balance": self.balances[customer],
            "funded": {"bank_transfer": {"type": "eu_bank_transfer", "reference": reference}},
            "livemode": False,
            "net_amount": amount,
            "type": "funded",
        }

    def list_events(self, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        events = [
            e
            for e in reversed(self.events)
            if not params.get("type") or e["type"] == params["type"]
        ]
        limit = int(params.get("limit", 10))
        return 200, {
            "object": "list",
            "data": events[:limit],
            "has_more": len(events) > limit,
            "url": "/v1/events",
        }


def _error(message: str, code: str | None = None, param: str | None = None) -> dict[str, Any]:
    return {
        "error": {"type": "invalid_request_error", "message": message, "code": code, "param": param}
    }


def _french_iban(bban: str) -> str:
    digits = "".join(str(int(c, 36)) for c in bban + "FR00")
    check = 98 - int(digits) % 97
    return f"FR{check:02d}{bban}"


def _handler(fake: FakeStripe) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _answer(self, status: int, body: dict[str, Any]) -> None:
            data = json.dumps(body).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.send_header("Request-Id", f"req_{secrets.token_hex(6)}")
            self.end_headers()
            self.wfile.write(data)

        def _serve(self, method: str) -> None:
            parts = urlsplit(self.path)
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length).decode() if length else ""
            params = parse_form(body if method == "POST" else parts.query)
            if self.headers.get("Authorization") != f"Bearer {fake.api_key}":
                self._answer(401, _error("Invalid API Key provided"))
                return
            with fake.lock:
                fake.requests.append((method, parts.path))
                for prefix, status in fake.failing.items():
                    if parts.path.startswith(prefix):
                        self._answer(status, _error("Simulated failure"))
                        return
                key = self.headers.get("Idempotency-Key")
                if method == "POST" and key and key in fake.idempotent:
                    status, answer = fake.idempotent[key]
                else:
                    status, answer = fake.handle(method, parts.path, params)
                    if method == "POST" and key and status < 500:
                        fake.idempotent[key] = (status, json.loads(json.dumps(answer)))
                answer = json.loads(json.dumps(answer))
            self._answer(status, answer)

        def do_GET(self) -> None:
            self._serve("GET")

        def do_POST(self) -> None:
            self._serve("POST")

    return Handler


@contextmanager
def fake_stripe(api_key: str = "sk_test_fake") -> Iterator[FakeStripe]:
    """A fake Stripe API on 127.0.0.1 (a free port), stopped on leaving."""
    fake = FakeStripe(api_key)
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(fake))
    fake.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)

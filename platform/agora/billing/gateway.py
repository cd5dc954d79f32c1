"""Stripe, through stripe-python's ``StripeClient``: the few calls billing makes.

Every writing call carries an idempotency key derived from our own row ids, so that a call
repeated after a time-out (or a retry by staff) gives back the object the first one made
instead of a second customer or a second invoice. Objects are returned as plain dicts.

The API's address can be changed (``AGORA_STRIPE_API_BASE``): the tests point the real
client at a local fake of these endpoints.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import stripe

#: Metadata that marks the objects Agora made (and the commune they belong to).
TENANT_KEY = "agora_tenant_id"
INVOICE_KEY = "agora_invoice_id"
_TAX_RATE_MARK = "agora_vat_fr_20"


class GatewayError(Exception):
    """Stripe refused a call or could not be reached; ``message`` says why (for staff)."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class BadSignature(Exception):
    """A webhook whose signature, or timestamp, does not hold."""


@dataclass(frozen=True)
class CustomerRequest:
    key: str  # idempotency prefix: our profile's identity
    tenant_id: int
    tenant_slug: str
    name: str
    email: str
    siret: str
    service_code: str


@dataclass(frozen=True)
class InvoiceRequest:
    key: str  # idempotency prefix: our invoice row's identity
    tenant_id: int
    invoice_id: int
    customer_id: str
    label: str
    amount_excl_tax_cents: int
    engagement_number: str
    quote_number: str


def _plain(value: Any) -> dict[str, Any]:
    result: dict[str, Any] = value.to_dict() if hasattr(value, "to_dict") else dict(value)
    return result


class Gateway:
    def __init__(self, api_key: str, api_base: str | None = None) -> None:
        bases: dict[str, str] = {"api": api_base} if api_base else {}
        self.client = stripe.StripeClient(
            api_key,
            base_addresses=bases,  # type: ignore[arg-type]
            max_network_retries=2,
        )

    def _call(self, function: Any, *args: Any, **kwargs: Any) -> dict[str, Any]:
        try:
            return _plain(function(*args, **kwargs))
        except stripe.StripeError as error:
            raise GatewayError(error.user_message or str(error)) from error

    def ensure_customer(self, request: CustomerRequest) -> dict[str, Any]:
        """Create the commune's customer (once: the idempotency key is the profile's)."""
        fields = [{"name": "SIRET", "value": request.siret}]
        if request.service_code:
            fields.append({"name": "Code service", "value": request.service_code[:30]})
        return self._call(
            self.client.v1.customers.create,
            params={
                "name": request.name,
                "email": request.email,
                "preferred_locales": ["fr"],
                "invoice_settings": {"custom_fields": fields},
                "metadata": {
                    TENANT_KEY: str(request.tenant_id),
                    "agora_tenant": request.tenant_slug,
                    "siret": request.siret,
                    "chorus_service_code": request.service_code,
                },
            },
            options={"idempotency_key": f"{request.key}-customer"},
        )

    def transfer_details(self, customer_id: str) -> tuple[str, str]:
        """The French IBAN (and BIC) the customer pays its invoices to by bank transfer."""
        instructions = self._call(
            self.client.v1.customers.funding_instructions.create,
            customer_id,
            params={
                "currency": "eur",
                "funding_type": "bank_transfer",
                "bank_transfer": {
                    "type": "eu_bank_transfer",
                    "eu_bank_transfer": {"country": "FR"},
                },
            },
        )
        for address in instructions.get("bank_transfer", {}).get("financial_addresses", []):
            iban = address.get("iban")
            if address.get("type") == "iban" and iban:
                return str(iban.get("iban", "")), str(iban.get("bic", ""))
        return "", ""

    def vat_rate(self) -> str:
        """The id of the 20 % French VAT rate, made once and found again by its mark."""
        listed = self._call(self.client.v1.tax_rates.list, params={"active": True, "limit": 100})
        for rate in listed.get("data", []):
            if rate.get("metadata", {}).get(_TAX_RATE_MARK) == "1":
                return str(rate["id"])
        created = self._call(
            self.client.v1.tax_rates.create,
            params={
                "display_name": "TVA",
                "percentage": 20.0,
                "inclusive": False,
                "country": "FR",
                "jurisdiction": "FR",
                "metadata": {_TAX_RATE_MARK: "1"},
            },
            options={"idempotency_key": "agora-vat-fr-20"},
        )
        return str(created["id"])

    def issue_invoice(self, request: InvoiceRequest) -> dict[str, Any]:
        """Create, fill, finalise and send one invoice: paid by bank transfer to the
        customer's French IBAN, due in 30 days. Each step is idempotent."""
        vat = self.vat_rate()
        metadata = {TENANT_KEY: str(request.tenant_id), INVOICE_KEY: str(request.invoice_id)}
        fields = [{"name": "Devis", "value": request.quote_number[:30]}]
        if request.engagement_number:
            fields.append({"name": "N° d'engagement", "value": request.engagement_number[:30]})
        invoice = self._call(
            self.client.v1.invoices.create,
            params={
                "customer": request.customer_id,
                "collection_method": "send_invoice",
                "days_until_due": 30,
                "currency": "eur",
                "auto_advance": False,
                "pending_invoice_items_behavior": "exclude",
                "description": request.label,
                "custom_fields": fields,
                "metadata": metadata,
                "payment_settings": {
                    "payment_method_types": ["customer_balance"],
                    "payment_method_options": {
                        "customer_balance": {
                            "funding_type": "bank_transfer",
                            "bank_transfer": {
                                "type": "eu_bank_transfer",
                                "eu_bank_transfer": {"country": "FR"},
                            },
                        }
                    },
                },
            },
            options={"idempotency_key": f"{request.key}-invoice"},
        )
        if invoice.get("status") == "draft":
            self._call(
                self.client.v1.invoice_items.create,
                params={
                    "customer": request.customer_id,
                    "invoice": invoice["id"],
                    "currency": "eur",
                    "amount": request.amount_excl_tax_cents,
                    "description": request.label,
                    "tax_rates": [vat],
                    "metadata": metadata,
                },
                options={"idempotency_key": f"{request.key}-item"},
            )
            invoice = self._call(
                self.client.v1.invoices.finalize_invoice,
                invoice["id"],
                params={"auto_advance": False},
                options={"idempotency_key": f"{request.key}-finalize"},
            )
        if invoice.get("status") == "open":
            invoice = self._call(
                self.client.v1.invoices.send_invoice,
                invoice["id"],
                options={"idempotency_key": f"{request.key}-send"},
            )
        return invoice

    def retrieve_invoice(self, stripe_id: str) -> dict[str, Any]:
        """The invoice as Stripe has it now; empty when Stripe has no such invoice (an
        event about an invoice of another account, say)."""
        try:
            return _plain(self.client.v1.invoices.retrieve(stripe_id))
        except stripe.InvalidRequestError as error:
            if error.http_status == 404:
                return {}
            raise GatewayError(error.user_message or str(error)) from error
        except stripe.StripeError as error:
            raise GatewayError(error.user_message or str(error)) from error

    def verified_event(self, payload: bytes, signature: str | None, secret: str) -> dict[str, Any]:
        """The event of a webhook, after checking its signature on the raw body and that it
        was signed less than five minutes ago."""
        try:
            event = self.client.construct_event(payload, signature, secret)
        except (stripe.SignatureVerificationError, ValueError) as error:
            raise BadSignature(str(error)) from error
        return _plain(event)

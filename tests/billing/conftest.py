"""Billing's tests run against a Stripe back-end (support/billing_backend.py)."""

from support.billing_backend import stripe_backend  # noqa: F401  (the fixture)

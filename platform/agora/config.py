"""Configuration read from environment variables, with defaults safe for a newcomer's laptop."""

from __future__ import annotations

import os
import secrets
import sys
from pathlib import Path
from typing import Any


def _sqlite_default(instance_path: str) -> str:
    return f"sqlite:///{Path(instance_path) / 'agora.sqlite3'}"


def from_environment(instance_path: str) -> dict[str, Any]:
    """Return the Flask configuration mapping derived from ``AGORA_*`` variables."""
    base_domain = os.environ.get("AGORA_BASE_DOMAIN", "localhost")
    secret = os.environ.get("AGORA_SECRET_KEY")
    redis_url = os.environ.get("AGORA_REDIS_URL") or None
    return {
        "SQLALCHEMY_DATABASE_URI": os.environ.get("AGORA_DATABASE_URL")
        or _sqlite_default(instance_path),
        # A streaming replica for anonymous public pages (agora/replica.py); none by default.
        "AGORA_DATABASE_REPLICA_URL": os.environ.get("AGORA_DATABASE_REPLICA_URL") or None,
        # No ping before each checkout (a round trip on every request, the vote path
        # included): a connection dropped by a database restart fails one request, after
        # which SQLAlchemy invalidates the whole pool; recycling bounds a connection's age.
        "SQLALCHEMY_ENGINE_OPTIONS": {"pool_recycle": 1800},
        # How long a process may serve a commune's host from memory (see tenancy/hostcache.py).
        "AGORA_TENANT_CACHE_SECONDS": float(os.environ.get("AGORA_TENANT_CACHE_SECONDS", "10")),
        # How long a process may serve an anonymous visitor's public page from memory
        # (shared/page_cache.py); 0: never.
        "AGORA_PUBLIC_PAGE_CACHE_SECONDS": float(
            os.environ.get("AGORA_PUBLIC_PAGE_CACHE_SECONDS", "60")
        ),
        "AGORA_REDIS_URL": redis_url,
        # How often the worker queues the jobs held while Redis was away (jobs/held.py).
        "AGORA_HELD_JOBS_SECONDS": float(os.environ.get("AGORA_HELD_JOBS_SECONDS", "10")),
        # Logs: "json", or "console" for a person at a terminal (observability/logs.py).
        "AGORA_LOG_FORMAT": os.environ.get("AGORA_LOG_FORMAT")
        or ("console" if sys.stderr.isatty() else "json"),
        # /metrics answers only a scraper sending "Authorization: Bearer <this>"; unset, 404.
        "AGORA_METRICS_TOKEN": os.environ.get("AGORA_METRICS_TOKEN") or None,
        # The largest register file a draw accepts (an electoral roll of 1.5 million
        # people is about 250 MB), and where uploads wait for their import job.
        # The largest request body a page takes: its longest form is some 10,000 characters
        # of text; views that take files raise it (``web/protection.py: accepts_files``).
        "MAX_CONTENT_LENGTH": int(os.environ.get("AGORA_MAX_REQUEST_BYTES", 2**20)),
        "AGORA_MAX_REGISTER_BYTES": int(os.environ.get("AGORA_MAX_REGISTER_BYTES", 400 * 2**20)),
        "AGORA_UPLOAD_DIR": os.environ.get("AGORA_UPLOAD_DIR")
        or str(Path(instance_path) / "uploads"),
        # Public randomness of the draws: a drand relay, or (no network: tests, the
        # demonstration) a file of recorded beacons (agora/draws/data/recorded_beacons.json).
        "AGORA_DRAND_URL": os.environ.get("AGORA_DRAND_URL", "https://api.drand.sh"),
        "AGORA_DRAND_BEACONS": os.environ.get("AGORA_DRAND_BEACONS") or None,
        "RATELIMIT_STORAGE_URI": redis_url or "memory://",
        # If Redis goes away, keep limiting per process rather than not at all.
        "RATELIMIT_IN_MEMORY_FALLBACK_ENABLED": True,
        "RATELIMIT_HEADERS_ENABLED": True,
        "AGORA_SMTP_URL": os.environ.get("AGORA_SMTP_URL") or None,
        "AGORA_MAIL_FROM": os.environ.get(
            "AGORA_MAIL_FROM", f"Agora <ne-pas-repondre@{base_domain}>"
        ),
        "AGORA_ENCRYPTION_KEY": os.environ.get("AGORA_ENCRYPTION_KEY") or None,
        "AGORA_STAFF_OIDC_DISCOVERY_URL": os.environ.get("AGORA_STAFF_OIDC_DISCOVERY_URL") or None,
        "AGORA_STAFF_OIDC_CLIENT_ID": os.environ.get("AGORA_STAFF_OIDC_CLIENT_ID", ""),
        "AGORA_STAFF_OIDC_CLIENT_SECRET": os.environ.get("AGORA_STAFF_OIDC_CLIENT_SECRET", ""),
        "AGORA_BASE_DOMAIN": base_domain,
        # How the sites are reached from outside, for the links the platform sends (mails,
        # letters, hand-offs; ``tenancy/addresses.py``): never read from a request's Host.
        "AGORA_PUBLIC_SCHEME": os.environ.get(
            "AGORA_PUBLIC_SCHEME", "http" if base_domain == "localhost" else "https"
        ),
        "AGORA_PUBLIC_PORT": os.environ.get("AGORA_PUBLIC_PORT", ""),
        # Flask 3.1 refuses other Host headers with a 400 before any view runs; custom
        # domains mapped to a commune are added at start-up (``_trusted_custom_domains``, app.py).
        "TRUSTED_HOSTS": [base_domain, f".{base_domain}"],
        # A random key keeps a newcomer safe; production must set AGORA_SECRET_KEY so that
        # sessions survive restarts and are shared by every worker.
        "SECRET_KEY": secret or secrets.token_hex(32),
        "AGORA_APP_ROLE": os.environ.get("AGORA_APP_ROLE", "agora_app"),
        "AGORA_TENANTS_DIR": os.environ.get(
            "AGORA_TENANTS_DIR", str(Path(__file__).resolve().parents[2] / "tenants")
        ),
        "BABEL_DEFAULT_LOCALE": "fr",
        "BABEL_DEFAULT_TIMEZONE": "Europe/Paris",
        "AGORA_LANGUAGES": ("fr", "en"),
        "SESSION_COOKIE_SAMESITE": "Lax",
        "SESSION_COOKIE_HTTPONLY": True,
        # Secure cookies everywhere but on a developer's localhost (plain HTTP).
        "SESSION_COOKIE_SECURE": os.environ.get(
            "AGORA_SECURE_COOKIES", "0" if base_domain == "localhost" else "1"
        )
        == "1",
        "AGORA_PAGE_SIZE": 50,
        # Invoicing through Stripe (agora/billing): the secret key, the webhook endpoint's
        # signing secret, and another API address (tests: a local fake). Without a key,
        # quotes still work and the staff page says invoicing is not configured.
        "AGORA_STRIPE_API_KEY": os.environ.get("AGORA_STRIPE_API_KEY") or None,
        "AGORA_STRIPE_WEBHOOK_SECRET": os.environ.get("AGORA_STRIPE_WEBHOOK_SECRET") or None,
        "AGORA_STRIPE_API_BASE": os.environ.get("AGORA_STRIPE_API_BASE") or None,
        # Who issues the quotes and invoices (the consultancy), as printed on them and in
        # their Factur-X data.
        "AGORA_BILLING_SELLER_NAME": os.environ.get("AGORA_BILLING_SELLER_NAME", ""),
        "AGORA_BILLING_SELLER_SIRET": os.environ.get("AGORA_BILLING_SELLER_SIRET", ""),
        "AGORA_BILLING_SELLER_VAT_NUMBER": os.environ.get("AGORA_BILLING_SELLER_VAT_NUMBER", ""),
        "AGORA_BILLING_SELLER_ADDRESS": os.environ.get("AGORA_BILLING_SELLER_ADDRESS", ""),
    }

"""Shared test objects (the fixtures themselves are in tests/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import Engine, text

from agora.db import Base
from support.sessions import sign_client_in

ROOT = Path(__file__).resolve().parents[2]
PG_ADMIN_URL = os.environ.get("AGORA_TEST_DATABASE_URL")


def _worker_redis_url(url: str | None) -> str | None:
    """The tests' Redis database, one per pytest-xdist worker (tests empty it): worker ``gwN``
    takes the database N below the one configured."""
    worker = os.environ.get("PYTEST_XDIST_WORKER", "gw0")
    if url is None or worker == "gw0":
        return url
    base, _, number = url.rpartition("/")
    return f"{base}/{int(number or 0) - int(worker.removeprefix('gw'))}"


REDIS_URL = _worker_redis_url(os.environ.get("AGORA_TEST_REDIS_URL"))
OWNER_ROLE = "agora_test_owner"
APP_ROLE = "agora_test_app"
NO_POSTGRESQL = "PostgreSQL tests need AGORA_TEST_DATABASE_URL (a superuser URL); .ci/run sets it"


#: The ``load_demo`` fixture: ``load_demo("poitiers", ...)``.
LoadDemo = Callable[..., None]


@dataclass
class Database:
    """A migrated test database: the app's URL and an owner engine for set-up and checks.

    On PostgreSQL, ``superuser`` empties the tables between tests: row-level security is
    forced on the owner too, so its DELETE would miss every commune's rows. DELETE rather
    than TRUNCATE: truncating the fifty tables took 1.5 s a test, deleting their few rows
    0.15 s (without the foreign keys' triggers, which a superuser may turn off).
    """

    backend: str
    app_url: str
    owner: Engine
    superuser: Engine | None = None

    @property
    def is_postgresql(self) -> bool:
        return self.backend == "postgresql"

    def wipe(self) -> None:
        tables = [table.name for table in reversed(Base.metadata.sorted_tables)]
        with (self.superuser or self.owner).begin() as connection:
            if self.superuser is not None:
                # Everything goes: checking each deleted row's foreign keys (3 s after a
                # demonstration's 36,000 rows) would be wasted.
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            for table in tables:
                connection.execute(text(f"DELETE FROM {table}"))


def json_of(response: Any) -> dict[str, Any]:
    """The JSON object a response carries (failing the test when there is none)."""
    data = response.get_json()
    assert isinstance(data, dict), response.get_data(as_text=True)[:200]
    return data


class SignIn:
    """Open a session directly (the sign-in flows have their own tests)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def __call__(
        self,
        client: FlaskClient,
        host: str,
        email: str,
        *,
        role: str | None = None,
        commune: str | None = None,
        staff_of: tuple[str, ...] = (),
        platform_admin: bool = False,
    ) -> int:
        from sqlalchemy import select

        from agora.extensions import db
        from agora.identity.models import Role, StaffAssignment
        from agora.identity.services import get_or_create_account, grant_role
        from agora.tenancy.isolation import tenant_scope
        from agora.tenancy.models import Tenant

        with self.app.app_context():
            account = get_or_create_account(db.session, email)
            account.is_platform_admin = platform_admin
            tenants = {t.slug: t for t in db.session.scalars(select(Tenant))}
            for slug in staff_of:
                db.session.add(StaffAssignment(account_id=account.id, tenant_id=tenants[slug].id))
            if role is not None and commune is not None:
                with tenant_scope(db.session, tenants[commune].id):
                    grant_role(db.session, tenants[commune], account, Role(role), granted_by="test")
            db.session.commit()
            account_id = account.id
        sign_client_in(self.app, client, account_id, host)
        return account_id

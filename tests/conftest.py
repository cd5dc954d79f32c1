"""Test fixtures: a database test runs on PostgreSQL when ``AGORA_TEST_DATABASE_URL`` names
a server (a superuser connection), else on SQLite; with PostgreSQL, the modules marked
``embedded`` run on SQLite too (see ``pytest_collection_modifyitems``).

On PostgreSQL the schema is built by the real migrations, run as an owner role; the
application connects as a separate role without BYPASSRLS, exactly as in production, so
row-level security is exercised by every test.
"""

from __future__ import annotations

import functools
import os
import shutil
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

import agora.models  # noqa: F401  (every table, so TENANT_TABLES is complete)
from agora import create_app
from agora.draws import beacons
from support import demo_snapshot
from support.fixtures import (
    APP_ROLE,
    NO_POSTGRESQL,
    OWNER_ROLE,
    PG_ADMIN_URL,
    ROOT,
    Database,
    LoadDemo,
    SignIn,
)
from support.routing import LazyBuilderRule
from support.smtp import Inbox, smtp_server

# Every application the tests build compiles its URL builders only when used (see routing.py).
Flask.url_rule_class = LazyBuilderRule


def _migrate(url: str) -> None:
    from flask_migrate import upgrade

    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        upgrade()
        from agora.extensions import db

        db.engine.dispose()


def _sqlite_database(tmp: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp / 'agora.sqlite3'}"
    _migrate(url)
    owner = create_engine(url)
    yield Database("sqlite", url, owner)
    owner.dispose()


def _postgresql_database() -> Iterator[Database]:
    assert PG_ADMIN_URL is not None
    admin_url = make_url(PG_ADMIN_URL)
    name = f"agora_test_{uuid.uuid4().hex[:10]}"
    admin = create_engine(
        admin_url.set(drivername="postgresql+psycopg"), isolation_level="AUTOCOMMIT"
    )
    with admin.connect() as connection:
        # pytest-xdist's workers start together: one creates the roles, the others wait.
        connection.execute(text("SELECT pg_advisory_lock(4201)"))
        for role, extra in ((OWNER_ROLE, "CREATEDB"), (APP_ROLE, "")):
            exists = connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :role"), {"role": role}
            ).scalar()
            if not exists:
                connection.execute(
                    text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS {extra}")
                )
        connection.execute(text("SELECT pg_advisory_unlock(4201)"))
        connection.execute(text(f"CREATE DATABASE {name} OWNER {OWNER_ROLE}"))
    base = admin_url.set(drivername="postgresql+psycopg", database=name)
    owner_url = base.set(username=OWNER_ROLE).render_as_string(hide_password=False)
    app_url = base.set(username=APP_ROLE).render_as_string(hide_password=False)
    previous = os.environ.get("AGORA_APP_ROLE")
    os.environ["AGORA_APP_ROLE"] = APP_ROLE
    try:
        _migrate(owner_url)
    finally:
        if previous is None:
            os.environ.pop("AGORA_APP_ROLE")
        else:
            os.environ["AGORA_APP_ROLE"] = previous
    owner = create_engine(owner_url)
    superuser = create_engine(base)
    yield Database("postgresql", app_url, owner, superuser)
    owner.dispose()
    superuser.dispose()
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


@pytest.fixture(
    scope="session",
    params=[
        "sqlite",
        pytest.param(
            "postgresql",
            marks=[
                pytest.mark.postgresql,
                pytest.mark.skipif(PG_ADMIN_URL is None, reason=NO_POSTGRESQL),
            ],
        ),
    ],
)
def database(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Database]:
    if request.param == "sqlite":
        yield from _sqlite_database(tmp_path_factory.mktemp("sqlite"))
    else:
        yield from _postgresql_database()


@pytest.fixture
def postgresql_database(database: Database) -> Database:
    """The database, for tests that only mean something on PostgreSQL (RLS, roles).

    Their SQLite variants are deselected at collection (see below), not skipped.
    """
    assert database.is_postgresql
    return database


def _on_sqlite(item: pytest.Item) -> bool:
    return (
        getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database") == "sqlite"  # type: ignore[attr-defined]
    )


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    # With PostgreSQL (production's) configured, a test runs there only, unless it covers a
    # path that differs on the embedded SQLite (marked ``embedded``: the demonstration that
    # `make run` loads, the imports, the locks of a vote, isolation without row-level
    # security): running everything twice took a third of the suite's time for little.
    # Without PostgreSQL everything runs on SQLite, except what only means something there.
    on_sqlite_only_if_embedded = PG_ADMIN_URL is not None
    deselected = [
        item
        for item in items
        if _on_sqlite(item)
        and (
            "postgresql_database" in getattr(item, "fixturenames", ())
            or (on_sqlite_only_if_embedded and not item.get_closest_marker("embedded"))
        )
    ]
    if deselected:
        config.hook.pytest_deselected(items=deselected)
        items[:] = [item for item in items if item not in deselected]


@pytest.fixture
def app(database: Database, tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Flask]:
    overrides = request.node.get_closest_marker("app_config")
    application = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database.app_url,
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "AGORA_REDIS_URL": None,
            # Tests post forms directly; test_security.py checks CSRF with it on.
            "WTF_CSRF_ENABLED": False,
            # No network here: the draws read genuine recorded drand beacons.
            "AGORA_DRAND_BEACONS": str(beacons.RECORDED),
            # Not the instance folder, which pytest-xdist's workers share.
            "AGORA_UPLOAD_DIR": str(tmp_path / "uploads"),
            # The test client's hosts carry no port (make run's exported one is not theirs).
            "AGORA_PUBLIC_PORT": "",
            # A page must show what the test just wrote (tests/test_page_cache.py turns it on).
            "AGORA_PUBLIC_PAGE_CACHE_SECONDS": 0,
            **(overrides.kwargs if overrides else {}),
        }
    )
    yield application
    with application.app_context():
        from agora.extensions import db

        db.engine.dispose()
    database.wipe()


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def runner(app: Flask) -> Any:
    return app.test_cli_runner()


@pytest.fixture
def tenant_files(tmp_path: Path) -> Path:
    """A copy of the demo ``tenants/`` folder that tests may edit."""
    target = tmp_path / "tenants"
    shutil.copytree(ROOT / "tenants", target)
    return target


@pytest.fixture
def onboarded(runner: Any, tenant_files: Path) -> Path:
    """Poitiers and Grenoble onboarded from their configuration files."""
    result = runner.invoke(args=["tenants", "apply", str(tenant_files)])
    assert result.exit_code == 0, result.output
    return tenant_files


@pytest.fixture
def load_demo(app: Flask, runner: Any, database: Database) -> LoadDemo:
    """``flask demo load <communes>``, run for real once per worker (see demo_snapshot.py)."""
    return functools.partial(demo_snapshot.load_demo, app, runner, database)


@pytest.fixture
def inbox(app: Flask) -> Iterator[Inbox]:
    """A real SMTP server on 127.0.0.1 that the app sends its mail to."""
    with smtp_server() as (url, received):
        app.config["AGORA_SMTP_URL"] = url
        yield received


@pytest.fixture
def sign_in(app: Flask) -> SignIn:
    return SignIn(app)

"""Fixtures of the end-to-end tests: the application served over real HTTP with CSRF on,
mail through a real SMTP server, and one headless Chromium (Debian's, driven by Playwright).

The browser test runs once, on the production database when there is one: with
``AGORA_TEST_DATABASE_URL`` set (as in ``.ci/run``) on PostgreSQL, with its roles and
row-level security; without it on the embedded SQLite, so that ``make test`` on a laptop
still drives the browser.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, sync_playwright

from agora import create_app
from agora.draws import beacons
from e2e.pages import SECRET_KEY
from support.fixtures import PG_ADMIN_URL, Database
from support.server import serve
from support.smtp import Inbox, smtp_server

HERE = Path(__file__).resolve().parent
CHROMIUM = os.environ.get("AGORA_TEST_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
NO_CHROMIUM = (
    f"no Chromium at {CHROMIUM}: `make install` installs Debian's package when run as root "
    "(or run `apt-get install chromium`, or point AGORA_TEST_CHROMIUM at a Chromium binary)"
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """One database per browser run: PostgreSQL when the suite has it, else SQLite."""
    if PG_ADMIN_URL is None:
        return
    twice = [
        item
        for item in items
        if Path(str(item.fspath)).parent == HERE
        and getattr(item, "callspec", None) is not None
        and item.callspec.params.get("database") == "sqlite"  # type: ignore[attr-defined]
    ]
    if twice:
        config.hook.pytest_deselected(items=twice)
        items[:] = [item for item in items if item not in twice]


@pytest.fixture(scope="session")
def browser() -> Iterator[Browser]:
    if not Path(CHROMIUM).is_file():
        pytest.fail(NO_CHROMIUM)
    with sync_playwright() as playwright:
        # *.localhost is the loopback address in Chromium already; the rule keeps it on IPv4,
        # where the test server listens.
        chromium = playwright.chromium.launch(
            executable_path=CHROMIUM,
            args=["--host-resolver-rules=MAP localhost 127.0.0.1, MAP *.localhost 127.0.0.1"],
        )
        yield chromium
        chromium.close()


@pytest.fixture
def mail_server() -> Iterator[tuple[str, Inbox]]:
    """A real SMTP server for the served application: its URL and what it received."""
    with smtp_server() as server:
        yield server


@pytest.fixture
def site(
    database: Database,
    onboarded: Path,
    runner: Any,
    mail_server: tuple[str, Inbox],
    tmp_path: Path,
) -> Iterator[str]:
    """The onboarded communes served on 127.0.0.1 as a production server would serve them:
    CSRF tokens checked, rate limits on, mail sent through SMTP, the draws reading recorded
    drand beacons (no network here). Yields the port."""
    result = runner.invoke(
        args=["identity", "assign-staff", "equipe@cooperative.example", "poitiers"]
    )
    assert result.exit_code == 0, result.output
    served: Flask = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": database.app_url,
            "SECRET_KEY": SECRET_KEY,
            "AGORA_REDIS_URL": None,
            "AGORA_SMTP_URL": mail_server[0],
            "AGORA_BASE_DOMAIN": "localhost",
            "TRUSTED_HOSTS": ["localhost", ".localhost"],
            "SESSION_COOKIE_SECURE": False,
            "AGORA_DRAND_BEACONS": str(beacons.RECORDED),
            # Not the instance folder, which pytest-xdist's workers share.
            "AGORA_UPLOAD_DIR": str(tmp_path / "uploads"),
        }
    )
    with serve(served) as base:
        port = base.rsplit(":", 1)[1]
        served.config["AGORA_PUBLIC_PORT"] = port  # the links it mails lead back to it
        yield port
    with served.app_context():
        from agora.extensions import db

        db.session.remove()
        db.engine.dispose()

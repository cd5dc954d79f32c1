"""One structured log line per request and per job: request id, commune, account, route,
status, duration; never an e-mail address, a code from the query string or an IP address."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient

from agora.extensions import db
from agora.jobs import enqueue
from agora.observability.logs import formatter
from support.fixtures import SignIn

POITIERS = {"Host": "poitiers.localhost"}


def _lines(caplog: pytest.LogCaptureFixture, logger: str) -> list[dict[str, Any]]:
    """The JSON lines production would write for ``logger``'s records."""
    render = formatter("json")
    return [json.loads(render.format(r)) for r in caplog.records if r.name == logger]


def test_a_request_logs_one_line_with_its_id_commune_and_account(
    app: Flask,
    client: FlaskClient,
    onboarded: Path,
    sign_in: SignIn,
    caplog: pytest.LogCaptureFixture,
) -> None:
    account_id = sign_in(
        client, "poitiers.localhost", "camille@example.fr", role="resident", commune="poitiers"
    )
    caplog.set_level(logging.INFO)
    response = client.get(
        "/petitions?token=SECRET-TOKEN",
        headers={**POITIERS, "X-Request-ID": "lb-7f3a.1", "X-Forwarded-For": "203.0.113.9"},
    )
    assert response.status_code == 200
    assert response.headers["X-Request-ID"] == "lb-7f3a.1"
    (line,) = _lines(caplog, "agora.requests")
    assert line["event"] == "request" and line["level"] == "info"
    assert line["request_id"] == "lb-7f3a.1"
    assert (line["commune"], line["account_id"]) == ("poitiers", account_id)
    assert isinstance(line["tenant_id"], int)
    assert (line["method"], line["endpoint"], line["status"]) == ("GET", "petitions.index", 200)
    assert line["duration_ms"] >= 0
    assert line["db_statements"] >= 2  # the person's session, the page's petitions at least
    written = json.dumps(line)
    for private in ("SECRET-TOKEN", "camille", "@", "203.0.113.9", "/petitions"):
        assert private not in written


def test_an_unsafe_request_id_is_replaced_and_an_unknown_address_has_no_path(
    app: Flask, client: FlaskClient, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    forged = 'x" level=critical ' + "a" * 200
    response = client.get("/no/such/page", headers={"Host": "localhost", "X-Request-ID": forged})
    assert response.status_code == 404
    generated = response.headers["X-Request-ID"]
    assert len(generated) == 32 and generated.isalnum()
    (line,) = _lines(caplog, "agora.requests")
    assert line["request_id"] == generated
    assert (line["endpoint"], line["status"], line["commune"]) == ("unmatched", 404, None)


def test_a_job_logs_its_id_name_and_commune(
    app: Flask, onboarded: Path, caplog: pytest.LogCaptureFixture
) -> None:
    from sqlalchemy import select

    from agora.tenancy.models import Tenant

    caplog.set_level(logging.INFO)
    with app.app_context():
        tenant_id = db.session.execute(
            select(Tenant.id).where(Tenant.slug == "poitiers")
        ).scalar_one()
        enqueue("audit.verify", tenant_id=tenant_id)
    (line,) = _lines(caplog, "agora.jobs")
    assert line["event"] == "job finished"
    assert (line["job_id"], line["job"], line["tenant_id"]) == ("inline", "audit.verify", tenant_id)

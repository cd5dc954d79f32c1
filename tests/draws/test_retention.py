"""The retention purge: ``[draws] retention_months`` (6 by default) after a draw closes,
the register rows, the invitations and the contact details of the people not selected go;
the hashes, profiles, probabilities, records and the public record stay as they were."""

from __future__ import annotations

import io
import tomllib
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from agora.audit.models import AuditEvent
from agora.draws import printing
from agora.draws.models import Draw, Invitation, Pick, Register, RegisterBlock, Response
from agora.extensions import db
from agora.jobs import enqueue
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.draws_record import ADDRESSES, INVITED, REGISTER_SHA256, ClosedDraw, closed_draw
from support.fixtures import SignIn
from support.pages import page_text

POITIERS = {"Host": "poitiers.localhost"}
MONTH = timedelta(days=31)


def _state(app: Flask, drawn: ClosedDraw) -> dict[str, Any]:
    """What the draw keeps: counts of rows, contacts, profiles, the draw's dates."""
    with app.app_context(), tenant_scope(db.session, drawn.tenant_id):
        session = db.session
        draw = session.get(Draw, (drawn.tenant_id, drawn.draw_id))
        assert draw is not None
        picked = set(
            session.execute(select(Pick.response_id).where(Pick.draw_id == draw.id)).scalars()
        )
        responses = list(
            session.execute(select(Response).where(Response.draw_id == draw.id)).scalars()
        )
        return {
            "rows": session.execute(select(func.sum(RegisterBlock.rows))).scalar_one() or 0,
            "invitations": session.execute(
                select(func.count()).select_from(Invitation).where(Invitation.draw_id == draw.id)
            ).scalar_one(),
            "picked": len(picked),
            "picked_invited": session.execute(
                select(func.count())
                .select_from(Invitation)
                .join(Response, Response.invitation_id == Invitation.id)
                .where(Response.id.in_(picked))
            ).scalar_one(),
            "contacts": sorted(bool(r.contact) for r in responses if r.id not in picked),
            "picked_contacts": all(r.contact for r in responses if r.id in picked),
            "profiles": sorted((r.person_hash, str(r.features), r.probability) for r in responses),
            "register_sha256": session.execute(select(Register.sha256)).scalar_one(),
            "purged_at": draw.purged_at,
            "record": draw.record,
            "events": [
                e.details
                for e in session.execute(
                    select(AuditEvent).where(AuditEvent.action == "draw.purged")
                ).scalars()
            ],
        }


def _public(client: FlaskClient, drawn: ClosedDraw) -> dict[str, Any]:
    base = f"/draws/{drawn.draw_id}"
    pdf = client.get(f"{base}/proces-verbal.pdf", headers=POITIERS).get_data()
    return {
        "page": client.get(f"{base}/record", headers=POITIERS).get_data(as_text=True),
        "export": client.get(f"{base}/record.json", headers=POITIERS).get_json(),
        "funnel": client.get(f"{base}/funnel.csv", headers=POITIERS).get_data(),
        "shares": client.get(f"{base}/representativeness.csv", headers=POITIERS).get_data(),
        "pv": [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages],
    }


def _print_letters(app: Flask, drawn: ClosedDraw) -> Path:
    """The draw's letters printed as a batch for the print shop; its folder."""
    with app.app_context():
        enqueue("draws.print_letters", tenant_id=drawn.tenant_id, draw_id=drawn.draw_id)
        with tenant_scope(db.session, drawn.tenant_id):
            tenant = db.session.get(Tenant, drawn.tenant_id)
            assert tenant is not None
            return printing.batch_dir(app.config["AGORA_UPLOAD_DIR"], tenant, drawn.draw_id)


def _purge(app: Flask) -> None:
    result = app.test_cli_runner().invoke(args=["draws", "purge"])
    assert result.exit_code == 0, result.output


def test_a_draw_closed_7_months_ago_is_purged_and_its_record_unchanged(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    drawn = closed_draw(app, closed_ago=7 * MONTH)
    letters = _print_letters(app, drawn)
    assert [path.name for path in letters.iterdir()] == ["part-0001.pdf"]
    before, public = _state(app, drawn), _public(client, drawn)
    assert before["rows"] == ADDRESSES and before["invitations"] == INVITED
    _purge(app)
    after = _state(app, drawn)
    # Register rows gone; only the invitations of people picked (panel and reserve) stay;
    # the contacts of the others are emptied, the picked people's kept.
    assert after["rows"] == 0
    assert after["invitations"] == before["picked_invited"] < INVITED
    assert after["contacts"] == [False] * len(before["contacts"])
    assert True in before["contacts"]
    assert after["picked_contacts"]
    # What the record needs stays: the file's hash, the profiles and probabilities, the
    # engine's record.
    assert after["register_sha256"] == REGISTER_SHA256
    assert after["profiles"] == before["profiles"]
    assert after["record"] == before["record"]
    assert after["purged_at"] is not None
    (event,) = after["events"]
    assert event["register_rows"] == ADDRESSES
    assert event["invitations"] == INVITED - before["picked_invited"]
    assert event["months"] == 6
    # The letters printed for the print shop (every invited household's name and address).
    assert event["letter_files"] == 1 and not letters.exists()
    # The public record renders the same, to the byte (the PDF to the text).
    assert _public(client, drawn) == public
    # A second run finds nothing more to do.
    _purge(app)
    assert len(_state(app, drawn)["events"]) == 1


def test_a_draw_closed_5_months_ago_is_kept(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    drawn = closed_draw(app, closed_ago=5 * MONTH)
    before = _state(app, drawn)
    _purge(app)
    after = _state(app, drawn)
    assert after == before
    assert after["purged_at"] is None and after["rows"] == ADDRESSES


def test_the_staff_page_says_when_the_data_goes(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    drawn = closed_draw(app, closed_ago=5 * MONTH)
    sign_in(
        client, "poitiers.localhost", "admin@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    page = page_text(client.get(f"/admin/draws/{drawn.draw_id}", headers=POITIERS))
    assert "Le compte rendu public du tirage" in page
    assert "seront supprimées le" in page
    with app.app_context(), tenant_scope(db.session, drawn.tenant_id):
        draw = db.session.get(Draw, (drawn.tenant_id, drawn.draw_id))
        assert draw is not None
        draw.closed_at = draw.closed_at - 2 * MONTH if draw.closed_at else None
        db.session.commit()
    _purge(app)
    page = page_text(client.get(f"/admin/draws/{drawn.draw_id}", headers=POITIERS))
    assert "ont été supprimées le" in page


def _set_retention(app: Flask, onboarded: Path, months: int) -> Any:
    path = onboarded / "poitiers.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["draws"]["retention_months"] = months
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    return app.test_cli_runner().invoke(args=["tenants", "apply", str(path)])


def test_the_commune_sets_its_retention_period(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    assert _set_retention(app, onboarded, 4).exit_code == 0
    drawn = closed_draw(app, closed_ago=5 * MONTH)
    _purge(app)
    after = _state(app, drawn)
    assert after["purged_at"] is not None and after["rows"] == 0
    assert after["events"][0]["months"] == 4


@pytest.mark.parametrize("months", [0, 200])
def test_a_retention_period_out_of_bounds_is_refused(
    app: Flask, onboarded: Path, months: int
) -> None:
    result = _set_retention(app, onboarded, months)
    assert result.exit_code != 0
    assert "retention_months" in result.output

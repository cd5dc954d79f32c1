"""A commune's lifecycle in the console: suspended with a public notice (its site readable,
the notice on every page, only its staff acting), reactivated, archived; each move a new
configuration version in its audit log, the same as its file applied."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.audit.models import AuditEvent
from agora.extensions import db
from agora.petitions.models import Petition
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant, TenantStatus
from support.fixtures import SignIn
from support.pages import page_text

CONSOLE = {"Host": "localhost"}
POITIERS = {"Host": "poitiers.localhost"}
NOTICE = "Le marché public est en cours de renouvellement : reprise prévue en mars."


def _poitiers(app: Flask) -> Tenant:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        db.session.expunge(tenant)
        return tenant


def _move(client: FlaskClient, status: str, notice: str = "", confirmed: bool = True) -> Any:
    data = {"status": status, "notice": notice}
    if confirmed:
        data["confirmed"] = "yes"
    return client.post("/console/communes/poitiers/status", data=data, headers=CONSOLE)


def test_a_suspended_commune_shows_its_notice_and_only_its_staff_act(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, runner: Any, tmp_path: Path
) -> None:
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))
    before = _poitiers(app)
    page = client.get("/console/communes/poitiers", headers=CONSOLE)
    assert page.status_code == 200 and "Changer le statut" in page_text(page)

    # A suspension says why, before anything is asked or written.
    silent = _move(client, "suspended", confirmed=False)
    assert silent.status_code == 422
    assert "Dites publiquement pourquoi la commune est suspendue." in page_text(silent)
    asked = _move(client, "suspended", NOTICE, confirmed=False)
    assert asked.status_code == 200
    assert "Passer Poitiers au statut « suspendue » ?" in page_text(asked)
    assert _poitiers(app).status == TenantStatus.ACTIVE

    done = _move(client, "suspended", NOTICE)
    assert done.status_code == 302
    shown = page_text(client.get(done.headers["Location"], headers=CONSOLE))
    assert "Poitiers est désormais au statut « suspendue »." in shown and NOTICE in shown
    after = _poitiers(app)
    assert after.status == TenantStatus.SUSPENDED
    assert after.config_version == (before.config_version or 0) + 1
    with app.app_context(), tenant_scope(db.session, after.id):
        actions = db.session.scalars(
            select(AuditEvent.action).where(AuditEvent.tenant_id == after.id)
        ).all()
    assert "tenant.updated" in actions and "config.version_created" in actions

    # The site stays readable, the notice on every page.
    resident = app.test_client()
    home = resident.get("/", headers=POITIERS)
    assert home.status_code == 200
    assert "Avis de la commune" in page_text(home) and NOTICE in page_text(home)
    # A resident can no longer act; nothing is written.
    sign_in(resident, "poitiers.localhost", "camille@example.fr", role="resident",
            commune="poitiers")  # fmt: skip
    refused = resident.post(
        "/petitions", data={"title": "Des bancs", "text": "Des bancs."}, headers=POITIERS
    )
    assert refused.status_code == 403
    assert "La participation à Poitiers est suspendue." in page_text(refused)
    with app.app_context(), tenant_scope(db.session, after.id):
        assert db.session.scalar(select(func.count()).select_from(Petition)) == 0

    # The file exported is the commune as it is, and applying it changes nothing.
    exported = tmp_path / "poitiers.toml"
    assert runner.invoke(args=["tenants", "export", "poitiers", "-o", str(exported)]).exit_code == 0
    text = exported.read_text(encoding="utf-8")
    assert 'status = "suspended"' in text and NOTICE in text
    again = runner.invoke(args=["tenants", "apply", "--dry-run", str(exported)])
    assert "poitiers: up to date" in again.output, again.output

    # Reactivated: the notice goes, residents act again.
    assert _move(client, "active").status_code == 302
    assert NOTICE not in page_text(resident.get("/", headers=POITIERS))
    opened = resident.post(
        "/petitions", data={"title": "Des bancs", "text": "Des bancs."}, headers=POITIERS
    )
    assert opened.status_code == 302


def test_an_archived_commune_closes_and_stays_archived(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))
    asked = _move(client, "archived", confirmed=False)
    assert "Cette action est définitive." in page_text(asked)
    assert _move(client, "archived").status_code == 302
    assert app.test_client().get("/", headers=POITIERS).status_code == 404
    page = page_text(client.get("/console/communes/poitiers", headers=CONSOLE))
    assert "Une commune archivée le reste." in page
    back = _move(client, "active")
    assert back.status_code == 422 and _poitiers(app).status == TenantStatus.ARCHIVED


def test_only_the_communes_own_staff_move_it(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "localhost", "dominique@cooperative.example", staff_of=("grenoble",))
    assert client.get("/console/communes/poitiers", headers=CONSOLE).status_code == 404
    assert _move(client, "suspended", NOTICE).status_code == 404
    assert _poitiers(app).status == TenantStatus.ACTIVE

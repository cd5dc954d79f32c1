"""Onboarding a commune in the browser: the console's wizard creates the same commune a file
would (`tenants export` then `apply --dry-run` reports no change), with its staff, its first
administrator invited by mail and its support programme; bad input is refused field by field
with nothing written; and a release re-applying `tenants/` keeps what was changed in the
browser."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.extensions import db
from agora.identity.models import Account, LoginToken, Role, RoleGrant, StaffAssignment
from agora.onboarding import lifecycle
from agora.programme.models import Programme
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant, TenantConfigVersion, TenantStatus
from support.fixtures import SignIn
from support.pages import page_text
from support.smtp import Inbox

CONSOLE = {"Host": "localhost"}
BREST = {"Host": "brest.localhost"}
LINK = re.compile(r"https?://([^/\s]+)(/login/magic/[A-Za-z0-9_-]+)\?next=(\S*)")


def _brest(**changes: Any) -> dict[str, Any]:
    data = {
        "name": "Brest",
        "kind": "commune",
        "insee_code": "29019",
        "population": "139602",
        "slug": "brest",
        "profile": "open_assembly",
        "admin_email": "democratie@mairie-brest.fr",
        "starts_on": (date.today() + timedelta(days=14)).isoformat(),
    }
    data.update(changes)
    return data


def _counts(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Tenant)) or 0,
            db.session.scalar(select(func.count()).select_from(StaffAssignment)) or 0,
            db.session.scalar(select(func.count()).select_from(Account)) or 0,
            db.session.scalar(select(func.count()).select_from(LoginToken)) or 0,
        )


def test_staff_onboard_a_commune_that_a_file_would_describe_alike(
    app: Flask,
    client: FlaskClient,
    onboarded: Path,
    sign_in: SignIn,
    inbox: Inbox,
    runner: Any,
    tmp_path: Path,
) -> None:
    colleague = sign_in(app.test_client(), "localhost", "lea@cooperative.example",
                        staff_of=("grenoble",))  # fmt: skip
    me = sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))

    page = client.get("/console/communes/new", headers=CONSOLE)
    text = page_text(page)
    assert page.status_code == 200
    for title in (
        "Assemblée ouverte, sur le modèle de Poitiers",
        "Panel fermé, sur le modèle de la Convention citoyenne",
        "Viviers multiples, sur le modèle de Paris",
        "Configuration minimale",
    ):
        assert title in text
    assert "lea@cooperative.example" in text

    data = _brest(staff=str(colleague))
    asked = client.post("/console/communes/new", data=data, headers=CONSOLE)
    assert asked.status_code == 200
    assert "Accueillir Brest ?" in page_text(asked)
    assert "democratie@mairie-brest.fr" in page_text(asked)
    with app.app_context():
        assert db.session.scalar(select(Tenant).where(Tenant.slug == "brest")) is None

    done = client.post("/console/communes/new", data={**data, "confirmed": "yes"}, headers=CONSOLE)
    assert done.status_code == 302
    assert done.headers["Location"] == "/console/communes/brest"
    shown = page_text(client.get(done.headers["Location"], headers=CONSOLE))
    assert "Brest est accueillie" in shown and "democratie@mairie-brest.fr" in shown

    with app.app_context():
        brest = db.session.execute(select(Tenant).where(Tenant.slug == "brest")).scalar_one()
        assert (brest.status, brest.insee_code, brest.population) == (
            TenantStatus.ONBOARDING,
            "29019",
            139602,
        )
        followers = set(
            db.session.scalars(
                select(StaffAssignment.account_id).where(StaffAssignment.tenant_id == brest.id)
            )
        )
        assert followers == {me, colleague}
        with tenant_scope(db.session, brest.id):
            version = db.session.scalars(
                select(TenantConfigVersion).where(TenantConfigVersion.tenant_id == brest.id)
            ).one()
            assert version.source == "console"
            # The profile's rules, without Poitiers' own neighbourhoods.
            criteria = version.document["plugins"]["quotas_census"]["criteria"]
            assert [c["feature"] for c in criteria] == ["gender", "age_band"]
            admins = db.session.execute(
                select(Account.email)
                .join(RoleGrant, RoleGrant.account_id == Account.id)
                .where(RoleGrant.tenant_id == brest.id, RoleGrant.role == Role.COMMUNE_ADMIN)
            ).scalars()
            assert list(admins) == ["democratie@mairie-brest.fr"]
            programme = db.session.scalars(
                select(Programme).where(Programme.tenant_id == brest.id)
            ).one()
            assert programme.starts_on == date.fromisoformat(data["starts_on"])

    # The first administrator's invitation leads to Brest's own site and signs them in.
    assert inbox.messages[-1]["To"] == "democratie@mairie-brest.fr"
    match = LINK.search(inbox.bodies()[-1])
    assert match and match.group(1) == "brest.localhost", inbox.bodies()[-1]
    assert "7 jours" in inbox.bodies()[-1]
    mayor = app.test_client()
    assert mayor.get(match.group(2), headers=BREST).status_code == 200
    signed = mayor.post(match.group(2), data={"next": "/programme"}, headers=BREST)
    assert signed.status_code == 302 and signed.headers["Location"] == "/programme"
    assert mayor.get("/programme", headers=BREST).status_code == 200

    # The same thing as a file: exported, then applied again, it changes nothing.
    exported = tmp_path / "brest.toml"
    result = runner.invoke(args=["tenants", "export", "brest", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tenants", "apply", str(exported), "--dry-run"])
    assert result.exit_code == 0, result.output
    assert result.output.strip() == "brest: up to date"


def test_bad_input_is_refused_next_to_its_field_keeping_what_was_typed(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, inbox: Inbox
) -> None:
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))
    before = _counts(app)
    cases = [
        ({"name": ""}, "Saisissez le nom de la commune."),
        ({"insee_code": "29 019"}, "Saisissez cinq chiffres"),
        ({"insee_code": "96019"}, "Aucun département ne porte le numéro 96"),
        ({"insee_code": "732829321"}, "Ce numéro SIREN n’est pas valide"),
        ({"insee_code": "86194"}, "Ce code est déjà celui de Poitiers."),
        ({"population": "beaucoup"}, "Saisissez la population (un nombre entier)."),
        ({"slug": "Brest Métropole"}, "Utilisez des lettres minuscules sans accent"),
        ({"slug": "poitiers"}, "Cette adresse est déjà celle de Poitiers."),
        ({"slug": "console"}, "Cette adresse est réservée à la plateforme elle-même."),
        ({"profile": "convention"}, "N'est pas un choix valide."),
        ({"admin_email": "mairie-brest.fr"}, "Veuillez saisir une adresse électronique valide."),
        (
            {"starts_on": "2020-01-01"},
            "Le programme ne peut pas avoir commencé il y a plus d’un an.",
        ),
    ]
    for change, message in cases:
        response = client.post("/console/communes/new", data=_brest(**change), headers=CONSOLE)
        text = page_text(response)
        assert response.status_code == 422, (change, text)
        assert message in text, (change, text)
        html = response.get_data(as_text=True)
        # What was typed is still there (the failing field's value as well).
        field, value = next(iter(change.items()))
        if field not in ("profile",):
            assert f'value="{value}"' in html or value == "", (change, html)
        assert 'value="democratie@mairie-brest.fr"' in html or field == "admin_email"
    assert _counts(app) == before
    assert inbox.messages == []


def test_a_release_keeps_rules_changed_in_the_browser(
    app: Flask, client: FlaskClient, onboarded: Path, runner: Any
) -> None:
    with app.app_context():
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        lifecycle.change_status(
            db.session, poitiers, TenantStatus.SUSPENDED, "Travaux de mise à jour.", "staff:test"
        )
        db.session.commit()

    # The release re-applies tenants/: Poitiers' file is behind the browser, so it is kept.
    result = runner.invoke(args=["tenants", "apply", str(onboarded)])
    assert result.exit_code == 0, result.output
    assert "poitiers: kept version" in result.output and "--force" in result.output
    assert "grenoble: up to date" in result.output
    with app.app_context():
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        assert poitiers.status == TenantStatus.SUSPENDED

    # Exported, the file catches up: applying it is then a no-op.
    exported = onboarded / "poitiers.toml"
    result = runner.invoke(args=["tenants", "export", "poitiers", "-o", str(exported)])
    assert result.exit_code == 0, result.output
    result = runner.invoke(args=["tenants", "apply", str(exported)])
    assert result.output.strip() == "poitiers: up to date"

    # --force lets a file overwrite the browser's version, as the operator asked.
    text = exported.read_text(encoding="utf-8")
    exported.write_text(text.replace('status = "suspended"', 'status = "active"'), "utf-8")
    result = runner.invoke(args=["tenants", "apply", str(exported), "--force"])
    assert result.exit_code == 0, result.output
    with app.app_context():
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        assert poitiers.status == TenantStatus.ACTIVE


def test_the_release_steps_never_force_files_over_the_browser() -> None:
    # Every release re-applies tenants/: with --force it would undo what communes changed.
    root = Path(__file__).resolve().parents[1]
    for path in ("deploy/systemd/agora-migrate.service", "deploy/compose.yaml", "Makefile"):
        steps = [
            line
            for line in (root / path).read_text(encoding="utf-8").splitlines()
            if "tenants apply" in line and not line.lstrip().startswith("#")
        ]
        assert steps, f"{path} no longer applies tenants/"
        assert not any("--force" in line for line in steps), path

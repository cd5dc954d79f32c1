"""The PDFs a commune publishes say what the site says: the charter's articles, and the
follow-up report of the action plan for the public review."""

from __future__ import annotations

import io
import re
from datetime import timedelta
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import select

from agora.assembly import ballots, bodies, council, proposals
from agora.assembly.models import AssemblySession, Body, Edition
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from support import demo
from support.assembly import build_edition
from support.fixtures import LoadDemo

POITIERS = {"Host": "poitiers.localhost"}


def _pdf_text(response: Any) -> str:
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    return re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))


def _link(client: FlaskClient, page: str, pattern: str) -> str:
    found = re.search(pattern, client.get(page, headers=POITIERS).get_data(as_text=True))
    assert found, f"no link matching {pattern} on {page}"
    return found.group(1)


def test_the_follow_up_report_states_where_each_measure_stands(
    client: FlaskClient, load_demo: LoadDemo, onboarded: Path
) -> None:
    load_demo("poitiers")
    report = client.get(
        _link(client, "/assemblee", r'href="(/council/\d+/follow-up\.pdf)"'), headers=POITIERS
    )
    assert "rapport-de-suivi-" in report.headers["Content-Disposition"]
    text = _pdf_text(report)
    assert "Rapport de suivi du plan d'action" in text and "Poitiers" in text
    dates = demo.dates("poitiers")
    council = dates.council
    assert f"Délibération du conseil {council.isoformat()}-04 du {demo.french(council)}" in text
    assert "adoptée avec amendements" in text
    # The demo's three measures: one in progress (and silent for 90 days), one delayed, one done.
    assert (
        "3 mesures : en cours : 1, retardée : 1, réalisée : 1." in text
        and "Mises à jour en retard (sans nouvelles depuis plus de 60 jours) : 1" in text
    )
    assert "Jalons : 1 atteint sur 3, 1 en retard" in text
    cycling = text[text.index("Un réseau cyclable continu") : text.index("Des rues scolaires")]
    assert "Statut : en cours" in cycling and "mise à jour en retard" in cycling
    assert "Service en charge : Direction de la voirie" in cycling
    assert "Premiers 10 km en service — en retard" in cycling
    reached = council + timedelta(
        days=demo.story("poitiers").proposals[0].milestones[0].reached or 0
    )
    assert f"Schéma directeur voté — atteint le {demo.french(reached)}" in cycling
    schools = text[text.index("Des rues scolaires") : text.index("Un atelier vélo par quartier")]
    assert "Conseil : modifiée" in schools and "Budget contraint" in schools
    assert "Texte retenu par le conseil : Fermer aux voitures les rues de dix écoles" in schools
    assert "Budget retenu par le conseil : 150 000 €" in schools
    assert "Statut : retardée" in schools and "Livraison des barrières reportée" in schools


def test_the_follow_up_report_of_a_one_measure_plan_speaks_in_the_singular(
    app: Flask, client: FlaskClient, onboarded: Path
) -> None:
    built = build_edition(app)
    with app.app_context(), tenant_scope(db.session, built.tenant_id):
        tenant = db.session.get(Tenant, built.tenant_id)
        edition = db.session.execute(select(Edition)).scalar_one()
        plenary = db.session.get(Body, (built.tenant_id, built.ids["plenary"]))
        drafting = db.session.get(Body, (built.tenant_id, built.ids["proposal_group"]))
        meeting = db.session.get(AssemblySession, (built.tenant_id, built.session_id))
        assert tenant and edition and plenary and drafting and meeting
        author = bodies.members_of(db.session, drafting)[0][1]
        proposal = proposals.draft(
            db.session, tenant, edition, drafting, author, "Des fontaines", "Dix fontaines.", None
        )
        version = current_config(db.session, tenant)
        assert version is not None
        rule = get_registry().view(TenantConfig(version.document)).decision_rule("action_plan")
        ballot = ballots.open_ballot(
            db.session, tenant, rule, meeting, plenary, "Adoptez-vous le plan ?", [], "test"
        )
        plan = council.adopt_plan(db.session, tenant, edition, [proposal], ballot.id, "test")
        plan_id = plan.id
        db.session.commit()
    text = _pdf_text(client.get(f"/council/{plan_id}/follow-up.pdf", headers=POITIERS))
    assert "1 mesure : prévue : 1." in text
    assert "1 mesures" not in text


def test_the_follow_up_report_of_another_commune_is_not_found(
    client: FlaskClient, load_demo: LoadDemo, onboarded: Path
) -> None:
    load_demo("poitiers")
    path = _link(client, "/assemblee", r'href="(/council/\d+/follow-up\.pdf)"')
    other = client.get(path, headers={"Host": "grenoble.localhost"})
    assert other.status_code == 404 and other.mimetype == "text/html"


def test_the_charter_pdf_numbers_its_articles(
    client: FlaskClient, load_demo: LoadDemo, onboarded: Path
) -> None:
    load_demo("poitiers")
    path = _link(client, "/charter", r'href="(/charter/versions/\d+\.pdf)"')
    text = _pdf_text(client.get(path, headers=POITIERS))
    assert "Poitiers" in text and "Article 1 — " in text and "Article 2 — " in text


def test_a_calendar_line_ends_only_where_the_calendar_says() -> None:
    """A venue typed with a bare CR (or CRLF, or a control character) stays one escaped line:
    a reader would otherwise start a new property there."""
    from datetime import UTC, datetime

    from agora.documents.ical import CalendarEvent, calendar

    text = calendar(
        "Assemblée",
        [
            CalendarEvent(
                uid="s1@agora",
                starts_at=datetime(2027, 3, 6, 9, tzinfo=UTC),
                summary="Journée 1",
                location="Salle des fêtes\rDTSTART:19700101T000000Z",
                description="Ligne 1\r\nLigne 2\x00\x07\tfin",
            )
        ],
    )
    assert text.count("\r") == text.count("\r\n") and text.count("\n") == text.count("\r\n")
    lines = text.replace("\r\n ", "").split("\r\n")
    assert "LOCATION:Salle des fêtes\\nDTSTART:19700101T000000Z" in lines
    assert "DESCRIPTION:Ligne 1\\nLigne 2\tfin" in lines
    assert sum(line.startswith("DTSTART:") for line in lines) == 1

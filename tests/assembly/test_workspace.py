"""The staff workspace: the task list of an edition (its steps' states, computed by
``assembly.workspace``), the staff forms (values kept on error, no status chosen in
advance) and the confirmation step before an irreversible action."""

from __future__ import annotations

import re
from html.parser import HTMLParser
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agora.assembly import editions, workspace
from agora.assembly.models import (
    ActionPlan,
    Ballot,
    BallotStatus,
    Body,
    CharterVersion,
    Measure,
    MeasureStatus,
    Subject,
)
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.programme.models import ProgrammeSession, SessionStatus
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from support.assembly import build_edition
from support.fixtures import LoadDemo, SignIn

POITIERS = {"Host": "poitiers.localhost"}
S = workspace.StepState
K = workspace.StepKey


def _steps(app: Flask, edition_year: int) -> dict[workspace.StepKey, workspace.Step]:
    with app.test_request_context(headers=POITIERS), app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            hooks = get_registry().view(TenantConfig(version.document))
            edition = next(
                e for e in editions.editions_of(db.session, tenant) if e.year == edition_year
            )
            return {s.key: s for s in workspace.edition_steps(db.session, tenant, edition, hooks)}


def _new_edition(app: Flask, year: int) -> None:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            hooks = get_registry().view(TenantConfig(version.document))
            editions.open_edition(
                db.session, tenant, year, f"Assemblée {year}", hooks.composition_rules(), "test"
            )
            db.session.commit()


def test_a_new_edition_is_blocked_where_it_must_be(app: Flask, onboarded: Path) -> None:
    _new_edition(app, 2031)
    steps = _steps(app, 2031)
    assert list(steps) == list(K)
    assert steps[K.CHARTER].state == S.TO_DO
    assert steps[K.DRAW].state == S.TO_DO
    assert "Tirages au sort" in steps[K.DRAW].detail
    # No member yet: the first body lacks its seats, named with how many are missing.
    assert steps[K.BODIES].state == S.BLOCKED
    assert re.search(r"manque \d+ sièges?", steps[K.BODIES].detail), steps[K.BODIES].detail
    assert steps[K.SUBJECTS].state == S.BLOCKED  # the call for subjects is not open
    assert steps[K.SESSIONS].state == S.BLOCKED  # no body installed
    assert steps[K.BALLOTS].state == S.BLOCKED
    assert {steps[k].state for k in (K.PLAN, K.COUNCIL, K.FOLLOW_UP)} == {S.BLOCKED}


def test_an_edition_under_way_shows_its_progress(app: Flask, onboarded: Path) -> None:
    build_edition(app)  # bodies installed, subjects admissible, sessions open
    steps = _steps(app, 2026)
    assert steps[K.BODIES].state == S.DONE
    assert steps[K.SUBJECTS].state == S.IN_PROGRESS
    assert steps[K.SESSIONS].state == S.IN_PROGRESS
    assert steps[K.BALLOTS].state == S.TO_DO  # sessions are open: a ballot may be opened
    assert steps[K.PLAN].state == S.BLOCKED


def test_the_demo_edition_is_followed_up(app: Flask, load_demo: LoadDemo, onboarded: Path) -> None:
    load_demo("poitiers")
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            year = editions.editions_of(db.session, tenant)[0].year
    steps = _steps(app, year)
    assert steps[K.CHARTER].state == S.DONE
    # The door-to-door draw seated the plenary's drawn members, and the proposal group's
    # draw among them its own.
    assert steps[K.DRAW].state == S.DONE
    assert steps[K.DRAW].detail == "2 tirages ont installé leurs membres"
    assert steps[K.BODIES].state == S.DONE
    assert steps[K.SUBJECTS].state == S.DONE
    assert steps[K.PLAN].state == S.DONE
    assert steps[K.COUNCIL].state == S.DONE
    assert steps[K.FOLLOW_UP].state == S.IN_PROGRESS


# --- pages of the demo edition -------------------------------------------------------------


class _Selects(HTMLParser):
    """Each <select>'s name, its options and the one marked selected."""

    def __init__(self) -> None:
        super().__init__()
        self.selects: list[dict[str, Any]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = dict(attrs)
        if tag == "select":
            self.selects.append({"name": values.get("name"), "options": [], "selected": None})
        elif tag == "option" and self.selects:
            self.selects[-1]["options"].append(values.get("value"))
            if "selected" in values:
                self.selects[-1]["selected"] = values.get("value")


#: Statuses that cannot be undone: no select may start on one of them.
DESTRUCTIVE = {"cancelled", "abandoned", "rejected", "closed", "not_decided"}


@pytest.fixture
def demo(
    app: Flask, load_demo: LoadDemo, onboarded: Path, client: FlaskClient, sign_in: SignIn
) -> Any:
    load_demo("poitiers")
    sign_in(
        client, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            # The demo's programme is over (it comes before the edition): one session still
            # to hold, for the forms of a session's status.
            launch = db.session.execute(
                select(ProgrammeSession).order_by(ProgrammeSession.position.desc()).limit(1)
            ).scalar_one()
            launch.status = SessionStatus.CONFIRMED
            db.session.commit()

            def ids(model: Any) -> list[int]:
                return list(db.session.execute(select(model.id)).scalars())

            return {
                "edition": editions.editions_of(db.session, tenant)[0].id,
                "bodies": ids(Body),
                "plans": ids(ActionPlan),
                "measures": ids(Measure),
                "programme": ids(ProgrammeSession),
                "programme_open": list(
                    db.session.execute(
                        select(ProgrammeSession.id).where(
                            ProgrammeSession.status.not_in(
                                [SessionStatus.MINUTES_PUBLISHED, SessionStatus.CANCELLED]
                            )
                        )
                    ).scalars()
                ),
                "subjects": ids(Subject),
            }


def _staff_pages(found: dict[str, Any]) -> list[str]:
    edition = found["edition"]
    return [
        "/admin/assembly",
        "/admin/assembly/editions/new",
        f"/admin/assembly/editions/{edition}",
        *(f"/admin/assembly/editions/{edition}/{key.value}" for key in workspace.PAGES),
        *(f"/admin/bodies/{i}" for i in found["bodies"]),
        *(f"/admin/plans/{i}/deliberation" for i in found["plans"]),
        *(f"/admin/measures/{i}/status" for i in found["measures"]),
        *(f"/programme/sessions/{i}" for i in found["programme"]),
    ]


def test_no_select_starts_on_an_irreversible_status(client: FlaskClient, demo: Any) -> None:
    seen = 0
    for path in _staff_pages(demo):
        response = client.get(path, headers=POITIERS)
        assert response.status_code == 200, path
        parser = _Selects()
        parser.feed(response.get_data(as_text=True))
        for select_ in parser.selects:
            seen += 1
            shown = select_["selected"] or (select_["options"] or [None])[0]
            assert shown not in DESTRUCTIVE, (path, select_)
            if DESTRUCTIVE & set(select_["options"]):
                assert shown == "", (path, select_)  # starts on "Choisir…"
    assert seen >= 5


def test_the_task_list_links_each_step(client: FlaskClient, demo: Any) -> None:
    page = client.get(f"/admin/assembly/editions/{demo['edition']}", headers=POITIERS)
    text = page.get_data(as_text=True)
    assert 'class="govuk-task-list' in text
    for key in workspace.PAGES:
        assert f"/admin/assembly/editions/{demo['edition']}/{key.value}" in text
    # The demo's draws seated the plenary and the proposal group: the draw step says so.
    assert "2 tirages ont installé leurs membres" in text


# --- values kept on error ------------------------------------------------------------------


def _forms(demo: Any) -> list[tuple[str, dict[str, str], str]]:
    """(address, a refused form, a value that must be shown again)."""
    edition, body = demo["edition"], demo["bodies"][0]
    return [
        (
            "/admin/assembly/editions/new",
            {"year": "1800", "title": "Édition gardée"},
            "Édition gardée",
        ),
        (
            f"/admin/assembly/editions/{edition}/sessions",
            {"body_id": "", "number": "3", "title": "Séance gardée", "starts_at": "x"},
            "Séance gardée",
        ),
        (
            f"/admin/bodies/{body}/members",
            {"one-name": "Nom gardé", "one-email": "pas-une-adresse", "one-origin": "drawn"},
            "Nom gardé",
        ),
        (
            f"/admin/bodies/{body}/members",
            {"several-names": "Alice gardée\nBob gardé", "several-origin": ""},
            "Bob gardé",
        ),
        (
            f"/admin/subjects/{demo['subjects'][0]}/review",
            {f"subject-{demo['subjects'][0]}-general_interest": "y"},
            f'id="subject-{demo["subjects"][0]}-reason"',
        ),
        (
            f"/admin/measures/{demo['measures'][0]}/status",
            {"status": "", "note": "Note gardée"},
            "Note gardée",
        ),
        (
            f"/programme/sessions/{demo['programme_open'][0]}/status",
            {"status": "", "minutes": "Compte rendu gardé"},
            "Compte rendu gardé",
        ),
        (
            f"/admin/plans/{demo['plans'][0]}/deliberation",
            {"reference": "Délibération gardée", "outcome": "", "votes_for": "douze"},
            "Délibération gardée",
        ),
    ]


def test_a_refused_form_keeps_its_values(client: FlaskClient, demo: Any) -> None:
    # A body still to compose (the demo's are installed): that of a new edition.
    opened = client.post(
        "/admin/assembly/editions/new", data={"year": "2031", "title": ""}, headers=POITIERS
    )
    assert opened.status_code == 302
    bodies_page = client.get(f"{opened.headers['Location']}/bodies", headers=POITIERS)
    found = re.search(r'/admin/bodies/(\d+)"', bodies_page.get_data(as_text=True))
    assert found
    demo = {**demo, "bodies": [int(found.group(1))]}
    for path, data, kept in _forms(demo):
        response = client.post(path, data=data, headers=POITIERS)
        assert response.status_code == 422, (path, response.status_code)
        page = response.get_data(as_text=True)
        assert kept in page, path
        assert "Il y a un problème" in page, path


# --- confirmation -------------------------------------------------------------------------


def test_an_irreversible_action_asks_first_and_writes_nothing(
    app: Flask, client: FlaskClient, demo: Any
) -> None:
    measure = demo["measures"][0]
    form = {"status": "abandoned", "note": "Plus de budget."}
    before = _measure_status(app, measure)
    page = client.post(f"/admin/measures/{measure}/status", data=form, headers=POITIERS)
    assert page.status_code == 200
    text = page.get_data(as_text=True)
    assert "Abandonner la mesure" in text and 'name="confirmed" value="yes"' in text
    assert _measure_status(app, measure) == before != MeasureStatus.ABANDONED
    done = client.post(
        f"/admin/measures/{measure}/status", data={**form, "confirmed": "yes"}, headers=POITIERS
    )
    assert done.status_code == 302
    assert _measure_status(app, measure) == MeasureStatus.ABANDONED


def test_each_irreversible_staff_action_has_its_confirmation(
    app: Flask, client: FlaskClient, demo: Any
) -> None:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            charter_numbers = list(db.session.execute(select(CharterVersion.number)).scalars())
            ballots = list(db.session.execute(select(Ballot.id, Ballot.status)).all())
    asked = [
        f"/admin/plans/{demo['plans'][0]}/transmit",
        f"/admin/bodies/{demo['bodies'][0]}/install",
        *(f"/admin/ballots/{i}/close" for i, s in ballots if s == BallotStatus.OPEN),
        *(f"/admin/ballots/{i}/certify" for i, s in ballots if s == BallotStatus.CLOSED),
    ]
    for path in asked:
        page = client.post(path, headers=POITIERS)
        assert page.status_code == 200, path
        assert 'name="confirmed" value="yes"' in page.get_data(as_text=True), path
    assert charter_numbers  # the demo has its internal rules


def _measure_status(app: Flask, measure_id: int) -> MeasureStatus:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            found = db.session.execute(select(Measure).where(Measure.id == measure_id)).scalar_one()
            return found.status

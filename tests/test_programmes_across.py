"""The consultancy's programmes across communes: each commune's phase, late sessions and
deliverables by name with a link that hands the staff member over to the commune's page, the
next sessions; a filter by staff member; one calendar feed per staff member."""

from __future__ import annotations

import html
import re
from datetime import timedelta
from pathlib import Path
from typing import Any
from urllib.parse import unquote

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agora.db import paris_today, utcnow
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.programme import services
from agora.programme.models import ProgrammeSession, SessionStatus
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from support.fixtures import SignIn
from support.pages import page_text

CONSOLE = {"Host": "localhost"}


def _start_poitiers_programme(app: Flask, weeks_ago: int) -> dict[str, Any]:
    """Poitiers' programme started ``weeks_ago`` weeks ago, its first session held; the
    titles of its late sessions and the id of the first one."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            template = get_registry().view(TenantConfig(version.document)).programme_template()
            start = paris_today() - timedelta(weeks=weeks_ago)
            programme = services.instantiate(db.session, tenant, template, start, "test")
            rows = services.sessions_of(db.session, programme)
            first = rows[0]
            services.change_status(db.session, tenant, first, SessionStatus.CONFIRMED, "test")
            services.change_status(
                db.session, tenant, first, SessionStatus.HELD, "test", attendance=12
            )
            entries = services.timeline(rows)
            late = [e.session for e in entries if e.state == "late"]
            expected = {
                "late": [(row.id, row.title) for row in late],
                "owed": next(
                    (
                        (row.id, row.title, sorted(row.deliverables))
                        for row in rows
                        if row.deliverables and row.scheduled_at and row.scheduled_at < utcnow()
                    ),
                    None,
                ),
                "next": next(e.session.title for e in entries if e.state == "next"),
            }
        db.session.commit()
    return expected


def test_staff_see_what_is_late_by_name_and_reach_it(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    expected = _start_poitiers_programme(app, weeks_ago=8)
    assert expected["late"], "eight weeks in, some sessions are late"
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers", "grenoble"))
    page = client.get("/console/programmes", headers=CONSOLE)
    assert page.status_code == 200
    markup = page.get_data(as_text=True)
    text = page_text(page)
    late_id, late_title = expected["late"][0]
    hrefs = [html.unescape(h) for h in re.findall(r'href="([^"]+)"', markup)]
    wanted = f"/programme/sessions/{late_id}"
    link = next(
        h
        for h in hrefs
        if h.startswith("/console/communes/poitiers/open?next=")
        and unquote(h.split("next=", 1)[1]) == wanted
    )
    assert "Séances en retard" in text and late_title in text
    assert "Prochaines séances" in text and expected["next"] in text
    assert "Grenoble" in text and "Le programme d’accompagnement n’a pas commencé." in text
    # The link hands the staff member over to the commune's page of that session.
    opened = client.get(link, headers=CONSOLE)
    assert opened.status_code == 302
    assert "next=%2Fprogramme%2Fsessions%2F" + str(late_id) in opened.headers["Location"]
    # Never to another site.
    away = client.get("/console/communes/poitiers/open?next=//evil.example/", headers=CONSOLE)
    assert away.headers["Location"].endswith("&next=%2F")


def test_a_held_session_without_its_deliverable_is_listed_late(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    expected = _start_poitiers_programme(app, weeks_ago=8)
    assert expected["owed"], "eight weeks in, a session that expects a deliverable has passed"
    owed_id, owed_title, deliverables = expected["owed"]
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))

    def owed_section() -> str:
        text = page_text(client.get("/console/programmes", headers=CONSOLE))
        return text.split("Livrables en retard", 1)[1].split("Prochaines séances", 1)[0]

    assert owed_title in owed_section()
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            row = db.session.get(ProgrammeSession, (tenant.id, owed_id))
            assert row is not None
            for key in deliverables:
                services.accept_deliverable(db.session, tenant, row, key, "test")
        db.session.commit()
    assert owed_title not in owed_section()


def test_the_filter_shows_the_communes_one_staff_member_follows(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    _start_poitiers_programme(app, weeks_ago=2)
    other = app.test_client()
    colleague = sign_in(other, "localhost", "dominique@cooperative.example", staff_of=("grenoble",))
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers", "grenoble"))
    everything = page_text(client.get("/console/programmes", headers=CONSOLE))
    assert "Poitiers" in everything and "Grenoble" in everything
    narrowed = client.get(f"/console/programmes?staff={colleague}", headers=CONSOLE)
    headings = re.findall(
        r'<h2 class="govuk-heading-m">([^<]+)</h2>', narrowed.get_data(as_text=True)
    )
    assert headings[:-1] == ["Grenoble"]  # the last heading is the calendar's
    for wrong in ("999999", "abc", "\x00"):
        refused = client.get("/console/programmes", query_string={"staff": wrong}, headers=CONSOLE)
        assert refused.status_code == 404, wrong


def _calendar_address(client: FlaskClient) -> str:
    """The path of the calendar address the programmes page gives its staff member."""
    markup = client.get("/console/programmes", headers=CONSOLE).get_data(as_text=True)
    found = re.search(r'href="http://localhost(/console/calendar/[^"/]+/programme\.ics)"', markup)
    assert found, markup
    return found.group(1)


def test_each_staff_member_has_a_calendar_of_their_communes(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    expected = _start_poitiers_programme(app, weeks_ago=2)
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))
    # A calendar application fetches it without any cookie.
    feed = app.test_client().get(_calendar_address(client), headers=CONSOLE)
    assert feed.status_code == 200 and feed.mimetype == "text/calendar"
    body = feed.get_data(as_text=True)
    assert f"SUMMARY:Poitiers — {expected['next']}" in body.replace("\r\n ", "")
    assert body.count("BEGIN:VEVENT") >= 5
    forged = app.test_client().get("/console/calendar/Mg.forged/programme.ics", headers=CONSOLE)
    assert forged.status_code == 404


def test_a_staff_member_renews_their_calendar_address_and_the_old_one_stops(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    _start_poitiers_programme(app, weeks_ago=2)
    sign_in(client, "localhost", "claude@cooperative.example", staff_of=("poitiers",))

    def feed(path: str) -> int:
        return app.test_client().get(path, headers=CONSOLE).status_code

    before = _calendar_address(client)
    # Asked first, as the old address stops working in every calendar subscribed to it.
    asked = client.post("/console/calendar/renew", headers=CONSOLE)
    assert asked.status_code == 200
    assert "L’adresse que vous avez cessera de fonctionner" in page_text(asked)
    assert feed(before) == 200 and _calendar_address(client) == before  # nothing renewed yet
    renewed = client.post("/console/calendar/renew", data={"confirmed": "yes"}, headers=CONSOLE)
    assert renewed.status_code == 302
    shown = client.get(renewed.headers["Location"], headers=CONSOLE)
    assert "Votre agenda a une nouvelle adresse" in page_text(shown)
    after = _calendar_address(client)
    assert after != before
    assert feed(before) == 404 and feed(after) == 200
    # Without a session, nothing is renewed (the console asks to sign in).
    anonymous = app.test_client().post(
        "/console/calendar/renew", data={"confirmed": "yes"}, headers=CONSOLE
    )
    assert anonymous.status_code in (302, 403) and feed(after) == 200

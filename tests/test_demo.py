"""The demonstration: each commune tells its own story (``tenants/demo/<slug>.toml``, or the
generic one), and its dates follow one another up to today."""

from __future__ import annotations

import re
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly.models import (
    AssemblySession,
    CharterVersion,
    CouncilDeliberation,
    Measure,
    Milestone,
)
from agora.db import PARIS, paris_today, utcnow
from agora.demo.story import GENERIC, story_for
from agora.extensions import db
from agora.petitions.models import Petition
from agora.programme import across
from agora.programme.models import ProgrammeSession
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support import demo
from support.fixtures import SignIn
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py

HOSTS = {slug: {"Host": f"{slug}.localhost"} for slug in ("poitiers", "grenoble")}
CONSOLE = {"Host": "localhost"}


def _said(story_slug: str) -> set[str]:
    """What a commune's story writes on its pages: subjects, proposals, places, petitions."""
    told = demo.story(story_slug)
    return {
        *(s.title for s in told.subjects),
        *(p.title for p in told.proposals),
        *(d.venue for d in told.days),
        *(p.title for p in told.petitions),
    }


def test_each_commune_tells_its_own_story(
    client: FlaskClient, runner: Any, onboarded: Path
) -> None:
    assert runner.invoke(args=["demo", "load", "poitiers", "grenoble"]).exit_code == 0
    for here, other in (("grenoble", "poitiers"), ("poitiers", "grenoble")):
        pages = " ".join(
            page_text(client.get(path, headers=HOSTS[here]))
            for path in ("/assemblee", "/petitions")
        )
        assert {text for text in _said(here) if text not in pages} == set(), here
        assert {text for text in _said(other) if text in pages} == set(), here
    grenoble = page_text(client.get("/assemblee", headers=HOSTS["grenoble"]))
    assert "Convention citoyenne" in grenoble and "Se protéger de la chaleur chez soi" in grenoble


def test_the_story_follows_one_another_up_to_today(
    app: Flask, runner: Any, onboarded: Path
) -> None:
    assert runner.invoke(args=["demo", "load"]).exit_code == 0
    now, today = utcnow(), paris_today()
    with app.app_context():
        for tenant in db.session.execute(select(Tenant)).scalars():
            with tenant_scope(db.session, tenant.id):
                programme = db.session.execute(
                    select(ProgrammeSession)
                    .where(ProgrammeSession.tenant_id == tenant.id)
                    .order_by(ProgrammeSession.scheduled_at)
                ).scalars()
                held = [row.scheduled_at for row in programme if row.scheduled_at]
                days = list(
                    db.session.execute(
                        select(AssemblySession.starts_at)
                        .where(AssemblySession.tenant_id == tenant.id)
                        .order_by(AssemblySession.starts_at)
                    ).scalars()
                )
                charter = db.session.execute(
                    select(CharterVersion).where(CharterVersion.tenant_id == tenant.id)
                ).scalar_one()
                council = db.session.execute(
                    select(CouncilDeliberation).where(CouncilDeliberation.tenant_id == tenant.id)
                ).scalar_one()
                measures = list(
                    db.session.execute(
                        select(Measure).where(Measure.tenant_id == tenant.id)
                    ).scalars()
                )
                reached = list(
                    db.session.execute(
                        select(Milestone.reached_on).where(
                            Milestone.tenant_id == tenant.id, Milestone.reached_on.is_not(None)
                        )
                    ).scalars()
                )
                opened = db.session.execute(
                    select(func.min(Petition.opened_at)).where(Petition.tenant_id == tenant.id)
                ).scalar_one()
            *edition, review = days
            # The programme (scoping … draw, launch) ends before the edition's first day.
            assert held[-1] < edition[0], tenant.slug
            # The charter: voted by the prefiguration group, adopted by the council, in force
            # before the first day; its reference names that council's date.
            found = re.search(r"\d{4}-\d{2}-\d{2}", charter.council_reference)
            assert found, charter.council_reference
            assert (
                held[0].date()
                < date.fromisoformat(found.group(0))
                < edition[0].astimezone(PARIS).date()
            )
            assert charter.in_force_at is not None and charter.in_force_at < edition[0]
            # The council deliberates after the last day, the review a year on.
            assert edition[-1].astimezone(PARIS).date() < council.session_date < today
            assert review.astimezone(PARIS).date() - council.session_date > timedelta(days=360)
            # The follow-up comes after the council, up to today.
            for measure in measures:
                assert measure.status_updated_at is not None
                assert council.session_date < measure.status_updated_at.date() <= today
                assert measure.due_on is None or measure.due_on > council.session_date
            assert reached and all(day and council.session_date < day <= today for day in reached)
            assert opened is None or opened < now


def test_a_commune_without_a_story_gets_the_generic_one(
    client: FlaskClient, runner: Any, onboarded: Path, tmp_path: Path
) -> None:
    assert story_for("ailleurs", demo.STORIES).source == str(GENERIC)
    result = runner.invoke(args=["demo", "load", "poitiers", "--stories", str(tmp_path)])
    assert result.exit_code == 0, result.output
    page = page_text(client.get("/assemblee", headers=HOSTS["poitiers"]))
    generic = story_for("ailleurs", None)
    assert generic.subjects[0].title in page and generic.proposals[0].title in page
    assert not {text for text in _said("poitiers") if text in page}


def test_a_story_whose_steps_do_not_follow_one_another_is_refused(
    runner: Any, onboarded: Path, tmp_path: Path
) -> None:
    (tmp_path / "poitiers.toml").write_text(
        '[council]\nafter_last_day = 900\nweekday = "monday"\nnumber = "04"\nvotes = [41, 6, 6]\n',
        encoding="utf-8",
    )
    result = runner.invoke(args=["demo", "load", "poitiers", "--stories", str(tmp_path)])
    assert result.exit_code != 0
    assert "poitiers.toml: the council must deliberate after the edition's last day" in (
        result.output
    )


def test_a_ballots_figures_are_explained_on_its_page(
    client: FlaskClient, runner: Any, onboarded: Path
) -> None:
    assert runner.invoke(args=["demo", "load", "poitiers", "grenoble"]).exit_code == 0
    pages = {}
    for slug, host in HOSTS.items():
        found = re.findall(r'href="(/ballots/\d+)"', page_text_raw(client, "/assemblee", host))
        pages[slug] = [page_text(client.get(path, headers=host)) for path in found]
    subject, plan = pages["poitiers"]
    # Who voted out of whom, what the quorum asked and what there was.
    assert "40 personnes ont voté, sur 40 personnes présentes ayant le droit de vote." in subject
    assert (
        "Quorum atteint : il fallait au moins 30 personnes présentes (il y en avait 40), "
        "dont au moins 10 habitant·es tiré·es au sort (il y en avait 25)."
    ) in subject
    assert "la mention majoritaire d'une option est celle qu'au moins la moitié" in subject
    # The plan: its count and the majority it needed, not a bare fraction.
    assert re.search(
        r"Adopté\. (\d+) voix pour, (\d+) contre, (\d+) abstentions?\. Voix pour : \1 sur les "
        r"\d+ suffrages exprimés \(pour et contre ; les abstentions ne comptent pas\), soit "
        r"\d+\s% ; il en fallait au moins deux tiers \(67\s%\)\.",
        plan,
    ), plan
    assert "soutien" not in plan and "17/22" not in plan
    choice, _ = pages["grenoble"]
    assert "sur 120 membres présent·es ayant le droit de vote (l'instance compte 150" in choice
    assert "il fallait la présence de la moitié des 150 membres, soit 75" in choice
    assert re.search(
        r"Se protéger de la chaleur chez soi \d+ approbations sur 120 votant·es", choice
    )


def page_text_raw(client: FlaskClient, path: str, host: dict[str, str]) -> str:
    return client.get(path, headers=host).get_data(as_text=True)


def test_the_demo_communes_show_their_emblem_next_to_their_name(
    client: FlaskClient, onboarded: Path
) -> None:
    for slug, host in HOSTS.items():
        page = page_text_raw(client, "/", host)
        # Decorative: the commune's name is written next to it, in the same link.
        found = re.search(r'<img class="agora-header__logo" src="([^"]+)" alt="">([^<]+)</a>', page)
        assert found and found.group(2) == slug.capitalize(), page
        with client.get(found.group(1), headers=host) as emblem:
            assert emblem.status_code == 200 and emblem.mimetype == "image/svg+xml"
            assert "pas le logo officiel" in emblem.get_data(as_text=True)


def test_the_demo_onboards_a_commune_in_the_console_mid_programme(
    app: Flask, client: FlaskClient, runner: Any, onboarded: Path, sign_in: SignIn
) -> None:
    staff = sign_in(client, "localhost", "equipe@cooperative.example", staff_of=("poitiers",))
    result = runner.invoke(args=["demo", "onboard"])
    assert result.exit_code == 0 and "brest: onboarded in the console" in result.output
    # Again, and with the stories: nothing changes, nothing fails.
    assert "brest: already onboarded" in runner.invoke(args=["demo", "onboard"]).output
    result = runner.invoke(args=["demo", "load", "brest"])
    assert result.exit_code == 0 and "brest: already has data" in result.output
    with app.app_context():
        brest = db.session.execute(select(Tenant).where(Tenant.slug == "brest")).scalar_one()
        with tenant_scope(db.session, brest.id):
            statuses = db.session.scalars(
                select(ProgrammeSession.status).where(ProgrammeSession.tenant_id == brest.id)
            ).all()
            late = across.progress_of(db.session, brest).late_sessions
    assert "minutes_published" in statuses and "planned" in statuses
    assert late, "ten weeks in, the last sessions are not yet written up"
    # Staff see it among their communes, with its late sessions by name.
    page = page_text(client.get(f"/console/programmes?staff={staff}", headers=CONSOLE))
    assert "Brest" in page and all(row.title in page for row in late), page
    # A quote of 24 000 € TTC awaits the answer of its administrator, on Brest's site.
    mayor = app.test_client()
    sign_in(mayor, "brest.localhost", "mairie@brest.example", role="commune_admin",
            commune="brest")  # fmt: skip
    quotes = page_text(mayor.get("/billing/", headers={"Host": "brest.localhost"}))
    assert "24 000,00 €" in quotes and "Accepter" in quotes, quotes
    # A release re-applying tenants/ leaves the commune made in the browser alone.
    assert "brest" not in runner.invoke(args=["tenants", "apply", str(onboarded)]).output

"""The assembly's edge cases, as a user sees them: ties broken by run-off then by a public
draw, a missed quorum, late and repeated votes, closed electorates, bodies' powers, the
composition check and the council's justified divergences."""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly import bodies, editions, sessions
from agora.assembly.models import AssemblySessionStatus, Body, Membership, Vote
from agora.db import PARIS
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support import demo
from support.assembly import Edition, build_edition, roster_of
from support.fixtures import LoadDemo, SignIn
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py

POITIERS = {"Host": "poitiers.localhost"}
#: What the confirmation page of an irreversible action posts.
CONFIRMED = {"confirmed": "yes"}


@pytest.fixture
def edition(app: Flask, onboarded: Path, client: FlaskClient, sign_in: SignIn) -> Edition:
    sign_in(
        client, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    return build_edition(app)


def _issued_code(client: FlaskClient, response: Any) -> str:
    assert response.status_code == 302, page_text(response)
    assert "code" not in response.headers["Location"]  # never in a URL (logs, history)
    page = client.get(response.headers["Location"], headers=POITIERS).get_data(as_text=True)
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', page)
    assert code, page
    return code.group(1)


def _walk_in(client: FlaskClient, session_id: int, name: str) -> str:
    """Check in a person who walks in (a volunteer); return the code shown once."""
    response = client.post(
        f"/admin/sessions/{session_id}/check-ins", data={"name": name}, headers=POITIERS
    )
    return _issued_code(client, response)


def _check_in_member(client: FlaskClient, session_id: int, person_id: int) -> str:
    """Check in a person of the roster; return the code shown once."""
    response = client.post(
        f"/admin/sessions/{session_id}/roster/{person_id}/check-in", headers=POITIERS
    )
    return _issued_code(client, response)


def _open_ballot(
    client: FlaskClient, session_id: int, decision: str, subject_ids: Sequence[int] = ()
) -> int:
    response = client.post(
        f"/admin/sessions/{session_id}/ballots",
        data={
            "question": f"Vote {decision}",
            "decision": decision,
            "subject_ids": [str(i) for i in subject_ids],
        },
        headers=POITIERS,
    )
    assert response.status_code == 302, page_text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _options(client: FlaskClient, ballot_id: int) -> list[str]:
    return re.findall(
        r'name="grade-(\d+)"',
        client.get(f"/ballots/{ballot_id}", headers=POITIERS).get_data(as_text=True),
    )[::6]


def _grade(client: FlaskClient, ballot_id: int, code: str, grades: dict[str, int]) -> Any:
    data = {"code": code, **{f"grade-{option}": str(grade) for option, grade in grades.items()}}
    return client.post(f"/ballots/{ballot_id}/vote", data=data, headers=POITIERS)


def _votes(app: Flask, ballot_id: int) -> int:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            return db.session.execute(
                select(func.count()).select_from(Vote).where(Vote.ballot_id == ballot_id)
            ).scalar_one()


def _attendees(
    app: Flask, client: FlaskClient, edition: Edition, count: int, drawn: int
) -> list[str]:
    """``drawn`` drawn members of the roster, then walk-ins up to ``count`` people."""
    on_roster = [p.person_id for p in roster_of(app, edition) if p.origin == "drawn"]
    return [
        _check_in_member(client, edition.session_id, person_id) for person_id in on_roster[:drawn]
    ] + [_walk_in(client, edition.session_id, f"Habitant {i}") for i in range(count - drawn)]


def test_tie_goes_to_runoff_then_to_a_public_draw(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    codes = _attendees(app, client, edition, 32, drawn=12)
    ballot = _open_ballot(client, edition.session_id, "subject_choice", edition.subject_ids)
    a, b = _options(client, ballot)
    # Mirror votes: identical grade distributions, a true majority-judgment tie.
    for i, code in enumerate(codes):
        high, low = (4, 2) if i % 2 else (2, 4)
        assert _grade(client, ballot, code, {a: high, b: low}).status_code == 303
    client.post(f"/admin/ballots/{ballot}/close", data=CONFIRMED, headers=POITIERS)
    page = page_text(client.get(f"/ballots/{ballot}", headers=POITIERS))
    assert "un second tour est nécessaire" in page
    refused = client.post(f"/admin/ballots/{ballot}/certify", data=CONFIRMED, headers=POITIERS)
    assert refused.status_code == 409 and "second tour" in page_text(refused)

    runoff = int(
        client.post(f"/admin/ballots/{ballot}/runoff", headers=POITIERS)
        .headers["Location"]
        .rsplit("/", 1)[1]
    )
    ra, rb = _options(client, runoff)
    for i, code in enumerate(codes):
        high, low = (5, 1) if i % 2 else (1, 5)
        assert _grade(client, runoff, code, {ra: high, rb: low}).status_code == 303
    client.post(f"/admin/ballots/{runoff}/close", data=CONFIRMED, headers=POITIERS)
    client.post(f"/admin/ballots/{ballot}/tie-break", headers=POITIERS)
    assert "tirage au sort public est nécessaire" in page_text(
        client.get(f"/ballots/{ballot}", headers=POITIERS)
    )

    seed = "drand round 4242: 9f2c…"
    client.post(f"/admin/ballots/{ballot}/tie-break", data={"seed": seed}, headers=POITIERS)
    page = page_text(client.get(f"/ballots/{ballot}", headers=POITIERS))
    assert seed in page and "SHA-256" in page
    assert (
        client.post(
            f"/admin/ballots/{ballot}/certify", data=CONFIRMED, headers=POITIERS
        ).status_code
        == 302
    )
    assert "Choisi" in page_text(client.get(f"/ballots/{ballot}", headers=POITIERS))


def test_quorum_not_met_cannot_be_certified_and_the_fallback_is_offered(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    codes = _attendees(app, client, edition, 12, drawn=5)
    ballot = _open_ballot(client, edition.session_id, "subject_choice", edition.subject_ids)
    a, b = _options(client, ballot)
    for code in codes:
        _grade(client, ballot, code, {a: 4, b: 1})
    client.post(f"/admin/ballots/{ballot}/close", data=CONFIRMED, headers=POITIERS)
    page = page_text(client.get(f"/ballots/{ballot}", headers=POITIERS))
    assert "12 personnes présentes, 30 requises" in page
    assert "se réunir à nouveau dans les 30 jours" in page  # the decision rule's delay
    refused = client.post(f"/admin/ballots/{ballot}/certify", data=CONFIRMED, headers=POITIERS)
    body = page_text(refused)
    assert refused.status_code == 409
    assert "quorum non atteint" in body and "réunir de nouveau l’instance dans les 30 jours" in body
    assert client.post(f"/admin/ballots/{ballot}/not-decided", headers=POITIERS).status_code == 302
    assert "non décidé" in page_text(client.get(f"/ballots/{ballot}", headers=POITIERS))


def test_a_vote_after_closing_is_refused_and_nothing_is_stored(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    codes = _attendees(app, client, edition, 3, drawn=3)
    ballot = _open_ballot(client, edition.session_id, "subject_choice", edition.subject_ids)
    a, b = _options(client, ballot)
    _grade(client, ballot, codes[0], {a: 3, b: 2})
    client.post(f"/admin/ballots/{ballot}/close", data=CONFIRMED, headers=POITIERS)
    late = _grade(client, ballot, codes[1], {a: 3, b: 2})
    assert late.status_code == 409 and "ce scrutin est clos" in page_text(late)
    assert _votes(app, ballot) == 1


def test_a_second_vote_by_the_same_person_is_refused(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    (code,) = _attendees(app, client, edition, 1, drawn=1)
    ballot = _open_ballot(client, edition.session_id, "subject_choice", edition.subject_ids)
    a, b = _options(client, ballot)
    assert _grade(client, ballot, code, {a: 5, b: 0}).status_code == 303
    again = _grade(client, ballot, code, {a: 0, b: 5})
    assert again.status_code == 409 and "vous avez déjà voté" in page_text(again)
    assert _votes(app, ballot) == 1


def test_an_unknown_code_cannot_vote(app: Flask, client: FlaskClient, edition: Edition) -> None:
    ballot = _open_ballot(client, edition.session_id, "subject_choice", edition.subject_ids)
    a, b = _options(client, ballot)
    refused = _grade(client, ballot, "AAAA-BBBB-CCCC", {a: 5, b: 0})
    assert refused.status_code == 403 and "pas valable pour cette séance" in page_text(refused)
    assert _votes(app, ballot) == 0


def test_a_volunteer_cannot_vote_in_a_closed_committee(
    app: Flask, client: FlaskClient, edition: Edition, sign_in: SignIn
) -> None:
    ballot = _open_ballot(client, edition.committee_session_id, "charter")
    # Sarah is checked in at the open plenary, with a code, but is no committee member.
    code = _walk_in(client, edition.session_id, "Sarah")
    sign_in(client, "poitiers.localhost", "sarah@example.fr", role="resident", commune="poitiers")
    refused = client.post(
        f"/ballots/{ballot}/vote", data={"code": code, "objection": ""}, headers=POITIERS
    )
    assert refused.status_code == 403
    assert "corps électoral de l’instance « Comité de méthodologie »" in page_text(refused)
    assert _votes(app, ballot) == 0


def test_a_code_holder_votes_with_neither_cookie_nor_token(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    """In a session open to all present the voting code is the credential: the ballot page
    sets no cookie and carries no CSRF token, and the vote counts with CSRF checks on."""
    (code,) = _attendees(app, client, edition, 1, drawn=1)
    ballot = _open_ballot(client, edition.session_id, "subject_choice", edition.subject_ids)
    a, b = _options(client, ballot)
    app.config["WTF_CSRF_ENABLED"] = True
    voter = app.test_client(use_cookies=False)
    page = voter.get(f"/ballots/{ballot}", headers=POITIERS)
    assert "Set-Cookie" not in page.headers
    assert 'name="csrf_token"' not in page.get_data(as_text=True)
    assert _grade(voter, ballot, code, {a: 5, b: 1}).status_code == 303
    assert _votes(app, ballot) == 1


def test_a_mistyped_code_keeps_the_choices_made(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    """A refused code shows the ballot again, with the grades given still ticked and the
    error next to the code field; nothing is stored and no cookie is set."""
    ballot = _open_ballot(client, edition.session_id, "subject_choice", edition.subject_ids)
    a, b = _options(client, ballot)
    app.config["WTF_CSRF_ENABLED"] = True
    voter = app.test_client(use_cookies=False)
    refused = _grade(voter, ballot, "AAAA-BBBB-CCCC", {a: 5, b: 1})
    page = refused.get_data(as_text=True)
    assert refused.status_code == 403
    assert "Set-Cookie" not in refused.headers
    assert 'name="csrf_token"' not in page
    for option, grade in ((a, 5), (b, 1)):
        ticked = re.search(rf'<input[^>]*name="grade-{option}"[^>]*value="{grade}"[^>]*>', page)
        assert ticked and "checked" in ticked.group(0), page
    error = re.search(r'<p id="code-error" class="govuk-error-message">(.*?)</p>', page, re.S)
    assert error and "pas valable pour cette séance" in error.group(1)
    assert 'value="AAAA-BBBB-CCCC"' in page
    assert 'href="#code"' in page  # the error summary links to the field
    assert _votes(app, ballot) == 0


def test_a_members_vote_without_the_forms_token_is_refused(
    app: Flask, client: FlaskClient, edition: Edition, sign_in: SignIn
) -> None:
    """In a members-only body the signed-in session is the credential, so the form's CSRF
    token is required: without it, a precise message and nothing stored."""
    ballot = _open_ballot(client, edition.committee_session_id, "charter")
    sign_in(client, "poitiers.localhost", "sarah@example.fr", role="resident", commune="poitiers")
    app.config["WTF_CSRF_ENABLED"] = True
    page = client.get(f"/ballots/{ballot}", headers=POITIERS).get_data(as_text=True)
    token = re.search(r'name="csrf_token" value="([^"]+)"', page)
    assert token, page
    forged = client.post(f"/ballots/{ballot}/vote", data={"objection": ""}, headers=POITIERS)
    assert forged.status_code == 400 and "Ce formulaire a expiré" in page_text(forged)
    # With the token the vote reaches the electorate check (Sarah is no member).
    sent = client.post(
        f"/ballots/{ballot}/vote",
        data={"objection": "", "csrf_token": token.group(1)},
        headers=POITIERS,
    )
    assert sent.status_code == 403
    assert _votes(app, ballot) == 0


def test_the_proposal_group_cannot_certify(
    client: FlaskClient, edition: Edition, app: Flask
) -> None:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            group = db.session.get(Body, (tenant.id, edition.ids["proposal_group"]))
            current = editions.current_edition(db.session, tenant)
            assert group is not None and current is not None
            row = sessions.plan(
                db.session,
                tenant,
                current,
                group,
                2,
                "GP",
                datetime(2026, 4, 1, tzinfo=UTC),
                "",
                "t",
            )
            sessions.set_status(db.session, tenant, row, AssemblySessionStatus.OPEN, "t")
            session_id = row.id
        db.session.commit()
    ballot = _open_ballot(client, session_id, "default")
    client.post(f"/admin/ballots/{ballot}/close", data=CONFIRMED, headers=POITIERS)
    refused = client.post(f"/admin/ballots/{ballot}/certify", data=CONFIRMED, headers=POITIERS)
    assert refused.status_code == 403 and "pas de pouvoir de décision" in page_text(refused)


def _new_proposal_group(client: FlaskClient, sign_in: SignIn) -> int:
    """Signed in as Poitiers' administrator, a 2027 edition opened: its proposal group's id
    (a body still to compose)."""
    sign_in(
        client, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    opened = client.post(
        "/admin/assembly/editions/new",
        data={"year": "2027", "title": "Assemblée 2027"},
        headers=POITIERS,
    )
    page = client.get(f"{opened.headers['Location']}/bodies", headers=POITIERS)
    found = re.search(r'/admin/bodies/(\d+)">Groupe de proposition', page.get_data(as_text=True))
    assert found
    return int(found.group(1))


def test_installing_the_proposal_group_with_one_opposition_member_is_refused(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    path = f"/admin/bodies/{_new_proposal_group(client, sign_in)}"
    members = [("drawn", 20), ("elected_majority", 5), ("elected_opposition", 1), ("agent", 4)]
    for origin, count in members:
        for i in range(count):
            client.post(
                f"{path}/members",
                data={"one-name": f"{origin} {i}", "one-origin": origin, "one-voting": "yes"},
                headers=POITIERS,
            )
    refused = client.post(f"{path}/install", data=CONFIRMED, headers=POITIERS)
    assert refused.status_code == 422
    assert "élu·es de l'opposition : au moins 2 sièges, 1 pourvu" in page_text(refused)
    assert "à composer" in page_text(client.get(path, headers=POITIERS))


def _set_subject_submitters(runner: Any, onboarded: Path, rule: str) -> None:
    path = onboarded / "poitiers.toml"
    path.write_text(
        re.sub(
            r'subject_submitters = "\w+"',
            f'subject_submitters = "{rule}"',
            path.read_text(encoding="utf-8"),
        ),
        encoding="utf-8",
    )
    assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0


def _submit(client: FlaskClient, title: str, **extra: str) -> Any:
    data = {"title": title, "description": "Ombre et arbres dans les cours d'école.", **extra}
    return client.post("/subjects", data=data, headers=POITIERS)


def test_in_poitiers_anyone_submits_a_subject_without_an_account(
    app: Flask, onboarded: Path, sign_in: SignIn
) -> None:
    build_edition(app)
    visitor = app.test_client()
    response = _submit(
        visitor, "Des cours d'école ombragées", name="Awa, quartier des Couronneries"
    )
    assert response.status_code == 302
    page = page_text(visitor.get("/assemblee", headers=POITIERS))
    assert "Des cours d'école ombragées" in page
    assert "Awa, quartier des Couronneries" in page

    resident = app.test_client()  # signed in, with no display name: never shown by e-mail
    sign_in(resident, "poitiers.localhost", "jeanne.martin@example.fr")
    assert _submit(resident, "Des fontaines à boire").status_code == 302
    page = page_text(visitor.get("/assemblee", headers=POITIERS))
    assert "Des fontaines à boire" in page and "un·e participant·e" in page
    assert "jeanne.martin" not in page


def test_where_only_members_submit_subjects_a_resident_is_refused_and_a_member_is_not(
    app: Flask, onboarded: Path, runner: Any, sign_in: SignIn
) -> None:
    _set_subject_submitters(runner, onboarded, "members")
    edition = build_edition(app)  # pinned to the configuration that says "members"

    anonymous = app.test_client()
    response = _submit(anonymous, "Sujet anonyme")
    assert response.status_code == 302 and response.headers["Location"].startswith("/login")

    resident = app.test_client()
    sign_in(resident, "poitiers.localhost", "habitante@example.fr")
    response = _submit(resident, "Sujet d'une habitante")
    assert response.status_code == 403
    assert "les sujets sont proposés par les membres des instances" in page_text(response)

    member = app.test_client()
    account_id = sign_in(member, "poitiers.localhost", "membre@example.fr")
    with app.app_context():
        tenant = db.session.get(Tenant, edition.tenant_id)
        assert tenant is not None
        with tenant_scope(db.session, tenant.id):
            body = db.session.get(Body, (tenant.id, edition.ids["proposal_group"]))
            assert body is not None
            person = bodies.add_person(db.session, tenant, "Karim, tiré au sort", account_id)
            bodies.add_member(db.session, body, person, "drawn")
        db.session.commit()
    assert _submit(member, "Sujet d'un membre").status_code == 302

    page = page_text(anonymous.get("/assemblee", headers=POITIERS))
    assert "Sujet d'un membre" in page and "Karim, tiré au sort" in page
    assert "Sujet anonyme" not in page and "Sujet d'une habitante" not in page


def test_the_council_answer_schedules_a_public_review_a_year_later(
    client: FlaskClient, load_demo: LoadDemo, onboarded: Path
) -> None:
    load_demo("poitiers")
    calendar = client.get("/assemblee/calendar.ics", headers=POITIERS).get_data(as_text=True)
    events = calendar.replace("\r\n ", "").split("BEGIN:VEVENT")
    review = [e for e in events if "un an après la délibération" in e]
    assert len(review) == 1, calendar
    # The review is a year after the demo's council, at 18:30 Paris.
    at = datetime.combine(demo.dates("poitiers").review, time(18, 30), tzinfo=PARIS)
    assert f"DTSTART:{at.astimezone(UTC):%Y%m%dT%H%M%SZ}" in review[0], review[0]


def test_milestones_are_announced_marked_and_shown_late_publicly(
    app: Flask, load_demo: LoadDemo, onboarded: Path, sign_in: SignIn
) -> None:
    load_demo("poitiers")
    mayor, visitor = app.test_client(), app.test_client()
    sign_in(
        mayor, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    page = visitor.get("/assemblee", headers=POITIERS).get_data(as_text=True)
    found = re.search(r'href="(/measures/\d+)">Un réseau cyclable continu', page)
    assert found, page
    measure = found.group(1)

    def milestones() -> str:
        text = re.sub(r"\s+", " ", page_text(visitor.get(measure, headers=POITIERS)))
        return text[text.index("Jalons de la mesure") :]

    # The demo's cycling network: one step reached, one past its date, one to come.
    council, steps = demo.dates("poitiers").council, demo.story("poitiers").proposals[0].milestones
    due, reached = (council + timedelta(days=d) for d in (steps[0].due, steps[0].reached or 0))
    assert f"Schéma directeur voté {demo.french(due)} {demo.french(reached)}" in milestones()
    late = demo.french(council + timedelta(days=steps[1].due))
    assert f"Premiers 10 km en service {late} en retard" in milestones()
    assert "Réseau complet" in milestones() and milestones().count("en retard") == 1

    form = {"title": "Passerelle du Clain ouverte", "due_on": "2030-05-01"}
    assert mayor.post(measure + "/milestones", data=form, headers=POITIERS).status_code == 302
    reach = re.findall(
        rf"{measure}/milestones/(\d+)/reached",
        mayor.get(measure, headers=POITIERS).get_data(as_text=True),
    )
    assert len(reach) == 3  # the two not reached yet and the new one
    future = mayor.post(
        f"{measure}/milestones/{reach[-1]}/reached",
        data={"reached_on": "2099-01-01"},
        headers=POITIERS,
    )
    assert future.status_code == 422 and "dans le futur" in page_text(future)
    done = {"reached_on": "2026-11-02"}
    assert (
        mayor.post(
            f"{measure}/milestones/{reach[0]}/reached", data=done, headers=POITIERS
        ).status_code
        == 302
    )
    again = mayor.post(f"{measure}/milestones/{reach[0]}/reached", data=done, headers=POITIERS)
    assert again.status_code == 409 and "déjà atteint" in page_text(again)
    assert "Premiers 10 km en service" in milestones() and milestones().count("en retard") == 0
    assert (
        visitor.post(measure + "/milestones", data=form, headers=POITIERS).status_code == 302
    )  # to sign-in


def test_an_anonymous_vote_in_a_closed_body_with_repeated_fields_is_refused(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    ballot = _open_ballot(client, edition.committee_session_id, "charter")
    code = _walk_in(client, edition.session_id, "Sarah")
    anonymous = app.test_client()
    refused = anonymous.post(
        f"/ballots/{ballot}/vote",
        data={"code": [code, code], "objection": ["non", "oui"], "consent": ["1", "2"]},
        headers=POITIERS,
    )
    assert refused.status_code == 403 and "Traceback" not in page_text(refused)
    assert _votes(app, ballot) == 0


def test_a_ballot_on_subjects_that_are_not_ids_is_refused(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    refused = client.post(
        f"/admin/sessions/{edition.session_id}/ballots",
        data={"question": "Choix", "decision": "subject_choice", "subject_ids": ["1e3", "abc"]},
        headers=POITIERS,
    )
    assert refused.status_code == 422 and "Traceback" not in page_text(refused)


def test_the_same_person_cannot_be_added_twice_to_a_body(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    body_id = _new_proposal_group(client, sign_in)
    member = {
        "one-name": "Camille Roux",
        "one-email": "camille@example.fr",
        "one-origin": "drawn",
        "one-voting": "yes",
    }
    path = f"/admin/bodies/{body_id}/members"
    assert client.post(path, data=member, headers=POITIERS).status_code == 302
    again = client.post(path, data=member, headers=POITIERS)
    assert again.status_code == 422
    assert "Camille Roux est déjà membre de cette instance." in page_text(again)
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            rows = db.session.execute(
                select(func.count()).select_from(Membership).where(Membership.body_id == body_id)
            ).scalar_one()
    assert rows == 1

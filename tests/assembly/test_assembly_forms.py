"""The assembly's forms as a person checks them: a refused form comes back (422, or the
refusal's own status) with the French message next to the field, the error summary and every
value entered; nothing is stored; a correct one stores and the next page says so in a banner.
An irreversible action (the edition's next stage, an amendment's decision) is asked first."""

from __future__ import annotations

import html as entities
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly import ballots, bodies, proposals
from agora.assembly.models import (
    Amendment,
    AmendmentStatus,
    AssemblySession,
    Ballot,
    BallotStatus,
    Body,
    CheckIn,
    Edition,
    EditionStatus,
    FeasibilityNote,
    Measure,
    Milestone,
    Proposal,
    Subject,
)
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from support.assembly import build_edition
from support.fixtures import LoadDemo, SignIn
from support.pages import page_text

POITIERS = {"Host": "poitiers.localhost"}
TEXT = "Créer dix rues scolaires fermées aux voitures aux heures d'entrée."


@dataclass
class Scene:
    tenant_id: int
    edition_id: int
    session_id: int
    group_id: int
    proposal_id: int
    mayor: FlaskClient
    author: FlaskClient
    resident: FlaskClient


@pytest.fixture
def scene(app: Flask, onboarded: Path, sign_in: SignIn) -> Scene:
    """Poitiers' edition at its call for subjects, a proposal of its proposal group, the
    commune's administrator, one of the proposal's authors and a resident, signed in."""
    built = build_edition(app)
    mayor, author, resident = app.test_client(), app.test_client(), app.test_client()
    sign_in(
        mayor, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    author_account = sign_in(author, "poitiers.localhost", "autrice@example.fr")
    sign_in(resident, "poitiers.localhost", "habitant@example.fr")
    with app.app_context():
        tenant = db.session.get(Tenant, built.tenant_id)
        assert tenant is not None
        with tenant_scope(db.session, tenant.id):
            group = db.session.get(Body, (tenant.id, built.ids["proposal_group"]))
            assert group is not None
            edition = db.session.get(Edition, (tenant.id, group.edition_id))
            assert edition is not None
            person = bodies.add_person(db.session, tenant, "Lina, autrice", author_account)
            bodies.add_member(db.session, group, person, "drawn")
            proposal = proposals.draft(
                db.session, tenant, edition, group, person, "Rues scolaires", TEXT, None
            )
            scene = Scene(
                tenant.id,
                edition.id,
                built.session_id,
                group.id,
                proposal.id,
                mayor,
                author,
                resident,
            )
        db.session.commit()
    return scene


def _count(app: Flask, tenant_id: int, model: Any, *where: Any) -> int:
    with app.app_context(), tenant_scope(db.session, tenant_id):
        return db.session.execute(
            select(func.count()).select_from(model).where(model.tenant_id == tenant_id, *where)
        ).scalar_one()


def _refused(response: Any, message: str, *kept: str, status: int = 422, field: str = "") -> str:
    """The page of a refused form: its status, the French message (next to ``field``, and in
    the error summary), and each value the person entered."""
    html: str = response.get_data(as_text=True)
    assert response.status_code == status, page_text(response)[:500]
    assert "Il y a un problème" in html  # the error summary
    assert message in page_text(response), page_text(response)
    if field:
        error = re.search(
            rf'<p id="{field}-error" class="govuk-error-message">(.*?)</p>', html, re.S
        )
        assert error and message in entities.unescape(error.group(1)), html
        assert f'href="#{field}"' in html  # the summary links to the field
    for value in kept:
        assert value in html, value
    return html


def _banner(client: FlaskClient, response: Any, message: str) -> str:
    """After a successful action: a redirection, and the next page's success banner."""
    assert response.status_code in (302, 303), page_text(response)[:500]
    page = client.get(response.headers["Location"], headers=POITIERS)
    html: str = page.get_data(as_text=True)
    assert "govuk-notification-banner--success" in html
    assert message in page_text(page), page_text(page)
    return html


def _checked(html: str, name: str, value: str) -> bool:
    found = re.search(rf'<input[^>]*name="{name}"[^>]*value="{value}"[^>]*>', html)
    return bool(found) and "checked" in found.group(0)  # type: ignore[union-attr]


def _edition_status(app: Flask, scene: Scene) -> EditionStatus:
    with app.app_context(), tenant_scope(db.session, scene.tenant_id):
        edition = db.session.get(Edition, (scene.tenant_id, scene.edition_id))
        assert edition is not None
        return edition.status


def _set_edition_status(app: Flask, scene: Scene, status: EditionStatus) -> None:
    with app.app_context(), tenant_scope(db.session, scene.tenant_id):
        edition = db.session.get(Edition, (scene.tenant_id, scene.edition_id))
        assert edition is not None
        edition.status = status
        db.session.commit()


# --- the edition's stage ---------------------------------------------------------------------


def test_the_next_stage_is_asked_first_and_nothing_moves_until_confirmed(
    app: Flask, scene: Scene
) -> None:
    path = f"/admin/editions/{scene.edition_id}/advance"
    workspace = scene.mayor.get(f"/admin/assembly/editions/{scene.edition_id}", headers=POITIERS)
    assert 'name="to" value="subject_selected"' in workspace.get_data(as_text=True)

    asked = scene.mayor.post(path, data={"to": "subject_selected"}, headers=POITIERS)
    text = page_text(asked)
    assert asked.status_code == 200
    assert "Passer l'édition à l'étape : sujet choisi ?" in text
    assert "Elle ne pourra pas revenir à l'étape où elle se trouve maintenant." in text
    assert "Cette action est définitive." in text
    assert 'name="confirmed" value="yes"' in asked.get_data(as_text=True)
    assert _edition_status(app, scene) == EditionStatus.SUBJECT_CALL  # nothing stored

    # A form sent for another stage (a second click, once moved on) changes nothing.
    stale = scene.mayor.post(
        path, data={"to": "deliberating", "confirmed": "yes"}, headers=POITIERS
    )
    assert stale.status_code == 409
    assert "Cette édition est maintenant à l'étape : appel à sujets." in page_text(stale)
    assert "Rien n'a été modifié." in page_text(stale)
    assert _edition_status(app, scene) == EditionStatus.SUBJECT_CALL

    done = scene.mayor.post(
        path, data={"to": "subject_selected", "confirmed": "yes"}, headers=POITIERS
    )
    _banner(scene.mayor, done, "L'édition est passée à l'étape : sujet choisi")
    assert _edition_status(app, scene) == EditionStatus.SUBJECT_SELECTED


# --- subjects and proposals (the edition's public page) -------------------------------------


def test_a_refused_subject_keeps_what_was_written(app: Flask, scene: Scene) -> None:
    visitor = app.test_client()
    before = _count(app, scene.tenant_id, Subject)
    data = {"name": "Awa des Couronneries", "title": "", "description": "Des arbres à l'école"}
    _refused(
        visitor.post("/subjects", data=data, headers=POITIERS),
        "Donnez un titre au sujet.",
        'value="Awa des Couronneries"',
        "Des arbres à l&#39;école",
        field="title",
    )
    assert _count(app, scene.tenant_id, Subject) == before
    sent = visitor.post(
        "/subjects", data={**data, "title": "Des cours ombragées"}, headers=POITIERS
    )
    _banner(visitor, sent, "Votre sujet est envoyé")
    assert _count(app, scene.tenant_id, Subject) == before + 1


def test_a_refused_proposal_keeps_what_was_written(app: Flask, scene: Scene) -> None:
    _set_edition_status(app, scene, EditionStatus.DELIBERATING)
    page = scene.author.get("/assemblee", headers=POITIERS).get_data(as_text=True)
    # One body drafts: it is the only choice (no "Choisir…" to pick it from).
    select_ = re.search(r'<select[^>]*name="body_id"[^>]*>(.*?)</select>', page, re.S)
    assert select_ and re.findall(r'<option value="([^"]*)"', select_.group(1)) == [
        str(scene.group_id)
    ]
    before = _count(app, scene.tenant_id, Proposal)
    data = {
        "body_id": str(scene.group_id),
        "title": "Des fontaines dans les parcs",
        "text": "",
        "budget_eur": "douze",
    }
    html = _refused(
        scene.author.post("/admin/proposals", data=data, headers=POITIERS),
        "Rédigez le texte de la proposition.",
        'value="Des fontaines dans les parcs"',
        'value="douze"',
        field="text",
    )
    assert "Indiquez un nombre entier." in html  # next to the cost, in French
    assert _count(app, scene.tenant_id, Proposal) == before
    sent = scene.author.post(
        "/admin/proposals",
        data={**data, "text": "Une fontaine par parc.", "budget_eur": "12000"},
        headers=POITIERS,
    )
    _banner(scene.author, sent, "La proposition est déposée")
    assert _count(app, scene.tenant_id, Proposal) == before + 1


# --- the proposal's page: amendments, its text, feasibility notes ---------------------------


def test_a_refused_amendment_keeps_its_text(app: Flask, scene: Scene) -> None:
    path = f"/proposals/{scene.proposal_id}/amendments"
    amended = TEXT.replace("dix", "quinze")
    _refused(
        scene.resident.post(path, data={"text": amended, "rationale": ""}, headers=POITIERS),
        "Dites pourquoi vous proposez cet amendement.",
        amended.replace("'", "&#39;"),
        field="amendment-rationale",
    )
    assert _count(app, scene.tenant_id, Amendment) == 0
    sent = scene.resident.post(
        path, data={"text": amended, "rationale": "Plus sûr."}, headers=POITIERS
    )
    _banner(scene.resident, sent, "Votre amendement est déposé")
    assert _count(app, scene.tenant_id, Amendment) == 1


def test_an_amendments_decision_has_no_default_and_is_asked_first(app: Flask, scene: Scene) -> None:
    scene.resident.post(
        f"/proposals/{scene.proposal_id}/amendments",
        data={"text": TEXT + " Le samedi aussi.", "rationale": "Les marchés."},
        headers=POITIERS,
    )
    page = scene.author.get(f"/proposals/{scene.proposal_id}", headers=POITIERS)
    html = page.get_data(as_text=True)
    (amendment,) = re.findall(r"/amendments/(\d+)/decision", html)
    for value in ("accept", "reject"):
        assert not _checked(html, "decision", value)  # nothing chosen in advance
    path = f"/proposals/{scene.proposal_id}/amendments/{amendment}/decision"

    html = _refused(
        scene.author.post(path, data={"reason": "Hors du champ du projet"}, headers=POITIERS),
        "Choisissez d'accepter ou de rejeter l'amendement.",
        "Hors du champ du projet",
        field=f"decision-{amendment}",
    )
    _refused(
        scene.author.post(path, data={"decision": "reject", "reason": ""}, headers=POITIERS),
        "Donnez le motif du rejet de l'amendement : il est public.",
        field=f"reason-{amendment}",
    )
    rejected = scene.author.post(
        path, data={"decision": "reject", "reason": "Hors du champ du projet"}, headers=POITIERS
    )
    assert rejected.status_code == 200 and "Rejeter l'amendement de" in page_text(rejected)
    assert "Cette décision ne pourra plus être modifiée." in page_text(rejected)
    assert _count(app, scene.tenant_id, Amendment, Amendment.status == AmendmentStatus.TABLED) == 1

    done = scene.author.post(
        path,
        data={"decision": "reject", "reason": "Hors du champ du projet", "confirmed": "yes"},
        headers=POITIERS,
    )
    _banner(scene.author, done, "L'amendement est rejeté.")
    assert (
        _count(app, scene.tenant_id, Amendment, Amendment.status == AmendmentStatus.REJECTED) == 1
    )


def test_an_empty_text_is_refused_and_a_revision_is_saved(app: Flask, scene: Scene) -> None:
    path = f"/proposals/{scene.proposal_id}/text"
    _refused(
        scene.author.post(path, data={"text": ""}, headers=POITIERS),
        "Le texte ne peut pas être vide.",
        field="text",
    )
    # Blanks only: the service's refusal, next to the field too.
    _refused(
        scene.author.post(path, data={"text": "   "}, headers=POITIERS),
        "le texte ne peut pas être vide",
        field="text",
    )
    with app.app_context(), tenant_scope(db.session, scene.tenant_id):
        proposal = db.session.get(Proposal, (scene.tenant_id, scene.proposal_id))
        assert proposal is not None and proposal.revision == 1 and proposal.text == TEXT
    done = scene.author.post(path, data={"text": TEXT + " Et le samedi."}, headers=POITIERS)
    _banner(scene.author, done, "Le texte de la proposition est enregistré (révision 2).")


def test_a_feasibility_note_needs_a_verdict_chosen(app: Flask, scene: Scene) -> None:
    path = f"/proposals/{scene.proposal_id}/notes"
    page = scene.mayor.get(f"/proposals/{scene.proposal_id}", headers=POITIERS)
    # Kind and verdict start on "Choisir…": no verdict is given in advance.
    assert re.search(
        r'<select[^>]*name="verdict"[^>]*>\s*<option value=""', page.get_data(as_text=True)
    )
    data = {"kind": "budget", "verdict": "", "rationale": "Financé par le budget vert"}
    html = _refused(
        scene.mayor.post(path, data=data, headers=POITIERS),
        "Choisissez l'avis.",
        "Financé par le budget vert",
        field="verdict",
    )
    assert re.search(r'<option value="budget"[^>]*selected', html)
    assert _count(app, scene.tenant_id, FeasibilityNote) == 0
    done = scene.mayor.post(path, data={**data, "verdict": "feasible"}, headers=POITIERS)
    _banner(scene.mayor, done, "La note de faisabilité est ajoutée.")
    assert _count(app, scene.tenant_id, FeasibilityNote) == 1


# --- check-in, presence, ballots ------------------------------------------------------------


def test_a_walk_in_needs_a_name_and_is_a_volunteer(app: Flask, scene: Scene) -> None:
    path = f"/admin/sessions/{scene.session_id}/check-ins"
    _refused(
        scene.mayor.post(path, data={"name": "", "q": "Ali"}, headers=POITIERS),
        "Indiquez le nom de la personne accueillie.",
        'name="q" type="hidden" value="Ali"',
        field="name",
    )
    declared = scene.mayor.post(
        path, data={"name": "Jean Déclaré", "origin": "drawn"}, headers=POITIERS
    )
    _refused(declared, "Rien n'a été enregistré", 'value="Jean Déclaré"', field="name")
    assert _count(app, scene.tenant_id, CheckIn) == 0
    done = scene.mayor.post(path, data={"name": "Jean Venu"}, headers=POITIERS)
    assert done.status_code == 302
    roster = page_text(scene.mayor.get(done.headers["Location"], headers=POITIERS))
    assert "L'arrivée de Jean Venu est enregistrée" in roster
    assert _count(app, scene.tenant_id, CheckIn) == 1


def test_a_wrong_card_code_comes_back_with_its_reason_and_no_cookie(
    app: Flask, scene: Scene
) -> None:
    holder = app.test_client(use_cookies=False)
    path = f"/sessions/{scene.session_id}/presence"
    empty = holder.post(path, data={"code": ""}, headers=POITIERS)
    _refused(empty, "Saisissez le code de vote imprimé sur votre carte.", field="code")
    wrong = holder.post(path, data={"code": "AAAA-BBBB-CCCC"}, headers=POITIERS)
    html = _refused(
        wrong,
        "ce code de vote n’est pas valable pour cette séance",
        'value="AAAA-BBBB-CCCC"',
        status=403,
        field="code",
    )
    assert "Set-Cookie" not in wrong.headers and 'name="csrf_token"' not in html
    assert _count(app, scene.tenant_id, CheckIn) == 0


def test_a_refused_ballot_keeps_its_secrecy_choice_and_a_public_vote_is_stored(
    app: Flask, scene: Scene
) -> None:
    path = f"/admin/sessions/{scene.session_id}/ballots"
    page = scene.mayor.get(f"/admin/sessions/{scene.session_id}", headers=POITIERS)
    assert _checked(page.get_data(as_text=True), "secret", "yes")  # secret unless told
    data = {"question": "", "decision": "action_plan", "secret": "no"}
    html = _refused(
        scene.mayor.post(path, data=data, headers=POITIERS), "Ce champ est obligatoire."
    )
    assert _checked(html, "secret", "no") and not _checked(html, "secret", "yes")
    assert _count(app, scene.tenant_id, Ballot) == 0
    done = scene.mayor.post(path, data={**data, "question": "Le plan ?"}, headers=POITIERS)
    _banner(scene.mayor, done, "Le scrutin est ouvert.")
    assert _count(app, scene.tenant_id, Ballot, Ballot.secret.is_(False)) == 1


def test_a_refused_seed_breaks_no_tie(app: Flask, scene: Scene) -> None:
    with app.app_context(), tenant_scope(db.session, scene.tenant_id):
        tenant = db.session.get(Tenant, scene.tenant_id)
        row = db.session.get(AssemblySession, (scene.tenant_id, scene.session_id))
        body = db.session.get(Body, (scene.tenant_id, row.body_id)) if row else None
        assert tenant is not None and row is not None and body is not None
        version = current_config(db.session, tenant)
        assert version is not None
        rule = get_registry().view(TenantConfig(version.document)).decision_rule("action_plan")
        ballot = ballots.open_ballot(db.session, tenant, rule, row, body, "Le plan ?", [], "t")
        ballots.close(db.session, tenant, ballot, body, rule, "t")
        ballot_id = ballot.id
        db.session.commit()
    seed = "x" * 501
    _refused(
        scene.mayor.post(
            f"/admin/ballots/{ballot_id}/tie-break", data={"seed": seed}, headers=POITIERS
        ),
        "Saisissez au plus 500 caractères.",
    )
    assert _count(app, scene.tenant_id, Ballot, Ballot.status == BallotStatus.CLOSED) == 1


# --- milestones (the demo's follow-up) ------------------------------------------------------


def test_milestone_forms_keep_their_values_and_store_nothing_when_refused(
    app: Flask, load_demo: LoadDemo, onboarded: Path, sign_in: SignIn
) -> None:
    load_demo("poitiers")
    mayor = app.test_client()
    sign_in(
        mayor, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        tenant_id = tenant.id
        with tenant_scope(db.session, tenant_id):
            measure = db.session.execute(
                select(Measure.id).where(Measure.title == "Un réseau cyclable continu")
            ).scalar_one()
    path = f"/measures/{measure}/milestones"
    before = _count(app, tenant_id, Milestone)
    _refused(
        mayor.post(path, data={"title": "Passerelle du Clain", "due_on": ""}, headers=POITIERS),
        "Indiquez l'échéance.",
        'value="Passerelle du Clain"',
        field="milestone-due",
    )
    assert _count(app, tenant_id, Milestone) == before
    done = mayor.post(
        path, data={"title": "Passerelle du Clain", "due_on": "2030-05-01"}, headers=POITIERS
    )
    html = _banner(mayor, done, "Le jalon « Passerelle du Clain » est annoncé.")
    reach = re.findall(rf"/measures/{measure}/milestones/(\d+)/reached", html)
    future = mayor.post(
        f"{path}/{reach[-1]}/reached", data={"reached_on": "2099-01-01"}, headers=POITIERS
    )
    _refused(
        future,
        "un jalon ne peut pas être atteint dans le futur",
        'value="2099-01-01"',
        field=f"reached-{reach[-1]}",
    )
    reached = _count(app, tenant_id, Milestone, Milestone.reached_on.is_not(None))
    done = mayor.post(
        f"{path}/{reach[-1]}/reached", data={"reached_on": "2026-01-02"}, headers=POITIERS
    )
    _banner(mayor, done, "Le jalon « Passerelle du Clain » est marqué comme atteint.")
    assert _count(app, tenant_id, Milestone, Milestone.reached_on.is_not(None)) == reached + 1

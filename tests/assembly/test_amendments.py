"""Amendments as participants and authors see them: anyone signed in tables one, only the
proposal's authors accept it (the text changes, publicly diffed) or reject it with a public
reason; an amendment written on an older text, or on a text put to the vote, is refused."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agora.assembly import bodies, proposals
from agora.assembly.models import Body, Edition, Proposal, ProposalStatus
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.assembly import build_edition
from support.fixtures import SignIn
from support.pages import page_text

POITIERS = {"Host": "poitiers.localhost"}
TEXT = "Créer dix rues scolaires fermées aux voitures aux heures d'entrée et de sortie."


@dataclass
class Scene:
    proposal_id: int
    author: FlaskClient
    resident: FlaskClient


@pytest.fixture
def scene(app: Flask, onboarded: Path, sign_in: SignIn) -> Scene:
    """A proposal of Poitiers' proposal group, one of its authors and a resident, signed in."""
    built = build_edition(app)
    author, resident = app.test_client(), app.test_client()
    author_account = sign_in(author, "poitiers.localhost", "autrice@example.fr")
    sign_in(resident, "poitiers.localhost", "habitant@example.fr")
    with app.app_context():
        tenant = db.session.get(Tenant, built.tenant_id)
        assert tenant is not None
        with tenant_scope(db.session, tenant.id):
            body = db.session.get(Body, (tenant.id, built.ids["proposal_group"]))
            edition = db.session.get(Edition, (tenant.id, body.edition_id)) if body else None
            assert body is not None and edition is not None
            person = bodies.add_person(db.session, tenant, "Lina, autrice", author_account)
            bodies.add_member(db.session, body, person, "drawn")
            proposal = proposals.draft(
                db.session, tenant, edition, body, person, "Rues scolaires", TEXT, 250_000
            )
            proposal_id = proposal.id
        db.session.commit()
    return Scene(proposal_id, author, resident)


def _table(client: FlaskClient, proposal_id: int, text: str, why: str = "Plus sûr.") -> Any:
    return client.post(
        f"/proposals/{proposal_id}/amendments",
        data={"text": text, "rationale": why},
        headers=POITIERS,
    )


def _decide(client: FlaskClient, proposal_id: int, decision: str, reason: str = "") -> Any:
    page = client.get(f"/proposals/{proposal_id}", headers=POITIERS).get_data(as_text=True)
    found = re.findall(r"/amendments/(\d+)/decision", page)
    assert found, "no amendment awaiting a decision"
    return client.post(
        f"/proposals/{proposal_id}/amendments/{found[0]}/decision",
        # Deciding cannot be undone: the confirmation page posts the same form, confirmed.
        data={"decision": decision, "reason": reason, "confirmed": "yes"},
        headers=POITIERS,
    )


def test_an_amendment_accepted_by_the_authors_changes_the_text_and_shows_its_diff(
    scene: Scene,
) -> None:
    amended = TEXT.replace("dix", "quinze")
    assert _table(scene.resident, scene.proposal_id, amended).status_code == 302
    refused = _decide(scene.resident, scene.proposal_id, "accept")
    assert refused.status_code == 403
    assert "seuls les membres de l’instance « Groupe de proposition »" in page_text(refused)

    assert _decide(scene.author, scene.proposal_id, "accept").status_code == 302
    page = page_text(scene.resident.get(f"/proposals/{scene.proposal_id}", headers=POITIERS))
    assert "accepté par les auteur·rices" in page
    assert "supprimé : dix" in page and "ajouté : quinze" in page
    assert "révision 2" in page and amended in page


def test_a_rejection_needs_a_public_reason(scene: Scene) -> None:
    _table(scene.resident, scene.proposal_id, TEXT + " Le samedi aussi.")
    silent = _decide(scene.author, scene.proposal_id, "reject")
    assert silent.status_code == 422
    assert "motif" in page_text(silent)
    assert _decide(scene.author, scene.proposal_id, "reject", "Hors du champ.").status_code == 302
    page = page_text(scene.resident.get(f"/proposals/{scene.proposal_id}", headers=POITIERS))
    assert "rejeté par les auteur·rices" in page and "Hors du champ." in page


def test_an_amendment_on_an_older_text_cannot_be_accepted(scene: Scene) -> None:
    _table(scene.resident, scene.proposal_id, TEXT.replace("dix", "douze"))
    _table(scene.resident, scene.proposal_id, TEXT.replace("voitures", "véhicules"))
    assert _decide(scene.author, scene.proposal_id, "accept").status_code == 302
    stale = _decide(scene.author, scene.proposal_id, "accept")
    assert stale.status_code == 409
    assert "révision 1, maintenant 2" in page_text(stale)


def test_no_amendment_once_the_text_is_put_to_the_vote(app: Flask, scene: Scene) -> None:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            proposal = db.session.get(Proposal, (tenant.id, scene.proposal_id))
            assert proposal is not None
            proposal.status = ProposalStatus.FINAL
        db.session.commit()
    frozen = _table(scene.resident, scene.proposal_id, TEXT + " Amendé.")
    assert frozen.status_code == 409
    assert "est figé" in page_text(frozen)
    page = page_text(scene.resident.get(f"/proposals/{scene.proposal_id}", headers=POITIERS))
    assert "Aucun amendement" in page

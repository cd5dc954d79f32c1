"""The invitations on paper and at the door: the letters' PDF for the print shop, the
door-to-door rounds of a pair and the outcomes it records on a phone — its own round's
addresses only."""

from __future__ import annotations

import io
import re
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from agora.demo import registers
from agora.draws import stage1
from agora.draws.models import Draw, Invitation, Response, VisitRound
from agora.extensions import db
from agora.identity.models import Account
from agora.tenancy.isolation import tenant_scope
from support.draw_steps import POITIERS, poitiers, reveal_a_draw
from support.fixtures import SignIn
from support.pages import page_text

STRATA = ["centre", "couronneries", "trois-cites"]


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", page_text(response))


@pytest.fixture
def door_to_door(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, tmp_path: Path
) -> int:
    """Poitiers' proposal group drawn from its address file (door-to-door): 400 addresses
    in three neighbourhoods, 60 invited, stage 1 revealed."""
    path = registers.address_file(
        tmp_path / "adresses.csv", 400, insee_code="86194", commune="Poitiers",
        postcode="86000", strata=STRATA, weights=[2, 1, 1],
    )  # fmt: skip
    return reveal_a_draw(
        app, client, onboarded, sign_in, tmp_path,
        source="address_file", register=path.read_bytes(), seats=20, invitations=60,
    )  # fmt: skip


def _invitations(app: Flask, draw_id: int) -> list[Invitation]:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        draw = db.session.get(Draw, (poitiers().id, draw_id))
        assert draw is not None
        rows = stage1.invitations_of(db.session, draw)
        db.session.expunge_all()
        return rows


def _account(app: Flask, email: str) -> int:
    with app.app_context():
        return int(
            db.session.execute(select(Account.id).where(Account.email == email)).scalar_one()
        )


def test_the_letters_are_one_page_each_with_code_link_and_notice(
    app: Flask, client: FlaskClient, door_to_door: int
) -> None:
    response = client.get(f"/admin/draws/{door_to_door}/letters.pdf", headers=POITIERS)
    assert response.status_code == 200 and response.mimetype == "application/pdf"
    assert "lettres-tirage" in response.headers["Content-Disposition"]
    invitations = _invitations(app, door_to_door)
    pages = PdfReader(io.BytesIO(response.data)).pages
    assert len(pages) == len(invitations) == 60
    first = re.sub(r"\s+", " ", pages[0].extract_text())
    assert invitations[0].code in first
    assert f"/r/{invitations[0].code}" in first
    assert "Poitiers" in first and "CNIL" in first
    assert "Vous êtes invité·e à l'assemblée citoyenne" in first


def test_a_pair_records_its_own_rounds_visits_only(
    app: Flask, client: FlaskClient, door_to_door: int, sign_in: SignIn
) -> None:
    elected, agent, other = app.test_client(), app.test_client(), app.test_client()
    sign_in(elected, "poitiers.localhost", "elue@poitiers.fr", role="elected", commune="poitiers")
    sign_in(agent, "poitiers.localhost", "agent@poitiers.fr", role="agent", commune="poitiers")
    sign_in(other, "poitiers.localhost", "autre@poitiers.fr", role="elected", commune="poitiers")
    pair = [_account(app, "elue@poitiers.fr"), _account(app, "agent@poitiers.fr")]
    planned = client.post(
        f"/admin/draws/{door_to_door}/visits",
        headers=POITIERS,
        data={
            "name": "Centre, samedi",
            "day": date(2031, 3, 8).isoformat(),
            "pair": [str(i) for i in pair],
            "strata": ["centre"],
        },
    )
    assert planned.status_code == 302, _text(planned)
    # A second round of the same addresses: none left.
    again = client.post(
        f"/admin/draws/{door_to_door}/visits",
        headers=POITIERS,
        data={"name": "Bis", "pair": [str(pair[0])], "strata": ["centre"]},
    )
    assert again.status_code == 422 and "Plus aucune adresse" in _text(again)
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        visit = db.session.execute(select(VisitRound)).scalar_one()
        mine = (
            db.session.execute(select(Invitation).where(Invitation.visit_round_id == visit.id))
            .scalars()
            .all()
        )
        elsewhere = (
            db.session.execute(select(Invitation).where(Invitation.visit_round_id.is_(None)))
            .scalars()
            .first()
        )
        assert mine and all(i.stratum == "centre" for i in mine) and elsewhere is not None
        visit_id, mine_ids, elsewhere_id = visit.id, [i.id for i in mine], elsewhere.id
    assert "Centre, samedi" in _text(elected.get("/visites", headers=POITIERS))
    page = elected.get(f"/visites/{visit_id}", headers=POITIERS)
    assert page.status_code == 200 and "Enregistrer la visite" not in _text(page)
    # Before the invitations are sent, no outcome is recorded.
    early = elected.post(
        f"/visites/{visit_id}/{mine_ids[0]}", headers=POITIERS, data={"outcome": "not_reached"}
    )
    assert early.status_code == 409
    client.post(
        f"/admin/draws/{door_to_door}/answers/send", headers=POITIERS, data={"confirmed": "yes"}
    )
    # Another elected member, outside the pair, sees nothing of it.
    assert other.get(f"/visites/{visit_id}", headers=POITIERS).status_code == 404
    assert (
        other.post(
            f"/visites/{visit_id}/{mine_ids[0]}", headers=POITIERS, data={"outcome": "refused"}
        ).status_code
        == 404
    )
    # The pair cannot reach an address of no round of theirs.
    assert elected.get(f"/visites/{visit_id}/{elsewhere_id}", headers=POITIERS).status_code == 404
    form = elected.get(f"/visites/{visit_id}/{mine_ids[0]}", headers=POITIERS)
    assert "CNIL" in _text(form)
    wrong = agent.post(
        f"/visites/{visit_id}/{mine_ids[0]}",
        headers=POITIERS,
        data={"outcome": "interested", "profile_gender": "X", "profile_age_band": "30-44",
              "profile_neighbourhood": "centre", "available": "yes", "consent": "y", "name": "A"},
    )  # fmt: skip
    assert wrong.status_code == 422
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        assert db.session.execute(select(func.count()).select_from(Response)).scalar_one() == 0
    outcomes = ["not_reached", "refused"] * 10
    for invitation_id, outcome in zip(mine_ids, outcomes, strict=False):
        done = elected.post(
            f"/visites/{visit_id}/{invitation_id}", headers=POITIERS, data={"outcome": outcome}
        )
        assert done.status_code == 302
    interested = agent.post(
        f"/visites/{visit_id}/{mine_ids[-1]}",
        headers=POITIERS,
        data={"outcome": "interested", "profile_gender": "F", "profile_age_band": "30-44",
              "profile_neighbourhood": "centre", "available": "yes", "consent": "y",
              "name": "Zoé Durand"},
    )  # fmt: skip
    assert interested.status_code == 302, _text(interested)
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        answer = db.session.execute(select(Response)).scalar_one()
        assert answer.channel == "visit" and answer.contact["name"] == "Zoé Durand"
    sheet = elected.get(f"/visites/{visit_id}/feuille.pdf", headers=POITIERS)
    assert sheet.status_code == 200
    assert "Tournée « Centre, samedi »" in PdfReader(io.BytesIO(sheet.data)).pages[0].extract_text()

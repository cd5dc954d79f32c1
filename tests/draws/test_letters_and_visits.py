"""The invitations on paper and at the door: the letters' PDF for the print shop, the
door-to-door rounds of a pair and the outcomes it records on a phone — its own round's
addresses only."""

from __future__ import annotations

import io
import re
import zipfile
from datetime import date
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from agora.audit.models import AuditEvent
from agora.demo import registers
from agora.draws import letters_views, printing, stage1
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


def _letters_state(app: Flask, draw_id: int) -> tuple[list[int | None], int]:
    """Each invitation's part, and the audit events of batches asked for."""
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        parts = list(
            db.session.execute(
                select(Invitation.letter_part)
                .where(Invitation.draw_id == draw_id)
                .order_by(Invitation.position)
            ).scalars()
        )
        asked = db.session.execute(
            select(func.count())
            .select_from(AuditEvent)
            .where(AuditEvent.action == "draw.letters_requested")
        ).scalar_one()
        return parts, int(asked)


def _download(client: FlaskClient, path: str) -> Any:
    """A file served from disk, read whole and closed."""
    response = client.get(path, headers=POITIERS)
    response.get_data()
    response.close()
    return response


def test_the_letters_are_printed_as_a_batch_from_their_page(
    app: Flask, client: FlaskClient, door_to_door: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(printing, "LETTERS_PER_PART", 25)  # 60 letters: parts of 25, 25, 10
    base = f"/admin/draws/{door_to_door}/letters"
    page = _text(client.get(base, headers=POITIERS))
    assert "Les lettres pour l'imprimeur" in page
    assert "Pas encore dans un lot 60" in page and "Imprimer les 60 lettres" in page
    printed = client.post(base, headers=POITIERS)
    assert printed.status_code == 302
    # The job ran inline: the page lists its three parts, and says what was done.
    page = _text(client.get(base, headers=POITIERS))
    assert "60 lettres sont imprimées : leurs lots sont ci-dessous." in page
    assert "Dans un lot imprimé 60" in page and "Pas encore dans un lot 0" in page
    for number in (1, 2, 3):
        assert f"Télécharger le lot {number} (PDF)" in page
    invitations = _invitations(app, door_to_door)
    codes: list[str] = []
    for number, size in ((1, 25), (2, 25), (3, 10)):
        part = _download(client, f"{base}/part-{number}.pdf")
        assert part.status_code == 200 and part.mimetype == "application/pdf"
        assert f"lot-{number:04d}.pdf" in part.headers["Content-Disposition"]
        pages = PdfReader(io.BytesIO(part.data)).pages
        assert len(pages) == size
        codes += [
            next(i.code for i in invitations if i.code in page.extract_text()) for page in pages
        ]
    # Each letter in one part, in the order of the draw.
    assert codes == [i.code for i in invitations]
    assert client.get(f"{base}/part-4.pdf", headers=POITIERS).status_code == 404
    zipped = _download(client, f"/admin/draws/{door_to_door}/letters.zip")
    assert zipped.status_code == 200 and zipped.mimetype == "application/zip"
    with zipfile.ZipFile(io.BytesIO(zipped.data)) as archive:
        names = archive.namelist()
        assert names == [f"lettres-tirage-{door_to_door}-lot-{n:04d}.pdf" for n in (1, 2, 3)]
        assert archive.read(names[2]) == _download(client, f"{base}/part-3.pdf").data


def test_a_batch_with_every_letter_printed_is_refused_and_changes_nothing(
    app: Flask, client: FlaskClient, door_to_door: int
) -> None:
    base = f"/admin/draws/{door_to_door}/letters"
    assert client.post(base, headers=POITIERS).status_code == 302
    before = _letters_state(app, door_to_door)
    assert set(before[0]) == {1} and before[1] == 1  # 60 letters: one part of 250
    again = client.post(base, headers=POITIERS)
    assert again.status_code == 409
    assert "Toutes les lettres du tirage sont déjà dans un lot" in _text(again)
    assert _letters_state(app, door_to_door) == before


def test_the_batch_is_the_commune_administrators_alone(
    app: Flask, client: FlaskClient, door_to_door: int, sign_in: SignIn
) -> None:
    base = f"/admin/draws/{door_to_door}/letters"
    assert client.post(base, headers=POITIERS).status_code == 302
    elected = app.test_client()
    sign_in(elected, "poitiers.localhost", "elue@poitiers.fr", role="elected", commune="poitiers")
    for path in (base, f"{base}/part-1.pdf", f"/admin/draws/{door_to_door}/letters.zip"):
        assert elected.get(path, headers=POITIERS).status_code == 403
    assert elected.post(base, headers=POITIERS).status_code == 403
    # Grenoble's administrator: Poitiers' draw does not exist for them.
    grenoble = app.test_client()
    sign_in(
        grenoble,
        "grenoble.localhost",
        "mairie@grenoble.fr",
        role="commune_admin",
        commune="grenoble",
    )
    grenoble_host = {"Host": "grenoble.localhost"}
    for path in (base, f"{base}/part-1.pdf", f"/admin/draws/{door_to_door}/letters.zip"):
        assert grenoble.get(path, headers=grenoble_host).status_code == 404
    assert grenoble.post(base, headers=grenoble_host).status_code == 404
    assert _letters_state(app, door_to_door)[1] == 1


def test_more_letters_than_one_file_holds_go_to_the_batch(
    app: Flask, client: FlaskClient, door_to_door: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(letters_views, "ONE_PDF_LIMIT", 50)
    refused = client.get(f"/admin/draws/{door_to_door}/letters.pdf", headers=POITIERS)
    assert refused.status_code == 409
    assert "Plus de 50 lettres : imprimez-les par lots" in _text(refused)
    page = _text(client.get(f"/admin/draws/{door_to_door}/letters", headers=POITIERS))
    assert "Télécharger les lettres (PDF)" not in page and "Imprimer les 60 lettres" in page


def test_the_revealed_draw_leads_to_its_letters_once(
    client: FlaskClient, door_to_door: int
) -> None:
    page = client.get(f"/admin/draws/{door_to_door}", headers=POITIERS).get_data(as_text=True)
    assert page.count("Réponses et vivier</h2>") == 1
    assert page.count(f'href="/admin/draws/{door_to_door}/letters"') == 1

"""Check-in from the roster: the origin comes from the bodies' memberships, never from what is
declared at the desk; walk-ins are volunteers; printed voting cards carry one code each (only
hashes are kept), check their holder in by themselves and vote; a reprint voids old cards."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy import func, select

from agora.assembly import bodies
from agora.assembly.models import Ballot, Body, CheckIn, Vote, VotingCard
from agora.audit.models import AuditEvent
from agora.extensions import db
from agora.shared.people import Person
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.assembly import Edition, build_edition, roster_of
from support.fixtures import SignIn
from support.pages import page_text

POITIERS = {"Host": "poitiers.localhost"}
CODE = re.compile(r"\b[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}-[A-HJ-NP-Z2-9]{4}\b")


@pytest.fixture
def edition(app: Flask, onboarded: Path, client: FlaskClient, sign_in: SignIn) -> Edition:
    sign_in(
        client, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    return build_edition(app)


def _count(app: Flask, edition: Edition, model: Any, *where: Any) -> int:
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        return db.session.execute(
            select(func.count())
            .select_from(model)
            .where(model.tenant_id == edition.tenant_id, *where)
        ).scalar_one()


def _shown_code(client: FlaskClient, response: Any) -> str | None:
    assert response.status_code == 302, page_text(response)
    page = client.get(response.headers["Location"], headers=POITIERS).get_data(as_text=True)
    found = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', page)
    return found.group(1) if found else None


def _check_in_member(client: FlaskClient, session_id: int, person_id: int) -> Any:
    return client.post(
        f"/admin/sessions/{session_id}/roster/{person_id}/check-in", headers=POITIERS
    )


def _walk_in(client: FlaskClient, session_id: int, name: str, **extra: str) -> Any:
    return client.post(
        f"/admin/sessions/{session_id}/check-ins", data={"name": name, **extra}, headers=POITIERS
    )


def _open_ballot(client: FlaskClient, edition: Edition, decision: str = "action_plan") -> int:
    data: dict[str, Any] = {"question": f"Vote {decision}", "decision": decision}
    if decision == "subject_choice":
        data["subject_ids"] = [str(i) for i in edition.subject_ids]
    response = client.post(
        f"/admin/sessions/{edition.session_id}/ballots", data=data, headers=POITIERS
    )
    assert response.status_code == 302, page_text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _vote(voter: FlaskClient, ballot: int, code: str) -> Any:
    return voter.post(
        f"/ballots/{ballot}/vote", data={"code": code, "choice": "for"}, headers=POITIERS
    )


def test_the_roster_lists_members_with_their_origin_searchable_and_paged(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        tenant = db.session.get(Tenant, edition.tenant_id)
        group = db.session.get(Body, (edition.tenant_id, edition.ids["proposal_group"]))
        assert tenant is not None and group is not None
        bodies.add_member(
            db.session, group, bodies.add_person(db.session, tenant, "Élodie Géraud"), "drawn"
        )
        db.session.commit()
    roster = roster_of(app, edition)
    # The open plenary's roster: every member of the edition's bodies, each person once.
    assert len(roster) == 104 + 31 + 11
    path = f"/admin/sessions/{edition.session_id}/roster"
    page = page_text(client.get(path, headers=POITIERS))
    assert "146 personnes sur la liste d'émargement" in page
    assert "page 1 sur 3" in page
    assert "page 3 sur 3" in page_text(client.get(f"{path}?page=3", headers=POITIERS))
    # Case and accents ignored; the origin shown is the membership's.
    found = client.get(f"{path}?q=elodie", headers=POITIERS)
    text = page_text(found)
    assert "1 personne trouvée" in text and "Élodie Géraud" in text
    assert "Enregistrer l'arrivée de Élodie Géraud" in text
    row = re.search(r"Élodie Géraud</th><td[^>]*>([^<]+)</td>", found.get_data(as_text=True))
    assert row and "tiré" in row.group(1)
    assert "Personne sur la liste ne correspond" in page_text(
        client.get(f"{path}?q=zzz", headers=POITIERS)
    )


def test_a_person_not_on_the_roster_cannot_be_checked_in_as_drawn(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    for origin in ("drawn", "agent", "elected_majority"):
        refused = _walk_in(client, edition.session_id, "Jean Déclaré", origin=origin)
        assert refused.status_code == 422
        assert "enregistrée comme volontaire" in page_text(refused)
        assert "Rien n'a été enregistré" in page_text(refused)
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        tenant = db.session.get(Tenant, edition.tenant_id)
        assert tenant is not None
        stranger = bodies.add_person(db.session, tenant, "Hors liste").id
        db.session.commit()
    refused = _check_in_member(client, edition.session_id, stranger)
    assert refused.status_code == 422 and "pas sur la liste d'émargement" in page_text(refused)
    # A closed body's session takes its members only: no walk-ins.
    closed = _walk_in(client, edition.committee_session_id, "Jean Volontaire")
    assert closed.status_code == 409 and "seuls les membres" in page_text(closed)
    assert _count(app, edition, CheckIn) == 0
    assert _count(app, edition, Person, Person.display_name == "Jean Déclaré") == 0

    # The walk-in is a volunteer, a drawn member of the roster is drawn.
    assert _shown_code(client, _walk_in(client, edition.session_id, "Jean Volontaire"))
    drawn = next(p for p in roster_of(app, edition) if p.origin == "drawn")
    assert _shown_code(client, _check_in_member(client, edition.session_id, drawn.person_id))
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        origins = {
            (c.origin, c.membership_id is not None)
            for c in db.session.execute(select(CheckIn)).scalars()
        }
    assert origins == {("volunteer", False), ("drawn", True)}
    again = _check_in_member(client, edition.session_id, drawn.person_id)
    assert again.status_code == 409 and "déjà" in page_text(again)
    page = page_text(client.get(f"/admin/sessions/{edition.session_id}/roster", headers=POITIERS))
    assert "2 personnes enregistrées" in page and "arrivée enregistrée le" in page


def test_the_quorum_counts_drawn_residents_from_the_roster_only(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    """35 walk-ins and 5 drawn members: 40 present, 5 drawn — not the 10 required, however
    the walk-ins describe themselves (an origin typed before this change included)."""
    drawn = [p.person_id for p in roster_of(app, edition) if p.origin == "drawn"][:5]
    codes = [_shown_code(client, _check_in_member(client, edition.session_id, p)) for p in drawn]
    codes += [
        _shown_code(client, _walk_in(client, edition.session_id, f"Habitante tirée au sort {i}"))
        for i in range(35)
    ]
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        # A check-in recorded as « drawn » without a membership (typed at the desk before the
        # roster): not a drawn resident present.
        legacy = db.session.execute(
            select(CheckIn).where(CheckIn.origin == "volunteer").limit(1)
        ).scalar_one()
        legacy.origin = "drawn"
        db.session.commit()
    ballot = _open_ballot(client, edition)
    for code in codes:
        assert code is not None
        assert _vote(client, ballot, code).status_code == 303
    client.post(f"/admin/ballots/{ballot}/close", data={"confirmed": "yes"}, headers=POITIERS)
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        closed = db.session.get(Ballot, (edition.tenant_id, ballot))
        assert closed is not None and closed.result is not None
        quorum = closed.result["quorum"]
    assert (quorum["present"], quorum["drawn_present"], quorum["met"]) == (40, 5, False)
    assert "5 habitant·es tiré·es au sort présent·es, 10 requis" in page_text(
        client.get(f"/ballots/{ballot}", headers=POITIERS)
    )


def _print(client: FlaskClient, edition: Edition) -> tuple[list[str], list[str], str]:
    """Print the plenary's cards: the codes and the QR codes' addresses, card by card, and
    the text of the sheets."""
    response = client.post(
        f"/admin/sessions/{edition.session_id}/voting-cards.pdf", headers=POITIERS
    )
    assert response.status_code == 200, page_text(response)
    assert response.mimetype == "application/pdf"
    assert response.headers["Cache-Control"] == "no-store"
    reader = PdfReader(io.BytesIO(response.data))
    codes, links, text = [], [], ""
    for page in reader.pages:
        page_text_ = page.extract_text()
        text += page_text_
        on_page = CODE.findall(page_text_)
        uris = [
            a.get_object()["/A"]["/URI"]
            for a in page.get("/Annots", [])
            if a.get_object().get("/Subtype") == "/Link"
        ]
        assert len(on_page) == len(uris) <= 10  # one code and one QR code per card
        codes += on_page
        links += uris
    return codes, links, text


def test_voting_cards_hold_one_code_each_that_checks_in_and_votes_and_a_reprint_voids_them(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    roster = roster_of(app, edition)
    codes, links, text = _print(client, edition)
    assert len(codes) == len(set(codes)) == len(roster)
    text = re.sub(r"\s+", " ", text)  # a long name wraps on its card
    for person in roster:
        assert person.name in text
    presence = f"http://poitiers.localhost/sessions/{edition.session_id}/presence"
    # The QR code leads to the commune's host, the code in the fragment (never sent).
    assert links == [f"{presence}#code={code}" for code in codes]
    # Only hashes are kept.
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        stored = list(db.session.execute(select(VotingCard.code_hash)).scalars())
    assert len(stored) == len(roster) and not set(codes) & set(stored)

    ballot = _open_ballot(client, edition)
    holder = app.test_client(use_cookies=False)
    card_page = holder.get(f"/sessions/{edition.session_id}/presence", headers=POITIERS)
    assert card_page.status_code == 200 and "Set-Cookie" not in card_page.headers
    assert 'name="csrf_token"' not in card_page.get_data(as_text=True)
    for code in codes:
        confirmed = holder.post(
            f"/sessions/{edition.session_id}/presence", data={"code": code}, headers=POITIERS
        )
        assert confirmed.status_code == 303, page_text(confirmed)
        assert confirmed.headers["Location"] == f"/ballots/{ballot}#code={code}"
        assert _vote(holder, ballot, code).status_code == 303
    assert _count(app, edition, Vote, Vote.ballot_id == ballot) == len(roster)
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        checked_in = db.session.execute(select(CheckIn)).scalars().all()
    assert len(checked_in) == len(roster) and all(c.membership_id for c in checked_in)
    assert sum(c.origin == "drawn" for c in checked_in) == sum(p.origin == "drawn" for p in roster)
    # Confirming again with the same card is no second check-in.
    again = holder.post(
        f"/sessions/{edition.session_id}/presence", data={"code": codes[0]}, headers=POITIERS
    )
    assert again.status_code == 303

    # Printing again: new codes; the old ones neither check in nor vote.
    new_codes, _links, _text = _print(client, edition)
    assert len(new_codes) == len(roster) and not set(new_codes) & set(codes)
    second = _open_ballot(client, edition)
    old = holder.post(
        f"/sessions/{edition.session_id}/presence", data={"code": codes[1]}, headers=POITIERS
    )
    assert old.status_code == 403 and "pas valable pour cette séance" in page_text(old)
    refused = _vote(holder, second, codes[1])
    assert refused.status_code == 403
    assert _vote(holder, second, new_codes[1]).status_code == 303
    assert _count(app, edition, Vote, Vote.ballot_id == second) == 1
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        printed = [
            e.details
            for e in db.session.execute(
                select(AuditEvent)
                .where(AuditEvent.action == "session.cards_printed")
                .order_by(AuditEvent.seq)
            ).scalars()
        ]
        checked = db.session.execute(
            select(func.count()).where(AuditEvent.action == "session.checked_in")
        ).scalar_one()
    assert printed == [
        {"cards": len(roster), "reprinted": 0},
        {"cards": len(roster), "reprinted": len(roster)},
    ]
    assert checked == len(roster)


def test_a_card_checked_in_before_any_vote_lands_on_its_confirmation(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    """No vote open yet: the holder is sent to the confirmation (reloading it checks nobody
    in again), which says so in French and asks for no code."""
    codes, _links, _text = _print(client, edition)
    holder = app.test_client(use_cookies=False)
    presence = f"/sessions/{edition.session_id}/presence"
    confirmed = holder.post(presence, data={"code": codes[0]}, headers=POITIERS)
    assert confirmed.status_code == 303
    assert confirmed.headers["Location"] == f"{presence}/recorded"
    page = holder.get(confirmed.headers["Location"], headers=POITIERS)
    assert page.status_code == 200 and "Set-Cookie" not in page.headers
    assert "Présence confirmée" in page_text(page)
    assert "Votre arrivée est enregistrée. À l'ouverture d'un vote" in page_text(page)
    assert 'name="code"' not in page.get_data(as_text=True)
    assert holder.get(confirmed.headers["Location"], headers=POITIERS).status_code == 200
    assert _count(app, edition, CheckIn) == 1


def test_a_card_handed_at_the_desk_is_the_holders_code(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    codes, _links, _text = _print(client, edition)
    first = roster_of(app, edition)[0]
    response = _check_in_member(client, edition.session_id, first.person_id)
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=POITIERS)
    assert 'class="code"' not in page.get_data(as_text=True)  # the card is handed, no code
    assert f"L'arrivée de {first.name} est enregistrée avec sa carte de vote" in page_text(page)
    ballot = _open_ballot(client, edition)
    assert _vote(app.test_client(use_cookies=False), ballot, codes[0]).status_code == 303


def test_an_unknown_card_and_a_closed_session_are_refused(
    app: Flask, client: FlaskClient, edition: Edition
) -> None:
    holder = app.test_client(use_cookies=False)
    unknown = holder.post(
        f"/sessions/{edition.session_id}/presence",
        data={"code": "AAAA-BBBB-CCCC"},
        headers=POITIERS,
    )
    assert unknown.status_code == 403
    assert _count(app, edition, CheckIn) == 0
    codes, _links, _text = _print(client, edition)
    client.post(
        f"/admin/sessions/{edition.session_id}/status",
        data={"status": "closed", "confirmed": "yes"},
        headers=POITIERS,
    )
    late = holder.post(
        f"/sessions/{edition.session_id}/presence", data={"code": codes[0]}, headers=POITIERS
    )
    assert late.status_code == 409
    reprint = client.post(
        f"/admin/sessions/{edition.session_id}/voting-cards.pdf", headers=POITIERS
    )
    assert reprint.status_code == 409 and "close" in page_text(reprint)
    assert _count(app, edition, CheckIn) == 0


def test_another_communes_session_has_no_roster_cards_nor_presence_page(
    app: Flask, client: FlaskClient, edition: Edition, sign_in: SignIn
) -> None:
    codes, _links, _text = _print(client, edition)
    sign_in(
        client, "grenoble.localhost", "admin@grenoble.fr", role="commune_admin", commune="grenoble"
    )
    grenoble = {"Host": "grenoble.localhost"}
    session = edition.session_id
    assert client.get(f"/admin/sessions/{session}/roster", headers=grenoble).status_code == 404
    assert (
        client.post(f"/admin/sessions/{session}/voting-cards.pdf", headers=grenoble).status_code
        == 404
    )
    assert client.get(f"/sessions/{session}/presence", headers=grenoble).status_code == 404
    assert (
        client.post(
            f"/sessions/{session}/presence", data={"code": codes[0]}, headers=grenoble
        ).status_code
        == 404
    )
    person = roster_of(app, edition)[0].person_id
    assert (
        client.post(
            f"/admin/sessions/{session}/roster/{person}/check-in", headers=grenoble
        ).status_code
        == 404
    )
    assert _count(app, edition, CheckIn) == 0

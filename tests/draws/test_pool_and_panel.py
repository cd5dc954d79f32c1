"""From the invitations to the seated panel: residents answer with their letter's code,
agents type in paper answers, the pool closes, an infeasible quota is named, relaxed and
published, the lottery is committed and revealed into a panel and a reserve, the panel is
seated and a withdrawal replaced keeping the quotas; every bad input refused in French with
nothing stored."""

from __future__ import annotations

import hashlib
import io
import random
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import JSON, func, select, type_coerce
from sqlalchemy.orm import undefer

from agora.assembly.models import Membership
from agora.draws import beacons, responses, stage1
from agora.draws.models import (
    Deviation,
    Draw,
    DrawStatus,
    Invitation,
    Pick,
    PickRole,
    PickStatus,
    Response,
    SubDraw,
)
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.services import current_config
from agora_sortition import audit
from agora_sortition.pool import quota_violations
from support.draw_steps import POITIERS, open_edition, poitiers, reveal_a_draw
from support.fixtures import SignIn
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py

HEADER = "ine;nom;prenoms;adresse;code_postal;bureau_de_vote;date_naissance;sexe"
SEATS = 20


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", page_text(response))


def _hooks() -> Any:
    version = current_config(db.session, poitiers())
    assert version is not None
    return get_registry().view(TenantConfig(version.document))


def _roll(households: int) -> bytes:
    lines = [HEADER]
    for n in range(households):
        lines.append(f"{5000 + n};Nom{n};Prénom;{n + 1} rue Carnot;86000;{n % 3 + 1};01/01/1980;F")
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _post(client: FlaskClient, path: str, **data: str) -> Any:
    return client.post(path, headers=POITIERS, data=data)


@pytest.fixture
def revealed(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, tmp_path: Path
) -> int:
    """Poitiers' proposal group (20 drawn seats) drawn from its electoral roll: 300
    households, 150 invited by a sealed seed, stage 1 revealed; signed in as the commune's
    administrator."""
    return reveal_a_draw(
        app, client, onboarded, sign_in, tmp_path,
        source="electoral_roll", register=_roll(300), seats=SEATS, invitations=150,
    )  # fmt: skip


def _draw(app: Flask, draw_id: int) -> Draw:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        # The record is loaded on demand only (megabytes): read before the row leaves.
        row = db.session.get(Draw, (poitiers().id, draw_id), options=[undefer(Draw.record)])
        assert row is not None
        db.session.expunge(row)
        return row


def _invitations(app: Flask, draw_id: int) -> list[Invitation]:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        rows = stage1.invitations_of(db.session, _draw_in_session(draw_id))
        db.session.expunge_all()
        return rows


def _draw_in_session(draw_id: int) -> Draw:
    row = db.session.get(Draw, (poitiers().id, draw_id))
    assert row is not None
    return row


def _count(app: Flask, model: Any) -> int:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        return int(db.session.execute(select(func.count()).select_from(model)).scalar_one())


def _answer(**profile: str) -> dict[str, str]:
    return {
        "profile_gender": "F",
        "profile_age_band": "30-44",
        "profile_neighbourhood": "centre",
        "available": "yes",
        "consent": "y",
        "name": "Léa Martin",
        "email": "lea.martin@exemple.fr",
    } | profile


def test_a_resident_answers_with_the_code_of_their_letter(
    app: Flask, client: FlaskClient, revealed: int
) -> None:
    sent = _post(client, f"/admin/draws/{revealed}/answers/send", confirmed="yes")
    assert sent.status_code == 302
    invitation = _invitations(app, revealed)[0]
    resident = app.test_client()
    typed = invitation.code.lower()[:5] + " - " + invitation.code.lower()[5:]
    found = resident.post("/repondre", headers=POITIERS, data={"code": typed})
    assert found.status_code == 302 and found.headers["Location"].endswith(f"/r/{invitation.code}")
    form = resident.get(f"/r/{invitation.code}", headers=POITIERS)
    assert form.status_code == 200
    assert "CNIL" in _text(form) and "Tranche d'âge" in _text(form)
    done = resident.post(f"/r/{invitation.code}", headers=POITIERS, data=_answer())
    assert done.status_code == 302, _text(done)
    assert "votre réponse est enregistrée" in _text(
        resident.get(done.headers["Location"], headers=POITIERS)
    )
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        answer = db.session.execute(select(Response)).scalar_one()
        assert answer.features == {"gender": "F", "age_band": "30-44", "neighbourhood": "centre"}
        assert answer.channel == "online" and answer.consent and answer.available
        answered = db.session.get(Invitation, (poitiers().id, invitation.id))
        assert answered is not None and answered.status.value == "responded"
    # Until the pool closes, a second answer replaces the first.
    again = resident.post(f"/r/{invitation.code}", headers=POITIERS, data=_answer(available="no"))
    assert again.status_code == 302
    assert _count(app, Response) == 1


def test_bad_answers_are_refused_in_french_and_store_nothing(
    app: Flask, client: FlaskClient, revealed: int
) -> None:
    resident = app.test_client()
    invitation = _invitations(app, revealed)[0]
    # Before the invitations are sent, no answer.
    early = resident.post(f"/r/{invitation.code}", headers=POITIERS, data=_answer())
    assert early.status_code == 409 and "ne reçoit pas encore de réponses" in _text(early)
    _post(client, f"/admin/draws/{revealed}/answers/send", confirmed="yes")
    unknown = resident.post("/repondre", headers=POITIERS, data={"code": "ZZZZZZZZZZ"})
    assert unknown.status_code == 404 and "Code inconnu" in _text(unknown)
    assert resident.get("/r/ZZZZZZZZZZ", headers=POITIERS).status_code == 404
    wrong = resident.post(
        f"/r/{invitation.code}", headers=POITIERS, data=_answer(profile_age_band="12-15")
    )
    assert wrong.status_code == 422 and "Tranche d'âge" in _text(wrong)
    no_name = resident.post(f"/r/{invitation.code}", headers=POITIERS, data=_answer(name=""))
    assert no_name.status_code == 422 and "Indiquez le nom" in _text(no_name)
    assert _count(app, Response) == 0
    _post(client, f"/admin/draws/{revealed}/answers/collect", confirmed="yes")
    _post(client, f"/admin/draws/{revealed}/answers/close", confirmed="yes")
    late = resident.post(f"/r/{invitation.code}", headers=POITIERS, data=_answer())
    assert late.status_code == 409 and "closes depuis le" in _text(late)
    closed = _text(resident.get(f"/r/{invitation.code}", headers=POITIERS))
    assert "sont closes" in closed and "Envoyer ma réponse" not in closed
    assert _count(app, Response) == 0
    # Without consent, the answer is kept without anything personal, outside the pool.


def test_agents_type_in_paper_answers_and_elected_members_see_none(
    app: Flask, client: FlaskClient, revealed: int, sign_in: SignIn
) -> None:
    _post(client, f"/admin/draws/{revealed}/answers/send", confirmed="yes")
    invitation = _invitations(app, revealed)[1]
    agent = app.test_client()
    sign_in(agent, "poitiers.localhost", "agent@poitiers.fr", role="agent", commune="poitiers")
    typed = agent.post(
        f"/admin/draws/{revealed}/responses",
        headers=POITIERS,
        data=_answer(code=invitation.code, consent="", name=""),
    )
    assert typed.status_code == 302, _text(typed)
    listed = _text(agent.get(f"/admin/draws/{revealed}/responses", headers=POITIERS))
    assert "sur papier" in listed and "1 réponse" in listed
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        answer = db.session.execute(select(Response)).scalar_one()
        # No consent: not in the pool, and nothing personal kept.
        assert answer.channel == "paper" and not answer.consent and answer.contact == {}
        assert answer.entered_by.startswith("account:")  # the agent who typed it in
    elected = app.test_client()
    sign_in(elected, "poitiers.localhost", "elu@poitiers.fr", role="elected", commune="poitiers")
    assert elected.get(f"/admin/draws/{revealed}/responses", headers=POITIERS).status_code == 403
    assert elected.get(f"/admin/draws/{revealed}/panel", headers=POITIERS).status_code == 403


def _fill_pool(app: Flask, draw_id: int, *, without: str = "") -> None:
    """Answers from every invited household, profiles drawn from the census shares (no one
    of the age band ``without``)."""
    pick = random.Random(7)
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        tenant, hooks, draw = poitiers(), _hooks(), _draw_in_session(draw_id)
        criteria = hooks.quota_criteria()
        for n, invitation in enumerate(stage1.invitations_of(db.session, draw)):
            profile = {}
            for criterion in criteria:
                values = [v for v in criterion.values if v.value != without]
                profile[criterion.feature] = pick.choices(
                    [v.value for v in values], weights=[v.reference_share for v in values]
                )[0]
            responses.record_response(
                db.session, tenant, hooks, draw, invitation, features=profile, available=True,
                consent=True, contact={"name": f"Personne {n}"}, channel="online", actor="test",
            )  # fmt: skip
        db.session.commit()


def test_an_infeasible_quota_is_named_relaxed_and_published(
    app: Flask, client: FlaskClient, revealed: int
) -> None:
    _post(client, f"/admin/draws/{revealed}/answers/send", confirmed="yes")
    _fill_pool(app, revealed, without="75+")
    _post(client, f"/admin/draws/{revealed}/answers/collect", confirmed="yes")
    _post(client, f"/admin/draws/{revealed}/answers/close", confirmed="yes")
    page = _text(client.get(f"/admin/draws/{revealed}/feasibility", headers=POITIERS))
    assert "Tranche d'âge — 75 ans et plus : minimum 1, 0 disponibles" in page
    refused = _post(client, f"/admin/draws/{revealed}/lottery", confirmed="yes")
    assert refused.headers["Location"].endswith(f"/admin/draws/{revealed}/feasibility")
    assert _draw(app, revealed).status == DrawStatus.POOL_CLOSED
    part = _draw_part(app, revealed)
    quota = f"{part}:age_band:75+"
    bad = _post(
        client, f"/admin/draws/{revealed}/feasibility", quota=quota, minimum="5", maximum="2",
        reason="Personne de 75 ans et plus n'a répondu.", confirmed="yes",
    )  # fmt: skip
    assert bad.status_code == 422 and "0 ≤ minimum ≤ maximum ≤ 20" in _text(bad)
    assert _count(app, Deviation) == 0
    relaxed = _post(
        client, f"/admin/draws/{revealed}/feasibility", quota=quota, minimum="0", maximum="3",
        reason="Personne de 75 ans et plus n'a répondu.", confirmed="yes",
    )  # fmt: skip
    assert relaxed.status_code == 302
    public = _text(app.test_client().get(f"/draws/{revealed}", headers=POITIERS))
    assert "Écarts à la méthode" in public
    assert "Tranche d'âge — 75 ans et plus : le quota passe de 1–3 à 0–3 sièges" in public
    assert "Personne de 75 ans et plus n'a répondu." in public
    assert "peut être tirée" in _text(
        client.get(f"/admin/draws/{revealed}/feasibility", headers=POITIERS)
    )


def _draw_part(app: Flask, draw_id: int) -> int:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        return int(
            db.session.execute(select(SubDraw.id).where(SubDraw.draw_id == draw_id)).scalar_one()
        )


def _picks(app: Flask, draw_id: int) -> list[tuple[Pick, Response]]:
    from agora.draws import selection

    with app.app_context(), tenant_scope(db.session, poitiers().id):
        rows = selection.picks(db.session, _draw_in_session(draw_id))
        db.session.expunge_all()
        return rows


def test_the_panel_is_drawn_seated_and_a_withdrawal_replaced_keeping_the_quotas(
    app: Flask, client: FlaskClient, revealed: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    _post(client, f"/admin/draws/{revealed}/answers/send", confirmed="yes")
    _fill_pool(app, revealed)
    _post(client, f"/admin/draws/{revealed}/answers/collect", confirmed="yes")
    _post(client, f"/admin/draws/{revealed}/answers/close", confirmed="yes")
    started = _post(client, f"/admin/draws/{revealed}/lottery", confirmed="yes")
    assert started.status_code == 302, _text(started)
    draw = _draw(app, revealed)
    assert draw.status == DrawStatus.LOTTERY_COMMITTED
    # The lottery's page names the committed round and when it is published.
    sealed = client.get(f"/admin/draws/{revealed}/lottery", headers=POITIERS)
    assert sealed.status_code == 200, _text(sealed)
    named = draw.record[next(iter(draw.record))]["commitment"]["drand"]["round"]
    assert f"Loterie scellée pour tour {named} de drand, publié le" in _text(sealed)
    again = _post(client, f"/admin/draws/{revealed}/lottery", confirmed="yes")
    assert again.status_code == 409
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        chances = db.session.execute(select(Response.probability)).scalars().all()
        assert all(p is not None and 0 < p <= 1 for p in chances)
        assert sum(chances) == pytest.approx(SEATS)  # type: ignore[arg-type]
        # Stored with the lottery's ids as positions in the pool, read back as committed.
        [stored] = (
            db.session.execute(select(type_coerce(Draw.record, JSON)).where(Draw.id == revealed))
            .scalar_one()
            .values()
        )
        assert "lottery" not in stored and len(stored["lottery_positions"]) >= 1000
    committed = _draw(app, revealed).record[str(_draw_part(app, revealed))]
    assert committed["lottery"] == audit.unpacked(stored)["lottery"]
    assert audit.lottery_sha256(committed["lottery"]) == (committed["commitment"]["lottery_sha256"])
    # The named round is not out: the panel waits for it.
    monkeypatch.setattr(beacons, "fetch_beacon", lambda chain, number: None)
    early = _post(client, f"/admin/draws/{revealed}/panel", reserve="6", confirmed="yes")
    assert early.status_code == 409 and "n'est pas encore publié" in _text(early)
    assert _count(app, Pick) == 0
    monkeypatch.undo()
    drawn = _post(client, f"/admin/draws/{revealed}/panel", reserve="6", confirmed="yes")
    assert drawn.status_code == 302, _text(drawn)
    chosen = _picks(app, revealed)
    panel = [p for p, _r in chosen if p.role == PickRole.PANEL]
    assert len(panel) == SEATS and sum(p.role == PickRole.RESERVE for p, _r in chosen) == 6
    record = _draw(app, revealed).record[str(_draw_part(app, revealed))]
    assert audit.verify(record, commitment=record["commitment_sha256"])
    # Seating waits for every acceptance.
    assert _post(client, f"/admin/draws/{revealed}/seat", confirmed="yes").status_code == 409
    for pick in panel:
        assert _post(client, f"/admin/draws/{revealed}/picks/{pick.id}/confirm").status_code == 302
    seated = _post(client, f"/admin/draws/{revealed}/seat", confirmed="yes")
    assert seated.status_code == 302, _text(seated)
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        members = (
            db.session.execute(
                select(Membership).where(
                    Membership.origin == "drawn", Membership.source == "electoral_roll"
                )
            )
            .scalars()
            .all()
        )
        assert len(members) == SEATS
    assert _draw(app, revealed).closed_at is not None
    # A member withdraws: the first reserve who keeps every quota takes the seat.
    leaving = panel[0]
    no_reason = _post(
        client, f"/admin/draws/{revealed}/picks/{leaving.id}/withdraw", reason="", confirmed="yes"
    )
    assert no_reason.status_code == 422
    replaced = _post(
        client, f"/admin/draws/{revealed}/picks/{leaving.id}/withdraw",
        reason="A déménagé à Niort.", confirmed="yes",
    )  # fmt: skip
    assert replaced.status_code == 302
    record = _draw(app, revealed).record[str(_draw_part(app, revealed))]
    assert audit.verify(record, commitment=record["commitment_sha256"])
    current = audit.current_panel(record)
    pool, _households = audit.pool_from_record(record["pool"])
    assert quota_violations(pool, audit.quotas_from_record(record["quotas"]), current) == []
    after = _picks(app, revealed)
    statuses = {p.id: p.status for p, _r in after}
    assert statuses[leaving.id] == PickStatus.WITHDRAWN
    newcomer = next(p for p, _r in after if p.replaces_id == leaving.id)
    assert newcomer.status == PickStatus.SEATED and newcomer.quota_gap == []
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        active = db.session.execute(
            select(func.count())
            .select_from(Membership)
            .where(Membership.origin == "drawn", Membership.ended_at.is_(None))
        ).scalar_one()
        assert active == SEATS
    # A quota gap is the methodology committee's to confirm: not the staff's.
    assert (
        _post(
            client, f"/admin/draws/{revealed}/picks/{newcomer.id}/gap", confirmed="yes"
        ).status_code
        == 403
    )
    public = _text(app.test_client().get(f"/draws/{revealed}/record", headers=POITIERS))
    assert "A déménagé" not in public  # reasons are not published with names


def _seat(app: Flask, client: FlaskClient, draw_id: int, *, fill: bool = True) -> None:
    """The draw's answers collected (from ``_fill_pool`` when ``fill``), its panel drawn with
    no reserve, every member accepting, and seated."""
    for step in ("send", "collect", "close"):
        if step == "collect" and fill:
            _fill_pool(app, draw_id)
        answered = _post(client, f"/admin/draws/{draw_id}/answers/{step}", confirmed="yes")
        assert answered.status_code == 302, _text(answered)
    assert _post(client, f"/admin/draws/{draw_id}/lottery", confirmed="yes").status_code == 302
    drawn = _post(client, f"/admin/draws/{draw_id}/panel", reserve="0", confirmed="yes")
    assert drawn.status_code == 302, _text(drawn)
    for pick, _response in _picks(app, draw_id):
        _post(client, f"/admin/draws/{draw_id}/picks/{pick.id}/confirm")
    assert _post(client, f"/admin/draws/{draw_id}/seat", confirmed="yes").status_code == 302


def test_the_next_editions_draw_leaves_out_the_people_this_one_seated(
    app: Flask, client: FlaskClient, revealed: int
) -> None:
    _seat(app, client, revealed)
    seated = {r.person_hash for p, r in _picks(app, revealed) if p.status == PickStatus.SEATED}
    assert len(seated) == SEATS
    body_id = open_edition(app, 2032)["proposal_group"]
    # The form proposes no exclusion unless the commune's rules say so; here it is chosen.
    refused = _post(
        client, "/admin/draws/new", title="Groupe de proposition 2032", body=str(body_id),
        seats_electoral_roll=str(SEATS), algorithm="leximin", minimum_age="16",
        recent_editions="99",
    )  # fmt: skip
    assert refused.status_code == 422
    assert "Saisissez un nombre d’éditions de 0 à 20" in _text(refused)
    created = _post(
        client, "/admin/draws/new", title="Groupe de proposition 2032", body=str(body_id),
        seats_electoral_roll=str(SEATS), algorithm="leximin", minimum_age="16",
        recent_editions="1",
    )  # fmt: skip
    assert created.status_code == 302, _text(created)
    second = int(created.headers["Location"].rsplit("/", 1)[1])
    roll = (io.BytesIO(_roll(300)), "registre.csv")
    uploaded = client.post(
        f"/admin/draws/{second}/registers",
        headers=POITIERS,
        data={"sub_draw": str(_draw_part(app, second)), "register": roll},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    page = _text(client.get(f"/admin/draws/{second}", headers=POITIERS))
    assert "Membres des éditions précédentes écartés : ceux de la dernière édition" in page
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        from agora.draws import services as draw_services
        from agora.draws.models import Register

        register = db.session.execute(
            select(Register).where(Register.draw_id == second)
        ).scalar_one()
        assert register.ineligible == {"recent_member": SEATS}
        assert register.row_count == 300 - SEATS
        kept = {
            person
            for block in draw_services.read_blocks(db.session, register)
            for person in block.person_hashes()
        }
        assert not kept & seated
    shown = _text(client.get(f"/admin/draws/{second}/registers/{register.id}", headers=POITIERS))
    assert f"Membres d’une édition précédente {SEATS}" in shown


def test_a_nested_draw_takes_the_members_who_volunteer_into_another_body(
    app: Flask, client: FlaskClient, revealed: int
) -> None:
    """Three seats of the methodology committee drawn among the proposal group's drawn
    members who volunteer (« tirés au sort parmi les volontaires »)."""
    _seat(app, client, revealed)
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        from agora.assembly.models import Body

        committee = db.session.execute(
            select(Body.id).where(Body.key == "methodology_committee")
        ).scalar_one()
    label = "les membres tirés au sort de « Groupe de proposition » qui se portent volontaires"
    assert label in _text(client.get("/admin/draws/new", headers=POITIERS))
    created = _post(
        client, "/admin/draws/new", title="Comité de méthodologie 2031", body=str(committee),
        seats_members_proposal_group="3", algorithm="leximin", minimum_age="16",
    )  # fmt: skip
    assert created.status_code == 302, _text(created)
    nested = int(created.headers["Location"].rsplit("/", 1)[1])
    page = _text(client.get(f"/admin/draws/{nested}", headers=POITIERS))
    assert "Cocher les membres volontaires" in page and "Déposer un registre" not in page
    part = _draw_part(app, nested)
    volunteers_url = f"/admin/draws/{nested}/volunteers/{part}"
    form = client.get(volunteers_url, headers=POITIERS).get_data(as_text=True)
    members = re.findall(r'name="volunteers"[^>]*value="(\d+)"', form) or re.findall(
        r'value="(\d+)"[^>]*name="volunteers"', form
    )
    assert len(members) == SEATS
    nobody = _post(client, volunteers_url)
    assert nobody.status_code == 422
    assert "Cochez au moins un membre volontaire." in _text(nobody)
    from agora.draws.models import Register

    assert _count(app, Register) == 1  # the proposal group's roll only
    stored = client.post(volunteers_url, headers=POITIERS, data={"volunteers": members[:8]})
    assert stored.status_code == 302, _text(stored)
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        register = db.session.execute(
            select(Register).where(Register.draw_id == nested)
        ).scalar_one()
        assert register.row_count == 8, register.error
    for step, data in (
        ("publish", {}),
        ("commit", {"invitations": "0", "spread": "uniform", "randomness": "seed",
                    "seed_sha256": hashlib.sha256(b"graine").hexdigest()}),
        ("stage1", {"seed": "graine"}),
        ("reveal", {}),
    ):  # fmt: skip
        done = _post(client, f"/admin/draws/{nested}/{step}", confirmed="yes", **data)
        assert done.status_code == 302, (step, _text(done))
    _seat(app, client, nested, fill=False)
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        seated = (
            db.session.execute(select(Membership).where(Membership.body_id == committee))
            .scalars()
            .all()
        )
        assert len(seated) == 3
        assert {m.origin for m in seated} == {"drawn"}
        assert {m.source for m in seated} == {"members_proposal_group"}
        profiles = db.session.execute(
            select(Response.features).where(Response.draw_id == nested)
        ).scalars()
        assert all(
            set(features) == {"gender", "age_band", "neighbourhood"} for features in profiles
        )

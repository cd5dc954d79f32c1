"""Stage 1 of a draw: the commitment (a future drand round or a sealed seed), the invitations
drawn one per household by a public rule anyone can recompute, and the reveal; every bad
input refused in French with nothing stored."""

from __future__ import annotations

import hashlib
import io
import json
import re
import tomllib
from collections import defaultdict
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly import editions
from agora.assembly.models import Body
from agora.audit.models import AuditEvent
from agora.draws import beacons, blocks, services, stage1
from agora.draws.models import (
    Draw,
    DrawStatus,
    Invitation,
    Register,
    RegisterBlock,
    RegisterStatus,
    SubDraw,
)
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from support.fixtures import SignIn
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py

POITIERS = {"Host": "poitiers.localhost"}
HEADER = "ine;nom;prenoms;adresse;code_postal;bureau_de_vote;date_naissance;sexe"
#: Households per polling station: 10, 6 and 4 (20 in all).
STATIONS = {"1": 10, "2": 6, "3": 4}
SEED = "le pli scellé de Maître Dupont"


def _roll() -> bytes:
    """An electoral roll of 20 households in three polling stations; the first household of
    each station has three people, the others one."""
    lines, ine = [HEADER], 1000
    for station, households in STATIONS.items():
        for number in range(households):
            for _person in range(3 if number == 0 else 1):
                ine += 1
                sex = "F" if ine % 2 else "M"
                lines.append(
                    f"{ine};Nom{ine};Prénom;{number + 1} rue du Bureau {station};86000;"
                    f"{station};01/01/1980;{sex}"
                )
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _volunteers() -> bytes:
    lines = ["id;nom;prenom;courriel;telephone;quartier"]
    lines += [f"v{n};Nom{n};Prénom;v{n}@exemple.fr;0600000000;Centre" for n in range(5)]
    return ("\r\n".join(lines) + "\r\n").encode("utf-8-sig")


def _tenant() -> Tenant:
    return db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()


def _upload(client: FlaskClient, app: Flask, draw_id: int, source: str, content: bytes) -> None:
    with app.app_context(), tenant_scope(db.session, _tenant().id):
        sub_draw = db.session.execute(
            select(SubDraw.id).where(SubDraw.draw_id == draw_id, SubDraw.source == source)
        ).scalar_one()
    response = client.post(
        f"/admin/draws/{draw_id}/registers",
        headers=POITIERS,
        data={"sub_draw": str(sub_draw), "register": (io.BytesIO(content), "liste.csv")},
        content_type="multipart/form-data",
    )
    assert response.status_code == 302, page_text(response)


def _design(client: FlaskClient, app: Flask, onboarded: Path, seats: dict[str, str]) -> int:
    path = onboarded / "poitiers.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["plugins"]["draw_electoral_roll"] = {"feature_columns": {"gender": "sexe"}}
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    result = app.test_cli_runner().invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tenant = _tenant()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            hooks = get_registry().view(TenantConfig(version.document))
            edition = editions.open_edition(
                db.session, tenant, 2031, "Assemblée 2031", hooks.composition_rules(), "test"
            )
            db.session.flush()
            body_id = db.session.execute(
                select(Body.id).where(Body.edition_id == edition.id, Body.key == "plenary")
            ).scalar_one()
        db.session.commit()
    response = client.post(
        "/admin/draws/new",
        headers=POITIERS,
        data={
            "title": "Tirage 2031",
            "body": str(body_id),
            **{f"seats_{source}": count for source, count in seats.items()},
            "algorithm": "leximin",
            "minimum_age": "16",
            "witnesses": "Maître Dupont, huissière",
        },
    )
    assert response.status_code == 302, page_text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _publish(client: FlaskClient, draw_id: int) -> None:
    done = client.post(
        f"/admin/draws/{draw_id}/publish", headers=POITIERS, data={"confirmed": "yes"}
    )
    assert done.status_code == 302


@pytest.fixture
def draw(app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, tmp_path: Path) -> int:
    """Poitiers' plenary drawn from its electoral roll (60 seats, by letter) and its
    volunteers' list (40 seats, already volunteers), both registers imported and the method
    published; signed in as the commune's administrator."""
    app.config["AGORA_UPLOAD_DIR"] = str(tmp_path / "uploads")
    sign_in(
        client, "poitiers.localhost", "admin@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    draw_id = _design(client, app, onboarded, {"electoral_roll": "60", "volunteers": "40"})
    _upload(client, app, draw_id, "electoral_roll", _roll())
    _upload(client, app, draw_id, "volunteers", _volunteers())
    _publish(client, draw_id)
    return draw_id


def _commit(client: FlaskClient, draw_id: int, **fields: str) -> Any:
    data = {"invitations": "7", "spread": "stratified", "randomness": "drand", "confirmed": "yes"}
    return client.post(f"/admin/draws/{draw_id}/commit", headers=POITIERS, data=data | fields)


def _run(client: FlaskClient, draw_id: int, **fields: str) -> Any:
    return client.post(
        f"/admin/draws/{draw_id}/stage1", headers=POITIERS, data={"confirmed": "yes", **fields}
    )


def _state(app: Flask, draw_id: int) -> tuple[Draw, list[Invitation], int]:
    """The draw, its invitations (in order) and the commune's audit events."""
    with app.app_context(), tenant_scope(db.session, _tenant().id):
        row = db.session.get(Draw, (_tenant().id, draw_id))
        assert row is not None
        invitations = stage1.invitations_of(db.session, row)
        events = db.session.execute(select(func.count()).select_from(AuditEvent)).scalar_one()
        db.session.expunge_all()
        return row, invitations, int(events)


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", page_text(response))


def test_largest_remainder_shares_in_proportion() -> None:
    assert stage1.largest_remainder(7, {"1": 10, "2": 6, "3": 4}) == {"1": 4, "2": 2, "3": 1}
    assert stage1.largest_remainder(10, {"1": 10, "2": 6, "3": 4}) == {"1": 5, "2": 3, "3": 2}
    # Equal remainders: in the keys' order.
    assert stage1.largest_remainder(1, {"b": 1, "a": 1}) == {"a": 1, "b": 0}
    assert stage1.largest_remainder(1200, {"roll": 80, "young": 5}) == {"roll": 1129, "young": 71}


def test_commit_allocates_per_stratum_and_publishes_the_commitment(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    asked = client.post(
        f"/admin/draws/{draw}/commit",
        headers=POITIERS,
        data={"invitations": "7", "spread": "stratified", "randomness": "drand"},
    )
    assert asked.status_code == 200, _text(asked)
    assert "Publier l'engagement de l'étape 1 ?" in _text(asked)
    assert _state(app, draw)[0].status == DrawStatus.METHOD_PUBLISHED
    response = _commit(client, draw)
    assert response.status_code == 302, page_text(response)
    row, invitations, _events = _state(app, draw)
    assert row.status == DrawStatus.COMMITTED and invitations == []
    # Only the roll invites: the volunteers have come forward already.
    assert row.allocation == {"electoral_roll": {"1": 4, "2": 2, "3": 1}}
    assert row.invitations_wanted == 7 and row.stratified
    assert row.commitment["drand"]["round"] == 1000
    [part] = row.commitment["sub_draws"]
    assert part["households"] == STATIONS and part["rows"] == 26 and part["channel"] == "letter"
    canonical = json.dumps(
        row.commitment, sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()
    assert row.commitment_sha256 == hashlib.sha256(canonical).hexdigest()
    public = _text(client.get(f"/draws/{draw}", headers=POITIERS))
    assert row.commitment_sha256 in public
    assert "tour 1000 de drand" in public


BAD_COMMITMENTS = {
    "no invitation": (
        {"invitations": "0"},
        "Il faut au moins une invitation.",
    ),
    "more invitations than households": (
        {"invitations": "21"},
        "Source « la liste électorale de la commune » : 20 foyers seulement, impossible d'y "
        "inviter 21 foyers, un par invitation.",
    ),
    "malformed seed hash": (
        {"randomness": "seed", "seed_sha256": "abc123"},
        "L'empreinte de la graine scellée doit être son SHA-256 : 64 caractères "
        "hexadécimaux (0 à 9, a à f).",
    ),
}


@pytest.mark.parametrize("case", BAD_COMMITMENTS, ids=list(BAD_COMMITMENTS))
def test_a_bad_commitment_is_refused_in_french_and_nothing_is_stored(
    app: Flask, client: FlaskClient, draw: int, case: str
) -> None:
    fields, message = BAD_COMMITMENTS[case]
    events = _state(app, draw)[2]
    response = _commit(client, draw, **fields)
    assert response.status_code == 422
    assert message in _text(response)
    row, invitations, after = _state(app, draw)
    assert row.status == DrawStatus.METHOD_PUBLISHED
    assert (row.commitment, row.commitment_sha256, row.allocation) == ({}, "", {})
    assert invitations == [] and after == events


def test_stage1_invites_one_person_per_household_by_the_public_rule(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    assert _commit(client, draw).status_code == 302
    response = _run(client, draw)
    assert response.status_code == 302, page_text(response)
    row, invitations, _events = _state(app, draw)
    assert row.status == DrawStatus.STAGE1_DONE
    assert [i.position for i in invitations] == list(range(1, 8))
    assert len({i.household_hash for i in invitations}) == 7
    assert {s: sum(i.stratum == s for i in invitations) for s in STATIONS} == {
        "1": 4,
        "2": 2,
        "3": 1,
    }
    assert all(i.channel == "letter" for i in invitations)
    codes = [i.code for i in invitations]
    assert len(set(codes)) == 7
    assert all(re.fullmatch(r"[A-HJKMNP-Z2-9]{10}", code) for code in codes)
    # Anyone recomputes the draw from the public beacon and the register's fingerprints.
    [beacon] = [
        b
        for b in json.loads(beacons.RECORDED.read_text(encoding="utf-8"))["beacons"]
        if b["round"] == 1000
    ]
    value = beacon["randomness"]
    assert row.reveal["random_value"] == value

    def key(item: str) -> str:
        return hashlib.sha256(f"{value}:{item}".encode()).hexdigest()

    with app.app_context(), tenant_scope(db.session, _tenant().id):
        register = db.session.execute(
            select(Register).where(Register.draw_id == draw, Register.source == "electoral_roll")
        ).scalar_one()
        stored = list(services.read_blocks(db.session, register))
    people: dict[str, list[str]] = defaultdict(list)
    stratum_of: dict[str, str] = {}
    contact_of: dict[str, dict[str, str]] = {}
    for block in stored:
        for index in range(len(block)):
            household, person = block.household(index), block.person(index)
            people[household].append(person)
            stratum_of[household] = block.strata[index]
            contact_of[person] = block.contact_of(index)
    expected = []
    for station, count in {"1": 4, "2": 2, "3": 1}.items():
        households = sorted((h for h in people if stratum_of[h] == station), key=key)
        expected += [(key(h), h, min(people[h], key=key)) for h in households[:count]]
    expected.sort()
    assert [(i.household_hash, i.person_hash) for i in invitations] == [
        (h, p) for _k, h, p in expected
    ]
    # Each invitation keeps what its letter needs of the person it invites.
    assert all(i.contact == contact_of[i.person_hash] and i.contact for i in invitations)
    result = json.dumps(sorted(p for _k, _h, p in expected), separators=(",", ":")).encode()
    assert row.reveal["result_sha256"] == hashlib.sha256(result).hexdigest()
    assert row.reveal["signature"]["checked"] is True  # the genuine beacon verifies
    staff = _text(client.get(f"/admin/draws/{draw}", headers=POITIERS))
    assert "Foyers invités" in staff and "Révéler l'étape 1" in staff
    detail = _text(client.get(f"/admin/draws/{draw}/stage1", headers=POITIERS))
    assert row.reveal["result_sha256"] in detail


def test_every_household_once_though_one_has_three_people(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    assert _commit(client, draw, invitations="20").status_code == 302
    assert _run(client, draw).status_code == 302
    _row, invitations, _events = _state(app, draw)
    assert len(invitations) == 20  # 26 people in 20 households
    assert len({i.household_hash for i in invitations}) == 20


def test_a_second_stage1_is_refused_and_invites_nobody_more(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    assert _commit(client, draw).status_code == 302
    assert _run(client, draw).status_code == 302
    first = _state(app, draw)[1]
    again = _run(client, draw)
    assert again.status_code == 409
    assert (
        "Ce tirage a déjà passé l'étape « invitations tirées » : une étape ne se fait jamais "
        "deux fois." in _text(again)
    )
    assert [i.id for i in _state(app, draw)[1]] == [i.id for i in first]


def test_stage1_before_the_committed_round_is_refused(
    app: Flask, client: FlaskClient, draw: int, monkeypatch: pytest.MonkeyPatch
) -> None:
    future = beacons.FutureRound("quicknet", 30_000_000, beacons.round_time(30_000_000))
    monkeypatch.setattr(beacons, "next_round", lambda now=None: future)
    assert _commit(client, draw).status_code == 302
    events = _state(app, draw)[2]
    response = _run(client, draw)
    assert response.status_code == 409
    text = _text(response)
    assert "Le tour 30000000 de drand n'est pas encore publié : il le sera le" in text
    assert "30 juin 2026, 09:09:24" in text  # 2023-08-23 + 29 999 999 × 3 s, Paris time
    row, invitations, after = _state(app, draw)
    assert row.status == DrawStatus.COMMITTED and row.reveal == {}
    assert invitations == [] and after == events


def test_a_sealed_seed_draws_once_unsealed_and_is_revealed(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    sealed = hashlib.sha256(SEED.encode()).hexdigest()
    committed = _commit(client, draw, randomness="seed", seed_sha256=sealed.upper())
    assert committed.status_code == 302
    assert _state(app, draw)[0].commitment["seed_sha256"] == sealed
    wrong = _run(client, draw, seed="une autre graine")
    assert wrong.status_code == 422
    assert "Cette graine ne correspond pas à l'empreinte scellée" in _text(wrong)
    assert _state(app, draw)[1] == []
    assert _run(client, draw, seed=SEED).status_code == 302
    row, invitations, _events = _state(app, draw)
    assert row.reveal["random_value"] == SEED and len(invitations) == 7
    public = _text(client.get(f"/draws/{draw}", headers=POITIERS))
    assert SEED not in public  # not before the reveal
    asked = client.post(f"/admin/draws/{draw}/reveal", headers=POITIERS)
    assert "Révéler l'étape 1 ?" in _text(asked)
    done = client.post(f"/admin/draws/{draw}/reveal", headers=POITIERS, data={"confirmed": "yes"})
    assert done.status_code == 302
    public = _text(client.get(f"/draws/{draw}", headers=POITIERS))
    for shown in (SEED, row.reveal["result_sha256"], row.commitment_sha256, sealed):
        assert shown in public
    assert "Comment le recalculer" in public
    assert "vérifiée avec la clé publique" not in public  # a seed has no signature


def test_the_reveal_publishes_the_beacon(app: Flask, client: FlaskClient, draw: int) -> None:
    assert _commit(client, draw, spread="uniform").status_code == 302
    assert _run(client, draw).status_code == 302
    assert (
        client.post(
            f"/admin/draws/{draw}/reveal", headers=POITIERS, data={"confirmed": "yes"}
        ).status_code
        == 302
    )
    row = _state(app, draw)[0]
    assert row.status == DrawStatus.REVEALED and row.allocation == {"electoral_roll": {"": 7}}
    public = _text(client.get(f"/draws/{draw}", headers=POITIERS))
    assert row.reveal["random_value"] in public and "Tout le registre" in public
    assert "vérifiée avec la clé publique de la chaîne drand" in public


def test_elected_members_may_not_run_stage1(
    app: Flask, client: FlaskClient, draw: int, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "elu@poitiers.fr", role="elected", commune="poitiers")
    assert client.get(f"/admin/draws/{draw}/commit", headers=POITIERS).status_code == 403
    assert _commit(client, draw).status_code == 403
    assert _run(client, draw).status_code == 403
    assert client.get(f"/admin/draws/{draw}/stage1", headers=POITIERS).status_code == 403
    reveal = client.post(f"/admin/draws/{draw}/reveal", headers=POITIERS, data={"confirmed": "yes"})
    assert reveal.status_code == 403
    assert _state(app, draw)[0].status == DrawStatus.METHOD_PUBLISHED


def test_a_register_of_twenty_thousand_people(
    app: Flask,
    client: FlaskClient,
    onboarded: Path,
    sign_in: SignIn,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(stage1, "PROGRESS_EVERY", 5000)  # the progress is written on the way
    app.config["AGORA_UPLOAD_DIR"] = str(tmp_path / "uploads")
    sign_in(
        client, "poitiers.localhost", "admin@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    draw_id = _design(client, app, onboarded, {"electoral_roll": "100"})
    # Written straight to the table (the import has its own tests): two people per address,
    # twelve polling stations.
    with app.app_context(), tenant_scope(db.session, _tenant().id):
        tenant = _tenant()
        sub_draw = db.session.execute(
            select(SubDraw.id).where(SubDraw.draw_id == draw_id)
        ).scalar_one()
        register = Register(
            tenant_id=tenant.id,
            draw_id=draw_id,
            sub_draw_id=sub_draw,
            source="electoral_roll",
            filename="liste.csv",
            size_bytes=1,
            sha256="0" * 64,
            status=RegisterStatus.IMPORTED,
            row_count=20_000,
        )
        db.session.add(register)
        db.session.flush()
        people = range(20_000)
        block = blocks.Block(
            b"".join(hashlib.sha256(f"p{n}".encode()).digest() for n in people),
            b"".join(hashlib.sha256(f"h{n // 2}".encode()).digest() for n in people),
            [str(n // 2 % 12 + 1) for n in people],
        )
        db.session.add(
            RegisterBlock(
                tenant_id=tenant.id,
                register_id=register.id,
                number=0,
                rows=len(block),
                data=blocks.encode(block),
            )
        )
        db.session.commit()
    _publish(client, draw_id)
    asked = _text(_commit(client, draw_id, invitations="1200", confirmed=""))
    # 1 200 as French writes it (its narrow no-break space is a space once normalised).
    assert "1 200 invitations, une par foyer, réparties sur 12 strates." in asked, asked
    assert _commit(client, draw_id, invitations="1200").status_code == 302
    assert _run(client, draw_id).status_code == 302
    row, invitations, _events = _state(app, draw_id)
    assert len(invitations) == 1200 == row.reveal["invited"]
    assert len({i.household_hash for i in invitations}) == 1200
    assert sum(row.allocation["electoral_roll"].values()) == 1200


def test_stage1_before_the_commitment_is_refused(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    response = _run(client, draw)
    assert response.status_code == 409
    assert (
        "L'étape « invitations tirées » vient après « engagement publié », qui n'est pas encore "
        "fait" in _text(response)
    )
    assert _state(app, draw)[1] == []


def test_a_draw_among_volunteers_only_invites_nobody(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, tmp_path: Path
) -> None:
    app.config["AGORA_UPLOAD_DIR"] = str(tmp_path / "uploads")
    sign_in(
        client, "poitiers.localhost", "admin@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    draw_id = _design(client, app, onboarded, {"volunteers": "100"})
    _upload(client, app, draw_id, "volunteers", _volunteers())
    _publish(client, draw_id)
    page = _text(client.get(f"/admin/draws/{draw_id}/commit", headers=POITIERS))
    assert "l'étape 1 n'invitera personne" in page
    assert _commit(client, draw_id, invitations="").status_code == 302
    assert _run(client, draw_id).status_code == 302
    row, invitations, _events = _state(app, draw_id)
    assert row.status == DrawStatus.STAGE1_DONE and invitations == []
    assert row.allocation == {} and row.reveal["invited"] == 0

"""A draw's registers: uploaded in the browser, imported all or nothing through the commune's
named source, every bad input refused in French with nothing stored."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from babel.dates import format_date
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.assembly import editions
from agora.assembly.models import Body
from agora.db import paris_today
from agora.draws.models import Draw, DrawStatus, Register, RegisterBlock, SubDraw
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
ROWS = [
    "1001;Martin;Léa;12 rue de la Paix;86000;1;12/03/1980;F",
    "1002;Martin;Paul;12 rue de la Paix;86000;1;01/07/1978;M",
    "1003;Durand;Zoé;3 place du Marché;86000;2;1999-11-30;F",
    "1004;Petit;Jules;8 rue Carnot;86000;2;01/01/2020;M",
    "1005;Élu;Marc;1 place de la Mairie;86000;3;04/05/1966;M",
]


#: A hundred more people of the roll, all eligible.
FILLER = [f"{2000 + i};Bernard;Louise;{i} rue Carnot;86000;1;01/01/1980;F" for i in range(100)]


def _file(*lines: str, encoding: str = "utf-8-sig") -> bytes:
    return ("\r\n".join(lines) + "\r\n").encode(encoding)


@pytest.fixture
def draw(app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, tmp_path: Path) -> int:
    """Poitiers, with the electoral roll as a second named source, an edition, and a draw of
    its plenary's 100 drawn seats from the roll; signed in as the commune's administrator."""
    app.config["AGORA_UPLOAD_DIR"] = str(tmp_path / "uploads")
    path = onboarded / "poitiers.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["plugins"]["draw_electoral_roll"] = {"feature_columns": {"gender": "sexe"}}
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    runner = app.test_cli_runner()
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            hooks = get_registry().view(TenantConfig(version.document))
            assert set(hooks.draw_sources()) == {"address_file", "volunteers", "electoral_roll"}
            edition = editions.open_edition(
                db.session, tenant, 2031, "Assemblée 2031", hooks.composition_rules(), "test"
            )
            db.session.flush()
            plenary = db.session.execute(
                select(Body).where(Body.edition_id == edition.id, Body.key == "plenary")
            ).scalar_one()
            body_id = plenary.id
        db.session.commit()
    sign_in(
        client, "poitiers.localhost", "admin@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    response = client.post(
        "/admin/draws/new",
        headers=POITIERS,
        data={
            "title": "Tirage 2031",
            "body": str(body_id),
            "seats_electoral_roll": "100",
            "algorithm": "leximin",
            "minimum_age": "16",
            "witnesses": "Maître Dupont, huissière",
            "exclusions": "1005\n",
        },
    )
    assert response.status_code == 302, page_text(response)
    return int(response.headers["Location"].rsplit("/", 1)[1])


def _sub_draw(app: Flask, draw_id: int) -> int:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            return db.session.execute(
                select(SubDraw.id).where(SubDraw.draw_id == draw_id)
            ).scalar_one()


def _upload(
    client: FlaskClient, app: Flask, draw_id: int, content: bytes, name: str = "liste.csv"
) -> Any:
    import io

    return client.post(
        f"/admin/draws/{draw_id}/registers",
        headers=POITIERS,
        data={"sub_draw": str(_sub_draw(app, draw_id)), "register": (io.BytesIO(content), name)},
        content_type="multipart/form-data",
    )


def _stored(app: Flask) -> tuple[list[Register], int]:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            registers = list(db.session.execute(select(Register)).scalars())
            rows = db.session.execute(select(func.sum(RegisterBlock.rows))).scalar_one() or 0
            db.session.expunge_all()
            return registers, int(rows)


def test_a_register_is_imported_with_only_eligible_people(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    response = _upload(client, app, draw, _file(HEADER, *ROWS))
    assert response.status_code == 302
    page = client.get(response.headers["Location"], headers=POITIERS)
    text = page_text(page)
    assert "importé" in text
    [register], rows = _stored(app)
    assert register.status.value == "imported"
    assert register.row_count == rows == 3  # 1004 is 11, 1005 is excluded
    assert register.ineligible == {"under_age": 1, "excluded": 1}
    assert len(register.sha256) == 64 and register.size_bytes > 0
    assert not list((Path(app.config["AGORA_UPLOAD_DIR"])).rglob("*.upload"))


def test_a_draw_designed_before_the_exclusion_filter_still_excludes(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    """Draws designed before migration 0026 kept no 16 bits of their excluded ids: every id
    of their register is hashed, and the excluded one is still left out."""
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            designed = db.session.get(Draw, (tenant.id, draw))
            assert designed is not None and designed.excluded_filter
            designed.excluded_filter = []
        db.session.commit()
    assert _upload(client, app, draw, _file(HEADER, *ROWS)).status_code == 302
    [register], rows = _stored(app)
    assert register.ineligible == {"under_age": 1, "excluded": 1} and rows == 3


BAD_INPUTS = {
    "UTF-16 without a byte-order mark": (
        _file(HEADER, *ROWS, encoding="utf-16-le"),
        "Fichier « liste.csv » — Ligne 1 : le fichier semble être en UTF-16 sans indicateur",
    ),
    "a workbook": (
        b"PK\x03\x04" + bytes(200),
        "c’est un classeur de tableur, pas un fichier CSV : enregistrez-le au format CSV",
    ),
    "missing column": (
        _file(HEADER.rsplit(";", 1)[0], *[r.rsplit(";", 1)[0] for r in ROWS]),
        "Ligne 1 : colonne manquante : sexe",
    ),
    "duplicate ids": (
        _file(HEADER, *ROWS[:3], ROWS[0].replace("Léa", "Léo")),
        "Ligne 5, colonne « ine » : identifiant « 1001 » déjà présent ligne 2",
    ),
    "empty file": (b"", "le fichier est vide"),
    "unknown quota value": (
        _file(HEADER, *ROWS[:2], ROWS[2].replace(";F", ";X")),
        "Ligne 4, colonne « sexe » : valeur inconnue « X » pour « Genre » (attendues : F, M)",
    ),
    # Past the first 4 kB, which the reader checks for binary data before reading rows.
    "a NUL byte in a name": (
        _file(HEADER, *ROWS[:2], *FILLER, ROWS[2].replace("Durand", "Dur\x00and")),
        "Ligne 104 : données binaires : ce n’est pas un fichier texte CSV",
    ),
    "impossible date": (
        _file(HEADER, ROWS[0], ROWS[1].replace("01/07/1978", "31/02/1990")),
        "Ligne 3, colonne « date_naissance » : date illisible « 31/02/1990 »",
    ),
}


@pytest.mark.parametrize("case", BAD_INPUTS, ids=list(BAD_INPUTS))
def test_a_bad_register_is_refused_in_french_and_nothing_is_stored(
    app: Flask, client: FlaskClient, draw: int, case: str
) -> None:
    content, message = BAD_INPUTS[case]
    response = _upload(client, app, draw, content)
    page = client.get(response.headers["Location"], headers=POITIERS)
    text = re.sub(r"\s+", " ", page_text(page))
    assert message in text, text
    assert "rien n'a été enregistré" in text
    [register], rows = _stored(app)
    assert register.status.value == "failed"
    assert message in register.error
    assert rows == 0


@pytest.mark.parametrize(
    "content",
    [
        _file(HEADER, *ROWS, encoding="cp1252"),  # French Excel's "CSV (point-virgule)"
        _file(HEADER.replace(";", ","), *[r.replace(";", ",") for r in ROWS]),
        _file(HEADER.replace(";", "\t"), *[r.replace(";", "\t") for r in ROWS], encoding="utf-16"),
    ],
    ids=["cp1252 with semicolons", "UTF-8 with commas", "UTF-16 with tabs"],
)
def test_a_register_is_read_as_spreadsheets_save_it(
    app: Flask, client: FlaskClient, draw: int, content: bytes
) -> None:
    response = _upload(client, app, draw, content)
    assert response.status_code == 302
    [register], rows = _stored(app)
    assert register.status.value == "imported", register.error
    assert rows == 3


def test_a_file_over_the_limit_is_refused_and_nothing_is_kept(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    app.config["AGORA_MAX_REGISTER_BYTES"] = 200
    response = _upload(client, app, draw, _file(HEADER, *ROWS))
    assert response.status_code == 413
    assert "Fichier « liste.csv » : plus grand que les 0 Mo acceptés" in page_text(response)
    registers, rows = _stored(app)
    assert registers == [] and rows == 0
    assert not list((Path(app.config["AGORA_UPLOAD_DIR"])).rglob("*.upload"))


def test_a_register_may_be_larger_than_a_pages_form(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    """A page's form is capped at MAX_CONTENT_LENGTH; the register upload has its own limit,
    applied before the CSRF check reads the form."""
    content = _file(HEADER, *ROWS)
    app.config["MAX_CONTENT_LENGTH"] = len(content) // 2
    response = _upload(client, app, draw, content)
    assert response.status_code == 302
    [register], rows = _stored(app)
    assert register.status.value == "imported" and rows == 3
    refused = client.post("/login/magic", headers=POITIERS, data={"email": "y" * len(content)})
    assert refused.status_code == 413
    assert "Envoi trop volumineux" in page_text(refused)


def test_the_method_cannot_change_once_published(
    app: Flask, client: FlaskClient, draw: int
) -> None:
    assert client.get(f"/draws/{draw}", headers=POITIERS).status_code == 404
    _upload(client, app, draw, _file(HEADER, *ROWS))
    asked = client.post(f"/admin/draws/{draw}/publish", headers=POITIERS)
    assert asked.status_code == 200 and "Publier la méthode du tirage ?" in page_text(asked)
    done = client.post(f"/admin/draws/{draw}/publish", headers=POITIERS, data={"confirmed": "yes"})
    assert done.status_code == 302
    public = client.get(f"/draws/{draw}", headers=POITIERS)
    assert public.status_code == 200
    assert "Maître Dupont" in page_text(public) and "LEXIMIN" in page_text(public)
    changed = client.post(
        f"/admin/draws/{draw}/method",
        headers=POITIERS,
        data={"seats_electoral_roll": "100", "algorithm": "maximin", "minimum_age": "18"},
    )
    assert changed.status_code == 409
    published_on = format_date(paris_today(), "long", locale="fr")  # « 6 décembre 2026 »
    assert f"La méthode de ce tirage a été publiée le {published_on}" in page_text(changed)
    assert "elle ne peut plus changer" in page_text(changed)
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            row = db.session.get(Draw, (tenant.id, draw))
            assert row is not None
            assert (row.algorithm, row.minimum_age, row.status) == (
                "leximin",
                16,
                DrawStatus.METHOD_PUBLISHED,
            )
    again = client.post(f"/admin/draws/{draw}/publish", headers=POITIERS, data={"confirmed": "yes"})
    assert again.status_code == 409


def test_elected_members_never_see_a_draw(
    app: Flask, client: FlaskClient, draw: int, sign_in: SignIn
) -> None:
    sign_in(client, "poitiers.localhost", "elu@poitiers.fr", role="elected", commune="poitiers")
    for path in ("/admin/draws", f"/admin/draws/{draw}"):
        assert client.get(path, headers=POITIERS).status_code == 403


def test_the_draws_offer_the_engines_algorithms() -> None:
    from agora.draws import services
    from agora.sortition import ALGORITHMS

    assert services.ALGORITHMS == ALGORITHMS

"""A register from any CSV: after its upload the file waits on a column-mapping screen (its
columns proposed from the commune's settings when the file has them), is read once the
columns are chosen, and keeps only those; every bad file or choice is refused in French with
nothing stored."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.draws import services
from agora.draws.models import Register, RegisterBlock, RegisterStatus, SubDraw
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from support.draw_steps import POITIERS, poitiers, prepare_poitiers
from support.fixtures import SignIn
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py

HEADER = "Identifiant;Nom;Rue;CP;Quartier;Naissance;Genre"


def _text(response: Any) -> str:
    return re.sub(r"\s+", " ", page_text(response))


def _youth_file(rows: int, header: str = HEADER, separator: str = ";") -> bytes:
    lines = [header.replace(";", separator)]
    for n in range(rows):
        cells = [f"J{n:04d}", f"Nom{n}", f"{n + 1} rue Carnot", "86000", "centre",
                 "02/03/2009", "F" if n % 2 else "M"]  # fmt: skip
        lines.append(separator.join(cells))
    return ("\r\n".join(lines) + "\r\n").encode("utf-8")


@pytest.fixture
def draw_id(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn, tmp_path: Path
) -> int:
    """Poitiers with a generic CSV source (its settings propose ``numero`` for the person and
    ``adresse`` for the household), and a draw of its 2031 proposal group from it."""
    body_id = prepare_poitiers(
        app, client, onboarded, sign_in, tmp_path,
        plugins={"draw_csv": {
            "label": "le fichier des jeunes", "channel": "letter",
            "person_column": "numero", "household_columns": ["adresse"],
            "feature_columns": {"gender": "Genre"},
        }},
    )  # fmt: skip
    created = client.post(
        "/admin/draws/new",
        headers=POITIERS,
        data={"title": "Groupe des jeunes 2031", "body": str(body_id), "seats_generic_csv": "20",
              "algorithm": "leximin", "minimum_age": "16"},
    )  # fmt: skip
    assert created.status_code == 302, _text(created)
    return int(created.headers["Location"].rsplit("/", 1)[1])


def _upload(app: Flask, client: FlaskClient, draw_id: int, content: bytes) -> Any:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        part = db.session.execute(select(SubDraw.id).where(SubDraw.draw_id == draw_id)).scalar_one()
    return client.post(
        f"/admin/draws/{draw_id}/registers",
        headers=POITIERS,
        data={"sub_draw": str(part), "register": (io.BytesIO(content), "jeunes.csv")},
        content_type="multipart/form-data",
    )


def _register(app: Flask) -> Register:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        register = db.session.execute(select(Register)).scalars().one()
        db.session.expunge(register)
        return register


def _rows(app: Flask) -> int:
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        stored = select(func.coalesce(func.sum(RegisterBlock.rows), 0))
        return int(db.session.execute(stored).scalar_one())


def test_the_columns_of_a_generic_csv_are_chosen_then_the_file_is_read(
    app: Flask, client: FlaskClient, draw_id: int
) -> None:
    uploaded = _upload(app, client, draw_id, _youth_file(60))
    assert uploaded.status_code == 302
    columns_url = uploaded.headers["Location"]
    assert columns_url.endswith("/columns")
    assert _register(app).status == RegisterStatus.MAPPING and _rows(app) == 0
    page = client.get(columns_url, headers=POITIERS)
    text = _text(page)
    assert "Le fichier a 7 colonnes : Identifiant, Nom, Rue, CP, Quartier, Naissance, Genre" in text
    # The settings' « Genre » is in the file: proposed; their « numero » is not.
    html = page.get_data(as_text=True)
    assert re.search(r'<option value="Genre" selected', html)
    person = re.search(r'<select[^>]*id="col_person".*?</select>', html, re.S)
    assert person is not None and '<option value="" selected' in person.group(0)

    missing = client.post(columns_url, headers=POITIERS, data={"col_household": "Rue"})
    assert missing.status_code == 422
    assert "Choisissez une colonne." in _text(missing)
    unknown = client.post(
        columns_url, headers=POITIERS, data={"col_person": "numero", "col_household": "Rue"}
    )
    assert unknown.status_code == 422
    assert _register(app).status == RegisterStatus.MAPPING and _rows(app) == 0

    chosen = client.post(
        columns_url,
        headers=POITIERS,
        data={"col_person": "Identifiant", "col_household": ["Rue", "CP"],
              "col_neighbourhood": "Quartier", "col_stratum": "Quartier",
              "col_birth_date": "Naissance", "col_gender": "Genre",
              "col_attributes": ["Nom", "Rue", "CP"]},
    )  # fmt: skip
    assert chosen.status_code == 302, _text(chosen)
    register = _register(app)
    assert register.status == RegisterStatus.IMPORTED, register.error
    assert register.row_count == 60
    assert register.column_mapping["household"] == ["Rue", "CP"]
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        first = next(services.read_blocks(db.session, register))
        assert first.profile(0) == {"neighbourhood": "centre", "gender": "M"}
        assert first.strata[0] == "centre" and set(first.contact_of(0)) == {"Nom", "Rue", "CP"}
    shown = _text(client.get(chosen.headers["Location"], headers=POITIERS))
    assert "Colonnes lues" in shown and "Le foyer (l’adresse) Rue, CP" in shown
    # Chosen once: the screen now leads to the register.
    again = client.get(columns_url, headers=POITIERS)
    assert again.status_code == 302 and not again.headers["Location"].endswith("/columns")


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", "Fichier « jeunes.csv » — Ligne 1 : le fichier est vide"),
        (
            "Identifiant;Nom;Rue\r\n1;Roux;rue Carnot\r\n".encode("utf-16-le"),
            "Ligne 1 : le fichier semble être en UTF-16 sans indicateur d’ordre des octets",
        ),
        (
            _youth_file(3, header="Identifiant;Nom;Rue;CP;Quartier;Naissance;Nom"),
            "l’en-tête nomme deux fois la colonne Nom",
        ),
    ],
)
def test_a_file_without_a_readable_header_is_refused_at_once(
    app: Flask, client: FlaskClient, draw_id: int, content: bytes, message: str
) -> None:
    uploaded = _upload(app, client, draw_id, content)
    assert uploaded.status_code == 302 and not uploaded.headers["Location"].endswith("/columns")
    register = _register(app)
    assert register.status == RegisterStatus.FAILED and _rows(app) == 0
    shown = _text(client.get(uploaded.headers["Location"], headers=POITIERS))
    assert message in shown, shown


def test_a_file_waiting_for_its_columns_is_deleted_when_another_replaces_it(
    app: Flask, client: FlaskClient, draw_id: int, tmp_path: Path
) -> None:
    first = _upload(app, client, draw_id, _youth_file(5))
    assert first.headers["Location"].endswith("/columns")
    waiting = list((tmp_path / "uploads").rglob("*.upload"))
    assert len(waiting) == 1
    second = _upload(app, client, draw_id, _youth_file(7))
    assert second.headers["Location"].endswith("/columns")
    assert waiting[0].exists() is False
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        statuses = db.session.execute(
            select(Register.filename, Register.status, Register.error).order_by(Register.id)
        ).all()
    assert [status for _f, status, _e in statuses] == [
        RegisterStatus.FAILED, RegisterStatus.MAPPING,
    ]  # fmt: skip
    assert "remplacé par un autre fichier avant que ses colonnes soient choisies" in statuses[0][2]

"""The public record of a draw: its page (seals, funnel, representativeness, probabilities,
deviations, replacements), the export that the engine's ``verify`` checks, the spreadsheets
and the procès-verbal; none of them names a resident."""

from __future__ import annotations

import copy
import io
import json
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from pypdf import PdfReader
from sqlalchemy.orm import undefer

from agora.draws.models import Draw, DrawStatus
from agora.extensions import db
from agora.sortition import VerificationFailed
from agora.tenancy.isolation import tenant_scope
from agora_sortition import audit
from support.draws_record import REGISTER_SHA256, ClosedDraw, closed_draw, recorded_beacon
from support.pages import page_text

pytestmark = pytest.mark.embedded  # see tests/conftest.py

POITIERS = {"Host": "poitiers.localhost"}
GRENOBLE = {"Host": "grenoble.localhost"}
#: What residents gave and the public record must never show.
PERSONAL = ("Habitant·e", "example.org", "rue de la Paix", "CODE00")


@pytest.fixture
def drawn(app: Flask, onboarded: Path) -> ClosedDraw:
    return closed_draw(app)


def _stored(app: Flask, drawn: ClosedDraw) -> Draw:
    with app.app_context(), tenant_scope(db.session, drawn.tenant_id):
        # The record is loaded on demand only (megabytes): read before the row leaves.
        draw = db.session.get(
            Draw, (drawn.tenant_id, drawn.draw_id), options=[undefer(Draw.record)]
        )
        assert draw is not None
        db.session.expunge(draw)
        return draw


def _urls(drawn: ClosedDraw) -> list[str]:
    base = f"/draws/{drawn.draw_id}"
    return [
        f"{base}/record",
        f"{base}/record.json",
        f"{base}/record/{drawn.sub_draw_id}.json",
        f"{base}/funnel.csv",
        f"{base}/representativeness.csv",
        f"{base}/proces-verbal.pdf",
    ]


def test_the_record_page_shows_seals_funnel_charts_probabilities_and_changes(
    client: FlaskClient, drawn: ClosedDraw, app: Flask
) -> None:
    draw = _stored(app, drawn)
    record = draw.record[str(drawn.sub_draw_id)]
    response = client.get(f"/draws/{drawn.draw_id}/record", headers=POITIERS)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    text = page_text(response)
    # Both stages' commitments, drand rounds and random values, said in plain French.
    assert "Comment le tirage a été scellé" in text
    assert draw.commitment_sha256 in text
    assert record["commitment_sha256"] in text
    assert "tour drand 1000, chaîne quicknet" in text
    assert "tour drand 657413, chaîne quicknet" in text
    assert str(recorded_beacon(1000)["randomness"]) in text
    assert record["reveal"]["random_value"] in text
    # The funnel: 30 invited, 24 reached, 20 interested, 18 in the pool, 4 on the panel.
    assert "Total 30 24 20 18 4" in text
    assert "Centre-ville 10 8 6 6" in text
    # One chart per criterion (and the funnel's), each an image with a title and a table.
    assert html.count('role="img"') == 4
    assert "Genre : part dans le recensement, le vivier et le panel" in text
    assert "Femmes 53,0 % 66,7 % (12)" in text
    # Probabilities by profile, no ids; the deviation and the replacement.
    assert "Chances d’être sélectionné·e, par profil" in text
    assert "Hommes 45 à 59 ans Centre-ville 2" in text
    assert "Quota « Hommes » élargi à 0–4 sièges" in text
    replacement = record["replacements"][0]
    assert f"{replacement['withdrawn'][:12]} {replacement['replacement'][:12]}" in text
    assert "python -m agora.sortition verify" in text
    for personal in PERSONAL:
        assert personal not in html
    method = client.get(f"/draws/{drawn.draw_id}", headers=POITIERS)
    assert f'href="/draws/{drawn.draw_id}/record"' in method.get_data(as_text=True)


def test_before_stage_2_the_record_shows_what_exists(
    client: FlaskClient, app: Flask, onboarded: Path
) -> None:
    drawn = closed_draw(app, stage="responses")
    response = client.get(f"/draws/{drawn.draw_id}/record", headers=POITIERS)
    assert response.status_code == 200
    text = page_text(response)
    assert "Étape 1 : qui est invité" in text
    assert "Étape 2" not in text
    # The pool exists, the panel not yet.
    assert "Total 30 24 20 18 0" in text
    assert "Femmes 53,0 % 66,7 % (12) —" in text
    assert "Chances d’être sélectionné·e" not in text
    engine = client.get(f"/draws/{drawn.draw_id}/record/{drawn.sub_draw_id}.json", headers=POITIERS)
    assert engine.status_code == 404
    export = client.get(f"/draws/{drawn.draw_id}/record.json", headers=POITIERS).get_json()
    assert export["records"] == {}


def test_an_unpublished_draw_or_another_communes_has_no_record(
    client: FlaskClient, drawn: ClosedDraw, app: Flask
) -> None:
    for url in _urls(drawn):
        assert client.get(url, headers=GRENOBLE).status_code == 404, url
    with app.app_context(), tenant_scope(db.session, drawn.tenant_id):
        draw = db.session.get(Draw, (drawn.tenant_id, drawn.draw_id))
        assert draw is not None
        draw.status = DrawStatus.DESIGNED
        db.session.commit()
    for url in _urls(drawn):
        assert client.get(url, headers=POITIERS).status_code == 404, url


def _engine_record(client: FlaskClient, drawn: ClosedDraw) -> dict[str, Any]:
    response = client.get(
        f"/draws/{drawn.draw_id}/record/{drawn.sub_draw_id}.json", headers=POITIERS
    )
    assert response.status_code == 200
    assert "attachment" in response.headers["Content-Disposition"]
    data: dict[str, Any] = json.loads(response.get_data())
    return data


def test_the_export_verifies_with_the_engine(
    client: FlaskClient, drawn: ClosedDraw, app: Flask
) -> None:
    record = _engine_record(client, drawn)
    passed = audit.verify(record, commitment=record["commitment_sha256"])
    assert "replacements are the first reserves who fit" in passed
    export = client.get(f"/draws/{drawn.draw_id}/record.json", headers=POITIERS)
    data = json.loads(export.get_data())
    assert data["format"] == "agora-draw-export/1"
    # The whole export holds the same record, stage 1's seal, the register's hash and the
    # deviation, with how to check it.
    assert data["records"]["address_file"] == record
    draw = _stored(app, drawn)
    assert data["stage1"]["commitment_sha256"] == draw.commitment_sha256
    assert data["stage1"]["reveal"]["drand"]["round"] == 1000
    assert data["registers"][0]["sha256"] == REGISTER_SHA256
    assert data["deviations"][0]["detail"]["feature"] == "gender"
    assert any("python -m agora.sortition verify" in line for line in data["readme"])
    for personal in PERSONAL:
        assert personal not in export.get_data(as_text=True)


def test_the_command_line_verifies_the_downloaded_record(
    client: FlaskClient, drawn: ClosedDraw, tmp_path: Path
) -> None:
    record = _engine_record(client, drawn)
    path = tmp_path / "tirage.json"
    path.write_text(json.dumps(record), encoding="utf-8")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "agora.sortition",
            "verify",
            str(path),
            "--commitment",
            record["commitment_sha256"],
        ],
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert record["commitment_sha256"] in result.stdout


def _profile(record: dict[str, Any]) -> None:
    person = record["pool"]["people"][0]
    person[1][0] = "M" if person[1][0] == "F" else "F"


def _probability(record: dict[str, Any]) -> None:
    first = next(iter(record["probabilities"]))
    record["probabilities"][first] += 0.05


def _random_value(record: dict[str, Any]) -> None:
    record["reveal"]["random_value"] = "0" * 64


def _panel_member(record: dict[str, Any]) -> None:
    record["panel"][0], record["reserve"][0] = record["reserve"][0], record["panel"][0]


@pytest.mark.parametrize(
    "change",
    [_profile, _probability, _random_value, _panel_member],
    ids=["profile", "probability", "random value", "panel member"],
)
def test_a_changed_export_fails_verification(
    client: FlaskClient, drawn: ClosedDraw, change: Callable[[dict[str, Any]], None]
) -> None:
    record = _engine_record(client, drawn)
    changed = copy.deepcopy(record)
    change(changed)
    with pytest.raises(VerificationFailed):
        audit.verify(changed, commitment=record["commitment_sha256"])


def test_the_proces_verbal_reads_back_with_the_hashes(
    client: FlaskClient, drawn: ClosedDraw, app: Flask
) -> None:
    response = client.get(f"/draws/{drawn.draw_id}/proces-verbal.pdf", headers=POITIERS)
    assert response.status_code == 200
    assert response.mimetype == "application/pdf"
    reader = PdfReader(io.BytesIO(response.get_data()))
    text = " ".join((page.extract_text() or "") for page in reader.pages)
    flat = " ".join(text.split())
    draw = _stored(app, drawn)
    record = draw.record[str(drawn.sub_draw_id)]
    assert "Procès-verbal du tirage" in flat
    assert "Poitiers" in flat
    for value in (
        REGISTER_SHA256,
        draw.commitment_sha256,
        record["commitment_sha256"],
        record["reveal"]["random_value"],
    ):
        assert value in text.replace("\n", ""), value
    assert "tour drand 657413" in flat
    assert "Invité·es 30, atteint·es 24, intéressé·es 20, dans le vivier 18, au panel 4" in flat
    assert "Panel : 4 membres ; réserve : 14 personnes" in flat
    assert "Maître Anne Lefèvre" in flat
    assert "Signatures des témoins" in flat
    for personal in PERSONAL:
        assert personal not in flat


def test_the_funnel_and_representativeness_as_spreadsheets(
    client: FlaskClient, drawn: ClosedDraw
) -> None:
    funnel = client.get(f"/draws/{drawn.draw_id}/funnel.csv", headers=POITIERS)
    assert funnel.status_code == 200
    lines = funnel.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert lines[0] == "Source;Strate;Invité·es;Atteint·es;Intéressé·es;Dans le vivier;Au panel"
    assert ";Centre-ville;10;8;6;6;" in lines[1]
    assert len(lines) == 4
    shares = client.get(f"/draws/{drawn.draw_id}/representativeness.csv", headers=POITIERS)
    rows = shares.get_data(as_text=True).lstrip("\ufeff").splitlines()
    assert rows[1].startswith("Genre;Femmes;0.53;")
    assert len(rows) == 1 + 2 + 5 + 9


def test_a_lottery_committed_but_not_revealed_shows_its_commitment(
    client: FlaskClient, drawn: ClosedDraw, app: Flask
) -> None:
    with app.app_context(), tenant_scope(db.session, drawn.tenant_id):
        draw = db.session.get(Draw, (drawn.tenant_id, drawn.draw_id))
        assert draw is not None
        committed = {
            **draw.record[str(drawn.sub_draw_id)],
            "reveal": None,
            "panel": None,
            "reserve": None,
        }
        committed.pop("replacements")
        draw.record = {str(drawn.sub_draw_id): committed}
        draw.status = DrawStatus.LOTTERY_COMMITTED
        db.session.commit()
    text = page_text(client.get(f"/draws/{drawn.draw_id}/record", headers=POITIERS))
    assert committed["commitment_sha256"] in text
    assert "Valeur aléatoire révélée pas encore révélée" in text
    assert "Total 30 24 20 18 0" in text
    record = _engine_record(client, drawn)
    assert "probabilities" in audit.verify(record, commitment=record["commitment_sha256"])

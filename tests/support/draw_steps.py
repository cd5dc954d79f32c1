"""A draw of Poitiers taken through the browser's steps up to stage 1 revealed, for the tests
of what comes after (answers, visits, letters, stage 2)."""

from __future__ import annotations

import hashlib
import io
import tomllib
from pathlib import Path

import tomli_w
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agora.assembly import editions
from agora.assembly.models import Body
from agora.draws.models import SubDraw
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config
from support.fixtures import SignIn
from support.pages import page_text

POITIERS = {"Host": "poitiers.localhost"}
SEED = "pli scellé du comité"


def poitiers() -> Tenant:
    return db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()


def open_edition(app: Flask, year: int) -> dict[str, int]:
    """Poitiers' edition ``year``, opened with its commune's rules; its bodies' ids by key."""
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        version = current_config(db.session, poitiers())
        assert version is not None
        hooks = get_registry().view(TenantConfig(version.document))
        edition = editions.open_edition(
            db.session, poitiers(), year, f"Assemblée {year}", hooks.composition_rules(), "test"
        )
        db.session.flush()
        rows = db.session.execute(select(Body.key, Body.id).where(Body.edition_id == edition.id))
        ids = {str(key): int(body_id) for key, body_id in rows}
        db.session.commit()
        return ids


def prepare_poitiers(
    app: Flask,
    client: FlaskClient,
    onboarded: Path,
    sign_in: SignIn,
    tmp_path: Path,
    *,
    plugins: dict[str, dict[str, object]],
) -> int:
    """Poitiers with ``plugins`` enabled besides its own and its 2031 edition opened; signed
    in as the commune's administrator. The id of the edition's proposal group."""
    app.config["AGORA_UPLOAD_DIR"] = str(tmp_path / "uploads")
    path = onboarded / "poitiers.toml"
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    document["plugins"].update(plugins)
    path.write_text(tomli_w.dumps(document), encoding="utf-8")
    assert app.test_cli_runner().invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    body_id = open_edition(app, 2031)["proposal_group"]
    sign_in(
        client, "poitiers.localhost", "admin@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    return body_id


def reveal_a_draw(
    app: Flask,
    client: FlaskClient,
    onboarded: Path,
    sign_in: SignIn,
    tmp_path: Path,
    *,
    source: str,
    register: bytes,
    seats: int,
    invitations: int,
) -> int:
    """Poitiers' proposal group drawn from ``source`` (``register``'s rows), ``invitations``
    drawn by a sealed seed and revealed; signed in as the commune's administrator. The
    draw's id."""
    body_id = prepare_poitiers(
        app, client, onboarded, sign_in, tmp_path, plugins={"draw_electoral_roll": {}}
    )

    def post(path: str, **data: str) -> int:
        response = client.post(path, headers=POITIERS, data=data)
        assert response.status_code == 302, page_text(response)
        return int(response.status_code)

    created = client.post(
        "/admin/draws/new",
        headers=POITIERS,
        data={
            "title": "Groupe de proposition 2031",
            "body": str(body_id),
            f"seats_{source}": str(seats),
            "algorithm": "leximin",
            "minimum_age": "16",
            "witnesses": "Le comité de méthodologie",
        },
    )
    assert created.status_code == 302, page_text(created)
    draw_id = int(created.headers["Location"].rsplit("/", 1)[1])
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        part = db.session.execute(select(SubDraw.id).where(SubDraw.draw_id == draw_id)).scalar_one()
    uploaded = client.post(
        f"/admin/draws/{draw_id}/registers",
        headers=POITIERS,
        data={"sub_draw": str(part), "register": (io.BytesIO(register), "registre.csv")},
        content_type="multipart/form-data",
    )
    assert uploaded.status_code == 302
    post(f"/admin/draws/{draw_id}/publish", confirmed="yes")
    post(
        f"/admin/draws/{draw_id}/commit",
        invitations=str(invitations),
        spread="stratified",
        randomness="seed",
        seed_sha256=hashlib.sha256(SEED.encode()).hexdigest(),
        confirmed="yes",
    )
    post(f"/admin/draws/{draw_id}/stage1", seed=SEED, confirmed="yes")
    post(f"/admin/draws/{draw_id}/reveal", confirmed="yes")
    return draw_id

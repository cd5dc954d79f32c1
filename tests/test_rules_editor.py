"""The commune's rules in the browser: Poitiers' administrator raises the proposal group's
opposition minimum from 2 to 3 and sets the action plan's threshold to 3/5, sees what changes,
publishes; the internal rules in force then say they need a revision, and the new rules wait
for it before an edition takes them. Bad input: a French message next to the field, the
values kept, nothing written."""

from __future__ import annotations

import copy
import tomllib
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.datastructures import MultiDict

from agora.assembly import charter, editions
from agora.assembly.models import CharterStatus
from agora.audit.models import AuditEvent
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant, TenantConfigVersion
from agora.tenancy.services import current_config, newest_config
from support.charters import adopt_charter
from support.fixtures import SignIn
from support.pages import page_text
from test_forms import read_forms

POITIERS = {"Host": "poitiers.localhost", "Accept-Language": "fr"}
OPPOSITION_MIN = "plugins.composition_seats.bodies[1].constraints[0].min"
PLAN_THRESHOLD = "plugins.decision_rules.rules.action_plan.threshold"
SHARE = "plugins.quotas_census.criteria[0].values[0].share"
BODY_NAME = "plugins.composition_seats.bodies[1].name"


def _admin(client: FlaskClient, sign_in: SignIn) -> int:
    return sign_in(client, "poitiers.localhost", "mairie@poitiers.example", role="commune_admin",
            commune="poitiers")  # fmt: skip


def _form_data(client: FlaskClient) -> MultiDict[str, str]:
    """The rules form as the page shows it, ready to post."""
    page = client.get("/admin/rules", headers=POITIERS)
    assert page.status_code == 200, page.status_code
    form = next(
        f for f in read_forms(page.get_data(as_text=True)).forms if f.action == "/admin/rules"
    )
    data: MultiDict[str, str] = MultiDict()
    for control in form.controls:
        if not control.name:
            continue
        if control.kind == "select":
            data.add(control.name, control.starting_option() or "")
        elif control.kind == "checkbox":
            if control.checked:
                data.add(control.name, control.value)
        else:
            data.add(control.name, control.value.strip())
    return data


def _versions(app: Flask) -> int:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            return int(
                db.session.scalar(
                    select(func.count()).where(TenantConfigVersion.tenant_id == tenant.id)
                )
                or 0
            )


def test_the_administrator_changes_two_rules_sees_the_diff_and_publishes(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    adopt_charter(app)
    admin = _admin(client, sign_in)
    before = _versions(app)
    data = _form_data(client)
    assert data[OPPOSITION_MIN] == "2" and data[PLAN_THRESHOLD] == "2/3"
    data[OPPOSITION_MIN] = "3"
    data[PLAN_THRESHOLD] = "3/5"
    data["action"] = "preview"

    shown = client.post("/admin/rules", data=data, headers=POITIERS)
    assert shown.status_code == 200
    text = page_text(shown)
    # Field by field, in words, and the public page's sentences before and after.
    assert "Groupe de proposition" in text and "Au moins" in text
    assert "2/3" in text and "3/5" in text
    assert "Ajouté : Bodies" not in text  # no code, no English
    assert "trois cinquièmes" in text and "deux tiers" in text
    assert "au moins 3 élu·es de l'opposition" in text.lower() or "Au moins 3" in text
    # The internal rules in force say otherwise: publishing says it waits for their revision.
    assert "règlement intérieur" in text.lower()
    assert _versions(app) == before  # a preview writes nothing

    preview = read_forms(shown.get_data(as_text=True)).forms
    publish = next(f for f in preview if f.action == "/admin/rules/publish")
    posted = {c.name: c.value for c in publish.controls if c.name}
    done = client.post("/admin/rules/publish", data=posted, headers=POITIERS)
    assert done.status_code == 302, page_text(done)[:2000]
    assert _versions(app) == before + 1
    banner = page_text(client.get(done.headers["Location"], headers=POITIERS))
    assert f"La version {before + 1} des règles est publiée" in banner

    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            newest, in_force = newest_config(db.session, tenant), current_config(db.session, tenant)
            assert newest is not None and in_force is not None
            assert newest.version == before + 1 and newest.awaiting_charter
            assert in_force.version == before  # not in force before the charter's revision
            document = newest.document
            body = document["plugins"]["composition_seats"]["bodies"][1]
            assert body["constraints"] == [{"origin": "elected_opposition", "min": 3}]
            rule = document["plugins"]["decision_rules"]["rules"]["action_plan"]
            assert rule["threshold"] == "3/5"
            # Nothing else moved: the commune's record, the other plugins.
            previous = db.session.get(TenantConfigVersion, (tenant.id, before))
            assert previous is not None
            old = previous.document
            assert {k: v for k, v in document.items() if k != "plugins"} == {
                k: v for k, v in old.items() if k != "plugins"
            }
            # Every setting the administrator did not touch is as it was, to the last key.
            expected = copy.deepcopy(old["plugins"])
            expected["composition_seats"]["bodies"][1]["constraints"][0]["min"] = 3
            expected["decision_rules"]["rules"]["action_plan"]["threshold"] = "3/5"
            assert document["plugins"] == expected
            actions = db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id)
            ).all()
            assert "config.version_created" in actions and "config.awaiting_charter" in actions
            actor = db.session.scalar(
                select(AuditEvent.actor)
                .where(AuditEvent.action == "config.version_created")
                .order_by(AuditEvent.seq.desc())
            )
            assert actor == f"account:{admin}"  # the publish is the administrator's
            # An edition opened now keeps the rules in force.
            edition = editions.open_edition(db.session, tenant, 2031, "Édition 2031", [], "test")
            assert edition.config_version == before
            db.session.rollback()

    # The charter and the rules pages say the internal rules need a revision.
    anyone = app.test_client()
    charter_page = page_text(anyone.get("/charter", headers=POITIERS))
    assert "ont besoin d'une révision" in charter_page or "a besoin d'une révision" in charter_page
    rules_page = page_text(anyone.get("/rules", headers=POITIERS))
    assert "en attente de la révision du règlement intérieur" in rules_page

    # The revision: drafted from the new rules, validated, adopted; the rules take effect.
    assert client.post("/admin/charter", headers=POITIERS).status_code == 302
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            draft = charter.versions(db.session, tenant)[0]
            assert draft.status == CharterStatus.DRAFT and draft.config_version == before + 1
            assert any("dont au moins 3" in clause["text"] for clause in draft.clauses)
            charter.advance(db.session, tenant, draft, "test")
            charter.advance(db.session, tenant, draft, "test", "DEL-2026-42")
            db.session.commit()
            in_force = current_config(db.session, tenant)
            assert in_force is not None and in_force.version == before + 1
            edition = editions.open_edition(db.session, tenant, 2031, "Édition 2031", [], "test")
            assert edition.config_version == before + 1
            db.session.rollback()


def test_without_internal_rules_adopted_the_change_is_in_force_at_once(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    _admin(client, sign_in)
    before = _versions(app)
    data = _form_data(client)
    data[PLAN_THRESHOLD] = "3/5"
    preview = client.post("/admin/rules", data=data, headers=POITIERS)
    assert preview.status_code == 200
    posted = {
        c.name: c.value
        for f in read_forms(preview.get_data(as_text=True)).forms
        if f.action == "/admin/rules/publish"
        for c in f.controls
        if c.name
    }
    done = client.post("/admin/rules/publish", data=posted, headers=POITIERS)
    assert done.status_code == 302
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        in_force = current_config(db.session, tenant)
        assert in_force is not None and in_force.version == before + 1
    # The same proposal again: the rules changed meanwhile (409), nothing written.
    again = client.post("/admin/rules/publish", data=posted, headers=POITIERS)
    assert again.status_code == 409
    assert "modifiées par quelqu'un d'autre" in page_text(again)
    assert _versions(app) == before + 1


BAD_INPUT: list[tuple[str, str, str]] = [
    (OPPOSITION_MIN, "", "Ce champ est obligatoire."),
    (OPPOSITION_MIN, "trois", "Saisissez un nombre entier, en chiffres."),
    (OPPOSITION_MIN, "-1", "Saisissez un nombre d'au moins 0."),
    (OPPOSITION_MIN, "7", "mais cette instance n'a que 6 sièges"),
    (PLAN_THRESHOLD, "3 sur 5", "Saisissez une fraction comme 2/3"),
    (PLAN_THRESHOLD, "5/3", "Une part ne peut dépasser le tout"),
    (SHARE, "0,9", "Les parts font 1,37 au total, et non 1"),
    (SHARE, "beaucoup", "Saisissez un nombre, en chiffres"),
    (BODY_NAME, "Groupe\x00", "Ce texte contient un caractère non autorisé."),
    ("plugins.composition_seats.bodies[1].key", "plenary", "Une autre instance a déjà cet"),
    ("plugins.composition_seats.bodies[1].kind", "inconnu", "Choisissez l'une des options"),
    ("plugins.interpellation_rights.levels[1].signatures", "40", "que le palier précédent"),
]


def test_bad_input_is_refused_next_to_its_field_values_kept_nothing_written(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    _admin(client, sign_in)
    before = _versions(app)
    failures = []
    for name, value, message in BAD_INPUT:
        data = _form_data(client)
        data[name] = value
        data[PLAN_THRESHOLD] = "3/5" if name != PLAN_THRESHOLD else value
        answer = client.post("/admin/rules", data=data, headers=POITIERS)
        if answer.status_code != 422:
            failures.append(f"{name}={value!r}: answered {answer.status_code}")
            continue
        page = read_forms(answer.get_data(as_text=True))
        form = next(f for f in page.forms if f.action == "/admin/rules")
        fields = form.named(name)
        if not fields or not fields[0].in_error_group:
            failures.append(f"{name}={value!r}: no error next to the field")
        if not any(message in text for text in page.summary):
            failures.append(f"{name}={value!r}: {message!r} not in {page.summary}")
        # The values typed are shown again: this one, and the other change.
        shown = (
            fields[0].starting_option()
            if fields and fields[0].kind == "select"
            else (fields[0].value if fields else None)
        )
        expected = value.replace("\x00", "\ufffd") if "\x00" in value else value
        if fields and fields[0].kind != "select" and shown not in (value, expected):
            failures.append(f"{name}={value!r}: shown {shown!r}")
        if name != PLAN_THRESHOLD and form.named(PLAN_THRESHOLD)[0].value != "3/5":
            failures.append(f"{name}={value!r}: the threshold typed was lost")
    assert not failures, "\n".join(failures)
    assert _versions(app) == before


def test_rows_are_added_and_removed_without_javascript(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    _admin(client, sign_in)
    data = _form_data(client)
    data[PLAN_THRESHOLD] = "3/5"
    data["action"] = "add:plugins.composition_seats.bodies[1].constraints"
    added = client.post("/admin/rules", data=data, headers=POITIERS)
    assert added.status_code == 200
    form = next(
        f for f in read_forms(added.get_data(as_text=True)).forms if f.action == "/admin/rules"
    )
    assert form.named("plugins.composition_seats.bodies[1].constraints[1].min")
    assert form.named(PLAN_THRESHOLD)[0].value == "3/5"  # what was typed stays

    data["action"] = "remove:plugins.interpellation_rights.levels[2]"
    removed = client.post("/admin/rules", data=data, headers=POITIERS)
    assert removed.status_code == 200
    form = next(
        f for f in read_forms(removed.get_data(as_text=True)).forms if f.action == "/admin/rules"
    )
    assert not form.named("plugins.interpellation_rights.levels[2].key")
    assert form.named("plugins.interpellation_rights.levels[1].key")


def test_only_the_communes_administrator_changes_its_rules(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    # Grenoble's administrator on Poitiers' site: refused, nothing shown.
    sign_in(client, "poitiers.localhost", "mairie@grenoble.example", role="commune_admin",
            commune="grenoble")  # fmt: skip
    assert client.get("/admin/rules", headers=POITIERS).status_code in (403, 404)
    resident = app.test_client()
    sign_in(resident, "poitiers.localhost", "camille@example.fr", role="resident",
            commune="poitiers")  # fmt: skip
    assert resident.get("/admin/rules", headers=POITIERS).status_code in (403, 404)
    data: dict[str, Any] = {"base": "1", "proposal": "{}"}
    assert resident.post("/admin/rules/publish", data=data, headers=POITIERS).status_code in (
        403,
        404,
    )


def _poitiers_plugins() -> dict[str, Any]:
    root = Path(__file__).resolve().parents[1]
    return dict(tomllib.loads((root / "tenants" / "poitiers.toml").read_text())["plugins"])


#: Each check a plugin makes beyond its schema: how to break it, and what the French says.
PLUGIN_CHECKS: list[tuple[str, str, Any, str]] = [
    ("composition_seats", "bodies[1].constraints[0].min", 7, "n'a que 6 sièges"),
    ("composition_seats", "bodies[1].constraints[0].max", 1, "Le maximum est inférieur"),
    ("composition_seats", "bodies[2].key", "plenary", "Une autre instance a déjà"),
    ("quotas_census", "criteria[0].values[0].share", 0.9, "Les parts font 1,37 au total"),
    ("quotas_census", "criteria[0].values[1].value", "F", "Une autre valeur de ce critère"),
    ("decision_rules", "rules.action_plan.threshold", "5/3", "Une part ne peut dépasser"),
    ("interpellation_rights", "levels[1].key", "rencontre", "Un autre palier a cet"),
    ("interpellation_rights", "levels[1].signatures", 10, "que le palier précédent (50)"),
    ("interpellation_rights", "levels[2].effect", "meeting", "engage la commune à moins"),
]


def test_every_plugin_check_is_said_in_french(app: Flask) -> None:
    from flask_babel import force_locale

    from agora.onboarding.rules_editor import plugin_message
    from agora.onboarding.rules_form import split_path

    registry = get_registry()
    failures = []
    with app.test_request_context(), force_locale("fr"):
        for plugin, path, value, expected in PLUGIN_CHECKS:
            settings = copy.deepcopy(_poitiers_plugins()[plugin])
            here: Any = settings
            parts = split_path(path)
            for part in parts[:-1]:
                here = here[part]
            here[parts[-1]] = value
            found = registry.check_settings(plugin, settings)
            said = [plugin_message(plugin, p, m, settings) for p, m in found]
            if not any(p == path or path.startswith(p) for p, _m in found):
                failures.append(f"{plugin}.{path}: the plugin found {found}")
            elif not any(expected in text for text in said):
                failures.append(f"{plugin}.{path}: {expected!r} not in {said}")
    assert not failures, "\n".join(failures)


def test_a_file_applied_cannot_bypass_the_adopted_charter(
    app: Flask, onboarded: Path, runner: Any
) -> None:
    adopt_charter(app)
    before = _versions(app)
    path = onboarded / "poitiers.toml"
    text = path.read_text(encoding="utf-8")
    assert 'threshold = "2/3"' in text
    path.write_text(text.replace('threshold = "2/3"', 'threshold = "3/5"', 1), "utf-8")
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 0, result.output
    assert "awaits the revision of the internal rules" in result.output
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            newest, in_force = newest_config(db.session, tenant), current_config(db.session, tenant)
            assert newest is not None and in_force is not None
            assert newest.version == before + 1 and newest.awaiting_charter
            assert in_force.version == before
    # Applied again, the same file is the newest version already: nothing more is stored.
    again = runner.invoke(args=["tenants", "apply", str(path)])
    assert again.output.strip() == "poitiers: up to date" and _versions(app) == before + 1


PROVISION = "plugins.charter_open_assembly.additions.decisions"


def test_a_provision_added_to_a_clause_rewrites_the_internal_rules(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    adopt_charter(app)
    _admin(client, sign_in)
    before = _versions(app)
    data = _form_data(client)
    assert PROVISION in data and data[PROVISION] == ""

    # Braces could be read as a template by the charter: refused in French, kept as typed.
    data[PROVISION] = "Vote à {{ majorité }}"
    data["action"] = "preview"
    refused = client.post("/admin/rules", data=data, headers=POITIERS)
    assert refused.status_code == 422
    assert "Écrivez la disposition sans accolades." in page_text(refused)
    assert "Vote à {{ majorité }}" in refused.get_data(as_text=True).replace("&#123;", "{")
    assert _versions(app) == before

    provision = (
        "Les votes ont lieu à main levée, sauf si dix personnes demandent le scrutin secret."
    )
    data[PROVISION] = provision
    shown = client.post("/admin/rules", data=data, headers=POITIERS)
    assert shown.status_code == 200 and provision in page_text(shown)
    publish = next(
        f for f in read_forms(shown.get_data(as_text=True)).forms
        if f.action == "/admin/rules/publish"
    )  # fmt: skip
    done = client.post(
        "/admin/rules/publish",
        data={c.name: c.value for c in publish.controls if c.name},
        headers=POITIERS,
    )
    assert done.status_code == 302
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            newest = newest_config(db.session, tenant)
            assert newest is not None and newest.awaiting_charter  # it rewrites a clause
            hooks = get_registry().view(TenantConfig(newest.document))
            draft = charter.draft(db.session, tenant, hooks, "test")
            decisions = next(c for c in draft.clauses if c["key"] == "decisions")
            assert decisions["text"].endswith(provision)
            db.session.rollback()
    # The version's public page says it in words.
    assert provision in page_text(client.get(f"/rules/versions/{before + 1}", headers=POITIERS))

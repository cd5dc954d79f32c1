"""Communes as code: ``flask tenants apply|export`` and the validation of tenants/*.toml."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from agora.audit.models import AuditEvent
from agora.extensions import db
from agora.plugins import hookimpl
from agora.plugins.manager import PluginRegistry, get_registry
from agora.tenancy.config import TenantConfig, TenantConfigError, load_file, validate_document
from agora.tenancy.models import Tenant, TenantConfigVersion, TenantDomain
from support.fixtures import SignIn
from support.pages import page_text
from support.statements import statements
from support.voters import open_voting

pytestmark = pytest.mark.embedded  # see tests/conftest.py


def _edit(path: Path, change: Any) -> None:
    document = tomllib.loads(path.read_text(encoding="utf-8"))
    change(document)
    path.write_text(tomli_w.dumps(document), encoding="utf-8")


def _snapshot(app: Flask) -> tuple[int, int, int, int]:
    with app.app_context():
        return (
            db.session.scalar(select(func.count()).select_from(Tenant)) or 0,
            db.session.scalar(select(func.count()).select_from(TenantDomain)) or 0,
            db.session.scalar(select(func.sum(Tenant.config_version))) or 0,
            db.session.scalar(select(func.sum(Tenant.audit_head_seq))) or 0,
        )


def test_demo_communes_are_valid() -> None:
    root = Path(__file__).resolve().parents[2] / "tenants"
    configs = {path.stem: load_file(path, get_registry()) for path in root.glob("*.toml")}
    assert {"poitiers", "grenoble"} <= set(configs)
    hooks = get_registry().view(configs["poitiers"])
    proposal_group = next(b for b in hooks.composition_rules() if b.key == "proposal_group")
    assert proposal_group.seat_count == 30
    assert [(c.origin, c.minimum) for c in proposal_group.constraints] == [
        ("elected_opposition", 2)
    ]
    # Poitiers draws from its address file (door to door) and from its volunteers' list.
    assert list(hooks.draw_sources()) == ["address_file", "volunteers"]
    assert hooks.draw_source("address_file").channel == "door_to_door"
    panel = get_registry().view(configs["grenoble"])
    assert len(panel.quota_criteria()) == 6
    assert str(panel.decision_rule("action_plan").threshold) == "2/3"


def test_apply_onboards_then_is_idempotent(app: Flask, runner: Any, tenant_files: Path) -> None:
    first = runner.invoke(args=["tenants", "apply", str(tenant_files)])
    assert first.exit_code == 0, first.output
    assert "poitiers: new commune" in first.output
    after_first = _snapshot(app)
    assert after_first[0] == 3  # the three demonstration communes

    second = runner.invoke(args=["tenants", "apply", str(tenant_files)])
    assert second.exit_code == 0, second.output
    assert "poitiers: up to date" in second.output
    assert _snapshot(app) == after_first


def test_a_change_creates_a_new_configuration_version(
    app: Flask, runner: Any, onboarded: Path
) -> None:
    path = onboarded / "poitiers.toml"
    _edit(path, lambda d: d["assembly"].update(working_days=5))
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 0, result.output
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        assert tenant.config_version == 2
        from agora.tenancy.isolation import tenant_scope

        with tenant_scope(db.session, tenant.id):
            versions = db.session.scalars(
                select(TenantConfigVersion.version).where(
                    TenantConfigVersion.tenant_id == tenant.id
                )
            ).all()
            actions = db.session.scalars(
                select(AuditEvent.action).where(AuditEvent.tenant_id == tenant.id)
            ).all()
    assert sorted(versions) == [1, 2]
    assert actions.count("config.version_created") == 2


def test_dry_run_prints_the_diff_and_writes_nothing(
    app: Flask, runner: Any, onboarded: Path
) -> None:
    path = onboarded / "poitiers.toml"
    _edit(path, lambda d: d["commune"].update(population=90000))
    before = _snapshot(app)
    result = runner.invoke(args=["tenants", "apply", "--dry-run", str(path)])
    assert result.exit_code == 0, result.output
    assert "population: '89472' -> '90000'" in result.output
    assert "-population = 89472" in result.output and "+population = 90000" in result.output
    assert _snapshot(app) == before


def test_export_writes_back_the_same_configuration(
    runner: Any, onboarded: Path, tmp_path: Path
) -> None:
    out = tmp_path / "poitiers.toml"
    result = runner.invoke(args=["tenants", "export", "poitiers", "-o", str(out)])
    assert result.exit_code == 0, result.output
    assert tomllib.loads(out.read_text(encoding="utf-8")) == tomllib.loads(
        (onboarded / "poitiers.toml").read_text(encoding="utf-8")
    )
    again = runner.invoke(args=["tenants", "apply", str(out)])
    assert "poitiers: up to date" in again.output


def _unknown_plugin(d: dict[str, Any]) -> None:
    d["plugins"]["door_to_door_pigeons"] = {}


def _missing_seat_count(d: dict[str, Any]) -> None:
    del d["plugins"]["composition_seats"]["bodies"][1]["seats"][0]["count"]


def _negative_quota(d: dict[str, Any]) -> None:
    d["plugins"]["quotas_census"]["criteria"][0]["values"][0]["share"] = -0.2


def _wrong_type(d: dict[str, Any]) -> None:
    d["commune"]["population"] = "beaucoup"


def _impossible_constraint(d: dict[str, Any]) -> None:
    d["plugins"]["composition_seats"]["bodies"][1]["constraints"][0]["min"] = 7


def _two_charters(d: dict[str, Any]) -> None:
    d["plugins"]["charter_citizens_panel"] = {}


def _reserved_slug(d: dict[str, Any]) -> None:
    d["commune"]["slug"] = "auth"


def _qualified_without_threshold(d: dict[str, Any]) -> None:
    del d["plugins"]["decision_rules"]["rules"]["action_plan"]["threshold"]


def _effects_falling(d: dict[str, Any]) -> None:
    levels = d["plugins"]["interpellation_rights"]["levels"]
    levels[1]["effect"], levels[2]["effect"] = "referendum", "council_agenda"


def _seats_beyond_a_maximum(d: dict[str, Any]) -> None:
    d["plugins"]["composition_seats"]["bodies"][1]["constraints"].append(
        {"origin": "drawn", "min": 0, "max": 5}
    )


def _quorum_beyond_the_whole(d: dict[str, Any]) -> None:
    d["plugins"]["decision_rules"]["rules"]["action_plan"]["quorum"] = {
        "min_share_of_members": "3/2"
    }


INVALID = [
    (_unknown_plugin, r"plugins\.door_to_door_pigeons: unknown plugin 'door_to_door_pigeons'"),
    (
        _missing_seat_count,
        r"plugins\.composition_seats\.bodies\[1\]\.seats\[0\]: 'count' is a required property",
    ),
    (
        _negative_quota,
        r"plugins\.quotas_census\.criteria\[0\]\.values\[0\]\.share: "
        r"-0\.2 is less than the minimum of 0",
    ),
    (_wrong_type, r"commune\.population: 'beaucoup' is not of type 'integer'"),
    (
        _impossible_constraint,
        r"plugins\.composition_seats\.bodies\[1\]\.constraints\[0\]\.min: "
        r"at least 7 elected_opposition required but the body 'proposal_group' has only 6 seat",
    ),
    (
        _two_charters,
        r"plugins: agora_charter_template: charter_citizens_panel and charter_open_assembly "
        r"all provide it; enable only one",
    ),
    (_reserved_slug, r"commune\.slug: 'auth' is reserved"),
    (
        _seats_beyond_a_maximum,
        r"plugins\.composition_seats\.bodies\[1\]\.constraints\[1\]\.max: at most 5 drawn "
        r"allowed but the body 'proposal_group' has 20 seat\(s\) only they can take",
    ),
    (
        _quorum_beyond_the_whole,
        r"plugins\.decision_rules\.rules\.action_plan\.quorum\.min_share_of_members: "
        r"3/2 is more than the whole",
    ),
    (
        _qualified_without_threshold,
        r"plugins\.decision_rules\.rules\.action_plan: 'threshold' is a required property",
    ),
    (
        _effects_falling,
        r"plugins\.interpellation_rights\.levels\[2\]\.effect: level 'referendum' obliges to "
        r"'council_agenda', less than the earlier level 'conseil' \('referendum'\): effects "
        r"rise with the levels, meeting → council_agenda → referendum",
    ),
]


@pytest.mark.parametrize("change,message", INVALID, ids=[c.__name__.strip("_") for c, _ in INVALID])
def test_invalid_file_is_refused_with_a_precise_message_and_nothing_changes(
    app: Flask, runner: Any, onboarded: Path, change: Any, message: str
) -> None:
    path = onboarded / "poitiers.toml"
    _edit(path, lambda d: d["commune"].update(population=1))  # a valid change riding along
    _edit(path, change)
    before = _snapshot(app)
    result = runner.invoke(args=["tenants", "apply", str(onboarded)])
    assert result.exit_code == 1
    assert "configuration refused, nothing written" in result.output
    assert re.search(re.escape(str(path)) + ": " + message, result.output), result.output
    assert "Traceback" not in result.output
    assert _snapshot(app) == before


def test_two_files_with_one_slug_are_refused_and_nothing_changes(
    app: Flask, runner: Any, onboarded: Path
) -> None:
    copy = onboarded / "poitiers-copie.toml"
    copy.write_text((onboarded / "poitiers.toml").read_text(encoding="utf-8"), encoding="utf-8")
    _edit(copy, lambda d: d["commune"].update(population=1))
    before = _snapshot(app)
    result = runner.invoke(args=["tenants", "apply", str(onboarded)])
    assert result.exit_code == 1
    assert re.search(
        re.escape(str(onboarded / "poitiers.toml"))
        + r": commune\.slug: 'poitiers' is also the slug of .*poitiers-copie\.toml",
        result.output,
    ), result.output
    assert _snapshot(app) == before


def test_a_file_saved_with_a_byte_order_mark_is_read(runner: Any, onboarded: Path) -> None:
    path = onboarded / "grenoble.toml"
    path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 0, result.output
    assert "grenoble: up to date" in result.output


def test_a_file_that_is_not_utf8_names_its_line(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "latin.toml"
    path.write_bytes('[commune]\nslug = "x"\nname = "Châtellerault"\n'.encode("latin-1"))
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 1
    assert "latin.toml: (file): line 3: not UTF-8 text (save the file as UTF-8)" in result.output


def test_malformed_toml_names_the_line(runner: Any, tmp_path: Path) -> None:
    path = tmp_path / "broken.toml"
    path.write_text('[commune]\nslug = "x\n', encoding="utf-8")
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 1
    assert re.search(r"broken\.toml: \(file\): invalid TOML: .*line 2", result.output), (
        result.output
    )


def test_forbidden_status_change_is_refused(app: Flask, runner: Any, onboarded: Path) -> None:
    path = onboarded / "poitiers.toml"
    _edit(path, lambda d: d["commune"].update(status="archived"))
    assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    _edit(path, lambda d: d["commune"].update(status="active"))
    before = _snapshot(app)
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 1
    assert "commune.status: a commune cannot go from archived to active" in result.output
    assert _snapshot(app) == before


def test_a_commune_change_reaches_its_pages_at_once_although_its_host_is_cached(
    client: FlaskClient, runner: Any, onboarded: Path
) -> None:
    path, host = onboarded / "poitiers.toml", {"Host": "poitiers.localhost"}
    for _ in range(2):  # the second request is served from the host cache
        assert client.get("/", headers=host).status_code == 200
    _edit(path, lambda d: d["commune"].update(name="Ville de Poitiers (Vienne)"))
    assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    assert "Ville de Poitiers (Vienne)" in client.get("/", headers=host).get_data(as_text=True)
    _edit(path, lambda d: d["commune"].update(status="archived"))
    assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    assert client.get("/", headers=host).status_code == 404


def test_the_rules_in_force_are_read_once_and_new_rules_show_at_once(
    app: Flask, client: FlaskClient, runner: Any, onboarded: Path
) -> None:
    """Every page's menu reads the commune's rules in force and whether it has an edition:
    kept in the process with its host, so a page read again asks the database neither; new
    rules published in this process show on the next page (other processes: within
    ``AGORA_TENANT_CACHE_SECONDS``, as for the host)."""
    path, host = onboarded / "poitiers.toml", {"Host": "poitiers.localhost"}
    assert client.get("/", headers=host).status_code == 200
    with statements(app) as sent:
        page = client.get("/", headers=host).get_data(as_text=True)
    assert "Assemblée Citoyenne et Populaire" in page
    assert not [sql for sql in sent if "tenant_config_version" in sql], sent
    _edit(path, lambda d: d["assembly"].update(name="Assemblée citoyenne de Poitiers"))
    assert runner.invoke(args=["tenants", "apply", str(path)]).exit_code == 0
    assert "Assemblée citoyenne de Poitiers" in client.get("/", headers=host).get_data(as_text=True)


def test_an_editions_rules_are_read_once_per_process(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    """A ballot's page shows the quorum and majority of the rules its edition started with;
    a version never changes, so a process parses it once (staff reload it at every close)."""
    host = {"Host": "poitiers.localhost"}
    ballot = f"/ballots/{open_voting(app, voters=1, ballots=1).ballot_ids[0]}"
    sign_in(client, host["Host"], "anim@example.org", role="facilitator", commune="poitiers")
    closed = client.post(f"/admin{ballot}/close", data={"confirmed": "yes"}, headers=host)
    assert closed.status_code == 302
    assert "Le scrutin est clos" in page_text(client.get(ballot, headers=host))  # the banner
    first = page_text(client.get(ballot, headers=host))
    with statements(app) as sent:
        again = page_text(client.get(ballot, headers=host))
    assert "Quorum" in again and again == first
    assert not [sql for sql in sent if "tenant_config_version" in sql], sent


def test_a_domain_cannot_belong_to_two_communes(app: Flask, runner: Any, onboarded: Path) -> None:
    path = onboarded / "grenoble.toml"
    _edit(path, lambda d: d["commune"].update(domains=["participer.poitiers.fr"]))
    before = _snapshot(app)
    result = runner.invoke(args=["tenants", "apply", str(path)])
    assert result.exit_code == 1
    assert "commune.domains: participer.poitiers.fr already belongs to 'poitiers'" in result.output
    assert _snapshot(app) == before


def test_validation_error_lists_every_fault() -> None:
    root = Path(__file__).resolve().parents[2] / "tenants"
    document = tomllib.loads((root / "poitiers.toml").read_text(encoding="utf-8"))
    _unknown_plugin(document)
    _negative_quota(document)
    from agora.tenancy.config import validate_document

    with pytest.raises(TenantConfigError) as caught:
        validate_document(document, get_registry(), "poitiers.toml")
    assert len(caught.value.errors) == 2


class _OtherInterpellationRules:
    """A second plugin answering the optional interpellation hook."""

    @hookimpl
    def agora_interpellation_rules(self, tenant: TenantConfig) -> None:
        return None


def test_two_plugins_answering_an_optional_hook_are_refused() -> None:
    root = Path(__file__).resolve().parents[2] / "tenants"
    registry = PluginRegistry.build(extra=[("town_petitions", _OtherInterpellationRules())])
    document = tomllib.loads((root / "poitiers.toml").read_text(encoding="utf-8"))
    validate_document(document, registry, "poitiers.toml")  # one provider: fine
    document["plugins"]["town_petitions"] = {}
    with pytest.raises(TenantConfigError) as caught:
        validate_document(document, registry, "poitiers.toml")
    assert [error.format("poitiers.toml") for error in caught.value.errors] == [
        "poitiers.toml: plugins: agora_interpellation_rules: interpellation_rights and "
        "town_petitions all provide it; enable only one"
    ]
    del document["plugins"]["interpellation_rights"], document["plugins"]["town_petitions"]
    validate_document(document, registry, "poitiers.toml")  # none: the commune has no petitions


def test_a_process_keeps_a_bounded_number_of_communes() -> None:
    """A process serving thousands of communes keeps at most ``MAX_CONFIGS`` parsed rules in
    force, as many versions kept by editions, and ``MAX_HOSTS`` hosts: the oldest kept go
    first, the newest stay."""
    from agora.tenancy.hostcache import MAX_CONFIGS, MAX_HOSTS, HostCache

    cache = HostCache(60)
    rules = [TenantConfig({"commune": {"slug": f"c{n}"}}) for n in range(MAX_CONFIGS + 10)]
    for number, config in enumerate(rules):
        cache.put_config(number, 1, config)
    assert cache.config(0, 1) is None and cache.config(9, 1) is None
    assert cache.config(10, 1) is rules[10]
    assert cache.config(MAX_CONFIGS + 9, 1) is rules[-1]
    assert sum(cache.config(n, 1) is not None for n in range(len(rules))) == MAX_CONFIGS
    # The same bound on the versions its editions keep.
    for number, config in enumerate(rules):
        cache.put_version(number, 3, config)
    assert cache.version(9, 3) is None and cache.version(10, 3) is rules[10]
    assert sum(cache.version(n, 3) is not None for n in range(len(rules))) == MAX_CONFIGS
    # Hosts, and communes seen with an edition, have a bound of their own.
    hosts = [f"c{n}.localhost" for n in range(MAX_HOSTS + 10)]
    for number, host in enumerate(hosts):
        cache.put(host, Tenant(id=number + 1, slug=f"c{number}"))
        cache.put_edition(number)
    assert cache.get(hosts[9]) is None and not cache.has_edition(9)
    kept = cache.get(hosts[10])
    assert kept is not None and kept.slug == "c10" and cache.has_edition(10)
    assert sum(cache.get(host) is not None for host in hosts) == MAX_HOSTS
    assert sum(cache.has_edition(n) for n in range(len(hosts))) == MAX_HOSTS

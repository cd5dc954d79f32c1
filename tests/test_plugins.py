"""Plugin contracts: documented hookspecs, per-commune views, frozen registration."""

from __future__ import annotations

import inspect
import re
from pathlib import Path
from typing import Any

import pytest

from agora.plugins import hookimpl, hookspecs
from agora.plugins.contracts import QuotaCriterion
from agora.plugins.manager import PluginRegistrationClosed, PluginRegistry, get_registry
from agora.tenancy.config import TenantConfig, validate_document

ROOT = Path(__file__).resolve().parents[1]
HOOKS = [
    (name, function)
    for name, function in inspect.getmembers(hookspecs, inspect.isfunction)
    if name.startswith("agora_")
]


@pytest.mark.parametrize("name,function", HOOKS, ids=[name for name, _ in HOOKS])
def test_every_hookspec_is_documented(name: str, function: Any) -> None:
    doc = inspect.getdoc(function)
    assert doc, f"{name} has no docstring"
    assert len(doc.splitlines()[0]) > 20, f"{name} has no summary line"
    for argument in inspect.signature(function).parameters:
        assert f":param {argument}:" in doc, f"{name} does not document {argument!r}"
    assert ":returns:" in doc, f"{name} does not say what it returns"
    assert ".. versionadded::" in doc, f"{name} does not say since when it exists"


def _readme_hooks() -> dict[str, str]:
    """The hooks the README's table documents, by name, with the signature it gives."""
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    return {
        match.group(1): match.group(0)
        for match in re.finditer(r"^\| `(agora_\w+)\(([^)]*)\)`", readme, re.MULTILINE)
    }


@pytest.mark.parametrize("name,function", HOOKS, ids=[name for name, _ in HOOKS])
def test_readme_documents_every_hook_with_its_signature(name: str, function: Any) -> None:
    # As Datasette's documentation test does: the table row must give the real signature,
    # so that a hook gaining or renaming an argument cannot leave the README behind.
    documented = _readme_hooks()
    assert name in documented, f"README.md's hook table has no row for {name}"
    arguments = ", ".join(inspect.signature(function).parameters)
    assert documented[name] == f"| `{name}({arguments})`", (
        f"README.md documents {documented[name]!r}; the hookspec is {name}({arguments})"
    )


def test_readme_documents_no_hook_that_does_not_exist() -> None:
    assert set(_readme_hooks()) <= {name for name, _ in HOOKS}


def test_first_party_plugins_are_registered_through_entry_points() -> None:
    registry = get_registry()
    assert {
        "programme_fc",
        "composition_seats",
        "draw_electoral_roll",
        "draw_address_file",
        "draw_csv",
        "quotas_census",
        "decision_rules",
        "charter_open_assembly",
        "charter_citizens_panel",
        "commune_profiles",
    } <= set(registry.names())
    assert "agora_draw_source" in registry.implemented_hooks("draw_address_file")


@pytest.mark.parametrize("key", sorted(get_registry().commune_profiles()))
def test_every_commune_profile_is_a_valid_configuration(key: str) -> None:
    # What the onboarding wizard offers must pass the same checks as a commune's file.
    profile = get_registry().commune_profiles()[key]
    document = {
        "commune": {"slug": "brest", "name": "Brest", "insee_code": "29019",
                    "kind": "commune", "population": 139602, "status": "onboarding"},
        **profile.document,
    }  # fmt: skip
    config = validate_document(document, get_registry(), key)
    assert config.assembly["name"] and profile.title and profile.description
    assert "commune" not in profile.document


def test_every_implementation_lives_in_plugins_folder() -> None:
    registry = get_registry()
    for name in registry.names():
        module = registry.manager.get_plugin(name)
        assert module is not None
        source = Path(inspect.getfile(module)).resolve()
        assert (ROOT / "plugins") in source.parents, f"{name} is implemented outside plugins/"


def test_registration_is_frozen_after_start_up() -> None:
    class Late:
        @hookimpl
        def agora_quota_criteria(self, tenant: TenantConfig) -> list[Any]:
            return []

    with pytest.raises(PluginRegistrationClosed):
        get_registry().manager.register(Late(), name="late")


def _config(plugins: dict[str, Any]) -> TenantConfig:
    return TenantConfig(
        {
            "commune": {"slug": "x", "name": "X"},
            "assembly": {"name": "A", "subjects_per_year": 1, "working_days": 1},
            "plugins": plugins,
        }
    )


class _Quotas:
    def __init__(self, feature: str) -> None:
        self.criterion = QuotaCriterion(feature, feature, ())

    @hookimpl
    def agora_quota_criteria(self, tenant: TenantConfig) -> list[QuotaCriterion]:
        return [self.criterion]


def _features(criteria: list[QuotaCriterion]) -> list[str]:
    return sorted(criterion.feature for criterion in criteria)


def test_a_commune_only_hears_the_plugins_it_enables() -> None:
    registry = PluginRegistry.build(
        entry_points=False, extra=[("gender", _Quotas("gender")), ("age", _Quotas("age"))]
    )
    assert _features(registry.view(_config({"gender": {}})).quota_criteria()) == ["gender"]
    both = registry.view(_config({"gender": {}, "age": {}})).quota_criteria()
    assert _features(both) == ["age", "gender"]
    assert registry.view(_config({"other": {}})).quota_criteria() == []


def test_plugins_read_their_own_settings() -> None:
    registry = get_registry()
    config = _config(
        {
            "decision_rules": {
                "rules": {"default": {"method": "qualified_majority", "threshold": "3/5"}}
            }
        }
    )
    rule = registry.view(config).decision_rule("action_plan")
    assert (rule.method, str(rule.threshold)) == ("qualified_majority", "3/5")


def test_the_quorum_fallback_and_abstentions_are_the_communes_rule() -> None:
    rules = {
        "default": {"method": "simple_majority"},
        "charter": {
            "method": "absolute_majority",
            "reconvene_within_days": 15,
            "count_abstentions": True,
        },
    }
    hooks = get_registry().view(_config({"decision_rules": {"rules": rules}}))
    default, charter = hooks.decision_rule("action_plan"), hooks.decision_rule("charter")
    # The plugin's defaults: within 30 days, abstentions left out of the votes cast.
    assert (default.reconvene_within_days, default.count_abstentions) == (30, False)
    assert (charter.reconvene_within_days, charter.count_abstentions) == (15, True)


def test_the_decision_rules_offer_the_engines_methods_and_steps() -> None:
    from agora.voting import METHODS
    from agora.voting.tiebreak import STEPS
    from agora_decision_rules import agora_settings_schema

    rule = agora_settings_schema()["properties"]["rules"]["additionalProperties"]
    assert rule["properties"]["method"]["enum"] == list(METHODS)
    assert rule["properties"]["tie_break"]["items"]["enum"] == list(STEPS)

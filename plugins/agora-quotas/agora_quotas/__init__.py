"""Quota criteria from census shares (INSEE) declared in the commune's configuration.

Example::

    [[plugins.quotas_census.criteria]]
    feature = "gender"
    label = "Genre"
    values = [
      { value = "F", label = "Femmes", share = 0.53 },
      { value = "M", label = "Hommes", share = 0.47 },
    ]
    # Optional: only for the sub-draws from these draw sources.
    draw_sources = ["electoral_roll"]
"""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneSettings, QuotaCriterion, QuotaValue

NAME = "quotas_census"


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    value = {
        "type": "object",
        "required": ["value", "label", "share"],
        "additionalProperties": False,
        "properties": {
            "value": {"type": "string", "minLength": 1},
            "label": {"type": "string", "minLength": 1},
            "share": {"type": "number", "minimum": 0, "maximum": 1},
        },
    }
    criterion = {
        "type": "object",
        "required": ["feature", "label", "values"],
        "additionalProperties": False,
        "properties": {
            "feature": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "label": {"type": "string", "minLength": 1},
            "tolerance_seats": {"type": "integer", "minimum": 0},
            "source": {"type": "string"},
            # The draw sources this criterion applies to (all when absent).
            "draw_sources": {"type": "array", "items": {"type": "string"}, "minItems": 1},
            "values": {"type": "array", "items": value, "minItems": 2},
        },
    }
    return {
        "type": "object",
        "required": ["criteria"],
        "additionalProperties": False,
        "properties": {"criteria": {"type": "array", "items": criterion, "minItems": 1}},
    }


@hookimpl
def agora_quota_criteria(tenant: CommuneSettings) -> list[QuotaCriterion]:
    return [
        QuotaCriterion(
            feature=criterion["feature"],
            label=criterion["label"],
            values=tuple(
                QuotaValue(v["value"], v["label"], float(v["share"])) for v in criterion["values"]
            ),
            tolerance_seats=criterion.get("tolerance_seats", 1),
            draw_sources=tuple(criterion.get("draw_sources", ())),
        )
        for criterion in tenant.plugin_settings(NAME)["criteria"]
    ]


@hookimpl
def agora_check_settings(settings: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for i, criterion in enumerate(settings["criteria"]):
        total = sum(value["share"] for value in criterion["values"])
        # Census shares are rounded; a gap over one point is a typing error.
        if abs(total - 1) > 0.01:
            problems.append((f"criteria[{i}].values", f"shares add up to {total:.3f}, not 1"))
        seen = [value["value"] for value in criterion["values"]]
        problems += [
            (f"criteria[{i}].values[{j}].value", f"duplicate value {v!r}")
            for j, v in enumerate(seen)
            if v in seen[:j]
        ]
    return problems

"""The right of interpellation by petition, declared in the commune's configuration.

Example (Poitiers)::

    [plugins.interpellation_rights]
    name = "Droit d'interpellation citoyenne"
    window_months = 6
    minimum_age = 16
    residents_only = true
    levels = [
      { key = "rencontre", signatures = 50, effect = "meeting", label = "…" },
      { key = "conseil", signatures = 900, effect = "council_agenda", label = "…" },
      { key = "referendum", signatures = 4500, effect = "referendum", label = "…" },
    ]

``effect`` is what reaching the level obliges the commune to: a ``meeting`` with the mayor
and elected referents, an item on the ``council_agenda``, or a debate on a local
``referendum``. Levels are listed in rising order of signatures, and their effects rise in
that order too (meeting, then council_agenda, then referendum; two levels may share one).
"""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import (
    PETITION_EFFECTS,
    CommuneSettings,
    InterpellationRules,
    ThresholdLevel,
)

NAME = "interpellation_rights"


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    level = {
        "type": "object",
        "required": ["key", "signatures", "effect", "label"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string", "pattern": "^[a-z][a-z0-9_-]*$", "maxLength": 40},
            "signatures": {"type": "integer", "minimum": 1},
            "effect": {"enum": list(PETITION_EFFECTS)},
            "label": {"type": "string", "minLength": 1, "maxLength": 300},
        },
    }
    return {
        "type": "object",
        "required": ["window_months", "minimum_age", "residents_only", "levels"],
        "additionalProperties": False,
        "properties": {
            "name": {"type": "string", "maxLength": 200},
            "window_months": {"type": "integer", "minimum": 1, "maximum": 60},
            "minimum_age": {"type": "integer", "minimum": 0, "maximum": 18},
            "residents_only": {"type": "boolean"},
            "levels": {"type": "array", "items": level, "minItems": 1},
        },
    }


@hookimpl
def agora_check_settings(settings: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    levels = settings["levels"]
    seen: set[str] = set()
    highest: dict[str, Any] | None = None  # the earlier level with the strongest effect
    for i, level in enumerate(levels):
        if level["key"] in seen:
            problems.append((f"levels[{i}].key", f"{level['key']!r} names two levels"))
        seen.add(level["key"])
        if i and level["signatures"] <= levels[i - 1]["signatures"]:
            problems.append(
                (
                    f"levels[{i}].signatures",
                    f"{level['signatures']} must be more than the previous level's "
                    f"{levels[i - 1]['signatures']}: levels rise",
                )
            )
        rank = PETITION_EFFECTS.index(level["effect"])
        if highest is not None and rank < PETITION_EFFECTS.index(highest["effect"]):
            problems.append(
                (
                    f"levels[{i}].effect",
                    f"level {level['key']!r} obliges to {level['effect']!r}, less than the "
                    f"earlier level {highest['key']!r} ({highest['effect']!r}): effects rise "
                    f"with the levels, {' → '.join(PETITION_EFFECTS)}",
                )
            )
        if highest is None or rank > PETITION_EFFECTS.index(highest["effect"]):
            highest = level
    return problems


@hookimpl
def agora_interpellation_rules(tenant: CommuneSettings) -> InterpellationRules:
    settings = tenant.plugin_settings(NAME)
    return InterpellationRules(
        name=settings.get("name", ""),
        window_months=settings["window_months"],
        minimum_age=settings["minimum_age"],
        residents_only=settings["residents_only"],
        levels=tuple(
            ThresholdLevel(
                key=level["key"],
                signatures=level["signatures"],
                effect=level["effect"],
                label=level["label"],
            )
            for level in settings["levels"]
        ),
    )

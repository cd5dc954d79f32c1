"""Any CSV register whose columns the commune names in its settings."""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CHANNELS, CommuneSettings
from agora_draw_sources.reader import CSV_SETTINGS_PROPERTIES, CsvRegister

NAME = "draw_csv"


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["label", "channel", "person_column", "household_columns"],
        "additionalProperties": False,
        "properties": {
            **CSV_SETTINGS_PROPERTIES,
            "label": {"type": "string", "minLength": 1},
            "channel": {"enum": list(CHANNELS)},
        },
    }


@hookimpl
def agora_draw_source(tenant: CommuneSettings) -> list[CsvRegister]:
    settings = tenant.plugin_settings(NAME)
    defaults = CsvRegister(
        name="generic_csv",
        label=settings["label"],
        channel=settings["channel"],
        person_column=settings["person_column"],
        household_columns=tuple(settings["household_columns"]),
    )
    return [CsvRegister.configured(defaults, settings)]

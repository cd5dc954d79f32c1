"""Any CSV register: its columns are chosen for each file on the draw's column-mapping
screen, proposed from the commune's settings."""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CHANNELS, CommuneSettings
from agora_draw_sources.reader import CSV_SETTINGS_PROPERTIES, MappedCsvRegister

NAME = "draw_csv"


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "required": ["label", "channel"],
        "additionalProperties": False,
        "properties": {
            **CSV_SETTINGS_PROPERTIES,
            "label": {"type": "string", "minLength": 1},
            "channel": {"enum": list(CHANNELS)},
        },
    }


@hookimpl
def agora_draw_source(tenant: CommuneSettings) -> list[MappedCsvRegister]:
    settings = tenant.plugin_settings(NAME)
    # No column is known before a file is mapped, unless the settings propose some.
    defaults = MappedCsvRegister(
        name="generic_csv",
        label=settings["label"],
        channel=settings["channel"],
        person_column="",
        household_columns=(),
    )
    return [MappedCsvRegister.configured(defaults, settings)]

"""An address file (Base Adresse Nationale export) for door-to-door visits, as in Poitiers.

One entry per address: pairs of an elected member and an agent visit the drawn addresses
and invite whoever lives there. The stratum defaults to the neighbourhood column the
commune adds to the file.
"""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneSettings
from agora_draw_sources.reader import CsvRegister, settings_schema

NAME = "draw_address_file"
DEFAULTS = CsvRegister(
    name="address_file",
    label="le fichier des adresses de la commune, avec porte-à-porte",
    channel="door_to_door",
    person_column="id",
    household_columns=("id",),
    stratum_column="quartier",
    attribute_columns=("numero", "rep", "nom_voie", "code_postal"),
)


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    return settings_schema()


@hookimpl
def agora_draw_source(tenant: CommuneSettings) -> list[CsvRegister]:
    return [CsvRegister.configured(DEFAULTS, tenant.plugin_settings(NAME))]

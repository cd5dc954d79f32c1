"""The volunteers' list: residents who put their name forward (a form, a stand at the market,
an association's call), as a CSV file or an OpenDocument spreadsheet (.ods).

Volunteers are reached by e-mail or phone; each is their own household unless the commune
names address columns. Paris drew 15 of its 100 seats among non-EU residents who
volunteered; a prefiguration group may draw half its seats from such a list.
"""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneSettings
from agora_draw_sources.reader import CsvRegister, settings_schema

NAME = "draw_volunteers"
DEFAULTS = CsvRegister(
    name="volunteers",
    label="la liste des volontaires",
    channel="email",
    person_column="id",
    household_columns=("id",),
    attribute_columns=("nom", "prenom", "courriel", "telephone"),
    spreadsheets=True,
)


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    return settings_schema()


@hookimpl
def agora_draw_source(tenant: CommuneSettings) -> list[CsvRegister]:
    return [CsvRegister.configured(DEFAULTS, tenant.plugin_settings(NAME))]

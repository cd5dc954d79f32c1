"""The electoral roll extract (répertoire électoral unique) sent to the commune.

Invitations go by letter. Households are people sharing an address; the polling station is
the default stratum. Code électoral L37: the extract must not be used for anything else.
"""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneSettings
from agora_draw_sources.reader import CsvRegister, settings_schema

NAME = "draw_electoral_roll"
DEFAULTS = CsvRegister(
    name="electoral_roll",
    label="la liste électorale de la commune",
    channel="letter",
    person_column="ine",
    household_columns=("adresse", "code_postal"),
    stratum_column="bureau_de_vote",
    birth_date_column="date_naissance",
    attribute_columns=("nom", "prenoms", "adresse", "code_postal"),
)


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    return settings_schema()


@hookimpl
def agora_draw_source(tenant: CommuneSettings) -> list[CsvRegister]:
    return [CsvRegister.configured(DEFAULTS, tenant.plugin_settings(NAME))]

"""Charter of an open assembly: a drawn core, and every resident present may vote (Poitiers)."""

from __future__ import annotations

from agora.plugins import hookimpl
from agora.plugins.contracts import (
    CharterTemplate,
    ClauseTemplate,
    CommuneSettings,
    JSONSchema,
)
from agora_charters.clauses import (
    BODIES,
    DECISIONS,
    REVISION,
    settings_schema,
    with_additions,
)

NAME = "charter_open_assembly"

TEMPLATE = CharterTemplate(
    key="open_assembly",
    title="Règlement intérieur de l'{{ assembly.name }}",
    clauses=(
        ClauseTemplate(
            "purpose",
            "Raison d'être",
            "L'{{ assembly.name }} permet aux habitant·es de {{ commune.name }} de choisir "
            "chaque année {% if assembly.subjects_per_year == 1 %}un sujet{% else %}"
            "{{ assembly.subjects_per_year }} sujets{% endif %} d'intérêt général "
            "et de décider d'un plan d'action, sur {{ assembly.working_days }} journées de "
            "travail.",
        ),
        ClauseTemplate(
            "openness",
            "Ouverture",
            "Les séances sont ouvertes à toutes et tous, sans condition d'âge ni de "
            "nationalité. Chaque personne présente et enregistrée à l'accueil vote les "
            "décisions de la séance, et pas seulement les membres tiré·es au sort.",
        ),
        BODIES,
        DECISIONS,
        ClauseTemplate(
            "council",
            "Lien avec le conseil municipal",
            "Le plan d'action adopté est transmis au conseil municipal, qui s'engage à le "
            "voter tel quel. Toute différence entre le plan voté et la délibération du "
            "conseil est justifiée et publiée. Les habitant·es suivent ensuite sa mise en "
            "œuvre, en public.",
        ),
        REVISION,
    ),
)


@hookimpl
def agora_settings_schema() -> JSONSchema:
    return settings_schema(TEMPLATE)


@hookimpl
def agora_charter_template(tenant: CommuneSettings) -> CharterTemplate:
    return with_additions(TEMPLATE, tenant.plugin_settings(NAME))

"""Charter of a citizens' panel: only drawn members sit and vote (Convention-like)."""

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

NAME = "charter_citizens_panel"

TEMPLATE = CharterTemplate(
    key="citizens_panel",
    title="Règlement intérieur de la {{ assembly.name }}",
    clauses=(
        ClauseTemplate(
            "purpose",
            "Mandat",
            "La {{ assembly.name }} réunit des habitant·es de {{ commune.name }} "
            "tiré·es au sort pour rendre un avis et des propositions sur le sujet dont elle est "
            "saisie, en {{ assembly.working_days }} sessions.",
        ),
        ClauseTemplate(
            "membership",
            "Membres",
            "Seuls les membres tiré·es au sort siègent et votent. Un membre qui se retire est "
            "remplacé par la liste de réserve, dans le respect des quotas publiés.",
        ),
        BODIES,
        DECISIONS,
        ClauseTemplate(
            "council",
            "Réponse du conseil municipal",
            "Le conseil municipal répond publiquement à chaque proposition dans un délai de "
            "six mois : adoptée, amendée, rejetée ou soumise à référendum local, avec ses "
            "raisons.",
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

"""The support programme of a cooperative like Fréquence Commune (3 to 6 months).

Preliminary video call, calendar and communication plan, four prefiguration sessions with
the prefiguration group, a facilitation training day, the random draw, the launch. Each
phase carries its price before tax (16,500 € in all, 19,800 € with VAT): the commune's
quote copies them.
"""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneSettings, PhaseSpec, ProgrammeTemplate, SessionSpec

NAME = "programme_fc"


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            # The programme is sold for 3 to 6 months.
            "duration_weeks": {"type": "integer", "minimum": 12, "maximum": 26},
            "preliminary_call_remote": {"type": "boolean", "default": True},
        },
    }


@hookimpl
def agora_programme_template(tenant: CommuneSettings) -> ProgrammeTemplate:
    settings = tenant.plugin_settings(NAME)
    remote = bool(settings.get("preliminary_call_remote", True))
    return ProgrammeTemplate(
        key="fc-assemblee-citoyenne",
        title="Accompagnement à la création d'une assemblée citoyenne",
        duration_weeks=int(settings.get("duration_weeks", 20)),
        phases=(
            PhaseSpec(
                "scoping",
                "Cadrage",
                (
                    SessionSpec(0, "preliminary_call", "Visio préalable", remote=remote),
                    SessionSpec(
                        0,
                        "calendar_validation",
                        "Validation du calendrier et du plan de communication",
                        deliverables=("communication_plan",),
                    ),
                ),
                price_cents_excl_tax=2_000_00,
            ),
            PhaseSpec(
                "prefiguration",
                "Préfiguration",
                (
                    SessionSpec(1, "inspiration", "Séance 1 — Inspiration : exemples d'ailleurs"),
                    SessionSpec(
                        2,
                        "purpose",
                        "Séance 2 — Raison d'être et débat avec la majorité",
                        deliverables=("purpose_text",),
                    ),
                    SessionSpec(
                        3,
                        "composition_scope_links",
                        "Séance 3 — Composition, périmètre de décision, liens avec le conseil "
                        "et l'administration",
                        deliverables=("charter_draft",),
                    ),
                    SessionSpec(
                        4,
                        "charter_vote",
                        "Séance 4 — Validation collective du règlement intérieur et célébration",
                        deliverables=("charter",),
                    ),
                ),
                price_cents_excl_tax=7_500_00,
            ),
            PhaseSpec(
                "training",
                "Formation",
                (
                    SessionSpec(
                        5,
                        "facilitation_training",
                        "Journée de formation à la facilitation",
                        deliverables=("facilitator_kit",),
                    ),
                ),
                price_cents_excl_tax=3_000_00,
            ),
            PhaseSpec(
                "draw",
                "Tirage au sort",
                (
                    SessionSpec(
                        6, "draw", "Tirage au sort des habitant·es", deliverables=("draw_protocol",)
                    ),
                ),
                price_cents_excl_tax=2_500_00,
            ),
            PhaseSpec(
                "launch",
                "Lancement",
                (SessionSpec(7, "launch", "Lancement et première séance de l'assemblée"),),
                price_cents_excl_tax=1_500_00,
            ),
        ),
    )

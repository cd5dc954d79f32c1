"""Clauses both templates share, and what a commune adds to them.

A commune may add a provision of its own to each clause (``additions``: clause key → text),
written after the clause's text. The additions are plain text: the schema refuses braces, so
that no addition can be read as Jinja by the core, which renders the clauses.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping

from agora.plugins.contracts import CharterTemplate, ClauseTemplate, JSONSchema

#: The longest provision a commune adds to a clause.
ADDITION_MAX = 300

BODIES = ClauseTemplate(
    "composition",
    "Composition des instances",
    """{% for body in bodies %}{{ body.name }} : {% for seat in body.seats %}{{ seat.count }} \
{{ origin_labels[seat.origin] }}{% if not loop.last %}, {% endif %}{% endfor %}\
{% for c in body.constraints %}, dont au moins {{ c.minimum }} {{ origin_labels[c.origin] }}\
{% endfor %}.
{% endfor %}""",
)

DECISIONS = ClauseTemplate(
    "decisions",
    "Prise de décision",
    """{% for rule in rules.values() %}{{ decision_labels[rule.decision] }} : \
{{ method_labels[rule.method] }}{% if rule.threshold %} \
({{ rule.threshold|fraction }} des suffrages exprimés){% endif %}\
{% if rule.quorum.min_present %} ; quorum de {{ rule.quorum.min_present }} \
personnes présentes{% endif %}{% if rule.quorum.min_drawn_present %}, dont \
{{ rule.quorum.min_drawn_present }} habitant·es tiré·es au sort{% endif %}. En cas d'égalité : \
{% for step in rule.tie_break %}{{ tie_break_labels[step] }}{% if not loop.last %}, puis \
{% endif %}{% endfor %}.
{% endfor %}""",
)

REVISION = ClauseTemplate(
    "revision",
    "Révision du règlement",
    "Le présent règlement peut être révisé par l'assemblée selon la règle applicable aux "
    "décisions sur le règlement intérieur ; toute révision est soumise au conseil municipal "
    "et n'entre en vigueur qu'après son adoption.",
)


def settings_schema(template: CharterTemplate) -> JSONSchema:
    """The settings of a charter template: one optional addition per clause."""
    return {
        "type": "object",
        "additionalProperties": False,
        "properties": {
            "additions": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    clause.key: {
                        "type": "string",
                        "maxLength": ADDITION_MAX,
                        "pattern": "^[^{}]*$",
                    }
                    for clause in template.clauses
                },
            }
        },
    }


def with_additions(template: CharterTemplate, settings: Mapping[str, object]) -> CharterTemplate:
    """``template`` with the commune's additions written after their clauses."""
    additions = settings.get("additions") or {}
    assert isinstance(additions, Mapping)
    if not additions:
        return template
    return dataclasses.replace(
        template,
        clauses=tuple(
            dataclasses.replace(clause, text=f"{clause.text}\n{additions[clause.key]}")
            if additions.get(clause.key)
            else clause
            for clause in template.clauses
        ),
    )

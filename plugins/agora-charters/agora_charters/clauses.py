"""Clauses both templates share."""

from __future__ import annotations

from agora.plugins.contracts import ClauseTemplate

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

"""Decision rules per kind of decision, declared in the commune's configuration.

Example (a panel deciding its recommendations at two thirds)::

    [plugins.decision_rules.rules.action_plan]
    method = "qualified_majority"
    threshold = "2/3"
    quorum = { min_share_of_members = "1/2" }
    tie_break = ["runoff", "lot"]
    reconvene_within_days = 30
    count_abstentions = false

A ``default`` entry answers for the kinds of decision not listed. The methods and tie-break
steps are the decision engine's (:mod:`agora.voting`); without ``tie_break`` the whole chain
applies, without ``reconvene_within_days`` a body whose decisive ballot missed its quorum is
reconvened within 30 days, and without ``count_abstentions`` abstentions are left out of the
votes cast (the *suffrages exprimés*).
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneSettings, DecisionRule, Quorum
from agora.voting import METHODS
from agora.voting.tiebreak import STEPS as TIE_BREAKS

NAME = "decision_rules"
#: When a decisive ballot misses its quorum, the body meets again within this many days.
RECONVENE_WITHIN_DAYS = 30
_FRACTION = {"type": "string", "pattern": r"^[0-9]+/[1-9][0-9]*$"}


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    rule = {
        "type": "object",
        "required": ["method"],
        "additionalProperties": False,
        "properties": {
            "method": {"enum": list(METHODS)},
            "threshold": _FRACTION,
            "quorum": {
                "type": "object",
                "additionalProperties": False,
                "properties": {
                    "min_present": {"type": "integer", "minimum": 0},
                    "min_drawn_present": {"type": "integer", "minimum": 0},
                    "min_share_of_members": _FRACTION,
                },
            },
            "tie_break": {
                "type": "array",
                "items": {"enum": list(TIE_BREAKS)},
                "uniqueItems": True,
            },
            "reconvene_within_days": {"type": "integer", "minimum": 1},
            "count_abstentions": {"type": "boolean", "default": False},
        },
        # A qualified majority means nothing without its threshold.
        "if": {"properties": {"method": {"const": "qualified_majority"}}},
        "then": {"required": ["threshold"]},
    }
    return {
        "type": "object",
        "required": ["rules"],
        "additionalProperties": False,
        "properties": {
            "rules": {
                "type": "object",
                "minProperties": 1,
                "propertyNames": {"pattern": "^[a-z][a-z0-9_]*$"},
                "additionalProperties": rule,
            }
        },
    }


@hookimpl
def agora_decision_rule(tenant: CommuneSettings, decision: str) -> DecisionRule | None:
    rules = tenant.plugin_settings(NAME)["rules"]
    rule = rules.get(decision, rules.get("default"))
    if rule is None:
        return None
    quorum = rule.get("quorum", {})
    threshold = rule.get("threshold")
    return DecisionRule(
        decision=decision,
        method=rule["method"],
        threshold=Fraction(threshold) if threshold else None,
        quorum=Quorum(
            min_present=quorum.get("min_present", 0),
            min_drawn_present=quorum.get("min_drawn_present", 0),
            min_share_of_members=Fraction(quorum.get("min_share_of_members", "0/1")),
        ),
        tie_break=tuple(rule.get("tie_break", TIE_BREAKS)),
        reconvene_within_days=rule.get("reconvene_within_days", RECONVENE_WITHIN_DAYS),
        count_abstentions=rule.get("count_abstentions", False),
    )


@hookimpl
def agora_check_settings(settings: dict[str, Any]) -> list[tuple[str, str]]:
    """Shares are parts of a whole: a threshold or a quorum share above 1 (``3/2``) could
    never be met."""
    problems = []
    for key, rule in settings["rules"].items():
        shares = {"threshold": rule.get("threshold")}
        shares["quorum.min_share_of_members"] = rule.get("quorum", {}).get("min_share_of_members")
        for field, share in shares.items():
            if share is not None and Fraction(share) > 1:
                problems.append(
                    (f"rules.{key}.{field}", f"{share} is more than the whole (at most 1/1)")
                )
    return problems

"""Decision rules per kind of decision, declared in the commune's configuration.

Example (a panel deciding its recommendations at two thirds)::

    [plugins.decision_rules.rules.action_plan]
    method = "qualified_majority"
    threshold = "2/3"
    quorum = { min_share_of_members = "1/2" }
    tie_break = ["runoff", "lot"]

A ``default`` entry answers for the kinds of decision not listed.
"""

from __future__ import annotations

from fractions import Fraction
from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import CommuneSettings, DecisionRule, Quorum

NAME = "decision_rules"
METHODS = (
    "simple_majority",
    "absolute_majority",
    "qualified_majority",
    "consent",
    "majority_judgment",
    "approval",
)
TIE_BREAKS = ("method", "runoff", "lot")
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
    )

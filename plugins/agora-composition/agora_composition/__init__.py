"""Bodies and seats read from a seat table in the commune's configuration.

Example (Poitiers' proposal group)::

    [[plugins.composition_seats.bodies]]
    key = "proposal_group"
    kind = "proposal_group"
    name = "Groupe de proposition"
    powers = ["draft_content"]
    openness = "members_only"
    seats = [
      { origin = "drawn", count = 20, selection_mode = "drawn_among_volunteers" },
      { origin = "elected", count = 6, selection_mode = "designated_by_council" },
      { origin = "agent", count = 4, selection_mode = "designated_by_administration" },
    ]
    constraints = [{ origin = "elected_opposition", min = 2 }]
"""

from __future__ import annotations

from typing import Any

from agora.plugins import hookimpl
from agora.plugins.contracts import (
    BODY_KINDS,
    ORIGIN_GROUPS,
    ORIGINS,
    POWERS,
    SELECTION_MODES,
    BodySpec,
    CommuneSettings,
    OriginConstraint,
    SeatSpec,
)

NAME = "composition_seats"
_ORIGIN = {"enum": [*ORIGINS, *ORIGIN_GROUPS]}


@hookimpl
def agora_settings_schema() -> dict[str, Any]:
    seat = {
        "type": "object",
        "required": ["origin", "count", "selection_mode"],
        "additionalProperties": False,
        "properties": {
            "origin": _ORIGIN,
            "count": {"type": "integer", "minimum": 0},
            "selection_mode": {"enum": list(SELECTION_MODES)},
            "voting": {"type": "boolean", "default": True},
        },
    }
    constraint = {
        "type": "object",
        "required": ["origin", "min"],
        "additionalProperties": False,
        "properties": {
            "origin": _ORIGIN,
            "min": {"type": "integer", "minimum": 0},
            "max": {"type": "integer", "minimum": 0},
        },
    }
    body = {
        "type": "object",
        "required": ["key", "kind", "name", "powers", "openness", "seats"],
        "additionalProperties": False,
        "properties": {
            "key": {"type": "string", "pattern": "^[a-z][a-z0-9_]*$"},
            "kind": {"enum": list(BODY_KINDS)},
            "name": {"type": "string", "minLength": 1},
            "powers": {"type": "array", "items": {"enum": list(POWERS)}, "uniqueItems": True},
            "openness": {"enum": ["open_to_public", "members_only"]},
            "seats": {"type": "array", "items": seat, "minItems": 1},
            "constraints": {"type": "array", "items": constraint},
        },
    }
    return {
        "type": "object",
        "required": ["bodies"],
        "additionalProperties": False,
        "properties": {"bodies": {"type": "array", "items": body, "minItems": 1}},
    }


@hookimpl
def agora_composition_rules(tenant: CommuneSettings) -> list[BodySpec]:
    bodies = tenant.plugin_settings(NAME)["bodies"]
    return [
        BodySpec(
            key=body["key"],
            kind=body["kind"],
            name=body["name"],
            powers=tuple(body["powers"]),
            openness=body["openness"],
            seats=tuple(
                SeatSpec(
                    origin=seat["origin"],
                    count=seat["count"],
                    selection_mode=seat["selection_mode"],
                    voting=seat.get("voting", True),
                )
                for seat in body["seats"]
            ),
            constraints=tuple(
                OriginConstraint(c["origin"], minimum=c["min"], maximum=c.get("max"))
                for c in body.get("constraints", ())
            ),
        )
        for body in bodies
    ]


@hookimpl
def agora_check_settings(settings: dict[str, Any]) -> list[tuple[str, str]]:
    problems = []
    for b, body in enumerate(settings["bodies"]):
        for c, constraint in enumerate(body.get("constraints", ())):
            origin = constraint["origin"]
            seats = sum(
                s["count"]
                for s in body["seats"]
                if s["origin"] == origin or origin in ORIGIN_GROUPS.get(s["origin"], ())
            )
            if constraint["min"] > seats:
                problems.append(
                    (
                        f"bodies[{b}].constraints[{c}].min",
                        f"at least {constraint['min']} {origin} required but the body "
                        f"{body['key']!r} has only {seats} seat(s) they can take",
                    )
                )
            if constraint.get("max") is not None and constraint["max"] < constraint["min"]:
                problems.append((f"bodies[{b}].constraints[{c}].max", "max is smaller than min"))
            # Seats only ``origin`` may take (its own, or those of an origin it groups).
            reserved = sum(
                s["count"]
                for s in body["seats"]
                if s["origin"] == origin or s["origin"] in ORIGIN_GROUPS.get(origin, ())
            )
            if constraint.get("max") is not None and reserved > constraint["max"]:
                problems.append(
                    (
                        f"bodies[{b}].constraints[{c}].max",
                        f"at most {constraint['max']} {origin} allowed but the body "
                        f"{body['key']!r} has {reserved} seat(s) only they can take",
                    )
                )
    keys = [body["key"] for body in settings["bodies"]]
    problems += [
        (f"bodies[{i}].key", f"duplicate body key {key!r}")
        for i, key in enumerate(keys)
        if key in keys[:i]
    ]
    return problems

"""Who may do what: one role × action table, and one table mapping every route to its action.

Enforced at one point (:func:`enforce`, a ``before_request`` hook). A route missing from
:data:`ROUTE_ACTIONS` is refused, and a test fails until it is added.
"""

from __future__ import annotations

from dataclasses import dataclass

from agora.identity.models import Role

ANYONE = "anyone"
AUTHENTICATED = "authenticated"
PLATFORM_ADMIN = "platform_admin"
STAFF = Role.CONSULTANCY_STAFF.value
COMMUNE_ADMIN = Role.COMMUNE_ADMIN.value

#: action → the roles allowed to perform it.
POLICY: dict[str, frozenset[str]] = {
    "public.read": frozenset({ANYONE}),
    "identity.sign_in": frozenset({ANYONE}),
    "account.self": frozenset({AUTHENTICATED}),
    "console.read": frozenset({PLATFORM_ADMIN, STAFF}),
    "members.read": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
    "members.manage": frozenset({PLATFORM_ADMIN, STAFF, COMMUNE_ADMIN}),
}


@dataclass(frozen=True)
class RouteRule:
    """Where a route is served and the action it performs."""

    action: str
    #: "tenant" (a commune's host), "platform" (the console's), "auth" (sign-in callbacks) or
    #: "any".
    host: str


#: endpoint → rule. "home" serves both the commune's site and the console.
ROUTE_ACTIONS: dict[str, RouteRule | dict[str, RouteRule]] = {
    "static": RouteRule("public.read", "any"),
    "healthz": RouteRule("public.read", "any"),
    "home": {
        "tenant": RouteRule("public.read", "tenant"),
        "platform": RouteRule("console.read", "platform"),
    },
    "public.rules": RouteRule("public.read", "tenant"),
    "public.rules_version": RouteRule("public.read", "tenant"),
    "public.journal": RouteRule("public.read", "tenant"),
    "public.journal_event": RouteRule("public.read", "tenant"),
    "console.plugins": RouteRule("console.read", "platform"),
    "console.open_commune": RouteRule("console.read", "platform"),
    "identity.login": RouteRule("identity.sign_in", "any"),
    "identity.send_magic_link": RouteRule("identity.sign_in", "any"),
    "identity.confirm_magic_link": RouteRule("identity.sign_in", "any"),
    "identity.use_magic_link": RouteRule("identity.sign_in", "any"),
    "identity.second_factor": RouteRule("identity.sign_in", "any"),
    "identity.check_second_factor": RouteRule("identity.sign_in", "any"),
    "identity.handoff": RouteRule("identity.sign_in", "any"),
    "identity.logout": RouteRule("identity.sign_in", "any"),
    "identity.oidc_start": RouteRule("identity.sign_in", "any"),
    "identity.oidc_begin": RouteRule("identity.sign_in", "auth"),
    "identity.oidc_callback": RouteRule("identity.sign_in", "auth"),
    "identity.oidc_logout": RouteRule("identity.sign_in", "auth"),
    "identity.oidc_logged_out": RouteRule("identity.sign_in", "auth"),
    "identity.my_data": RouteRule("account.self", "any"),
    "identity.my_data_json": RouteRule("account.self", "any"),
    "identity.erase_me": RouteRule("account.self", "any"),
    "identity.members": RouteRule("members.read", "tenant"),
    "identity.grant_role": RouteRule("members.manage", "tenant"),
    "identity.revoke_role": RouteRule("members.manage", "tenant"),
}


def all_rules() -> list[RouteRule]:
    rules: list[RouteRule] = []
    for entry in ROUTE_ACTIONS.values():
        rules.extend(entry.values() if isinstance(entry, dict) else [entry])
    return rules


def rule_for(endpoint: str | None, host_kind: str) -> RouteRule | None:
    entry = ROUTE_ACTIONS.get(endpoint or "")
    if isinstance(entry, dict):
        return entry.get(host_kind)
    return entry


def allowed(roles: frozenset[str], action: str) -> bool:
    """Whether someone holding ``roles`` may perform ``action``."""
    permitted = POLICY[action]
    return ANYONE in permitted or bool(roles & permitted)

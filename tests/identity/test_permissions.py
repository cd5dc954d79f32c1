"""The permission matrix, generated from the policy: every route × every role × own or
another commune, on every kind of host. A new route without a policy entry fails here."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import select

from agora.extensions import db
from agora.identity.models import Role, RoleGrant
from agora.identity.policy import (
    AUTHENTICATED,
    PLATFORM_ADMIN,
    ROUTE_ACTIONS,
    allowed,
    rule_for,
)
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.web import SECURITY_HEADERS
from support.fixtures import SignIn
from support.routes import HOSTS, route_samples
from support.sessions import open_test_session

ROLES = ["anonymous", PLATFORM_ADMIN, *[role.value for role in Role]]


def test_every_route_has_a_policy_entry(app: Flask) -> None:
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert endpoints - set(ROUTE_ACTIONS) == set(), "add the new routes to identity/policy.py"
    assert set(ROUTE_ACTIONS) - endpoints == set(), "policy entries for routes that no longer exist"


@dataclass(frozen=True)
class Person:
    role: str
    where: str  # "own": the role is held in Poitiers; "other": in Grenoble
    account_id: int | None

    def roles_in_poitiers(self) -> frozenset[str]:
        if self.account_id is None:
            return frozenset()
        roles = {AUTHENTICATED}
        if self.role == PLATFORM_ADMIN:
            roles.add(PLATFORM_ADMIN)  # global by design (break-glass, audited)
        elif self.where == "own":
            roles.add(self.role)
        return frozenset(roles)


def _people(client: FlaskClient, sign_in: SignIn) -> list[Person]:
    people = [Person("anonymous", "own", None)]
    for role in ROLES[1:]:
        for where in ("own", "other"):
            commune = "poitiers" if where == "own" else "grenoble"
            email = f"{role}.{where}@example.fr"
            if role == PLATFORM_ADMIN:
                account = sign_in(client, "localhost", email, platform_admin=True)
            elif role == Role.CONSULTANCY_STAFF:
                account = sign_in(client, "localhost", email, staff_of=(commune,))
            else:
                account = sign_in(client, "localhost", email, role=role, commune=commune)
            people.append(Person(role, where, account))
    return people


def _expected(endpoint: str, host_kind: str, person: Person) -> str:
    rule = rule_for(endpoint, host_kind)
    if rule is None or rule.host not in ("any", host_kind):
        return "not found"
    roles = person.roles_in_poitiers() if host_kind == "tenant" else _global_roles(person)
    if allowed(roles, rule.action):
        return "permitted"
    return "sign in" if person.account_id is None else "forbidden"


def _global_roles(person: Person) -> frozenset[str]:
    if person.account_id is None:
        return frozenset()
    roles = {AUTHENTICATED}
    if person.role == PLATFORM_ADMIN:
        roles.add(PLATFORM_ADMIN)
    if person.role == Role.CONSULTANCY_STAFF:
        roles.add(Role.CONSULTANCY_STAFF.value)  # the console lists only their communes
    return frozenset(roles)


def _outcome(response: Any) -> str:
    if response.status_code >= 500:
        return "server error"
    if response.status_code == 404:
        return "not found"
    if response.status_code == 403:
        return "forbidden"
    if response.status_code == 302 and response.headers["Location"].startswith("/login?"):
        return "sign in"
    return "permitted"


def test_permission_matrix(
    app: Flask, client: FlaskClient, onboarded: Path, sign_in: SignIn
) -> None:
    people = _people(client, sign_in)
    # The grant the revoke route is tried on belongs to nobody in the matrix.
    target = sign_in(
        client, "localhost", "target@example.fr", role="body_member", commune="poitiers"
    )
    with app.app_context():
        poitiers = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, poitiers.id):
            grant_id = db.session.execute(
                select(RoleGrant.id).where(RoleGrant.account_id == target)
            ).scalar_one()
    sessions = {
        (person.account_id, host): open_test_session(app, person.account_id, host)
        for person in people
        if person.account_id is not None
        for host in HOSTS.values()
    }
    mismatches, cross_commune_successes = [], []
    for endpoint, method, path in route_samples(app, grant_id):
        for host_kind, host in HOSTS.items():
            for person in people:
                with client.session_transaction(headers={"Host": host}) as session:
                    session.clear()
                    if person.account_id is not None:
                        session["sid"] = sessions[person.account_id, host]
                response = client.open(path, method=method, headers={"Host": host})
                if endpoint == "identity.logout" and person.account_id is not None:
                    # Signing out ended that session on the server: the next route needs one.
                    sessions[person.account_id, host] = open_test_session(
                        app, person.account_id, host
                    )
                response.close()  # static files are streamed from disk
                for name, value in SECURITY_HEADERS.items():
                    assert response.headers.get(name) == value, (path, name)
                expected, got = _expected(endpoint, host_kind, person), _outcome(response)
                case = (
                    f"{method} {host}{path} as {person.role} ({person.where}): "
                    f"expected {expected}, got {got} ({response.status_code})"
                )
                # "permitted" means the policy let the request through: what the view then
                # answers (200, a redirect, 404 for data that is not there…) is its business.
                if expected != got and not (expected == "permitted" and got == "not found"):
                    mismatches.append(case)
                rule = rule_for(endpoint, host_kind)
                # Commune data: neither public nor a person's own (their account, their data).
                protected = rule is not None and not allowed(
                    frozenset({AUTHENTICATED}), rule.action
                )
                if (
                    person.where == "other"
                    and person.role != PLATFORM_ADMIN
                    and host_kind == "tenant"
                    and protected
                    and response.status_code == 200
                ):
                    cross_commune_successes.append(case)
    assert not cross_commune_successes, cross_commune_successes
    assert not mismatches, "\n".join(mismatches[:40])

"""Voters on phones, over real HTTP through the local cluster's nginx: each sends its vote
until it is acknowledged (303), as a person taps « Voter » again after an error page."""

from __future__ import annotations

import http.client
import threading
import time
from collections import Counter
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from urllib.parse import urlencode

from flask import Flask
from sqlalchemy import select

from agora.assembly import editions, sessions
from agora.assembly.ballots import open_ballot
from agora.assembly.models import AssemblySessionStatus
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config

HOST = "poitiers.localhost"
#: What the page says when the database is briefly unreachable (wt-obs's 503 page).
RETRY_LATER = "réessayez dans un instant"


@dataclass(frozen=True)
class Voting:
    """An open session of Poitiers' plenary with voters checked in, and its ballots."""

    tenant_id: int
    codes: dict[str, int]  # voting code → person id
    ballot_ids: list[int]


def poitiers(app: Flask) -> Tenant:
    return db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()


def open_voting(app: Flask, *, voters: int, ballots: int, year: int = 2030) -> Voting:
    """An open session of Poitiers' plenary (open to everyone present) with ``voters``
    walk-ins checked in, and ``ballots`` open ballots."""
    with app.app_context():
        tenant = poitiers(app)
        version = current_config(db.session, tenant)
        assert version is not None
        hooks = get_registry().view(TenantConfig(version.document))
        with tenant_scope(db.session, tenant.id):
            edition = editions.open_edition(
                db.session, tenant, year, "Votes", hooks.composition_rules(), "test"
            )
            plenary = next(b for b in editions.bodies_of(db.session, edition) if b.key == "plenary")
            row = sessions.plan(
                db.session, tenant, edition, plenary, 1, "J1", edition.created_at, "", "test"
            )
            sessions.set_status(db.session, tenant, row, AssemblySessionStatus.OPEN, "test")
            codes = {}
            for number in range(voters):
                check_in, code = sessions.check_in_walk_in(
                    db.session, tenant, row, f"Votant {number}", "test"
                )
                codes[code] = check_in.person_id
            ballot_ids = [
                open_ballot(
                    db.session,
                    tenant,
                    hooks.decision_rule("action_plan"),
                    row,
                    plenary,
                    f"Plan d'action, tour {number} ?",
                    [],
                    "test",
                ).id
                for number in range(1, ballots + 1)
            ]
            made = Voting(tenant.id, codes, ballot_ids)
        db.session.commit()
        return made


@dataclass
class Outcome:
    """What the voters saw: the codes whose vote was acknowledged, those told they had
    already voted (their earlier attempt was stored though its answer was lost), every
    status answered, and the bodies of the 5xx pages."""

    acknowledged: set[str] = field(default_factory=set)
    already: set[str] = field(default_factory=set)
    statuses: Counter[int] = field(default_factory=Counter)
    failures: list[tuple[int, str]] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)


def request(
    port: int, method: str, path: str, body: str = "", timeout: float = 30
) -> tuple[int, str]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=timeout)
    try:
        headers = {"Host": f"{HOST}:{port}", "Content-Type": "application/x-www-form-urlencoded"}
        connection.request(method, path, body=body or None, headers=headers)
        response = connection.getresponse()
        return response.status, response.read().decode()
    finally:
        connection.close()


def vote_all(
    port: int,
    ballot_id: int,
    codes: Iterable[str],
    *,
    threads: int = 8,
    pause: float = 0.0,
    deadline: float = 60,
) -> Outcome:
    """Every code votes once on the ballot, retrying until acknowledged or told it already
    voted; ``pause`` between a voter's votes spreads the load over the fault."""
    outcome = Outcome()
    chunks: list[list[str]] = [[] for _ in range(threads)]
    for index, code in enumerate(codes):
        chunks[index % threads].append(code)
    give_up = time.monotonic() + deadline

    def one(code: str) -> None:
        body = urlencode({"code": code, "choice": "for"})
        while time.monotonic() < give_up:
            try:
                status, page = request(port, "POST", f"/ballots/{ballot_id}/vote", body)
            except (OSError, http.client.HTTPException):  # a node died under the request
                status, page = 0, ""
            with outcome.lock:
                outcome.statuses[status] += 1
                if status >= 500:
                    outcome.failures.append((status, page))
            if status == 303:
                with outcome.lock:
                    outcome.acknowledged.add(code)
                return
            if status == 409:
                with outcome.lock:
                    outcome.already.add(code)
                return
            if status not in (0, 502, 503, 504):
                raise AssertionError(f"vote answered {status}: {page[:500]}")
            time.sleep(0.1)
        raise AssertionError(f"code {code} could not vote within {deadline} s")

    def run(chunk: list[str]) -> None:
        for code in chunk:
            one(code)
            time.sleep(pause)

    with ThreadPoolExecutor(threads) as pool:
        list(pool.map(run, chunks))
    return outcome

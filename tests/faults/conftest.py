"""The fault tests' stack: deploy/local-cluster started once for the session (two gunicorn
nodes behind nginx, a PostgreSQL primary and its streaming replica, Redis, two RQ workers),
stopped at its end with nothing left running.

They run with the PostgreSQL tests (``AGORA_TEST_DATABASE_URL`` set, as in CI) but never
touch the shared servers: the stack has its own clusters, made with this machine's
PostgreSQL programs, and its own Redis, on ports from ``AGORA_TEST_CLUSTER_PORT`` (18320).
``make test`` keeps them on one pytest-xdist worker (``xdist_group``).
"""

from __future__ import annotations

import os
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask

from agora import create_app
from agora.assembly import ballots, editions, sessions
from agora.assembly.models import AssemblySessionStatus
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.services import current_config
from support.fixtures import NO_POSTGRESQL, PG_ADMIN_URL, ROOT
from support.voters import Voting, poitiers

sys.path.insert(0, str(ROOT / "deploy" / "local-cluster"))
from cluster import Cluster

BASE_PORT = int(os.environ.get("AGORA_TEST_CLUSTER_PORT", "18320"))


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.postgresql)
            item.add_marker(pytest.mark.slow)
            item.add_marker(pytest.mark.xdist_group("local-cluster"))
            if PG_ADMIN_URL is None:
                item.add_marker(pytest.mark.skip(reason=NO_POSTGRESQL))


@pytest.fixture(scope="session")
def stack() -> Iterator[Cluster]:
    # Not under pytest's temporary folder, which PostgreSQL's user may not enter.
    cluster = Cluster(Path(tempfile.mkdtemp(prefix="agora-cluster-")), BASE_PORT)
    cluster.start()
    print(f"\nlocal cluster started in {cluster.start_seconds:.1f} s")
    try:
        yield cluster
    finally:
        cluster.stop()


@pytest.fixture(scope="session")
def stack_app(stack: Cluster) -> Iterator[Flask]:
    """The application on the stack's primary, to set up rows and check them."""
    app = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": stack.database_url(),
            "AGORA_REDIS_URL": stack.redis_url,
            "AGORA_UPLOAD_DIR": str(stack.upload_dir),
            "AGORA_PUBLIC_PORT": str(stack.nginx_port),
        }
    )
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def voting(stack_app: Flask) -> Voting:
    """300 walk-ins checked in, one open ballot per voting fault test."""
    with stack_app.app_context():
        tenant = poitiers(stack_app)
        version = current_config(db.session, tenant)
        assert version is not None
        hooks = get_registry().view(TenantConfig(version.document))
        with tenant_scope(db.session, tenant.id):
            edition = editions.open_edition(
                db.session, tenant, 2030, "Faults", hooks.composition_rules(), "test"
            )
            plenary = next(b for b in editions.bodies_of(db.session, edition) if b.key == "plenary")
            row = sessions.plan(
                db.session, tenant, edition, plenary, 1, "J1", edition.created_at, "", "test"
            )
            sessions.set_status(db.session, tenant, row, AssemblySessionStatus.OPEN, "test")
            codes = {}
            for number in range(300):
                check_in, code = sessions.check_in_walk_in(
                    db.session, tenant, row, f"Votant {number}", "test"
                )
                codes[code] = check_in.person_id
            ballot_ids = [
                ballots.open_ballot(
                    db.session,
                    tenant,
                    hooks.decision_rule("action_plan"),
                    row,
                    plenary,
                    f"Plan d'action, tour {number} ?",
                    [],
                    "test",
                ).id
                for number in range(1, 4)
            ]
        db.session.commit()
        return Voting(tenant.id, codes, ballot_ids)

"""The fault tests' stack: deploy/local-cluster started once for the session (two gunicorn
nodes behind nginx, a PostgreSQL primary and its streaming replica, Redis, two RQ workers),
stopped at its end with nothing left running.

They run with the PostgreSQL tests (``AGORA_TEST_DATABASE_URL`` set, as in CI) but never
touch the shared servers: the stack has its own clusters, made with this machine's
PostgreSQL programs, and its own Redis, on ports from ``AGORA_TEST_CLUSTER_PORT`` (18320).
``make test`` keeps them on one pytest-xdist worker (``xdist_group``, in test_faults.py).
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
from agora.extensions import db
from support.fixtures import NO_POSTGRESQL, PG_ADMIN_URL, ROOT
from support.voters import Voting, open_voting

sys.path.insert(0, str(ROOT / "deploy" / "local-cluster"))
from cluster import Cluster

# Ports of their own per pytest-xdist worker: should the tests ever be spread over several
# workers (the CI run of 2ba6baf did, despite their group), each starts its own stack
# instead of finding the ports taken.
BASE_PORT = int(os.environ.get("AGORA_TEST_CLUSTER_PORT", "18320")) + 10 * int(
    os.environ.get("PYTEST_XDIST_WORKER", "gw0").removeprefix("gw") or 0
)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    here = os.path.dirname(__file__)
    for item in items:
        if str(item.path).startswith(here):
            item.add_marker(pytest.mark.postgresql)
            item.add_marker(pytest.mark.slow)
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
            # The checks' own connections outlive the primary's restart.
            "SQLALCHEMY_ENGINE_OPTIONS": {"pool_pre_ping": True},
        }
    )
    yield app
    with app.app_context():
        for engine in db.engines.values():
            engine.dispose()


@pytest.fixture(scope="session")
def voting(stack_app: Flask) -> Voting:
    """300 walk-ins checked in, one open ballot per voting fault test."""
    return open_voting(stack_app, voters=300, ballots=3)

"""/healthz and /readyz, on any host (a pod's IP, as Kubernetes and nginx probe): green when
the database answers at the migrations' head and Redis answers; red, naming the check, when
one of them does not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import text

from support.fixtures import REDIS_URL, Database, json_of
from support.outages import database_unreachable

#: Nothing listens there (the range is this suite's own).
CLOSED_REDIS = "redis://127.0.0.1:18198/0"
BARE_IP = {"Host": "10.42.0.7:8000"}


def test_healthz_answers_on_any_host_and_touches_nothing(app: Flask) -> None:
    with database_unreachable(app):
        for host in ("10.42.0.7:8000", "localhost", "unknown.example"):
            response = app.test_client().get("/healthz", headers={"Host": host})
            assert (response.status_code, response.json) == (200, {"status": "ok"})


def test_readyz_is_green_on_a_migrated_database(app: Flask) -> None:
    response = app.test_client().get("/readyz", headers=BARE_IP)
    assert response.status_code == 200
    assert json_of(response) == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok"},
    }
    assert response.headers["Cache-Control"] == "no-store"


@pytest.mark.redis
@pytest.mark.skipif(REDIS_URL is None, reason="needs AGORA_TEST_REDIS_URL; .ci/run sets it")
def test_readyz_checks_redis_when_configured(app: Flask) -> None:
    app.config["AGORA_REDIS_URL"] = REDIS_URL
    response = app.test_client().get("/readyz", headers=BARE_IP)
    assert response.status_code == 200
    assert json_of(response)["checks"] == {"database": "ok", "migrations": "ok", "redis": "ok"}


def test_readyz_is_red_while_the_database_is_unreachable(app: Flask) -> None:
    client = app.test_client()
    with database_unreachable(app):
        response = client.get("/readyz", headers=BARE_IP)
    assert response.status_code == 503
    assert json_of(response) == {
        "status": "unavailable",
        "checks": {"database": "unreachable", "migrations": "unknown"},
        "failing": ["database", "migrations"],
    }
    assert client.get("/readyz", headers=BARE_IP).status_code == 200  # back by itself


def test_readyz_is_red_when_redis_is_unreachable_unless_redis_is_optional(app: Flask) -> None:
    app.config["AGORA_REDIS_URL"] = CLOSED_REDIS
    client = app.test_client()
    red = client.get("/readyz", headers=BARE_IP)
    assert red.status_code == 503
    assert json_of(red)["failing"] == ["redis"]
    assert json_of(red)["checks"]["redis"] == "unreachable"
    # A load balancer's readiness: voting goes on without Redis, so the node stays in.
    tolerated = client.get("/readyz?optional=redis", headers=BARE_IP)
    assert tolerated.status_code == 200
    assert json_of(tolerated) == {
        "status": "ready",
        "checks": {"database": "ok", "migrations": "ok", "redis": "unreachable"},
        "failing": ["redis"],
    }


@pytest.fixture
def one_migration_behind(database: Database, app: Flask) -> Iterator[None]:
    with database.owner.begin() as connection:
        head = connection.execute(text("SELECT version_num FROM alembic_version")).scalar_one()
        connection.execute(text("UPDATE alembic_version SET version_num = '0020'"))
    yield
    with database.owner.begin() as connection:
        connection.execute(text("UPDATE alembic_version SET version_num = :head"), {"head": head})


def test_readyz_is_red_when_migrations_are_not_at_head(
    app: Flask, one_migration_behind: None
) -> None:
    response = app.test_client().get("/readyz", headers=BARE_IP)
    assert response.status_code == 503
    assert json_of(response)["checks"] == {"database": "ok", "migrations": "not at head"}
    assert json_of(response)["failing"] == ["migrations"]


def test_probes_need_no_trusted_host_but_pages_still_do(app: Flask, onboarded: Path) -> None:
    client = app.test_client()
    assert client.get("/readyz", headers={"Host": "evil.example"}).status_code == 200
    assert client.get("/", headers={"Host": "evil.example"}).status_code in (400, 404)

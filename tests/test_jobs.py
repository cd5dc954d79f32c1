"""Background jobs: inline by default, on a real RQ worker over Redis when configured; the
commune travels with every job and is bound again where it runs."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from flask import Flask
from sqlalchemy import select

from agora.extensions import db
from agora.jobs import enqueue
from agora.tenancy.models import Tenant
from support import probe_jobs  # noqa: F401  (registers test.visible_tenants)
from support.fixtures import REDIS_URL, Database

TESTS = Path(__file__).resolve().parent


def _ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        return {t.slug: t.id for t in db.session.scalars(select(Tenant))}


def test_inline_job_runs_at_once_for_its_commune(app: Flask, onboarded: Path) -> None:
    ids = _ids(app)
    with app.app_context():
        handle = enqueue("audit.verify", tenant_id=ids["poitiers"])
    assert not handle.queued
    assert handle.result == {"slug": "poitiers", "events": 2, "problems": []}


def test_unknown_job_is_refused(app: Flask) -> None:
    with app.app_context(), pytest.raises(LookupError, match="unknown job 'nope'"):
        enqueue("nope", tenant_id=1)


@pytest.mark.redis
@pytest.mark.skipif(REDIS_URL is None, reason="needs AGORA_TEST_REDIS_URL; .ci/run sets it")
def test_rq_worker_sees_only_the_jobs_commune(
    postgresql_database: Database, app: Flask, onboarded: Path
) -> None:
    from redis import Redis
    from rq.job import Job

    assert REDIS_URL is not None
    Redis.from_url(REDIS_URL).flushdb()
    ids = _ids(app)
    app.config["AGORA_REDIS_URL"] = REDIS_URL
    with app.app_context():
        handles = {
            slug: enqueue("test.visible_tenants", tenant_id=tid) for slug, tid in ids.items()
        }
    assert all(handle.queued for handle in handles.values())

    environment = {
        **os.environ,
        "AGORA_DATABASE_URL": postgresql_database.app_url,
        "AGORA_REDIS_URL": REDIS_URL,
        "PYTHONPATH": str(TESTS),
    }
    worker = subprocess.run(
        [
            sys.executable,
            "-m",
            "flask",
            "--app",
            "agora",
            "jobs",
            "worker",
            "--burst",
            "--import",
            "support.probe_jobs",
        ],
        env=environment,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert worker.returncode == 0, worker.stderr

    connection = Redis.from_url(REDIS_URL)
    for slug, handle in handles.items():
        job = Job.fetch(handle.id, connection=connection)
        assert job.get_status() == "finished", (slug, job.get_status(), worker.stderr[-2000:])
        assert job.return_value() == {"bound": ids[slug], "seen": [ids[slug]]}

"""Redis gone: voting and public pages go on; a job asked for is held in the database and
queued under the same id once Redis answers (jobs/held.py); rate limits go on per process
(Flask-Limiter's in-memory fallback), sign-in's included."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import func, select

from agora import create_app
from agora.assembly.models import Vote
from agora.draws import beacons
from agora.extensions import db
from agora.jobs import enqueue
from agora.jobs.held import HeldJob
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.assembly import build_edition
from support.fixtures import REDIS_URL, SignIn
from support.pages import page_text

POITIERS = {"Host": "poitiers.localhost"}
#: Nothing listens there (the range is this suite's own).
DEAD_REDIS = "redis://127.0.0.1:18198/0"


@pytest.fixture
def without_redis(app: Flask, onboarded: Path, tmp_path: Path) -> Iterator[Flask]:
    """The same database, served by an application whose Redis (queue and rate limits) is
    configured but gone."""
    served = create_app(
        {
            "SQLALCHEMY_DATABASE_URI": app.config["SQLALCHEMY_DATABASE_URI"],
            "TESTING": True,
            "SECRET_KEY": "test-secret",
            "WTF_CSRF_ENABLED": False,
            "AGORA_DRAND_BEACONS": str(beacons.RECORDED),
            "AGORA_UPLOAD_DIR": str(tmp_path / "uploads"),
            "AGORA_PUBLIC_PORT": "",
            "AGORA_REDIS_URL": DEAD_REDIS,
            "RATELIMIT_STORAGE_URI": DEAD_REDIS,
        }
    )
    yield served
    with served.app_context():
        db.engine.dispose()


def _poitiers(app: Flask) -> int:
    with app.app_context():
        return db.session.execute(select(Tenant.id).where(Tenant.slug == "poitiers")).scalar_one()


def _votes_counted(commune: str) -> float:
    return REGISTRY.get_sample_value("agora_votes_cast_total", {"commune": commune}) or 0.0


def test_voting_and_public_pages_go_on(without_redis: Flask, sign_in: SignIn) -> None:
    app = without_redis
    staff = app.test_client()
    sign_in(
        staff, "poitiers.localhost", "mairie@poitiers.fr", role="commune_admin", commune="poitiers"
    )
    edition = build_edition(app)
    for path in ("/", "/petitions", "/rules"):
        assert staff.get(path, headers=POITIERS).status_code == 200, path
    checked_in = staff.post(
        f"/admin/sessions/{edition.session_id}/check-ins",
        data={"name": "Habitante"},
        headers=POITIERS,
    )
    page = staff.get(checked_in.headers["Location"], headers=POITIERS).get_data(as_text=True)
    code = re.search(r'<strong class="code">([A-Z0-9-]+)</strong>', page)
    assert code, page
    opened = staff.post(
        f"/admin/sessions/{edition.session_id}/ballots",
        data={
            "question": "Quel sujet ?",
            "decision": "subject_choice",
            "subject_ids": [str(i) for i in edition.subject_ids],
        },
        headers=POITIERS,
    )
    ballot = int(opened.headers["Location"].rsplit("/", 1)[1])
    ballot_page = staff.get(f"/ballots/{ballot}", headers=POITIERS).get_data(as_text=True)
    first, second = re.findall(r'name="grade-(\d+)"', ballot_page)[::6]
    before = _votes_counted("poitiers")

    voter = app.test_client(use_cookies=False)
    vote = {"code": code.group(1), f"grade-{first}": "5", f"grade-{second}": "1"}
    assert voter.post(f"/ballots/{ballot}/vote", data=vote, headers=POITIERS).status_code == 303
    with app.app_context(), tenant_scope(db.session, edition.tenant_id):
        stored = db.session.execute(
            select(func.count()).select_from(Vote).where(Vote.ballot_id == ballot)
        ).scalar_one()
    assert stored == 1
    assert _votes_counted("poitiers") == before + 1


def test_a_job_asked_for_is_held_in_the_database(without_redis: Flask) -> None:
    app = without_redis
    tenant_id = _poitiers(app)
    with app.app_context():
        handle = enqueue("audit.verify", tenant_id=tenant_id)
        held = db.session.execute(select(HeldJob)).scalars().all()
    assert handle.queued
    assert [(h.id, h.name, h.tenant_id, h.kwargs) for h in held] == [
        (handle.id, "audit.verify", tenant_id, "{}")
    ]
    scraped = app.test_client()
    app.config["AGORA_METRICS_TOKEN"] = "scrape"
    metrics = scraped.get("/metrics", headers={"Authorization": "Bearer scrape"}).get_data(
        as_text=True
    )
    assert 'agora_job_queue_depth{state="held"} 1.0' in metrics
    assert 'agora_ready{check="redis"} 0.0' in metrics
    # While Redis is still away, releasing queues nothing and loses nothing.
    assert "0 held jobs queued" in app.test_cli_runner().invoke(args=["jobs", "release"]).output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(HeldJob)).scalar_one() == 1


@pytest.mark.redis
@pytest.mark.skipif(REDIS_URL is None, reason="needs AGORA_TEST_REDIS_URL; .ci/run sets it")
def test_held_jobs_are_queued_under_their_id_and_run_when_redis_is_back(
    without_redis: Flask,
) -> None:
    from redis import Redis
    from rq import SimpleWorker
    from rq.job import Job

    from agora.jobs import get_queue

    assert REDIS_URL is not None
    Redis.from_url(REDIS_URL).flushdb()
    app = without_redis
    with app.app_context():
        handle = enqueue("audit.verify", tenant_id=_poitiers(app))
    app.config["AGORA_REDIS_URL"] = REDIS_URL  # Redis is back
    assert "1 held jobs queued" in app.test_cli_runner().invoke(args=["jobs", "release"]).output
    with app.app_context():
        assert db.session.execute(select(func.count()).select_from(HeldJob)).scalar_one() == 0
        queue = get_queue(REDIS_URL)
        SimpleWorker([queue], connection=queue.connection).work(burst=True)
    job = Job.fetch(handle.id, connection=Redis.from_url(REDIS_URL))
    assert job.get_status() == "finished"
    assert job.return_value() == {"slug": "poitiers", "events": 2, "problems": []}


def test_sign_in_stays_rate_limited_per_process(without_redis: Flask) -> None:
    client = without_redis.test_client()

    def ask(number: int) -> int:
        return client.post(
            "/login/magic", data={"email": f"p{number}@example.fr"}, headers=POITIERS
        ).status_code

    assert [ask(number) for number in range(5)] == [200] * 5
    refused = client.post("/login/magic", data={"email": "p5@example.fr"}, headers=POITIERS)
    assert refused.status_code == 429
    assert "Trop de requêtes : merci de patienter un instant." in page_text(refused)

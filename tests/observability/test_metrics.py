"""Prometheus metrics: requests by route endpoint and status, latency, jobs and their
failures, the queue read at scrape; /metrics only for the scraper holding the token; and in
gunicorn's multiprocess mode, every worker's counts summed, with JSON log lines."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from flask import Flask
from prometheus_client import REGISTRY
from sqlalchemy import select

from agora.extensions import db
from agora.jobs import enqueue, job
from agora.observability.metrics import EXPORTED
from agora.tenancy.models import Tenant
from support.fixtures import REDIS_URL, ROOT, Database

TOKEN = "a-long-random-scrape-token"
SCRAPER = {"Authorization": f"Bearer {TOKEN}", "Host": "10.42.0.7:8000"}
GUNICORN_PORT = 18101


@job("test.always_fails")
def always_fails() -> None:
    raise RuntimeError("the printer is on fire")


def _scrape(app: Flask) -> str:
    app.config["AGORA_METRICS_TOKEN"] = TOKEN
    response = app.test_client().get("/metrics", headers=SCRAPER)
    assert response.status_code == 200
    assert response.content_type.startswith("text/plain; version=")
    return response.get_data(as_text=True)


def test_metrics_are_not_public(app: Flask) -> None:
    client = app.test_client()
    assert client.get("/metrics", headers=SCRAPER).status_code == 404  # no token configured
    app.config["AGORA_METRICS_TOKEN"] = TOKEN
    assert client.get("/metrics", headers={"Host": "localhost"}).status_code == 401
    wrong = client.get("/metrics", headers={**SCRAPER, "Authorization": "Bearer guess"})
    assert wrong.status_code == 401 and wrong.headers["WWW-Authenticate"].startswith("Bearer")
    exported = client.get("/metrics", headers=SCRAPER)
    assert exported.status_code == 200
    # Every name the alert rules may use (test_alerts.py) is really on the page.
    for name in EXPORTED:
        assert f"# TYPE {name} " in exported.get_data(as_text=True), name


def test_requests_are_counted_by_endpoint_never_by_path(app: Flask, onboarded: Path) -> None:
    client = app.test_client()
    labels = {"endpoint": "petitions.index", "method": "GET", "status": "200"}
    before = REGISTRY.get_sample_value("agora_http_requests_total", labels) or 0.0
    for _ in range(3):
        assert (
            client.get("/petitions?page=1", headers={"Host": "poitiers.localhost"}).status_code
            == 200
        )
    assert client.get("/no/such/page/42", headers={"Host": "poitiers.localhost"}).status_code == 404
    text = _scrape(app)
    assert REGISTRY.get_sample_value("agora_http_requests_total", labels) == before + 3
    assert (
        'agora_http_request_duration_seconds_bucket{endpoint="petitions.index",le="0.25",method="GET"}'
        in text
    )
    assert 'endpoint="unmatched",method="GET",status="404"' in text
    assert "/no/such/page" not in text and "page=1" not in text


def test_job_failures_are_counted(app: Flask, onboarded: Path) -> None:
    with app.app_context():
        tenant_id = db.session.execute(
            select(Tenant.id).where(Tenant.slug == "poitiers")
        ).scalar_one()
    before = (
        REGISTRY.get_sample_value("agora_job_failures_total", {"job": "test.always_fails"}) or 0.0
    )
    with app.app_context(), pytest.raises(RuntimeError):
        enqueue("test.always_fails", tenant_id=tenant_id)
    assert 'agora_job_failures_total{job="test.always_fails"} ' + str(before + 1) in _scrape(app)


@pytest.mark.redis
@pytest.mark.skipif(REDIS_URL is None, reason="needs AGORA_TEST_REDIS_URL; .ci/run sets it")
def test_the_queue_is_read_at_each_scrape(app: Flask, onboarded: Path) -> None:
    from redis import Redis

    assert REDIS_URL is not None
    Redis.from_url(REDIS_URL).flushdb()
    app.config["AGORA_REDIS_URL"] = REDIS_URL
    with app.app_context():
        tenant_id = db.session.execute(
            select(Tenant.id).where(Tenant.slug == "poitiers")
        ).scalar_one()
        for _ in range(2):
            enqueue("audit.verify", tenant_id=tenant_id)
    text = _scrape(app)
    assert 'agora_job_queue_depth{state="queued"} 2.0' in text
    assert 'agora_job_queue_depth{state="held"} 0.0' in text
    assert 'agora_ready{check="redis"} 1.0' in text
    Redis.from_url(REDIS_URL).flushdb()


def _get(path: str, headers: dict[str, str]) -> tuple[int, bytes]:
    request = urllib.request.Request(f"http://127.0.0.1:{GUNICORN_PORT}{path}", headers=headers)
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return response.status, response.read()
    except urllib.error.HTTPError as refused:
        return refused.code, refused.read()


def test_gunicorn_sums_its_workers_and_logs_json(database: Database, tmp_path: Path) -> None:
    """The production configuration (deploy/gunicorn.conf.py), two workers: the requests
    both served are counted once each in one scrape, and every log line is JSON."""
    environment = {
        **os.environ,
        "AGORA_DATABASE_URL": database.app_url,
        "AGORA_SECRET_KEY": "test-secret",
        "AGORA_METRICS_TOKEN": TOKEN,
        "AGORA_INSTANCE_PATH": str(tmp_path),
        "PROMETHEUS_MULTIPROC_DIR": str(tmp_path / "metrics"),
        "GUNICORN_BIND": f"127.0.0.1:{GUNICORN_PORT}",
        "WEB_CONCURRENCY": "2",
        "GUNICORN_THREADS": "1",
    }
    environment.pop("AGORA_LOG_FORMAT", None)
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", str(ROOT / "deploy/gunicorn.conf.py")],
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if _get("/healthz", {})[0] == 200:
                    break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        for _ in range(20):
            assert _get("/no-such-page", {"Host": "localhost"})[0] == 404
        status, body = _get("/metrics", {"Authorization": f"Bearer {TOKEN}"})
        assert status == 200
        counted = [
            line
            for line in body.decode().splitlines()
            if line.startswith('agora_http_requests_total{endpoint="unmatched"')
        ]
        assert counted == [
            'agora_http_requests_total{endpoint="unmatched",method="GET",status="404"} 20.0'
        ]
    finally:
        server.send_signal(signal.SIGTERM)
        output, _ = server.communicate(timeout=30)
    lines = [json.loads(line) for line in output.splitlines() if line.strip()]
    requests = [line for line in lines if line.get("event") == "request"]
    assert len(requests) == 20 and all(line["status"] == 404 for line in requests)
    assert len({line["request_id"] for line in requests}) == 20
    assert any(line.get("logger") == "gunicorn.error" for line in lines)

"""Prometheus metrics, in gunicorn's multiprocess mode when ``PROMETHEUS_MULTIPROC_DIR`` is
set (each worker writes its own files, which a scrape sums), else in this process's
registry (``flask run``, tests).

Labels stay bounded: requests by route *endpoint* (``assembly.cast_vote``), never by raw
path; votes by commune slug, since a deployment serves a bounded list of communes (hundreds,
about as many series as routes); jobs by registered name. No label ever holds a person's
data.
"""

from __future__ import annotations

import os
from collections.abc import Iterator

from flask import Flask, g
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    Histogram,
    generate_latest,
    multiprocess,
)
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

REQUESTS = Counter(
    "agora_http_requests_total",
    "Requests answered, by route endpoint, method and status.",
    ["endpoint", "method", "status"],
)
LATENCY = Histogram(
    "agora_http_request_duration_seconds",
    "Time to answer a request, by route endpoint and method.",
    ["endpoint", "method"],
    # Around the goals: a vote's p95 ≤ 250 ms, a public page's ≤ 150 ms.
    buckets=(0.01, 0.025, 0.05, 0.1, 0.15, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
VOTES = Counter("agora_votes_cast_total", "Votes recorded, by commune.", ["commune"])

#: Metric names the application exports (the alert rules may name no other); the job
#: counters are the queue's own (``jobs/__init__.py``, ``jobs/held.py``), below this package.
EXPORTED = frozenset(
    {
        "agora_http_requests_total",
        "agora_http_request_duration_seconds",
        "agora_votes_cast_total",
        "agora_jobs_total",
        "agora_job_failures_total",
        "agora_jobs_held_total",
        "agora_job_queue_depth",
        "agora_ready",
    }
)


def observe_request(endpoint: str, method: str, status: int, seconds: float) -> None:
    REQUESTS.labels(endpoint, method, str(status)).inc()
    LATENCY.labels(endpoint, method).observe(seconds)


def vote_cast() -> None:
    """One more vote in this request's commune, named as its log line names it (logs.py)."""
    VOTES.labels(g.get("log_context", {}).get("commune") or "unknown").inc()


class _NowCollector(Collector):
    """Read at scrape time: /readyz's checks, and the job queue (jobs waiting in Redis,
    running, failed in RQ's failed registry, held in the database while Redis was away)."""

    def __init__(self, app: Flask) -> None:
        self.app = app

    def collect(self) -> Iterator[Metric]:
        from agora.jobs.held import held_count, queue_states
        from agora.observability.probes import OK, readiness

        ready = GaugeMetricFamily(
            "agora_ready", "1 when a /readyz check passes, by check.", labels=["check"]
        )
        for check, state in readiness(self.app).items():
            ready.add_metric([check], 1 if state == OK else 0)
        yield ready
        depth = GaugeMetricFamily(
            "agora_job_queue_depth",
            "Jobs by state: queued, started, failed, held.",
            labels=["state"],
        )
        with self.app.app_context():
            held, states = held_count(), queue_states()
        if held is not None:  # a database that does not answer is /readyz's to report
            depth.add_metric(["held"], held)
        for state, count in (states or {}).items():
            depth.add_metric([state], count)
        yield depth


def exposition(app: Flask) -> tuple[bytes, str]:
    """The metrics page: every worker's counters, then the queue as it is now."""
    if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
        counters = CollectorRegistry()
        multiprocess.MultiProcessCollector(counters)  # type: ignore[no-untyped-call]
    else:
        counters = REGISTRY
    now = CollectorRegistry(auto_describe=False)
    now.register(_NowCollector(app))
    return generate_latest(counters) + generate_latest(now), CONTENT_TYPE_LATEST

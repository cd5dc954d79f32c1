"""Background work: an RQ queue on Redis when ``AGORA_REDIS_URL`` is set, inline otherwise;
held in the database while Redis cannot be reached (``held.py`` states the rule).

A job is a registered function that runs for one commune: the commune travels with the job
and is bound again in the worker before the function runs, so row-level security scopes
everything the job reads or writes.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import structlog
from flask import Flask, current_app, has_app_context
from prometheus_client import Counter

QUEUE_NAME = "agora"
JOB_TIMEOUT = 3600
RESULT_TTL = 86400
JOBS: dict[str, Callable[..., Any]] = {}
RUNS = Counter("agora_jobs_total", "Jobs run, by job and outcome.", ["job", "outcome"])
FAILURES = Counter("agora_job_failures_total", "Jobs that raised, by job.", ["job"])


def job(name: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Register ``function`` as the job ``name`` (names are stable across deployments)."""

    def register(function: Callable[..., Any]) -> Callable[..., Any]:
        if name in JOBS and JOBS[name] is not function:
            raise ValueError(f"job {name!r} is already registered")
        JOBS[name] = function
        return function

    return register


@dataclass(frozen=True)
class JobHandle:
    """What the caller gets back: the job's id, and its result when it already ran inline."""

    id: str
    queued: bool
    result: Any = None


def _app() -> Flask:
    # Jobs run inside the application that queued or executes them (``flask jobs worker``
    # holds one): the queue never builds an application itself, which would make this
    # kernel package depend on the composition root above it.
    if not has_app_context():
        raise RuntimeError(
            "jobs run inside the application: start workers with 'flask --app agora jobs worker'"
        )
    return current_app._get_current_object()  # type: ignore[attr-defined, no-any-return]


def run_job(name: str, tenant_id: int, kwargs: dict[str, Any]) -> Any:
    """Run job ``name`` for ``tenant_id`` in a fresh application context and transaction."""
    from rq import get_current_job

    from agora.extensions import db
    from agora.tenancy.isolation import bind_tenant

    function = JOBS.get(name)
    if function is None:
        raise LookupError(f"unknown job {name!r}")
    rq_job = get_current_job()
    log = structlog.stdlib.get_logger("agora.jobs").bind(
        job_id=rq_job.id if rq_job is not None else "inline", job=name, tenant_id=tenant_id
    )
    started = time.perf_counter()
    with _app().app_context():
        bind_tenant(db.session, tenant_id)
        try:
            result = function(**kwargs)
            db.session.commit()
        except BaseException:
            db.session.rollback()
            RUNS.labels(name, "failed").inc()
            FAILURES.labels(name).inc()
            log.exception("job failed", duration_ms=_ms_since(started))
            raise
        RUNS.labels(name, "succeeded").inc()
        log.info("job finished", duration_ms=_ms_since(started))
        return result


def _ms_since(started: float) -> float:
    return round((time.perf_counter() - started) * 1000, 1)


def enqueue(name: str, *, tenant_id: int, **kwargs: Any) -> JobHandle:
    """Queue job ``name`` for ``tenant_id`` (or run it now when no Redis is configured; or
    hold it in the database when Redis does not answer)."""
    from redis.exceptions import RedisError

    from agora.jobs.held import hold

    if name not in JOBS:
        raise LookupError(f"unknown job {name!r}")
    redis_url = current_app.config.get("AGORA_REDIS_URL")
    if not redis_url:
        from agora.db import new_id

        return JobHandle(
            id=f"inline-{new_id()}", queued=False, result=run_job(name, tenant_id, kwargs)
        )
    job_id = uuid.uuid4().hex
    try:
        queue_job(redis_url, job_id, name, tenant_id, kwargs)
    except RedisError:
        hold(job_id, name, tenant_id, kwargs)
    return JobHandle(id=job_id, queued=True)


def queue_job(
    redis_url: str, job_id: str, name: str, tenant_id: int, kwargs: dict[str, Any]
) -> None:
    get_queue(redis_url).enqueue(
        run_job,
        name,
        tenant_id,
        kwargs,
        job_id=job_id,
        job_timeout=JOB_TIMEOUT,
        result_ttl=RESULT_TTL,
    )


def get_queue(redis_url: str) -> Any:
    from redis import Redis
    from rq import Queue

    # A Redis that is gone is known within a second, not after the system's TCP timeout.
    return Queue(QUEUE_NAME, connection=Redis.from_url(redis_url, socket_connect_timeout=1))

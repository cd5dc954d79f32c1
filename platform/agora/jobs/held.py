"""Jobs held in the database while Redis cannot be reached, released to the queue later.

The rule: a job asked for while Redis is unreachable is not run in the request (a batch of
2,000 letters or a register import would outlast it) nor lost: it is written to
``held_job`` in a transaction of its own, at once, as Redis would have taken it, and the
worker moves it to the queue under the same id within ``AGORA_HELD_JOBS_SECONDS`` of Redis
answering again (``flask jobs release`` does the same by hand). Delivery is at least once:
a worker killed between the queueing and the deletion queues it again under the same id,
which is why jobs are idempotent.

``held_job`` is global, like the Redis queue it stands in for: the worker reads every
commune's held jobs before binding any (the commune travels in the row, as in the queue).
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import structlog
from flask import current_app
from prometheus_client import Counter
from sqlalchemy import BigInteger, Index, String, Text, delete, func, insert, select
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Mapped, mapped_column

from agora.db import Base, UtcDateTime, utcnow
from agora.extensions import db

RELEASE_BATCH = 100
HELD = Counter(
    "agora_jobs_held_total",
    "Jobs held in the database because Redis could not be reached, by job.",
    ["job"],
)


class HeldJob(Base):
    __tablename__ = "held_job"

    #: The job's RQ id from the start, so a handle given out while held stays valid.
    id: Mapped[str] = mapped_column(String(40), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    tenant_id: Mapped[int] = mapped_column(BigInteger)
    kwargs: Mapped[str] = mapped_column(Text)  # JSON: ids and short strings only
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)

    __table_args__ = (Index("ix_held_job_created_at", "created_at"),)


def hold(job_id: str, name: str, tenant_id: int, kwargs: dict[str, Any]) -> None:
    """Write the job down in a transaction of its own, committed before this returns."""
    with db.engine.begin() as connection:
        connection.execute(
            insert(HeldJob).values(
                id=job_id,
                name=name,
                tenant_id=tenant_id,
                kwargs=json.dumps(kwargs),
                created_at=utcnow(),
            )
        )
    HELD.labels(name).inc()
    structlog.stdlib.get_logger("agora.jobs").warning(
        "redis unreachable: job held in the database", job_id=job_id, job=name, tenant_id=tenant_id
    )


def release() -> int:
    """Queue the held jobs, oldest first, until none is left or Redis fails again; return
    how many were queued."""
    from redis.exceptions import RedisError

    from agora.jobs import queue_job

    redis_url = current_app.config.get("AGORA_REDIS_URL")
    if not redis_url:
        return 0
    released = 0
    while True:
        with db.engine.begin() as connection:
            rows = connection.execute(
                select(HeldJob.id, HeldJob.name, HeldJob.tenant_id, HeldJob.kwargs)
                .order_by(HeldJob.created_at)
                .limit(RELEASE_BATCH)
                # Two workers releasing at once share the rows out rather than both queue them.
                .with_for_update(skip_locked=True)
            ).all()
            if not rows:
                return released
            for row in rows:
                try:
                    queue_job(redis_url, row.id, row.name, row.tenant_id, json.loads(row.kwargs))
                except RedisError:
                    # The rows queued so far are deleted with this commit; the rest wait.
                    return released
                connection.execute(delete(HeldJob).where(HeldJob.id == row.id))
                released += 1


def held_count() -> int | None:
    """How many jobs are held; ``None`` when the database does not answer."""
    try:
        with db.engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(HeldJob)).scalar_one())
    except SQLAlchemyError:
        return None


def queue_states() -> dict[str, int] | None:
    """Jobs queued, running and failed in Redis; empty without Redis, ``None`` when Redis
    does not answer."""
    from redis.exceptions import RedisError

    from agora.jobs import get_queue

    redis_url = current_app.config.get("AGORA_REDIS_URL")
    if not redis_url:
        return {}
    queue = get_queue(redis_url)
    try:
        return {
            "queued": queue.count,
            "started": queue.started_job_registry.count,
            "failed": queue.failed_job_registry.count,
        }
    except RedisError:
        return None

"""Recording and verifying the audit chain.

Each event's hash covers its content and the previous event's hash, and the commune row
keeps the head of the chain: modifying or deleting any event, including the newest, breaks
the chain at a position :func:`verify_chain` reports.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select

from agora.audit.models import AuditEvent
from agora.db import DbSession, utcnow
from agora.tenancy.models import Tenant

GENESIS_HASH = "0" * 64


def _utc_text(moment: datetime) -> str:
    # SQLite hands back naive datetimes: they were stored in UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def event_hash(event: AuditEvent) -> str:
    content = {
        "tenant_id": event.tenant_id,
        "seq": event.seq,
        "occurred_at": _utc_text(event.occurred_at),
        "actor": event.actor,
        "action": event.action,
        "object_type": event.object_type,
        "object_id": event.object_id,
        "details": event.details,
        "public": event.public,
        "prev_hash": event.prev_hash,
    }
    canonical = json.dumps(content, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def record(
    session: DbSession,
    tenant: Tenant,
    *,
    actor: str,
    action: str,
    object_type: str,
    object_id: str | int,
    details: dict[str, Any] | None = None,
    public: bool = False,
) -> AuditEvent:
    """Append an event to ``tenant``'s chain, in the caller's transaction.

    The commune row is locked (``FOR NO KEY UPDATE``) so that concurrent writers extend the
    chain one after the other instead of forking it. Not ``FOR UPDATE``: that conflicts with
    the key-share lock every foreign key to the commune takes, so two writers that had each
    inserted a row of the commune before appending to the chain would wait for each other.
    """
    # populate_existing: the commune may already sit in the session with a stale head.
    locked = session.execute(
        select(Tenant)
        .where(Tenant.id == tenant.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()
    event = AuditEvent(
        tenant_id=locked.id,
        seq=locked.audit_head_seq + 1,
        occurred_at=utcnow(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
        public=public,
        prev_hash=locked.audit_head_hash or GENESIS_HASH,
    )
    event.hash = event_hash(event)
    session.add(event)
    locked.audit_head_seq = event.seq
    locked.audit_head_hash = event.hash
    return event


@dataclass(frozen=True)
class ChainReport:
    events: int
    problems: list[str]

    @property
    def intact(self) -> bool:
        return not self.problems


def verify_chain(session: DbSession, tenant: Tenant) -> ChainReport:
    """Recompute ``tenant``'s chain and list every break (modified, missing or extra event)."""
    problems: list[str] = []
    expected_prev = GENESIS_HASH
    expected_seq = 1
    count = 0
    events = session.execute(
        select(AuditEvent).where(AuditEvent.tenant_id == tenant.id).order_by(AuditEvent.seq)
    ).scalars()
    for event in events:
        count += 1
        if event.seq != expected_seq:
            problems.append(f"events {expected_seq} to {event.seq - 1} are missing")
        if event.prev_hash != expected_prev:
            problems.append(f"event {event.seq} does not follow the previous event's hash")
        if event_hash(event) != event.hash:
            problems.append(f"event {event.seq} was modified after it was recorded")
        expected_prev = event.hash
        expected_seq = event.seq + 1
    head_seq = tenant.audit_head_seq
    if expected_seq - 1 != head_seq:
        problems.append(
            f"the chain ends at event {expected_seq - 1} but the commune's head is event {head_seq}"
        )
    elif head_seq and expected_prev != tenant.audit_head_hash:
        problems.append(f"event {head_seq} does not match the commune's recorded head hash")
    return ChainReport(count, problems)

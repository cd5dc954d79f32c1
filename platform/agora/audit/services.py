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

from sqlalchemy import select, text
from sqlalchemy.orm.attributes import set_committed_value

from agora.audit.models import AuditEvent
from agora.db import DbSession, utcnow
from agora.tenancy.models import Tenant

GENESIS_HASH = "0" * 64


def _utc_text(moment: datetime) -> str:
    # SQLite hands back naive datetimes: they were stored in UTC.
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _canonical_parts(event: AuditEvent) -> tuple[str, str, str]:
    """The canonical text an event's hash covers — its fields as sorted, compact JSON — cut
    where its place in the chain goes: before the previous event's hash, before the sequence
    number, after it. (Those two sort after every other field but ``public`` and
    ``tenant_id``, so the cuts fall at fixed places.) PostgreSQL's ``audit_append`` fills
    them in under the chain's lock."""
    known = json.dumps(
        {
            "action": event.action,
            "actor": event.actor,
            "details": event.details,
            "object_id": event.object_id,
            "object_type": event.object_type,
            "occurred_at": _utc_text(event.occurred_at),
        },
        sort_keys=True,
        separators=(",", ":"),
        ensure_ascii=False,
    )
    return (
        known[:-1] + ',"prev_hash":"',
        '","public":' + json.dumps(event.public) + ',"seq":',
        ',"tenant_id":' + json.dumps(event.tenant_id) + "}",
    )


def event_hash(event: AuditEvent) -> str:
    """SHA-256 of the event's fields as sorted, compact JSON (its previous hash included)."""
    before_prev, before_seq, after_seq = _canonical_parts(event)
    canonical = before_prev + event.prev_hash + before_seq + str(event.seq) + after_seq
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

    The chain's head, on the commune row, is locked (``FOR NO KEY UPDATE``) until the
    transaction ends, so that concurrent writers extend the chain one after the other
    instead of forking it. Not ``FOR UPDATE``: that conflicts with the key-share lock every
    foreign key to the commune takes, so two writers that had each inserted a row of the
    commune before appending to the chain would wait for each other. On PostgreSQL the lock,
    the hash, the event and the new head are one statement (``audit_append``, migration
    0024): the lock is held for that statement and the commit, not for four round trips.
    """
    event = AuditEvent(
        tenant_id=tenant.id,
        occurred_at=utcnow(),
        actor=actor,
        action=action,
        object_type=object_type,
        object_id=str(object_id),
        details=details or {},
        public=public,
    )
    if session.get_bind(AuditEvent).dialect.name == "postgresql":
        return _append_on_server(session, tenant, event)
    # populate_existing: the commune may already sit in the session with a stale head.
    locked = session.execute(
        select(Tenant)
        .where(Tenant.id == tenant.id)
        .with_for_update(key_share=True)
        .execution_options(populate_existing=True)
    ).scalar_one()
    event.seq = locked.audit_head_seq + 1
    event.prev_hash = locked.audit_head_hash or GENESIS_HASH
    event.hash = event_hash(event)
    session.add(event)
    locked.audit_head_seq = event.seq
    locked.audit_head_hash = event.hash
    return event


_APPEND = text(
    "SELECT event_seq, event_prev_hash, event_hash FROM audit_append(:tenant_id, "
    ":occurred_at, :actor, :action, :object_type, :object_id, CAST(:details AS json), "
    ":public, :before_prev, :before_seq, :after_seq)"
)


def _append_on_server(session: DbSession, tenant: Tenant, event: AuditEvent) -> AuditEvent:
    """``event`` placed in the chain by ``audit_append`` (it is inserted there, not through
    the session), with its sequence number and both hashes filled in."""
    before_prev, before_seq, after_seq = _canonical_parts(event)
    # The session's pending rows first: they were written before the event that records them.
    session.flush()
    event.seq, event.prev_hash, event.hash = session.execute(
        _APPEND,
        {
            "tenant_id": event.tenant_id,
            "occurred_at": event.occurred_at,
            "actor": event.actor,
            "action": event.action,
            "object_type": event.object_type,
            "object_id": event.object_id,
            "details": json.dumps(event.details, ensure_ascii=False),
            "public": event.public,
            "before_prev": before_prev,
            "before_seq": before_seq,
            "after_seq": after_seq,
        },
    ).one()
    if tenant in session:
        # The head moved behind the session's back: its copy of the commune follows, clean.
        set_committed_value(tenant, "audit_head_seq", event.seq)
        set_committed_value(tenant, "audit_head_hash", event.hash)
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

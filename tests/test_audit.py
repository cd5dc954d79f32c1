"""The audit log: hash-chained per commune, append-only, verifiable from the command line."""

from __future__ import annotations

from datetime import UTC
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, select, text

from agora.audit import services as audit
from agora.audit.models import AuditEvent
from agora.extensions import db
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from support.fixtures import Database


def _add_events(app: Flask, slug: str, count: int) -> None:
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == slug)).scalar_one()
        with tenant_scope(db.session, tenant.id):
            for number in range(count):
                audit.record(
                    db.session,
                    tenant,
                    actor="test",
                    action="test.event",
                    object_type="thing",
                    object_id=number,
                    details={"n": number},
                )
        db.session.commit()


def _tamper(database: Database, slug: str, statement: str) -> None:
    # The owner role, as a DBA with table access would: FORCE RLS binds it too, so bind.
    with database.owner.begin() as connection:
        tenant_id = connection.execute(
            text("SELECT id FROM tenant WHERE slug = :s"), {"s": slug}
        ).scalar()
        if database.is_postgresql:
            connection.execute(
                text("SELECT set_config('app.tenant_id', :t, true)"), {"t": str(tenant_id)}
            )
        connection.execute(text(statement), {"t": tenant_id})


def test_intact_chain_verifies(runner: Any, app: Flask, onboarded: Path) -> None:
    _add_events(app, "poitiers", 5)
    result = runner.invoke(args=["audit", "verify", "poitiers"])
    assert result.exit_code == 0, result.output
    assert "poitiers: audit chain intact (7 events)" in result.output


TAMPERING = {
    "modified": (
        "UPDATE audit_event SET actor = 'someone else' WHERE tenant_id = :t AND seq = 4",
        "event 4 was modified after it was recorded",
    ),
    "deleted": (
        "DELETE FROM audit_event WHERE tenant_id = :t AND seq = 3",
        "events 3 to 3 are missing",
    ),
    "newest deleted": (
        "DELETE FROM audit_event WHERE tenant_id = :t AND seq = 7",
        "the chain ends at event 6 but the commune's head is event 7",
    ),
    "details rewritten": (
        "UPDATE audit_event SET details = '{\"n\": 99}' WHERE tenant_id = :t AND seq = 5",
        "event 5 was modified after it was recorded",
    ),
}


@pytest.mark.parametrize("kind", sorted(TAMPERING))
def test_tampering_is_detected(
    runner: Any, app: Flask, database: Database, onboarded: Path, kind: str
) -> None:
    _add_events(app, "poitiers", 5)
    _add_events(app, "grenoble", 2)
    statement, message = TAMPERING[kind]
    _tamper(database, "poitiers", statement)
    result = runner.invoke(args=["audit", "verify", "poitiers"])
    assert result.exit_code == 1
    assert "poitiers: audit chain BROKEN" in result.output
    assert message in result.output
    # The other commune's chain is unaffected.
    assert runner.invoke(args=["audit", "verify", "grenoble"]).exit_code == 0


def test_verify_all_reports_every_commune(
    runner: Any, app: Flask, database: Database, onboarded: Path
) -> None:
    _add_events(app, "poitiers", 5)
    _add_events(app, "grenoble", 2)
    assert runner.invoke(args=["audit", "verify", "--all"]).exit_code == 0
    statement, message = TAMPERING["deleted"]
    _tamper(database, "poitiers", statement)
    result = runner.invoke(args=["audit", "verify", "--all"])
    assert result.exit_code == 1
    assert "grenoble: audit chain intact (4 events)" in result.output
    assert "poitiers: audit chain BROKEN" in result.output
    assert message in result.output


@pytest.mark.parametrize("args", [[], ["poitiers", "--all"]], ids=["neither", "both"])
def test_verify_takes_one_commune_or_all(
    runner: Any, app: Flask, onboarded: Path, args: list[str]
) -> None:
    result = runner.invoke(args=["audit", "verify", *args])
    assert result.exit_code == 2
    assert "give one commune's SLUG or --all" in result.output


def test_verify_unknown_commune(runner: Any, app: Flask) -> None:
    result = runner.invoke(args=["audit", "verify", "atlantis"])
    assert result.exit_code == 1
    assert "no commune 'atlantis'" in result.output


def test_app_role_cannot_rewrite_history(
    postgresql_database: Database, app: Flask, onboarded: Path
) -> None:
    engine = create_engine(postgresql_database.app_url)
    try:
        for statement in ("UPDATE audit_event SET actor = 'x'", "DELETE FROM audit_event"):
            with (
                engine.connect() as connection,
                pytest.raises(Exception, match="permission denied"),
            ):
                connection.execute(text(statement))
    finally:
        engine.dispose()


def test_concurrent_writers_extend_one_chain(
    postgresql_database: Database, app: Flask, onboarded: Path
) -> None:
    """Three sessions appending at once: the commune row lock serialises them.

    (SQLite, the single-user embedded default, has no row locks: there the primary key
    refuses the second writer of a position, so the chain cannot fork either.)
    """
    import threading

    errors: list[BaseException] = []

    def write() -> None:
        try:
            _add_events(app, "poitiers", 10)
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write) for _ in range(3)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            report = audit.verify_chain(db.session, tenant)
    assert report.intact, report.problems
    assert report.events == 2 + 10 * 3


def test_writers_holding_a_reference_to_the_commune_do_not_deadlock(
    postgresql_database: Database, app: Flask, onboarded: Path
) -> None:
    """Two desks checking people in at once: each first writes a row referring to the commune
    (its foreign key takes a key-share lock on the commune's row), then appends to the chain.
    The chain's lock must not conflict with those key-share locks, or each writer waits for
    the other and PostgreSQL aborts one (found by bench/assembly_day.py)."""
    import threading

    from agora.shared.people import Person

    both_wrote = threading.Barrier(2, timeout=10)
    errors: list[BaseException] = []

    def write(name: str) -> None:
        try:
            with app.app_context():
                tenant = db.session.execute(
                    select(Tenant).where(Tenant.slug == "poitiers")
                ).scalar_one()
                with tenant_scope(db.session, tenant.id):
                    db.session.add(Person(tenant_id=tenant.id, display_name=name))
                    db.session.flush()
                    both_wrote.wait()
                    audit.record(
                        db.session,
                        tenant,
                        actor="test",
                        action="test.event",
                        object_type="person",
                        object_id=name,
                    )
                db.session.commit()
        except BaseException as error:  # reported below
            errors.append(error)

    threads = [threading.Thread(target=write, args=(name,)) for name in ("A", "B")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors, errors
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            report = audit.verify_chain(db.session, tenant)
    assert report.intact, report.problems
    assert report.events == 2 + 2


def _hash_as_first_written(event: Any) -> str:
    """The event hash as it was defined when the first chains were written: SHA-256 of every
    field as one sorted, compact JSON object. Chains already stored must still verify."""
    import hashlib
    import json

    content = {
        "tenant_id": event.tenant_id,
        "seq": event.seq,
        "occurred_at": event.occurred_at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ"),
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


def test_events_are_hashed_as_the_chains_already_stored(app: Flask, onboarded: Path) -> None:
    details = {
        "titre": "Vœu « mobilités » — ça roule",
        "quote": 'il a dit "non"\\ puis\nrien',
        "nested": {"b": [1, 2.5, None, True], "a": "é"},
    }
    with app.app_context():
        tenant = db.session.execute(select(Tenant).where(Tenant.slug == "poitiers")).scalar_one()
        with tenant_scope(db.session, tenant.id):
            head = tenant.audit_head_seq
            for public in (True, False):
                event = audit.record(
                    db.session,
                    tenant,
                    actor="account:42",
                    action="édition.ouverte",
                    object_type="edition",
                    object_id=2027,
                    details=details,
                    public=public,
                )
                assert event.hash == _hash_as_first_written(event)
            # The session's copy of the commune follows its head.
            assert tenant.audit_head_seq == head + 2 == event.seq
            assert tenant.audit_head_hash == event.hash
        db.session.commit()
        with tenant_scope(db.session, tenant.id):
            stored = db.session.execute(
                select(AuditEvent).where(
                    AuditEvent.tenant_id == tenant.id,
                    AuditEvent.seq > head,
                )
            ).scalars()
            for row in stored:
                assert row.details == details
                assert row.hash == _hash_as_first_written(row)
            assert audit.verify_chain(db.session, tenant).intact

"""One migration stream builds the schema, and it agrees with the models."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask_migrate import check
from sqlalchemy import select, text

from agora import create_app
from agora.extensions import db
from agora.tenancy.rls import tenant_rls_statements
from support.fixtures import APP_ROLE, Database

pytestmark = pytest.mark.embedded  # see tests/conftest.py


def test_models_and_migrations_agree(database: Database) -> None:
    url = database.owner.url.render_as_string(hide_password=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    with app.app_context():
        try:
            check()  # alembic check: fails when autogenerate would emit anything
        except SystemExit as exit_:
            pytest.fail(f"models and migrations disagree (exit {exit_.code})")
        finally:
            db.engine.dispose()


def test_rls_helper_emits_enable_force_and_policy() -> None:
    statements = tenant_rls_statements("ballot")
    assert statements[0] == "ALTER TABLE ballot ENABLE ROW LEVEL SECURITY"
    assert statements[1] == "ALTER TABLE ballot FORCE ROW LEVEL SECURITY"
    assert "NULLIF(current_setting('app.tenant_id', true), '')::bigint" in statements[2]
    assert "WITH CHECK" in statements[2]


def test_notifications_written_before_0011_keep_their_text_as_legacy(
    database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """0011 turns each stored text into a ``legacy`` notification shown as it was written
    (on PostgreSQL too, where forced row-level security hides every row from a migration
    that binds no commune), and its downgrade gives the text back."""
    from flask_migrate import downgrade, upgrade

    # The tables dropped and created again must be granted to the tests' app role, as at the
    # database's creation: the tests that follow use that role.
    monkeypatch.setenv("AGORA_APP_ROLE", APP_ROLE)

    url = database.owner.url.render_as_string(hide_password=False)
    app = create_app({"SQLALCHEMY_DATABASE_URI": url, "TESTING": True})
    bind = "SELECT set_config('app.tenant_id', '7', true)"
    text_row = {"kind": "review.invited", "subject": "Invitation", "body": "Le 17.", "link": "/a"}

    def rows(sql: str) -> list[Any]:
        with database.owner.begin() as connection:
            if database.is_postgresql:
                connection.execute(text(bind))
            return list(connection.execute(text(sql)).mappings())

    with app.app_context():
        try:
            downgrade(revision="0010")
            with database.owner.begin() as connection:
                connection.execute(
                    text(
                        "INSERT INTO tenant (id, slug, name, insee_code, kind, population, "
                        "status, locale, audit_head_seq, audit_head_hash, created_at) VALUES "
                        "(7, 'essai', 'Essai', '00007', 'commune', 1, 'active', 'fr', 0, '', "
                        "CURRENT_TIMESTAMP)"
                    )
                )
                connection.execute(
                    text(
                        "INSERT INTO account (id, display_name, is_platform_admin, "
                        "totp_confirmed, created_at) VALUES (5, '', false, false, "
                        "CURRENT_TIMESTAMP)"
                    )
                )
                if database.is_postgresql:
                    connection.execute(text(bind))
                connection.execute(
                    text(
                        "INSERT INTO person (tenant_id, id, display_name, account_id, postcode, "
                        "created_at) VALUES (7, 11, 'Camille', 5, '', CURRENT_TIMESTAMP)"
                    )
                )
                connection.execute(
                    text(
                        "INSERT INTO notification (tenant_id, id, person_id, kind, subject, body, "
                        "link, created_at) VALUES (7, 13, 11, :kind, :subject, :body, :link, "
                        "CURRENT_TIMESTAMP)"
                    ),
                    text_row,
                )
            upgrade()
            (row,) = rows("SELECT * FROM notification")
            assert set(row) == {
                "tenant_id", "id", "person_id", "kind", "params", "emailed_at", "read_at",
                "created_at",
            }  # fmt: skip
            params = row["params"] if database.is_postgresql else json.loads(row["params"])
            assert (row["kind"], params) == ("legacy", text_row)
            assert rows("SELECT locale FROM account") == [{"locale": "fr"}]

            downgrade(revision="0010")
            (row,) = rows("SELECT kind, subject, body, link FROM notification")
            assert dict(row) == text_row
        finally:
            upgrade()
            db.engine.dispose()
            database.wipe()


def test_registers_stored_one_row_each_are_packed_by_0026_and_unpacked_by_its_downgrade(
    app: Flask, onboarded: Path, database: Database, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A register stored before 0026 (one ``register_row`` each) keeps every entry once
    packed into blocks, and its invitations get the contact their letters need; the downgrade
    gives the rows back."""
    from flask_migrate import downgrade, upgrade

    from agora.draws import services
    from agora.draws.models import Invitation, Register
    from agora.tenancy.isolation import tenant_scope
    from support.draws_record import ADDRESSES, INVITED, closed_draw

    monkeypatch.setenv("AGORA_APP_ROLE", APP_ROLE)  # tables made again are granted to it
    drawn = closed_draw(app)

    def stored() -> tuple[list[tuple[str, str, str, dict[str, str]]], dict[str, dict[str, str]]]:
        with app.app_context(), tenant_scope(db.session, drawn.tenant_id):
            register = db.session.execute(select(Register)).scalar_one()
            entries = sorted(
                (block.person(i), block.household(i), block.strata[i], block.contact_of(i))
                for block in services.read_blocks(db.session, register)
                for i in range(len(block))
            )
            contacts = {
                invitation.person_hash: dict(invitation.contact)
                for invitation in db.session.execute(select(Invitation)).scalars()
            }
            db.session.rollback()
            return entries, contacts

    entries, _contacts = stored()
    assert len(entries) == ADDRESSES
    owner = create_app(
        {"SQLALCHEMY_DATABASE_URI": database.owner.url.render_as_string(hide_password=False)}
    )
    with owner.app_context():
        try:
            downgrade(revision="0025")
            with database.owner.begin() as connection:
                if database.is_postgresql:
                    connection.execute(text("ALTER TABLE register_row NO FORCE ROW LEVEL SECURITY"))
                count = connection.execute(text("SELECT count(*) FROM register_row")).scalar_one()
                if database.is_postgresql:
                    connection.execute(text("ALTER TABLE register_row FORCE ROW LEVEL SECURITY"))
            assert count == ADDRESSES
        finally:
            upgrade()
            db.engine.dispose()
    packed, contacts = stored()
    assert packed == entries
    by_person = {person: contact for person, _home, _stratum, contact in entries}
    assert len(contacts) == INVITED
    assert all(contact == by_person[person] and contact for person, contact in contacts.items())

"""One migration stream builds the schema, and it agrees with the models."""

from __future__ import annotations

import pytest
from flask_migrate import check

from agora import create_app
from agora.extensions import db
from agora.tenancy.rls import tenant_rls_statements
from support.fixtures import Database


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

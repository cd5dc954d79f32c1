"""Row-level security statements for tenant-owned tables, used by migrations.

Each tenant table gets RLS enabled *and forced* (so the owner is bound too) and one policy
comparing ``tenant_id`` with the transaction's ``app.tenant_id`` setting. With no commune
bound the setting is empty, ``NULLIF`` turns it into NULL, and no row matches: default deny.
"""

from __future__ import annotations

import os
import re
from typing import Any

from agora.tenancy.isolation import TENANT_SETTING

POLICY = f"tenant_id = NULLIF(current_setting('{TENANT_SETTING}', true), '')::bigint"


_IDENTIFIER = re.compile(r"^[a-z_][a-z0-9_]*$")
_PRIVILEGES = re.compile(r"^(SELECT|INSERT|UPDATE|DELETE)(, (SELECT|INSERT|UPDATE|DELETE))*$")


def _identifier(name: str) -> str:
    # Statements are assembled from names (DDL takes no bind parameters): accept plain ones only.
    if not _IDENTIFIER.match(name):
        raise ValueError(f"not a plain SQL identifier: {name!r}")
    return name


def app_role() -> str:
    return _identifier(os.environ.get("AGORA_APP_ROLE", "agora_app"))


def grant_statement(table: str, privileges: str) -> str:
    """Grant ``privileges`` on ``table`` to the web app's role, when that role exists."""
    role, table = app_role(), _identifier(table)
    if not _PRIVILEGES.match(privileges):
        raise ValueError(f"unexpected privileges: {privileges!r}")
    return (
        "DO $$ BEGIN "  # noqa: S608 - every part is checked above
        f"IF EXISTS (SELECT 1 FROM pg_roles WHERE rolname = '{role}') THEN "
        f"EXECUTE 'GRANT {privileges} ON {table} TO {role}'; "
        "END IF; END $$"
    )


def tenant_rls_statements(
    table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE"
) -> list[str]:
    return [
        f"ALTER TABLE {table} ENABLE ROW LEVEL SECURITY",
        f"ALTER TABLE {table} FORCE ROW LEVEL SECURITY",
        f"CREATE POLICY tenant_isolation ON {table} USING ({POLICY}) WITH CHECK ({POLICY})",
        grant_statement(table, privileges),
    ]


def _run(op: Any, statements: list[str]) -> None:
    if op.get_bind().dialect.name == "postgresql":
        for statement in statements:
            op.execute(statement)


def enable_tenant_rls(
    op: Any, table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE"
) -> None:
    """Give a new tenant table row-level security and grant the app role ``privileges``."""
    _run(op, tenant_rls_statements(table, privileges))


def grant_global_table(
    op: Any, table: str, privileges: str = "SELECT, INSERT, UPDATE, DELETE"
) -> None:
    """Grant the app role ``privileges`` on a global (not tenant-owned) table."""
    _run(op, [grant_statement(table, privileges)])

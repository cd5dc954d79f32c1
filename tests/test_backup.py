"""Backups that restore (deploy/backup/): the nightly dump, made by the backup role, comes
back into a new database with every row of every commune and every audit chain intact; and
a dump made by the application's role could not have been the backup."""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

from agora import create_app
from agora.assembly import bodies, editions
from agora.db import TENANT_TABLES
from agora.extensions import db
from agora.plugins.manager import get_registry
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.services import current_config, tenant_by_slug
from support.assembly import build_edition
from support.fixtures import APP_ROLE, OWNER_ROLE, PG_ADMIN_URL, ROOT, Database

BACKUP_ROLE = "agora_test_backup"
SCRIPTS = ROOT / "deploy" / "backup"


def _admin_url() -> URL:
    assert PG_ADMIN_URL is not None
    return make_url(PG_ADMIN_URL).set(drivername="postgresql+psycopg")


def _libpq(url: URL) -> str:
    """A URL pg_dump, pg_restore and psql understand (no SQLAlchemy driver suffix)."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _admin_sql(statement: str) -> None:
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text(statement))
    finally:
        admin.dispose()


@pytest.fixture
def backup_role(postgresql_database: Database) -> str:
    """The backup role as deploy/postgres/init.sql creates it: BYPASSRLS, read-only."""
    admin = create_engine(_admin_url(), isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as connection:
            connection.execute(text("SELECT pg_advisory_lock(4201)"))  # as tests/conftest.py
            if not connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": BACKUP_ROLE}
            ).scalar():
                connection.execute(
                    text(
                        f"CREATE ROLE {BACKUP_ROLE} LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE "
                        "NOREPLICATION BYPASSRLS INHERIT"
                    )
                )
                connection.execute(text(f"GRANT pg_read_all_data TO {BACKUP_ROLE}"))
            connection.execute(text("SELECT pg_advisory_unlock(4201)"))
    finally:
        admin.dispose()
    return BACKUP_ROLE


def _database_url(database: Database, role: str) -> URL:
    return make_url(database.app_url).set(username=role)


def _run(script: str, *args: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCRIPTS / script), *args],
        env={**os.environ, **env},
        capture_output=True,
        text=True,
        timeout=120,
    )


def _backup(url: URL, folder: Path) -> Path:
    done = _run(
        "agora-backup",
        env={"AGORA_BACKUP_DATABASE_URL": _libpq(url), "AGORA_BACKUP_DIR": str(folder)},
    )
    assert done.returncode == 0, done.stderr
    dump = Path(done.stdout.strip().splitlines()[-1])
    assert dump.parent == folder and dump.name.endswith(".dump") and dump.stat().st_size > 0
    return dump


@pytest.fixture
def restored(postgresql_database: Database, backup_role: str) -> Iterator[str]:
    """The name of a database that does not exist yet, dropped after the test."""
    name = f"{make_url(postgresql_database.app_url).database}_restored"
    yield name
    _admin_sql(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def _restore(dump: Path, name: str) -> None:
    done = _run(
        "agora-restore",
        str(dump),
        name,
        env={
            "AGORA_RESTORE_ADMIN_URL": _libpq(_admin_url()),
            "AGORA_OWNER_ROLE": OWNER_ROLE,
            "AGORA_APP_ROLE": APP_ROLE,
            "AGORA_BACKUP_ROLE": BACKUP_ROLE,
        },
    )
    assert done.returncode == 0, done.stderr


def _rows(database: str) -> dict[str, Any]:
    """Every table's row count, per commune for the tenant tables (read as the superuser,
    whom row-level security does not bind)."""
    engine = create_engine(_admin_url().set(database=database))
    counts: dict[str, Any] = {}
    try:
        with engine.connect() as connection:
            tables = connection.execute(
                text("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")
            ).scalars()
            for table in sorted(tables):
                if table in TENANT_TABLES:
                    counts[table] = dict(
                        connection.execute(
                            text(f"SELECT tenant_id, count(*) FROM {table} GROUP BY tenant_id")
                        ).all()
                    )
                else:
                    counts[table] = connection.execute(
                        text(f"SELECT count(*) FROM {table}")
                    ).scalar()
    finally:
        engine.dispose()
    return counts


def _open_edition(app: Flask, slug: str, people: int) -> None:
    """An edition of ``slug`` with its bodies, and people in its register."""
    with app.app_context():
        tenant = tenant_by_slug(db.session, slug)
        assert tenant is not None
        with tenant_scope(db.session, tenant.id):
            version = current_config(db.session, tenant)
            assert version is not None
            specs = get_registry().view(TenantConfig(version.document)).composition_rules()
            editions.open_edition(db.session, tenant, 2026, "Convention 2026", specs, "test")
            for number in range(people):
                bodies.add_person(db.session, tenant, f"Habitante {number}")
        db.session.commit()


def _tenant_ids(app: Flask) -> dict[str, int]:
    with app.app_context():
        rows = db.session.execute(text("SELECT slug, id FROM tenant")).all()
    return {slug: tenant_id for slug, tenant_id in rows}


def test_backup_restores_every_commune_with_its_audit_chain(
    postgresql_database: Database,
    app: Flask,
    onboarded: Path,
    backup_role: str,
    restored: str,
    tmp_path: Path,
) -> None:
    build_edition(app, "poitiers")  # bodies installed, subjects reviewed, sessions open
    _open_edition(app, "grenoble", people=40)
    source = make_url(postgresql_database.app_url).database
    assert source is not None
    before = _rows(source)
    ids = _tenant_ids(app)
    for slug in ("poitiers", "grenoble"):  # both communes have rows and an audit trail
        assert before["audit_event"][ids[slug]] > 1, slug
        assert before["person"][ids[slug]] >= 40, slug

    dump = _backup(_database_url(postgresql_database, backup_role), tmp_path / "backups")
    _restore(dump, restored)

    assert _rows(restored) == before
    # The restored database is served as before: the app role, its privileges and forced
    # row-level security came back with it, and every commune's chain verifies.
    restored_url = make_url(postgresql_database.app_url).set(database=restored)
    application = create_app(
        {"SQLALCHEMY_DATABASE_URI": restored_url.render_as_string(hide_password=False)}
    )
    try:
        result = application.test_cli_runner().invoke(args=["audit", "verify", "--all"])
        with application.app_context():
            unbound = db.session.execute(text("SELECT count(*) FROM audit_event")).scalar()
    finally:
        with application.app_context():
            db.engine.dispose()
    assert result.exit_code == 0, result.output
    for slug in ids:
        assert f"{slug}: audit chain intact ({before['audit_event'].get(ids[slug], 0)} events)" in (
            result.output
        )
    assert unbound == 0


def _communes_in_dump(dump: Path) -> dict[str, set[int]]:
    """The ``tenant_id`` values of each tenant table's rows in a dump (its COPY data)."""
    script = subprocess.run(
        ["pg_restore", "--data-only", "--file=-", str(dump)],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found: dict[str, set[int]] = {}
    rows: list[str] = []
    table, column = "", -1
    for line in script.splitlines():
        if line.startswith("COPY public."):
            table = line.removeprefix("COPY public.").split(" ", 1)[0]
            columns = line[line.index("(") + 1 : line.index(")")].split(", ")
            column = columns.index("tenant_id") if table in TENANT_TABLES else -1
            rows = []
        elif line == "\\." and table:
            if column >= 0:
                found[table] = {int(row.split("\t")[column]) for row in rows}
            table = ""
        elif table:
            rows.append(line)
    return found


def test_app_role_cannot_take_the_backup(
    postgresql_database: Database, app: Flask, onboarded: Path, backup_role: str, tmp_path: Path
) -> None:
    """Why the backup has its own role: forced row-level security binds the app role in a
    dump as anywhere else. pg_dump refuses to dump what row security would filter, and a
    dump that lets it filter holds the bound commune alone."""
    ids = _tenant_ids(app)
    app_url = _database_url(postgresql_database, APP_ROLE)
    folder = tmp_path / "backups"
    refused = _run(
        "agora-backup",
        env={"AGORA_BACKUP_DATABASE_URL": _libpq(app_url), "AGORA_BACKUP_DIR": str(folder)},
    )
    assert refused.returncode != 0
    assert not list(folder.iterdir())  # no partial file left for a restore to pick up

    def dump_as_app(dump: Path, *options: str) -> subprocess.CompletedProcess[str]:
        # The tenant tables, which the app role may read (it may not read every table).
        tables = [f"--table={table}" for table in sorted(TENANT_TABLES)]
        return subprocess.run(
            ["pg_dump", "--format=custom", f"--file={dump}", *tables, *options, _libpq(app_url)],
            env={**os.environ, "PGOPTIONS": f"-c app.tenant_id={ids['poitiers']}"},
            capture_output=True,
            text=True,
            timeout=120,
        )

    refused = dump_as_app(tmp_path / "refused.dump")
    assert refused.returncode != 0
    assert "row-level security" in refused.stderr

    filtered = dump_as_app(tmp_path / "poitiers-only.dump", "--enable-row-security")
    assert filtered.returncode == 0, filtered.stderr
    communes = _communes_in_dump(tmp_path / "poitiers-only.dump")
    assert communes["audit_event"] == {ids["poitiers"]}
    assert set().union(*communes.values()) == {ids["poitiers"]}
    # The backup role's dump of the same database holds both communes.
    dump = _backup(_database_url(postgresql_database, backup_role), folder)
    assert _communes_in_dump(dump)["audit_event"] == set(ids.values())

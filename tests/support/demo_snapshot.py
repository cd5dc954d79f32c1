"""The demonstration, loaded for real once per worker and database, then put back.

``flask demo load`` takes 20 to 60 s (every story goes through the real services: draws,
visits, votes, petitions, each with its audit event), and some thirty tests start from it.
The first load in a worker runs the command and keeps what it wrote: every table's rows
and the files it left in the upload folder. The next tests that ask for the same communes
get that state back in a second or two, provided their database holds what the first one
held before its load (the same rows per table: the communes onboarded and nothing else);
otherwise the command runs. The loader's own tests run the command.

Every row is put back as the first load left it, the communes onboarded before it
included: identifiers (``db.new_id``, time-ordered) and timestamps are those of the first
load, a few minutes old at most. A test must therefore not keep an identifier read before
it loads the demonstration.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from flask import Flask
from sqlalchemy import Connection, func, insert, select, text

from agora.db import Base
from support.fixtures import Database


@dataclass(frozen=True)
class _Saved:
    rows_before: dict[str, int]
    tables: dict[str, Any]  # COPY's text on PostgreSQL, rows on SQLite
    files: dict[str, bytes]


#: Per worker process: (database, communes, day) → what the first load left.
_SAVED: dict[tuple[str, tuple[str, ...], dt.date], _Saved] = {}


def _row_counts(connection: Connection) -> dict[str, int]:
    return {
        table.name: connection.execute(select(func.count()).select_from(table)).scalar_one()
        for table in Base.metadata.sorted_tables
    }


def _files(folder: Path) -> dict[str, bytes]:
    if not folder.is_dir():
        return {}
    return {
        str(path.relative_to(folder)): path.read_bytes()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def _capture(database: Database, connection: Connection) -> dict[str, Any]:
    if database.is_postgresql:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        tables: dict[str, Any] = {}
        for table in Base.metadata.sorted_tables:
            with cursor.copy(f"COPY {table.name} TO STDOUT") as copy:
                tables[table.name] = b"".join(bytes(block) for block in copy)
        return tables
    return {
        table.name: [dict(row._mapping) for row in connection.execute(select(table))]
        for table in Base.metadata.sorted_tables
    }


def _restore(database: Database, connection: Connection, saved: _Saved) -> None:
    if database.is_postgresql:
        cursor = connection.connection.driver_connection.cursor()  # type: ignore[union-attr]
        for table in Base.metadata.sorted_tables:
            if saved.tables[table.name]:
                with cursor.copy(f"COPY {table.name} FROM STDIN") as copy:
                    copy.write(saved.tables[table.name])
        return
    for table in Base.metadata.sorted_tables:
        if saved.tables[table.name]:
            connection.execute(insert(table), saved.tables[table.name])


def load_demo(app: Flask, runner: Any, database: Database, *communes: str) -> None:
    """``flask demo load <communes>``, or the state it left, put back (see above)."""
    engine = database.superuser or database.owner
    key = (database.app_url, communes, dt.date.today())
    with engine.connect() as connection:
        before = _row_counts(connection)
    saved = _SAVED.get(key)
    if saved is not None and saved.rows_before == before:
        database.wipe()
        with engine.begin() as connection:
            if database.superuser is not None:
                connection.execute(text("SET LOCAL session_replication_role = replica"))
            _restore(database, connection, saved)
        folder = Path(app.config["AGORA_UPLOAD_DIR"])
        for name, content in saved.files.items():
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            (folder / name).write_bytes(content)
        return
    result = runner.invoke(args=["demo", "load", *communes])
    assert result.exit_code == 0, result.output
    if saved is None:
        with engine.begin() as connection:
            tables = _capture(database, connection)
        _SAVED[key] = _Saved(before, tables, _files(Path(app.config["AGORA_UPLOAD_DIR"])))

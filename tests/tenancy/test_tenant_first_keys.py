"""The schema, as the real migrations build it on PostgreSQL, can be distributed by
``tenant_id`` (Citus; deploy/CAPACITY.md): every link between two tenant tables pairs the
communes' ids, every unique index of a tenant table holds ``tenant_id``, and no global
table points into a tenant table. A distributed database enforces only such constraints."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Connection, text

from agora.db import TENANT_TABLES
from support.fixtures import Database


@dataclass(frozen=True)
class ForeignKey:
    name: str
    table: str
    columns: tuple[str, ...]
    target: str
    target_columns: tuple[str, ...]

    def __str__(self) -> str:
        return (
            f"{self.name}: {self.table}({', '.join(self.columns)}) → "
            f"{self.target}({', '.join(self.target_columns)})"
        )


def _columns(key: str, table: str) -> str:
    """The names of a constraint's columns (``key``: conkey or confkey), in key order."""
    return (
        f"ARRAY(SELECT a.attname::text FROM unnest(k.{key}) WITH ORDINALITY AS u(attnum, i) "
        f"JOIN pg_attribute a ON a.attrelid = k.{table} AND a.attnum = u.attnum ORDER BY u.i)"
    )


def _foreign_keys(connection: Connection) -> list[ForeignKey]:
    rows = connection.execute(
        text(
            f"SELECT k.conname, src.relname, {_columns('conkey', 'conrelid')}, dst.relname, "
            f"{_columns('confkey', 'confrelid')} FROM pg_constraint k "
            "JOIN pg_class src ON src.oid = k.conrelid "
            "JOIN pg_class dst ON dst.oid = k.confrelid "
            "JOIN pg_namespace n ON n.oid = src.relnamespace AND n.nspname = 'public' "
            "WHERE k.contype = 'f' ORDER BY k.conname"
        )
    ).all()
    return [
        ForeignKey(name, src, tuple(cols), dst, tuple(refs)) for name, src, cols, dst, refs in rows
    ]


def test_foreign_keys_between_tenant_tables_pair_tenant_ids(
    postgresql_database: Database,
) -> None:
    with postgresql_database.owner.connect() as connection:
        keys = _foreign_keys(connection)
    between = [k for k in keys if k.table in TENANT_TABLES and k.target in TENANT_TABLES]
    assert between  # the query reads the catalogue, not nothing
    unpaired = [
        str(k)
        for k in between
        if ("tenant_id", "tenant_id") not in zip(k.columns, k.target_columns, strict=True)
    ]
    assert not unpaired, "\n".join(unpaired)


def test_no_global_table_points_into_a_tenant_table(postgresql_database: Database) -> None:
    # Global tables become reference tables, copied to every node: a reference table
    # cannot hold a foreign key to a distributed table.
    with postgresql_database.owner.connect() as connection:
        keys = _foreign_keys(connection)
    into = [str(k) for k in keys if k.table not in TENANT_TABLES and k.target in TENANT_TABLES]
    assert not into, "\n".join(into)


def test_unique_indexes_of_tenant_tables_hold_tenant_id(postgresql_database: Database) -> None:
    # Unique constraints and unique indexes alike (partial ones included): a distributed
    # table can only enforce uniqueness within one commune's shard.
    with postgresql_database.owner.connect() as connection:
        rows = connection.execute(
            text(
                "SELECT t.relname, i.relname FROM pg_index x "
                "JOIN pg_class t ON t.oid = x.indrelid JOIN pg_class i ON i.oid = x.indexrelid "
                "WHERE x.indisunique AND t.relname = ANY(:tables) AND NOT EXISTS ("
                "  SELECT 1 FROM pg_attribute a WHERE a.attrelid = t.oid "
                "  AND a.attnum = ANY(x.indkey) AND a.attname = 'tenant_id')"
            ),
            {"tables": sorted(TENANT_TABLES)},
        ).all()
    assert not rows, rows

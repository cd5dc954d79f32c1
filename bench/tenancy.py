"""Tenancy benchmark: does a commune's page slow down as the platform grows?

Builds a PostgreSQL database with the real migrations and roles (row-level security on,
the app connecting as a non-owner role), loads 10 communes with 200 public journal entries
each, then grows a second such database to 1,000 and then 10,000 communes × 200 entries (2
million rows). At each step it times a tenant-scoped list request (``GET /journal`` on one
commune's host, a page of 50 entries plus the count) on both databases, in alternating
rounds. Goal: at each step, the ratio of the grown database's median to the baseline's
≤ 1.2. It also prints what a journal row costs on disk (table, indexes and TOAST), the
figure deploy/CAPACITY.md sizes from.

    AGORA_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/tenancy.py
    python bench/tenancy.py --steps 10,1000       # a shorter run

The URL is a superuser connection used to create a throw-away database and its roles.
"""

from __future__ import annotations

import argparse
import io
import json
import os
import statistics
import sys
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import psycopg
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ROWS_PER_COMMUNE = 200
GOAL = 1.2
#: Communes sent to COPY at a time: the rows are generated as they are sent, never all held.
CHUNK = 500
OWNER, APP = "agora_bench_owner", "agora_bench_app"


def _create_database(admin_url: URL) -> tuple[str, URL]:
    name = f"agora_bench_{uuid.uuid4().hex[:8]}"
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        for role in (OWNER, APP):
            if not connection.execute(
                text("SELECT 1 FROM pg_roles WHERE rolname = :r"), {"r": role}
            ).scalar():
                connection.execute(text(f"CREATE ROLE {role} LOGIN NOSUPERUSER NOBYPASSRLS"))
        connection.execute(text(f"CREATE DATABASE {name} OWNER {OWNER}"))
    admin.dispose()
    return name, admin_url.set(database=name)


def _drop_database(admin_url: URL, name: str) -> None:
    admin = create_engine(admin_url, isolation_level="AUTOCOMMIT")
    with admin.connect() as connection:
        connection.execute(text(f"DROP DATABASE {name} WITH (FORCE)"))
    admin.dispose()


def _migrate(owner_url: str) -> None:
    from flask_migrate import upgrade

    from agora import create_app
    from agora.extensions import db

    os.environ["AGORA_APP_ROLE"] = APP
    app = create_app({"SQLALCHEMY_DATABASE_URI": owner_url})
    with app.app_context():
        upgrade()
        db.engine.dispose()


def _journal(first: int, last: int, now: str) -> tuple[str, str]:
    tenants, events = io.StringIO(), io.StringIO()
    for number in range(first, last):
        tenant_id = 1_000_000 + number
        tenants.write(
            f"{tenant_id}\tcommune-{number}\tCommune {number}\t{10000 + number:05d}\tcommune\t"
            f"5000\tactive\tfr\t{ROWS_PER_COMMUNE}\t{'0' * 64}\t{now}\n"
        )
        for seq in range(1, ROWS_PER_COMMUNE + 1):
            events.write(
                f"{tenant_id}\t{seq}\t{now}\tbench\tconfig.version_created\tthing\t{seq}\t"
                f'{{"n": {seq}}}\tt\t{"0" * 64}\t{"0" * 64}\n'
            )
    return tenants.getvalue(), events.getvalue()


def _load(super_url: URL, first: int, last: int) -> float:
    """Communes number ``first`` … ``last - 1``, each with its journal (COPY, as superuser,
    which row-level security does not bind). Returns the seconds it took."""
    started = time.perf_counter()
    now = datetime.now(UTC).isoformat()
    conninfo = super_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        for start in range(first, last, CHUNK):
            tenants, events = _journal(start, min(start + CHUNK, last), now)
            with cursor.copy(
                "COPY tenant (id, slug, name, insee_code, kind, population, status, locale, "
                "audit_head_seq, audit_head_hash, created_at) FROM STDIN"
            ) as copy:
                copy.write(tenants)
            with cursor.copy(
                "COPY audit_event (tenant_id, seq, occurred_at, actor, action, object_type, "
                "object_id, details, public, prev_hash, hash) FROM STDIN"
            ) as copy:
                copy.write(events)
        connection.commit()
        connection.autocommit = True
        cursor.execute("VACUUM ANALYZE tenant, audit_event")
    return time.perf_counter() - started


def _bytes_per_row(super_url: URL) -> dict[str, float]:
    """On-disk bytes per row of the journal and of the communes' table, indexes included."""
    conninfo = super_url.set(drivername="postgresql").render_as_string(hide_password=False)
    sizes = {}
    with psycopg.connect(conninfo) as connection:
        for table in ("audit_event", "tenant"):
            row = connection.execute(
                f"SELECT pg_total_relation_size('{table}'), count(*) FROM {table}"
            ).fetchone()
            assert row is not None
            sizes[table] = round(row[0] / row[1], 1)
    return sizes


ROUNDS = 4


def _client(app_url: str) -> tuple[Flask, FlaskClient]:
    from agora import create_app

    # Every request reads the journal from the database: the pages kept for visitors
    # (shared/page_cache.py) would time one lookup of the audit chain's head instead.
    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "AGORA_PUBLIC_PAGE_CACHE_SECONDS": 0})
    return app, app.test_client()


def _round(client: FlaskClient, host: str, requests: int) -> list[float]:
    timings = []
    for index in range(requests + requests // 10):
        started = time.perf_counter()
        response = client.get("/journal?page=2", headers={"Host": host})
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"GET /journal on {host} answered {response.status_code}")
        if index >= requests // 10:  # the first tenth warms caches and the pool
            timings.append(elapsed * 1000)
    return timings


def _dispose(app: Flask) -> None:
    from agora.extensions import db

    with app.app_context():
        db.engine.dispose()


def _p95(timings: list[float]) -> float:
    return statistics.quantiles(timings, n=20)[18]


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument(
        "--steps",
        default="10,1000,10000",
        help="numbers of communes, growing; the first is the baseline (default 10,1000,10000)",
    )
    args = parser.parse_args(argv)
    steps = [int(step) for step in args.steps.split(",")]
    if len(steps) < 2 or steps != sorted(set(steps)) or steps[0] <= 5:
        parser.error("--steps: at least two growing numbers of communes, the first above 5")
    admin_url = make_url(
        os.environ.get("AGORA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    ).set(drivername="postgresql+psycopg")

    # Two databases: one stays at the baseline's size, the other grows. Each step alternates
    # rounds of requests between them, so that the other load of a shared machine, which
    # comes and goes, weighs on both sides of each ratio alike.
    databases = [_create_database(admin_url) for _ in range(2)]
    (_, base_url), (_, grown_url) = databases
    timings: dict[int, list[float]] = {}
    baselines: dict[int, list[float]] = {}
    loads: dict[int, float] = {}
    apps: list[Flask] = []
    try:
        for _, url in databases:
            _migrate(url.set(username=OWNER).render_as_string(hide_password=False))
        _load(base_url, 0, steps[0])
        base_app, base_client = _client(
            base_url.set(username=APP).render_as_string(hide_password=False)
        )
        grown_app, grown_client = _client(
            grown_url.set(username=APP).render_as_string(hide_password=False)
        )
        apps = [base_app, grown_app]
        host = "commune-5.localhost"
        loaded = 0
        per_round = max(args.requests // ROUNDS, 20)
        for communes in steps:
            loads[communes] = _load(grown_url, loaded, communes)
            loaded = communes
            timings[communes], baselines[communes] = [], []
            for number in range(ROUNDS):  # ABBA: neither side always goes first
                sides = [(baselines, base_client), (timings, grown_client)]
                for measured, client in sides if number % 2 == 0 else reversed(sides):
                    measured[communes] += _round(client, host, per_round)
        sizes = _bytes_per_row(grown_url)
    finally:
        for app in apps:
            _dispose(app)
        for name, _ in databases:
            _drop_database(admin_url, name)

    ratios = {
        communes: statistics.median(timings[communes]) / statistics.median(baselines[communes])
        for communes in steps
    }
    result: dict[str, Any] = {
        "rows_per_commune": ROWS_PER_COMMUNE,
        "requests_per_step": per_round * ROUNDS,
        "steps": [
            {
                "communes": communes,
                "journal_rows": communes * ROWS_PER_COMMUNE,
                "load_seconds": round(loads[communes], 1),
                "median_ms": round(statistics.median(timings[communes]), 3),
                "baseline_median_ms": round(statistics.median(baselines[communes]), 3),
                "p95_ms": round(_p95(timings[communes]), 3),
                "ratio_to_baseline": round(ratios[communes], 3),
            }
            for communes in steps
        ],
        "bytes_per_row": sizes,
        "worst_ratio": round(max(ratios.values()), 3),
        "goal": f"ratio_to_baseline <= {GOAL} at each step",
    }
    print(
        f"tenant-scoped list request (GET /journal?page=2), per step {ROUNDS} rounds alternating "
        f"with the {steps[0]}-commune baseline database, {per_round} requests each"
    )
    print(
        f"{'communes':>10} {'rows':>10} {'load s':>7} {'median ms':>10} {'p95 ms':>8} "
        f"{'base ms':>8} {'ratio':>6}"
    )
    for communes in steps:
        print(
            f"{communes:>10} {communes * ROWS_PER_COMMUNE:>10} {loads[communes]:>7.1f} "
            f"{statistics.median(timings[communes]):>10.3f} {_p95(timings[communes]):>8.3f} "
            f"{statistics.median(baselines[communes]):>8.3f} {ratios[communes]:>6.3f}"
        )
    verdict = "OK" if result["worst_ratio"] <= GOAL else "ABOVE GOAL"
    worst = result["worst_ratio"]
    print(f"worst ratio to {steps[0]} communes: {worst:.3f} (goal <= {GOAL}): {verdict}")
    print(
        f"bytes per row, indexes included: journal {sizes['audit_event']:.0f}, "
        f"commune {sizes['tenant']:.0f}"
    )
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "tenancy.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["worst_ratio"] <= GOAL else 1)

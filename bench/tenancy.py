"""Tenancy benchmark: does a commune's page slow down as the platform grows?

Builds a PostgreSQL database with the real migrations and roles (row-level security on,
the app connecting as a non-owner role), loads 10 communes with 200 public journal entries
each, times a tenant-scoped list request (``GET /journal`` on one commune's host, a page of
50 entries plus the count), then grows the platform to 1,000 communes × 200 entries
(200,000 rows) and times the same request again. Goal: median ratio ≤ 1.2.

    AGORA_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/tenancy.py

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
from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

ROWS_PER_COMMUNE = 200
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


def _load(super_url: URL, first: int, last: int) -> None:
    """Communes number ``first`` … ``last - 1``, each with its journal (COPY, as superuser)."""
    now = datetime.now(UTC).isoformat()
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
    conninfo = super_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo) as connection, connection.cursor() as cursor:
        with cursor.copy(
            "COPY tenant (id, slug, name, insee_code, kind, population, status, locale, "
            "audit_head_seq, audit_head_hash, created_at) FROM STDIN"
        ) as copy:
            copy.write(tenants.getvalue())
        with cursor.copy(
            "COPY audit_event (tenant_id, seq, occurred_at, actor, action, object_type, "
            "object_id, details, public, prev_hash, hash) FROM STDIN"
        ) as copy:
            copy.write(events.getvalue())
        cursor.execute("ANALYZE")


def _time_requests(app_url: str, host: str, requests: int) -> list[float]:
    from agora import create_app

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url})
    client = app.test_client()
    timings = []
    for index in range(requests + requests // 10):
        started = time.perf_counter()
        response = client.get("/journal?page=2", headers={"Host": host})
        elapsed = time.perf_counter() - started
        if response.status_code != 200:
            raise SystemExit(f"GET /journal on {host} answered {response.status_code}")
        if index >= requests // 10:  # the first tenth warms caches and the pool
            timings.append(elapsed * 1000)
    from agora.extensions import db

    with app.app_context():
        db.engine.dispose()
    return timings


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400)
    parser.add_argument("--communes", type=int, default=1000)
    args = parser.parse_args(argv)
    admin_url = make_url(
        os.environ.get("AGORA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    ).set(drivername="postgresql+psycopg")

    name, super_url = _create_database(admin_url)
    try:
        _migrate(super_url.set(username=OWNER).render_as_string(hide_password=False))
        app_url = super_url.set(username=APP).render_as_string(hide_password=False)
        host = "commune-5.localhost"
        _load(super_url, 0, 10)
        small = _time_requests(app_url, host, args.requests)
        _load(super_url, 10, args.communes)
        large = _time_requests(app_url, host, args.requests)
    finally:
        _drop_database(admin_url, name)

    ratio = statistics.median(large) / statistics.median(small)
    result: dict[str, Any] = {
        "rows_per_commune": ROWS_PER_COMMUNE,
        "median_ms_10_communes": round(statistics.median(small), 3),
        f"median_ms_{args.communes}_communes": round(statistics.median(large), 3),
        "p95_ms_10_communes": round(statistics.quantiles(small, n=20)[18], 3),
        f"p95_ms_{args.communes}_communes": round(statistics.quantiles(large, n=20)[18], 3),
        "ratio_of_medians": round(ratio, 3),
        "goal": "ratio_of_medians <= 1.2",
    }
    print(f"tenant-scoped list request (GET /journal?page=2, {args.requests} requests each)")
    print(f"{'communes':>10} {'rows':>9} {'median ms':>10} {'p95 ms':>8}")
    for communes, timings in ((10, small), (args.communes, large)):
        print(
            f"{communes:>10} {communes * ROWS_PER_COMMUNE:>9} "
            f"{statistics.median(timings):>10.3f} {statistics.quantiles(timings, n=20)[18]:>8.3f}"
        )
    verdict = "OK" if ratio <= 1.2 else "ABOVE GOAL"
    print(f"ratio of medians: {ratio:.3f} (goal <= 1.2): {verdict}")
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "tenancy.json").write_text(json.dumps(result, indent=2), encoding="utf-8")
    return result


if __name__ == "__main__":
    sys.exit(0 if main()["ratio_of_medians"] <= 1.2 else 1)

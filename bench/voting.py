"""Vote-casting throughput and p95 latency under gunicorn, against the floor.

Agora's vote endpoint (tenant resolution, permission policy, voting-code check, eligibility,
vote validation, one statement under row-level security, sent with the commune's binding in
one round trip; a code holder's vote carries no cookie nor CSRF token, the code being its
credential) is served by gunicorn
with deploy/gunicorn.conf.py on a throw-away PostgreSQL database; the floor is a minimal
Flask endpoint doing one INSERT on the same stack (bench/minimal_vote_app.py), under the
same gunicorn settings. Both get the same load from the same client threads, in alternating
rounds; the script prints votes per second and p95 latency per round, their medians, the
median throughput ratio (goal: ≥ 0.7) and the CPU time each side spends per vote in its web
workers, in PostgreSQL and in the client (read from /proc: on two cores, throughput is bound
by it).

    AGORA_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/voting.py
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import IO
from urllib.parse import urlencode

from sqlalchemy import create_engine, text
from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tenancy import APP, OWNER, _create_database, _drop_database, _migrate

ROOT = Path(__file__).resolve().parents[1]
HOST = "poitiers.localhost"


def _prepare_agora(
    owner_url: str, app_url: str, voters: int, rounds: int
) -> tuple[list[int], list[str]]:
    """Onboard Poitiers, open a session, check ``voters`` people in, open one ballot a round."""
    from agora import create_app
    from agora.assembly import ballots, editions, sessions
    from agora.assembly.models import AssemblySessionStatus
    from agora.extensions import db
    from agora.onboarding.services import apply_config
    from agora.plugins.manager import get_registry
    from agora.tenancy.config import load_file
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.services import tenant_by_slug

    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url})
    with app.app_context():
        config = load_file(ROOT / "tenants" / "poitiers.toml", get_registry())
        apply_config(db.session, config, "bench", "bench")
        tenant = tenant_by_slug(db.session, "poitiers")
        assert tenant is not None
        hooks = get_registry().view(config)
        with tenant_scope(db.session, tenant.id):
            edition = editions.open_edition(
                db.session, tenant, 2026, "Bench", hooks.composition_rules(), "bench"
            )
            plenary = next(b for b in editions.bodies_of(db.session, edition) if b.key == "plenary")
            row = sessions.plan(
                db.session, tenant, edition, plenary, 1, "J1", edition.created_at, "", "bench"
            )
            sessions.set_status(db.session, tenant, row, AssemblySessionStatus.OPEN, "bench")
            codes = [
                sessions.check_in_walk_in(db.session, tenant, row, f"V{i}", "bench")[1]
                for i in range(voters)
            ]
            ballot_ids = [
                ballots.open_ballot(
                    db.session,
                    tenant,
                    hooks.decision_rule("action_plan"),
                    row,
                    plenary,
                    f"Plan, tour {number} ?",
                    [],
                    "bench",
                ).id
                for number in range(1, rounds + 1)
            ]
        db.session.commit()
        db.engine.dispose()
    return ballot_ids, codes


def _free_port() -> int:
    # Fixed ports collide with any other server on the machine (a second run, a demo): the
    # bench would then measure that server instead of its own.
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def _gunicorn(
    app_path: str,
    port: int,
    env: dict[str, str],
    log: IO[bytes] | None = None,
    start_seconds: float = 90,  # a loaded machine boots five workers slowly
) -> subprocess.Popen[bytes]:
    """gunicorn serving ``app_path`` on ``port``, its errors written to ``log``."""
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            "-c",
            str(ROOT / "deploy/gunicorn.conf.py"),
            "--bind",
            f"127.0.0.1:{port}",
            "--access-logfile",
            "/dev/null",
            app_path,
        ],
        env={**os.environ, **env},
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        # A file, as journald would take them: the app logs a JSON line per request, which
        # an unread pipe would soon stop.
        stderr=log or tempfile.TemporaryFile(),  # noqa: SIM115 - lives as long as the server
    )
    deadline = time.monotonic() + start_seconds
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/healthz", headers={"Host": "localhost"})
            connection.getresponse().read()
            return process
        except OSError:
            time.sleep(0.2)
    process.kill()
    raise SystemExit(f"gunicorn for {app_path} did not start")


class Client:
    """One keep-alive connection per client thread, like a browser."""

    def __init__(self, port: int) -> None:
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        self.cookie = ""

    def request(self, method: str, path: str, body: str = "") -> tuple[int, str]:
        headers = {"Host": HOST, "Content-Type": "application/x-www-form-urlencoded"}
        if self.cookie:
            headers["Cookie"] = self.cookie
        self.connection.request(method, path, body=body or None, headers=headers)
        response = self.connection.getresponse()
        cookie = response.getheader("Set-Cookie")
        if cookie:
            self.cookie = cookie.split(";", 1)[0]
        return response.status, response.read().decode()


def _cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time consumed so far by the processes ``pids`` (Linux /proc)."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
        except OSError:  # ended meanwhile
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime
    return total / ticks


def _children(pid: int) -> list[int]:
    try:
        return [int(p) for p in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
    except OSError:
        return []


def _postgres_pids() -> list[int]:
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if (entry / "comm").read_text().strip() == "postgres":
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


class CpuMeter:
    """CPU seconds spent by the web workers, PostgreSQL and the client during a round."""

    def __init__(self, server: subprocess.Popen[bytes]) -> None:
        self.server = server

    def __enter__(self) -> CpuMeter:
        self.web, self.database = self._web(), self._database()
        self.client = time.process_time()
        return self

    def _web(self) -> float:
        return _cpu_seconds([self.server.pid, *_children(self.server.pid)])

    def _database(self) -> float:
        return _cpu_seconds(_postgres_pids())

    def __exit__(self, *exc: object) -> None:
        self.web = self._web() - self.web
        self.database = self._database() - self.database
        self.client = time.process_time() - self.client


def _load(
    port: int, jobs: list[tuple[str, dict[str, str], bool]], threads: int, cpu: CpuMeter
) -> tuple[float, list[float], CpuMeter]:
    """Run ``jobs`` (path, form, loads the form first) over ``threads`` connections.

    Only the POSTs are timed."""
    latencies: list[float] = []
    chunks = [jobs[i::threads] for i in range(threads)]

    def prepare(chunk: list[tuple[str, dict[str, str], bool]]) -> tuple[Client, str | None]:
        # Each client first loads the ballot page, as a voter's browser has it before voting,
        # and keeps whatever cookie and CSRF token it is given (a code holder's form has
        # neither). Not timed.
        client, token = Client(port), None
        if chunk and chunk[0][2]:
            status, page = client.request("GET", chunk[0][0].removesuffix("/vote"))
            assert status == 200, page[:300]
            found = re.search(r'name="csrf_token" value="([^"]+)"', page)
            token = found.group(1) if found else None
        return client, token

    with ThreadPoolExecutor(threads) as pool:
        clients = list(pool.map(prepare, chunks))

    def run(index: int) -> list[float]:
        client, token = clients[index]
        own = []
        for path, form, _csrf in chunks[index]:
            body = urlencode({**form, "csrf_token": token} if token else form)
            started = time.perf_counter()
            status, _ = client.request("POST", path, body)
            own.append(time.perf_counter() - started)
            if status not in (200, 303):
                raise SystemExit(f"POST {path} answered {status}")
        return own

    started = time.perf_counter()
    with cpu, ThreadPoolExecutor(threads) as pool:
        for own in pool.map(run, range(threads)):
            latencies.extend(own)
    return time.perf_counter() - started, latencies, cpu


def _figures(seconds: float, latencies: list[float], cpu: CpuMeter) -> dict[str, float]:
    votes = len(latencies)
    return {
        "votes_per_second": votes / seconds,
        "p50_ms": statistics.median(latencies) * 1000,
        "p95_ms": statistics.quantiles(latencies, n=20)[18] * 1000,
        "web_cpu_ms": cpu.web / votes * 1000,
        "database_cpu_ms": cpu.database / votes * 1000,
        "client_cpu_ms": cpu.client / votes * 1000,
    }


def main(argv: list[str] | None = None) -> float:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--voters", type=int, default=600, help="votes per round and endpoint")
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=16)
    args = parser.parse_args(argv)
    admin_url: URL = make_url(
        os.environ.get("AGORA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    ).set(drivername="postgresql+psycopg")
    name, super_url = _create_database(admin_url)
    processes: list[subprocess.Popen[bytes]] = []
    rounds: list[tuple[dict[str, float], dict[str, float]]] = []
    metrics_dir = tempfile.mkdtemp(prefix="agora-bench-metrics-")
    try:
        owner_url = super_url.set(username=OWNER).render_as_string(hide_password=False)
        app_url = super_url.set(username=APP).render_as_string(hide_password=False)
        _migrate(owner_url)
        ballot_ids, codes = _prepare_agora(owner_url, app_url, args.voters, args.rounds)
        engine = create_engine(super_url)
        with engine.begin() as connection:
            connection.execute(
                text("CREATE TABLE bench_vote (id bigserial PRIMARY KEY, ballot int, choice text)")
            )
        engine.dispose()
        env = {
            "AGORA_DATABASE_URL": app_url,
            "AGORA_BASE_DOMAIN": "localhost",
            "AGORA_SECRET_KEY": "bench",
            # Metrics as in production: every worker writing its own files.
            "PROMETHEUS_MULTIPROC_DIR": metrics_dir,
        }
        agora_port, floor_port = _free_port(), _free_port()
        agora_server = _gunicorn("agora.wsgi:app", agora_port, env)
        processes.append(agora_server)
        floor_env = {
            "BENCH_DATABASE_URL": super_url.render_as_string(hide_password=False),
            "PYTHONPATH": str(ROOT / "bench"),
        }
        floor_server = _gunicorn("minimal_vote_app:app", floor_port, floor_env)
        processes.append(floor_server)
        floor_jobs = [("/vote", {"choice": "for"}, False) for _ in codes]
        # Rounds alternate the two endpoints, so that whatever else the machine does weighs
        # on both alike; the medians are reported.
        for ballot_id in ballot_ids:
            agora_jobs = [
                (f"/ballots/{ballot_id}/vote", {"code": code, "choice": "for"}, True)
                for code in codes
            ]
            agora = _figures(*_load(agora_port, agora_jobs, args.threads, CpuMeter(agora_server)))
            floor = _figures(*_load(floor_port, floor_jobs, args.threads, CpuMeter(floor_server)))
            rounds.append((agora, floor))
    finally:
        for process in processes:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
        _drop_database(admin_url, name)
        shutil.rmtree(metrics_dir, ignore_errors=True)

    print(
        f"{args.rounds} rounds of {args.voters} votes per endpoint, {args.threads} client "
        "threads, gunicorn deploy/gunicorn.conf.py, PostgreSQL"
    )
    print(f"{'round':<6} {'Agora votes/s':>14} {'p95 ms':>8} {'floor votes/s':>14} {'p95 ms':>8}")
    ratios = []
    for number, (agora, floor) in enumerate(rounds, start=1):
        ratios.append(agora["votes_per_second"] / floor["votes_per_second"])
        print(
            f"{number:<6} {agora['votes_per_second']:>14.1f} {agora['p95_ms']:>8.1f} "
            f"{floor['votes_per_second']:>14.1f} {floor['p95_ms']:>8.1f}   ratio {ratios[-1]:.2f}"
        )
    median = {
        side: {key: statistics.median(r[index][key] for r in rounds) for key in rounds[0][0]}
        for index, side in enumerate(("agora", "floor"))
    }
    ratio = statistics.median(ratios)
    print("CPU per vote, median of rounds (web workers / PostgreSQL / client threads):")
    for side in ("agora", "floor"):
        print(
            f"  {side:<6} {median[side]['web_cpu_ms']:.2f} / {median[side]['database_cpu_ms']:.2f}"
            f" / {median[side]['client_cpu_ms']:.2f} ms"
        )
    cpu_total = {
        side: sum(median[side][k] for k in ("web_cpu_ms", "database_cpu_ms", "client_cpu_ms"))
        for side in ("agora", "floor")
    }
    # Throughput is bound by CPU on a small machine: this ratio moves less from run to run.
    print(
        f"  total  {cpu_total['agora']:.2f} against {cpu_total['floor']:.2f} ms: the floor's "
        f"share of Agora's, {cpu_total['floor'] / cpu_total['agora']:.2f}"
    )
    print(
        f"medians: Agora {median['agora']['votes_per_second']:.1f} votes/s "
        f"(p50 {median['agora']['p50_ms']:.1f} ms, p95 {median['agora']['p95_ms']:.1f} ms); "
        f"floor {median['floor']['votes_per_second']:.1f} votes/s "
        f"(p50 {median['floor']['p50_ms']:.1f} ms, p95 {median['floor']['p95_ms']:.1f} ms)"
    )
    print(
        f"throughput ratio Agora / floor, median of rounds: {ratio:.2f} (goal >= 0.7): "
        f"{'OK' if ratio >= 0.7 else 'BELOW GOAL'}"
    )
    out = Path(__file__).resolve().parent / "out"
    out.mkdir(exist_ok=True)
    (out / "voting.json").write_text(
        json.dumps({**median, "ratios": ratios, "ratio": ratio}, indent=2)
    )
    return ratio


if __name__ == "__main__":
    sys.exit(0 if main() >= 0.7 else 1)

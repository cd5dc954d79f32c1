"""An assembly day under load: the whole day's mix of traffic, and every vote counted once.

A `locust` scenario (``bench/assembly_day_locust.py``, run headless in a subprocess, bounded
in users and time, against 127.0.0.1 only) on a stack this script prepares as
``bench/voting.py`` does — gunicorn with ``deploy/gunicorn.conf.py``, a throw-away PostgreSQL
database with the real roles and migrations, Redis — or on a running stack (``--target``):

- 500 residents on phones (a mobile user agent, the HTML pages alone): each confirms their
  presence with their voting card (half scan it themselves and land on the confirmation,
  half are checked in at a desk), then votes on 10 successive ballots, each as it opens;
- 40 staff (facilitators, signed in): one chairs, opening and closing the ballots; the others
  check residents in from the roster (a search, the check-in, the roster again as the
  browser follows the redirect) and keep the session's page open;
- 2,000 public page views a minute across 100 communes (home, rules, journal, charter);
- at each close, everyone refreshes the ballot's page for its result.

It prints p50/p95/p99 per kind of request with the goals beside them (0 errors; p95 of a vote
≤ 250 ms and of a public page ≤ 150 ms), then checks in the database that every vote the app
acknowledged (2xx/3xx) is stored exactly once and that no other is.

    AGORA_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres \\
        python bench/assembly_day.py
    python bench/assembly_day.py --target http://127.0.0.1:8080 \\
        --database-url postgresql+psycopg://agora_app@127.0.0.1/agora --secret-key …
"""

from __future__ import annotations

import argparse
import copy
import http.client
import json
import os
import resource
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from tenancy import APP, OWNER, _create_database, _drop_database, _migrate
from voting import _gunicorn

ROOT = Path(__file__).resolve().parents[1]
LOCUSTFILE = Path(__file__).resolve().parent / "assembly_day_locust.py"
#: The kinds of request the table shows, in order; the goals are on two of them.
KINDS = (
    "vote",
    "check-in",
    "open/close",
    "public page",
    "results",
    "ballot page",
    "vote recorded",
    "presence page",
    "roster",
    "staff page",
)
GOALS_P95_MS = {"vote": 250.0, "public page": 150.0}
PUBLIC_PATHS = ("/", "/rules", "/journal", "/charter")


# --- the exact count ------------------------------------------------------------------------


@dataclass(frozen=True)
class Cast:
    """A vote a resident sent: the ballot, their card's code, their choice, and whether the
    app acknowledged it (a 2xx or 3xx answer)."""

    ballot_id: int
    code: str
    choice: str
    acknowledged: bool


@dataclass
class Stored:
    """What the database holds for the day's ballots."""

    #: ballot → the people on its register of voters (one row each: the primary key)
    voters: dict[int, list[int]] = field(default_factory=dict)
    #: ballot → the choices of its stored votes (secret: no person)
    choices: dict[int, Counter[str]] = field(default_factory=dict)
    #: a card's code → the person it checked in
    person_of_code: dict[str, int] = field(default_factory=dict)


def count_problems(stored: Stored, casts: Iterable[Cast]) -> list[str]:
    """Every way the database disagrees with what the residents were told: an acknowledged
    vote missing, a voter registered twice or without having voted, a ballot whose votes and
    voters differ in number, or stored choices that are not the ones sent."""
    problems = []
    sent: dict[int, dict[int, Cast]] = {}
    for cast in casts:
        person = stored.person_of_code.get(cast.code)
        if person is None:  # refused at check-in: the app must have refused the vote too
            if cast.acknowledged:
                problems.append(
                    f"ballot {cast.ballot_id}: vote acknowledged for {cast.code}, "
                    "which checked in nobody"
                )
            continue
        sent.setdefault(cast.ballot_id, {})[person] = cast
    for ballot_id in sorted(set(sent) | set(stored.voters)):
        by_person = sent.get(ballot_id, {})
        registered = stored.voters.get(ballot_id, [])
        counted = Counter(registered)
        twice = sorted(p for p, n in counted.items() if n > 1)
        if twice:
            problems.append(f"ballot {ballot_id}: people {twice} registered more than once")
        lost = sorted(p for p, c in by_person.items() if c.acknowledged and p not in counted)
        if lost:
            problems.append(f"ballot {ballot_id}: acknowledged votes of {lost} not stored")
        phantom = sorted(p for p in counted if p not in by_person)
        if phantom:
            problems.append(f"ballot {ballot_id}: people {phantom} registered without voting")
        choices = stored.choices.get(ballot_id, Counter())
        if choices.total() != len(registered):
            problems.append(
                f"ballot {ballot_id}: {choices.total()} votes stored for {len(registered)} voters"
            )
        # Votes are secret: the choices are compared as a whole. Those acknowledged must all
        # be there; an unacknowledged one may have been stored (once) before its answer got
        # lost.
        acknowledged = Counter(c.choice for c in by_person.values() if c.acknowledged)
        extra = choices - acknowledged
        missing = acknowledged - choices
        unacknowledged = sum(1 for p, c in by_person.items() if not c.acknowledged and p in counted)
        if missing or extra.total() != unacknowledged:
            problems.append(
                f"ballot {ballot_id}: stored choices {dict(choices)} against acknowledged "
                f"{dict(acknowledged)} (+{unacknowledged} unacknowledged stored)"
            )
    return problems


def read_stored(app_url: str, tenant_id: int, ballot_ids: list[int], codes: list[str]) -> Stored:
    """The day's ballots as the database holds them, read as the app's role would."""
    from sqlalchemy import create_engine, select, text

    from agora.assembly.models import BallotVoter, CheckIn, Vote
    from agora.assembly.sessions import voting_code_hash

    stored = Stored()
    engine = create_engine(app_url)
    with engine.begin() as connection:
        if engine.dialect.name == "postgresql":
            # Row-level security: the commune bound for this transaction, as the app does.
            connection.execute(
                text("SELECT set_config('app.tenant_id', :tenant, true)"),
                {"tenant": str(tenant_id)},
            )
        for ballot_id in ballot_ids:
            stored.voters[ballot_id] = list(
                connection.execute(
                    select(BallotVoter.person_id).where(
                        BallotVoter.tenant_id == tenant_id, BallotVoter.ballot_id == ballot_id
                    )
                ).scalars()
            )
            stored.choices[ballot_id] = Counter(
                str(payload.get("choice"))
                for payload in connection.execute(
                    select(Vote.payload).where(
                        Vote.tenant_id == tenant_id, Vote.ballot_id == ballot_id
                    )
                ).scalars()
            )
        by_hash = {voting_code_hash(code): code for code in codes}
        for code_hash, person_id in connection.execute(
            select(CheckIn.voting_code_hash, CheckIn.person_id).where(
                CheckIn.tenant_id == tenant_id, CheckIn.voting_code_hash.in_(list(by_hash))
            )
        ):
            stored.person_of_code[by_hash[code_hash]] = person_id
    engine.dispose()
    return stored


# --- the day's data -------------------------------------------------------------------------


def _clone(document: dict[str, Any], slug: str, number: int) -> dict[str, Any]:
    """Poitiers' configuration for another commune: its own slug, name and INSEE code."""
    clone = copy.deepcopy(document)
    commune = clone["commune"]
    commune.update(slug=slug, name=f"Commune {number}", insee_code=f"86{number:03d}")
    for key in ("domains", "logo_url"):
        commune.pop(key, None)
    return clone


def prepare(
    app_url: str, secret_key: str, base_domain: str, args: argparse.Namespace
) -> dict[str, Any]:
    """Onboard the communes, open an edition of the first one's assembly with a session open
    to everyone present, its residents on the plenary's roster with printed voting cards, and
    the staff signed in; return the plan the scenario reads."""
    import tomllib

    from agora import create_app
    from agora.assembly import bodies, editions, sessions, subjects
    from agora.assembly.models import AssemblySessionStatus, EditionStatus
    from agora.extensions import db
    from agora.identity.models import Role
    from agora.identity.services import get_or_create_account, grant_role
    from agora.identity.sessions import open_session
    from agora.onboarding.services import apply_config
    from agora.plugins.manager import get_registry
    from agora.tenancy.config import validate_document
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.services import tenant_by_slug

    run = uuid.uuid4().hex[:6]
    slugs = [f"jour-{run}-{number:03d}" for number in range(args.communes)]
    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url, "SECRET_KEY": secret_key})
    registry = get_registry()
    document = tomllib.loads((ROOT / "tenants" / "poitiers.toml").read_text(encoding="utf-8"))
    with app.app_context():
        for number, slug in enumerate(slugs):
            config = validate_document(_clone(document, slug, number), registry, slug)
            apply_config(db.session, config, "bench", "bench")
            db.session.commit()
        tenant = tenant_by_slug(db.session, slugs[0])
        assert tenant is not None
        host = f"{slugs[0]}.{base_domain}"
        hooks = registry.view(validate_document(_clone(document, slugs[0], 0), registry, "-"))
        with tenant_scope(db.session, tenant.id):
            edition = editions.open_edition(
                db.session, tenant, 2026, "Journée", hooks.composition_rules(), "bench"
            )
            plenary = next(b for b in editions.bodies_of(db.session, edition) if b.key == "plenary")
            residents = {}
            for index in range(args.residents):
                person = bodies.add_person(db.session, tenant, f"Habitant {index:04d}")
                bodies.add_member(db.session, plenary, person, "volunteer")
                residents[person.display_name] = person.id
            editions.advance(db.session, tenant, edition, EditionStatus.SUBJECT_CALL, "bench")
            subject = subjects.submit(
                db.session, tenant, edition, "Mobilités douces", "…", rule="anyone", person=None
            )
            subjects.review(
                db.session,
                tenant,
                subject,
                general_interest=True,
                municipal_competence=True,
                budget_sustainable=True,
                reason="",
                actor="bench",
            )
            row = sessions.plan(
                db.session, tenant, edition, plenary, 1, "J1", edition.created_at, "", "bench"
            )
            sessions.set_status(db.session, tenant, row, AssemblySessionStatus.OPEN, "bench")
            cards = sessions.print_cards(db.session, tenant, row, "bench")
            cookies = []
            serializer = app.session_interface.get_signing_serializer(app)  # type: ignore[attr-defined]
            assert serializer is not None
            for index in range(args.staff):
                account = get_or_create_account(db.session, f"equipe-{run}-{index}@bench.example")
                grant_role(db.session, tenant, account, Role.FACILITATOR, "bench")
                cookies.append(serializer.dumps({"sid": open_session(db.session, account, host)}))
            plan = {
                "tenant_id": tenant.id,
                "host": host,
                "session_id": row.id,
                "subject_id": subject.id,
                "residents": [
                    {"person_id": residents[card.name], "name": card.name, "code": card.code}
                    for card in cards
                ],
                "staff_cookies": cookies,
                "public_hosts": [f"{slug}.{base_domain}" for slug in slugs],
                "public_paths": list(PUBLIC_PATHS),
                "ballots": args.ballots,
                "vote_spread": args.vote_spread,
                "public_per_minute": args.public_per_minute,
                "public_users": args.public_users,
            }
        db.session.commit()
        db.engine.dispose()
    return plan


def gather_statistics(super_url: URL) -> None:
    """ANALYZE the prepared database, as autovacuum would have done in the days between the
    roster's import and the assembly day. (It is off on this machine's cluster: without
    statistics the planner takes the roster's 500 people for one, and a desk's search of
    the roster took 24 ms in PostgreSQL instead of 0.9.)"""
    import psycopg

    conninfo = super_url.set(drivername="postgresql").render_as_string(hide_password=False)
    with psycopg.connect(conninfo, autocommit=True) as connection:
        connection.execute("ANALYZE")


# --- running it -----------------------------------------------------------------------------


def _port_in(first: int, last: int) -> int:
    """The first free port of the range this bench may use."""
    for port in range(first, last + 1):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise SystemExit(f"no free port between {first} and {last}")


def warm_up(target: str, plan: dict[str, Any]) -> None:
    """Load each page kind a few times in every worker before measuring: a worker's first
    request compiles its templates and fills its caches."""
    from concurrent.futures import ThreadPoolExecutor
    from urllib.parse import urlsplit

    parts = urlsplit(target)
    pages = [(host, path) for host in plan["public_hosts"][:5] for path in plan["public_paths"]]
    pages.append((plan["host"], f"/sessions/{plan['session_id']}/presence"))

    def load(page: tuple[str, str]) -> None:
        connection = http.client.HTTPConnection(parts.hostname or "127.0.0.1", parts.port)
        connection.request("GET", page[1], headers={"Host": page[0]})
        connection.getresponse().read()
        connection.close()

    with ThreadPoolExecutor(8) as pool:
        list(pool.map(load, pages * 8))


def run_locust(target: str, plan: dict[str, Any], max_seconds: int) -> dict[str, Any]:
    """The scenario, headless, in its own process (locust patches the standard library with
    gevent); the latencies, failures and votes it recorded."""
    with tempfile.TemporaryDirectory(prefix="assembly-day-") as folder:
        plan_path, results_path = Path(folder, "plan.json"), Path(folder, "results.json")
        plan_path.write_text(json.dumps(plan))
        users = len(plan["residents"]) + len(plan["staff_cookies"]) + plan["public_users"]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        completed = subprocess.run(
            [
                sys.executable,
                "-m",
                "locust",
                "-f",
                str(LOCUSTFILE),
                "--headless",
                "--host",
                target,
                "--users",
                str(users),
                "--spawn-rate",
                "100",
                "--run-time",
                f"{max_seconds}s",
                "--stop-timeout",
                "10",
                "--only-summary",
                "--skip-log-setup",
                "--exit-code-on-error",
                "0",
            ],
            env={
                **os.environ,
                "AGORA_DAY_PLAN": str(plan_path),
                "AGORA_DAY_RESULTS": str(results_path),
            },
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            timeout=max_seconds + 120,
        )
        if not results_path.exists():
            raise SystemExit(
                f"locust ended ({completed.returncode}) without results:\n"
                + completed.stderr.decode()[-3000:]
            )
        results: dict[str, Any] = json.loads(results_path.read_text())
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    # The load is made on the machine it measures: what the client took is not the app's.
    results["client_cpu"] = (after.ru_utime + after.ru_stime) - (before.ru_utime + before.ru_stime)
    return results


def _percentile(values: list[float], share: int) -> float:
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=100, method="inclusive")[share - 1]


def phase_of(sent: float, opened_at: list[float], closed_at: list[float]) -> str:
    """The part of the day a request was sent in: the arrivals (before the first ballot
    opens), a vote (a ballot open), or the results (from a close to the next opening)."""
    if not opened_at or sent < opened_at[0]:
        return "arrivals"
    last_open = max(i for i, at in enumerate(opened_at) if at <= sent)
    if last_open < len(closed_at) and closed_at[last_open] <= sent:
        return "results"
    return "voting"


PHASES = ("arrivals", "voting", "results")


def by_phase(results: dict[str, Any], kind: str) -> dict[str, list[float]]:
    """``kind``'s latencies split by the part of the day they were sent in."""
    split: dict[str, list[float]] = {phase: [] for phase in PHASES}
    latencies = results["latencies"].get(kind, [])
    for sent, latency in zip(results["sent_at"].get(kind, []), latencies, strict=True):
        split[phase_of(sent, results["opened_at"], results["closed_at"])].append(latency)
    return split


def machine_pace() -> float:
    """Seconds a fixed pure-Python loop takes on this machine now: the same code gives other
    figures when a shared machine slows down, and this says by how much between runs."""
    started = time.perf_counter()
    total = 0
    for number in range(5_000_000):
        total += number
    return time.perf_counter() - started


def report(results: dict[str, Any], problems: list[str], ballots: int) -> bool:
    """Print the table, the errors and the count check; whether every goal is met."""
    latencies: dict[str, list[float]] = results["latencies"]
    errors: list[dict[str, Any]] = results["errors"]
    seconds = results["seconds"]
    print(
        f"assembly day: {results['residents']} residents, {results['staff']} staff, "
        f"{ballots} ballots, {results['public_users']} public visitors over "
        f"{results['communes']} communes, {seconds:.0f} s"
    )
    public = len(latencies.get("public page", []))
    print(f"public page views: {public / seconds * 60:.0f} a minute")
    print(f"machine pace: a fixed Python loop took {machine_pace():.2f} s after the day")
    if "client_cpu" in results:
        print(
            f"load client (locust): {results['client_cpu']:.0f} s of CPU, "
            f"{results['client_cpu'] / seconds:.0%} of a core over the day"
        )
    print(f"{'request':<15} {'count':>6} {'p50 ms':>8} {'p95 ms':>8} {'p99 ms':>8}  goal")
    met = True
    for kind in KINDS:
        values = sorted(latencies.get(kind, []))
        if not values:
            continue
        p95 = _percentile(values, 95)
        verdict = ""
        if kind in GOALS_P95_MS:
            ok = p95 <= GOALS_P95_MS[kind]
            met = met and ok
            verdict = f"p95 <= {GOALS_P95_MS[kind]:.0f} ms: {'PASS' if ok else 'MISS'}"
        print(
            f"{kind:<15} {len(values):>6} {statistics.median(values):>8.1f} {p95:>8.1f} "
            f"{_percentile(values, 99):>8.1f}  {verdict}"
        )
    # Where the slow ones are: the day's herds (everyone arriving, everyone reloading the
    # result at each close) against the steady part.
    opened, closed = results["opened_at"], results["closed_at"]
    if opened:
        voting = sum(b - a for a, b in zip(opened, closed, strict=False))
        after = sum(b - a for a, b in zip(closed, [*opened[1:], seconds], strict=False))
        spans = [(opened[0], "arrivals"), (voting, "voting"), (after, "results")]
        print("the day's parts: " + ", ".join(f"{name} {span:.0f} s" for span, name in spans))
    for kind in GOALS_P95_MS:
        parts = by_phase(results, kind)
        print(
            f"{kind} p95 by part: "
            + ", ".join(
                f"{phase} {_percentile(sorted(v), 95):.0f} ms ({len(v)})"
                for phase, v in parts.items()
                if v
            )
        )
    by_kind = Counter(f"{e['kind']} {e['status']}" for e in errors)
    print(
        f"errors: {len(errors)} (goal 0: {'PASS' if not errors else 'MISS'})"
        + "".join(f"\n  {n} × {what}" for what, n in by_kind.most_common())
    )
    for sample in errors[:5]:
        print(f"  e.g. {sample['kind']} {sample['status']}: {sample['detail'][:200]}")
    casts = results["casts"]
    acknowledged = sum(1 for c in casts if c["acknowledged"])
    print(
        f"votes: {len(casts)} sent, {acknowledged} acknowledged; database check: "
        + ("every acknowledged vote stored once, no other: PASS" if not problems else "MISS")
    )
    for problem in problems[:20]:
        print(f"  {problem}")
    if len(problems) > 20:
        print(f"  … and {len(problems) - 20} more")
    return met and not errors and not problems


def main(argv: list[str] | None = None) -> bool:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=500)
    parser.add_argument("--staff", type=int, default=40, help="the first one chairs")
    parser.add_argument("--ballots", type=int, default=10)
    parser.add_argument("--communes", type=int, default=100)
    parser.add_argument("--public-per-minute", type=int, default=2000)
    parser.add_argument("--public-users", type=int, default=50)
    parser.add_argument(
        "--vote-spread", type=float, default=30, help="seconds over which residents vote"
    )
    parser.add_argument("--max-seconds", type=int, default=600, help="the run's hard limit")
    parser.add_argument("--target", help="a running stack's URL (else one is started here)")
    parser.add_argument("--database-url", help="with --target: its database, as the app role")
    parser.add_argument("--secret-key", default=os.environ.get("AGORA_SECRET_KEY", "bench"))
    parser.add_argument("--base-domain", default="localhost")
    parser.add_argument(
        "--redis-url", default=os.environ.get("AGORA_BENCH_REDIS_URL", "redis://127.0.0.1:6379/6")
    )
    parser.add_argument("--ports", default="18400-18499", help="where a local stack may listen")
    args = parser.parse_args(argv)
    if args.staff < 1 or args.residents < 1 or args.ballots < 1 or args.communes < 1:
        parser.error("at least one resident, staff member, ballot and commune")

    name: str | None = None
    admin_url: URL | None = None
    super_url: URL | None = None
    server: subprocess.Popen[bytes] | None = None
    server_log: IO[bytes] | None = None
    (ROOT / "bench" / "out").mkdir(exist_ok=True)
    try:
        if args.target:
            if not args.database_url:
                parser.error("--target needs --database-url (its database, as the app role)")
            app_url, target = args.database_url, args.target
        else:
            admin_url = make_url(
                os.environ.get(
                    "AGORA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
                )
            ).set(drivername="postgresql+psycopg")
            name, super_url = _create_database(admin_url)
            _migrate(super_url.set(username=OWNER).render_as_string(hide_password=False))
            app_url = super_url.set(username=APP).render_as_string(hide_password=False)
        started = time.perf_counter()
        plan = prepare(app_url, args.secret_key, args.base_domain, args)
        if super_url is not None:
            gather_statistics(super_url)
        print(f"prepared in {time.perf_counter() - started:.0f} s", file=sys.stderr)
        if not args.target:
            first, last = (int(p) for p in args.ports.split("-"))
            port = _port_in(first, last)
            server_log = (ROOT / "bench" / "out" / "assembly_day_gunicorn.log").open("wb")
            server = _gunicorn(
                "agora.wsgi:app",
                port,
                {
                    "AGORA_DATABASE_URL": app_url,
                    "AGORA_BASE_DOMAIN": args.base_domain,
                    "AGORA_SECRET_KEY": args.secret_key,
                    "AGORA_REDIS_URL": args.redis_url,
                },
                server_log,
                # Five workers importing the app on a busy machine: more than voting.py's 30 s.
                start_seconds=180,
            )
            target = f"http://127.0.0.1:{port}"
        warm_up(target, plan)
        results = run_locust(target, plan, args.max_seconds)
        codes = [r["code"] for r in plan["residents"]]
        casts = [Cast(**c) for c in results["casts"]]
        stored = read_stored(app_url, plan["tenant_id"], results["ballot_ids"], codes)
        problems = count_problems(stored, casts)
        if len(results["ballot_ids"]) != args.ballots:
            problems.append(f"{len(results['ballot_ids'])} ballots held of {args.ballots}")
    finally:
        if server is not None:
            server.send_signal(signal.SIGTERM)
            try:
                server.wait(timeout=45)  # graceful_timeout is 30 s
            except subprocess.TimeoutExpired:
                server.kill()
                server.wait()
        if server_log is not None:
            server_log.close()
        if name is not None and admin_url is not None:
            _drop_database(admin_url, name)
    return report(results, problems, args.ballots)


if __name__ == "__main__":
    sys.exit(0 if main() else 1)

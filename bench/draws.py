"""Draws benchmark: a commune's electoral roll through the application's job path.

Generates a realistic electoral-roll extract (``;``-separated, Latin-1 or UTF-8 with BOM,
the French headers of the ``draw_electoral_roll`` plugin and more columns a real extract
has; about 10 % of households of 2 to 4 people, some 350,000 addresses; birth dates; the
polling station as stratum; sex as a quota feature) in a temporary directory, from a fixed
seed. Then, on a throw-away PostgreSQL database with the real migrations and roles
(row-level security on, the application connecting as a non-owner role):

* **import**: ``csv.reader`` reading the file, against the register's import through the
  job ``draws.import_register`` (inline, in a process of its own whose peak RSS is read);
  goals: ≤ 3× ``csv.reader``'s time, ≤ 300 MB peak RSS; then stage 1 drawn on the imported
  roll through the job ``draws.stage1`` (1,200 households, stratified by polling station);
* **letters**: the letters' PDF of 2,000 invitations, in pages per second (goal ≥ 50);
* **stage 2**: the lottery of Poitiers' demonstration pool (the door-to-door draw of its
  plenary: about 300 people, 100 seats, three quota criteria) through the job
  ``draws.stage2`` against the CLI's ``commit`` on the same pool and quotas, written as its
  files (goal ≤ 1.2×): both compute the lottery and write its audit record. The CLI's time
  is taken in this process (its own work, not the interpreter's start; the command's time
  is printed too), and one library call (``build_lottery``, the lottery without its record)
  is printed beside them.

Medians over ``--repeat`` runs; ``--rows`` for a quick run.

    AGORA_BENCH_DATABASE_URL=postgresql://postgres@127.0.0.1:5432/postgres python bench/draws.py
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import tomllib
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from sqlalchemy.engine import URL, make_url

sys.path.insert(0, str(Path(__file__).resolve().parent))
from agora.demo.registers import FIRST_NAMES_F, FIRST_NAMES_M, LAST_NAMES
from tenancy import APP, OWNER, _create_database, _drop_database, _migrate

ROOT = Path(__file__).resolve().parents[1]
SLUG = "grenoble"
HEADER = (
    "ine;nom;nom_usage;prenoms;sexe;date_naissance;commune_naissance;pays_naissance;"
    "nationalite;adresse;complement;code_postal;commune;bureau_de_vote"
)
EXCLUDED = 120  # elected members and commune agents named as exclusions
IMPORT_RATIO_GOAL, IMPORT_RSS_GOAL_MB = 3.0, 300
STAGE1_INVITATIONS = 1200
LETTERS, LETTERS_GOAL = 2000, 50.0
STAGE2_RATIO_GOAL = 1.2

STREETS = [
    "rue de la République",
    "avenue Alsace-Lorraine",
    "cours Berriat",
    "rue Très-Cloîtres",
    "boulevard Joseph-Vallier",
    "rue Saint-Laurent",
    "quai Perrière",
    "avenue Jean-Jaurès",
    "rue d'Alembert",
    "place Notre-Dame",
    "rue Félix-Poulat",
    "rue Mallifaud",
    "avenue Marcelin-Berthelot",
    "rue des Eaux-Claires",
    "chemin de la Bastille",
    "rue Général-Mangin",
    "rue Abbé-Grégoire",
]
STREET_KINDS = ("rue", "avenue", "boulevard", "allée", "impasse", "place", "chemin", "quai")
PLACES = ("Grenoble", "Lyon", "Échirolles", "Paris", "Saint-Étienne", "Annecy", "Valence")
COUNTRIES = ("France",) * 18 + ("Italie", "Portugal")


def generate_roll(path: Path, rows: int, *, encoding: str, seed: int = 13) -> list[str]:
    """Write a roll of ``rows`` people at ``path``; the ids of ``EXCLUDED`` of them."""
    rng = random.Random(seed)
    today = date(2026, 12, 6)
    # A city's 1,500 streets, numbers 1 to 120, two postcodes: some 350,000 addresses, about
    # four voters each, as in a dense city (a roll of 1.5 million is Paris's size); a batch
    # of the import then meets about as many households as people, the most hashing there is.
    streets = STREETS + [
        f"{rng.choice(STREET_KINDS)} {rng.choice(FIRST_NAMES_F + FIRST_NAMES_M)}-"
        f"{rng.choice(LAST_NAMES)}"
        for _ in range(1500 - len(STREETS))
    ]
    lines = [HEADER]
    people = 0
    address = 0
    with path.open("w", encoding=encoding, newline="") as out:
        while people < rows:
            address += 1
            # about 10 % of households hold 2 to 4 people, the others one
            size = rng.choice((2, 2, 3, 4)) if rng.random() < 0.1 else 1
            street = f"{rng.randint(1, 120)} {rng.choice(streets)}"
            complement = f"Apt {rng.randint(1, 60)}" if rng.random() < 0.3 else ""
            postcode = rng.choice(("38000", "38100"))
            bureau = str(1 + address * 997 % 900)  # ~1,700 people a polling station
            surname = rng.choice(LAST_NAMES)
            for _ in range(min(size, rows - people)):
                people += 1
                sex = rng.choice("FM")
                given = rng.choice(FIRST_NAMES_F if sex == "F" else FIRST_NAMES_M)
                born = today - timedelta(days=rng.randint(16 * 365, 95 * 365))
                usage = rng.choice(LAST_NAMES) if sex == "F" and rng.random() < 0.3 else ""
                lines.append(
                    f"{100_000_000 + people * 7919 % 899_999_999};{surname.upper()};"
                    f"{usage.upper()};{given};{sex};{born:%d/%m/%Y};{rng.choice(PLACES)};"
                    f"{rng.choice(COUNTRIES)};FRANCAISE;{street};{complement};{postcode};"
                    f"GRENOBLE;{bureau}"
                )
            if len(lines) >= 10_000:
                out.write("\r\n".join(lines) + "\r\n")
                lines = []
        out.write("\r\n".join(lines) + "\r\n" if lines else "")
    picked = random.Random(seed + 1).sample(range(1, rows + 1), min(EXCLUDED, rows))
    return [str(100_000_000 + number * 7919 % 899_999_999) for number in picked]


def time_csv_reader(path: Path, encoding: str) -> float:
    """Seconds ``csv.reader`` takes to read every row of the file."""
    started = time.perf_counter()
    with path.open(newline="", encoding=encoding) as stream:
        for _row in csv.reader(stream, delimiter=";"):
            pass
    return time.perf_counter() - started


# --- the import, in a process of its own ------------------------------------------------------


def _prepare(app_url: str, roll: Path, excluded: list[str], encoding: str) -> tuple[int, int]:
    """Grenoble onboarded (its roll read as ``encoding``, sex as the gender feature), a draw of
    its panel from the roll, and the roll uploaded: the commune's and the register's ids."""
    from agora import create_app
    from agora.assembly import editions
    from agora.draws import services
    from agora.extensions import db
    from agora.onboarding.services import apply_config
    from agora.plugins.manager import get_registry
    from agora.tenancy.config import validate_document
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.services import tenant_by_slug

    document = tomllib.loads((ROOT / "tenants" / f"{SLUG}.toml").read_text(encoding="utf-8"))
    document["plugins"]["draw_electoral_roll"].update(
        encoding=encoding, feature_columns={"gender": "sexe"}
    )
    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url})
    with app.app_context():
        config = validate_document(document, get_registry(), "bench")
        apply_config(db.session, config, "bench", "bench")
        tenant = tenant_by_slug(db.session, SLUG)
        assert tenant is not None
        hooks = get_registry().view(config)
        with tenant_scope(db.session, tenant.id):
            edition = editions.open_edition(
                db.session, tenant, 2027, "Bench", hooks.composition_rules(), "bench"
            )
            panel = next(b for b in editions.bodies_of(db.session, edition) if b.key == "panel")
            draw = services.design_draw(
                db.session,
                tenant,
                hooks,
                actor="bench",
                body=panel,
                title="Bench",
                plan=[services.SubDrawPlan("electoral_roll", 150)],
                minimum_age=18,
                excluded_ids=excluded,
            )
            [part] = services.sub_draws(db.session, draw)
            with roll.open("rb") as stream:
                register = services.receive_register(
                    db.session,
                    tenant,
                    draw,
                    part,
                    actor="bench",
                    stream=stream,
                    filename=roll.name,
                    folder=app.config["AGORA_UPLOAD_DIR"],
                    max_bytes=2**31,
                )
            ids = tenant.id, register.id
        db.session.commit()
        db.engine.dispose()
    return ids


def run_import(app_url: str, roll: Path, excluded: list[str], encoding: str) -> dict[str, Any]:
    """Upload the roll, then run the import job inline; its seconds, rows and the process's
    peak RSS (this process is the job's worker)."""
    from sqlalchemy import text

    from agora import create_app
    from agora.draws.models import Register
    from agora.extensions import db
    from agora.jobs import enqueue
    from agora.tenancy.isolation import tenant_scope

    tenant_id, register_id = _prepare(app_url, roll, excluded, encoding)
    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url})
    with app.app_context():
        started = time.perf_counter()
        handle = enqueue("draws.import_register", tenant_id=tenant_id, register_id=register_id)
        seconds = time.perf_counter() - started
        with tenant_scope(db.session, tenant_id):
            register = db.session.get(Register, (tenant_id, register_id))
            assert register is not None
            stored = db.session.execute(
                text("SELECT pg_total_relation_size('register_block')")
            ).scalar_one()
            figures = {
                "status": handle.result,
                "error": register.error,
                "rows": register.row_count,
                "lines": register.lines_read,
                "ineligible": register.ineligible,
                "stored_bytes": int(stored),
            }
        figures["stage1_seconds"] = _stage1(app, tenant_id, register.draw_id)
        db.engine.dispose()
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # KiB on Linux
    return {**figures, "seconds": seconds, "peak_rss_mb": peak}


def _stage1(app: Any, tenant_id: int, draw_id: int) -> float:
    """Publish the method, commit stage 1 to a sealed seed, then time the job drawing it."""
    import hashlib

    from agora.draws import services, stage1
    from agora.draws.models import Draw
    from agora.extensions import db
    from agora.jobs import enqueue
    from agora.plugins.manager import get_registry
    from agora.tenancy.config import TenantConfig
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.models import Tenant
    from agora.tenancy.services import current_config

    seed = "bench"
    with tenant_scope(db.session, tenant_id):
        tenant = db.session.get(Tenant, tenant_id)
        draw = db.session.get(Draw, (tenant_id, draw_id))
        assert tenant is not None and draw is not None
        version = current_config(db.session, tenant)
        assert version is not None
        hooks = get_registry().view(TenantConfig(version.document))
        services.publish_method(db.session, tenant, draw, actor="bench")
        stage1.commit(
            db.session, tenant, hooks, draw, actor="bench", invitations=STAGE1_INVITATIONS,
            stratified=True, seed_sha256=hashlib.sha256(seed.encode()).hexdigest(),
        )  # fmt: skip
        stage1.start(db.session, tenant, draw, actor="bench", seed=seed)
    db.session.commit()
    started = time.perf_counter()
    enqueue("draws.stage1", tenant_id=tenant_id, draw_id=draw_id, actor="bench", seed=seed)
    return time.perf_counter() - started


def _import_in_child(
    app_url: str, roll: Path, excluded: list[str], encoding: str
) -> dict[str, Any]:
    upload = Path(tempfile.mkdtemp(prefix="agora-bench-uploads-"))
    try:
        done = subprocess.run(
            [sys.executable, __file__, "--child", app_url, str(roll), encoding],
            input=json.dumps(excluded),
            capture_output=True,
            text=True,
            check=False,
            env={
                **os.environ,
                "AGORA_UPLOAD_DIR": str(upload),
                "AGORA_BASE_DOMAIN": "localhost",
                "AGORA_SECRET_KEY": "bench",
            },
        )
    finally:
        shutil.rmtree(upload, ignore_errors=True)
    if done.returncode:
        raise SystemExit(f"the import failed:\n{done.stderr}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if result["status"] != "imported":
        raise SystemExit(f"the register was not imported: {result['error']}")
    return result


def _fresh_database(admin_url: URL) -> tuple[str, str]:
    name, super_url = _create_database(admin_url)
    _migrate(super_url.set(username=OWNER).render_as_string(hide_password=False))
    return name, super_url.set(username=APP).render_as_string(hide_password=False)


def bench_import(admin_url: URL, roll: Path, excluded: list[str], args: argparse.Namespace) -> None:
    readings, imports = [], []
    for _ in range(args.repeat):
        readings.append(time_csv_reader(roll, args.encoding))
        name, app_url = _fresh_database(admin_url)  # each import on an empty database
        try:
            imports.append(_import_in_child(app_url, roll, excluded, args.encoding))
        finally:
            _drop_database(admin_url, name)
    reading = statistics.median(readings)
    seconds = statistics.median(r["seconds"] for r in imports)
    peak = max(r["peak_rss_mb"] for r in imports)
    ratio = seconds / reading
    print(f"rows in the roll           {args.rows:>12,}")
    print(
        f"rows stored                {imports[0]['rows']:>12,}  "
        f"ineligible {imports[0]['ineligible']}"
    )
    stored = imports[0]["stored_bytes"]
    print(
        f"stored (register_block)    {stored / 1e6:>12.0f} MB  "
        f"{stored / max(imports[0]['rows'], 1):.0f} bytes an entry, table + TOAST + index"
    )
    print(f"csv.reader                 {reading:>12.2f} s   (runs: {_runs(readings)})")
    print(
        f"import (job, PostgreSQL)   {seconds:>12.2f} s   "
        f"(runs: {_runs([r['seconds'] for r in imports])})"
    )
    print(f"ratio                      {ratio:>12.2f} ×   goal ≤ {IMPORT_RATIO_GOAL:g}")
    print(f"peak RSS of the import     {peak:>12.0f} MB  goal ≤ {IMPORT_RSS_GOAL_MB}")
    stage1 = statistics.median(r["stage1_seconds"] for r in imports)
    print(
        f"stage 1 (job, {STAGE1_INVITATIONS:,} inv.)  {stage1:>10.2f} s   "
        f"import and stage 1: {(seconds + stage1) / reading:.2f} × csv.reader"
    )


def bench_letters(args: argparse.Namespace) -> None:
    """The letters' PDF of ``LETTERS`` invitations: pages per second."""
    from agora.draws import letters

    text = letters.LetterText(
        commune="Poitiers", colour="#9b1b30", title="Vous êtes invité·e à l'assemblée citoyenne",
        paragraphs=("Votre foyer a été tiré au sort. " * 6, "Répondez avec le code. " * 6),
        code_label="Votre code personnel", answer_label="Répondez sur",
        notice_title="Vos données personnelles",
    )  # fmt: skip
    batch = [
        letters.Letter(
            (f"Prénom Nom{n}", f"{n % 180 + 1} rue de la Paix", "86000 Poitiers"),
            f"K{n:09d}",
            f"https://poitiers.example.fr/r/K{n:09d}",
        )
        for n in range(LETTERS)
    ]
    runs = []
    for _ in range(args.repeat):
        started = time.perf_counter()
        content = letters.letters_pdf(text, batch)
        runs.append(time.perf_counter() - started)
    seconds = statistics.median(runs)
    print(f"letters                    {LETTERS:>12,}  {len(content) / 2**20:.1f} MB")
    print(
        f"pages per second           {LETTERS / seconds:>12.0f}     goal ≥ {LETTERS_GOAL:g}  "
        f"(runs: {_runs(runs)} s)"
    )


def run_stage2(app_url: str) -> dict[str, Any]:
    """Poitiers' demonstration draw up to its closed pool, then the lottery through the job,
    the CLI's commit and one library call on the same pool and quotas."""
    from agora import create_app
    from agora.assembly import editions
    from agora.demo.draws import load_draw
    from agora.demo.story import story_for
    from agora.draws import pool, services
    from agora.draws.models import Draw
    from agora.extensions import db
    from agora.jobs import enqueue
    from agora.onboarding.services import apply_config
    from agora.plugins.manager import get_registry
    from agora.sortition import build_lottery, compile_instance
    from agora.tenancy.config import validate_document
    from agora.tenancy.isolation import tenant_scope
    from agora.tenancy.services import tenant_by_slug
    from agora_sortition.rounding import AUTO

    document = tomllib.loads((ROOT / "tenants" / "poitiers.toml").read_text(encoding="utf-8"))
    story = story_for("poitiers", ROOT / "tenants" / "demo").draw
    assert story is not None
    app = create_app({"SQLALCHEMY_DATABASE_URI": app_url})
    with app.app_context():
        config = validate_document(document, get_registry(), "bench")
        apply_config(db.session, config, "bench", "bench")
        tenant = tenant_by_slug(db.session, "poitiers")
        assert tenant is not None
        hooks = get_registry().view(config)
        with tenant_scope(db.session, tenant.id):
            edition = editions.open_edition(
                db.session, tenant, 2027, "Bench", hooks.composition_rules(), "bench"
            )
            body = next(b for b in editions.bodies_of(db.session, edition) if b.key == story.body)
            draw = load_draw(
                db.session,
                tenant,
                hooks,
                edition,
                body,
                story,
                date(2026, 12, 6),
                config.draws,
                seat=False,
            )
            draw_id, tenant_id = draw.id, tenant.id
            [part] = services.sub_draws(db.session, draw)
            criteria = hooks.quota_criteria()
            people = pool.sub_draw_pool(db.session, criteria, part)
            quotas = pool.sub_draw_quotas(db.session, criteria, part)
            seats = part.seats
        db.session.commit()
        started = time.perf_counter()
        build_lottery(compile_instance(people, quotas, seats, households=True), "leximin", AUTO)
        library = time.perf_counter() - started
        cli, command = _stage2_cli(people, quotas, seats)
        started = time.perf_counter()
        enqueue("draws.stage2", tenant_id=tenant_id, draw_id=draw_id, actor="bench")
        job = time.perf_counter() - started
        with tenant_scope(db.session, tenant_id):
            status = db.session.get(Draw, (tenant_id, draw_id)).status.value  # type: ignore[union-attr]
        db.engine.dispose()
    return {
        "pool": len(people),
        "seats": seats,
        "library": library,
        "cli": cli,
        "command": command,
        "job": job,
        "status": status,
    }


def _stage2_cli(people: Any, quotas: Any, seats: int) -> tuple[float, float]:
    """The CLI's ``commit`` on the same pool and quotas (written as its files): the lottery
    computed and its record written, as the job does. Seconds in this process (the command's
    own work), and as a command (``python -m agora.sortition``, the interpreter included)."""
    import contextlib
    import io

    from agora_sortition.cli import main as cli_main
    from agora_sortition.pool import write_pool, write_quotas

    folder = Path(tempfile.mkdtemp(prefix="agora-bench-stage2-"))
    try:
        write_pool(folder / "pool.csv", people)
        write_quotas(folder / "quotas.csv", quotas)
        arguments = [
            "commit", "--people", str(folder / "pool.csv"),
            "--features", str(folder / "quotas.csv"), "--panel-size", str(seats),
            "--households", "household", "--record", str(folder / "record.json"),
            "--drand-round", "99999999", "--random-source", "drand quicknet round 99999999",
        ]  # fmt: skip
        started = time.perf_counter()
        with contextlib.redirect_stdout(io.StringIO()), contextlib.redirect_stderr(io.StringIO()):
            if cli_main(arguments) != 0:
                raise SystemExit("the CLI's commit failed")
        in_process = time.perf_counter() - started
        (folder / "record.json").unlink()
        started = time.perf_counter()
        subprocess.run(
            [sys.executable, "-m", "agora.sortition", *arguments], capture_output=True, check=True
        )
        command = time.perf_counter() - started
    finally:
        shutil.rmtree(folder, ignore_errors=True)
    return in_process, command


def bench_stage2(admin_url: URL, args: argparse.Namespace) -> None:
    runs = []
    for _ in range(args.repeat):
        name, app_url = _fresh_database(admin_url)
        try:
            done = subprocess.run(
                [sys.executable, __file__, "--stage2", app_url],
                capture_output=True, text=True, check=False,
                env={**os.environ, "AGORA_UPLOAD_DIR": tempfile.mkdtemp(prefix="agora-bench-"),
                     "AGORA_SECRET_KEY": "bench"},
            )  # fmt: skip
        finally:
            _drop_database(admin_url, name)
        if done.returncode:
            raise SystemExit(f"stage 2 failed:\n{done.stderr}")
        runs.append(json.loads(done.stdout.strip().splitlines()[-1]))
    if any(r["status"] != "lottery_committed" for r in runs):
        raise SystemExit(f"the lottery was not committed: {runs}")
    library = statistics.median(r["library"] for r in runs)
    cli = statistics.median(r["cli"] for r in runs)
    command = statistics.median(r["command"] for r in runs)
    job = statistics.median(r["job"] for r in runs)
    print(f"pool, seats                {runs[0]['pool']:>8} / {runs[0]['seats']}")
    print(
        f"library (build_lottery)    {library:>12.2f} s   "
        f"(runs: {_runs([r['library'] for r in runs])}; the lottery alone, no record)"
    )
    print(
        f"CLI commit, in process     {cli:>12.2f} s   "
        f"(runs: {_runs([r['cli'] for r in runs])}; lottery and record, as the job)"
    )
    print(
        f"CLI commit, as a command   {command:>12.2f} s   "
        f"(runs: {_runs([r['command'] for r in runs])}; the interpreter's start included)"
    )
    print(f"job draws.stage2           {job:>12.2f} s   (runs: {_runs([r['job'] for r in runs])})")
    print(f"ratio to the CLI's work    {job / cli:>12.2f} ×   goal ≤ {STAGE2_RATIO_GOAL:g}")
    print(f"ratio to the lottery alone {job / library:>12.2f} ×")


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_500_000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--encoding", choices=("latin-1", "utf-8-sig"), default="latin-1")
    args = parser.parse_args(argv)
    admin_url = make_url(
        os.environ.get("AGORA_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres")
    ).set(drivername="postgresql+psycopg")
    folder = Path(tempfile.mkdtemp(prefix="agora-bench-draws-"))
    try:
        roll = folder / "liste-electorale.csv"
        excluded = generate_roll(roll, args.rows, encoding=args.encoding)
        print(f"roll: {args.rows:,} rows, {roll.stat().st_size / 2**20:.0f} MB, {args.encoding}")
        print("\n== Import of the roll (job draws.import_register) ==")
        bench_import(admin_url, roll, excluded, args)
        print("\n== Letters for the print shop ==")
        bench_letters(args)
        print("\n== Stage 2: the lottery through the job against the CLI's commit ==")
        bench_stage2(admin_url, args)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


if __name__ == "__main__":
    if sys.argv[1:2] == ["--stage2"]:
        print(json.dumps(run_stage2(sys.argv[2])))
    elif sys.argv[1:2] == ["--child"]:
        _, _, url, path, encoding = sys.argv
        result = run_import(url, Path(path), json.loads(sys.stdin.read()), encoding)
        print(json.dumps(result))
    else:
        main()

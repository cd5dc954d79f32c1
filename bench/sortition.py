"""Benchmark of the sortition engine (``agora_sortition``, the distribution in sortition/).

Run from the repository root::

    PYTHONPATH=sortition .venv/bin/python bench/sortition.py [--quick] [--timeout S]

Stage 2: synthetic *self-selected* pools of a French commune (volunteering is likelier for older,
more educated, owner-occupier residents; gender, age band, neighbourhood, socio-professional
category (PCS), diploma and housing tenure are correlated), with quotas of +-10 % (at least one
seat) around the population shares, widened by the engine's own minimal relaxation when the pool
cannot meet them. Sizes (n, k): (200, 20), (1000, 100), (5000, 150), and the public instances of
../shared/sortition-instances when present. For LEXIMIN, MAXIMIN and LEGACY it prints seconds,
the minimum probability, how many volunteers have probability 0, the LP upper bound on the
minimum and the peak resident memory of the run (each run in its own process). LEGACY's
probabilities are Monte-Carlo estimates (the number of runs is printed): its "p=0" column counts
volunteers never drawn, an upper estimate of those who cannot be drawn.

Stage 1: writes a 1.5-million-row register (about 1.6 electors per address) to bench/out/
(git-ignored), then prints, over interleaved rounds, the median wall and CPU time of ``csv.reader``
just reading it and of drawing 10 000 invitations (uniform; by neighbourhood; by neighbourhood, one
per address, with 1 000 exclusions; 500 per neighbourhood, one per address), with their ratios.
"""

from __future__ import annotations

import argparse
import csv
import multiprocessing as mp
import os
import resource
import statistics
import sys
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from agora_sortition import (
    InfeasibleQuotas,
    Pool,
    Quota,
    QuotaSet,
    check_feasibility,
    compile_instance,
    draw_invitations,
    find_leximin,
    find_maximin,
    legacy_probabilities,
    read_pool,
    read_quotas,
)
from agora_sortition.instance import FloatArray

OUT = Path(__file__).resolve().parent / "out"
SHARED = Path(__file__).resolve().parents[1] / ".." / "shared" / "sortition-instances"

AGE = ("16-24", "25-34", "35-49", "50-64", "65-74", "75+")
AGE_SHARE = (0.14, 0.15, 0.24, 0.24, 0.12, 0.11)
PCS = (
    "agriculteur",
    "artisan",
    "cadre",
    "intermediaire",
    "employe",
    "ouvrier",
    "retraite",
    "inactif",
)
PCS_BY_AGE = np.array(
    [
        [0, 0.01, 0.02, 0.08, 0.14, 0.10, 0, 0.65],
        [0.01, 0.04, 0.20, 0.24, 0.21, 0.15, 0, 0.15],
        [0.01, 0.07, 0.21, 0.24, 0.19, 0.16, 0, 0.12],
        [0.02, 0.07, 0.17, 0.18, 0.18, 0.14, 0.14, 0.10],
        [0.01, 0.02, 0.02, 0.02, 0.02, 0.02, 0.87, 0.02],
        [0, 0, 0, 0, 0, 0, 0.98, 0.02],
    ]
)
DIPLOMA = ("aucun", "cap-bep", "bac", "bac+2", "bac+3")
DIPLOMA_BY_PCS = np.array(
    [
        [0.3, 0.4, 0.15, 0.1, 0.05],
        [0.15, 0.45, 0.2, 0.1, 0.1],
        [0.02, 0.03, 0.1, 0.15, 0.7],
        [0.03, 0.12, 0.25, 0.35, 0.25],
        [0.15, 0.35, 0.3, 0.12, 0.08],
        [0.3, 0.45, 0.15, 0.07, 0.03],
        [0.4, 0.3, 0.12, 0.08, 0.1],
        [0.2, 0.15, 0.4, 0.12, 0.13],
    ]
)
TENURE = ("proprietaire", "locataire-prive", "locataire-hlm")
# relative propensity to volunteer (self-selection)
PROPENSITY = {
    "age": (0.5, 0.6, 0.8, 1.2, 1.6, 1.0),
    "diploma": (0.4, 0.6, 0.9, 1.2, 1.8),
    "logement": (1.3, 0.9, 0.6),
}


def population(size: int, quartiers: int, rng: np.random.Generator) -> dict[str, np.ndarray]:
    age = rng.choice(len(AGE), size, p=AGE_SHARE)
    cumulative = PCS_BY_AGE.cumsum(axis=1) / PCS_BY_AGE.sum(axis=1, keepdims=True)
    pcs = (rng.random((size, 1)) > cumulative[age]).sum(axis=1)
    diploma = (rng.random((size, 1)) > DIPLOMA_BY_PCS.cumsum(axis=1)[pcs]).sum(axis=1)
    diploma = np.minimum(diploma, len(DIPLOMA) - 1)
    owner = np.clip(0.25 + 0.1 * age + 0.15 * (pcs == 2), 0, 0.9)
    social = np.clip(0.35 - 0.05 * age - 0.1 * (diploma >= 3), 0.05, 1) * (1 - owner)
    draw = rng.random(size)
    tenure = np.where(draw < owner, 0, np.where(draw < owner + social, 2, 1))
    shares = rng.dirichlet(np.full(quartiers, 4.0))
    social_shares = np.r_[0.35, 0.3, np.full(quartiers - 2, 0.35 / (quartiers - 2))]
    quartier = np.where(
        tenure == 2,
        rng.choice(quartiers, size, p=social_shares),
        rng.choice(quartiers, size, p=shares),
    )
    gender = rng.choice(2, size, p=(0.52, 0.48))
    return {
        "genre": gender,
        "age": age,
        "quartier": quartier,
        "pcs": pcs,
        "diploma": diploma,
        "logement": tenure,
    }


def synthetic(
    n: int, k: int, features: tuple[str, ...], quartiers: int, seed: int = 0
) -> tuple[Pool, QuotaSet]:
    """A self-selected pool of ``n`` volunteers and quotas from the population shares."""
    rng = np.random.default_rng(seed)
    people = population(40 * n, quartiers, rng)
    names = {
        "genre": ("femme", "homme"),
        "age": AGE,
        "pcs": PCS,
        "diploma": DIPLOMA,
        "logement": TENURE,
        "quartier": tuple(f"Q{i + 1}" for i in range(quartiers)),
    }
    propensity = np.ones(40 * n)
    for feature, factors in PROPENSITY.items():
        propensity *= np.asarray(factors)[people[feature]]
    chosen = rng.choice(40 * n, n, replace=False, p=propensity / propensity.sum())
    quotas = []
    for feature in features:
        share = np.bincount(people[feature], minlength=len(names[feature])) / (40 * n)
        for value, s in zip(names[feature], share, strict=True):
            target = s * k
            slack = max(1, round(0.1 * target))
            quotas.append(
                Quota(feature, value, max(0, int(target) - slack), int(np.ceil(target)) + slack)
            )
    rows = tuple(tuple(names[f][people[f][i]] for f in features) for i in chosen)
    pool = Pool(tuple(f"v{i:05d}" for i in range(n)), features, rows)
    quota_set = QuotaSet(tuple(quotas))
    try:
        check_feasibility(compile_instance(pool, quota_set, k))
    except InfeasibleQuotas as error:  # widen exactly as much as the engine says is needed
        quota_set = quota_set.replace_bounds(
            {(r["feature"], r["value"]): (r["new_min"], r["new_max"]) for r in error.relaxation}
        )
    return pool, quota_set


FAMILY = ("seul", "couple", "couple-enfants", "monoparental")
INCOME = ("Q1", "Q2", "Q3", "Q4", "Q5")
# stronger self-selection than PROPENSITY, for the high-dimensional shapes of issue 16
SKEW = {
    "age": (0.35, 0.5, 0.8, 1.3, 2.0, 1.1),
    "diploma": (0.3, 0.5, 0.9, 1.4, 2.4),
    "logement": (1.5, 0.8, 0.5),
    "famille": (0.8, 1.3, 1.0, 0.6),
    "revenu": (0.5, 0.7, 1.0, 1.3, 1.8),
}
NAMES = {
    "genre": ("femme", "homme"),
    "age": AGE,
    "pcs": PCS,
    "diploma": DIPLOMA,
    "logement": TENURE,
    "famille": FAMILY,
    "revenu": INCOME,
}
HIGH = ("genre", "age", "quartier", "pcs", "diploma", "logement", "famille", "revenu")


def _exact_seats(shares: np.ndarray, k: int) -> np.ndarray:
    """One seat for each value, then a largest-remainder apportionment of the other seats to
    ``shares`` (organisers give every value a seat)."""
    raw = shares * (k - len(shares))
    seats = np.floor(raw).astype(np.int64)
    seats[np.argsort(-(raw - seats), kind="stable")[: k - len(shares) - int(seats.sum())]] += 1
    apportioned: np.ndarray = seats + 1
    return apportioned


def high_dimensional(
    n: int, k: int, categories: int, quotas: str, seed: int = 0, quartiers: int = 8
) -> tuple[Pool, QuotaSet]:
    """Issue 16's hard shape: ``categories`` (7 or 8) features with ~35-45 values in all, almost
    all volunteers of distinct types, strong self-selection and quotas that are ``exact``
    (min = max = the population's apportionment of the seats) or ``pm1`` (that +-1); a pool that
    cannot meet them gets the engine's smallest relaxation, as a real organiser would.

    ``planted`` (on top of +-1 quotas) makes the relaxation not tight: one seat exactly for each
    of three rare values x (pcs agriculteur), y (famille monoparental) and c (diploma aucun),
    every holder of c having exactly one of x and y. A volunteer holding x and y but not c fits
    no valid panel (the panel then has no room for a c), though the LP relaxation gives them a
    positive probability (half an x-and-y, half an x-and-c, half a y-and-c meet every quota)."""
    rng = np.random.default_rng(seed)
    features = HIGH[:categories]
    people = population(40 * n, quartiers, rng)
    size = 40 * n
    people["famille"] = np.where(
        people["age"] == 0,
        rng.choice(4, size, p=(0.6, 0.2, 0.1, 0.1)),
        rng.choice(4, size, p=(0.3, 0.3, 0.3, 0.1)),
    )
    people["revenu"] = np.clip(
        people["diploma"] + rng.integers(-1, 2, size) - (people["logement"] == 2), 0, 4
    )
    names = {**NAMES, "quartier": tuple(f"Q{i + 1}" for i in range(quartiers))}
    propensity = np.ones(size)
    for feature, factors in SKEW.items():
        if feature in features:
            propensity *= np.asarray(factors)[people[feature]]
    chosen = rng.choice(size, n, replace=False, p=propensity / propensity.sum())
    rows = [[names[f][people[f][i]] for f in features] for i in chosen]
    bounds: dict[tuple[str, str], tuple[int, int]] = {}
    for feature in features:
        share = np.bincount(people[feature], minlength=len(names[feature])) / size
        for value, seats in zip(names[feature], _exact_seats(share, k), strict=True):
            low, high = (seats, seats) if quotas == "exact" else (max(0, seats - 1), seats + 1)
            bounds[(feature, value)] = (int(low), int(high))
    if quotas == "planted":
        a, b, c = features.index("pcs"), features.index("famille"), features.index("diploma")
        x, y, z = "agriculteur", "monoparental", "aucun"
        for row in rows:  # c only with exactly one of x and y
            if row[c] == z and (row[a] == x) == (row[b] == y):
                row[c] = "cap-bep"
        for number, values in enumerate(((x, y, "bac"), (x, "seul", z), ("ouvrier", y, z)) * 3):
            rows[number * 7 % n][a], rows[number * 7 % n][b], rows[number * 7 % n][c] = values
        for feature, value in ((features[a], x), (features[b], y), (features[c], z)):
            bounds[(feature, value)] = (1, 1)
    pool = Pool(tuple(f"v{i:05d}" for i in range(n)), features, tuple(map(tuple, rows)))
    quota_set = QuotaSet(tuple(Quota(f, v, lo, hi) for (f, v), (lo, hi) in bounds.items()))
    try:
        check_feasibility(compile_instance(pool, quota_set, k))
    except InfeasibleQuotas as error:
        quota_set = quota_set.replace_bounds(
            {(r["feature"], r["value"]): (r["new_min"], r["new_max"]) for r in error.relaxation}
        )
    return pool, quota_set


def _peer(pool: Pool, quotas: QuotaSet, k: int) -> FloatArray:
    """MAXIMIN of ``sortition-algorithms`` (the Sortition Foundation's library, from PyPI) on
    the same pool: each person's probability, in pool order."""
    from sortition_algorithms import Settings, read_in_features, read_in_people
    from sortition_algorithms.committee_generation.maximin import find_distribution_maximin

    head = ["feature", "value", "min", "max"]
    body = [
        {"feature": q.feature, "value": q.value, "min": str(q.min), "max": str(q.max)}
        for q in quotas.quotas
    ]
    features, _, _ = read_in_features(head, body, k)
    people_body = [
        {"id": person, **dict(zip(pool.features, row, strict=True))}
        for person, row in zip(pool.ids, pool.rows, strict=True)
    ]
    settings = Settings(id_column="id", columns_to_keep=[])
    people, _ = read_in_people(["id", *pool.features], people_body, features, settings)
    committees, weights, _ = find_distribution_maximin(features, people, k, [])
    index = {person: i for i, person in enumerate(pool.ids)}
    probabilities = np.zeros(len(pool))
    for committee, weight in zip(committees, weights, strict=True):
        for person in committee:
            probabilities[index[person]] += weight
    found: FloatArray = probabilities
    return found


def _measure(args: tuple[Pool, QuotaSet, int, str, int, float | None], queue: Any) -> None:
    try:
        _measured(args, queue)
    except Exception as error:  # reported, so that a failure is not taken for a timeout
        queue.put(("failed", f"{type(error).__name__}: {error}"))


def _measured(args: tuple[Pool, QuotaSet, int, str, int, float | None], queue: Any) -> None:
    pool, quotas, k, algorithm, runs, limit = args
    instance = compile_instance(pool, quotas, k)
    started, cpu = time.perf_counter(), time.process_time()
    bound = relaxed = float("nan")
    unreachable, optimal = 0, ""
    if algorithm == "legacy":
        probabilities = legacy_probabilities(instance, runs, seed=0)
    elif algorithm == "peer":
        silent = os.open(os.devnull, os.O_WRONLY)
        os.dup2(silent, 1)  # the peer and its HiGHS print banners on standard output
        probabilities = _peer(pool, quotas, k)
        unreachable = int((probabilities < 1e-9).sum())
    else:
        search = find_leximin if algorithm == "leximin" else find_maximin
        result = search(instance, time_limit=limit)
        probabilities, bound = result.probabilities, result.lp_bound
        relaxed = result.relaxation_bound
        unreachable = len(result.unreachable)
        optimal = "yes" if result.optimal else "no"
    # the smallest probability among those who fit some panel (the others get 0 in any lottery)
    low = float(np.sort(probabilities)[unreachable]) if unreachable < len(pool) else 0.0
    seconds, cpu = time.perf_counter() - started, time.process_time() - cpu
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    queue.put(
        (
            seconds,
            cpu,
            low,
            int((probabilities < 1e-9).sum()),
            relaxed,
            bound,
            peak,
            unreachable,
            optimal,
        )
    )


def measure(
    pool: Pool,
    quotas: QuotaSet,
    k: int,
    algorithm: str,
    runs: int,
    timeout: float,
    limit: float | None = None,
) -> tuple[Any, ...] | None:
    """Run one algorithm in a fresh process (for its own peak memory); None on timeout."""
    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(
        target=_measure, args=((pool, quotas, k, algorithm, runs, limit), queue)
    )
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return None
    return tuple(queue.get()) if not queue.empty() else None


def cases(quick: bool) -> list[tuple[str, Pool, QuotaSet, int]]:
    """Every stage-2 pool: the friendly synthetic ones, issue 16's high-dimensional ones (7
    and 8 categories, exact and +-1 quotas, a planted non-tight shape) and the public ones."""
    found: list[tuple[str, Pool, QuotaSet, int]] = []
    specs = [
        (200, 20, ("genre", "age", "quartier", "diploma"), 4),
        (1000, 100, ("genre", "age", "quartier", "pcs", "diploma"), 8),
        (5000, 150, ("genre", "age", "quartier", "pcs", "diploma", "logement"), 8),
    ]
    for n, k, features, quartiers in specs[: 2 if quick else 3]:
        name = f"synthetic n={n} k={k} ({len(features)} features)"
        found.append((name, *synthetic(n, k, features, quartiers), k))
    high = [
        (200, 20, 7, "exact"),
        (200, 20, 8, "pm1"),
        (200, 20, 8, "planted"),
        (321, 30, 8, "exact"),
        (600, 60, 7, "exact"),
        (600, 60, 7, "planted"),
        (1000, 100, 7, "pm1"),
        (1000, 100, 8, "exact"),
        (1727, 110, 7, "exact"),
        (1727, 110, 7, "planted"),
        (5000, 150, 7, "pm1"),
        (5000, 150, 8, "exact"),
    ]
    for n, k, categories, kind in high[: 6 if quick else len(high)]:
        name = f"high n={n} k={k} {categories} cat. {kind}"
        found.append((name, *high_dimensional(n, k, categories, kind), k))
    if SHARED.is_dir():
        for folder, k, id_column in (
            ("sf_fixture_150_22", 22, "id"),
            ("example_small_20", 20, None),
            ("example_large_200", 200, None),
        )[: 2 if quick else 3]:
            quotas = read_quotas(SHARED / folder / "categories.csv")
            pool = read_pool(SHARED / folder / "respondents.csv", quotas, id_column=id_column)
            found.append((f"public {folder} n={len(pool)} k={k}", pool, quotas, k))
    return found


def stage2(
    quick: bool,
    timeout: float,
    runs: int,
    only: str | None,
    algorithms: tuple[str, ...],
    limit: float | None,
) -> None:
    print(f"LEGACY probabilities: Monte Carlo over {runs} panels per instance.")
    print(f"Each run in its own process, killed after {timeout:.0f} s", end="")
    print(f"; LEXIMIN and MAXIMIN told to stop after {limit:.0f} s." if limit else ".")
    print("min = smallest probability found among the people who fit some panel (the 'aside'")
    print("column counts the others, found first, at 0 in every lottery; for the peer: people it")
    print("gives 0); LP = the relaxation's bound on that minimum; proven = the certified upper")
    print("bound on the best minimum (optimal when min = proven); p=0 = people at probability 0;")
    print("'all levels proven': every LEXIMIN level (MAXIMIN: its one) certified by its bound.")
    if "peer" in algorithms:
        try:
            import sortition_algorithms  # noqa: F401
        except ImportError:
            print("peer (sortition-algorithms, MAXIMIN) not installed: skipped.")
            algorithms = tuple(a for a in algorithms if a != "peer")
    print()
    header = (
        "algorithm   wall s   CPU s  min prob   p=0 aside  LP bound    proven   gap     peak MiB"
        "  all levels proven"
    )
    for name, pool, quotas, k in cases(quick):
        if only and not any(part in name for part in only.split("|")):
            continue
        types = compile_instance(pool, quotas, k).num_types
        print(f"{name}: {types} types, {len(quotas.quotas)} values")
        print(header)
        for algorithm in algorithms:
            result = measure(pool, quotas, k, algorithm, runs, timeout, limit)
            if result is None:
                print(f"{algorithm:<9} {'> ' + str(int(timeout)):>8}   (timed out)")
                continue
            if result[0] == "failed":
                print(f"{algorithm:<9} FAILED: {result[1]}")
                continue
            seconds, cpu, low, zeros, relaxed, bound, peak, aside, optimal = result
            relaxed_text = bound_text = gap_text = aside_text = ""
            aside_text = str(aside) if algorithm != "legacy" else ""
            if bound == bound:  # not NaN: the engine proves a bound
                relaxed_text, bound_text = f"{relaxed:9.5f}", f"{bound:9.5f}"
                gap_text = f"{bound - low:8.1e}"
            print(
                f"{algorithm:<9} {seconds:8.2f} {cpu:7.2f} {low:9.5f} {zeros:5d} {aside_text:>5} "
                f"{relaxed_text:>9} {bound_text:>9} {gap_text:>8} {peak:8.0f} {optimal:>4}",
                flush=True,
            )
        print()


def write_register(path: Path, rows: int) -> None:
    """An electoral roll in name order: about 1.6 electors per address, scattered through the
    file, each address in one of 20 neighbourhoods."""
    rng = np.random.default_rng(1)
    homes = rng.integers(0, rows * 5 // 8, rows)
    quartiers = rng.integers(0, 20, rows * 5 // 8)[homes]
    with path.open("w", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(
            [
                "id",
                "nom",
                "prenom",
                "date_naissance",
                "adresse",
                "code_postal",
                "bureau",
                "quartier",
            ]
        )
        for i in range(rows):
            writer.writerow(
                [
                    f"E{i:07d}",
                    f"Nom{i % 9973}",
                    f"Prenom{i % 613}",
                    f"19{40 + i % 60}-0{1 + i % 9}-1{i % 10}",
                    f"{homes[i] % 150 + 1} rue {homes[i] // 150}",
                    f"86{i % 100:03d}",
                    f"B{i % 40}",
                    f"Q{quartiers[i]}",
                ]
            )


def stage1(quick: bool, repeats: int) -> None:
    rows = 150_000 if quick else 1_500_000
    OUT.mkdir(exist_ok=True)
    path = OUT / f"register-households_{rows}.csv"
    if not path.exists():
        write_register(path, rows)

    def read() -> None:
        with path.open(newline="", encoding="utf-8-sig") as handle:
            deque(csv.reader(handle), maxlen=0)

    n = rows // 150
    excluded = {f"E{i:07d}" for i in range(0, rows, rows // 1000)}
    per_quartier = {f"Q{q}": n // 20 for q in range(20)}
    runs: dict[str, Callable[[], object]] = {
        "csv.reader reading the file": read,
        f"invite {n:,}, uniform": lambda: draw_invitations(path, n, seed=1),
        f"invite {n:,}, by quartier": lambda: draw_invitations(
            path, n, seed=1, stratify="quartier"
        ),
        f"invite {n:,}, by quartier, 1/address, exclusions": lambda: draw_invitations(
            path,
            n,
            seed=1,
            stratify="quartier",
            household_columns=["adresse"],
            id_column="id",
            exclude=excluded,
        ),
        f"invite {n // 20:,} per quartier (fixed), 1/address": lambda: draw_invitations(
            path, 0, seed=1, stratify="quartier", fixed=per_quartier, household_columns=["adresse"]
        ),
    }
    size = path.stat().st_size / 2**20
    print(f"Stage 1: register of {rows:,} rows ({size:.0f} MiB), 1 000 exclusions")
    print(f"median of {repeats} interleaved rounds; ratio = time / time of csv.reader alone")
    print(f"  {'':<52} {'wall s':>7} {'ratio':>6} {'CPU s':>7} {'ratio':>6}")
    wall: dict[str, list[float]] = {name: [] for name in runs}
    cpu: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(repeats):  # interleaved, so that a busy machine weighs on every mode alike
        for name, run in runs.items():
            started, used = time.perf_counter(), time.process_time()
            run()
            wall[name].append(time.perf_counter() - started)
            cpu[name].append(time.process_time() - used)
    base_wall = statistics.median(wall["csv.reader reading the file"])
    base_cpu = statistics.median(cpu["csv.reader reading the file"])
    for name in runs:
        w, c = statistics.median(wall[name]), statistics.median(cpu[name])
        print(f"  {name:<52} {w:7.2f} {w / base_wall:6.2f} {c:7.2f} {c / base_cpu:6.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="small sizes only")
    parser.add_argument("--timeout", type=float, default=900.0, help="seconds per run")
    parser.add_argument("--legacy-runs", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3, help="stage-1 repeats")
    parser.add_argument("--skip", choices=("stage1", "stage2"))
    parser.add_argument(
        "--only", help="stage-2 pools whose name contains this, or one of these split by '|'"
    )
    parser.add_argument(
        "--algorithms",
        default="leximin,maximin,legacy,peer",
        help="comma-separated, from leximin, maximin, legacy and peer (sortition-algorithms)",
    )
    parser.add_argument(
        "--time-limit", type=float, help="LEXIMIN/MAXIMIN stop there with their proven gap"
    )
    args = parser.parse_args()
    if args.skip != "stage2":
        algorithms = tuple(args.algorithms.split(","))
        stage2(args.quick, args.timeout, args.legacy_runs, args.only, algorithms, args.time_limit)
    if args.skip != "stage1":
        stage1(args.quick, args.repeats)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

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


def _measure(args: tuple[Pool, QuotaSet, int, str, int], queue: Any) -> None:
    pool, quotas, k, algorithm, runs = args
    instance = compile_instance(pool, quotas, k)
    started = time.perf_counter()
    bound = float("nan")
    if algorithm == "legacy":
        probabilities = legacy_probabilities(instance, runs, seed=0)
    else:
        result = (find_leximin if algorithm == "leximin" else find_maximin)(instance)
        probabilities, bound = result.probabilities, result.lp_bound
    seconds = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # MiB on Linux
    queue.put(
        (
            seconds,
            float(probabilities.min()),
            int((probabilities < 1e-9).sum()),
            bound,
            peak,
            instance.num_types,
        )
    )


def measure(
    pool: Pool, quotas: QuotaSet, k: int, algorithm: str, runs: int, timeout: float
) -> tuple[Any, ...] | None:
    """Run one algorithm in a fresh process (for its own peak memory); None on timeout."""
    context = mp.get_context("fork")
    queue = context.Queue()
    process = context.Process(target=_measure, args=((pool, quotas, k, algorithm, runs), queue))
    process.start()
    process.join(timeout)
    if process.is_alive():
        process.kill()
        process.join()
        return None
    return tuple(queue.get())


def stage2(quick: bool, timeout: float, runs: int) -> None:
    cases: list[tuple[str, Pool, QuotaSet, int]] = []
    specs = [
        (200, 20, ("genre", "age", "quartier", "diploma"), 4),
        (1000, 100, ("genre", "age", "quartier", "pcs", "diploma"), 8),
        (5000, 150, ("genre", "age", "quartier", "pcs", "diploma", "logement"), 8),
    ]
    for n, k, features, quartiers in specs[: 2 if quick else 3]:
        cases.append(
            (
                f"synthetic n={n} k={k} ({len(features)} features)",
                *synthetic(n, k, features, quartiers),
                k,
            )
        )
    if SHARED.is_dir():
        for folder, k, id_column in (
            ("sf_fixture_150_22", 22, "id"),
            ("example_small_20", 20, None),
            ("example_large_200", 200, None),
        )[: 2 if quick else 3]:
            quotas = read_quotas(SHARED / folder / "categories.csv")
            pool = read_pool(SHARED / folder / "respondents.csv", quotas, id_column=id_column)
            cases.append((f"public {folder} n={len(pool)} k={k}", pool, quotas, k))
    print(f"LEGACY probabilities: Monte Carlo over {runs} panels per instance.")
    print(f"Each run in its own process, killed after {timeout:.0f} s.\n")
    header = "algorithm   seconds  min prob   p=0  LP bound  bound-min  peak MiB"
    for name, pool, quotas, k in cases:
        types = compile_instance(pool, quotas, k).num_types
        print(f"{name}: {types} types")
        print(header)
        for algorithm in ("leximin", "maximin", "legacy"):
            result = measure(pool, quotas, k, algorithm, runs, timeout)
            if result is None:
                print(f"{algorithm:<9} {'> ' + str(int(timeout)):>9}   (timed out)")
                continue
            seconds, low, zeros, bound, peak, _ = result
            bound_text = gap_text = ""
            if bound == bound:  # not NaN: an LP bound exists
                bound_text, gap_text = f"{bound:9.5f}", f"{bound - low:10.1e}"
            print(
                f"{algorithm:<9} {seconds:9.2f} {low:9.5f} {zeros:5d} {bound_text:>9} "
                f"{gap_text:>10} {peak:9.0f}"
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
    args = parser.parse_args()
    if args.skip != "stage2":
        stage2(args.quick, args.timeout, args.legacy_runs)
    if args.skip != "stage1":
        stage1(args.quick, args.repeats)
    sys.stdout.flush()


if __name__ == "__main__":
    main()

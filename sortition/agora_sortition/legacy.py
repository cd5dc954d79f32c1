"""The Sortition Foundation's "legacy" greedy method, for comparison.

Each step takes the feature value whose unmet minimum is largest relative to the volunteers
still available in it, ``(min - selected) / remaining``, and selects one of those volunteers
uniformly at random; once a value reaches its maximum, everyone else with that value is removed,
and with the household constraint so are the housemates of each selected person. A run that gets
stuck or ends outside the quotas is retried from scratch, ``MAX_ATTEMPTS`` times at most: then
``LegacyMethodStuck`` says so (on quotas found feasible: the method, not the quotas, fails).
Its selection probabilities have no closed form: ``legacy_probabilities`` estimates them by
Monte Carlo.
"""

from __future__ import annotations

import numpy as np

from .errors import LegacyMethodStuck
from .instance import FloatArray, Instance, IntArray

MAX_ATTEMPTS = 100


class _Stuck(Exception):
    """This attempt cannot be completed; start again."""


def _attempt(instance: Instance, rng: np.random.Generator, person_quotas: IntArray) -> IntArray:
    lowest, highest = instance.quota_min, instance.quota_max
    members = [np.flatnonzero((person_quotas == q).any(axis=1)) for q in range(len(lowest))]
    alive = np.ones(instance.n, dtype=bool)
    remaining = np.bincount(person_quotas.ravel(), minlength=len(lowest))
    selected = np.zeros(len(lowest), dtype=np.int64)
    homes = instance.pool.households if instance.use_households else None
    housemates: dict[str, list[int]] = {}
    if homes is not None:
        for person, home in enumerate(homes):
            housemates.setdefault(home, []).append(person)

    def remove(people: IntArray) -> None:
        people = people[alive[people]]
        alive[people] = False
        np.subtract.at(remaining, person_quotas[people].ravel(), 1)

    remove(np.flatnonzero((highest[person_quotas] == 0).any(axis=1)))
    chosen: list[int] = []
    for _ in range(instance.k):
        needed = lowest - selected
        if (remaining < needed).any():
            raise _Stuck
        ratio = np.where(
            (remaining > 0) & (highest > 0), needed / np.maximum(remaining, 1), -np.inf
        )
        value = int(np.argmax(ratio))  # first value with the highest ratio, as in the original
        if ratio[value] == -np.inf:
            raise _Stuck
        candidates = members[value][alive[members[value]]]
        person = int(candidates[rng.integers(len(candidates))])
        chosen.append(person)
        selected[person_quotas[person]] += 1
        remove(np.array([person]))
        if homes is not None:
            remove(np.array(housemates[homes[person]], dtype=np.int64))
        for quota in person_quotas[person]:
            if selected[quota] == highest[quota]:
                remove(members[quota])
    if (selected < lowest).any() or (selected > highest).any():
        raise _Stuck
    return np.array(sorted(chosen), dtype=np.int64)


def legacy_panel(instance: Instance, rng: np.random.Generator) -> IntArray:
    """Person indices of one panel drawn by the legacy method (retrying failed attempts)."""
    person_quotas = instance.type_quotas[instance.person_type]
    for _ in range(MAX_ATTEMPTS):
        try:
            return _attempt(instance, rng, person_quotas)
        except _Stuck:
            continue
    # the callers check feasibility first: a panel exists, the greedy method misses it
    raise LegacyMethodStuck(MAX_ATTEMPTS)


def legacy_probabilities(instance: Instance, runs: int, seed: int) -> FloatArray:
    """Monte-Carlo estimate of each person's selection probability from ``runs`` panels."""
    rng = np.random.default_rng(seed)
    counts = np.zeros(instance.n)
    for _ in range(runs):
        counts[legacy_panel(instance, rng)] += 1
    return counts / runs

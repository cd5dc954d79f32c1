"""The selection problem compiled for the solvers: volunteers grouped into *types*.

Two volunteers with the same value for every feature are interchangeable: swapping them maps
quota-satisfying panels to quota-satisfying panels. LEXIMIN's probability vector is unique, so it
gives them the same probability, and every solver here works on type counts (how many of each
type a panel holds) instead of individuals. The household constraint breaks that symmetry for
people who share a household with another volunteer; each of them becomes a type of their own.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from .errors import MalformedInput
from .pool import Pool, QuotaSet

IntArray = npt.NDArray[np.int64]
FloatArray = npt.NDArray[np.float64]


@dataclass(frozen=True, eq=False)
class Instance:
    """Pool, quotas and panel size, with the type structure the solvers need."""

    pool: Pool
    quotas: QuotaSet
    k: int
    use_households: bool
    person_type: IntArray  # (n,) type of each person
    type_size: IntArray  # (T,) number of people of each type
    type_members: tuple[IntArray, ...]  # person indices of each type, in pool order
    type_quotas: IntArray  # (T, F) quota index of each type's value for each feature
    household_groups: tuple[IntArray, ...]  # types sharing a household (all of size 1)
    type_household: IntArray  # (T,) index into household_groups, -1 for pooled types

    @property
    def n(self) -> int:
        return len(self.pool)

    @property
    def num_types(self) -> int:
        return len(self.type_size)

    @property
    def quota_min(self) -> IntArray:
        return np.array([q.min for q in self.quotas.quotas], dtype=np.int64)

    @property
    def quota_max(self) -> IntArray:
        return np.array([q.max for q in self.quotas.quotas], dtype=np.int64)

    def quota_counts(self, type_counts: npt.NDArray[np.generic]) -> FloatArray:
        """Seats of each quota's value in a panel (or distribution) given by type counts."""
        counts = np.zeros(len(self.quotas.quotas))
        for column in self.type_quotas.T:
            np.add.at(counts, column, type_counts)
        return counts

    def person_probabilities(self, type_probabilities: FloatArray) -> dict[str, float]:
        """Per-person probability from a per-type one (types share probability equally)."""
        values = type_probabilities[self.person_type]
        return {person: float(p) for person, p in zip(self.pool.ids, values, strict=True)}


def compile_instance(pool: Pool, quotas: QuotaSet, k: int, *, households: bool = False) -> Instance:
    """Validate the inputs and group volunteers into types."""
    pool.check_against(quotas)
    if not 1 <= k <= len(pool):
        raise MalformedInput(f"panel size {k} must be between 1 and the pool size {len(pool)}")
    if households and pool.households is None:
        raise MalformedInput("the household constraint needs a household column")
    columns = [pool.features.index(f) for f in quotas.features]
    codes = [
        tuple(quotas.position(f, row[c]) for f, c in zip(quotas.features, columns, strict=True))
        for row in pool.rows
    ]
    shared: set[str] = set()
    if households and pool.households is not None:
        seen: set[str] = set()
        for household in pool.households:
            (shared if household in seen else seen).add(household)
    type_index: dict[object, int] = {}
    person_type = np.empty(len(pool), dtype=np.int64)
    homes = pool.households or ("",) * len(pool)
    for person, code in enumerate(codes):
        # people sharing a household are not interchangeable: key them individually
        key: object = ("person", person) if homes[person] in shared else code
        person_type[person] = type_index.setdefault(key, len(type_index))
    num_types = len(type_index)
    order = np.argsort(person_type, kind="stable")
    type_size = np.bincount(person_type, minlength=num_types).astype(np.int64)
    type_members = tuple(np.split(order, np.cumsum(type_size)[:-1]))
    type_quotas = np.array([codes[int(m[0])] for m in type_members], dtype=np.int64)
    groups: dict[str, list[int]] = {}
    if shared:
        for person, household in enumerate(homes):
            if household in shared:
                groups.setdefault(household, []).append(int(person_type[person]))
    type_household = np.full(num_types, -1, dtype=np.int64)
    for index, group in enumerate(groups.values()):
        type_household[group] = index
    return Instance(
        pool=pool,
        quotas=quotas,
        k=k,
        use_households=households,
        person_type=person_type,
        type_size=type_size,
        type_members=type_members,
        type_quotas=type_quotas.reshape(num_types, len(quotas.features)),
        household_groups=tuple(np.array(g, dtype=np.int64) for g in groups.values()),
        type_household=type_household,
    )

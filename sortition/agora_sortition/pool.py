"""Volunteers, features and quotas, and the Sortition Foundation CSV formats.

Standard library only: ``verify`` imports this module and must run on a bare Python.

File formats (stratification-app compatible):

* quotas: header ``feature,value,min,max`` or ``critere,valeur,min,max`` (the replication
  data's ``category,feature,min,max`` is accepted too); extra columns such as ``min_flex`` are
  ignored;
* people: an id column (default ``id``; ``None`` numbers the rows ``1..n``) plus one column per
  feature; optional household column(s); other columns are ignored.

Both are read by ``tables.read_table``: UTF-8 (with or without BOM), UTF-16 with BOM or
Windows-1252, separated by ``,``, ``;`` or tab; names and values match up to case and accents
where that is unambiguous.
"""

from __future__ import annotations

import csv
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from .errors import MalformedInput
from .tables import find_column, normalise, read_table, value_matcher

QUOTA_HEADERS = (("feature", "value", "min", "max"), ("category", "feature", "min", "max"))


@dataclass(frozen=True)
class Quota:
    """Panel seats allowed for one value of one feature: ``min <= count <= max``."""

    feature: str
    value: str
    min: int
    max: int


@dataclass(frozen=True)
class QuotaSet:
    """Quotas for every value of every stratification feature, in file order."""

    quotas: tuple[Quota, ...]
    _index: dict[tuple[str, str], int] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        index: dict[tuple[str, str], int] = {}
        for position, quota in enumerate(self.quotas):
            key = (quota.feature, quota.value)
            if key in index:
                raise MalformedInput(f"duplicate quota for {quota.feature}={quota.value}")
            if not 0 <= quota.min <= quota.max:
                raise MalformedInput(
                    f"quota {quota.feature}={quota.value} needs 0 <= min <= max, "
                    f"got min={quota.min} max={quota.max}"
                )
            index[key] = position
        object.__setattr__(self, "_index", index)

    @property
    def features(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(q.feature for q in self.quotas))

    def values(self, feature: str) -> tuple[str, ...]:
        return tuple(q.value for q in self.quotas if q.feature == feature)

    def position(self, feature: str, value: str) -> int:
        """Index of the quota of ``feature=value`` in ``quotas``."""
        return self._index[(feature, value)]

    def replace_bounds(self, bounds: Mapping[tuple[str, str], tuple[int, int]]) -> QuotaSet:
        """A copy with some ``(feature, value) -> (min, max)`` bounds changed."""
        return QuotaSet(
            tuple(
                Quota(q.feature, q.value, *bounds.get((q.feature, q.value), (q.min, q.max)))
                for q in self.quotas
            )
        )


@dataclass(frozen=True)
class Pool:
    """The respondents: one id, one value per feature and optionally a household key each."""

    ids: tuple[str, ...]
    features: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]
    households: tuple[str, ...] | None = None

    def __post_init__(self) -> None:
        if len(self.rows) != len(self.ids):
            raise MalformedInput(f"{len(self.ids)} ids but {len(self.rows)} rows")
        if self.households is not None and len(self.households) != len(self.ids):
            raise MalformedInput(f"{len(self.ids)} ids but {len(self.households)} households")
        duplicates = [i for i, c in Counter(self.ids).items() if c > 1]
        if duplicates:
            raise MalformedInput(f"duplicate ids: {', '.join(sorted(duplicates)[:5])}")
        for person, row in zip(self.ids, self.rows, strict=True):
            if len(row) != len(self.features):
                raise MalformedInput(f"person {person!r} has {len(row)} feature values")

    def __len__(self) -> int:
        return len(self.ids)

    def value(self, person: int, feature: str) -> str:
        return self.rows[person][self.features.index(feature)]

    def check_against(self, quotas: QuotaSet) -> None:
        """Every quota feature is present and every person's value has a quota."""
        missing = [f for f in quotas.features if f not in self.features]
        if missing:
            raise MalformedInput(f"the pool has no column for feature(s) {', '.join(missing)}")
        for feature in quotas.features:
            allowed = set(quotas.values(feature))
            column = self.features.index(feature)
            for person, row in zip(self.ids, self.rows, strict=True):
                if row[column] not in allowed:
                    raise MalformedInput(
                        f"person {person!r} has value {row[column]!r} for {feature!r}, "
                        f"which has no quota (known: {', '.join(sorted(allowed))})",
                        column=feature,
                    )


def panel_counts(pool: Pool, quotas: QuotaSet, panel: Iterable[str]) -> list[int]:
    """Number of panel members in each quota's value, aligned with ``quotas.quotas``."""
    position = {person: i for i, person in enumerate(pool.ids)}
    counts = [0] * len(quotas.quotas)
    columns = [pool.features.index(f) for f in quotas.features]
    for person in panel:
        row = pool.rows[position[person]]
        for feature, column in zip(quotas.features, columns, strict=True):
            counts[quotas.position(feature, row[column])] += 1
    return counts


def quota_violations(pool: Pool, quotas: QuotaSet, panel: Sequence[str]) -> list[dict[str, Any]]:
    """The quota bounds ``panel`` breaks, as ``{"feature","value","bound","limit","count"}``."""
    broken: list[dict[str, Any]] = []
    for quota, count in zip(quotas.quotas, panel_counts(pool, quotas, panel), strict=True):
        for bound, limit, bad in (
            ("min", quota.min, count < quota.min),
            ("max", quota.max, count > quota.max),
        ):
            if bad:
                broken.append(
                    {
                        "feature": quota.feature,
                        "value": quota.value,
                        "bound": bound,
                        "limit": limit,
                        "count": count,
                    }
                )
    return broken


def shared_households(pool: Pool, panel: Iterable[str]) -> list[str]:
    """Household keys holding more than one member of ``panel`` (empty without households)."""
    if pool.households is None:
        return []
    position = {person: i for i, person in enumerate(pool.ids)}
    seen = Counter(pool.households[position[person]] for person in panel)
    return sorted(h for h, c in seen.items() if c > 1)


# --- CSV input/output -------------------------------------------------------------------------

# Header names of the quota file's columns, by role (compared up to ``tables.normalise``).
QUOTA_ROLES = {
    "feature": ("feature", "critere", "caracteristique", "categorie", "category", "variable"),
    "value": ("value", "valeur", "modalite"),
    "min": ("min", "minimum"),
    "max": ("max", "maximum"),
}
ID_ALIASES = ("identifiant",)  # the default id column "id" may be called so
MAX_POOL_BYTES = 100 * 2**20  # a people file larger than this is a register, not volunteers


def _int_cell(text: str, *, file: str, line: int, column: str) -> int:
    try:
        value = int(text.strip())
    except ValueError:
        raise MalformedInput(
            f"expected a whole number, found {text!r}",
            key="not_integer",
            file=file,
            line=line,
            column=column,
            text=text,
        ) from None
    if value < 0:
        raise MalformedInput(
            f"expected a non-negative number, found {value}",
            key="negative",
            file=file,
            line=line,
            column=column,
            value=value,
        )
    return value


def _quota_columns(header: Sequence[str], name: str) -> tuple[list[int], tuple[str, ...]] | None:
    """Positions of the feature, value, min and max columns, and the names to report them by."""
    plain = [normalise(h) for h in header]
    if "category" in plain and "feature" in plain:  # the replication data: category=feature
        layout = QUOTA_HEADERS[1]
        return [plain.index(c) for c in layout], layout
    at: list[int] = []
    for role, aliases in QUOTA_ROLES.items():
        found = find_column(header, role, file=name, aliases=aliases)
        if found is None:
            return None
        at.append(found)
    return at, tuple(header[i] for i in at)


def _wrong_width(name: str, line: int, found: int, expected: int, delimiter: str) -> MalformedInput:
    return MalformedInput(
        f"expected {expected} cells, found {found}",
        key="wrong_width",
        file=name,
        line=line,
        found=found,
        expected=expected,
        delimiter=delimiter,
    )


def read_quotas(path: str | os.PathLike[str]) -> QuotaSet:
    """Read a quota file: header ``feature,value,min,max`` or in French ``critere,valeur,min,max``
    (any case and accents; ``category,feature,min,max`` too), separated by ``,``, ``;`` or tab,
    in UTF-8 or Windows-1252 (see ``tables``); extra columns are ignored."""
    name = os.fspath(path)
    with read_table(path) as table:
        header = table.header
        delimiter = table.format.describe()
        found = _quota_columns(header, name)
        if found is None:
            raise MalformedInput(
                "the header must contain feature,value,min,max (or critere,valeur,min,max)",
                key="bad_quotas_header",
                file=name,
                line=1,
                found=",".join(header),
                delimiter=repr(table.format.delimiter),
            )
        columns, layout = found
        quotas: list[Quota] = []
        seen: dict[tuple[str, str], int] = {}
        for line, row in table:
            if len(row) < len(header):
                raise _wrong_width(name, line, len(row), len(header), delimiter)
            feature, value = (row[columns[0]].strip(), row[columns[1]].strip())
            for column, text in ((layout[0], feature), (layout[1], value)):
                if not text:
                    raise MalformedInput(
                        "empty cell", key="empty_cell", file=name, line=line, column=column
                    )
            if (feature, value) in seen:
                raise MalformedInput(
                    f"duplicate quota for {feature}={value} (first on line {seen[feature, value]})",
                    key="duplicate_quota",
                    file=name,
                    line=line,
                    feature=feature,
                    value=value,
                    first=seen[feature, value],
                )
            seen[feature, value] = line
            low, high = (
                _int_cell(row[columns[i]], file=name, line=line, column=layout[i]) for i in (2, 3)
            )
            if low > high:
                raise MalformedInput(
                    f"min {low} is greater than max {high}",
                    key="min_above_max",
                    file=name,
                    line=line,
                    column=layout[2],
                    low=low,
                    high=high,
                )
            quotas.append(Quota(feature, value, low, high))
    if not quotas:
        raise MalformedInput("no quotas", key="no_quotas", file=name)
    return QuotaSet(tuple(quotas))


def read_pool(
    path: str | os.PathLike[str],
    quotas: QuotaSet,
    *,
    id_column: str | None = "id",
    household_columns: Sequence[str] = (),
) -> Pool:
    """Read a people file, keeping the id, the quota features and the household key.

    Encoding and separator are sniffed (see ``tables``). Column names and values match the
    quota file's exactly, or else without regard to case, accents and repeated spaces when that
    leaves one candidate (the quota file's spelling is kept); an unknown value, a missing column,
    an empty cell or a duplicate id is reported with its line and column. The id column ``id``
    may be called ``identifiant``.
    """
    name = os.fspath(path)
    try:
        size = os.path.getsize(name)
    except OSError:
        size = 0  # read_table says why it cannot be read
    if size > MAX_POOL_BYTES:
        raise MalformedInput(
            f"the file has {size // 2**20} MiB, more than a people file may "
            f"({MAX_POOL_BYTES // 2**20} MiB): is it the whole register? (stage 1 is 'invite')",
            key="oversized_pool",
            file=name,
            megabytes=size // 2**20,
            limit=MAX_POOL_BYTES // 2**20,
        )
    features = quotas.features
    match = {f: value_matcher(quotas.values(f)) for f in features}
    with read_table(path) as table:
        header = table.header
        wanted = [*features, *household_columns]
        at = [find_column(header, c, file=name) for c in wanted]
        id_at = None
        if id_column:
            aliases = ID_ALIASES if id_column == "id" else ()
            id_at = find_column(header, id_column, file=name, aliases=aliases)
            wanted.append(id_column)
            at.append(id_at)
        missing = [c for c, i in zip(wanted, at, strict=True) if i is None]
        if missing:
            raise MalformedInput(
                f"missing column(s) {', '.join(missing)}",
                key="missing_columns",
                file=name,
                line=1,
                column=missing[0],
                missing=", ".join(missing),
                found=",".join(header),
                delimiter=repr(table.format.delimiter),
            )
        found = [i for i in at if i is not None]  # all of them: none is missing
        feature_at = found[: len(features)]
        household_at = found[len(features) : len(features) + len(household_columns)]
        delimiter = table.format.describe()
        ids: list[str] = []
        values: list[tuple[str, ...]] = []
        households: list[str] = []
        first_line: dict[str, int] = {}
        for line, row in table:
            if len(row) != len(header):
                raise _wrong_width(name, line, len(row), len(header), delimiter)
            person = row[id_at].strip() if id_at is not None else str(len(ids) + 1)
            if not person:
                raise MalformedInput(
                    "empty id", key="empty_id", file=name, line=line, column=id_column
                )
            if person in first_line:
                raise MalformedInput(
                    f"duplicate id {person!r} (first on line {first_line[person]})",
                    key="duplicate_id",
                    file=name,
                    line=line,
                    column=id_column,
                    id=person,
                    first=first_line[person],
                )
            first_line[person] = line
            record: list[str] = []
            for feature, i in zip(features, feature_at, strict=True):
                cell = row[i].strip()
                value = match[feature](cell)
                if value is None:
                    known = ", ".join(sorted(quotas.values(feature)))
                    raise MalformedInput(
                        f"value {cell!r} has no quota (known: {known})",
                        key="unknown_value",
                        file=name,
                        line=line,
                        column=feature,
                        value=cell,
                        known=known,
                    )
                record.append(value)
            ids.append(person)
            values.append(tuple(record))
            if household_at:
                households.append("\x1f".join(row[i].strip() for i in household_at))
    return Pool(tuple(ids), features, tuple(values), tuple(households) if household_at else None)


def write_quotas(path: str | os.PathLike[str], quotas: QuotaSet) -> None:
    """Write a ``feature,value,min,max`` quota file."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(QUOTA_HEADERS[0])
        writer.writerows((q.feature, q.value, q.min, q.max) for q in quotas.quotas)


def write_pool(
    path: str | os.PathLike[str], pool: Pool, *, household_column: str = "household"
) -> None:
    """Write a people file: ``id``, one column per feature, and the household key if any."""
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        extra = [household_column] if pool.households is not None else []
        writer.writerow(["id", *pool.features, *extra])
        for i, person in enumerate(pool.ids):
            household = [pool.households[i]] if pool.households is not None else []
            writer.writerow([person, *pool.rows[i], *household])

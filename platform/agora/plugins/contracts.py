"""Value types exchanged between the core and plugins.

Plugins return these frozen dataclasses from their hooks; the core never receives a
plugin's own classes, so a plugin can be replaced without touching the core.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal, Protocol, runtime_checkable

ORIGINS = (
    "drawn",
    "volunteer",
    "elected_majority",
    "elected_opposition",
    "agent",
    "researcher",
    "facilitator",
    "association",
    "company",
    "expert",
)
#: Origins that group several others in a seat specification.
ORIGIN_GROUPS: Mapping[str, tuple[str, ...]] = {
    "elected": ("elected_majority", "elected_opposition"),
}
POWERS = ("agenda_setting", "draft_content", "organise_process", "decide", "monitor")
SELECTION_MODES = (
    "drawn",
    "drawn_among_volunteers",
    "open_call",
    "designated_by_council",
    "designated_by_administration",
    "designated_by_group",
    "ex_officio",
    "co_opted",
)
BODY_KINDS = (
    "prefiguration_group",
    "assembly_plenary",
    "proposal_group",
    "methodology_committee",
    "follow_up_committee",
    "citizens_panel",
    "working_group",
)
Openness = Literal["open_to_public", "members_only"]


@dataclass(frozen=True)
class SeatSpec:
    """``count`` seats for people of ``origin`` (or of an origin group such as ``elected``)."""

    origin: str
    count: int
    selection_mode: str
    voting: bool = True

    def covers(self, origin: str) -> bool:
        return origin == self.origin or origin in ORIGIN_GROUPS.get(self.origin, ())


@dataclass(frozen=True)
class OriginConstraint:
    """At least ``minimum`` (and at most ``maximum``) members of ``origin`` in a body."""

    origin: str
    minimum: int = 0
    maximum: int | None = None


@dataclass(frozen=True)
class BodySpec:
    """A body the commune's rules call for: proposal group, committee, plenary…"""

    key: str
    kind: str
    name: str
    powers: tuple[str, ...]
    openness: Openness
    seats: tuple[SeatSpec, ...]
    constraints: tuple[OriginConstraint, ...] = ()

    @property
    def seat_count(self) -> int:
        return sum(seat.count for seat in self.seats)


@dataclass(frozen=True)
class SessionSpec:
    number: int
    kind: str
    title: str
    deliverables: tuple[str, ...] = ()
    remote: bool = False


@dataclass(frozen=True)
class PhaseSpec:
    """A phase of the programme. ``price_cents_excl_tax`` is the consultancy's price for the
    phase, before tax, in euro cents (``None``: not sold on its own); a quote copies it."""

    key: str
    title: str
    sessions: tuple[SessionSpec, ...]
    price_cents_excl_tax: int | None = None


@dataclass(frozen=True)
class ProgrammeTemplate:
    """The consultancy's support programme: ordered phases, each with its sessions."""

    key: str
    title: str
    duration_weeks: int
    phases: tuple[PhaseSpec, ...]


@dataclass(frozen=True)
class RegisterEntry:
    """One line of a residents' register, reduced to what a draw needs.

    ``person_key`` identifies the person (or the address, for an address file),
    ``household_key`` groups people living together (at most one invitation per household),
    ``stratum`` is the value a stratified draw allocates on (neighbourhood, polling station).
    ``line`` is the entry's line in the file (for messages that name it), ``birth_date`` the
    person's date of birth when the register has one (eligibility by age), ``features`` the
    person's values on the commune's quota criteria when the register has them (feature →
    value, e.g. ``{"gender": "F"}``), and ``attributes`` what invitations need (name, address).
    """

    person_key: str
    household_key: str
    stratum: str
    attributes: Mapping[str, str] = field(default_factory=dict)
    line: int = 0
    birth_date: date | None = None
    features: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class RegisterBatch:
    """Consecutive entries of a register, column by column: the ``i``-th entry is
    ``lines[i]``, ``person_keys[i]``, ``household_keys[i]``… (the fields of
    :class:`RegisterEntry`, each cell already stripped, households normalised).

    A register of a million people is read by batches of some thousands of entries: the core
    checks, hashes and stores them a column at a time, where one Python object per entry
    would cost several times the time ``csv`` takes to read the file. ``birth_dates`` is
    ``None`` when the register has no date of birth; ``features`` and ``attributes`` map a
    feature or attribute to its column.
    """

    lines: Sequence[int]
    person_keys: Sequence[str]
    household_keys: Sequence[str]
    strata: Sequence[str]
    birth_dates: Sequence[date | None] | None = None
    features: Mapping[str, Sequence[str]] = field(default_factory=dict)
    attributes: Mapping[str, Sequence[str]] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.lines)


#: Entries per batch of :func:`entry_batches` (and of the plugins' readers).
BATCH_SIZE = 5_000


def entry_batches(
    entries: Iterable[RegisterEntry], size: int = BATCH_SIZE
) -> Iterator[RegisterBatch]:
    """Entries read one by one, given as batches: for a source whose registers are small (a
    list of volunteers) or whose file is not read a row at a time by ``csv``. A batch's
    entries have the same features and attributes (a new batch starts where they change):
    an entry without a feature is not given an empty one."""
    batch: list[RegisterEntry] = []
    for entry in entries:
        if batch and (
            entry.features.keys() != batch[0].features.keys()
            or entry.attributes.keys() != batch[0].attributes.keys()
        ):
            yield _batch_of(batch)
            batch = []
        batch.append(entry)
        if len(batch) >= size:
            yield _batch_of(batch)
            batch = []
    if batch:
        yield _batch_of(batch)


def _batch_of(entries: Sequence[RegisterEntry]) -> RegisterBatch:
    dated = any(entry.birth_date is not None for entry in entries)
    return RegisterBatch(
        lines=[entry.line for entry in entries],
        person_keys=[entry.person_key for entry in entries],
        household_keys=[entry.household_key for entry in entries],
        strata=[entry.stratum for entry in entries],
        birth_dates=[entry.birth_date for entry in entries] if dated else None,
        features={f: [entry.features[f] for entry in entries] for f in entries[0].features},
        attributes={a: [entry.attributes[a] for entry in entries] for a in entries[0].attributes},
    )


#: Codes of :class:`RegisterFormatError`, with the parameters each one carries. The core
#: words the message in the reader's language from the code; the English ``message`` is
#: for logs and for codes it does not know.
REGISTER_ERROR_CODES: Mapping[str, tuple[str, ...]] = {
    "empty_file": (),
    "not_text": (),
    "encoding": ("encoding",),
    "delimiter": ("expected", "found"),
    "missing_columns": ("columns",),
    "field_count": ("found", "expected"),
    "malformed": ("detail",),
    "empty_identifier": (),
    "empty_address": (),
    "unreadable_date": ("value",),
}


class RegisterFormatError(ValueError):
    """A register file that cannot be read; ``line`` and ``column`` say where.

    ``code`` (one of :data:`REGISTER_ERROR_CODES`) and ``params`` let the core word the
    message in French; ``str(error)`` is the English message with its place.
    """

    def __init__(
        self,
        message: str,
        *,
        line: int | None = None,
        column: str | None = None,
        code: str = "malformed",
        params: Mapping[str, str] | None = None,
    ):
        where = []
        if line is not None:
            where.append(f"line {line}")
        if column is not None:
            where.append(f"column {column!r}")
        super().__init__(f"{', '.join(where)}: {message}" if where else message)
        self.message = message
        self.line = line
        self.column = column
        self.code = code
        self.params: Mapping[str, str] = dict(params or {"detail": message})


class CommuneSettings(Protocol):
    """A commune's validated configuration, as every hook receives it (``tenant``).

    The contract names only what a plugin may read; the core's implementation
    (``agora.tenancy.config.TenantConfig``) stays the core's, so plugins and the plugin
    manager depend on this protocol and never on the tenancy package.
    """

    @property
    def slug(self) -> str:
        """The commune's sub-domain, unique on the platform."""
        ...

    @property
    def name(self) -> str:
        """The commune's name as its residents write it."""
        ...

    @property
    def commune(self) -> Mapping[str, Any]:
        """The ``[commune]`` table: INSEE code, kind, population, status, domains."""
        ...

    @property
    def assembly(self) -> Mapping[str, Any]:
        """The ``[assembly]`` table: name, subjects per year, working days…"""
        ...

    @property
    def plugins(self) -> Mapping[str, Mapping[str, Any]]:
        """The enabled plugins by name, each with its settings table."""
        ...

    def plugin_settings(self, plugin: str) -> Mapping[str, Any]:
        """Settings of an enabled plugin (an empty mapping when it has none)."""
        ...


#: Invitation channels a draw source may declare.
CHANNELS = ("letter", "door_to_door", "phone", "email")


class DrawSource(Protocol):
    """Reads one kind of residents' register (electoral roll extract, address file…).

    A commune may enable several sources; each has a ``name`` unique in the commune
    (``electoral_roll``, ``address_file``, ``volunteers``, ``generic_csv`` or one the commune
    chooses), which a sub-draw names.
    """

    name: str
    label: str
    #: How invitations reach people drawn from this source (letter, door-to-door visit…).
    channel: str

    @property
    def columns(self) -> Mapping[str, str]:
        """Which column of the file holds what: ``person``, ``household``, ``stratum``,
        ``birth_date`` and each quota feature the file carries (role → column name)."""
        ...

    def read_batches(self, path: Path) -> Iterator[RegisterBatch]:
        """Stream the register by batches of entries, in the file's order; raise
        :class:`RegisterFormatError` on malformed input (a source reading row by row gives
        its entries through :func:`entry_batches`)."""
        ...


@runtime_checkable
class ColumnMappedSource(DrawSource, Protocol):
    """A draw source whose columns are chosen for each file, on the draw's column-mapping
    screen (a generic CSV): the file waits there after its upload, and is read once mapped.

    Roles (``columns`` keys, each a list of the file's column names): ``person`` (one),
    ``household`` (one or more: the address), ``stratum``, ``birth_date`` (at most one each),
    ``attributes`` (any: kept for the letters) and each quota feature (at most one).
    """

    def headers(self, path: Path) -> list[str]:
        """The file's column names, in order; :class:`RegisterFormatError` when it has no
        readable header (empty file, another separator, a name given twice)."""
        ...

    def mapped(self, columns: Mapping[str, Sequence[str]]) -> DrawSource:
        """This source reading the columns chosen for one file."""
        ...


@dataclass(frozen=True)
class QuotaValue:
    value: str
    label: str
    #: Share of this value in the reference population (INSEE census), 0..1.
    reference_share: float


@dataclass(frozen=True)
class QuotaCriterion:
    """A feature the drawn panel must mirror (gender, age band, neighbourhood…)."""

    feature: str
    label: str
    values: tuple[QuotaValue, ...]
    #: Allowed deviation from the reference share, in seats, on each side.
    tolerance_seats: int = 1
    #: The draw sources whose sub-draws this criterion applies to (all when empty): a pool
    #: of 16–17-year-olds has no age quota.
    draw_sources: tuple[str, ...] = ()

    def applies_to(self, source: str) -> bool:
        return not self.draw_sources or source in self.draw_sources


@dataclass(frozen=True)
class Quorum:
    min_present: int = 0
    min_drawn_present: int = 0
    #: Share of the body's voting members who must be present, 0..1.
    min_share_of_members: Fraction = Fraction(0)


@dataclass(frozen=True)
class DecisionRule:
    """How one kind of decision is taken: method, threshold, quorum and tie-break chain;
    whether abstentions count among the votes cast of an absolute or qualified majority; and
    the fallback when the quorum is missed: the vote stands as indicative and the body is
    reconvened within ``reconvene_within_days`` days."""

    decision: str
    method: str
    threshold: Fraction | None
    quorum: Quorum
    tie_break: tuple[str, ...]
    reconvene_within_days: int
    count_abstentions: bool


@dataclass(frozen=True)
class ClauseTemplate:
    key: str
    title: str
    #: Jinja text rendered with the commune's configuration, so text and rules agree.
    text: str


@dataclass(frozen=True)
class CharterTemplate:
    key: str
    title: str
    clauses: tuple[ClauseTemplate, ...]


#: What reaching a petition's threshold level obliges the commune to do, in rising order.
PETITION_EFFECTS = ("meeting", "council_agenda", "referendum")


@dataclass(frozen=True)
class ThresholdLevel:
    """``signatures`` valid signatures oblige the commune to ``effect`` (one of
    :data:`PETITION_EFFECTS`); ``label`` says it in the commune's own words."""

    key: str
    signatures: int
    effect: str
    label: str


@dataclass(frozen=True)
class InterpellationRules:
    """A commune's right of interpellation: how long a petition collects signatures, who
    may sign, and the threshold levels, in rising order of signatures."""

    window_months: int
    minimum_age: int
    #: Signers must declare that they live in the commune.
    residents_only: bool
    levels: tuple[ThresholdLevel, ...]
    #: The name the commune gives its scheme ("droit d'interpellation citoyenne").
    name: str = ""

    def as_document(self) -> dict[str, Any]:
        """A JSON document of the rules, pinned by each petition when it opens."""
        return {
            "name": self.name,
            "window_months": self.window_months,
            "minimum_age": self.minimum_age,
            "residents_only": self.residents_only,
            "levels": [
                {"key": lv.key, "signatures": lv.signatures, "effect": lv.effect, "label": lv.label}
                for lv in self.levels
            ],
        }

    @classmethod
    def from_document(cls, document: Mapping[str, Any]) -> InterpellationRules:
        return cls(
            name=document.get("name", ""),
            window_months=int(document["window_months"]),
            minimum_age=int(document["minimum_age"]),
            residents_only=bool(document["residents_only"]),
            levels=tuple(
                ThresholdLevel(
                    key=lv["key"],
                    signatures=int(lv["signatures"]),
                    effect=lv["effect"],
                    label=lv["label"],
                )
                for lv in document["levels"]
            ),
        )


@dataclass(frozen=True)
class CommuneProfile:
    """A starting point for a new commune, offered in the console's onboarding wizard: the
    whole configuration of a kind of assembly (its ``assembly``, ``draws`` and ``plugins``
    tables), which the commune then adapts to its own town.

    ``title`` and ``description`` are shown to the consultancy's staff, in French.
    ``document`` holds no ``commune`` table: the wizard writes it from what staff enter.
    """

    key: str
    title: str
    description: str
    document: Mapping[str, Any]


JSONSchema = dict[str, Any]

"""A commune's demonstration story, as data: what ``flask demo load`` tells on its site.

Each demo commune has its own story in ``<tenants>/demo/<slug>.toml`` (its subjects, proposals
and their budgets, venues, the council's answer, the follow-up, its petitions, and how many
days separate each step); a commune without one gets the generic story of this package
(``generic.toml``, which documents every field). A commune's file replaces the generic story's
tables it names and keeps the others, so a new demo commune is one data file.

Dates are counted in days from the day the story is loaded, so that it always reads in order:
the support programme (scoping, prefiguration, training, draw, launch) and the council's
adoption of the charter come before the edition's first day; the edition's days, then the
council's deliberation, then the follow-up, all before today; petitions are recent.
:func:`chronology` computes the dates and refuses a story whose steps would not follow one
another.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from agora.assembly.models import MeasureStatus
from agora.assembly.proposals import VERDICTS

GENERIC = Path(__file__).with_name("generic.toml")

#: Monday = 0 … Sunday = 6 (``date.weekday()``).
WEEKDAYS = {
    "monday": 0,
    "tuesday": 1,
    "wednesday": 2,
    "thursday": 3,
    "friday": 4,
    "saturday": 5,
    "sunday": 6,
}
#: The statuses a measure's update may take (planned is where every measure starts).
MEASURE_STATUSES = tuple(s.value for s in MeasureStatus if s != MeasureStatus.PLANNED)


class StoryError(ValueError):
    """A story file that cannot be told: names the file and the field."""


@dataclass(frozen=True)
class Day:
    title: str
    #: Days after the edition's first day.
    after: int
    venue: str


@dataclass(frozen=True)
class Subject:
    title: str
    text: str
    #: The public reason it is inadmissible; empty when it is admissible.
    inadmissible: str = ""


@dataclass(frozen=True)
class Update:
    status: str
    note: str


@dataclass(frozen=True)
class Milestone:
    title: str
    #: Days after the council's deliberation.
    due: int
    reached: int | None = None


@dataclass(frozen=True)
class Amendment:
    text: str
    reason: str
    #: The authors' public reason for turning it down; empty when they accept it.
    refusal: str = ""


@dataclass(frozen=True)
class CouncilChange:
    text: str
    budget: int
    justification: str


@dataclass(frozen=True)
class Proposal:
    title: str
    text: str
    budget: int
    feasibility: str
    service: str
    note: str
    referent: str
    #: Days after the council's deliberation; ``None``: no due date.
    due: int | None
    amendment: Amendment | None
    council_change: CouncilChange | None
    updates: tuple[Update, ...]
    #: Days before today of the last update of the measure.
    last_update: int
    milestones: tuple[Milestone, ...]


@dataclass(frozen=True)
class Petition:
    title: str
    text: str
    #: Days since it opened, and over which its signatures came in.
    age: int
    spread: int


#: The registers ``agora.demo.registers`` generates, by the name a story gives them.
REGISTERS = ("address_file", "electoral_roll", "volunteers", "youth_census")


@dataclass(frozen=True)
class DrawPool:
    """A sub-draw of the story's draw: ``seats`` from the commune's source ``source``, read
    from a generated register of ``rows`` lines."""

    source: str
    seats: int
    register: str
    rows: int


@dataclass(frozen=True)
class DrawStory:
    """The draw that fills the edition's body ``body``, lived up to its seating."""

    body: str
    title: str
    witnesses: str
    #: The quota criterion whose values are the registers' strata (neighbourhoods…).
    strata: str
    invitations: int
    #: Share of the invited households (or volunteers) who answer and join the pool.
    answer_rate: float
    #: The reserve, in people, kept in order after the panel.
    reserve: int
    pools: tuple[DrawPool, ...]
    #: A seed the witnesses sealed (its SHA-256 is published); none: a drand round.
    seed: str = ""
    #: Why a quota the pool cannot meet is relaxed (a public deviation), if it happens.
    relax_reason: str = ""
    #: A quota value four times rarer among the answers than in the census (the people
    #: who answer least), as ``feature=value``.
    scarce: str = ""
    #: A body whose drawn seats are then drawn among this draw's members who volunteer
    #: (a nested draw), and how many of the members volunteer.
    nested_body: str = ""
    nested_volunteers: int = 0


@dataclass(frozen=True)
class Story:
    source: str
    # programme
    launch_before_first_day: int
    programme_venue: str
    programme_venues: dict[str, str]
    attendance: dict[str, int]
    minutes: str
    session_weekday: int
    # charter
    charter_after_vote: int
    charter_number: str
    # edition
    title: str
    first_day_ago: int
    day_weekday: int
    subject_question: str
    plan_question: str
    days: tuple[Day, ...]
    subjects: tuple[Subject, ...]
    # council
    council_after_last_day: int
    council_weekday: int
    council_number: str
    council_votes: tuple[int, int, int]
    proposals: tuple[Proposal, ...]
    petitions: tuple[Petition, ...] = field(default=())
    draw: DrawStory | None = None

    def attendance_at(self, kind: str) -> int:
        return self.attendance.get(kind, self.attendance["default"])


@dataclass(frozen=True)
class Chronology:
    """The story's dates, for a given day of loading."""

    programme_starts: date
    launch: date
    days: tuple[date, ...]
    council: date
    review: date

    @property
    def first_day(self) -> date:
        return self.days[0]

    @property
    def last_day(self) -> date:
        return self.days[-1]


def _on_or_before(day: date, weekday: int) -> date:
    return day - timedelta(days=(day.weekday() - weekday) % 7)


def _on_or_after(day: date, weekday: int) -> date:
    return day + timedelta(days=(weekday - day.weekday()) % 7)


def chronology(story: Story, today: date, programme_weeks: int) -> Chronology:
    """The story's dates counted back from ``today``; refuses one whose steps overlap."""
    first = _on_or_before(today - timedelta(days=story.first_day_ago), story.day_weekday)
    days = tuple(first + timedelta(days=d.after) for d in story.days)
    launch = _on_or_before(
        first - timedelta(days=story.launch_before_first_day), story.session_weekday
    )
    starts = launch - timedelta(weeks=programme_weeks)
    council = _on_or_after(
        days[-1] + timedelta(days=story.council_after_last_day), story.council_weekday
    )
    try:
        review = council.replace(year=council.year + 1)
    except ValueError:  # 29 February
        review = council.replace(year=council.year + 1, day=28)
    found = Chronology(starts, launch, days, council, review)
    if list(days) != sorted(set(days)):
        raise StoryError(f"{story.source}: edition.days must follow one another")
    if not days[-1] < council < today:
        raise StoryError(
            f"{story.source}: the council must deliberate after the edition's last day "
            f"({days[-1]}) and before today ({today}), not on {council}"
        )
    since_council = (today - council).days
    for proposal in story.proposals:
        if proposal.last_update >= since_council:
            raise StoryError(
                f"{story.source}: the last update of {proposal.title!r} "
                f"({proposal.last_update} days ago) must come after the council "
                f"({since_council} days ago)"
            )
        for step in proposal.milestones:
            if step.reached is not None and not 0 < step.reached <= since_council:
                raise StoryError(
                    f"{story.source}: milestone {step.title!r} must be reached between the "
                    f"council and today"
                )
    return found


def charter_council(story: Story, voted_on: date, first_day: date) -> date:
    """The council meeting that adopts the charter the prefiguration group voted on
    ``voted_on``: after that vote, before the edition's first day."""
    day = _on_or_after(voted_on + timedelta(days=story.charter_after_vote), story.council_weekday)
    if not day < first_day:
        raise StoryError(
            f"{story.source}: the council adopts the charter on {day}, after the edition's "
            f"first day ({first_day}): shorten charter.council_after_vote"
        )
    return day


# --- reading ---------------------------------------------------------------------------------


class _Table:
    """A TOML table read with the file and path of each field in errors."""

    def __init__(self, data: Any, source: str, path: str) -> None:
        if not isinstance(data, dict):
            raise StoryError(f"{source}: {path} must be a table")
        self.data: dict[str, Any] = data
        self.source, self.path = source, path

    def _where(self, key: str) -> str:
        return f"{self.source}: {self.path}.{key}" if self.path else f"{self.source}: {key}"

    def text(self, key: str, default: str | None = None) -> str:
        value = self.data.get(key, default)
        if not isinstance(value, str) or (default is None and not value.strip()):
            raise StoryError(f"{self._where(key)} must be a non-empty string")
        return value

    def number(self, key: str, default: int | None = None, minimum: int = 0) -> int:
        value = self.data.get(key, default)
        if not isinstance(value, int) or isinstance(value, bool) or value < minimum:
            raise StoryError(f"{self._where(key)} must be a whole number ≥ {minimum}")
        return value

    def optional_int(self, key: str) -> int | None:
        return None if key not in self.data else self.number(key)

    def choice(self, key: str, choices: tuple[str, ...] | dict[str, int]) -> str:
        value = self.text(key)
        if value not in choices:
            raise StoryError(f"{self._where(key)} must be one of {', '.join(choices)}")
        return value

    def table(self, key: str) -> _Table:
        return _Table(self.data.get(key, {}), self.source, f"{self.path}.{key}".strip("."))

    def optional_table(self, key: str) -> _Table | None:
        return self.table(key) if key in self.data else None

    def tables(self, key: str, *, minimum: int = 0) -> list[_Table]:
        rows = self.data.get(key, [])
        if not isinstance(rows, list) or len(rows) < minimum:
            raise StoryError(f"{self._where(key)} must list at least {minimum} entries")
        return [
            _Table(row, self.source, f"{self.path}.{key}[{i}]".strip("."))
            for i, row in enumerate(rows)
        ]

    def numbers(self, key: str) -> dict[str, int]:
        table = self.table(key)
        return {name: table.number(name) for name in table.data}


def _proposal(row: _Table) -> Proposal:
    amendment = row.optional_table("amendment")
    change = row.optional_table("council_change")
    return Proposal(
        title=row.text("title"),
        text=row.text("text"),
        budget=row.number("budget"),
        feasibility=row.choice("feasibility", VERDICTS),
        service=row.text("service"),
        note=row.text("note"),
        referent=row.text("referent"),
        due=row.optional_int("due"),
        amendment=None
        if amendment is None
        else Amendment(
            amendment.text("text"), amendment.text("reason"), amendment.text("refusal", "")
        ),
        council_change=None
        if change is None
        else CouncilChange(
            change.text("text"), change.number("budget"), change.text("justification")
        ),
        updates=tuple(
            Update(u.choice("status", MEASURE_STATUSES), u.text("note", ""))
            for u in row.tables("updates")
        ),
        last_update=row.number("last_update"),
        milestones=tuple(
            Milestone(m.text("title"), m.number("due"), m.optional_int("reached"))
            for m in row.tables("milestones")
        ),
    )


def _draw(table: _Table | None) -> DrawStory | None:
    if table is None:
        return None
    rate = table.data.get("answer_rate")
    if not isinstance(rate, float) or not 0 < rate <= 1:
        raise StoryError(f"{table.source}: draw.answer_rate must be a number in ]0, 1]")
    pools = tuple(
        DrawPool(
            p.text("source"),
            p.number("seats", minimum=1),
            p.choice("register", REGISTERS),
            p.number("rows", minimum=1),
        )
        for p in table.tables("pools", minimum=1)
    )
    return DrawStory(
        body=table.text("body"),
        title=table.text("title"),
        witnesses=table.text("witnesses"),
        strata=table.text("strata"),
        invitations=table.number("invitations", minimum=1),
        answer_rate=rate,
        reserve=table.number("reserve"),
        pools=pools,
        seed=table.text("seed", ""),
        relax_reason=table.text("relax_reason", ""),
        scarce=table.text("scarce", ""),
        nested_body=table.text("nested_body", ""),
        nested_volunteers=table.number("nested_volunteers", 0),
    )


def parse(data: dict[str, Any], source: str) -> Story:
    top = _Table(data, source, "")
    programme, charter, edition = top.table("programme"), top.table("charter"), top.table("edition")
    council, venues = top.table("council"), programme.table("venues")
    attendance = programme.numbers("attendance")
    if "default" not in attendance:
        raise StoryError(f"{source}: programme.attendance.default is missing")
    votes = council.data.get("votes")
    if not (isinstance(votes, list) and len(votes) == 3 and all(isinstance(v, int) for v in votes)):
        raise StoryError(f"{source}: council.votes must be [for, against, abstentions]")
    subjects = [
        Subject(s.text("title"), s.text("text"), s.text("inadmissible", ""))
        for s in top.tables("subjects", minimum=2)
    ]
    if sum(not s.inadmissible for s in subjects) < 2:
        raise StoryError(f"{source}: subjects needs at least two admissible subjects")
    proposals = tuple(_proposal(p) for p in top.tables("proposals", minimum=1))
    if sum(p.council_change is not None for p in proposals) > 1:
        raise StoryError(f"{source}: the council changes one proposal at most")
    return Story(
        source=source,
        launch_before_first_day=programme.number("launch_before_first_day", minimum=1),
        programme_venue=programme.text("venue"),
        programme_venues={k: venues.text(k) for k in venues.data},
        attendance=attendance,
        minutes=programme.text("minutes"),
        session_weekday=WEEKDAYS[programme.choice("weekday", WEEKDAYS)],
        charter_after_vote=charter.number("council_after_vote", minimum=1),
        charter_number=charter.text("number"),
        title=edition.text("title"),
        first_day_ago=edition.number("first_day_ago", minimum=1),
        day_weekday=WEEKDAYS[edition.choice("weekday", WEEKDAYS)],
        subject_question=edition.text("subject_question"),
        plan_question=edition.text("plan_question"),
        days=tuple(
            Day(d.text("title"), d.number("after"), d.text("venue"))
            for d in edition.tables("days", minimum=2)
        ),
        subjects=tuple(subjects),
        council_after_last_day=council.number("after_last_day", minimum=1),
        council_weekday=WEEKDAYS[council.choice("weekday", WEEKDAYS)],
        council_number=council.text("number"),
        council_votes=(votes[0], votes[1], votes[2]),
        proposals=proposals,
        petitions=tuple(
            Petition(p.text("title"), p.text("text"), p.number("age"), p.number("spread"))
            for p in top.tables("petitions")
        ),
        draw=_draw(top.optional_table("draw")),
    )


def _read(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except tomllib.TOMLDecodeError as error:
        raise StoryError(f"{path}: {error}") from error


def story_for(slug: str, folder: Path | None) -> Story:
    """The commune's story: its own file in ``folder`` over the generic story, or the generic
    story alone."""
    data = _read(GENERIC)
    own = folder / f"{slug}.toml" if folder is not None else None
    if own is not None and own.is_file():
        return parse({**data, **_read(own)}, str(own))
    return parse(data, str(GENERIC))

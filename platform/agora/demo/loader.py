"""``flask demo load``: realistic French demonstration data, built through the services.

For each onboarded commune, its own story (:mod:`agora.demo.story`: its subjects, proposals,
places and petitions, and the days between its steps) told through the services, in order:
its support programme held up to the launch, the charter adopted by the council, then a past
edition lived from end to end — bodies composed and installed as its rules say, subjects
submitted and reviewed (one inadmissible, with its public reason), a subject chosen by the
assembly's own method, proposals annotated by agents and amended, the action plan adopted by
its threshold, the council's deliberation with one amended measure, and the public
follow-up; and petitions under the commune's right of interpellation, when it has one (one
on the council's agenda at 912 signatures with levels at 50 and 900, or short of a single
threshold of 2,000; one just opened). Everything is deterministic (seeded) for a given day,
and applying it twice does nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any

import click
from flask import Flask, current_app
from flask.cli import AppGroup
from sqlalchemy import select
from werkzeug.datastructures import MultiDict

from agora.assembly import (
    amendments,
    ballots,
    bodies,
    casting,
    charter,
    council,
    decisions,
    editions,
    proposals,
    sessions,
    subjects,
)
from agora.assembly.models import (
    AssemblySession,
    AssemblySessionStatus,
    Ballot,
    Body,
    CouncilOutcome,
    CouncilResponse,
    Edition,
    EditionStatus,
    MeasureStatus,
)
from agora.db import PARIS, DbSession, paris_today, utcnow
from agora.demo import onboarding
from agora.demo.draws import load_draw, load_nested_draw
from agora.demo.story import Chronology, Story, StoryError, charter_council, chronology, story_for
from agora.extensions import db
from agora.petitions import services as petitions
from agora.petitions.models import PetitionStatus
from agora.plugins.contracts import BodySpec, InterpellationRules
from agora.plugins.manager import TenantHooks, get_registry
from agora.programme import services as programme
from agora.programme.models import ProgrammeStatus, SessionStatus
from agora.shared.people import Person
from agora.tenancy.config import TenantConfig
from agora.tenancy.isolation import tenant_scope
from agora.tenancy.models import Tenant
from agora.tenancy.services import current_config

ACTOR = "demo"
FIRST_NAMES = [
    "Camille",
    "Dominique",
    "Claude",
    "Alix",
    "Sacha",
    "Morgan",
    "Lou",
    "Noa",
    "Charlie",
    "Eden",
    "Maël",
    "Inès",
    "Jules",
    "Léa",
    "Hugo",
    "Chloé",
    "Louis",
    "Manon",
    "Nathan",
    "Zoé",
    "Yanis",
    "Sarah",
    "Karim",
    "Fatou",
    "Mathis",
    "Nour",
    "Élise",
    "Théo",
    "Amina",
    "Paul",
    "Jeanne",
    "Rayan",
    "Lina",
    "Bastien",
    "Aya",
    "Lucas",
    "Salomé",
    "Mehdi",
    "Anaïs",
    "Gabriel",
]
LAST_NAMES = [
    "Martin",
    "Bernard",
    "Thomas",
    "Petit",
    "Robert",
    "Richard",
    "Durand",
    "Dubois",
    "Moreau",
    "Laurent",
    "Simon",
    "Michel",
    "Lefebvre",
    "Leroy",
    "Roux",
    "David",
    "Bertrand",
    "Morel",
    "Fournier",
    "Girard",
    "Bonnet",
    "Dupont",
    "Lambert",
    "Fontaine",
    "Rousseau",
    "Vincent",
    "Muller",
    "Lefèvre",
    "Faure",
    "André",
    "Mercier",
    "Blanc",
    "Guérin",
    "Boyer",
    "Garnier",
    "Chevalier",
    "Benali",
    "Diallo",
    "Nguyen",
    "Traoré",
]


@dataclass
class _People:
    """A deterministic supply of French names."""

    random: random.Random
    tenant: Tenant

    def name(self) -> str:
        return f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}"

    def new(self, session: DbSession) -> Person:
        return bodies.add_person(session, self.tenant, self.name())


def _config(session: DbSession, tenant: Tenant) -> TenantConfig:
    version = current_config(session, tenant)
    assert version is not None
    return TenantConfig(version.document)


def _hooks(session: DbSession, tenant: Tenant) -> TenantHooks:
    return get_registry().view(_config(session, tenant))


def origins(spec: BodySpec) -> list[tuple[str, bool]]:
    """(origin, voting right) for every seat, meeting the body's constraints."""
    needed = {c.origin: c.minimum for c in spec.constraints}
    seats: list[tuple[str, bool]] = []
    for seat in spec.seats:
        for index in range(seat.count):
            origin = seat.origin
            if origin == "elected":
                # Opposition seats first, as many as the constraints ask, then the majority.
                opposition = needed.get("elected_opposition", 0)
                origin = "elected_opposition" if index < opposition else "elected_majority"
            seats.append((origin, seat.voting))
    return seats


def _at(day: date, hour: int, minute: int = 0) -> datetime:
    """``day`` at ``hour``:``minute`` in Paris."""
    return datetime.combine(day, time(hour, minute), tzinfo=PARIS)


def _dated(when: datetime, *rows: Any, field: str = "created_at") -> None:
    """The demonstration tells a past: its rows bear the dates of the story, not of loading."""
    for row in rows:
        setattr(row, field, when)


def load_programme(
    session: DbSession, tenant: Tenant, hooks: TenantHooks, story: Story, when: Chronology
) -> date:
    """The support programme, held from scoping to the launch; answers the day the
    prefiguration group voted the charter."""
    row = programme.instantiate(
        session, tenant, hooks.programme_template(), when.programme_starts, ACTOR
    )
    _dated(_at(when.programme_starts - timedelta(days=14), 10), row)
    now = utcnow()
    charter_voted = when.launch
    for entry in programme.sessions_of(session, row):
        if not entry.remote:
            entry.venue = story.programme_venues.get(entry.kind, story.programme_venue)
        held = entry.scheduled_at
        if held is None or held > now - timedelta(days=3):
            continue
        day = held.astimezone(PARIS).date()
        if "charter" in entry.deliverables:
            charter_voted = day
        programme.change_status(session, tenant, entry, SessionStatus.CONFIRMED, ACTOR)
        programme.change_status(
            session,
            tenant,
            entry,
            SessionStatus.HELD,
            ACTOR,
            attendance=story.attendance_at(entry.kind),
        )
        for key in entry.deliverables:
            programme.accept_deliverable(session, tenant, entry, key, ACTOR)
        # Accepted the day of the session, not the day the demonstration was loaded.
        entry.deliverables = {key: day.isoformat() for key in entry.deliverables}
        programme.change_status(
            session, tenant, entry, SessionStatus.MINUTES_PUBLISHED, ACTOR, minutes=story.minutes
        )
    if when.launch < now.date():
        row.status = ProgrammeStatus.LAUNCHED
    return charter_voted


def load_edition(
    session: DbSession,
    tenant: Tenant,
    hooks: TenantHooks,
    story: Story,
    when: Chronology,
    charter_voted: date,
) -> Edition:
    """A past edition, lived from the call for subjects to the follow-up."""
    year = when.first_day.year
    # Seeded on purpose: the demonstration is the same on every machine.
    people = _People(random.Random(f"{tenant.slug}-{year}"), tenant)  # noqa: S311
    specs = hooks.composition_rules()
    edition = editions.open_edition(
        session, tenant, year, story.title.format(year=year), specs, ACTOR
    )
    _dated(_at(when.launch - timedelta(days=60), 10), edition)
    by_key = {b.key: b for b in editions.bodies_of(session, edition)}
    drawn_by_lot = set()
    if story.draw is not None:
        settings = _config(session, tenant).draws
        parent = by_key[story.draw.body]
        load_draw(session, tenant, hooks, edition, parent, story.draw, when.launch, settings)
        drawn_by_lot.add(parent.key)
        if story.draw.nested_body:
            nested = by_key[story.draw.nested_body]
            title = f"Tirage au sort — {nested.name} {year}"
            load_nested_draw(session, tenant, hooks, parent, nested, story.draw, settings, title)
            drawn_by_lot.add(nested.key)
    for spec in specs:
        body = by_key[spec.key]
        drawn = spec.key in drawn_by_lot
        for origin, voting in origins(spec):
            if drawn and origin == "drawn":
                continue  # seated by the draw
            bodies.add_member(session, body, people.new(session), origin, voting_right=voting)
        bodies.install(session, tenant, body, spec, ACTOR)
        _dated(_at(when.launch, 18), body, field="installed_at")

    if charter.in_force(session, tenant) is None:
        adopted_on = charter_council(story, charter_voted, when.first_day)
        version = charter.draft(session, tenant, hooks, ACTOR)
        charter.advance(session, tenant, version, ACTOR)
        charter.advance(
            session,
            tenant,
            version,
            ACTOR,
            council_reference=f"Délibération {adopted_on.isoformat()}-{story.charter_number}",
        )
        charter.advance(session, tenant, version, ACTOR)
        _dated(_at(charter_voted, 20), version, field="validated_at")
        _dated(_at(adopted_on, 21), version, field="adopted_at")
        _dated(_at(adopted_on + timedelta(days=1), 0), version, field="in_force_at")

    deciding = next(by_key[s.key] for s in specs if "decide" in s.powers)
    drafting = next((by_key[s.key] for s in specs if "draft_content" in s.powers), deciding)

    editions.advance(session, tenant, edition, EditionStatus.SUBJECT_CALL, ACTOR)
    rule_of_call = _config(session, tenant).subject_submitters
    members = [p for m, p in bodies.members_of(session, deciding) if m.voting_right]
    submitted = []
    for index, topic in enumerate(story.subjects):
        # Residents who answered the open call, or the members where members submit.
        author = people.new(session) if rule_of_call == "anyone" else members[index * 7]
        subject = subjects.submit(
            session, tenant, edition, topic.title, topic.text, rule=rule_of_call, person=author
        )
        _dated(_at(when.launch + timedelta(days=1 + index), 19), subject)
        submitted.append(subject)
    for subject, topic in zip(submitted, story.subjects, strict=True):
        subjects.review(
            session,
            tenant,
            subject,
            general_interest=True,
            municipal_competence=not topic.inadmissible,
            budget_sustainable=True,
            reason=topic.inadmissible,
            actor=ACTOR,
        )
    admissible = [s for s, e in zip(submitted, story.subjects, strict=True) if not e.inadmissible]

    days = [
        sessions.plan(
            session,
            tenant,
            edition,
            deciding,
            number,
            day.title,
            _at(on, 9, 30),
            day.venue,
            ACTOR,
        )
        for number, (day, on) in enumerate(zip(story.days, when.days, strict=True), start=1)
    ]
    first, last = days[0], days[-1]
    sessions.set_status(session, tenant, first, AssemblySessionStatus.OPEN, ACTOR)
    rule = hooks.decision_rule("subject_choice")
    ballot = ballots.open_ballot(
        session,
        tenant,
        rule,
        first,
        deciding,
        story.subject_question,
        [ballots.NewOption(s.title, subject_id=s.id) for s in admissible],
        ACTOR,
    )
    option_ids = [str(o.id) for o in ballots.options_of(session, ballot)]
    _vote(session, tenant, ballot, deciding, first, rule.method, option_ids, people, voters=40)
    ballots.close(session, tenant, ballot, deciding, rule, ACTOR)
    decisions.certify(session, tenant, edition, ballot, deciding, rule, ACTOR)
    sessions.set_status(session, tenant, first, AssemblySessionStatus.CLOSED, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.SUBJECT_SELECTED, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.DELIBERATING, ACTOR)
    for between in days[1:-1]:  # hearings and writing: no vote
        for status in (AssemblySessionStatus.OPEN, AssemblySessionStatus.CLOSED):
            sessions.set_status(session, tenant, between, status, ACTOR)

    author = bodies.members_of(session, drafting)[0][1]
    drafted_on = when.days[-2] if len(when.days) > 2 else when.first_day
    drafted = []
    for entry in story.proposals:
        proposal = proposals.draft(
            session, tenant, edition, drafting, author, entry.title, entry.text, entry.budget
        )
        note = proposals.annotate(
            session, tenant, proposal, entry.service, "technical", entry.feasibility, entry.note
        )
        _dated(_at(drafted_on, 16), proposal)
        _dated(_at(drafted_on + timedelta(days=9), 11), note)
        drafted.append(proposal)
    # Residents amend; the authors accept or turn down each amendment, publicly.
    for proposal, entry in zip(drafted, story.proposals, strict=True):
        if entry.amendment is None:
            continue
        change = entry.amendment
        tabled = amendments.table(
            session, tenant, proposal, people.new(session), change.text, change.reason
        )
        amendments.decide(
            session,
            tenant,
            tabled,
            proposal,
            drafting,
            author,
            accept=not change.refusal,
            reason=change.refusal,
        )
        _dated(_at(drafted_on + timedelta(days=5), 20), tabled)
        _dated(_at(drafted_on + timedelta(days=12), 18), tabled, field="decided_at")

    sessions.set_status(session, tenant, last, AssemblySessionStatus.OPEN, ACTOR)
    plan_rule = hooks.decision_rule("action_plan")
    plan_ballot = ballots.open_ballot(
        session, tenant, plan_rule, last, deciding, story.plan_question, [], ACTOR
    )
    _vote(session, tenant, plan_ballot, deciding, last, plan_rule.method, [], people, voters=45)
    ballots.close(session, tenant, plan_ballot, deciding, plan_rule, ACTOR)
    plan = decisions.certify(session, tenant, edition, plan_ballot, deciding, plan_rule, ACTOR)
    assert plan is not None, "the demonstration plan is adopted"
    sessions.set_status(session, tenant, last, AssemblySessionStatus.CLOSED, ACTOR)
    for row, held in ((ballot, first), (plan_ballot, last)):
        _dated(held.starts_at + timedelta(hours=5), row, field="closes_at")
    editions.advance(session, tenant, edition, EditionStatus.PLAN_ADOPTED, ACTOR)
    council.transmit(session, tenant, plan, ACTOR)
    _dated(_at(when.last_day + timedelta(days=3), 10), plan, field="transmitted_at")
    editions.advance(session, tenant, edition, EditionStatus.TRANSMITTED, ACTOR)

    measures = council.measures_of(session, plan)
    assert [m.title for m in measures] == [p.title for p in story.proposals]
    answers = {}
    for measure, entry in zip(measures, story.proposals, strict=True):
        due = None if entry.due is None else when.council + timedelta(days=entry.due)
        answer = council.MeasureAnswer(
            CouncilResponse.ACCEPTED,
            owner_service=entry.service,
            elected_referent=entry.referent,
            due_on=due,
        )
        if entry.council_change is not None:
            answer = replace(
                answer,
                response=CouncilResponse.MODIFIED,
                council_text=entry.council_change.text,
                council_budget_eur=entry.council_change.budget,
                justification=entry.council_change.justification,
            )
        answers[measure.id] = answer
    changed = any(entry.council_change for entry in story.proposals)
    deliberation = council.record_deliberation(
        session,
        tenant,
        plan,
        reference=f"{when.council.isoformat()}-{story.council_number}",
        session_date=when.council,
        outcome=CouncilOutcome.ADOPTED_WITH_AMENDMENTS if changed else CouncilOutcome.ADOPTED_AS_IS,
        votes=story.council_votes,
        answers=answers,
        actor=ACTOR,
    )
    _dated(_at(when.council, 22), deliberation)
    review = sessions.sessions_of(session, edition)[-1]  # scheduled a year after the council
    if review.starts_at < utcnow():  # an older edition: its review has taken place
        for status in (AssemblySessionStatus.OPEN, AssemblySessionStatus.CLOSED):
            sessions.set_status(session, tenant, review, status, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.COUNCIL_DECIDED, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.FOLLOW_UP, ACTOR)
    today = utcnow().astimezone(PARIS).date()
    for measure, entry in zip(measures, story.proposals, strict=True):
        for update in entry.updates:
            council.update_measure(
                session, tenant, measure, MeasureStatus(update.status), update.note, ACTOR
            )
        # The owner service's last word, that many days ago (over 60: shown as overdue).
        _dated(
            _at(today - timedelta(days=entry.last_update), 11), measure, field="status_updated_at"
        )
        for step in entry.milestones:
            milestone = council.add_milestone(
                session, tenant, measure, step.title, when.council + timedelta(days=step.due), ACTOR
            )
            _dated(_at(when.council + timedelta(days=10), 10), milestone)
            if step.reached is not None:
                reached = when.council + timedelta(days=step.reached)
                council.reach_milestone(session, tenant, milestone, reached, ACTOR)
    return edition


def _vote(
    session: DbSession,
    tenant: Tenant,
    ballot: Ballot,
    body: Body,
    row: AssemblySession,
    method: str,
    options: list[str],
    people: _People,
    voters: int,
) -> None:
    """People check in and vote (in an open body ``voters`` of them; in a closed body four
    members out of five); preferences lean towards the first option. Members are checked in
    from the session's roster; in an open body, volunteers walk in (as do people of an origin
    the roster has run out of)."""
    pick = people.random
    members = [(m, p) for m, p in bodies.members_of(session, body) if m.voting_right]
    if body.openness != "open_to_public":
        voters = len(members) * 4 // 5
    mix = (
        ["drawn"] * 25
        + ["volunteer"] * 10
        + ["elected_majority"] * 2
        + ["elected_opposition", "agent", "agent"]
    )
    waiting: dict[str, list[int]] = {}
    for entry in sessions.roster(session, row):
        if entry.check_in is None and entry.membership.voting_right:
            waiting.setdefault(entry.membership.origin, []).append(entry.person.id)
    shape = casting.shape_of(session, tenant.id, ballot.id)
    assert shape is not None  # the ballot was just opened
    for index in range(voters):
        if body.openness == "open_to_public":
            origin = mix[index % len(mix)]
            name = people.name()  # drawn for everyone: the demonstration's votes stay the same
            if origin != "volunteer" and waiting.get(origin):
                _, code = sessions.check_in_from_roster(
                    session, tenant, row, waiting[origin].pop(0), ACTOR
                )
            else:
                _, code = sessions.check_in_walk_in(session, tenant, row, name, ACTOR)
            assert code is not None  # no voting card is printed in the demonstration
            person, voter_code = None, code
        else:
            _membership, person = members[index]
            sessions.check_in_from_roster(session, tenant, row, person.id, ACTOR)
            voter_code = None
        payload = casting.payload_from_form(method, _ballot_form(method, options, pick))
        casting.cast(session, shape, payload, person=person, code=voter_code)


def _ballot_form(method: str, options: list[str], pick: random.Random) -> MultiDict[str, str]:
    """The ballot page's form as a voter fills it in: leaning towards the first option."""
    if method == "majority_judgment":
        return MultiDict(
            {
                f"grade-{o}": str(
                    min(5, max(0, pick.randint(1, 4) + (2 if i == 0 else 0) - i // 2))
                )
                for i, o in enumerate(options)
            }
        )
    if method == "approval":
        return MultiDict(
            [
                ("approve", o)
                for i, o in enumerate(options)
                if pick.random() < (0.8 if i == 0 else 0.35)
            ]
        )
    if method == "consent":
        return MultiDict()  # no objection: consent
    return MultiDict(
        {"choice": pick.choices(["for", "against", "abstain"], weights=[78, 18, 4])[0]}
    )


def _demo_signatures(rules: InterpellationRules, index: int) -> int:
    """The first petition: a dozen past the council's level when a meeting comes before it
    (912 with levels at 50 and 900), else a little over a fifth of the way to the first level
    (444 of 2,000); the second, just opened: seven."""
    if index:
        return 7
    council = next((lv for lv in rules.levels if lv.effect == "council_agenda"), None)
    if council is not None and council != rules.levels[0]:
        return council.signatures + 12
    return rules.levels[0].signatures * 2 // 9


def _daytime(opened: datetime, elapsed: timedelta) -> datetime:
    """``elapsed`` after ``opened``, each day's share of it between 8:00 and 22:00 (people
    sign in the daytime), never before ``opened``."""
    days, rest = divmod(elapsed, timedelta(days=1))
    start = opened + timedelta(days=days)
    day_start = start.replace(hour=8, minute=0, second=0, microsecond=0)
    return max(opened, day_start + rest * 14 / 24)


def load_petitions(
    session: DbSession, tenant: Tenant, hooks: TenantHooks, story: Story, today: date
) -> None:
    """The commune's petitions, signed over the weeks, under its own rules; one on the
    council's agenda has had its meeting with the mayor and has a date at the council."""
    rules = hooks.interpellation_rules()
    if rules is None:
        return
    people = _People(random.Random(f"{tenant.slug}-petitions"), tenant)  # noqa: S311
    noon = _at(today, 12)
    for index, entry in enumerate(story.petitions):
        opened = noon - timedelta(days=entry.age)
        petition = petitions.open_petition(
            session, tenant, rules, people.new(session), entry.title, entry.text, ACTOR, now=opened
        )
        # Signatures come in within the window, however short the commune's, in the daytime.
        span = min(timedelta(days=entry.spread), (petition.closes_at - opened) * 0.9)
        count = _demo_signatures(rules, index)
        for number in range(count):
            petitions.sign(
                session,
                tenant,
                petition,
                people.new(session),
                lives_here=True,
                old_enough=True,
                now=_daytime(opened, span * (number + 1) / (count + 1)),
            )
        effects = petitions.reached_effects(petition)
        if "meeting" in effects:
            first = min(datetime.fromisoformat(v["at"]) for v in petition.levels_reached.values())
            petitions.record_meeting(
                session, tenant, petition, (first + timedelta(days=16)).date(), ACTOR
            )
        if petition.status == PetitionStatus.ON_COUNCIL_AGENDA:
            # The council's next Monday meeting, three weeks on at least.
            meeting = today + timedelta(days=21 + (7 - (today + timedelta(days=21)).weekday()) % 7)
            petitions.schedule_council(session, tenant, petition, meeting, ACTOR)


def load(
    session: DbSession, tenant: Tenant, today: date | None = None, stories: Path | None = None
) -> bool:
    """Demonstration data for ``tenant``, told by its story in ``stories`` (``<slug>.toml``)
    or the generic one; ``False`` when it already has some."""
    with tenant_scope(session, tenant.id):
        # A commune onboarded mid-programme (``demo onboard``) tells no past story.
        if editions.editions_of(session, tenant) or programme.programme_of(session, tenant):
            return False
        hooks = _hooks(session, tenant)
        today = today or paris_today()
        story = story_for(tenant.slug, stories)
        when = chronology(story, today, hooks.programme_template().duration_weeks)
        voted = load_programme(session, tenant, hooks, story, when)
        load_edition(session, tenant, hooks, story, when, voted)
        load_petitions(session, tenant, hooks, story, today)
    return True


demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
@click.argument("slugs", nargs=-1)
@click.option(
    "--stories",
    type=click.Path(file_okay=False, path_type=Path),
    default=None,
    help="Folder of the communes' stories, <slug>.toml (default: the demo folder of the "
    "tenants' folder).",
)
def load_command(slugs: tuple[str, ...], stories: Path | None) -> None:
    """Fill the communes SLUGS (default: every commune) with demonstration data."""
    folder = stories or Path(current_app.config["AGORA_TENANTS_DIR"]) / "demo"
    query = select(Tenant).order_by(Tenant.slug)
    if slugs:
        query = query.where(Tenant.slug.in_(slugs))
    for tenant in db.session.execute(query).scalars():
        try:
            loaded = load(db.session, tenant, stories=folder)
        except StoryError as error:
            raise click.ClickException(str(error)) from error
        click.echo(
            f"{tenant.slug}: {'demonstration data loaded' if loaded else 'already has data'}"
        )
    db.session.commit()


@demo_cli.command("onboard")
@click.option("--staff", default="equipe@cooperative.example", show_default=True)
def onboard_command(staff: str) -> None:
    """Onboard Brest through the console's wizard, ten weeks into its programme."""
    try:
        tenant = onboarding.onboard(db.session, staff, paris_today())
    except LookupError as error:
        raise click.ClickException(str(error)) from error
    click.echo("brest: onboarded in the console" if tenant else "brest: already onboarded")


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)

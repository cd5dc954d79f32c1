"""``flask demo load``: realistic French demonstration data, built through the services.

For each onboarded commune: its support programme (sessions held up to today) and a past
edition lived from end to end — bodies composed and installed as its rules say, the charter
adopted, subjects submitted and reviewed (one inadmissible, with its public reason), a
subject chosen by the assembly's own method, proposals annotated by agents, the action plan
adopted by its threshold, the council's deliberation with one amended measure, and the
public follow-up; and petitions under the commune's right of interpellation, when it has
one (one on the council's agenda at 912 signatures with levels at 50 and 900, or short of a
single threshold of 2,000; one just opened). Everything is deterministic (seeded), and
applying it twice does nothing.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta

import click
from flask import Flask
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
from agora.db import PARIS, DbSession, utcnow
from agora.extensions import db
from agora.petitions import services as petitions
from agora.petitions.models import PetitionStatus
from agora.plugins.contracts import BodySpec, InterpellationRules
from agora.plugins.manager import TenantHooks, get_registry
from agora.programme import services as programme
from agora.programme.models import SessionStatus
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
SUBJECTS = (
    (
        "Se déplacer à vélo en sécurité dans tous les quartiers",
        "Pistes continues, stationnement vélo près des écoles et des commerces.",
    ),
    ("Rafraîchir la ville en été", "Arbres, fontaines et cours d'école végétalisées."),
    ("Mieux manger à la cantine", "Plus de produits locaux et bio, moins de gaspillage."),
    (
        "Des lieux pour les jeunes le soir",
        "Ouvrir des salles municipales aux associations de jeunes.",
    ),
    ("Revenir sur la réforme des retraites", "Demander l'abrogation de la réforme nationale."),
)
INADMISSIBLE = "Hors des compétences de la commune : les retraites relèvent de la loi nationale."
PROPOSALS = (
    (
        "Un réseau cyclable continu",
        "Relier les quartiers par un réseau cyclable continu et séparé de la circulation.",
        1_200_000,
    ),
    (
        "Des rues scolaires",
        "Fermer aux voitures les rues des écoles aux heures d'entrée et de sortie.",
        300_000,
    ),
    (
        "Un atelier vélo par quartier",
        "Ouvrir un atelier de réparation solidaire dans chaque quartier.",
        90_000,
    ),
)


@dataclass
class _People:
    """A deterministic supply of French names."""

    random: random.Random
    tenant: Tenant

    def name(self) -> str:
        return f"{self.random.choice(FIRST_NAMES)} {self.random.choice(LAST_NAMES)}"

    def new(self, session: DbSession) -> Person:
        return bodies.add_person(session, self.tenant, self.name())


def _hooks(session: DbSession, tenant: Tenant) -> TenantHooks:
    version = current_config(session, tenant)
    assert version is not None
    return get_registry().view(TenantConfig(version.document))


def _origins(spec: BodySpec) -> list[tuple[str, bool]]:
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


def load_programme(session: DbSession, tenant: Tenant, hooks: TenantHooks, starts_on: date) -> None:
    if programme.programme_of(session, tenant) is not None:
        return
    row = programme.instantiate(session, tenant, hooks.programme_template(), starts_on, ACTOR)
    now = utcnow()
    for entry in programme.sessions_of(session, row):
        when = (
            entry.scheduled_at.replace(tzinfo=UTC)
            if entry.scheduled_at and entry.scheduled_at.tzinfo is None
            else entry.scheduled_at
        )
        if when is None or when > now - timedelta(days=3):
            continue
        programme.change_status(session, tenant, entry, SessionStatus.CONFIRMED, ACTOR)
        programme.change_status(session, tenant, entry, SessionStatus.HELD, ACTOR, attendance=18)
        for key in entry.deliverables:
            programme.accept_deliverable(session, tenant, entry, key, ACTOR)
        programme.change_status(
            session,
            tenant,
            entry,
            SessionStatus.MINUTES_PUBLISHED,
            ACTOR,
            minutes="Relevé de décisions diffusé au groupe de préfiguration.",
        )


def load_edition(session: DbSession, tenant: Tenant, hooks: TenantHooks, year: int) -> Edition:
    """A past edition, lived from the call for subjects to the follow-up."""
    # Seeded on purpose: the demonstration is the same on every machine.
    people = _People(random.Random(f"{tenant.slug}-{year}"), tenant)  # noqa: S311
    specs = hooks.composition_rules()
    edition = editions.open_edition(session, tenant, year, f"Assemblée {year}", specs, ACTOR)
    by_key = {b.key: b for b in editions.bodies_of(session, edition)}
    for spec in specs:
        body = by_key[spec.key]
        for origin, voting in _origins(spec):
            bodies.add_member(session, body, people.new(session), origin, voting_right=voting)
        bodies.install(session, tenant, body, spec, ACTOR)

    if charter.in_force(session, tenant) is None:
        version = charter.draft(session, tenant, hooks, ACTOR)
        charter.advance(session, tenant, version, ACTOR)
        charter.advance(
            session, tenant, version, ACTOR, council_reference=f"Délibération {year - 1}-12-14-07"
        )
        charter.advance(session, tenant, version, ACTOR)

    deciding = next(by_key[s.key] for s in specs if "decide" in s.powers)
    drafting = next((by_key[s.key] for s in specs if "draft_content" in s.powers), deciding)

    editions.advance(session, tenant, edition, EditionStatus.SUBJECT_CALL, ACTOR)
    submitted = [
        subjects.submit(
            session, tenant, edition, title, text, rule="anyone", person=people.new(session)
        )
        for title, text in SUBJECTS
    ]
    for subject in submitted:
        inadmissible = subject.title.startswith("Revenir")
        subjects.review(
            session,
            tenant,
            subject,
            general_interest=True,
            municipal_competence=not inadmissible,
            budget_sustainable=True,
            reason=INADMISSIBLE if inadmissible else "",
            actor=ACTOR,
        )
    admissible = [s for s in submitted if not s.title.startswith("Revenir")]

    day_one = datetime(year, 3, 14, 9, 30, tzinfo=PARIS)
    first = sessions.plan(
        session,
        tenant,
        edition,
        deciding,
        1,
        "Journée 1 — choix du sujet",
        day_one,
        "Salle des fêtes",
        ACTOR,
    )
    sessions.set_status(session, tenant, first, AssemblySessionStatus.OPEN, ACTOR)
    rule = hooks.decision_rule("subject_choice")
    ballot = ballots.open_ballot(
        session,
        tenant,
        rule,
        first,
        deciding,
        "Quel sujet pour cette année ?",
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

    author = bodies.members_of(session, drafting)[0][1]
    drafted = [
        proposals.draft(session, tenant, edition, drafting, author, title, text, budget)
        for title, text, budget in PROPOSALS
    ]
    for proposal, verdict in zip(
        drafted, ("feasible_with_conditions", "feasible", "feasible"), strict=True
    ):
        proposals.annotate(
            session,
            tenant,
            proposal,
            "Direction de la voirie",
            "technical",
            verdict,
            "Étude de trafic à mener ; compatible avec le plan de mobilité.",
        )
    # Residents amend; the authors accept one amendment and turn one down, publicly.
    _, school_streets, workshops = drafted
    accepted = amendments.table(
        session,
        tenant,
        workshops,
        people.new(session),
        workshops.text.removesuffix(".") + ", ouvert aussi le samedi.",
        "Beaucoup d'habitants travaillent en semaine.",
    )
    amendments.decide(session, tenant, accepted, workshops, drafting, author, accept=True)
    rejected = amendments.table(
        session,
        tenant,
        school_streets,
        people.new(session),
        school_streets.text + " Aussi le mercredi après-midi.",
        "Les centres de loisirs accueillent les enfants le mercredi.",
    )
    amendments.decide(
        session,
        tenant,
        rejected,
        school_streets,
        drafting,
        author,
        accept=False,
        reason="Les écoles sont fermées le mercredi après-midi : la mesure n'y aurait pas d'effet.",
    )

    last = sessions.plan(
        session,
        tenant,
        edition,
        deciding,
        4,
        "Journée 4 — plan d'action",
        day_one + timedelta(days=70),
        "Salle des fêtes",
        ACTOR,
    )
    sessions.set_status(session, tenant, last, AssemblySessionStatus.OPEN, ACTOR)
    plan_rule = hooks.decision_rule("action_plan")
    plan_ballot = ballots.open_ballot(
        session, tenant, plan_rule, last, deciding, "Adoptez-vous le plan d'action ?", [], ACTOR
    )
    _vote(session, tenant, plan_ballot, deciding, last, plan_rule.method, [], people, voters=45)
    ballots.close(session, tenant, plan_ballot, deciding, plan_rule, ACTOR)
    plan = decisions.certify(session, tenant, edition, plan_ballot, deciding, plan_rule, ACTOR)
    assert plan is not None, "the demonstration plan is adopted"
    sessions.set_status(session, tenant, last, AssemblySessionStatus.CLOSED, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.PLAN_ADOPTED, ACTOR)
    council.transmit(session, tenant, plan, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.TRANSMITTED, ACTOR)

    measures = council.measures_of(session, plan)
    carried_by = (
        ("Direction de la voirie", "Adjointe aux mobilités", date(year + 2, 6, 30)),
        ("Direction de l'éducation", "Adjoint à l'éducation", date(year + 1, 9, 1)),
        ("Direction de la vie des quartiers", "Adjointe à la vie des quartiers", None),
    )
    answers = {
        m.id: council.MeasureAnswer(
            CouncilResponse.ACCEPTED, owner_service=owner, elected_referent=referent, due_on=due
        )
        for m, (owner, referent, due) in zip(measures, carried_by, strict=True)
    }
    answers[measures[1].id] = replace(
        answers[measures[1].id],
        response=CouncilResponse.MODIFIED,
        council_text=(
            "Fermer aux voitures les rues de dix écoles pilotes aux heures d'entrée et de sortie."
        ),
        council_budget_eur=150_000,
        justification=(
            "Budget 2026 contraint : expérimentation sur dix écoles avant généralisation."
        ),
    )
    council.record_deliberation(
        session,
        tenant,
        plan,
        reference=f"{year}-11-17-04",
        session_date=date(year, 11, 17),
        outcome=CouncilOutcome.ADOPTED_WITH_AMENDMENTS,
        votes=(41, 6, 6),
        answers=answers,
        actor=ACTOR,
    )
    review = sessions.sessions_of(session, edition)[-1]  # scheduled a year after the council
    if review.starts_at < utcnow():  # the demo's past edition: its review has taken place
        for status in (AssemblySessionStatus.OPEN, AssemblySessionStatus.CLOSED):
            sessions.set_status(session, tenant, review, status, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.COUNCIL_DECIDED, ACTOR)
    editions.advance(session, tenant, edition, EditionStatus.FOLLOW_UP, ACTOR)
    council.update_measure(
        session,
        tenant,
        measures[0],
        MeasureStatus.IN_PROGRESS,
        "Premiers tronçons en travaux.",
        ACTOR,
    )
    council.update_measure(
        session, tenant, measures[1], MeasureStatus.IN_PROGRESS, "Trois écoles équipées.", ACTOR
    )
    council.update_measure(
        session,
        tenant,
        measures[1],
        MeasureStatus.DELAYED,
        "Livraison des barrières reportée.",
        ACTOR,
    )
    council.update_measure(session, tenant, measures[2], MeasureStatus.IN_PROGRESS, "", ACTOR)
    council.update_measure(
        session, tenant, measures[2], MeasureStatus.DONE, "Neuf ateliers ouverts.", ACTOR
    )
    # The cycling network's steps: one reached, one late, one to come.
    for title, due, reached in (
        ("Schéma directeur voté", date(year + 1, 1, 31), date(year + 1, 1, 27)),
        ("Premiers 10 km en service", date(year + 1, 9, 30), None),
        ("Réseau complet", date(year + 2, 6, 30), None),
    ):
        milestone = council.add_milestone(session, tenant, measures[0], title, due, ACTOR)
        if reached is not None and reached <= date.today():
            council.reach_milestone(session, tenant, milestone, reached, ACTOR)
    # An owner service that stopped reporting: shown publicly as overdue.
    measures[0].status_updated_at = utcnow() - timedelta(days=90)
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
        shape = casting.shape_of(session, tenant.id, ballot.id)
        assert shape is not None  # the ballot was just opened
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


#: (title, text, days since opening, days over which the signatures came in). How many each
#: has depends on the commune's own thresholds: see :func:`_demo_signatures`.
PETITIONS = (
    (
        "Sauvons les platanes du boulevard",
        "Le projet de réaménagement du boulevard prévoit d'abattre les quarante-deux platanes "
        "qui le bordent.\nNous demandons que le projet soit revu pour les conserver, et que "
        "les habitantes et habitants du quartier soient associés au nouveau plan.",
        120,
        95,
    ),
    (
        "Un marché de producteurs le mercredi soir",
        "Nous demandons l'ouverture d'un marché de producteurs locaux le mercredi de 17 h à "
        "20 h sur la place du quartier, pour que celles et ceux qui travaillent en journée "
        "puissent y venir.",
        2,
        2,
    ),
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


def load_petitions(session: DbSession, tenant: Tenant, hooks: TenantHooks, today: date) -> None:
    """The commune's petitions, signed over the weeks, under its own rules; one on the
    council's agenda has had its meeting with the mayor and has a date at the council."""
    rules = hooks.interpellation_rules()
    if rules is None:
        return
    people = _People(random.Random(f"{tenant.slug}-petitions"), tenant)  # noqa: S311
    noon = datetime.combine(today, datetime.min.time(), tzinfo=PARIS) + timedelta(hours=12)
    for index, (title, text, age, spread) in enumerate(PETITIONS):
        opened = noon - timedelta(days=age)
        petition = petitions.open_petition(
            session, tenant, rules, people.new(session), title, text, ACTOR, now=opened
        )
        # Signatures come in within the window, however short the commune's.
        span = min(timedelta(days=spread), (petition.closes_at - opened) * 0.9)
        count = _demo_signatures(rules, index)
        for number in range(count):
            petitions.sign(
                session,
                tenant,
                petition,
                people.new(session),
                lives_here=True,
                old_enough=True,
                now=opened + span * (number + 1) / (count + 1),
            )
        effects = petitions.reached_effects(petition)
        if "meeting" in effects:
            first = min(datetime.fromisoformat(v["at"]) for v in petition.levels_reached.values())
            petitions.record_meeting(
                session, tenant, petition, (first + timedelta(days=16)).date(), ACTOR
            )
        if petition.status == PetitionStatus.ON_COUNCIL_AGENDA:
            petitions.schedule_council(session, tenant, petition, today + timedelta(days=23), ACTOR)


def load(session: DbSession, tenant: Tenant, today: date | None = None) -> bool:
    """Demonstration data for ``tenant``; ``False`` when it already has some."""
    with tenant_scope(session, tenant.id):
        if editions.editions_of(session, tenant):
            return False
        hooks = _hooks(session, tenant)
        today = today or date.today()
        load_programme(session, tenant, hooks, today - timedelta(weeks=8))
        load_edition(session, tenant, hooks, today.year - 1)
        load_petitions(session, tenant, hooks, today)
    return True


demo_cli = AppGroup("demo", help="Demonstration data.")


@demo_cli.command("load")
@click.argument("slugs", nargs=-1)
def load_command(slugs: tuple[str, ...]) -> None:
    """Fill the communes SLUGS (default: every commune) with demonstration data."""
    query = select(Tenant).order_by(Tenant.slug)
    if slugs:
        query = query.where(Tenant.slug.in_(slugs))
    for tenant in db.session.execute(query).scalars():
        loaded = load(db.session, tenant)
        click.echo(
            f"{tenant.slug}: {'demonstration data loaded' if loaded else 'already has data'}"
        )
    db.session.commit()


def init_app(app: Flask) -> None:
    app.cli.add_command(demo_cli)

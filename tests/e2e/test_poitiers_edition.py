"""A Poitiers edition lived from end to end in a real headless Chromium, every step through
the pages a person would use, with axe-core auditing the pages on the way.

Who does what, as in a real commune:

- the consultancy's staff member signs in on the console (magic link, then the TOTP second
  factor), opens Poitiers' staff space, grants roles, holds the support programme's sessions,
  has the charter adopted, composes and installs the bodies, reviews the subjects, runs the
  sessions (check-in, ballots, count, certification) and follows the edition's steps;
- Camille, a resident drawn into the proposal group, signs in with a magic link, proposes
  subjects and drafts the proposals;
- an agent of the roads department writes the feasibility notes;
- the commune administrator records the council's deliberation and updates the measures;
- the people checked in vote with the code handed to them at check-in, one after the other
  on the same voting page, as on a shared tablet (cookies cleared between voters).

The accessibility audit fails the test, after the flow, with every serious or critical
violation found on the pages it went through (public pages, sign-in pages, staff pages).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, timedelta
from email.header import decode_header, make_header
from email.message import Message

import pyotp
import pytest
from playwright.sync_api import Browser, BrowserContext, Page, expect
from pypdf import PdfReader

from e2e.accessibility import Audit
from support.smtp import Inbox

STAFF = "equipe@cooperative.example"
MAYOR_OFFICE = "mairie@poitiers.example"
AGENT = "voirie@poitiers.example"
CAMILLE = "camille.martin@example.fr"
LINK = re.compile(r"(http://\S+/login/magic/[A-Za-z0-9_-]+\?\S*)")

SUBJECTS = (
    (
        "Se déplacer à vélo en sécurité dans tous les quartiers",
        "Pistes continues, stationnement vélo près des écoles et des commerces.",
    ),
    ("Rafraîchir la ville en été", "Arbres, fontaines et cours d'école végétalisées."),
    ("Mieux manger à la cantine", "Plus de produits locaux et bio, moins de gaspillage."),
    ("Des lieux pour les jeunes le soir", "Ouvrir des salles municipales aux associations."),
    ("Revenir sur la réforme des retraites", "Demander l'abrogation de la réforme nationale."),
)
INADMISSIBLE = "Hors des compétences de la commune : les retraites relèvent de la loi nationale."
PROPOSALS = (
    (
        "Un réseau cyclable continu",
        "Relier les quartiers par un réseau cyclable continu et séparé de la circulation.",
        "1200000",
    ),
    (
        "Des rues scolaires",
        "Fermer aux voitures les rues des écoles aux heures d'entrée et de sortie.",
        "300000",
    ),
    (
        "Un atelier vélo par quartier",
        "Ouvrir un atelier de réparation solidaire dans chaque quartier.",
        "90000",
    ),
)
AMENDED = "Fermer aux voitures les rues de dix écoles pilotes aux heures d'entrée et de sortie."
JUSTIFICATION = "Budget 2026 contraint : expérimentation sur dix écoles avant généralisation."
#: Who comes to a session of the plenary, by origin (everyone present votes in Poitiers).
ATTENDANCE = ["drawn"] * 25 + ["volunteer"] * 10 + ["elected_majority"] * 2
ATTENDANCE += ["elected_opposition", "agent", "agent"]
#: Whom staff check in from the roster, by origin: the n-th member of that origin.
ROSTER = {
    "drawn": "Habitant tiré au sort {}",
    "elected_majority": "Élu de la majorité {}",
    "elected_opposition": "Élue de l'opposition {}",
    "agent": "Agent {}",
}
#: Majority judgment on the four admissible subjects: grade index per voter (0 = À rejeter,
#: 5 = Excellent), the first subject clearly ahead.
GRADES = ("À rejeter", "Passable", "Assez bien", "Bien", "Très bien", "Excellent")


def _grades(voter: int) -> tuple[int, int, int, int]:
    return (5 if voter % 3 else 4, 3 + voter % 2, 2, 1 if voter % 4 else 3)


@dataclass
class Edition:
    """The browser, the hosts and what the flow learns on the way."""

    browser: Browser
    port: str
    inbox: Inbox
    audit: Audit = field(default_factory=Audit)
    contexts: list[BrowserContext] = field(default_factory=list)

    @property
    def console(self) -> str:
        return f"http://localhost:{self.port}"

    @property
    def poitiers(self) -> str:
        return f"http://poitiers.localhost:{self.port}"

    def person(self) -> Page:
        """A new browser profile (its own cookies), in French."""
        context = self.browser.new_context(locale="fr-FR")
        context.set_default_timeout(10_000)
        self.contexts.append(context)
        return context.new_page()

    def close(self) -> None:
        for context in self.contexts:
            context.close()


# --- helpers --------------------------------------------------------------------------------


def _submit(page: Page, name: str, *, status: int = 200) -> None:
    """Press the button ``name`` and wait for the page it leads to (after redirects)."""
    with page.expect_navigation() as navigation:
        page.get_by_role("button", name=name, exact=True).click()
    response = navigation.value
    assert response is not None
    if response.status != status:
        alert = page.locator("[role=alert]")
        message = alert.inner_text() if alert.count() else page.title()
        raise AssertionError(f"{name!r} answered {response.status} on {page.url}: {message}")


def _heading(page: Page, text: str) -> None:
    expect(page.get_by_role("heading", level=1)).to_have_text(text)


def _mail_to(inbox: Inbox, address: str) -> str:
    def recipient(message: Message) -> str:
        return str(message["To"])

    bodies = [
        body
        for message, body in zip(inbox.messages, inbox.bodies(), strict=True)
        if recipient(message) == address
    ]
    links = [match.group(1) for body in bodies if (match := LINK.search(body))]
    assert links, f"no sign-in link sent to {address}: {bodies}"
    return links[-1]


def sign_in(edition: Edition, page: Page, base: str, email: str, *, audit: bool = False) -> None:
    """Sign in with a magic link (and the TOTP second factor when the page asks for it)."""
    page.goto(f"{base}/login")
    _heading(page, "Se connecter")
    if audit:
        edition.audit.check(page, "sign-in")
    page.get_by_label("Adresse électronique").fill(email)
    _submit(page, "M’envoyer un lien")
    _heading(page, "Consultez vos courriels")
    if audit:
        edition.audit.check(page, "sign-in link sent")
    page.goto(_mail_to(edition.inbox, email))
    if audit:
        edition.audit.check(page, "sign-in link opened")
    _submit(page, "Me connecter maintenant")
    if "/login/second-factor" in page.url:
        _heading(page, "Second facteur")
        if audit:
            edition.audit.check(page, "second factor set-up")
        secret = "".join(page.locator("code").first.inner_text().split())
        page.get_by_label("Code à six chiffres").fill(pyotp.TOTP(secret).now())
        _submit(page, "Confirmer")
    expect(page.get_by_role("button", name="Se déconnecter")).to_be_visible()


def _dashboard(edition: Edition, page: Page) -> None:
    page.goto(f"{edition.poitiers}/admin/assembly")
    _heading(page, "Assemblée — équipe")


def _confirmed(page: Page, name: str, *, status: int = 200) -> None:
    """Press the button ``name`` of an irreversible action, then confirm it (the
    confirmation page's button says the same)."""
    _submit(page, name)
    expect(page.get_by_text("Cette action est définitive.")).to_be_visible()
    _submit(page, name, status=status)


def _workspace(edition: Edition, page: Page) -> None:
    """The current edition's task list."""
    _dashboard(edition, page)
    page.get_by_role("link", name=f"Assemblée {date.today().year}", exact=True).click()
    _heading(page, f"Assemblée {date.today().year}")


def _step(edition: Edition, page: Page, step: str) -> None:
    """A step of the current edition, from its task list."""
    _workspace(edition, page)
    page.get_by_role("link", name=step, exact=True).click()
    _heading(page, step)


def _advance(edition: Edition, page: Page, step: str) -> None:
    _workspace(edition, page)
    _confirmed(page, f"Passer à l'étape : {step}")  # it cannot go back: asked first
    expect(page.get_by_text("Étape de l'édition :")).to_contain_text(step)


# --- the steps ------------------------------------------------------------------------------


def staff_opens_poitiers(edition: Edition, staff: Page) -> None:
    sign_in(edition, staff, edition.console, STAFF, audit=True)
    _heading(staff, "Communes")
    edition.audit.check(staff, "console: communes")
    staff.get_by_role("link", name="Programmes").click()
    _heading(staff, "Programmes de toutes les communes")
    edition.audit.check(staff, "console: programmes")
    staff.get_by_role("link", name="Extensions").click()
    edition.audit.check(staff, "console: plugins")
    staff.get_by_role("link", name="Communes").click()
    with staff.expect_navigation():
        staff.get_by_role("link", name="Espace équipe de Poitiers").click()
    assert staff.url.startswith(edition.poitiers), staff.url
    _heading(staff, "Membres et rôles")


def staff_grants_roles(edition: Edition, staff: Page) -> None:
    for email, role in ((MAYOR_OFFICE, "commune_admin"), (AGENT, "agent")):
        staff.get_by_label("Adresse électronique").fill(email)
        staff.get_by_label("Rôle", exact=True).select_option(role)
        _submit(staff, "Attribuer")
    table = staff.get_by_role("table", name="Rôles attribués dans cette commune")
    expect(table.get_by_role("row", name=re.compile(MAYOR_OFFICE))).to_contain_text(
        "administrateur"
    )
    expect(table.get_by_role("row", name=re.compile(AGENT))).to_contain_text("agent")
    edition.audit.check(staff, "staff: members and roles")


def staff_holds_the_programme(edition: Edition, staff: Page) -> None:
    staff.get_by_role("link", name="Programme d'accompagnement").click()
    _heading(staff, "Programme d'accompagnement")
    edition.audit.check(staff, "staff: programme to start")
    # Started 25 weeks ago: all nine sessions, the launch included, are behind us.
    staff.get_by_label("Date de début").fill((date.today() - timedelta(weeks=25)).isoformat())
    _submit(staff, "Lancer le programme")
    expect(staff.get_by_role("status")).to_have_text("Fait : 0 ; en retard : 9 ; à venir : 0.")
    timeline = staff.url
    sessions = staff.locator("ol.timeline a")
    titles = sessions.all_inner_texts()
    assert len(titles) == 9 and titles[0] == "Visio préalable", titles
    for index, title in enumerate(titles):
        staff.goto(timeline)
        staff.get_by_role("link", name=title, exact=True).click()
        _heading(staff, title)
        for status in ("confirmée", "tenue"):
            staff.get_by_label("Nouveau statut").select_option(label=status)
            if status == "tenue":
                staff.get_by_label("Participation (une fois la séance tenue)").fill("18")
            _submit(staff, "Enregistrer")
        while staff.get_by_role("button", name="Marquer comme accepté").count():
            _submit(staff, "Marquer comme accepté")
        if index == 0:
            edition.audit.check(staff, "staff: programme session")
        staff.get_by_label("Nouveau statut").select_option(label="compte rendu publié")
        staff.get_by_label("Compte rendu (une fois publié)").fill(
            "Relevé de décisions diffusé au groupe de préfiguration."
        )
        _submit(staff, "Enregistrer")
        expect(
            staff.get_by_role("definition").filter(has_text="compte rendu publié")
        ).to_be_visible()
    staff.goto(timeline)
    expect(staff.get_by_role("status")).to_have_text("Fait : 9 ; en retard : 0 ; à venir : 0.")
    edition.audit.check(staff, "staff: programme timeline")


def staff_has_the_charter_adopted(edition: Edition, staff: Page) -> None:
    _dashboard(edition, staff)
    edition.audit.check(staff, "staff: assembly dashboard, empty")
    _submit(staff, "Rédiger un projet à partir des règles actuelles")
    edition.audit.check(staff, "staff: charter draft")
    _submit(staff, "Validé par le groupe")
    staff.get_by_label("Délibération du conseil municipal qui l'adopte").fill(
        "Délibération 2025-12-14-07"
    )
    _confirmed(staff, "Adopté par le conseil")
    _confirmed(staff, "Mettre en vigueur")
    expect(staff.get_by_text("en vigueur — Délibération 2025-12-14-07")).to_be_visible()


def staff_installs_the_bodies(edition: Edition, staff: Page) -> None:
    _dashboard(edition, staff)
    staff.get_by_role("button", name="Ouvrir une nouvelle édition").click()
    edition.audit.check(staff, "staff: new edition")
    staff.get_by_label("Année").fill(str(date.today().year))
    staff.get_by_label("Titre", exact=True).fill(f"Assemblée {date.today().year}")
    _submit(staff, "Ouvrir l'édition")
    _heading(staff, f"Assemblée {date.today().year}")
    edition.audit.check(staff, "staff: edition task list, edition opened")
    bodies = {
        "Assemblée plénière": [
            ("drawn", [f"Habitant tiré au sort {n}" for n in range(1, 101)], "yes"),
            ("facilitator", [f"Facilitatrice {n}" for n in range(1, 5)], "no"),
        ],
        "Groupe de proposition": [
            ("drawn", [f"Membre tiré au sort {n}" for n in range(2, 21)], "yes"),
            ("elected_majority", [f"Élu de la majorité {n}" for n in range(1, 5)], "yes"),
            ("elected_opposition", ["Élue de l'opposition 1"], "yes"),
            ("agent", [f"Agent {n}" for n in range(1, 5)], "yes"),
        ],
        "Comité de méthodologie": [
            ("drawn", [f"Volontaire tiré au sort {n}" for n in range(1, 4)], "yes"),
            ("elected_majority", [f"Élu référent {n}" for n in range(1, 4)], "yes"),
            ("agent", [f"Agente {n}" for n in range(1, 4)], "yes"),
            ("facilitator", ["Facilitateur 1", "Facilitateur 2"], "no"),
        ],
    }
    for name, groups in bodies.items():
        _step(edition, staff, "Instances")
        staff.get_by_role("link", name=name, exact=True).click()
        _heading(staff, name)
        body = staff.url
        if name == "Groupe de proposition":
            # Camille is drawn into the group with the address she signs in with.
            staff.get_by_label("Nom", exact=True).fill("Camille Martin")
            staff.get_by_label("Adresse électronique (facultatif").fill(CAMILLE)
            staff.locator("#one-origin").select_option("drawn")
            staff.locator("input[name='one-voting'][value='yes']").check()
            _submit(staff, "Ajouter")
            edition.audit.check(staff, "staff: body to compose")
        for origin, names, voting in groups:
            staff.get_by_label("Noms, un par ligne").fill("\n".join(names))
            staff.locator("#several-origin").select_option(origin)
            staff.locator(f"input[name='several-voting'][value='{voting}']").check()
            _submit(staff, "Ajouter ces membres")
        if name == "Groupe de proposition":
            # One opposition member only: refused, and the page names the missing seat.
            _confirmed(staff, "Installer l'instance", status=422)
            expect(staff.get_by_role("alert")).to_contain_text(
                "élu·es de l'opposition : au moins 2 sièges, 1 pourvu"
            )
            edition.audit.check(staff, "staff: refusal page")
            staff.goto(body)
            staff.get_by_label("Noms, un par ligne").fill("Élu de l'opposition 2")
            staff.locator("#several-origin").select_option("elected_opposition")
            staff.locator("input[name='several-voting'][value='yes']").check()
            _submit(staff, "Ajouter ces membres")
        _confirmed(staff, "Installer l'instance")
        expect(staff.locator(".govuk-tag", has_text="installée")).to_be_visible()
    edition.audit.check(staff, "staff: body installed")


def residents_submit_subjects(edition: Edition, staff: Page, camille: Page) -> None:
    _advance(edition, staff, "appel à sujets")
    sign_in(edition, camille, edition.poitiers, CAMILLE)
    camille.get_by_role("link", name="L'assemblée").click()
    for title, description in SUBJECTS:
        camille.get_by_label("Titre").fill(title)
        camille.get_by_label("Description").fill(description)
        _submit(camille, "Envoyer")
    table = camille.get_by_role("table", name="Sujets proposés et leur recevabilité")
    expect(table.get_by_role("row")).to_have_count(1 + len(SUBJECTS))
    edition.audit.check(camille, "public: edition, call for subjects")
    # A resident has no business in the staff pages: a clear refusal, not a crash.
    refused = camille.goto(f"{edition.poitiers}/admin/assembly")
    assert refused is not None and refused.status == 403
    _heading(camille, "Accès refusé")
    edition.audit.check(camille, "public: access denied")
    camille.get_by_role("link", name="Mes données").click()
    _heading(camille, "Mes données")
    edition.audit.check(camille, "public: my data")


def staff_reviews_subjects(edition: Edition, staff: Page) -> None:
    _step(edition, staff, "Sujets")
    for title, _text in SUBJECTS:
        review = staff.locator("form.agora-card").filter(has_text=title)
        if title.startswith("Revenir"):
            review.get_by_label("Compétence municipale").uncheck()
            review.get_by_label("Motif public en cas d'irrecevabilité").fill(INADMISSIBLE)
        with staff.expect_navigation():
            review.get_by_role("button", name="Enregistrer l'examen").click()
    edition.audit.check(staff, "staff: subjects reviewed")


def day_one_vote(edition: Edition, staff: Page, voters: Page) -> None:
    ballot = _session_with_ballot(
        edition,
        staff,
        number=1,
        title="Journée 1 — choix du sujet",
        starts="T09:30",
        question="Quel sujet pour cette année ?",
        decision="subject_choice",
        subjects=[title for title, _text in SUBJECTS[:4]],
        attendance=ATTENDANCE,
    )
    codes, ballot_url = ballot
    for voter, code in enumerate(codes):
        voters.context.clear_cookies()
        voters.goto(ballot_url)
        voters.get_by_label("Votre code de vote (remis à l'accueil)").fill(code)
        for (title, _text), grade in zip(SUBJECTS[:4], _grades(voter), strict=True):
            voters.get_by_role("group", name=title).get_by_label(GRADES[grade], exact=True).check()
        if voter == 0:
            edition.audit.check(voters, "public: ballot, majority judgment form")
        _submit(voters, "Voter")
        _heading(voters, "Vote enregistré")
        if voter == 0:
            edition.audit.check(voters, "public: vote recorded")
    staff.goto(ballot_url)
    edition.audit.check(staff, "staff: ballot open")
    _confirmed(staff, "Clore et dépouiller")
    expect(staff.get_by_text(re.compile(r"^40 personnes ont voté, sur 40 "))).to_be_visible()
    expect(
        staff.get_by_text(re.compile(r"^Quorum atteint : il fallait au moins 30 personnes"))
    ).to_be_visible()
    ranking = staff.get_by_role("table", name="Classement")
    expect(ranking.get_by_role("row").nth(1)).to_contain_text(SUBJECTS[0][0])
    expect(ranking.get_by_role("row").nth(1)).to_contain_text("mention majoritaire : Excellent")
    _confirmed(staff, "Certifier la décision")
    expect(staff.get_by_text(f"Choisi : {SUBJECTS[0][0]}")).to_be_visible()
    by_origin = staff.get_by_role("table", name="Nombre de votant·es selon leur origine")
    expect(by_origin.get_by_role("row", name=re.compile("tiré·es au sort"))).to_contain_text("25")
    edition.audit.check(staff, "staff: ballot certified")
    _close_session(edition, staff, "Journée 1 — choix du sujet")
    _advance(edition, staff, "sujet choisi")
    _advance(edition, staff, "délibération")


def _session_with_ballot(
    edition: Edition,
    staff: Page,
    *,
    number: int,
    title: str,
    starts: str,
    question: str,
    decision: str,
    subjects: list[str],
    attendance: list[str],
) -> tuple[list[str], str]:
    """Plan and open a plenary session, check everyone in, open the ballot; return the
    voting codes handed out and the ballot's address."""
    _step(edition, staff, "Séances")
    staff.get_by_label("Instance").select_option(label="Assemblée plénière")
    staff.get_by_label("Numéro").fill(str(number))
    staff.get_by_label("Titre", exact=True).first.fill(title)
    staff.get_by_label("Date et heure").fill(f"{date.today().isoformat()}{starts}")
    staff.get_by_label("Lieu").fill("Salle des fêtes")
    _submit(staff, "Planifier la séance")
    staff.get_by_role("link", name=title).click()
    _submit(staff, "Ouvrir la séance")
    staff.get_by_role("link", name="Accueil depuis la liste d'émargement et cartes de vote").click()
    _heading(staff, f"Accueil — {title}")
    codes = []
    taken: dict[str, int] = {}
    for index, origin in enumerate(attendance):
        if origin == "volunteer":
            # Not on the roster: a walk-in, checked in as a volunteer.
            name = f"Participant {number}-{index + 1}"
            staff.get_by_label("Nom", exact=True).fill(name)
            _submit(staff, "Enregistrer comme volontaire")
        else:
            # On the roster (the bodies' members): found by name, their origin is theirs.
            taken[origin] = taken.get(origin, 0) + 1
            name = ROSTER[origin].format(taken[origin])
            staff.get_by_label("Rechercher par nom").fill(name)
            _submit(staff, "Rechercher")
            _submit(staff, f"Enregistrer l'arrivée de {name}")
        notice = staff.get_by_role("status")
        expect(notice).to_contain_text(f"L'arrivée de {name} est enregistrée.")
        codes.append(notice.locator(".code").inner_text())
        if index == 0:
            edition.audit.check(staff, "staff: check-in from the roster")
    assert len(set(codes)) == len(attendance)
    expect(staff.get_by_text(f"{len(attendance)} personnes enregistrées")).to_be_visible()
    staff.get_by_role("link", name="Retour à la séance").click()
    staff.get_by_label("Question").fill(question)
    staff.get_by_label("Type de décision").select_option(decision)
    for subject in subjects:
        staff.get_by_label(subject).check()
    _submit(staff, "Ouvrir le scrutin")
    _heading(staff, question)
    return codes, staff.url


def _close_session(edition: Edition, staff: Page, title: str) -> None:
    _step(edition, staff, "Séances")
    staff.get_by_role("link", name=title).click()
    _confirmed(staff, "Clore la séance")


def proposals_with_feasibility_notes(edition: Edition, camille: Page, agent: Page) -> None:
    camille.goto(f"{edition.poitiers}/assemblee")
    for title, text, budget in PROPOSALS:
        camille.get_by_label("Titre").fill(title)
        camille.get_by_label("Texte").fill(text)
        camille.get_by_label("Coût estimé, en € (facultatif)").fill(budget)
        _submit(camille, "Déposer la proposition")
        _heading(camille, title)
        camille.goto(f"{edition.poitiers}/assemblee")
    edition.audit.check(camille, "public: edition, deliberation")
    sign_in(edition, agent, edition.poitiers, AGENT)
    verdicts = ("faisable sous conditions", "faisable", "faisable")
    for (title, _text, _budget), verdict in zip(PROPOSALS, verdicts, strict=True):
        agent.goto(f"{edition.poitiers}/assemblee")
        agent.get_by_role("link", name=title).click()
        agent.get_by_label("Type").select_option(label="technique")
        agent.get_by_label("Avis").select_option(label=verdict)
        agent.get_by_label("Motifs").fill("Étude de trafic à mener ; compatible avec le PDU.")
        _submit(agent, "Ajouter la note")
        expect(agent.locator("article.card").first).to_contain_text(verdict)
    edition.audit.check(agent, "staff: proposal with feasibility notes")


def plan_adopted_at_two_thirds(edition: Edition, staff: Page, voters: Page) -> None:
    codes, ballot_url = _session_with_ballot(
        edition,
        staff,
        number=4,
        title="Journée 4 — plan d'action",
        starts="T14:00",
        question="Adoptez-vous le plan d'action ?",
        decision="action_plan",
        subjects=[],
        attendance=ATTENDANCE[:30],
    )
    choices = ["Pour"] * 21 + ["Contre"] * 8 + ["Abstention"]
    for voter, (code, choice) in enumerate(zip(codes, choices, strict=True)):
        voters.context.clear_cookies()
        voters.goto(ballot_url)
        voters.get_by_label("Votre code de vote (remis à l'accueil)").fill(code)
        voters.get_by_label(choice, exact=True).check()
        if voter == 0:
            edition.audit.check(voters, "public: ballot, motion form")
        _submit(voters, "Voter")
        _heading(voters, "Vote enregistré")
    _card_holder_checks_in_and_abstains(edition, staff, voters, ballot_url)
    staff.goto(ballot_url)
    _confirmed(staff, "Clore et dépouiller")
    expect(staff.get_by_text(re.compile(r"^31 personnes ont voté, sur \d+ "))).to_be_visible()
    expect(
        staff.get_by_text(
            re.compile(
                r"Adopté\. .*Voix pour : 21 sur les 29 suffrages exprimés .*"
                r"il en fallait au moins deux tiers"
            )
        )
    ).to_be_visible()
    _confirmed(staff, "Certifier la décision")
    _close_session(edition, staff, "Journée 4 — plan d'action")
    _advance(edition, staff, "plan d'action adopté")
    _step(edition, staff, "Plan d'action")
    staff.get_by_role("link", name="Plan d'action et conseil municipal").click()
    _heading(staff, "La réponse du conseil")
    edition.audit.check(staff, "staff: council, plan to transmit")
    _confirmed(staff, "Transmettre au conseil")
    _advance(edition, staff, "transmise au conseil")


def _card_holder_checks_in_and_abstains(
    edition: Edition, staff: Page, voters: Page, ballot_url: str
) -> None:
    """Staff print the session's voting cards; a drawn member not yet checked in scans their
    card: the QR code's address (its code in the fragment) opens the presence page with the
    code filled in, confirming leads to the ballot with the code filled in again."""
    _step(edition, staff, "Séances")  # the editions list links no session: its step does
    staff.get_by_role("link", name="Journée 4 — plan d'action").click()
    staff.get_by_role("link", name="Accueil depuis la liste d'émargement et cartes de vote").click()
    with staff.expect_download() as download:
        # A download, not a navigation: nothing to wait for after the click.
        staff.get_by_role("button", name="Imprimer les cartes de vote", exact=True).click(
            no_wait_after=True
        )
    reader = PdfReader(str(download.value.path()))
    # Card by card, in the same order: the QR codes' addresses and the holders' names.
    addresses = [
        annotation.get_object()["/A"]["/URI"]
        for page in reader.pages
        for annotation in page.get("/Annots", [])
    ]
    text = re.sub(r"\s+", " ", " ".join(page.extract_text() for page in reader.pages))
    codes = re.findall(r"[A-Z2-9]{4}-[A-Z2-9]{4}-[A-Z2-9]{4}", text)
    assert len(addresses) == len(codes) == len(set(codes))
    name = "Habitant tiré au sort 99"
    url = addresses[text.count("Code de vote", 0, text.index(name))]
    path_and_code = url.split("://", 1)[1].split("/", 1)[1]  # the commune's host, here on a port
    voters.context.clear_cookies()
    voters.goto(f"{edition.poitiers}/{path_and_code}")
    _heading(voters, "Confirmer votre présence")
    code = path_and_code.split("#code=", 1)[1]
    expect(voters.get_by_label("Votre code de vote (imprimé sur votre carte)")).to_have_value(code)
    assert "#code" not in voters.url  # taken out of the address bar
    edition.audit.check(voters, "public: presence confirmation")
    _submit(voters, "Je suis présent·e")
    assert voters.url.split("#")[0] == ballot_url
    expect(voters.get_by_label("Votre code de vote (remis à l'accueil)")).to_have_value(code)
    voters.get_by_label("Abstention", exact=True).check()
    _submit(voters, "Voter")
    _heading(voters, "Vote enregistré")


def council_adopts_with_one_amendment(edition: Edition, mayor: Page) -> str:
    sign_in(edition, mayor, edition.poitiers, MAYOR_OFFICE)
    mayor.goto(f"{edition.poitiers}/assemblee")
    mayor.get_by_role("link", name="La réponse du conseil, mesure par mesure").click()
    council = mayor.url
    mayor.get_by_role("link", name="Enregistrer la délibération du conseil municipal").click()
    edition.audit.check(mayor, "staff: council deliberation form")
    mayor.get_by_label("Numéro de la délibération").fill(f"{date.today().year}-11-17-04")
    mayor.get_by_label("Date de la séance du conseil").fill(date.today().isoformat())
    mayor.get_by_label("Décision").select_option(label="adoptée avec amendements")
    mayor.get_by_label("Pour", exact=True).fill("41")
    mayor.get_by_label("Contre", exact=True).fill("6")
    mayor.get_by_label("Abstentions", exact=True).fill("6")
    # No answer is chosen in advance: each measure's is set (accepted unless amended).
    for answer in mayor.locator("select[name^='response-']").all():
        answer.select_option("accepted")
    amended = mayor.get_by_role("group", name="Des rues scolaires")
    amended.get_by_label("Réponse").select_option(label="modifiée")
    amended.get_by_label("Texte tel que décidé (s'il est modifié)").fill(AMENDED)
    amended.get_by_label("Budget tel que décidé, en € (s'il est modifié)").fill("150000")
    amended.get_by_label("Justification (obligatoire sauf acceptation)").fill(JUSTIFICATION)
    _submit(mayor, "Enregistrer")
    _submit(mayor, "Enregistrer la délibération")
    assert mayor.url == council
    return council


def public_sees_the_diff(edition: Edition, visitor: Page, council: str) -> None:
    visitor.goto(council)
    _heading(visitor, "La réponse du conseil")
    expect(
        visitor.get_by_text(
            re.compile(
                r"adoptée avec amendements \(vote des élu·es du conseil municipal : "
                r"41 pour, 6 contre"
            )
        )
    ).to_be_visible()
    measure = visitor.locator("article.card").filter(has_text="Des rues scolaires")
    expect(measure).to_contain_text("Réponse du conseil : modifiée")
    expect(measure).to_contain_text("engagement non tenu tel que voté")
    expect(measure).to_contain_text(f"Justification : {JUSTIFICATION}")
    # The words the council changed, then the budget, as a word diff.
    expect(measure.locator("ins")).to_contain_text(["de dix", "pilotes", "150"])
    expect(measure.locator("del")).to_contain_text(["300"])
    untouched = visitor.locator("article.card").filter(has_text="Un réseau cyclable continu")
    expect(untouched).to_contain_text("acceptée telle que votée")
    expect(untouched.locator("del, ins")).to_have_count(0)
    edition.audit.check(visitor, "public: council's answer and diff")


def members_are_told(edition: Edition, camille: Page, council: str) -> None:
    """Members of the bodies learn that the council departed from their vote, and are
    invited to the public review a year on: on the site and by e-mail."""
    camille.goto(edition.poitiers)
    camille.get_by_role("link", name="Mes notifications").click()
    _heading(camille, "Mes notifications")
    departed = "Le conseil municipal n'a pas adopté le plan d'action tel que voté"
    expect(camille.get_by_role("heading", level=2, name=re.compile(departed))).to_be_visible()
    expect(camille.get_by_role("heading", level=2, name=re.compile("Invitation"))).to_be_visible()
    edition.audit.check(camille, "public: my notifications")
    camille.get_by_role("link", name=re.compile(f"Ouvrir la page concernée — {departed}")).click()
    assert camille.url == council
    subjects = [
        str(make_header(decode_header(m["Subject"])))
        for m in edition.inbox.messages
        if m["To"] == CAMILLE
    ]
    assert f"Poitiers — {departed}" in subjects, subjects


def follow_up(edition: Edition, staff: Page, mayor: Page) -> None:
    _advance(edition, staff, "décidée par le conseil")
    _advance(edition, staff, "suivi")
    updates = {
        "Un réseau cyclable continu": [("en cours", "Premiers tronçons en travaux.")],
        "Des rues scolaires": [
            ("en cours", "Trois écoles équipées."),
            ("retardée", "Livraison des barrières reportée."),
        ],
        "Un atelier vélo par quartier": [("en cours", ""), ("réalisée", "Neuf ateliers ouverts.")],
    }
    for title, steps in updates.items():
        mayor.goto(f"{edition.poitiers}/assemblee")
        mayor.get_by_role("link", name=title, exact=True).last.click()
        for status, note in steps:
            mayor.get_by_role("link", name="Mettre à jour le suivi").click()
            mayor.get_by_label("Nouveau statut").select_option(label=status)
            mayor.get_by_label("Note publique").fill(note)
            _submit(mayor, "Enregistrer")
            expect(mayor.get_by_text(f"Statut : {status}")).to_be_visible()
        if title == "Des rues scolaires":
            edition.audit.check(mayor, "staff: measure update")


PETITION = "Des fontaines à boire dans chaque parc"


def residents_petition(edition: Edition, camille: Page, mayor: Page, visitor: Page) -> None:
    """Camille opens a petition and signs it; the commune's staff page lists it; a visitor
    sees its progress against Poitiers' first threshold."""
    camille.goto(edition.poitiers)
    camille.get_by_role("link", name="Pétitions", exact=True).click()
    _heading(camille, "Pétitions")
    expect(camille.get_by_text("Droit d'interpellation citoyenne")).to_be_visible()
    edition.audit.check(camille, "public: petitions")
    camille.get_by_role("link", name="Lancer une pétition").click()
    _heading(camille, "Lancer une pétition")
    edition.audit.check(camille, "public: open a petition")
    camille.get_by_label("Titre").fill(PETITION)
    camille.get_by_label("Que demandez-vous à la commune ?").fill(
        "Installer une fontaine d'eau potable dans chacun des parcs de la ville."
    )
    _submit(camille, "Lancer la pétition")
    _heading(camille, PETITION)
    edition.audit.check(camille, "public: petition, sign form")
    camille.get_by_label("Je déclare habiter Poitiers.").check()
    camille.get_by_label("Je déclare avoir 16 ans ou plus.").check()
    _submit(camille, "Signer la pétition")
    expect(camille.locator("#signed")).to_have_text("Vous avez signé cette pétition. Merci.")
    expect(camille.get_by_text("sur 50 pour le prochain seuil.")).to_be_visible()
    edition.audit.check(camille, "public: petition signed")
    mayor.goto(f"{edition.poitiers}/admin/petitions")
    _heading(mayor, "Pétitions — gestion")
    expect(mayor.get_by_role("heading", level=2, name=PETITION)).to_be_visible()
    edition.audit.check(mayor, "staff: petitions")
    visitor.goto(f"{edition.poitiers}/petitions")
    visitor.get_by_role("link", name=PETITION).click()
    _heading(visitor, PETITION)
    expect(visitor.get_by_text("Connectez-vous pour signer cette pétition")).to_be_visible()
    edition.audit.check(visitor, "public: petition, signed out")


def public_pages(edition: Edition, visitor: Page) -> None:
    """What anyone sees, signed in or not, and the accessibility of every public page."""
    visitor.goto(edition.poitiers)
    _heading(visitor, "Assemblée Citoyenne et Populaire")
    edition.audit.check(visitor, "public: home")
    visitor.get_by_role("link", name="L'assemblée").click()
    _heading(visitor, f"Assemblée {date.today().year}")
    edition.audit.check(visitor, "public: edition, follow-up")
    expect(visitor.get_by_text("Étape : suivi")).to_be_visible()
    subjects = visitor.get_by_role("table", name="Sujets proposés et leur recevabilité")
    expect(subjects.get_by_role("row", name=re.compile("vélo"))).to_contain_text("retenu")
    refused = subjects.get_by_role("row", name=re.compile("retraites"))
    expect(refused).to_contain_text("irrecevable")
    expect(refused).to_contain_text(INADMISSIBLE)
    follow = visitor.get_by_role("table", name="Suivi des mesures")
    for title, response, status in (
        ("Un réseau cyclable continu", "acceptée telle que votée", "en cours"),
        ("Des rues scolaires", "modifiée", "retardée"),
        ("Un atelier vélo par quartier", "acceptée telle que votée", "réalisée"),
    ):
        row = follow.get_by_role("row", name=re.compile(title))
        expect(row).to_contain_text(response)
        expect(row).to_contain_text(status)
    expect(visitor.locator("figcaption")).to_contain_text(
        "Mesures par statut : prévue 0, en cours 1, retardée 1, réalisée 1"
    )
    calendar = visitor.get_by_role("region", name="Calendrier")
    expect(calendar).to_contain_text("Journée 1 — choix du sujet")
    expect(calendar).to_contain_text("Revue publique du plan d'action, un an après")
    pages = [
        ("Revenir sur la réforme des retraites", "public: inadmissible subject"),
        ("Quel sujet pour cette année ?", "public: ballot result, majority judgment"),
        ("Adoptez-vous le plan d'action ?", "public: ballot result, qualified majority"),
        ("Un réseau cyclable continu", "public: proposal with notes"),
    ]
    edition_url = visitor.url
    for link, name in pages:
        visitor.goto(edition_url)
        visitor.get_by_role("link", name=link, exact=True).first.click()
        _heading(visitor, link)
        edition.audit.check(visitor, name)
    expect(visitor.get_by_text("faisable sous conditions")).to_be_visible()
    visitor.goto(edition_url)
    visitor.get_by_role("link", name=SUBJECTS[4][0]).click()
    expect(visitor.get_by_text("Proposé par Camille Martin.")).to_be_visible()
    expect(visitor.get_by_text(f"Motif d'irrecevabilité : {INADMISSIBLE}")).to_be_visible()
    visitor.goto(edition_url)
    visitor.get_by_role("link", name="Des rues scolaires", exact=True).last.click()
    expect(visitor.get_by_text("Statut : retardée")).to_be_visible()
    edition.audit.check(visitor, "public: measure")
    visitor.get_by_role("link", name="Règlement intérieur").first.click()
    expect(visitor.get_by_text(re.compile("En vigueur : version 1"))).to_be_visible()
    edition.audit.check(visitor, "public: charter")
    visitor.get_by_role("link", name="Version 1").click()
    edition.audit.check(visitor, "public: charter version")
    visitor.get_by_role("link", name="Règles", exact=True).click()
    edition.audit.check(visitor, "public: rules history")
    visitor.get_by_role("link", name="Version 1").first.click()
    edition.audit.check(visitor, "public: rules version")
    visitor.get_by_role("link", name="Journal public").click()
    edition.audit.check(visitor, "public: journal")
    visitor.locator("ol.journal a").first.click()
    edition.audit.check(visitor, "public: journal entry")
    missing = visitor.goto(f"{edition.poitiers}/nulle-part")
    assert missing is not None and missing.status == 404
    _heading(visitor, "Page introuvable")
    edition.audit.check(visitor, "public: not found")
    visitor.goto(f"{edition.poitiers}/?lang=en")
    expect(visitor.locator("html")).to_have_attribute("lang", "en")
    expect(visitor.get_by_role("link", name="Public journal")).to_be_visible()
    edition.audit.check(visitor, "public: home in English")


@contextmanager
def _edition(browser: Browser, port: str, inbox: Inbox) -> Iterator[Edition]:
    edition = Edition(browser, port, inbox)
    try:
        yield edition
    finally:
        edition.close()


def test_a_poitiers_edition_from_programme_to_follow_up(
    browser: Browser, site: str, mail_server: tuple[str, Inbox]
) -> None:
    with _edition(browser, site, mail_server[1]) as edition:
        staff, camille, agent, mayor = (edition.person() for _ in range(4))
        voters, visitor = edition.person(), edition.person()

        staff_opens_poitiers(edition, staff)
        staff_grants_roles(edition, staff)
        staff_holds_the_programme(edition, staff)
        staff_has_the_charter_adopted(edition, staff)
        staff_installs_the_bodies(edition, staff)
        residents_submit_subjects(edition, staff, camille)
        staff_reviews_subjects(edition, staff)
        day_one_vote(edition, staff, voters)
        proposals_with_feasibility_notes(edition, camille, agent)
        plan_adopted_at_two_thirds(edition, staff, voters)
        council = council_adopts_with_one_amendment(edition, mayor)
        public_sees_the_diff(edition, visitor, council)
        members_are_told(edition, camille, council)
        follow_up(edition, staff, mayor)
        residents_petition(edition, camille, mayor, visitor)
        public_pages(edition, visitor)

        if edition.audit.failures:
            pytest.fail(edition.audit.report(), pytrace=False)

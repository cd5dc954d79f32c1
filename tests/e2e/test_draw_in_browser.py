"""Poitiers' door-to-door draw of its plenary lived in a real headless Chromium, every step on
the pages a commune's team uses, axe-core auditing each of them (no serious or critical
violation) and the phone pages measured at 390 px.

- The commune's administrator designs the draw, uploads a 60,000-row address file (Base
  Adresse Nationale columns and the commune's ``quartier``, generated here) through the
  page's file input, publishes the method, commits stage 1 to a drand round (recorded
  beacons: no network) and draws 1,200 addresses stratified by quartier, one per household;
  the letters' PDF is downloaded and checked (one A4 page per invitation; a sample of pages
  read for the code, the short URL and the QR code's link).
- A pair, an elected member and an agent, each on a 390 px phone, record 20 visits of their
  round (nobody at home, not interested, interested with a profile).
- 310 answers in all: those of the visits, residents who type their letter's code on a phone
  and answer online, and paper answers an agent types in. A few of each go through the
  forms in Chromium; the rest are the same forms posted by Playwright's request context of
  the same browser profile (``page.request``: real HTTP requests to the served application,
  CSRF token and session cookie included, no service called), because typing 300 forms
  would make the test minutes long. The online ones stay under the form's rate limit.
- Only seven of the residents who answer are 75 or older: the lottery is refused, naming the
  quota; the administrator relaxes it and the deviation shows on the public method page.
- The lottery (LEXIMIN) is committed and drawn: 100 members and a reserve of 40; every one
  accepts, the panel is seated and the plenary installed with its four facilitators; one
  member withdraws and the first of the reserve who keeps every quota takes the seat.
- Anyone reads the public record: the response funnel and the charts.

The test's data are Poitiers' rules as onboarded; it runs once, on PostgreSQL when the suite
has it (see conftest.py).
"""

from __future__ import annotations

import io
import json
import random
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from flask import Flask
from playwright.sync_api import APIResponse, Browser, BrowserContext, Page, ViewportSize, expect
from pypdf import PdfReader
from sqlalchemy import func, select

from agora.assembly.models import Membership
from agora.demo import registers
from agora.draws import stage1
from agora.draws.models import Draw, Invitation, InvitationStatus
from agora.extensions import db
from agora.identity.models import Role
from agora.identity.services import get_or_create_account, grant_role
from agora.tenancy.isolation import tenant_scope
from agora_sortition import audit as engine_audit
from agora_sortition.pool import quota_violations
from e2e.accessibility import Audit
from e2e.pages import Site, prepare_people, signed_in
from e2e.test_every_page import WIDTH_OF_PAGE
from e2e.test_poitiers_edition import _submit
from support.draw_steps import open_edition, poitiers

ROWS = 60_000
INVITED = 1_200
SEATS = 100
RESERVE = 40
ANSWERS = 310
PHONE: ViewportSize = {"width": 390, "height": 844}
TIMEOUT_SECONDS = 15
#: The jobs (the register's import, stage 1, the lottery: no Redis in the served site, they
#: run within their request) and the letters' PDF of 1,200 pages take seconds, more on a
#: loaded machine.
SLOW_SECONDS = 300
AGENT = "agent.quartiers@poitiers.example"
#: Poitiers' quartiers (its quota criterion ``neighbourhood``) and their census shares.
QUARTIERS = {
    "centre": 0.17, "couronneries": 0.12, "trois-cites": 0.12, "beaulieu": 0.11,
    "saint-eloi": 0.09, "gibauderie": 0.10, "montmidi": 0.10, "bel-air": 0.10,
    "saint-benoit-limite": 0.09,
}  # fmt: skip
GENDERS = {"F": 0.53, "M": 0.47}
#: Age bands but the oldest, drawn from the census shares; four people only are 75 or older.
AGES = {"16-29": 0.34, "30-44": 0.20, "45-59": 0.19, "60-74": 0.17}
OLDEST = 7
REASON = "Trop peu de personnes de 75 ans et plus ont répondu : le comité de méthodologie abaisse le minimum."  # noqa: E501


@dataclass
class Run:
    """The served site, the pages' audit and what the flow learns on the way."""

    browser: Browser
    site: Site
    people: dict[str, int | None]
    audit: Audit = field(default_factory=Audit)
    too_wide: list[str] = field(default_factory=list)
    contexts: list[BrowserContext] = field(default_factory=list)
    draw: str = ""  # the staff page of the draw

    @property
    def base(self) -> str:
        return self.site.base("tenant")

    def person(self, who: str | None, *, phone: bool = False) -> Page:
        context = signed_in(self.browser, self.site, self.people[who] if who else None)
        context.set_default_timeout(TIMEOUT_SECONDS * 1000)
        self.contexts.append(context)
        page = context.new_page()
        if phone:
            page.set_viewport_size(PHONE)
        return page

    def check(self, page: Page, name: str) -> None:
        """axe on the page; on a phone, the page must not be wider than the screen."""
        self.audit.check(page, name)
        width, window = page.evaluate(WIDTH_OF_PAGE)
        if window <= PHONE["width"] and width > window:
            self.too_wide.append(f"{name}: {width} px wide on a {window} px phone")


@contextmanager
def _run(browser: Browser, app: Flask, port: str) -> Iterator[Run]:
    run = Run(browser, Site(app, port), prepare_people(app))
    try:
        yield run
    finally:
        for context in run.contexts:
            context.close()


# --- helpers --------------------------------------------------------------------------------


def _banner(page: Page, text: str) -> None:
    expect(page.locator(".govuk-notification-banner")).to_contain_text(text)


@contextmanager
def _patiently(page: Page) -> Iterator[None]:
    """For a step whose job runs within its request (no Redis in the served site)."""
    page.set_default_timeout(SLOW_SECONDS * 1000)
    try:
        yield
    finally:
        page.set_default_timeout(TIMEOUT_SECONDS * 1000)


def _confirm(page: Page, button: str, title: str, *, slow: bool = False) -> None:
    """Press ``button`` of an irreversible step, read its confirmation page, confirm."""
    _submit(page, button)
    expect(page.get_by_role("heading", level=1)).to_have_text(title)
    expect(page.get_by_text("Cette action est définitive.")).to_be_visible()
    if slow:
        with _patiently(page):
            _submit(page, "Confirmer")
    else:
        _submit(page, "Confirmer")


def _token(page: Page) -> str:
    return page.locator("input[name=csrf_token]").first.get_attribute("value") or ""


def _request(page: Page, url: str, form: dict[str, Any] | None = None) -> APIResponse:
    """``url`` fetched (or ``form`` posted) by the request context of ``page``'s profile
    (see the docstring). It resolves names outside Chromium: it reaches the server on its
    address, naming the commune's host and carrying the profile's cookies."""
    parts = urlsplit(url)
    address = url.replace(parts.netloc, f"127.0.0.1:{parts.port}", 1)
    cookies = "; ".join(f"{c['name']}={c['value']}" for c in page.context.cookies(url))
    headers = {"Host": parts.netloc, "Cookie": cookies}
    if form is None:
        return page.request.get(address, headers=headers)
    return page.request.post(address, form=form, headers=headers, max_redirects=0)


def _post(page: Page, url: str, form: dict[str, Any]) -> None:
    answered = _request(page, url, form)
    assert answered.status == 302, f"{url}: {answered.status} {answered.text()[:500]}"


def _agent(app: Flask) -> int:
    """The agent of the door-to-door pair (the elected member is ``prepare_people``'s)."""
    with app.app_context():
        account = get_or_create_account(db.session, AGENT, "Agent des quartiers")
        with tenant_scope(db.session, poitiers().id):
            grant_role(db.session, poitiers(), account, Role.AGENT, granted_by="e2e")
        db.session.commit()
        account_id = account.id
        db.session.remove()
        return account_id


def _invitations(app: Flask, draw_id: int) -> list[Invitation]:
    """Who received which letter, in the letters' order (what the print shop posted)."""
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        draw = db.session.get(Draw, (poitiers().id, draw_id))
        assert draw is not None
        rows = stage1.invitations_of(db.session, draw)
        db.session.expunge_all()
        db.session.remove()
        return rows


class Residents:
    """The answers of the households who say yes, in the order they answer: gender and age
    from the census shares, the quartier of their address; ``OLDEST`` of them 75 or older,
    one in forty not available."""

    def __init__(self) -> None:
        self.pick = random.Random(31)  # invented answers, the same on every run
        self.oldest = set(self.pick.sample(range(ANSWERS), OLDEST))
        self.given = 0

    def answer(self, quartier: str) -> dict[str, str]:
        n, pick = self.given, self.pick
        self.given += 1
        age = "75+" if n in self.oldest else pick.choices(list(AGES), list(AGES.values()))[0]
        return {
            "profile_gender": pick.choices(list(GENDERS), list(GENDERS.values()))[0],
            "profile_age_band": age,
            "profile_neighbourhood": quartier,
            "available": "no" if n % 40 == 39 else "yes",
            "name": f"{pick.choice(registers.FIRST_NAMES_F)} {pick.choice(registers.LAST_NAMES)}",
            "email": f"reponse{n}@exemple.fr",
            "consent": "y",
        }


def _answer_in_browser(page: Page, answer: dict[str, str]) -> None:
    """The answer form filled as a person does (its questions are radios and fields)."""
    for name in ("profile_gender", "profile_age_band", "profile_neighbourhood", "available"):
        page.locator(f"input[name={name}][value='{answer[name]}']").check()
    page.get_by_label("Vos prénom et nom").fill(answer["name"])
    page.get_by_label("Adresse électronique").fill(answer["email"])
    page.locator("input[name=consent]").check()


# --- the steps ------------------------------------------------------------------------------


def design_and_upload(run: Run, admin: Page, register: Path) -> None:
    admin.goto(f"{run.base}/admin/draws")
    run.check(admin, "draws: list")
    admin.get_by_role("button", name="Concevoir un tirage au sort").click()
    run.check(admin, "draws: new")
    admin.get_by_label("Titre").fill("Tirage au sort de l'assemblée 2031")
    admin.get_by_label("Instance dont les sièges sont tirés au sort").select_option(
        label="Assemblée plénière — Assemblée 2031"
    )
    admin.locator("input[name=seats_address_file]").fill(str(SEATS))
    admin.get_by_label("Témoins").fill("Deux habitantes du comité de méthodologie et un huissier")
    _submit(admin, "Concevoir le tirage")
    _banner(admin, "Le tirage au sort est conçu.")
    run.draw = admin.url
    run.check(admin, "draw: designed")

    admin.get_by_label("Source", exact=True).select_option(index=1)
    admin.get_by_label("Fichier du registre").set_input_files(register)
    with _patiently(admin):
        _submit(admin, "Déposer et importer")
    expect(admin.get_by_role("heading", level=1)).to_have_text(f"Registre « {register.name} »")
    facts = admin.locator(".govuk-summary-list")
    expect(facts).to_contain_text("importé")
    expect(
        facts.locator(".govuk-summary-list__row", has_text="Personnes éligibles")
    ).to_contain_text("60\u202f000")
    run.check(admin, "draw: register imported")


def publish_and_commit(run: Run, admin: Page) -> None:
    admin.goto(run.draw)
    _confirm(admin, "Publier la méthode", "Publier la méthode du tirage ?")
    _banner(admin, "La méthode du tirage est publiée.")
    admin.get_by_role("link", name="La page publique de la méthode").click()
    expect(admin.locator("main")).to_contain_text("Quartier")
    run.check(admin, "draw: public method")

    admin.goto(run.draw)
    admin.get_by_role("button", name="Préparer l'engagement").click()
    run.check(admin, "draw: commitment form")
    admin.get_by_label("Nombre d'invitations").fill(str(INVITED))
    admin.get_by_label("En proportion des foyers de chaque strate").check()
    admin.get_by_label("Un tour à venir de drand, la balise aléatoire publique").check()
    _submit(admin, "Publier l'engagement")
    expect(admin.locator("main")).to_contain_text(
        "1\u202f200 invitations, une par foyer, réparties sur 9 strates."
    )
    _submit(admin, "Confirmer")
    _banner(admin, "L'engagement de l'étape 1 est publié.")


def stage_one(run: Run, admin: Page) -> None:
    admin.get_by_role("button", name="Tirer les invitations").click()
    run.check(admin, "draw: stage 1 to draw")
    _confirm(admin, "Tirer les invitations", "Tirer les invitations de l'étape 1 ?", slow=True)
    facts = admin.locator(".govuk-summary-list")
    expect(facts.locator(".govuk-summary-list__row", has_text="Foyers invités")).to_contain_text(
        "1\u202f200"
    )
    run.check(admin, "draw: stage 1 drawn")
    admin.goto(run.draw)
    _confirm(admin, "Révéler l'étape 1", "Révéler l'étape 1 ?")
    _banner(admin, "L'étape 1 est révélée")
    run.check(admin, "draw: stage 1 revealed")


def letters(run: Run, admin: Page, invited: list[Invitation]) -> None:
    admin.get_by_role("link", name="Les lettres pour l'imprimeur").first.click()
    run.check(admin, "draw: letters")
    with admin.expect_download(timeout=SLOW_SECONDS * 1000) as download:
        admin.get_by_role("button", name="Télécharger les lettres (PDF)").click(no_wait_after=True)
    pdf = PdfReader(io.BytesIO(Path(download.value.path()).read_bytes()))
    assert len(pdf.pages) == len(invited) == INVITED
    for n in (0, 1, INVITED // 2, INVITED - 1):  # a sample: reading 1,200 pages takes long
        page = pdf.pages[n]
        assert (round(float(page.mediabox.width)), round(float(page.mediabox.height))) == (595, 842)
        text = " ".join(page.extract_text().split())
        url = f"{run.base}/r/{invited[n].code}"
        assert invited[n].code in text and url in text, (n, text)
        assert "Vous êtes invité·e à l'assemblée citoyenne" in text and "CNIL" in text
        links = [a.get_object()["/A"]["/URI"] for a in page.get("/Annots", [])]
        assert url in links, (n, links)  # the QR code leads to the same answer form


def door_to_door(run: Run, admin: Page) -> None:
    admin.goto(run.draw)
    admin.get_by_role("link", name="Tournées de porte-à-porte").first.click()
    run.check(admin, "draw: rounds")
    admin.get_by_label("Nom de la tournée").fill("Couronneries, samedi")
    admin.get_by_label("Jour des visites").fill(date(2031, 3, 8).isoformat())
    admin.get_by_label(re.compile("elu@poitiers.example")).check()
    admin.get_by_label(re.compile("Agent des quartiers")).check()
    admin.get_by_label("Couronneries").check()
    _submit(admin, "Prévoir la tournée")
    _banner(admin, "La tournée est prévue")
    run.check(admin, "draw: round planned")
    admin.goto(run.draw)
    _confirm(admin, "Les invitations sont envoyées", "Indiquer que les invitations sont envoyées ?")
    _banner(admin, "Les invitations sont envoyées : les réponses sont ouvertes.")


def visits(run: Run, pair: tuple[Page, Page], residents: Residents) -> None:
    """The pair, each on a phone, records ten visits: nobody at home, not interested,
    interested (their answer typed on the phone)."""
    outcomes = ["Personne à la maison", "Pas intéressé·e", "interested"] * 3 + ["interested"]
    for who, phone in zip(("elected", "agent"), pair, strict=True):
        phone.goto(run.base)
        # On a phone, the staff space's links fold under its button.
        phone.get_by_role("button", name="Espace équipe").click()
        phone.get_by_role("link", name="Mes tournées de porte-à-porte").click()
        phone.get_by_role("link", name="Couronneries, samedi").click()
        run.check(phone, f"visits: round ({who}, 390 px)")
        for n, outcome in enumerate(outcomes):
            # The form loaded before its button is pressed (a click on a page still being
            # replaced was lost once in CI).
            with phone.expect_navigation():
                phone.get_by_role("link", name=re.compile("^Enregistrer la visite")).first.click()
            if n == 0:
                run.check(phone, f"visits: outcome form ({who}, 390 px)")
            if outcome == "interested":
                _answer_in_browser(phone, residents.answer("couronneries"))
                _submit(phone, "Enregistrer la réponse")
            else:
                _submit(phone, outcome)
            _banner(phone, "La visite est enregistrée.")
        run.check(phone, f"visits: round recorded ({who}, 390 px)")


def answers(
    run: Run, resident: Page, agent: Page, waiting: list[Invitation], residents: Residents
) -> None:
    """Online answers with the letter's code, then paper answers typed in by an agent, up to
    ``ANSWERS`` in all."""
    online = 12
    answering = waiting[: ANSWERS - residents.given]
    for n, invitation in enumerate(answering[:online]):
        answer = residents.answer(invitation.stratum)
        if n < 3:  # typed on a phone, the code as a person copies it from the letter
            resident.goto(f"{run.base}/repondre")
            if n == 0:
                run.check(resident, "answer: code (390 px)")
            code = invitation.code.lower()
            resident.get_by_label("Code imprimé sur votre lettre").fill(f"{code[:5]} {code[5:]}")
            _submit(resident, "Continuer")
            if n == 0:
                run.check(resident, "answer: form (390 px)")
            _answer_in_browser(resident, answer)
            _submit(resident, "Envoyer ma réponse")
            _banner(resident, "Merci : votre réponse est enregistrée.")
            if n == 0:
                run.check(resident, "answer: recorded (390 px)")
        else:
            _post(
                resident,
                f"{run.base}/r/{invitation.code}",
                {**answer, "csrf_token": _token(resident)},
            )
    agent.goto(run.draw + "/responses")
    run.check(agent, "answers: staff list")
    first, *others = answering[online:]
    agent.get_by_label("Code imprimé sur votre lettre").fill(first.code)
    _answer_in_browser(agent, residents.answer(first.stratum))
    _submit(agent, "Enregistrer la réponse papier")
    _banner(agent, "La réponse papier est enregistrée.")
    token = _token(agent)
    for invitation in others:
        answer = residents.answer(invitation.stratum)
        _post(agent, agent.url, {**answer, "code": invitation.code, "csrf_token": token})
    assert residents.given == ANSWERS
    agent.reload()
    expect(agent.locator("main")).to_contain_text(f"{ANSWERS} réponses, les plus récentes")
    run.check(agent, "answers: staff list, filled")


def infeasible_quota(run: Run, admin: Page) -> None:
    admin.goto(run.draw)
    _confirm(admin, "Terminer la phase des invitations", "Terminer la phase des invitations ?")
    _banner(admin, "Les réponses sont en cours de collecte.")
    _confirm(admin, "Clore le vivier", "Clore le vivier ?")
    _banner(admin, "Le vivier est clos.")
    run.check(admin, "draw: pool closed")
    # The lottery is refused, naming the quota the pool cannot meet.
    _submit(admin, "Calculer et sceller la loterie")
    _banner(admin, "Le vivier ne permet pas de respecter les quotas")
    problem = admin.locator("main ul li").filter(has_text="75 ans et plus")
    expect(problem).to_contain_text(
        re.compile(rf"Tranche d'âge — 75 ans et plus : minimum \d+, {OLDEST} disponibles")
    )
    run.check(admin, "draw: infeasible quota")
    smallest = re.search(r"plus petit changement : de (\d+) à (\d+) sièges", problem.inner_text())
    assert smallest is not None, problem.inner_text()
    admin.get_by_label("Quota", exact=True).select_option(label="Tranche d'âge — 75 ans et plus")
    admin.get_by_label("Nouveau minimum").fill(smallest.group(1))
    admin.get_by_label("Nouveau maximum").fill(smallest.group(2))
    admin.get_by_label("Motif, tel qu'il sera publié").fill(REASON)
    _confirm(admin, "Assouplir le quota", "Assouplir ce quota ?")
    _banner(admin, "Le quota est assoupli ; l'écart est publié.")
    expect(admin.locator("main")).to_contain_text("peut être tirée")
    run.check(admin, "draw: quota relaxed")


def deviation_is_public(run: Run, visitor: Page, draw_id: int) -> None:
    visitor.goto(f"{run.base}/draws/{draw_id}")
    deviations = visitor.locator("main")
    expect(deviations).to_contain_text("Écarts à la méthode")
    expect(deviations).to_contain_text("Tranche d'âge — 75 ans et plus : le quota passe de")
    expect(deviations).to_contain_text(REASON)
    run.check(visitor, "public: method with its deviation")


def panel(run: Run, admin: Page) -> None:
    admin.goto(run.draw)
    _confirm(admin, "Calculer et sceller la loterie", "Calculer et sceller la loterie ?", slow=True)
    expect(admin.get_by_role("heading", level=1)).to_have_text("Seconde étape : la loterie")
    expect(admin.locator(".govuk-summary-list")).to_contain_text("Loterie scellée pour")
    run.check(admin, "draw: lottery sealed")
    admin.get_by_label("Réserve").fill(str(RESERVE))
    _confirm(admin, "Tirer le panel", "Tirer le panel ?")
    _banner(admin, "Le panel est tiré")
    main = admin.locator("main")
    expect(main).to_contain_text(f"Le panel : {SEATS} sièges")
    expect(main).to_contain_text(f"La réserve, dans l'ordre : {RESERVE} personnes")
    run.check(admin, "draw: panel drawn")
    # Each member says yes: the first ones clicked, the others posted by the same profile.
    accept = admin.locator("form").filter(has=admin.get_by_role("button", name="A accepté"))
    for _ in range(2):
        with admin.expect_navigation():
            accept.first.get_by_role("button").click()
        _banner(admin, "L'acceptation de la personne est enregistrée.")
    token = _token(admin)
    for action in accept.evaluate_all("forms => forms.map(f => f.action)"):
        _post(admin, action, {"csrf_token": token})
    admin.reload()
    expect(admin.get_by_role("button", name="A accepté")).to_have_count(0)
    _confirm(admin, "Installer le panel dans l'instance", "Installer le panel dans l'instance ?")
    _banner(admin, f"{SEATS} membres sont installé·es")
    run.check(admin, "draw: panel seated")


def install(run: Run, admin: Page, body_id: int) -> None:
    admin.goto(f"{run.base}/admin/bodies/{body_id}")
    admin.get_by_label("Noms, un par ligne").fill(
        "\n".join(f"Facilitatrice {n}" for n in range(1, 5))
    )
    admin.locator("#several-origin").select_option("facilitator")
    admin.locator("input[name='several-voting'][value='no']").check()
    _submit(admin, "Ajouter ces membres")
    _submit(admin, "Installer l'instance")
    _submit(admin, "Installer l'instance")
    expect(admin.locator(".govuk-tag", has_text="installée")).to_be_visible()
    run.check(admin, "body: installed")


def replacement(run: Run, admin: Page) -> None:
    admin.goto(run.draw + "/panel")
    # The administrator reads both tables: a member whose profile someone in the reserve
    # shares can leave with every quota kept (which member that is depends on the lottery).
    reserve = admin.get_by_role("table", name=re.compile("La réserve, dans l'ordre"))
    spare = set(reserve.locator("tbody tr td:last-child").all_inner_texts())
    seats = admin.get_by_role("table", name=re.compile("Le panel :"))
    rows = seats.locator("tbody tr").evaluate_all(
        "rows => rows.map(r => [r.cells[0].innerText, r.cells[2].innerText])"
    )
    seat = next((rank for rank, profile in rows if profile.strip() in spare), None)
    assert seat is not None, f"no member shares a profile with the reserve: {rows}, {spare}"
    admin.get_by_role(
        "link", name=f"A décliné ou s'est retiré·e — siège {seat}", exact=True
    ).click()
    run.check(admin, "draw: withdrawal")
    admin.get_by_label("Motif").fill("A déménagé à Niort.")
    _confirm(admin, "Remplacer", "Remplacer ce membre ?")
    _banner(admin, "Remplacement fait par la première personne de la réserve")
    run.check(admin, "draw: member replaced")


def public_record(run: Run, visitor: Page, draw_id: int) -> dict[str, Any]:
    visitor.goto(f"{run.base}/draws/{draw_id}/record")
    main = visitor.locator("main")
    expect(main.get_by_role("heading", name="Qui a répondu")).to_be_visible()
    funnel = visitor.get_by_role("table", name=re.compile("Parcours des réponses par strate"))
    total = funnel.get_by_role("row", name=re.compile("^Total"))
    invited, *_between, seated = total.locator("td").all_inner_texts()
    assert (invited, seated) == ("1\u202f200", str(SEATS)), total.inner_text()
    charts = main.locator("svg[role=img]")
    expect(charts).to_have_count(4)  # the funnel, and one per quota criterion
    expect(main).to_contain_text("Le panel comparé à la population")
    run.check(visitor, "public: record of the draw")
    [link] = [
        href
        for href in main.locator("a").evaluate_all("links => links.map(a => a.href)")
        if re.search(rf"/draws/{draw_id}/record/\d+\.json$", href)
    ]
    exported = _request(visitor, link)
    assert exported.ok, exported.status
    return dict(json.loads(exported.body()))


# --- the test -------------------------------------------------------------------------------


@pytest.mark.slow
def test_a_door_to_door_draw_in_the_browser(
    browser: Browser, app: Flask, site: str, tmp_path: Path
) -> None:
    body_id = open_edition(app, 2031)["plenary"]
    register = registers.address_file(
        tmp_path / "adresses-poitiers.csv", ROWS, insee_code="86194", commune="Poitiers",
        postcode="86000", strata=list(QUARTIERS), weights=list(QUARTIERS.values()),
    )  # fmt: skip
    with _run(browser, app, site) as run:
        run.people["agent"] = _agent(app)
        admin = run.person("commune admin")
        design_and_upload(run, admin, register)
        publish_and_commit(run, admin)
        stage_one(run, admin)
        draw_id = int(run.draw.rsplit("/", 1)[1])
        invited = _invitations(app, draw_id)
        letters(run, admin, invited)

        door_to_door(run, admin)
        residents = Residents()
        pair = (run.person("elected member", phone=True), run.person("agent", phone=True))
        visits(run, pair, residents)
        waiting = [i for i in _invitations(app, draw_id) if i.status == InvitationStatus.INVITED]
        answers(run, run.person(None, phone=True), run.person("agent"), waiting, residents)

        infeasible_quota(run, admin)
        visitor = run.person(None)
        deviation_is_public(run, visitor, draw_id)
        panel(run, admin)
        install(run, admin, body_id)
        replacement(run, admin)
        record = public_record(run, visitor, draw_id)

    # The body keeps its 100 drawn members, and the replaced panel keeps every quota.
    with app.app_context(), tenant_scope(db.session, poitiers().id):
        drawn = db.session.execute(
            select(func.count())
            .select_from(Membership)
            .where(
                Membership.body_id == body_id,
                Membership.origin == "drawn",
                Membership.ended_at.is_(None),
            )
        ).scalar_one()
        db.session.remove()
    assert drawn == SEATS
    assert engine_audit.verify(record, commitment=record["commitment_sha256"])
    pool, _households = engine_audit.pool_from_record(record["pool"])
    quotas = engine_audit.quotas_from_record(record["quotas"])
    assert quota_violations(pool, quotas, engine_audit.current_panel(record)) == []
    assert not run.too_wide, run.too_wide
    if run.audit.failures:
        pytest.fail(run.audit.report(), pytrace=False)

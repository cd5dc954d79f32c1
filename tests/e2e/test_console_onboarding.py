"""A consultancy's staff member onboards Brest in a real headless Chromium: the wizard from
the Poitiers-style profile, a colleague assigned, the mayor's office invited; a mistake first
(said next to its field, what was typed kept), then the confirmation and the commune's page.
The mayor's office opens the mailed link on Brest's own site and lands on its programme. The
indicators page is read on the way. axe-core audits each page (no serious or critical
violation)."""

from __future__ import annotations

import re
from datetime import date, timedelta
from typing import Any

import pytest
from babel.dates import format_date
from flask import Flask
from playwright.sync_api import Browser, expect

from e2e.accessibility import Audit
from e2e.pages import Site, prepare_people, signed_in
from support.smtp import Inbox

LINK = re.compile(r"http://brest\.localhost:\d+/login/magic/[A-Za-z0-9_-]+\?next=\S*")


def test_staff_onboard_brest_and_its_administrator_signs_in(
    browser: Browser,
    app: Flask,
    site: str,
    runner: Any,
    mail_server: tuple[str, Inbox],
) -> None:
    colleague = "lea@cooperative.example"
    assert runner.invoke(args=["identity", "create-account", colleague]).exit_code == 0
    assert runner.invoke(args=["identity", "assign-staff", colleague, "grenoble"]).exit_code == 0
    people = prepare_people(app)
    served = Site(app, site)
    console = served.base("platform")
    audit = Audit()
    context = signed_in(browser, served, people["staff"])
    page = context.new_page()
    inbox = mail_server[1]
    try:
        page.goto(f"{console}/")
        page.get_by_role("button", name="Accueillir une commune").click()
        expect(page.get_by_role("heading", name="Accueillir une commune")).to_be_visible()
        audit.check(page, "onboarding wizard")

        page.get_by_label("Nom de la commune").fill("Brest")
        page.get_by_label("Commune", exact=True).check()
        page.get_by_label("Code INSEE").fill("29 019")  # a space: refused, kept
        page.get_by_label("Population").fill("139926")
        page.get_by_label("Adresse de son site").fill("brest")
        page.get_by_label("Assemblée ouverte, sur le modèle de Poitiers").check()
        page.get_by_label(colleague).check()
        page.get_by_label("Adresse électronique de sa première").fill("mairie@brest.example")
        start = date.today() + timedelta(days=21)
        page.get_by_label("Premier jour du programme").fill(start.isoformat())
        page.get_by_role("button", name="Continuer").click()
        expect(page.locator(".govuk-error-summary")).to_contain_text("Saisissez cinq chiffres")
        expect(page.get_by_label("Code INSEE")).to_have_value("29 019")
        expect(page.get_by_label("Nom de la commune")).to_have_value("Brest")
        audit.check(page, "onboarding wizard with an error")

        page.get_by_label("Code INSEE").fill("29019")
        page.get_by_role("button", name="Continuer").click()
        expect(page.get_by_role("heading", name="Accueillir Brest ?")).to_be_visible()
        expect(page.locator("main")).to_contain_text("mairie@brest.example")
        audit.check(page, "onboarding confirmation")
        page.get_by_role("button", name="Accueillir la commune").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text(
            "Brest est accueillie sur Agora"
        )
        expect(page.locator("main")).to_contain_text("29019")
        audit.check(page, "onboarded commune")

        page.goto(f"{console}/console/indicators")
        expect(page.get_by_role("heading", name="Indicateurs des communes")).to_be_visible()
        expect(page.locator("table")).to_contain_text("Brest")
        audit.check(page, "indicators")
    finally:
        context.close()

    # The mayor's office follows the invitation, on Brest's own site.
    body = next(
        body
        for message, body in zip(inbox.messages, inbox.bodies(), strict=True)
        if message["To"] == "mairie@brest.example"
    )
    match = LINK.search(body)
    assert match, body
    mayor = browser.new_context()
    try:
        page = mayor.new_page()
        page.goto(match.group(0))
        page.get_by_role("button", name="Me connecter maintenant").click()
        expect(page).to_have_url(re.compile(r"brest\.localhost:\d+/programme$"))
        # Its first session is on the day the staff member chose.
        expect(page.locator("main")).to_contain_text(format_date(start, "long", locale="fr"))
    finally:
        mayor.close()
    if audit.failures:
        pytest.fail(audit.report(), pytrace=False)

"""Poitiers' administrator changes the commune's rules in a real headless Chromium: types a
bad value first (a French message next to the field, what was typed kept), then raises the
proposal group's opposition minimum from 2 to 3 and sets the action plan's threshold to 3/5,
reads the changes, publishes; the internal rules, adopted before, then say they need a
revision. axe-core audits each page on the way (no serious or critical violation)."""

from __future__ import annotations

from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser, expect

from e2e.accessibility import Audit
from e2e.pages import Site, prepare_people, signed_in
from e2e.test_every_page import WIDTH_OF_PAGE
from support.charters import adopt_charter

MINIMUM = '[name="plugins.composition_seats.bodies[1].constraints[0].min"]'
THRESHOLD = '[name="plugins.decision_rules.rules.action_plan.threshold"]'


def test_the_administrator_changes_the_rules_in_the_browser(
    browser: Browser, app: Flask, site: str, runner: Any
) -> None:
    adopt_charter(app, actor="e2e")
    people = prepare_people(app)
    served = Site(app, site)
    base = served.base("tenant")
    audit = Audit()
    too_wide: list[str] = []
    context = signed_in(browser, served, people["commune admin"])
    page = context.new_page()

    def fits_a_phone(name: str) -> None:
        page.set_viewport_size({"width": 360, "height": 800})
        width, window = page.evaluate(WIDTH_OF_PAGE)
        if width > window:
            too_wide.append(f"{name}: {width} px wide on a 360 px phone")
        page.set_viewport_size({"width": 1280, "height": 800})

    try:
        page.goto(f"{base}/rules")
        page.get_by_role("link", name="Modifier les règles").first.click()
        expect(
            page.get_by_role("heading", name="Modifier les règles de l'assemblée")
        ).to_be_visible()
        audit.check(page, "rules form")
        fits_a_phone("rules form")

        # A value that is not a number: said in French next to the field, and kept.
        page.locator(MINIMUM).fill("trois")
        page.locator(THRESHOLD).fill("3/5")
        page.get_by_role("button", name="Vérifier les changements").first.click()
        expect(page.locator(".govuk-error-summary")).to_contain_text(
            "Saisissez un nombre entier, en chiffres."
        )
        group = page.locator(".govuk-form-group--error", has=page.locator(MINIMUM))
        expect(group).to_contain_text("Saisissez un nombre entier, en chiffres.")
        expect(page.locator(MINIMUM)).to_have_value("trois")
        expect(page.locator(THRESHOLD)).to_have_value("3/5")
        audit.check(page, "rules form with an error")

        page.locator(MINIMUM).fill("3")
        page.get_by_role("button", name="Vérifier les changements").first.click()
        expect(
            page.get_by_role("heading", name="Vérifiez les changements avant de publier")
        ).to_be_visible()
        table = page.locator("table")
        expect(table).to_contain_text("2/3")
        expect(table).to_contain_text("3/5")
        expect(page.locator("main")).to_contain_text("trois cinquièmes")
        expect(page.locator(".govuk-warning-text")).to_contain_text("règlement intérieur")
        audit.check(page, "rules preview")
        fits_a_phone("rules preview")

        page.get_by_role("button", name="Publier la version").click()
        expect(page.locator(".govuk-notification-banner")).to_contain_text("est publiée")
        audit.check(page, "rules version published")

        page.goto(f"{base}/charter")
        expect(page.locator("main")).to_contain_text("a besoin d'une révision")
        audit.check(page, "charter needing a revision")
        page.goto(f"{base}/rules")
        expect(page.locator("main")).to_contain_text(
            "en attente de la révision du règlement intérieur"
        )
        audit.check(page, "rules awaiting the charter")
    finally:
        context.close()
    assert not too_wide, too_wide
    if audit.failures:
        pytest.fail(audit.report(), pytrace=False)

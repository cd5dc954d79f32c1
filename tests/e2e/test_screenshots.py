"""``make screenshots``: PNGs of the main pages, for each person who sees them differently,
at 390 px (a phone) and 1280 px (a computer), into the folder named by
``AGORA_SCREENSHOTS`` (``screenshots/``, git-ignored), for a person to review.

Skipped unless ``AGORA_SCREENSHOTS`` is set: ``make test`` does not write pictures.
"""

from __future__ import annotations

import os
import re
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from playwright.sync_api import Browser

from e2e.pages import Site, prepare_people, role_contexts, visits

FOLDER = os.environ.get("AGORA_SCREENSHOTS")
WIDTHS = (390, 1280)
#: The main pages, by route, and who they are shown to.
MAIN = {
    "home": ("anonymous", "staff"),
    "assembly.edition_page": ("anonymous",),
    "assembly.ballot_page": ("anonymous",),
    "assembly.presence_page": ("anonymous",),
    "assembly.presence_recorded": ("anonymous",),
    "assembly.subject_page": ("anonymous",),
    "assembly.proposal_page": ("anonymous", "resident"),
    "assembly.measure_page": ("anonymous", "commune admin"),
    "assembly.council_page": ("anonymous",),
    "assembly.charter_page": ("anonymous",),
    "petitions.index": ("anonymous", "resident"),
    "petitions.petition_page": ("anonymous", "resident"),
    "petitions.new_petition": ("resident",),
    "petitions.admin_page": ("commune admin",),
    "public.rules": ("anonymous",),
    "public.journal": ("anonymous",),
    "identity.login": ("anonymous",),
    "identity.my_data": ("resident",),
    "identity.members": ("commune admin",),
    "notifications.index": ("resident",),
    "programme.timeline": ("elected member", "staff"),
    "assembly_admin.dashboard": ("commune admin", "staff"),
    "assembly_admin.session_page": ("commune admin", "staff"),
    "assembly_admin.roster": ("commune admin", "staff"),
    "programme.across_communes": ("staff",),
    "draws.index": ("commune admin",),
    "draws.new_draw": ("commune admin",),
    "draws.draw_page": ("commune admin",),
    "draws.register_page": ("commune admin",),
    "draws.method_page": ("anonymous",),
    "draws.record_page": ("anonymous",),
    "draws.answer_with_code": ("anonymous",),
    "draws.respond": ("anonymous",),
    "draws.responses_page": ("commune admin",),
    "draws.letters_page": ("commune admin",),
    "draws.rounds_page": ("commune admin",),
    "draws.visit_round": ("commune admin",),
    "draws.visit_outcome": ("commune admin",),
    "draws.my_rounds": ("elected member",),
    "draws.lottery_page": ("commune admin",),
    "draws.panel_page": ("commune admin",),
}


@pytest.mark.skipif(not FOLDER, reason="make screenshots sets AGORA_SCREENSHOTS")
def test_screenshots_of_the_main_pages(
    browser: Browser, app: Flask, runner: Any, site: str
) -> None:
    assert FOLDER is not None
    folder = Path(FOLDER)
    folder.mkdir(parents=True, exist_ok=True)
    loaded = runner.invoke(args=["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    people = prepare_people(app)
    pages, _unknown = visits(app)
    served = Site(app, site)
    written = []
    for person, context in role_contexts(browser, served, people):
        page = context.new_page()
        for visit in pages:
            if person not in MAIN.get(visit.endpoint, ()):
                continue
            # The console's home and the commune's are both "home".
            if visit.endpoint == "home" and (visit.host == "platform") != (person == "staff"):
                continue
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": 900})
                page.goto(served.base(visit.host) + visit.path)
                name = re.sub(r"[^a-z0-9]+", "-", f"{visit.endpoint}-{person}").strip("-")
                path = folder / f"{name}-{width}.png"
                page.screenshot(path=str(path), full_page=True)
                written.append(path)
        page.close()
    print(f"{len(written)} screenshots in {folder}/")
    assert written

"""Every page, for every kind of person, on a phone, a tablet and a computer.

After ``flask demo load``, each GET page of the application (derived from its URL map and
the demonstration's records: a new page is visited, or the test fails naming it) is opened
by an anonymous visitor, a resident, the commune's administrator, an elected member and the
consultancy's staff. axe-core audits each page once per person (a serious or critical
violation fails); the same page is then resized to 360, 768 and 1280 px and must never be
wider than the window (``scrollWidth ≤ clientWidth``). Failures name the page, the person
and the width.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from flask import Flask
from playwright.sync_api import Browser

from e2e.accessibility import Audit
from e2e.pages import NOT_PAGES, Site, prepare_people, role_contexts, visits

WIDTHS = (360, 768, 1280)
HEIGHT = 800
#: Measured on the document and the body: a wide element inside a scrolling region of its
#: own (a table) does not widen the page.
WIDTH_OF_PAGE = """() => {
  const root = document.documentElement;
  return [Math.max(root.scrollWidth, document.body.scrollWidth), root.clientWidth];
}"""
#: What sticks out, to name in the failure: the widest elements past the window's edge.
WIDE_ELEMENTS = """(limit) => Array.from(document.querySelectorAll('body *'))
  .filter(e => e.getBoundingClientRect().right > limit + 1)
  .filter(e => !e.closest('.agora-table-scroll') || getComputedStyle(e).position === 'absolute')
  .slice(0, 3)
  .map(e => e.tagName.toLowerCase() + (e.id ? '#' + e.id : '')
       + (e.className && typeof e.className === 'string' ? '.' + e.className.split(' ')[0] : '')
       + ' (' + Math.round(e.getBoundingClientRect().right) + ' px)')"""


def test_every_page_for_every_person_at_every_width(
    browser: Browser, app: Flask, runner: Any, site: str
) -> None:
    started = time.monotonic()
    loaded = runner.invoke(args=["demo", "load"])
    assert loaded.exit_code == 0, loaded.output
    people = prepare_people(app)
    pages, unknown = visits(app)
    assert not unknown, "pages the suite cannot visit (give their arguments a value in " + (
        "tests/e2e/pages.py, or list them in NOT_PAGES with the reason):\n" + "\n".join(unknown)
    )
    served = Site(app, site)
    audit = Audit()
    too_wide: list[str] = []
    broken: list[str] = []
    seen_pages = 0
    for person, context in role_contexts(browser, served, people):
        page = context.new_page()
        page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
        landed: set[tuple[str, int]] = set()
        for visit in pages:
            url = served.base(visit.host) + visit.path
            response = page.goto(url)
            assert response is not None, url
            status = response.status
            if status >= 500:
                broken.append(f"{visit.path} ({visit.endpoint}) as {person}: HTTP {status}")
            # A page reached twice (a sign-in page any refused visitor lands on, the same
            # error page) is checked once per person.
            where = (page.url.split("#")[0], status)
            if where in landed:
                continue
            landed.add(where)
            seen_pages += 1
            name = f"{visit.path} as {person}"
            audit.check(page, name)
            for width in WIDTHS:
                page.set_viewport_size({"width": width, "height": HEIGHT})
                scroll, client = page.evaluate(WIDTH_OF_PAGE)
                if scroll > client:
                    culprits = ", ".join(page.evaluate(WIDE_ELEMENTS, client))
                    too_wide.append(
                        f"{visit.path} ({visit.endpoint}) as {person} at {width} px: "
                        f"{scroll} px wide for {client} px — {culprits}"
                    )
            page.set_viewport_size({"width": WIDTHS[-1], "height": HEIGHT})
        page.close()
    elapsed = time.monotonic() - started
    report = [
        f"{seen_pages} pages checked for {len(people)} people in {elapsed:.0f} s "
        f"({len(pages)} routes; not pages: {len(NOT_PAGES)})"
    ]
    if broken:
        report += ["Server errors:", *broken]
    if too_wide:
        report += ["Pages wider than the window:", *too_wide]
    if audit.failures:
        report.append(audit.report())
    print("\n".join(report))
    assert not broken and not too_wide and not audit.failures, "\n".join(report)


def test_the_suite_knows_every_route(app: Flask) -> None:
    """A route is either visited or listed in NOT_PAGES with its reason; a route removed
    from the application leaves NOT_PAGES too."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()}
    assert set(NOT_PAGES) <= endpoints, set(NOT_PAGES) - endpoints
    assert Path(__file__).with_name("pages.py").is_file()

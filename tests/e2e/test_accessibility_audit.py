"""The audit itself: a page with serious faults fails, with a readable list; a sound one
passes."""

from __future__ import annotations

from playwright.sync_api import Browser

from e2e.accessibility import Audit

SOUND = """<!doctype html><html lang="fr"><head><title>Bonne page</title></head>
<body><main><h1>Bonne page</h1><form><label for="n">Nom</label><input id="n"></form>
</main></body></html>"""
FAULTY = """<!doctype html><html><head><title></title></head>
<body><main><h1>Page fautive</h1><img src="plan.png"><input name="code">
<p style="color:#aaa;background:#fff">Texte pâle</p><a href="/suite"></a></main></body></html>"""


def test_serious_faults_are_listed_and_a_sound_page_passes(browser: Browser) -> None:
    context = browser.new_context()
    try:
        page = context.new_page()
        audit = Audit()
        page.set_content(SOUND)
        audit.check(page, "sound")
        assert audit.failures == []
        page.set_content(FAULTY)
        audit.check(page, "faulty")
    finally:
        context.close()
    rules = {finding.rule for finding in audit.failures}
    assert {"html-has-lang", "image-alt", "label", "color-contrast", "link-name"} <= rules
    report = audit.report()
    assert "faulty (about:blank): image-alt [critical]" in report
    assert "— img" in report

"""Accessibility audit with axe-core (bundled by axe-playwright-python) in the real browser.

Every page the end-to-end test goes through can be audited; the test then fails with one
readable line per serious or critical violation: the page, the rule, its impact and the
elements concerned.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from axe_playwright_python.sync_playwright import Axe
from playwright.sync_api import Page

#: Impacts that fail the test. "moderate" and "minor" findings are reported, not failed.
FAILING = ("serious", "critical")


@dataclass(frozen=True)
class Finding:
    page: str
    url: str
    rule: str
    impact: str
    help: str
    targets: tuple[str, ...]

    def __str__(self) -> str:
        return f"{self.page} ({self.url}): {self.rule} [{self.impact}] {self.help} — " + ", ".join(
            self.targets
        )


@dataclass
class Audit:
    """The pages audited so far and what axe found on them."""

    axe: Axe = field(default_factory=Axe)
    pages: dict[str, str] = field(default_factory=dict)
    findings: list[Finding] = field(default_factory=list)

    def check(self, page: Page, name: str) -> None:
        # A click that leads to another page returns before it has loaded: axe run in the
        # page being replaced finds no document.
        page.wait_for_load_state("load")
        results: dict[str, Any] = self.axe.run(page).response
        self.pages[name] = page.url
        for violation in results["violations"]:
            self.findings.append(
                Finding(
                    name,
                    page.url,
                    violation["id"],
                    violation["impact"] or "unknown",
                    violation["help"],
                    tuple(
                        " ".join(str(part) for part in node["target"])
                        for node in violation["nodes"]
                    ),
                )
            )

    @property
    def failures(self) -> list[Finding]:
        return [f for f in self.findings if f.impact in FAILING]

    def report(self) -> str:
        lines = [f"{len(self.failures)} serious or critical accessibility violations:"]
        lines += [f"- {finding}" for finding in self.failures]
        others = [f for f in self.findings if f.impact not in FAILING]
        if others:
            lines.append(f"and {len(others)} moderate or minor ones, not failed:")
            lines += [f"- {finding}" for finding in others]
        lines.append(f"Pages audited ({len(self.pages)}): " + ", ".join(sorted(self.pages)))
        return "\n".join(lines)

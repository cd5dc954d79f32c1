"""The demonstration's dates, as ``flask demo load`` computes them today: tests read the
expected dates from the communes' stories instead of writing them down."""

from __future__ import annotations

import tomllib
from datetime import date
from pathlib import Path

from babel.dates import format_date

from agora.db import paris_today
from agora.demo.story import Chronology, Story, chronology, story_for

ROOT = Path(__file__).resolve().parents[2]
STORIES = ROOT / "tenants" / "demo"


def story(slug: str) -> Story:
    return story_for(slug, STORIES)


def dates(slug: str, today: date | None = None) -> Chronology:
    """The commune's demonstration dates, loaded ``today``."""
    config = tomllib.loads((ROOT / "tenants" / f"{slug}.toml").read_text(encoding="utf-8"))
    weeks = config["plugins"]["programme_fc"]["duration_weeks"]
    return chronology(story(slug), today or paris_today(), weeks)


def french(day: date) -> str:
    """``6 juillet 2026``, as the pages write a date."""
    return format_date(day, "d MMMM y", locale="fr")


def english(day: date) -> str:
    """``July 6, 2026``, as the English pages write a date."""
    return format_date(day, "MMMM d, y", locale="en")

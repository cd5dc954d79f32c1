"""Fixtures for the sortition tests."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest

from agora_sortition import Pool, QuotaSet
from sortition_support import SHARED, build


@pytest.fixture(autouse=True)
def _french_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """The command line's default language, whatever the shell running the tests says."""
    monkeypatch.delenv("AGORA_LANG", raising=False)


@pytest.fixture
def make() -> Callable[..., tuple[Pool, QuotaSet]]:
    maker: Callable[..., tuple[Pool, QuotaSet]] = build
    return maker


@pytest.fixture
def shared_instances() -> Path:
    """The public instances of ../shared, or a skip saying where they were looked for."""
    if not SHARED.is_dir():
        pytest.skip(f"public sortition instances not found at {SHARED}")
    found: Path = SHARED
    return found

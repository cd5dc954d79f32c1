"""The source layout: ``platform/`` is a plain folder that must never shadow the stdlib."""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_platform_folder_is_not_a_package() -> None:
    assert not (ROOT / "platform" / "__init__.py").exists(), (
        "platform/__init__.py shadows Python's standard 'platform' module: remove it"
    )


def test_standard_platform_module_wins_from_the_repository_root() -> None:
    # Run from the root, where tools such as gunicorn and alembic put the cwd on sys.path.
    origin = subprocess.run(
        [sys.executable, "-c", "import platform; print(platform.__file__)"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout.strip()
    assert origin.startswith(sysconfig.get_paths()["stdlib"])
    spec = importlib.util.find_spec("platform")
    assert spec is not None and spec.origin is not None
    assert spec.origin.startswith(sysconfig.get_paths()["stdlib"])


def test_importing_agora_does_not_import_flask() -> None:
    # ``agora`` and its re-export of the sortition engine (``agora.sortition``) stay import-light:
    # the engine itself, its own distribution in sortition/, is checked in sortition/tests.
    code = (
        "import sys, agora, agora.sortition\n"
        "assert 'flask' not in sys.modules, 'agora imported flask'\n"
        "assert 'sqlalchemy' not in sys.modules, 'agora imported sqlalchemy'\n"
    )
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_core_names_no_town() -> None:
    """Town-level variation lives in plugins and tenants/*.toml, never in the core (the platform
    and the sortition engine)."""
    towns = [path.stem for path in (ROOT / "tenants").glob("*.toml")]
    offenders = []
    core = [
        *(ROOT / "platform" / "agora").rglob("*"),
        *(ROOT / "sortition" / "agora_sortition").rglob("*"),
    ]
    for path in core:
        if path.suffix not in {".py", ".html"}:
            continue
        text = path.read_text(encoding="utf-8").lower()
        offenders += [f"{path.relative_to(ROOT)} names {town}" for town in towns if town in text]
    assert not offenders, offenders

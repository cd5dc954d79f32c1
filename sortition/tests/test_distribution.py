"""The engine is its own distribution: what it needs, imports and installs, checked.

"No web framework, no database, nothing from the platform" is a fact here, not a convention:

- its metadata, built by pip from ``sortition/pyproject.toml`` as ``pip install`` would, and the
  requirements of those requirements, transitively, name no Flask, SQLAlchemy or ``agora``;
- no module of the package imports anything but the standard library, NumPy, HiGHS and py_ecc
  (read from the source, so that imports inside functions count too);
- importing every module loads no Flask, SQLAlchemy or platform module.

``verify`` running on a real record with the platform and the heavy dependencies made
unimportable is in ``test_draw_audit`` and ``test_drand_signature``.
"""

from __future__ import annotations

import ast
import json
import pkgutil
import re
import subprocess
import sys
from collections.abc import Iterable
from importlib import metadata
from pathlib import Path
from typing import Any

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

import agora_sortition
from agora_sortition import cli

ENGINE = Path(__file__).resolve().parents[1]  # the distribution's folder, sortition/
PACKAGE = ENGINE / "agora_sortition"
DIRECT = {"numpy", "highspy", "py-ecc"}
# py_ecc is its import name; the rest of the standard library is sys.stdlib_module_names.
IMPORTABLE = {"numpy", "highspy", "py_ecc"}


def _forbidden(name: str) -> bool:
    """The web framework, the database layer and their own parts, and the platform."""
    name = canonicalize_name(name)
    return name.startswith(("flask", "sqlalchemy")) or name in {
        "agora",
        "werkzeug",
        "jinja2",
        "itsdangerous",
        "alembic",
        "psycopg",
        "gunicorn",
    }


def _pip(*args: str) -> dict[str, Any]:
    result = subprocess.run(
        [
            *(sys.executable, "-m", "pip", "install", "--dry-run", "--ignore-installed"),
            *("--quiet", "--disable-pip-version-check", "--report", "-", *args, str(ENGINE)),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 0, result.stderr
    report: dict[str, Any] = json.loads(result.stdout)
    return report


def _needed(requires: Iterable[str], extras: Iterable[str] = ("",)) -> set[Requirement]:
    """The requirements that apply here, for an install asking for ``extras``."""
    needed = set()
    for text in requires:
        requirement = Requirement(text)
        marker = requirement.marker
        if marker is None or any(marker.evaluate({"extra": e}) for e in extras):
            needed.add(requirement)
    return needed


def _closure(requirements: set[Requirement]) -> set[str]:
    """Every distribution ``requirements`` bring, transitively, from the installed metadata."""
    seen: set[str] = set()
    todo = list(requirements)
    while todo:
        requirement = todo.pop()
        name = canonicalize_name(requirement.name)
        if name in seen:
            continue
        seen.add(name)
        try:
            requires = metadata.distribution(name).requires or []
        except metadata.PackageNotFoundError:  # pragma: no cover - an incomplete environment
            pytest.fail(f"{name} is required but not installed here: install the engine first")
        todo += _needed(requires, ("", *requirement.extras))
    return seen


def test_declared_requirements_bring_no_web_framework_transitively() -> None:
    # Offline: pip builds the metadata (no index, the environment's setuptools), the installed
    # distributions' metadata gives the rest of the tree.
    report = _pip("--no-deps", "--no-index", "--no-build-isolation")
    [engine] = report["install"]
    assert engine["metadata"]["name"] == "agora-sortition"
    direct = _needed(engine["metadata"]["requires_dist"])
    everything = _closure(direct)
    assert not [name for name in everything if _forbidden(name)], sorted(everything)
    assert {canonicalize_name(r.name) for r in direct} == DIRECT


def test_a_fresh_install_resolves_without_web_framework() -> None:
    # What a fresh virtual environment would get, resolved by pip against the package index;
    # where no index answers (offline), the test above still holds.
    try:
        report = _pip("--timeout", "10", "--retries", "1")
    except AssertionError as error:
        if re.search(r"NewConnectionError|Failed to establish|name resolution", str(error)):
            pytest.skip("no package index reachable")
        raise
    names = {canonicalize_name(item["metadata"]["name"]) for item in report["install"]}
    assert "agora-sortition" in names
    assert names >= DIRECT
    assert not [name for name in names if _forbidden(name)], sorted(names)


def test_the_command_line_is_a_script_and_a_module() -> None:
    [script] = metadata.entry_points(group="console_scripts", name="agora-sortition")
    assert script.load() is cli.main
    result = subprocess.run(
        [sys.executable, "-m", "agora_sortition", "--help"],
        cwd=ENGINE,
        env={"PYTHONPATH": str(ENGINE), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("usage: python -m agora_sortition ")
    for command in ("select", "commit", "reveal", "verify", "replace", "invite"):
        assert command in result.stdout


def test_the_engine_imports_only_the_standard_library_numpy_highs_and_py_ecc() -> None:
    offenders = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.partition(".")[0]
                if top not in IMPORTABLE | {"agora_sortition"} | sys.stdlib_module_names:
                    offenders.append(f"{path.relative_to(ENGINE)}:{node.lineno} imports {name}")
    assert not offenders, offenders


def test_importing_every_module_loads_no_web_framework_nor_the_platform() -> None:
    modules = sorted(
        info.name
        for info in pkgutil.walk_packages(agora_sortition.__path__, "agora_sortition.")
        if not info.name.endswith(".__main__")  # running it is the command line
    )
    assert "agora_sortition.cli" in modules and "agora_sortition.leximin" in modules
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = [m for m in sys.modules if m.partition('.')[0].lower() in\n"
        "          ('flask', 'sqlalchemy', 'werkzeug', 'jinja2', 'agora')]\n"
        "assert not loaded, loaded\n"
        "print(len(sys.modules))\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code],
        cwd=ENGINE,
        env={"PYTHONPATH": str(ENGINE), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        check=False,
    )
    assert result.returncode == 0, result.stderr


def test_the_public_api_is_what_the_package_exports() -> None:
    assert sorted(agora_sortition.__all__) == sorted(set(agora_sortition.__all__))
    for name in agora_sortition.__all__:
        assert getattr(agora_sortition, name) is not None, name
    with pytest.raises(AttributeError):
        agora_sortition.no_such_name  # noqa: B018

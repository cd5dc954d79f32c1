"""The architecture as facts: the layers of ``platform/agora`` and what may import what.

The layers and their members are in ``tests/support/import_graph.py`` (run it to print the
graph); README's *Architecture* section describes the same.
"""

from __future__ import annotations

import re
import subprocess
import sys

import pytest

from support.import_graph import (
    ENTRY_POINT_MODULES,
    LAYERS,
    ROOT,
    ImportGraph,
    build,
    cycles,
    layer_of,
    package_of,
)

GRAPH = build()


def test_no_import_cycle_between_packages() -> None:
    found = cycles(GRAPH)
    assert not found, "import cycles between packages: " + "; ".join(
        " ↔ ".join(component)
        + " ("
        + ", ".join(
            sorted(
                line
                for a in component
                for b in component
                for line in GRAPH.evidence.get((a, b), ())
            )
        )
        + ")"
        for component in found
    )


def test_cycle_detection_sees_a_cycle() -> None:
    # The check above is only worth something if a cycle is found when there is one.
    graph = ImportGraph()
    graph.packages.update({"a", "b", "c", "d"})
    graph.edges["a"].add("b")
    graph.edges["b"].add("c")
    graph.edges["c"].add("a")
    graph.edges["c"].add("d")
    assert cycles(graph) == [["a", "b", "c"]]


def test_every_package_sits_in_one_layer() -> None:
    unplaced = sorted(package for package in GRAPH.packages if layer_of(package) is None)
    assert not unplaced, f"add these packages to a layer in import_graph.LAYERS: {unplaced}"
    members = [member for layer in LAYERS for member in layer.members]
    assert len(members) == len(set(members)), "a package is in two layers"


def test_no_package_imports_a_higher_layer() -> None:
    upward = sorted(
        line
        for (source, target), lines in GRAPH.evidence.items()
        if (layer_of(source) or 0) < (layer_of(target) or 0)
        for line in lines
    )
    assert not upward, "imports from a lower layer into a higher one:\n" + "\n".join(upward)


def test_no_package_imports_another_packages_entry_points() -> None:
    # Views, CLI commands and template filters are registered by the composition root;
    # a capability that needs another's logic calls its services.
    composition_root = LAYERS[-1].members
    reaching = sorted(
        f"{source} → {target}"
        for source, target in GRAPH.module_imports
        if package_of(source) != package_of(target)
        and package_of(source) not in composition_root
        and target.rsplit(".", 1)[-1] in ENTRY_POINT_MODULES
    )
    assert not reaching, "imports of another package's entry points:\n" + "\n".join(reaching)


@pytest.mark.parametrize(
    "package", sorted(member for layer in LAYERS if layer.pure for member in layer.members)
)
def test_engines_load_neither_flask_nor_sqlalchemy(package: str) -> None:
    modules = sorted(
        {source for source, _ in GRAPH.module_imports if package_of(source) == package}
        | {f"agora.{package}"}
    )
    code = (
        "import importlib, sys\n"
        f"for name in {modules!r}:\n"
        "    importlib.import_module(name)\n"
        "loaded = sorted({m.split('.')[0] for m in sys.modules} & "
        "{'flask', 'flask_babel', 'werkzeug', 'sqlalchemy', 'jinja2'})\n"
        "assert not loaded, loaded\n"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stderr


def test_the_graph_reads_every_module() -> None:
    # A parse that silently skipped files would make every check above vacuous: every
    # module whose text imports agora must be a source of the graph.
    package = ROOT / "platform" / "agora"
    importing = {source for source, _ in GRAPH.module_imports}
    expected = set()
    for path in package.rglob("*.py"):
        if re.search(r"^\s*from agora[. ]", path.read_text(encoding="utf-8"), re.MULTILINE):
            parts = path.relative_to(package.parent).with_suffix("").parts
            expected.add(".".join(parts[:-1] if parts[-1] == "__init__" else parts))
    assert expected - importing == set()
    assert {"agora.assembly.views", "agora.identity.acting", "agora.shared.people"} <= importing

"""The import graph of ``platform/agora`` between its packages, and the layers they sit in.

Run it to print the graph, layer by layer::

    .venv/bin/python tests/support/import_graph.py

``tests/test_architecture.py`` checks the same graph: no cycle between packages, no import
from a lower layer into a higher one, and no package reaching into another's entry points
(views, CLI…). Every import counts, including those inside functions and under
``TYPE_CHECKING``: a dependency hidden from the interpreter is still one for the reader.
"""

from __future__ import annotations

import ast
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
PACKAGE = ROOT / "platform" / "agora"


@dataclass(frozen=True)
class Layer:
    name: str
    members: frozenset[str]
    #: What the layer is for, printed with the graph.
    role: str
    #: Libraries usable without the web application: no Flask, no SQLAlchemy.
    pure: bool = False


#: Lowest first. A package may import its own layer and the layers below it, never above.
LAYERS = (
    Layer(
        "foundation",
        frozenset({"db", "replica", "extensions", "errors", "config", "plugins", "documents"}),
        "database base, replica reads and extensions, domain errors, settings, the plugin "
        "contracts and manager, document formats",
    ),
    Layer(
        "engines",
        frozenset({"voting", "sortition"}),
        "pure libraries: counting ballots, drawing panels (the agora-sortition distribution)",
        pure=True,
    ),
    Layer(
        "kernel",
        frozenset({"tenancy", "audit", "jobs"}),
        "communes and their isolation, the audit chain, the job queue",
    ),
    Layer(
        "shared",
        frozenset({"shared", "observability"}),
        "what capabilities share: people, mail, form helpers, labels; logs, metrics, probes",
    ),
    Layer(
        "capabilities",
        frozenset(
            {
                "identity",
                "indicators",
                "onboarding",
                "programme",
                "assembly",
                "petitions",
                "notifications",
                "draws",
                "billing",
            }
        ),
        "what users do: each owns its models, services, views and templates",
    ),
    Layer("web", frozenset({"web"}), "the public site's frame, the operator console, filters"),
    Layer(
        "application",
        frozenset({"app", "models", "demo", "wsgi", "__init__"}),
        "the composition root: builds the app, registers blueprints and commands",
    ),
)

#: Modules that are a package's entry points (pages, commands, template filters): another
#: package never imports them, only the application's composition root registers them.
ENTRY_POINT_MODULES = frozenset({"views", "admin", "console", "public", "filters", "cli"})


@dataclass
class ImportGraph:
    #: package → packages it imports (self excluded)
    edges: dict[str, set[str]] = field(default_factory=lambda: defaultdict(set))
    #: (package, package) → the module-level imports behind that edge
    evidence: dict[tuple[str, str], set[str]] = field(default_factory=lambda: defaultdict(set))
    #: (importing module, imported module) for every import of agora by agora
    module_imports: set[tuple[str, str]] = field(default_factory=set)
    packages: set[str] = field(default_factory=set)


def package_of(module: str) -> str:
    """``agora.assembly.views`` → ``assembly``; ``agora`` → ``__init__``."""
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else "__init__"


def _module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _imports(tree: ast.AST, modules: set[str]) -> Iterator[str]:
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            # ``from agora.shared import mail`` imports the module agora.shared.mail; a name
            # that is no module is imported from node.module itself.
            submodules = [f"{node.module}.{alias.name}" for alias in node.names]
            yield from (name for name in submodules if name in modules)
            if any(name not in modules for name in submodules):
                yield node.module
        elif isinstance(node, ast.Import):
            yield from (alias.name for alias in node.names)


def build() -> ImportGraph:
    graph = ImportGraph()
    modules = {_module_name(path) for path in PACKAGE.rglob("*.py")}
    for path in sorted(PACKAGE.rglob("*.py")):
        source = _module_name(path)
        package = package_of(source)
        graph.packages.add(package)
        for target in _imports(ast.parse(path.read_text(encoding="utf-8")), modules):
            if target != "agora" and not target.startswith("agora."):
                continue
            if target not in modules:
                continue  # a module of another distribution that shares the prefix
            graph.module_imports.add((source, target))
            other = package_of(target)
            if other != package:
                graph.edges[package].add(other)
                graph.evidence[(package, other)].add(f"{source} → {target}")
    return graph


def cycles(graph: ImportGraph) -> list[list[str]]:
    """The strongly connected components of more than one package (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for other in sorted(graph.edges.get(node, ())):
            if other not in index:
                visit(other)
                low[node] = min(low[node], low[other])
            elif other in on_stack:
                low[node] = min(low[node], index[other])
        if low[node] == index[node]:
            component = []
            while True:
                member = stack.pop()
                on_stack.discard(member)
                component.append(member)
                if member == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph.packages):
        if node not in index:
            visit(node)
    return found


def layer_of(package: str) -> int | None:
    for rank, layer in enumerate(LAYERS):
        if package in layer.members:
            return rank
    return None


def main() -> None:
    graph = build()
    for rank, layer in enumerate(LAYERS):
        print(f"{rank} {layer.name}: {layer.role}")
        for package in sorted(layer.members & graph.packages):
            imported = sorted(graph.edges.get(package, ()), key=lambda p: (layer_of(p), p))
            print(f"    {package:<14} → {', '.join(imported) or '(nothing of agora)'}")
    unplaced = sorted(p for p in graph.packages if layer_of(p) is None)
    if unplaced:
        print(f"not in any layer: {', '.join(unplaced)}")
    found = cycles(graph)
    print("cycles between packages: " + ("; ".join(" ↔ ".join(c) for c in found) or "none"))


if __name__ == "__main__":
    main()

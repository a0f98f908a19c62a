"""The dependency rule, checked on the source: no import cycle in hub/ or connectors/, and
connectors see only the hub's public surface.

An AST walk, not an import: it sees imports inside functions (the old SHACL cycle hid there) and
at the bottom of a file (the old CLI cycle), and it needs no optional dependency installed.
Imports under ``if TYPE_CHECKING:`` do not run and are left out.
"""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGES = ("hub", "connectors")

CONNECTORS_MAY_IMPORT = (
    "hub.records",
    "hub.vocab",
    "hub.iris",
    "hub.config",
    "hub.errors",
    "hub.clipping",
    "hub.rdf.resources",
    "hub.sync.view",
)
"""The hub modules a connector may import: its data types, IRIs, configuration, errors, and the
read-only view of the hub the sync engine hands it. Anything else (the store, the pipeline, the
meta graph, sync state) is the engine's business. ``hub.rdf.resources`` only names the files
shipped beside the code (a connector finds its default mapping there)."""


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def _modules() -> dict[str, Path]:
    return {_module_name(p): p for pkg in PACKAGES for p in sorted((ROOT / pkg).rglob("*.py"))}


def _type_checking_only(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING"
    )


def _import_nodes(tree: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    for node in ast.iter_child_nodes(tree):
        if isinstance(node, ast.If) and _type_checking_only(node):
            yield from (n for child in node.orelse for n in _import_nodes_of(child))
            continue
        yield from _import_nodes_of(node)


def _import_nodes_of(node: ast.AST) -> Iterator[ast.Import | ast.ImportFrom]:
    if isinstance(node, ast.Import | ast.ImportFrom):
        yield node
    else:
        yield from _import_nodes(node)


def _imports(name: str, path: Path, modules: dict[str, Path]) -> set[str]:
    """The modules of hub/ and connectors/ that ``name`` imports (and so runs, with the package
    ``__init__`` files on the way)."""
    found: set[str] = set()
    is_package = path.name == "__init__.py"
    for node in _import_nodes(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        targets: list[str] = []
        if isinstance(node, ast.Import):
            targets = [alias.name for alias in node.names]
        else:
            base = node.module or ""
            if node.level:
                package = name.split(".") if is_package else name.split(".")[:-1]
                package = package[: len(package) - node.level + 1]
                base = ".".join([*package, *([node.module] if node.module else [])])
            for alias in node.names:
                full = f"{base}.{alias.name}"
                targets.append(full if full in modules else base)
        ancestors = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1)}
        for target in targets:
            parts = target.split(".")
            for i in range(1, len(parts) + 1):  # importing a.b.c runs a, a.b and a.b.c...
                candidate = ".".join(parts[:i])
                # ...but a module's own packages are already running when it is imported: passing
                # through one is no cycle, taking a name from its __init__ is
                implied = i < len(parts) and candidate in ancestors
                if candidate in modules and candidate != name and not implied:
                    found.add(candidate)
    return found


def _graph() -> dict[str, set[str]]:
    modules = _modules()
    return {name: _imports(name, path, modules) for name, path in modules.items()}


def _cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), each as a sorted list."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found: list[list[str]] = []

    def visit(node: str) -> None:
        index[node] = low[node] = len(index)
        stack.append(node)
        on_stack.add(node)
        for nxt in sorted(graph.get(node, ())):
            if nxt not in index:
                visit(nxt)
                low[node] = min(low[node], low[nxt])
            elif nxt in on_stack:
                low[node] = min(low[node], index[nxt])
        if low[node] == index[node]:
            component = []
            while True:
                top = stack.pop()
                on_stack.discard(top)
                component.append(top)
                if top == node:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for node in sorted(graph):
        if node not in index:
            visit(node)
    return found


def _edges_within(graph: dict[str, set[str]], component: list[str]) -> list[str]:
    members = set(component)
    return [f"{a} -> {b}" for a in component for b in sorted(graph[a] & members)]


def test_no_import_cycle() -> None:
    graph = _graph()
    cycles = _cycles(graph)
    report = "\n\n".join(
        "cycle: " + ", ".join(c) + "\n  " + "\n  ".join(_edges_within(graph, c)) for c in cycles
    )
    assert not cycles, f"import cycles in hub/ or connectors/:\n{report}"


def test_the_cycle_finder_sees_a_cycle() -> None:
    assert _cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def _connector_violations() -> list[str]:
    modules = _modules()
    offending = []
    for name, path in modules.items():
        if not name.startswith("connectors."):
            continue
        for target in sorted(_imports(name, path, modules)):
            if not target.startswith("hub.") or target in ("hub",):
                continue
            passing_through = any(ok.startswith(target + ".") for ok in CONNECTORS_MAY_IMPORT)
            allowed = any(target == ok or target.startswith(ok + ".") for ok in CONNECTORS_MAY_IMPORT)
            if not (allowed or passing_through):
                offending.append(f"{name} imports {target}")
    return offending


def test_connectors_import_only_the_hub_surface() -> None:
    offending = _connector_violations()
    assert not offending, "connector modules importing hub internals:\n  " + "\n  ".join(offending)


def _stores_opened_outside_the_store_package() -> list[str]:
    """Calls of pyoxigraph's ``Store`` constructor or ``Store.read_only`` outside hub/store."""
    found = []
    for name, path in _modules().items():
        if name.startswith("hub.store"):
            continue
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            called = ast.unparse(node.func)
            if called.endswith(("ox.Store", "pyoxigraph.Store", "Store.read_only")):
                found.append(f"{name}:{node.lineno} {called}")
    return found


def test_pyoxigraph_stores_are_opened_only_under_hub_store() -> None:
    """One place knows how the embedded store is opened (read-write, read-only, scratch)."""
    assert _stores_opened_outside_the_store_package() == []

"""hub/shacl stays a self-contained engine: it imports rdflib, pyoxigraph and the standard library
only (no pyshacl, nothing else of the hub), and ``model`` imports none of its siblings, so the
runtime can be read, and reused, on its own.

An AST walk, so imports inside functions count too (the old ``compile_shapes`` hid one there).
"""

from __future__ import annotations

import ast
import sys
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[1] / "hub" / "shacl"
ALLOWED = {"rdflib", "pyoxigraph", "hub"} | set(sys.stdlib_module_names)


def imported(path: Path) -> set[str]:
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            assert node.level == 0, f"{path.name}: relative import"
            found.add(node.module or "")
    return found


def test_the_engine_imports_only_rdflib_pyoxigraph_and_the_standard_library() -> None:
    files = sorted(PACKAGE.glob("*.py"))
    assert {p.name for p in files} >= {"__init__.py", "model.py", "compiler.py", "checks.py", "xsd.py", "report.py"}
    for path in files:
        for module in imported(path):
            top = module.split(".")[0]
            assert top in ALLOWED, f"{path.name} imports {module}"
            if top == "hub":
                assert module == "hub.shacl" or module.startswith("hub.shacl."), f"{path.name} imports {module}"


def test_model_imports_none_of_its_siblings() -> None:
    assert not {m for m in imported(PACKAGE / "model.py") if m.startswith("hub")}

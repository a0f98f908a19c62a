"""Files shipped beside the code: ontology, shapes, named queries, demo data."""

from __future__ import annotations

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]  # the repository: hub/rdf/resources.py
ONTOLOGY_DIR = ROOT / "ontologies"
SHAPES_DIR = ROOT / "shapes"
SPARQL_DIR = ROOT / "sparql"
DEMO_DIR = ROOT / "demo"


def named_query(name: str) -> str:
    """The text of ``sparql/<name>.rq``."""
    return (SPARQL_DIR / f"{name}.rq").read_text(encoding="utf-8")

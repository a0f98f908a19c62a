"""SHACL validation of records, one batch at a time, at a cost that does not grow with the store.

The data graph handed to pyshacl is the batch itself plus the ``rdf:type`` of every node it links
to (fetched from the store): ``sh:class`` on a link can then be checked without loading the store.
Results about those neighbours (which hold nothing but a type here) are ignored. pyshacl's
``focus_nodes`` is not used: with it, 0.40 skips the shapes nested in ``sh:or`` for value nodes
outside the focus list, so a link to a node of the wrong class would pass.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from rdflib.namespace import RDF, SH

from hub.rdflib_bridge import graph_of
from hub.records import Record
from hub.resources import SHAPES_DIR


@dataclass(frozen=True)
class Violation:
    """One SHACL result, in the words a person can act on."""

    focus: str
    path: str | None
    value: str | None
    severity: str
    messages: dict[str, str]

    def message(self, lang: str = "en") -> str:
        return self.messages.get(lang) or next(iter(self.messages.values()), "constraint failed")

    def describe(self, lang: str = "en") -> str:
        where = f" {self.path.rsplit('#', 1)[-1].rsplit('/', 1)[-1]}" if self.path else ""
        value = f" (value: {self.value[:80]})" if self.value is not None else ""
        level = "" if self.severity == "Violation" else f"[{self.severity.lower()}] "
        return f"{level}<{self.focus}>{where}: {self.message(lang)}{value}"


@dataclass
class Report:
    """What the shapes said about one record."""

    violations: list[Violation] = field(default_factory=list)
    graph: rdflib.Graph = field(default_factory=rdflib.Graph)

    @property
    def conforms(self) -> bool:
        return not any(v.severity == "Violation" for v in self.violations)

    def turtle(self) -> str:
        return self.graph.serialize(format="turtle")

    def summary(self, lang: str = "en") -> str:
        return "\n".join(v.describe(lang) for v in self.violations)


def load_shapes(shapes_dir: Path = SHAPES_DIR) -> rdflib.Graph:
    """All shape files as one graph; a broken shape file is an error, not a silent pass."""
    graph = rdflib.Graph()
    files = sorted(shapes_dir.glob("*.ttl"))
    if not files:
        raise FileNotFoundError(f"no SHACL shapes in {shapes_dir}")
    for path in files:
        graph.parse(path, format="turtle")
    return graph


class Validator:
    """Validates batches of records against the hub shapes."""

    def __init__(self, shapes: rdflib.Graph | None = None) -> None:
        self.shapes = shapes if shapes is not None else load_shapes()

    def validate(
        self, records: Sequence[Record], neighbour_types: Sequence[ox.Triple] = ()
    ) -> list[Report]:
        """One report per record, in order."""
        data = graph_of(t for r in records for t in r.triples)
        for t in neighbour_types:
            data.add(
                (rdflib.URIRef(str(t.subject)[1:-1]), RDF.type, rdflib.URIRef(str(t.object)[1:-1]))
            )
        owner: dict[str, int] = {}
        for index, record in enumerate(records):
            for subject in record.subjects():
                owner.setdefault(subject.value, index)
        reports = [Report() for _ in records]
        if not owner:
            return reports
        _, results_graph, _ = shacl_validate(
            data,
            shacl_graph=self.shapes,
            inference="none",
            allow_warnings=True,
        )
        assert isinstance(results_graph, rdflib.Graph)
        for result in results_graph.subjects(RDF.type, SH.ValidationResult):
            violation = _violation(results_graph, result)
            found = owner.get(violation.focus)
            if found is not None:
                reports[found].violations.append(violation)
                _copy_result(results_graph, result, reports[found].graph)
        return reports


def _violation(graph: rdflib.Graph, result: rdflib.term.Node) -> Violation:
    def one(predicate: rdflib.URIRef) -> str | None:
        value = graph.value(result, predicate)
        return None if value is None else str(value)

    messages: dict[str, str] = {}
    for message in graph.objects(result, SH.resultMessage):
        lang = getattr(message, "language", None) or "en"
        messages.setdefault(lang, str(message))
    severity = (one(SH.resultSeverity) or str(SH.Violation)).rsplit("#", 1)[-1]
    return Violation(
        focus=one(SH.focusNode) or "",
        path=one(SH.resultPath),
        value=one(SH.value),
        severity=severity,
        messages=messages,
    )


def _copy_result(source: rdflib.Graph, result: rdflib.term.Node, target: rdflib.Graph) -> None:
    """Copy one result into a record's own report graph (with a report node around it)."""
    report = rdflib.URIRef("urn:maillage:report")
    target.add((report, RDF.type, SH.ValidationReport))
    target.set((report, SH.conforms, rdflib.Literal(False)))
    target.add((report, SH.result, result))
    for p, o in source.predicate_objects(result):
        target.add((result, p, o))

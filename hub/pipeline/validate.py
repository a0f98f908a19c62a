"""SHACL validation of records, one batch at a time, at a cost that does not grow with the store.

The data graph is the batch itself plus the ``rdf:type`` of every node it links to (fetched from
the store): ``sh:class`` on a link can then be checked without loading the store. Results about
those neighbours (which hold nothing but a type here) are ignored.

Two engines give the same results. ``core`` (the default, :mod:`hub.shacl`) compiles the
shapes once and checks pyoxigraph terms directly, more than ten times faster; the SHACL report
graph is only built when :meth:`Report.turtle` asks for it. ``pyshacl`` is the fallback, used
when the shapes need a feature the compiled engine does not implement. With pyshacl, its
``focus_nodes`` is not used: with it, 0.40 skips the shapes nested in ``sh:or`` for value nodes
outside the focus list, so a link to a node of the wrong class would pass.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field
from itertools import chain
from pathlib import Path
from typing import Literal

import pyoxigraph as ox
import rdflib
from pyshacl import validate as shacl_validate
from pyshacl.rdfutil import stringify_node
from rdflib.namespace import RDF, SH

from hub.rdf.bridge import graph_of
from hub.rdf.resources import SHAPES_DIR
from hub.records import Record
from hub.shacl import (
    IRI,
    CompiledShapes,
    Result,
    UnsupportedShapes,
    Wording,
    compile_shapes,
    iri_node,
    report_graph,
)

log = logging.getLogger(__name__)
_logged_fallbacks: set[str] = set()
PYSHACL_WORDING = Wording(stringify_node)
"""Generic messages of the compiled engine print terms as pyshacl does: same words from both engines."""
Engine = Literal["core", "pyshacl"]


@dataclass(frozen=True)
class Violation:
    """One SHACL result, in the words a person can act on."""

    focus: str
    path: str | None
    value: str | None
    severity: str
    messages: dict[str, str]
    component: str | None = field(default=None, compare=False)
    """The IRI of the ``sh:sourceConstraintComponent``."""
    source_shape: str | None = field(default=None, compare=False)
    """The IRI of the ``sh:sourceShape`` (None for a blank node shape)."""
    detail: Result | None = field(default=None, compare=False, repr=False)
    """The compiled engine's result, from which the report graph is built."""

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
    _graph: rdflib.Graph | None = field(default=None, init=False, repr=False, compare=False)

    @property
    def graph(self) -> rdflib.Graph:
        """The SHACL validation report of this record (built on first use for the compiled engine)."""
        if self._graph is None:
            self._graph = report_graph(v.detail for v in self.violations if v.detail is not None)
        return self._graph

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
    """Validates batches of records against the hub shapes.

    ``engine="core"`` compiles the shapes; if they use a feature the compiled engine does not
    implement, the validator says so once in the log and uses pyshacl for the whole shapes graph
    (``self.engine`` then reads ``"pyshacl"``).
    """

    def __init__(self, shapes: rdflib.Graph | None = None, engine: Engine = "core") -> None:
        if engine not in ("core", "pyshacl"):
            raise ValueError(f"unknown SHACL engine {engine!r} (core or pyshacl)")
        self.shapes = shapes if shapes is not None else load_shapes()
        self.engine: Engine = engine
        self.compiled: CompiledShapes | None = None
        if engine == "core":
            try:
                self.compiled = compile_shapes(self.shapes, PYSHACL_WORDING)
            except UnsupportedShapes as exc:
                self.engine = "pyshacl"
                if str(exc) not in _logged_fallbacks:
                    _logged_fallbacks.add(str(exc))
                    log.warning("SHACL shapes validated with pyshacl (slower): %s", exc)

    def validate(
        self, records: Sequence[Record], neighbour_types: Sequence[ox.Triple] = ()
    ) -> list[Report]:
        """One report per record, in order."""
        owner: dict[str, int] = {}
        for index, record in enumerate(records):
            for subject in record.subjects():
                owner.setdefault(subject.value, index)
        reports = [Report() for _ in records]
        if not owner:
            return reports
        if self.compiled is not None:
            self._validate_core(self.compiled, records, neighbour_types, owner, reports)
        else:
            self._validate_pyshacl(records, neighbour_types, owner, reports)
        return reports

    @staticmethod
    def _validate_core(
        compiled: CompiledShapes, records: Sequence[Record], neighbour_types: Sequence[ox.Triple],
        owner: dict[str, int], reports: list[Report],
    ) -> None:
        triples = chain.from_iterable(r.triples for r in records)
        results = compiled.validate(chain(triples, neighbour_types), [iri_node(iri) for iri in owner])
        for result in results:
            found = owner.get(result.focus[1]) if result.focus[0] == IRI else None
            if found is not None:
                reports[found].violations.append(_core_violation(result))

    def _validate_pyshacl(
        self, records: Sequence[Record], neighbour_types: Sequence[ox.Triple],
        owner: dict[str, int], reports: list[Report],
    ) -> None:
        data = graph_of(t for r in records for t in r.triples)
        for t in neighbour_types:
            data.add(
                (rdflib.URIRef(str(t.subject)[1:-1]), RDF.type, rdflib.URIRef(str(t.object)[1:-1]))
            )
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
                report = reports[found]
                report.violations.append(violation)
                if report._graph is None:
                    report._graph = rdflib.Graph()
                _copy_result(results_graph, result, report._graph)
        for report in reports:
            if report._graph is None:
                report._graph = rdflib.Graph()


def _core_violation(result: Result) -> Violation:
    messages: dict[str, str] = {}
    for text, lang in result.messages:
        messages.setdefault(lang or "en", text)
    value = result.value
    return Violation(
        focus=result.focus[1],
        path=result.path,
        value=None if value is None else value[1],
        severity=result.severity.rsplit("#", 1)[-1],
        messages=messages,
        component=result.component,
        source_shape=result.shape.iri,
        detail=result,
    )


def _violation(graph: rdflib.Graph, result: rdflib.term.Node) -> Violation:
    def one(predicate: rdflib.URIRef) -> str | None:
        value = graph.value(result, predicate)
        return None if value is None else str(value)

    messages: dict[str, str] = {}
    for message in graph.objects(result, SH.resultMessage):
        lang = getattr(message, "language", None) or "en"
        messages.setdefault(lang, str(message))
    severity = (one(SH.resultSeverity) or str(SH.Violation)).rsplit("#", 1)[-1]
    shape = graph.value(result, SH.sourceShape)
    return Violation(
        focus=one(SH.focusNode) or "",
        path=one(SH.resultPath),
        value=one(SH.value),
        severity=severity,
        messages=messages,
        component=one(SH.sourceConstraintComponent),
        source_shape=str(shape) if isinstance(shape, rdflib.URIRef) else None,
    )


def _copy_result(source: rdflib.Graph, result: rdflib.term.Node, target: rdflib.Graph) -> None:
    """Copy one result into a record's own report graph (with a report node around it)."""
    report = rdflib.URIRef("urn:maillage:report")
    target.add((report, RDF.type, SH.ValidationReport))
    target.set((report, SH.conforms, rdflib.Literal(False)))
    target.add((report, SH.result, result))
    for p, o in source.predicate_objects(result):
        target.add((result, p, o))

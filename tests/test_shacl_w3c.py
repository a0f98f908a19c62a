"""The compiled SHACL engine (:mod:`hub.shacl`) against the W3C SHACL core test suite.

Every ``sht:Validate`` entry of ``tests/fixtures/shacl-w3c/core`` (vendored, see the README there)
runs here. A case the compiler accepts must give exactly the expected report: the same
``sh:conforms`` and a validation report graph isomorphic to the expected one (blank nodes
matched by structure) once ``sh:resultMessage`` is left out, as the suite allows, on the fields
focus node, result path, value, severity, source constraint component and source shape.
A case the compiler does not accept must be refused with :class:`UnsupportedShapes` naming the
feature listed in ``REFUSED`` (the same table, with reasons, is in the fixtures' README): a
refusal that changes, or a case that starts being accepted, fails here until the table is updated.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, SH, XSD

from hub.shacl import UnsupportedShapes, compile_shapes, report_graph
from hub.shacl.report import REPORT

CORE = Path(__file__).resolve().parent / "fixtures" / "shacl-w3c" / "core"
MF = rdflib.Namespace("http://www.w3.org/2001/sw/DataAccess/tests/test-manifest#")
SHT = rdflib.Namespace("http://www.w3.org/ns/shacl-test#")

_CLOSED, _NODE, _QUALIFIED = "shacl#closed (", "shacl#node (", "shacl#qualifiedMinCount ("
_SEQUENCE = "only IRI paths are implemented"
REFUSED: dict[str, str] = {
    # case (manifest folder / entry): a text the UnsupportedShapes message must contain
    "complex/personexample": _CLOSED,
    "complex/shacl-shacl": _NODE,
    "node/closed-001": _CLOSED,
    "node/closed-002": _CLOSED,
    "node/disjoint-001": "shacl#disjoint (",
    "node/equals-001": "shacl#equals (",
    "node/minInclusive-002": "'2002-10-10T12:00:00-05:00' is not a number",
    "node/minInclusive-003": "'2002-10-10T12:00:00' is not a number",
    "node/node-001": _NODE,
    "node/qualified-001": _QUALIFIED,
    "path/path-alternative-001": "shacl#alternativePath (",
    "path/path-complex-001": "shacl#zeroOrMorePath (",
    "path/path-complex-002": "shacl#inversePath (",
    "path/path-inverse-001": "shacl#inversePath (",
    "path/path-oneOrMore-001": "shacl#oneOrMorePath (",
    "path/path-sequence-001": _SEQUENCE,
    "path/path-sequence-002": _SEQUENCE,
    "path/path-sequence-duplicate-001": _SEQUENCE,
    "path/path-strange-001": "shacl#inversePath (",
    "path/path-strange-002": "shacl#inversePath (",
    "path/path-unused-001": "shacl#zeroOrOnePath (",
    "path/path-zeroOrMore-001": "shacl#zeroOrMorePath (",
    "path/path-zeroOrOne-001": "shacl#zeroOrOnePath (",
    "property/disjoint-001": "shacl#disjoint (",
    "property/equals-001": "shacl#equals (",
    "property/lessThan-001": "shacl#lessThan (",
    "property/lessThan-002": "shacl#lessThan (",
    "property/lessThanOrEquals-001": "shacl#lessThanOrEquals (",
    "property/node-001": _NODE,
    "property/node-002": _NODE,
    "property/or-datatypes-001": "sh:datatype <http://www.w3.org/1999/02/22-rdf-syntax-ns#HTML>",
    "property/qualifiedMinCountDisjoint-001": _QUALIFIED,
    "property/qualifiedValueShape-001": _QUALIFIED,
    "property/qualifiedValueShapesDisjoint-001": _QUALIFIED,
}
"""The cases the compiled engine refuses, with the feature that makes it refuse them."""

COMPARED = frozenset(
    (RDF.type, SH.focusNode, SH.resultPath, SH.value, SH.resultSeverity,
     SH.sourceConstraintComponent, SH.sourceShape)
)
IGNORED = frozenset((SH.resultMessage,))


@dataclass(frozen=True)
class Case:
    name: str
    data: Path
    shapes: Path
    manifest: rdflib.Graph
    result: rdflib.term.Node


def _parse(path: Path) -> rdflib.Graph:
    return rdflib.Graph().parse(path, format="turtle", publicID=path.as_uri())


def _local(iri: rdflib.term.Node) -> Path:
    assert isinstance(iri, rdflib.URIRef) and iri.startswith("file://"), iri
    return Path(iri.removeprefix("file://"))


def cases(path: Path = CORE / "manifest.ttl") -> list[Case]:
    """The entries of a manifest and of the manifests it includes, in file order."""
    manifest = _parse(path)
    found = []
    for head in manifest.objects(None, MF.entries):
        for entry in manifest.items(head):
            assert (entry, RDF.type, SHT.Validate) in manifest, entry
            action = manifest.value(entry, MF.action)
            data, shapes = manifest.value(action, SHT.dataGraph), manifest.value(action, SHT.shapesGraph)
            result = manifest.value(entry, MF.result)
            assert data is not None and shapes is not None and result is not None, entry
            name = f"{path.parent.name}/{str(entry).rsplit('/', 1)[-1]}"
            found.append(Case(name, _local(data), _local(shapes), manifest, result))
    for include in sorted(manifest.objects(None, MF.include), key=str):
        found.extend(cases(_local(include)))
    return found


CASES = cases()


def _term(term: rdflib.term.Node) -> rdflib.term.Node:
    """Literals as rdflib reads them from Turtle (normalized; xsd:string written plain)."""
    if not isinstance(term, rdflib.Literal):
        return term
    if term.language:
        return rdflib.Literal(str(term), lang=term.language.lower())
    if term.datatype is None or term.datatype == XSD.string:
        return rdflib.Literal(str(term))
    return rdflib.Literal(str(term), datatype=term.datatype)


def canonical(graph: rdflib.Graph, report: rdflib.term.Node, conforms: bool) -> rdflib.Graph:
    """The report reduced to what the suite compares: conformance and the compared result fields."""
    out = rdflib.Graph()
    root = rdflib.BNode()
    out.add((root, RDF.type, SH.ValidationReport))
    out.add((root, SH.conforms, rdflib.Literal(conforms)))
    for result in graph.objects(report, SH.result):
        node = rdflib.BNode()
        out.add((root, SH.result, node))
        for predicate, value in graph.predicate_objects(result):
            if predicate in IGNORED:
                continue
            assert predicate in COMPARED, f"{predicate} in a result: the comparison does not know it"
            out.add((node, predicate, _term(value)))
    return out


@cache
def triples_of(path: Path) -> tuple[ox.Triple, ...]:
    """A file's triples, read once: a case whose shapes and data are one file sees the same blank nodes."""
    return tuple(ox.parse(path=path, format=ox.RdfFormat.TURTLE, base_iri=path.as_uri()))


def _rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    assert isinstance(term, ox.Literal)
    if term.language:
        return rdflib.Literal(term.value, lang=term.language)
    return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value), normalize=False)


def shapes_graph(path: Path) -> rdflib.Graph:
    """The shapes graph with its literals as written (rdflib's parser would turn "1"^^xsd:boolean into
    "true", and ``uniqueLang-002`` is about exactly that)."""
    graph = rdflib.Graph()
    for t in triples_of(path):
        graph.add((_rdflib(t.subject), _rdflib(t.predicate), _rdflib(t.object)))
    return graph


def lines(graph: rdflib.Graph) -> str:
    return "\n".join(sorted(graph.serialize(format="nt").splitlines()))


@pytest.mark.parametrize("case", CASES, ids=[c.name for c in CASES])
def test_w3c_core(case: Case) -> None:
    shapes = shapes_graph(case.shapes)
    try:
        compiled = compile_shapes(shapes)
    except UnsupportedShapes as exc:
        assert case.name in REFUSED, f"refused but not listed in REFUSED: {exc}"
        assert REFUSED[case.name] in str(exc), str(exc)
        return
    assert case.name not in REFUSED, "accepted now: remove it from REFUSED (and the README table)"
    results = compiled.validate(triples_of(case.data), None)

    expected_conforms = case.manifest.value(case.result, SH.conforms)
    assert isinstance(expected_conforms, rdflib.Literal)
    expected = canonical(case.manifest, case.result, bool(expected_conforms.toPython()))
    ours = canonical(report_graph(results), REPORT, not results)
    assert isomorphic(ours, expected), f"ours:\n{lines(ours)}\n\nexpected:\n{lines(expected)}"


def test_every_core_entry_runs() -> None:
    """The manifests were read whole: 98 entries in the vendored suite, none lost on the way."""
    assert len(CASES) == 98
    assert set(REFUSED) <= {c.name for c in CASES}
    assert len(CASES) - len(REFUSED) == 64


def test_the_readme_table_lists_the_refused_cases() -> None:
    readme = (CORE.parent / "README.md").read_text(encoding="utf-8")
    listed = {line.split("|")[1].strip(" `") for line in readme.splitlines() if line.startswith("| `")}
    assert listed == set(REFUSED)


def test_xone_counts_a_shape_listed_twice() -> None:
    """``sh:xone (A A)``: a node conforming to A conforms to two members, one not conforming to none;
    either way exactly-one fails (the compiler used to drop the duplicate and accept the first)."""
    (case,) = (c for c in CASES if c.name == "node/xone-duplicate")
    results = compile_shapes(shapes_graph(case.shapes)).validate(triples_of(case.data), None)
    assert sorted(r.focus[1].rsplit("/", 1)[-1] for r in results) == ["i", "j"]

"""The SHACL validation report (an rdflib graph) of compiled-engine results, built on demand.

Only ``Report.turtle()`` needs it (``maillage validate --format ttl``, the quarantine), so the
validation itself never touches rdflib.
"""

from __future__ import annotations

from collections.abc import Iterable

import rdflib
from rdflib.namespace import RDF, SH

from hub.shacl.model import Result, to_rdflib

REPORT = rdflib.URIRef("urn:maillage:report")


def report_graph(results: Iterable[Result]) -> rdflib.Graph:
    """A ``sh:ValidationReport`` with one ``sh:result`` per result (an empty graph if none)."""
    graph = rdflib.Graph()
    copied: set[rdflib.term.Node] = set()
    for index, result in enumerate(results):
        if index == 0:
            for prefix, namespace in result.shape.graph.namespaces():
                graph.bind(prefix, namespace, override=False)
            graph.bind("sh", SH)
            graph.add((REPORT, RDF.type, SH.ValidationReport))
            graph.add((REPORT, SH.conforms, rdflib.Literal(False)))
        node = rdflib.BNode()
        graph.add((REPORT, SH.result, node))
        graph.add((node, RDF.type, SH.ValidationResult))
        graph.add((node, SH.focusNode, to_rdflib(result.focus)))
        if result.path is not None:
            graph.add((node, SH.resultPath, rdflib.URIRef(result.path)))
        if result.value is not None:
            graph.add((node, SH.value, to_rdflib(result.value)))
        graph.add((node, SH.resultSeverity, rdflib.URIRef(result.severity)))
        graph.add((node, SH.sourceConstraintComponent, rdflib.URIRef(result.component)))
        graph.add((node, SH.sourceShape, result.shape.node))
        _copy_description(result.shape.graph, result.shape.node, graph, copied)
        for text, language in result.messages:
            graph.add((node, SH.resultMessage, rdflib.Literal(text, lang=language)))
    return graph


def _copy_description(source: rdflib.Graph, node: rdflib.term.Node, target: rdflib.Graph,
                      copied: set[rdflib.term.Node]) -> None:
    """A blank source shape is copied with its description, as pyshacl does, so it means something."""
    if not isinstance(node, rdflib.BNode) or node in copied:
        return
    copied.add(node)
    for predicate, value in source.predicate_objects(node):
        target.add((node, predicate, value))
        _copy_description(source, value, target, copied)

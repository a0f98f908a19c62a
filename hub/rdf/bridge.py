"""Convert between pyoxigraph and rdflib terms.

rdflib is 10x to 50x slower than Oxigraph, so it is only used where only it will do: pyshacl
input and output, and JSON-LD compaction.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox
import rdflib

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def to_rdflib(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> rdflib.term.Node:
    if isinstance(term, ox.NamedNode):
        return rdflib.URIRef(term.value)
    if isinstance(term, ox.BlankNode):
        return rdflib.BNode(term.value)
    if isinstance(term, ox.Literal):
        if term.language:
            return rdflib.Literal(term.value, lang=term.language)
        if term.datatype.value == XSD_STRING:
            # rdflib keeps "x" and "x"^^xsd:string apart (RDF 1.0 style); shapes write the former
            return rdflib.Literal(term.value)
        return rdflib.Literal(term.value, datatype=rdflib.URIRef(term.datatype.value))
    raise TypeError("RDF-star triples are not supported here")


def graph_of(triples: Iterable[ox.Triple]) -> rdflib.Graph:
    graph = rdflib.Graph()
    for t in triples:
        graph.add((to_rdflib(t.subject), to_rdflib(t.predicate), to_rdflib(t.object)))
    return graph

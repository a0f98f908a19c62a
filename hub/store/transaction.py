"""One SPARQL Update request that commits a batch: the unit of crash safety.

Record graphs, their provenance, change-log entries, quarantine entries and the source cursor
are all written by the same request, which both backends apply atomically; a kill -9 leaves
either all of it or none of it.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph as ox

from hub.meta.public import is_public_graph
from hub.records import Node as Node
from hub.vocab import META_GRAPH, XSD


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def text(value: str) -> ox.Literal:
    return ox.Literal(value)


def integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def timestamp(value: datetime) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))


@dataclass
class Transaction:
    """Deletions then insertions, rendered as one update request."""

    dropped_graphs: list[str] = field(default_factory=list)
    cleared_meta_subjects: list[str] = field(default_factory=list)
    inserts: dict[str, list[ox.Triple]] = field(default_factory=dict)
    # meta statements, written as N-Triples lines at once: a batch makes about twenty per record,
    # and building term objects only to print them again cost a tenth of a harvest's commit
    meta_lines: list[str] = field(default_factory=list)

    def replace_graph(self, graph: str, triples: list[ox.Triple] | tuple[ox.Triple, ...]) -> None:
        self.dropped_graphs.append(graph)
        if triples:
            self.inserts.setdefault(graph, []).extend(triples)

    def add_graph(self, graph: str, triples: list[ox.Triple] | tuple[ox.Triple, ...]) -> None:
        """Insert into a graph known not to exist yet (no DROP needed)."""
        if triples:
            self.inserts.setdefault(graph, []).extend(triples)

    def drop_graph(self, graph: str) -> None:
        self.dropped_graphs.append(graph)

    def set_meta(self, subject: str, statements: list[tuple[str, Node]]) -> None:
        """Replace every statement about ``subject`` in the meta graph."""
        self.cleared_meta_subjects.append(subject)
        self.add_meta(subject, statements)

    def clear_meta(self, subject: str) -> None:
        self.cleared_meta_subjects.append(subject)

    def add_meta(self, subject: str, statements: list[tuple[str, Node]]) -> None:
        node = str(ox.NamedNode(subject))  # checks the IRI once
        self.meta_lines.extend(f"{node} <{p}> {o} ." for p, o in statements)

    def meta_triples(self) -> list[ox.Triple]:
        """The meta statements as triples (for tools that write them elsewhere)."""
        text = "\n".join(self.meta_lines).encode()
        return [q.triple for q in ox.parse(text, ox.RdfFormat.N_TRIPLES)]

    @property
    def empty(self) -> bool:
        return not (self.dropped_graphs or self.cleared_meta_subjects or self.inserts or self.meta_lines)

    def render(self) -> str:
        """The SPARQL Update text: drops, meta deletions, then one INSERT DATA. Every IRI goes
        through ``NamedNode``, which refuses what is not an IRI: nothing is pasted raw."""
        operations = [
            f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in dict.fromkeys(self.dropped_graphs)
        ]
        operations += [
            f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ {ox.NamedNode(s)} ?p ?o }} }}"
            for s in dict.fromkeys(self.cleared_meta_subjects)
        ]
        if self.inserts or self.meta_lines:
            blocks = []
            for graph, triples in self.inserts.items():
                body = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
                blocks.append(f"GRAPH {ox.NamedNode(graph)} {{\n{body}\n}}")
            if self.meta_lines:
                blocks.append(f"GRAPH <{META_GRAPH}> {{\n" + "\n".join(self.meta_lines) + "\n}")
            operations.append("INSERT DATA {\n" + "\n".join(blocks) + "\n}")
        return " ;\n".join(operations)

    def render_public(self) -> str:
        """The same graph operations kept to the public graphs, for the public replica
        (:mod:`hub.store.replica`): no meta graph, no contact graph. Empty when none is touched."""
        operations = [
            f"DROP SILENT GRAPH {ox.NamedNode(g)}"
            for g in dict.fromkeys(self.dropped_graphs)
            if is_public_graph(g)
        ]
        blocks = [
            f"GRAPH {ox.NamedNode(graph)} {{\n"
            + "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in triples)
            + "\n}"
            for graph, triples in self.inserts.items()
            if is_public_graph(graph)
        ]
        if blocks:
            operations.append("INSERT DATA {\n" + "\n".join(blocks) + "\n}")
        return " ;\n".join(operations)

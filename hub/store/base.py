"""The store interface every backend implements.

Everything the hub writes goes through :meth:`Store.update` with one SPARQL Update request, because
a single request is atomic on both backends: that is what lets a record graph, its provenance, its
change-log entry and the source cursor commit together (see ``hub.commit``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator, Sequence
from typing import TypeAlias

from pyoxigraph import BlankNode, Literal, NamedNode, Quad, Triple

from hub.errors import HubError
from hub.store.transaction import Transaction

Term: TypeAlias = NamedNode | BlankNode | Literal
"""A bound value; the hub does not use RDF-star, so quoted triples never appear in its rows."""
Row: TypeAlias = dict[str, Term]


class StoreError(HubError):
    """A store could not be reached or refused a request; the message says which and why."""


class Store(ABC):
    """A quad store queried with SPARQL whose default graph is the union of the named graphs."""

    @abstractmethod
    def select(self, query: str) -> list[Row]:
        """Run a SELECT query; each row maps bound variable names to terms."""

    @abstractmethod
    def ask(self, query: str) -> bool:
        """Run an ASK query."""

    @abstractmethod
    def construct(self, query: str) -> list[Triple]:
        """Run a CONSTRUCT or DESCRIBE query."""

    @abstractmethod
    def update(self, update: str) -> None:
        """Apply one SPARQL Update request atomically."""

    bulk_appends = False
    """Whether a large transaction that only adds is loaded in bulk (cheaper per statement, a
    fixed cost per commit): bulk imports then use large batches. A SPARQL server parses each
    batch as one request, and Virtuoso's parser runs out of memory on large ones."""

    def commit(self, tx: Transaction) -> None:
        """Apply a batch's transaction; a backend that keeps derived copies updates them too."""
        if not tx.empty:
            self.update(tx.render())

    def holds(self, quads: Sequence[Quad]) -> list[bool]:
        """Whether the store holds each quad (in named graphs), in order. A re-read source asks
        it of every record (is this content hash the one stored?): the embedded store answers
        from its index without SPARQL; a server gets one query per 500 quads."""
        found: set[int] = set()
        for start in range(0, len(quads), 500):
            rows = " ".join(
                f"({index} {q.subject} {q.predicate} {q.object} {q.graph_name})"
                for index, q in enumerate(quads[start : start + 500], start)
            )
            found |= {
                int(row["i"].value)
                for row in self.select(
                    f"SELECT ?i WHERE {{ VALUES (?i ?s ?p ?o ?g) {{ {rows} }} GRAPH ?g {{ ?s ?p ?o }} }}"
                )
            }
        return [index in found for index in range(len(quads))]

    def statements_about(self, graph: str, subjects: Sequence[str]) -> dict[str, list[Triple]] | None:
        """What ``graph`` says about each subject (subjects it says nothing of are left out),
        read back in the form it was written; None when the store cannot promise that form."""
        return None

    def contents(self, graphs: Sequence[str]) -> dict[str, list[Triple]] | None:
        """The triples of each graph (graphs that hold none are left out), in the form they
        were written; None when the store cannot promise that form. A server may rewrite
        literals (Virtuoso gives a dateTime's offset as ``Z``): a replacement computed as the
        difference from what it returns could miss a removal, so it is written whole."""
        return None

    @abstractmethod
    def quads(self, graph: str | None = None) -> Iterator[Quad]:
        """Every quad of one named graph, or of all named graphs."""

    def close(self) -> None:
        """Release files or connections; the default has nothing to release."""

    def __enter__(self) -> Store:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def graph_triples(self, graph: str) -> list[Triple]:
        """The triples of one named graph."""
        return [q.triple for q in self.quads(graph)]

"""The store interface every backend implements.

Everything the hub writes goes through :meth:`Store.update` with one SPARQL Update request, because
a single request is atomic on both backends: that is what lets a record graph, its provenance, its
change-log entry and the source cursor commit together (see ``hub.commit``).
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterator
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

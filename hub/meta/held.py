"""What the store holds of the graphs and bookkeeping subjects a batch is about to replace.

A commit that replaces a record graph, its provenance or a placement candidate found again
removes and writes back the statements that did not change unless it knows them: read here in
one pass per batch, they let the transaction touch only what differs (:mod:`hub.store.revisions`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from hub.store.base import Store
from hub.vocab import META_GRAPH


def held_statements(store: Store, subjects: Iterable[str]) -> dict[str, set[str]]:
    """Each subject's meta statements as ``<p> o`` texts; a subject with none maps to an empty
    set (known to hold nothing, which is not the same as not asked). Nothing at all from a
    store that does not give statements back as written (:meth:`Store.contents`)."""
    wanted = list(dict.fromkeys(subjects))
    found = store.statements_about(META_GRAPH, wanted)
    if found is None:  # not readable as written: the subjects are replaced whole
        return {}
    return {s: {f"{t.predicate} {t.object}" for t in found.get(s, ())} for s in wanted}


def held_graphs(store: Store, graphs: Iterable[str]) -> dict[str, set[str]]:
    """Each graph's triples as N-Triples lines without the final dot (an empty set: the graph
    holds nothing)."""
    wanted = list(dict.fromkeys(graphs))
    found = store.contents(wanted)
    if found is None:
        return {}
    return {g: {str(t) for t in found.get(g, ())} for g in wanted}


@dataclass
class Held:
    """A batch's reading: meta statements by subject, triples by graph (what was not asked is
    absent, and is then replaced whole)."""

    statements: dict[str, set[str]] = field(default_factory=dict)
    graphs: dict[str, set[str]] = field(default_factory=dict)
    placed: set[str] = field(default_factory=set)
    """Record graphs whose stored version said the same about where its entity is: their
    placing stays as it is (:func:`hub.pipeline.before.same_hints`)."""

    def read(self, store: Store, subjects: Iterable[str], graphs: Iterable[str]) -> None:
        """Read these too."""
        self.statements.update(held_statements(store, subjects))
        self.graphs.update(held_graphs(store, graphs))

"""The change log: one entry per committed change, numbered by a gap-free monotonic sequence.

Consumers (the ``/changes`` feed, outbound connectors, peer hubs) resume from the last sequence
they saw, so a sequence number is never reused and entries are never rewritten.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from hub.iris import change_iri
from hub.store.base import Store
from hub.store.transaction import Node, Transaction, integer, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

OPERATIONS = ("create", "update", "delete")


@dataclass(frozen=True)
class Change:
    sequence: int
    time: datetime
    entity: str | None
    graph: str
    operation: str
    source: str
    by: str | None = None
    """Who wrote the change when not the source itself (``api``); ``source`` stays the record's."""

    def as_dict(self) -> dict[str, object]:
        result: dict[str, object] = {
            "sequence": self.sequence,
            "time": self.time.isoformat(),
            "entity": self.entity,
            "graph": self.graph,
            "operation": self.operation,
            "source": self.source,
        }
        if self.by is not None:
            result["by"] = self.by
        return result


def append_change(tx: Transaction, base: str, change: Change) -> None:
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(term("Change"))),
        (term("sequence"), integer(change.sequence)),
        (PROV + "atTime", timestamp(change.time)),
        (term("graph"), iri(change.graph)),
        (term("operation"), text(change.operation)),
        (term("source"), text(change.source)),
    ]
    if change.entity is not None:
        statements.append((term("entity"), iri(change.entity)))
    if change.by is not None:
        statements.append((term("writtenBy"), text(change.by)))
    tx.add_meta(change_iri(base, change.sequence), statements)


def last_sequence(store: Store) -> int:
    rows = store.select(
        f"SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{META_GRAPH}> {{ ?c <{term('sequence')}> ?n }} }}"
    )
    return int(rows[0]["m"].value) if rows and "m" in rows[0] else 0


def read_changes(
    store: Store, since: int = 0, limit: int = 100, source: str | None = None
) -> list[Change]:
    """Entries with a sequence above ``since``, oldest first."""
    source_filter = f"FILTER(?source = {ox.Literal(source)})" if source else ""
    rows = store.select(
        f"""SELECT ?n ?t ?e ?g ?op ?source ?by WHERE {{ GRAPH <{META_GRAPH}> {{
            ?c <{term('sequence')}> ?n ; <{PROV}atTime> ?t ; <{term('graph')}> ?g ;
               <{term('operation')}> ?op ; <{term('source')}> ?source .
            OPTIONAL {{ ?c <{term('entity')}> ?e }}
            OPTIONAL {{ ?c <{term('writtenBy')}> ?by }}
            FILTER(?n > {int(since)}) {source_filter} }} }}
        ORDER BY ?n LIMIT {int(limit)}"""
    )
    return [
        Change(
            sequence=int(row["n"].value),
            time=datetime.fromisoformat(row["t"].value),
            entity=row["e"].value if "e" in row else None,
            graph=row["g"].value,
            operation=row["op"].value,
            source=row["source"].value,
            by=row["by"].value if "by" in row else None,
        )
        for row in rows
    ]

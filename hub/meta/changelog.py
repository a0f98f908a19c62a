"""The change log: one entry per committed change, numbered by a gap-free monotonic sequence.

Consumers (the ``/changes`` feed, outbound connectors, peer hubs) resume from the last sequence
they saw, so a sequence number is never reused and entries are never rewritten.

A create or update entry also keeps the record graph as it was after the change (``mlg:state``,
N-Triples), so that the feed can publish every version of an entity, unchanged for ever, while
the store itself holds only the latest one. That copy is bookkeeping: private, like the rest
of the meta graph, and published only through the feed's public view.

Each commit that logs also sets the log's last sequence (``urn:maillage:changelog``
``mlg:lastSequence``, latest-wins bookkeeping, :mod:`hub.meta.latest`), so that the next
sequence is one small query instead of a MAX over every entry, which grew with the log.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from hub.iris import change_iri
from hub.meta.latest import latest_statements
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
    source_id: str | None = None
    """The record's id in its source (peer hubs need it to know where a record started)."""
    origin: tuple[str, str, str] | None = None
    """(hub, source, source id) where a record read from a peer hub was first read."""

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


STATE = term("state")
LOG_SUBJECT = "urn:maillage:changelog"
LAST_SEQUENCE = term("lastSequence")
ORIGIN_PREDICATES = (term("originHub"), term("originSource"), term("originSourceId"))


def append_change(
    tx: Transaction, base: str, change: Change, state: Iterable[ox.Triple] | None = None
) -> None:
    """Log ``change``; ``state`` is the record graph after it (None for a deletion, or when the
    data did not change: an entry that only asks the outbound sync to look again)."""
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
    if change.source_id is not None:
        statements.append((term("sourceId"), text(change.source_id)))
    if change.origin is not None:
        statements += [(p, text(v)) for p, v in zip(ORIGIN_PREDICATES, change.origin, strict=True)]
    if state is not None:
        statements.append((STATE, text("".join(f"{t} .\n" for t in state))))
    tx.add_meta(change_iri(base, change.sequence), statements)
    tx.set_latest(
        LOG_SUBJECT,
        [(RDF_TYPE, iri(term("ChangeLog"))), (LAST_SEQUENCE, integer(change.sequence))],
        change.sequence,
    )


def last_sequence(store: Store) -> int:
    """The sequence of the newest entry (0 for an empty log)."""
    marks = latest_statements(store, LOG_SUBJECT).get(LAST_SEQUENCE)
    if marks:
        return max(int(mark.value) for mark in marks)
    # a store written before the mark existed: the one full scan, until its next commit
    rows = store.select(
        f"SELECT (MAX(?n) AS ?m) WHERE {{ GRAPH <{META_GRAPH}> {{ ?c <{term('sequence')}> ?n }} }}"
    )
    return int(rows[0]["m"].value) if rows and "m" in rows[0] else 0


def read_changes(
    store: Store, since: int = 0, limit: int = 100, source: str | None = None
) -> list[Change]:
    """Entries with a sequence above ``since``, oldest first."""
    source_filter = f"FILTER(?source = {ox.Literal(source)})" if source else ""
    hub, osrc, oid = ORIGIN_PREDICATES
    rows = store.select(
        f"""SELECT ?n ?t ?e ?g ?op ?source ?by ?id ?oh ?os ?oi WHERE {{ GRAPH <{META_GRAPH}> {{
            ?c <{term('sequence')}> ?n ; <{PROV}atTime> ?t ; <{term('graph')}> ?g ;
               <{term('operation')}> ?op ; <{term('source')}> ?source .
            OPTIONAL {{ ?c <{term('entity')}> ?e }}
            OPTIONAL {{ ?c <{term('writtenBy')}> ?by }}
            OPTIONAL {{ ?c <{term('sourceId')}> ?id }}
            OPTIONAL {{ ?c <{hub}> ?oh ; <{osrc}> ?os ; <{oid}> ?oi }}
            FILTER(?n > {int(since)}) {source_filter} }} }}
        ORDER BY ?n LIMIT {int(limit)}"""
    )
    return [_change(row) for row in rows]


def changes_numbered(store: Store, first: int, last: int) -> list[Change]:
    """Entries ``first`` to ``last`` (inclusive), oldest first: looked up by their sequence values,
    so the cost follows the number asked for, not the log's length (:func:`read_changes` filters
    every entry: a 100,000-entry log took about 0.2 s per call)."""
    if last < first:
        return []
    hub, osrc, oid = ORIGIN_PREDICATES
    values = " ".join(str(n) for n in range(int(first), int(last) + 1))
    rows = store.select(
        f"""SELECT ?n ?t ?e ?g ?op ?source ?by ?id ?oh ?os ?oi WHERE {{ VALUES ?n {{ {values} }}
            GRAPH <{META_GRAPH}> {{
            ?c <{term('sequence')}> ?n ; <{PROV}atTime> ?t ; <{term('graph')}> ?g ;
               <{term('operation')}> ?op ; <{term('source')}> ?source .
            OPTIONAL {{ ?c <{term('entity')}> ?e }}
            OPTIONAL {{ ?c <{term('writtenBy')}> ?by }}
            OPTIONAL {{ ?c <{term('sourceId')}> ?id }}
            OPTIONAL {{ ?c <{hub}> ?oh ; <{osrc}> ?os ; <{oid}> ?oi }} }} }}
        ORDER BY ?n"""
    )
    return [_change(row) for row in rows]


def _change(row: dict[str, ox.NamedNode | ox.Literal | ox.BlankNode]) -> Change:
    return Change(
        sequence=int(row["n"].value),
        time=datetime.fromisoformat(row["t"].value),
        entity=row["e"].value if "e" in row else None,
        graph=row["g"].value,
        operation=row["op"].value,
        source=row["source"].value,
        by=row["by"].value if "by" in row else None,
        source_id=row["id"].value if "id" in row else None,
        origin=(row["oh"].value, row["os"].value, row["oi"].value) if "oh" in row else None,
    )


def read_states(store: Store, sequences: Iterable[int]) -> dict[int, list[ox.Triple]]:
    """The record graph after each of these changes, for those that kept one (creates and
    updates logged since states were kept; never deletions)."""
    wanted = sorted(set(sequences))
    if not wanted:
        return {}
    values = " ".join(str(int(n)) for n in wanted)  # by sequence: the base IRI may have moved
    rows = store.select(
        f"""SELECT ?n ?state WHERE {{ GRAPH <{META_GRAPH}> {{ VALUES ?n {{ {values} }}
            ?c <{term('sequence')}> ?n ; <{STATE}> ?state }} }}"""
    )
    states: dict[int, list[ox.Triple]] = {}
    for row in rows:
        quads = ox.parse(row["state"].value.encode(), ox.RdfFormat.N_TRIPLES)
        states[int(row["n"].value)] = [q.triple for q in quads]
    return states


def entries_keeping_state(store: Store, entity: str, graphs: Iterable[str]) -> list[str]:
    """Entries that kept a copy of a record of ``entity`` (by entity, or by graph for entries
    logged before entries named their entity)."""
    values = " ".join(str(ox.NamedNode(g)) for g in dict.fromkeys(graphs))
    by_graph = f"UNION {{ VALUES ?g {{ {values} }} ?c <{term('graph')}> ?g }}" if values else ""
    rows = store.select(
        f"""SELECT DISTINCT ?c WHERE {{ GRAPH <{META_GRAPH}> {{ ?c <{STATE}> ?state .
            {{ ?c <{term('entity')}> {ox.NamedNode(entity)} }} {by_graph} }} }}"""
    )
    return [r["c"].value for r in rows]


def scrub_states(tx: Transaction, store: Store, entries: Iterable[str]) -> int:
    """Rewrite these entries without their copy of the record: the one time an entry changes
    (an erasure, :mod:`hub.pipeline.forget`). The entry itself stays, so the sequence keeps no
    gap and followers still learn what happened to which graph."""
    subjects = list(dict.fromkeys(entries))
    for start in range(0, len(subjects), 200):
        values = " ".join(str(ox.NamedNode(s)) for s in subjects[start : start + 200])
        rows = store.select(
            f"""SELECT ?c ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ VALUES ?c {{ {values} }}
                ?c ?p ?o FILTER(?p != <{STATE}>) }} }}"""
        )
        kept: dict[str, list[tuple[str, Node]]] = {}
        for row in rows:
            kept.setdefault(row["c"].value, []).append((row["p"].value, row["o"]))
        for subject, statements in kept.items():
            tx.set_meta(subject, statements)
    return len(subjects)

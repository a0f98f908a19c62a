"""PROV-O provenance of record graphs: every triple can be traced to its source and revision."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hub.records import Record, now
from hub.store.base import Store
from hub.transaction import Node, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term


def provenance_statements(record: Record, entity: str | None) -> list[tuple[str, Node]]:
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(term("Record"))),
        (RDF_TYPE, iri(PROV + "Entity")),
        (term("source"), text(record.source)),
        (term("sourceId"), text(record.source_id)),
        (term("connector"), text(record.connector)),
        (term("contentHash"), text(record.content_hash)),
        (term("retrievedAt"), timestamp(record.retrieved_at)),
        (PROV + "generatedAtTime", timestamp(now())),
    ]
    if record.revision is not None:
        statements.append((term("revision"), text(record.revision)))
    if entity is not None:
        statements.append((term("entity"), iri(entity)))
    if record.source_url is not None:
        statements.append((PROV + "hadPrimarySource", iri(record.source_url)))
    if record.origin is not None:
        hub, source, source_id = record.origin
        statements += [(term("originHub"), iri(hub)), (term("originSource"), text(source)),
                       (term("originSourceId"), text(source_id))]
    return statements


@dataclass(frozen=True)
class Stored:
    """What the meta graph says of a record graph already stored."""

    content_hash: str
    source_url: str | None


def stored_records(store: Store, graphs: Iterable[str]) -> dict[str, Stored]:
    """Content hash and primary source of each record graph already stored, by graph IRI."""
    result: dict[str, Stored] = {}
    graph_list = list(dict.fromkeys(graphs))
    for start in range(0, len(graph_list), 500):
        values = " ".join(f"<{g}>" for g in graph_list[start : start + 500])
        rows = store.select(
            f"SELECT ?g ?h ?url WHERE {{ GRAPH <{META_GRAPH}> {{ VALUES ?g {{ {values} }} "
            f"?g <{term('contentHash')}> ?h OPTIONAL {{ ?g <{PROV}hadPrimarySource> ?url }} }} }}"
        )
        for row in rows:
            url = row["url"].value if "url" in row else None
            result[row["g"].value] = Stored(row["h"].value, url)
    return result

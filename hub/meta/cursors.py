"""Source cursors: how far a source has been read, committed with the data it covers."""

from __future__ import annotations

from datetime import datetime

from hub.iris import cursor_iri
from hub.records import now
from hub.store.base import Store
from hub.store.transaction import Transaction, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term


def read_cursor(store: Store, base: str, key: str) -> str | None:
    rows = store.select(
        f"SELECT ?v WHERE {{ GRAPH <{META_GRAPH}> {{ <{cursor_iri(base, key)}> "
        f"<{term('cursorValue')}> ?v }} }}"
    )
    return rows[0]["v"].value if rows else None


def write_cursor(tx: Transaction, base: str, key: str, value: str) -> None:
    tx.set_meta(
        cursor_iri(base, key),
        [
            (RDF_TYPE, iri(term("Cursor"))),
            (term("source"), text(key)),
            (term("cursorValue"), text(value)),
            (PROV + "generatedAtTime", timestamp(now())),
        ],
    )


def cursor_times(store: Store) -> dict[str, datetime]:
    """When each cursor (by key) was last written."""
    rows = store.select(
        f"SELECT ?key ?at WHERE {{ GRAPH <{META_GRAPH}> {{ ?c <{RDF_TYPE}> <{term('Cursor')}> ; "
        f"<{term('source')}> ?key ; <{PROV}generatedAtTime> ?at }} }}"
    )
    times: dict[str, datetime] = {}
    for row in rows:
        try:
            at = datetime.fromisoformat(row["at"].value)
        except ValueError:
            continue
        key = row["key"].value
        if key not in times or at > times[key]:
            times[key] = at
    return times

"""Source cursors: how far a source has been read, committed with the data it covers.

A cursor is latest-wins bookkeeping (:mod:`hub.meta.latest`): a batch that only adds records
appends the new position as a version instead of replacing the old one, so that it can commit
through the store's bulk loader; the end of an import settles it in place.
"""

from __future__ import annotations

import threading
import time
from datetime import datetime

from hub.iris import cursor_iri
from hub.meta.latest import latest_value
from hub.records import now
from hub.store.base import Store
from hub.store.transaction import Transaction, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

_clock = threading.Lock()
_last_order = 0


def _next_order() -> int:
    """A version order that grows within the process and, through the clock, across the
    processes that write one data dir one after the other. Were the clock set back, an older
    position would win until it caught up: a source read again from there, which re-imports
    nothing (content hashes) and loses nothing."""
    global _last_order
    with _clock:
        _last_order = max(_last_order + 1, time.time_ns())
        return _last_order


def read_cursor(store: Store, base: str, key: str) -> str | None:
    value = latest_value(store, cursor_iri(base, key), term("cursorValue"))
    return value.value if value is not None else None


def write_cursor(tx: Transaction, base: str, key: str, value: str, *, settle: bool = False) -> None:
    """Move the cursor in ``tx``; ``settle`` writes it in place (see the module docstring)."""
    tx.set_latest(
        cursor_iri(base, key),
        [
            (RDF_TYPE, iri(term("Cursor"))),
            (term("source"), text(key)),
            (term("cursorValue"), text(value)),
            (PROV + "generatedAtTime", timestamp(now())),
        ],
        _next_order(),
        settle=settle,
    )


def cursor_times(store: Store) -> dict[str, datetime]:
    """When each cursor (by key) was last written (its versions carry the same statements)."""
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

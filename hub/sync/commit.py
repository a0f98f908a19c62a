"""How the sync engine commits: each batch on its own, under the API's write lock when served.

``maillage serve`` runs syncs in the API process. A whole sync may take minutes against a slow
wiki, so it must not hold the API's write lock that long: the lock is taken for each commit only
(a batch read, one entity's outbound outcome, a cursor move), which is also the unit of crash
safety, since data, cursor and sync state of a batch go in one transaction.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from contextlib import AbstractContextManager, nullcontext

import pyoxigraph as ox

from hub.pipeline.ingest import Ingestor, IngestResult
from hub.records import Cursor, MetaUpdate, Record
from hub.store.write_lock import WriteLock


class Committer:
    """Commits batches through ``ingestor``; with a ``lock``, holds it for each commit only and
    calls ``after`` (flush, so the query workers see the batch) before letting it go."""

    def __init__(
        self,
        ingestor: Ingestor,
        lock: WriteLock | None = None,
        after: Callable[[], None] | None = None,
    ) -> None:
        self.ingestor = ingestor
        self.lock = lock
        self.after = after

    def __call__(
        self,
        records: list[Record],
        cursor: Cursor | None = None,
        state: Iterable[MetaUpdate] = (),
        *,
        known_types: Mapping[str, list[ox.NamedNode]] | None = None,
    ) -> IngestResult:
        guard: AbstractContextManager[object] = self.lock if self.lock is not None else nullcontext()
        with guard:
            result = self.ingestor.ingest_batch(records, cursor, state, known_types=known_types)
            if self.after is not None:
                self.after()
        return result

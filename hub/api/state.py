"""What every request handler needs: the store, the ingest pipeline, the query runner."""

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from hub.api.query.cache import ResultCache
from hub.api.query.remote import RemoteQueryRunner
from hub.api.query.runner import QueryRunner
from hub.config import Config
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.records import Record
from hub.store.base import Store
from hub.store.write_lock import WriteLock
from hub.sync.scheduler import SyncRunner
from hub.views.observatory_counts import ObservatoryCounts


@dataclass
class HubState:
    """One per app. Writes are serialised by the ingestor; reads go to the query runner."""

    config: Config
    store: Store
    ingestor: Ingestor
    runner: QueryRunner | RemoteQueryRunner
    write_lock: WriteLock = field(default_factory=WriteLock)
    syncs: SyncRunner | None = None
    cache: ResultCache | None = None
    observatory: ObservatoryCounts | None = None
    """The observatory's figures kept from the change log (:mod:`hub.views.observatory_counts`);
    None when other writers may change the store unlogged (a shared remote store)."""
    observatory_public: ObservatoryCounts | None = None
    """The same for anonymous readers: the public graphs only."""
    grid_ready: bool = False
    """Every located entity had its grid cells when the hub started (hub.pipeline.grid); every
    write since adds them, so bounding boxes may use the index."""
    """SPARQL results by data version (:mod:`hub.api.query.cache`); None when off."""

    @property
    def generation(self) -> int:
        """Counts writes (the write lock's releases), so query workers know when their
        read-only view is stale."""
        return self.write_lock.version

    def ingest(self, records: list[Record]) -> IngestResult:
        """Commit records and flush them so that the read-only query workers see them."""
        with self.write_lock:
            return self.commit(records)

    def commit(self, records: list[Record]) -> IngestResult:
        """:meth:`ingest` for a caller that already holds ``write_lock``.

        A write that reads the current state first (PATCH, a Graph Store POST, a create that must
        not exist yet) holds the lock from that read to this commit, so no other write slips in
        between and gets overwritten.
        """
        if not self.write_lock.locked():
            raise RuntimeError("HubState.commit needs write_lock held")
        result = self.ingestor.ingest(records)
        self.after_write()
        return result

    def after_write(self) -> None:
        flush = getattr(self.store, "flush", None)  # the embedded store and its public replica
        if flush is not None:
            flush()


def hub_state(request: Request) -> HubState:
    """FastAPI dependency: the app's :class:`HubState`."""
    state: HubState = request.app.state.hub
    return state

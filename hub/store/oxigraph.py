"""Embedded Oxigraph store: on disk by default, in memory for tests and one-shot commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import cast

import pyoxigraph as ox

from hub.store.base import Row, Store, StoreError
from hub.store.replica import (
    PublicReplica,
    append_nquads,
    generation_counter,
    main_generation,
    replica_path,
)
from hub.store.transaction import Transaction

BULK_MIN_STATEMENTS = 20_000
"""From this many added statements, a transaction that only adds is loaded with the bulk loader
(N-Quads, one atomic file ingestion): about three times cheaper than SPARQL text for a batch of
2,000 new records (a file import's batch). Below, one ``Store.load`` transaction: each bulk load
writes new files and pays a fixed cost that a batch of 100 to 300 records (a sync's, an API
write) does not earn back."""


_Pattern = tuple[ox.NamedNode | None, None, None, ox.NamedNode | None]
"""A subject or a graph to match: what :meth:`OxigraphStore.contents` and ``statements_about`` ask."""

SETTLE_EVERY = 64
"""Appended commits in a row after which one goes through SPARQL. An appended commit adds a new
version of the bookkeeping overwritten at every batch (the cursor, the log's last sequence, the
commit counter: :mod:`hub.meta.latest`) and readers go over every version; a SPARQL commit
writes them in place and removes the versions. A sync of new records appends at each batch."""


def open_read_only(path: str | Path) -> ox.Store:
    """A read-only view of an on-disk store, as the query workers use it.

    It sees what the writing process had flushed when it opened; the workers reopen it after a
    write (their generation changes) and after a compaction removed a file it listed.
    """
    return ox.Store.read_only(str(path))


def scratch() -> ox.Store:
    """An in-memory store for evaluating an update on a copy, never persisted."""
    return ox.Store()


class OxigraphStore(Store):
    """pyoxigraph with the union of named graphs as the query default graph.

    Open for writing on disk, it keeps the public replica beside it (:mod:`hub.store.replica`)
    and applies each commit to both; in memory, or read-only, it has none.
    """

    def __init__(self, path: Path | None = None, *, read_only: bool = False) -> None:
        self.path = path
        self.read_only = read_only
        self._replica: PublicReplica | None = None
        self._appended = 0
        try:
            if path is None:
                self._store = ox.Store()
            elif read_only:
                self._store = ox.Store.read_only(str(path))
            else:
                path.mkdir(parents=True, exist_ok=True)
                self._store = ox.Store(str(path))
                self._generation = main_generation(self._store)
                self._replica = PublicReplica.open(
                    self._store, replica_path(path), self._generation
                )
        except OSError as exc:
            raise StoreError(f"cannot open the store in {path}: {exc}") from exc

    @property
    def bulk_appends(self) -> bool:  # type: ignore[override]
        return self._replica is not None  # on disk, open for writing

    @property
    def native(self) -> ox.Store:
        """The pyoxigraph store, for the bulk paths that SPARQL text would slow down. A write
        through it bypasses the public replica: call :meth:`rebuild_replica` after one."""
        return self._store

    def _query(self, query: str) -> object:
        try:
            return self._store.query(query, use_default_graph_as_union=True)
        except SyntaxError as exc:
            raise StoreError(f"invalid SPARQL: {exc}") from exc

    def select(self, query: str) -> list[Row]:
        solutions = cast(ox.QuerySolutions, self._query(query))
        names = [v.value for v in solutions.variables]
        rows: list[Row] = []
        for solution in solutions:
            row: Row = {}
            for name in names:
                value = solution[name]
                if value is not None and not isinstance(value, ox.Triple):
                    row[name] = value
            rows.append(row)
        return rows

    def ask(self, query: str) -> bool:
        return bool(self._query(query))

    def construct(self, query: str) -> list[ox.Triple]:
        return list(cast(ox.QueryTriples, self._query(query)))

    def commit(self, tx: Transaction) -> None:
        """The transaction on the main store with the next commit counter and, beside it on a
        second thread, its public part on the replica (:meth:`PublicReplica.begin`). One that
        only adds is added as N-Quads, atomically (:func:`append_nquads`: the bulk loader for a
        large one), except every :data:`SETTLE_EVERY`-th in a row, which goes through SPARQL."""
        if tx.empty:
            return
        appended = tx.appends_only and self._appended < SETTLE_EVERY
        bulk = appended and tx.size >= BULK_MIN_STATEMENTS
        self._appended = self._appended + 1 if appended else 0
        if self._replica is None:  # in memory: the same two ways, without the replica's counter
            self._append(tx.nquads(), bulk) if appended else self._apply(tx.render())
            return
        generation = self._generation + 1
        counter = generation_counter(generation)
        public: bytes | None = None
        if appended:
            data, public = tx.nquads_and_public()
            data += counter.nquads()
        else:
            update = tx.render() + " ;\n" + counter.render()
        replica = self._replica.begin(tx, appended=appended, bulk=bulk, public=public)
        try:
            self._append(data, bulk) if appended else self._apply(update)
        except Exception:
            # the replica may hold what the main store refused: it is copied again (an
            # interruption leaves it marked pending instead, for the next open to rebuild)
            replica.exception()  # waits for it, whatever it did
            self._replica.rebuild(self._store, self._generation, "the main store refused a commit")
            raise
        self._generation = generation
        try:
            replica.result()
            self._replica.finish(generation)
        except (OSError, SyntaxError) as exc:  # the main store has it: the replica is redone
            self._replica.rebuild(self._store, generation, f"a commit failed on it: {exc}")

    def update(self, update: str) -> None:
        """A raw update: what it touched is unknown, so the replica is copied again after it
        (no server path writes this way; tools and tests do, rarely)."""
        self._apply(update)
        if self._replica is not None:
            self.rebuild_replica("after a raw update")

    def rebuild_replica(self, why: str = "on request") -> None:
        if self._replica is not None:
            self._replica.rebuild(self._store, self._generation, why)

    def flush(self) -> None:
        """Persist both stores, so that read-only views opened next see the last commit."""
        if self.path is not None and not self.read_only:
            if self._replica is None:
                self._store.flush()
                return
            replica = self._replica.begin_flush()
            self._store.flush()
            replica.result()

    def _apply(self, update: str) -> None:
        try:
            self._store.update(update)
        except SyntaxError as exc:
            raise StoreError(f"invalid SPARQL Update: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store refused the update: {exc}") from exc

    def _append(self, data: bytes, bulk: bool) -> None:
        try:
            append_nquads(self._store, data, bulk=bulk)
        except SyntaxError as exc:
            raise StoreError(f"invalid statements in a commit: {exc}") from exc
        except OSError as exc:
            raise StoreError(f"the store refused the commit: {exc}") from exc

    def holds(self, quads: Sequence[ox.Quad]) -> list[bool]:
        return [quad in self._store for quad in quads]  # an index look-up each, a few µs

    def statements_about(self, graph: str, subjects: Sequence[str]) -> dict[str, list[ox.Triple]]:
        name = ox.NamedNode(graph)
        return self._triples_by(subjects, lambda s: (ox.NamedNode(s), None, None, name))

    def contents(self, graphs: Sequence[str]) -> dict[str, list[ox.Triple]]:
        return self._triples_by(graphs, lambda g: (None, None, None, ox.NamedNode(g)))

    def _triples_by(
        self, keys: Sequence[str], pattern: Callable[[str], _Pattern]
    ) -> dict[str, list[ox.Triple]]:
        """The triples matching ``pattern(key)``, by key (keys that match none left out)."""
        found: dict[str, list[ox.Triple]] = {}
        for key in keys:
            if triples := [q.triple for q in self._store.quads_for_pattern(*pattern(key))]:
                found[key] = triples
        return found

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        if graph is None:
            for quad in self._store.quads_for_pattern(None, None, None, None):
                if not isinstance(quad.graph_name, ox.DefaultGraph):
                    yield quad
        else:
            yield from self._store.quads_for_pattern(None, None, None, ox.NamedNode(graph))

    def close(self) -> None:
        self.flush()
        if self._replica is not None:
            self._replica.close()
            self._replica = None
        del self._store

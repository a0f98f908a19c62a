"""The public replica: a second embedded store holding exactly the public graphs.

Anonymous SPARQL must not see the bookkeeping graph nor the persons' contact graphs
(:mod:`hub.meta.public`), and pyoxigraph's union default graph cannot leave a graph out. Listing
the public graphs as an explicit dataset is correct but slow: pyoxigraph evaluates each triple
pattern once per listed graph, and a join over 2,000 record graphs took seconds instead of
milliseconds (bench/anonymous_queries.py). The replica holds the record graphs and nothing else,
so an anonymous query runs on it with the fast union default graph, and every named graph it
holds may be shown.

It is derived data. The main store stays the truth: every commit applies there first, then its
public part here (:meth:`Transaction.render_public`), in the same write-lock section. A commit
counter ties the two: the main store keeps it in the meta graph, in the same update as the data;
the replica's copy is a small file written after each replica update (not a triple: the union
default graph would show any triple the replica held, its real default graph included). When the
writer opens a data dir and the two differ, or the replica is missing or unreadable, the replica
is rebuilt from the main store: a kill -9 between the two updates costs a rebuild at the next
start, never a wrong answer.

The replica's part of a commit runs beside the main store's, on a second thread: both stores
release Python's lock while they write, so the two writes take the time of the longer one
instead of their sum (bench/run.py, figure 2). A *pending* file marks the replica while its part
is in flight: a kill -9 then may leave it holding a batch the main store never committed, and
the next open rebuilds it, as it does for a replica left behind.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pyoxigraph as ox

from hub.meta.public import is_public_graph
from hub.store.transaction import VERSION_OF, VERSION_ORDER, Transaction, integer
from hub.vocab import META_GRAPH

log = logging.getLogger("maillage.store")

GENERATION_SUBJECT = "urn:maillage:public-replica"
GENERATION_PREDICATE = "urn:maillage:generation"


def replica_path(store_path: str | Path) -> Path:
    """Where the replica of the store at ``store_path`` lives: beside it, ``store-public``."""
    path = Path(store_path)
    return path.with_name(path.name + "-public")


def _counter_file(path: Path) -> Path:
    return path.with_name(path.name + ".generation")


def append_nquads(store: ox.Store, data: bytes, *, bulk: bool) -> None:
    """Add N-Quads in one atomic step: with the bulk loader for a large batch (it writes new
    files, a fixed cost per call), else as one transaction (``Store.load``), which for a sync's
    batch of 100 new records costs about 30 % less than the same statements as SPARQL text. The
    store parses the text itself: no Python object per statement (``extend`` of parsed quads
    took a quarter more for a wiki harvest's batch of 50 pages in memory)."""
    if bulk:
        store.bulk_load(input=data, format=ox.RdfFormat.N_QUADS)
    else:
        store.load(input=data, format=ox.RdfFormat.N_QUADS)


def _pending_file(path: Path) -> Path:
    return path.with_name(path.name + ".pending")


def replica_ready(path: Path) -> bool:
    """Whether a replica is there to be read: its counter file is written once it is complete
    (and removed while it is rebuilt)."""
    return _counter_file(path).is_file() and path.is_dir()


def main_generation(main: ox.Store) -> int:
    """The commit counter of the main store (0 before the first counted commit): its value, or
    the highest of the versions appended since (:meth:`Transaction.set_latest`)."""
    meta = ox.NamedNode(META_GRAPH)
    found = 0
    for quad in main.quads_for_pattern(
        ox.NamedNode(GENERATION_SUBJECT), ox.NamedNode(GENERATION_PREDICATE), None, meta
    ):
        try:
            found = max(found, int(quad.object.value) if isinstance(quad.object, ox.Literal) else -1)
        except ValueError:
            return -1  # unreadable: differs from any replica's, which forces a rebuild
    for version in main.quads_for_pattern(
        None, ox.NamedNode(VERSION_OF), ox.NamedNode(GENERATION_SUBJECT), meta
    ):
        for quad in main.quads_for_pattern(version.subject, ox.NamedNode(VERSION_ORDER), None, meta):
            try:
                found = max(found, int(quad.object.value) if isinstance(quad.object, ox.Literal) else -1)
            except ValueError:
                return -1
    return found


def generation_counter(generation: int) -> Transaction:
    """The statement that sets the main store's counter, committed with each transaction (in
    place in a SPARQL commit, as a new version in an appending one)."""
    counter = Transaction()
    counter.set_latest(
        GENERATION_SUBJECT, [(GENERATION_PREDICATE, integer(generation))], generation
    )
    return counter


REBUILD_CHUNK_BYTES = 64 * 1024 * 1024
"""N-Quads handed to one ``bulk_load`` while rebuilding: bounds the memory of a large copy."""


def _public_nquads(main: ox.Store, graphs: set[str]) -> Iterator[bytes]:
    """The main store's public graphs as N-Quads, in chunks, written by the store itself.

    Each public graph is dumped natively (N-Triples) and named by a byte replacement: N-Triples
    escapes line breaks inside literals, so " .\n" only ends a statement. Going quad by quad
    through Python objects instead took 12 s of a 16 s rebuild (bench/run.py's breakdown); the
    graph list comes from the names alone, so a private graph is never read.
    """
    chunk: list[bytes] = []
    size = 0
    for name in main.named_graphs():
        if not isinstance(name, ox.NamedNode) or not is_public_graph(name.value):
            continue
        triples = main.dump(format=ox.RdfFormat.N_TRIPLES, from_graph=name)
        if not triples:
            continue
        graphs.add(name.value)
        chunk.append(triples.replace(b" .\n", f" {name} .\n".encode()))
        size += len(chunk[-1])
        if size >= REBUILD_CHUNK_BYTES:
            yield b"".join(chunk)
            chunk, size = [], 0
    if chunk:
        yield b"".join(chunk)


class PublicReplica:
    """The replica store of one on-disk main store, open for writing by the same process."""

    def __init__(self, store: ox.Store, path: Path) -> None:
        self.store = store
        self.path = path
        self._writer: ThreadPoolExecutor | None = None

    @classmethod
    def open(cls, main: ox.Store, path: Path, generation: int) -> PublicReplica:
        """Open the replica beside a main store at ``generation``, rebuilt if it is not that
        generation's (missing, left behind by a crash, unreadable)."""
        counter = _counter_file(path)
        try:
            recorded: int | None = int(counter.read_text(encoding="ascii").strip())
        except (OSError, ValueError):
            recorded = None
        stale = recorded != generation or not path.is_dir() or _pending_file(path).exists()
        if stale:
            counter.unlink(missing_ok=True)
            shutil.rmtree(path, ignore_errors=True)  # no reader has it open before the writer
        try:
            store = ox.Store(str(path))
        except OSError:  # damaged files: it is derived data, start it again
            shutil.rmtree(path, ignore_errors=True)
            store = ox.Store(str(path))
            stale = True
        replica = cls(store, path)
        if stale:
            replica.rebuild(main, generation, "it was missing or behind the main store")
        return replica

    def begin(
        self, tx: Transaction, *, appended: bool = False, bulk: bool = False,
        public: bytes | None = None,
    ) -> Future[None]:
        """Start the public part of a commit on the replica's writer thread, beside the main
        store's; :meth:`finish` (or :meth:`rebuild`, if the main store refused it) follows.
        ``appended``: the main store adds the commit as N-Quads (``bulk``: with the bulk loader),
        and so does the replica (``public``: that part's N-Quads when the caller built them with
        the main store's). The text is built here, in the caller's thread."""
        data = (tx.public_nquads() if public is None else public) if appended else None
        update = None if appended else tx.render_public()
        _pending_file(self.path).touch()
        if not (data or update):
            done: Future[None] = Future()
            done.set_result(None)
            return done
        return self._submit(self._write, data, update, bulk)

    def _write(self, data: bytes | None, update: str | None, bulk: bool) -> None:
        """The replica's own work, on its writer thread."""
        if data:
            append_nquads(self.store, data, bulk=bulk)
        elif update:
            self.store.update(update)

    def finish(self, generation: int) -> None:
        """Both stores hold the commit: the replica is ``generation``'s."""
        self._record(generation)

    def rebuild(self, main: ox.Store, generation: int, why: str) -> None:
        """Copy the main store's public graphs again; the counter file is gone meanwhile, so a
        crash halfway leaves a replica the next start rebuilds and readers do not use."""
        _counter_file(self.path).unlink(missing_ok=True)
        self.store.clear()
        graphs: set[str] = set()
        for data in _public_nquads(main, graphs):
            self.store.bulk_load(input=data, format=ox.RdfFormat.N_QUADS)
        self.store.flush()
        self._record(generation)
        level = logging.WARNING if graphs else logging.INFO  # an empty one is a new data dir
        log.log(level, "rebuilt the public replica (%s): %d public graphs copied", why, len(graphs))

    def _record(self, generation: int) -> None:
        counter = _counter_file(self.path)
        temporary = counter.with_name(counter.name + ".tmp")
        temporary.write_text(f"{generation}\n", encoding="ascii")
        os.replace(temporary, counter)
        _pending_file(self.path).unlink(missing_ok=True)

    def begin_flush(self) -> Future[None]:
        """Persist the replica on its writer thread, while the main store persists its own."""
        return self._submit(self.store.flush)

    def _submit(self, work: Callable[..., None], *args: object) -> Future[None]:
        """``work`` on the replica's writer thread, started at its first use."""
        if self._writer is None:
            self._writer = ThreadPoolExecutor(1, thread_name_prefix="maillage-replica")
        return self._writer.submit(work, *args)

    def close(self) -> None:
        if self._writer is not None:
            self._writer.shutdown()
            self._writer = None
        self.store.flush()
        del self.store

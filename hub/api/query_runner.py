"""SPARQL queries in worker processes that can be killed at the deadline.

pyoxigraph cannot interrupt a running query from Python, so a query that must respect a timeout
runs in a child process which opens the store read-only (seeing every write flushed before it
opened) and writes its serialised results to a temporary file. The parent kills the child at the
deadline, or when the file grows past the size limit, and streams the file back otherwise: memory
does not grow with the size of the result.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import tempfile
import threading
import time
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path

import pyoxigraph as ox


class QueryTimeout(Exception):
    """The query ran past the configured time limit and was stopped."""


class QueryTooLarge(Exception):
    """The serialised result grew past the configured size limit."""


class QueryFailed(Exception):
    """The store refused the query (syntax, unsupported feature...); the message says why."""


@dataclass(frozen=True)
class QueryJob:
    query: str
    result_format: str  # a media type pyoxigraph knows
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    generation: int = 0  # bumped by every write: a worker reopens its view when it changes


READ_RACE_ATTEMPTS = 8


def _execute(store_path: str, job: QueryJob, output: str) -> None:
    """Run a job, retrying when the writer compacted away a file this read-only view opened.

    A read-only RocksDB view lists the files of the store when it opens; a compaction in the
    live writer may delete one of them before the query reads it ("No such file"). Nothing has
    been sent yet, so opening a fresh view and running the query again is safe.
    """
    for attempt in range(READ_RACE_ATTEMPTS):
        try:
            _execute_once(_view(store_path, job.generation, fresh=attempt > 0), job, output)
            return
        except (RuntimeError, OSError) as exc:
            if "No such file" not in str(exc) or attempt == READ_RACE_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


_VIEW: dict[str, object] = {}


def _view(store_path: str, generation: int, fresh: bool) -> ox.Store:
    """This worker's read-only view, reopened (about 10 ms) only after a write or a read race."""
    if fresh or _VIEW.get("generation") != generation or "store" not in _VIEW:
        _VIEW.clear()
        _VIEW.update(generation=generation, store=ox.Store.read_only(store_path))
    store = _VIEW["store"]
    assert isinstance(store, ox.Store)
    return store


def _execute_once(store: ox.Store, job: QueryJob, output: str) -> None:
    kwargs: dict[str, object] = {}
    if job.default_graphs:
        kwargs["default_graph"] = [ox.NamedNode(g) for g in job.default_graphs]
    else:
        kwargs["use_default_graph_as_union"] = True
    if job.named_graphs:
        kwargs["named_graphs"] = [ox.NamedNode(g) for g in job.named_graphs]
    result = store.query(job.query, **kwargs)  # type: ignore[arg-type]
    with open(output, "wb") as out:
        if isinstance(result, ox.QueryTriples):
            rdf_format = ox.RdfFormat.from_media_type(job.result_format) or ox.RdfFormat.TURTLE
            if rdf_format.supports_datasets:
                quads = (ox.Quad(t.subject, t.predicate, t.object) for t in result)
                ox.serialize(quads, out, rdf_format)
            else:
                result.serialize(out, rdf_format)
        else:
            results_format = (
                ox.QueryResultsFormat.from_media_type(job.result_format)
                or ox.QueryResultsFormat.JSON
            )
            result.serialize(out, results_format)


def _worker(store_path: str, conn: Connection) -> None:
    """Child process loop: one job in, ("ok", path) or ("error", message) out."""
    while True:
        try:
            job, output = conn.recv()
        except EOFError:
            return
        try:
            _execute(store_path, job, output)
            conn.send(("ok", output))
        except SyntaxError as exc:
            conn.send(("error", f"invalid SPARQL query: {exc}"))
        except Exception as exc:  # reported to the client as a 400, the worker lives on
            conn.send(("error", f"{type(exc).__name__}: {exc}"))


class _Worker:
    def __init__(self, context: mp.context.SpawnContext, store_path: str) -> None:
        self.conn, child = context.Pipe()
        self.process: SpawnProcess = context.Process(
            target=_worker, args=(store_path, child), daemon=True
        )
        self.process.start()
        child.close()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class QueryRunner:
    """A small pool of query processes over an on-disk Oxigraph store."""

    def __init__(
        self, store_path: Path, workers: int, timeout: float, max_bytes: int, spool_dir: Path
    ) -> None:
        self.store_path = str(store_path)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.spool_dir = spool_dir
        spool_dir.mkdir(parents=True, exist_ok=True)
        self._context = mp.get_context("spawn")
        self._idle: list[_Worker] = [
            _Worker(self._context, self.store_path) for _ in range(max(1, workers))
        ]
        self._lock = threading.Lock()
        self._available = threading.Semaphore(len(self._idle))

    def run(self, job: QueryJob) -> Path:
        """Run a query; the caller streams then deletes the returned file."""
        self._available.acquire()
        with self._lock:
            worker = self._idle.pop()
        fd, name = tempfile.mkstemp(prefix="query-", dir=self.spool_dir)
        os.close(fd)
        output = Path(name)
        healthy = True
        try:
            worker.conn.send((job, name))
            deadline = time.monotonic() + self.timeout
            while not worker.conn.poll(0.05):
                if time.monotonic() > deadline:
                    healthy = False
                    raise QueryTimeout(
                        f"the query ran for more than {self.timeout:g} s and was stopped; "
                        "add a LIMIT or narrow the patterns"
                    )
                if output.stat().st_size > self.max_bytes:
                    healthy = False
                    raise QueryTooLarge(
                        f"the result is larger than {self.max_bytes:,} bytes; add a LIMIT or "
                        "page with OFFSET"
                    )
                if not worker.process.is_alive():
                    healthy = False
                    raise QueryFailed("the query process died")
            status, detail = worker.conn.recv()
            if status != "ok":
                raise QueryFailed(detail)
            if output.stat().st_size > self.max_bytes:
                raise QueryTooLarge(
                    f"the result is larger than {self.max_bytes:,} bytes; add a LIMIT"
                )
            return output
        except BaseException:
            output.unlink(missing_ok=True)
            raise
        finally:
            if not healthy:
                worker.stop()
                worker = _Worker(self._context, self.store_path)
            with self._lock:
                self._idle.append(worker)
            self._available.release()

    def close(self) -> None:
        with self._lock:
            for worker in self._idle:
                worker.stop()
            self._idle.clear()

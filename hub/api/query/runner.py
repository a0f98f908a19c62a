"""SPARQL queries in worker processes that can be killed at the deadline, supervised.

pyoxigraph cannot interrupt a running query from Python, so a query that must respect a timeout
runs in a child process which opens the store read-only (seeing every write flushed before it
opened) and writes its serialised results to a temporary file. The parent kills the child at the
deadline, or when the file grows past the size limit, and streams the file back otherwise: memory
does not grow with the size of the result.

A worker can also die under a query: the engine's recursive parser overflows its stack on deeply
nested text (SIGSEGV), and the memory cap set in each worker stops a runaway sort (SIGABRT from the
allocator, or MemoryError). The pool replaces any worker found dead, when a job is handed to it or
when it dies during one, and reports the death as an error of that query only.
"""

from __future__ import annotations

import multiprocessing as mp
import os
import resource
import signal
import sys
import tempfile
import threading
import time
import traceback
from collections import deque
from dataclasses import dataclass
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess
from pathlib import Path

import pyoxigraph as ox

from hub.api.query import sandbox
from hub.api.query.admission import Admission, QueryUnavailable
from hub.api.query.dataset import public_options, query_dataset
from hub.api.query.depth import MAX_NESTING, too_deep
from hub.api.query.safety import ForbiddenService, check_query
from hub.errors import QueryError
from hub.store.oxigraph import open_read_only
from hub.store.replica import replica_path, replica_ready


class QueryTimeout(QueryError):
    """The query ran past the configured time limit and was stopped."""


class QueryTooLarge(QueryError):
    """The serialised result grew past the configured size limit."""


class QueryFailed(QueryError):
    """The store refused the query (syntax, unsupported feature...); the message says why."""


class QueryTooComplex(QueryFailed):
    """The query nests too deeply, or killed the engine that parsed or ran it: the client's fault."""


class QueryOutOfMemory(QueryUnavailable):
    """The query needed more memory than a worker may use, and its worker was stopped."""


class QueryInterrupted(QueryUnavailable):
    """The worker running the query was stopped from outside (a signal, the system's OOM killer)."""


@dataclass(frozen=True)
class QueryJob:
    query: str
    result_format: str  # a media type pyoxigraph knows
    default_graphs: tuple[str, ...] = ()
    named_graphs: tuple[str, ...] = ()
    generation: int = 0  # bumped by every write: a worker reopens its view when it changes
    base_iri: str | None = None  # relative IRIs resolve against it (the endpoint's URL)
    public: bool = True  # anonymous: the public graphs only (hub.api.query.dataset)


READ_RACE_ATTEMPTS = 8
WORKER_NICENESS = 10
"""Queries yield the CPU to the server process: /health, the change feed and writes stay quick
while every worker is busy (bench/query_load.py)."""


def _execute(store_path: str, job: QueryJob, output: str) -> None:
    """Run a job, retrying when the writer compacted away a file this read-only view opened.

    A read-only RocksDB view lists the files of the store when it opens; a compaction in the
    live writer may delete one of them before the query reads it ("No such file"). Nothing has
    been sent yet, so opening a fresh view and running the query again is safe.

    An anonymous job reads the public replica (:mod:`hub.store.replica`) when there is one; the
    operator's, the main store.
    """
    replica = replica_path(store_path) if job.public else None
    path = str(replica) if replica is not None and replica_ready(replica) else store_path
    for attempt in range(READ_RACE_ATTEMPTS):
        try:
            store = _view(path, job.generation, fresh=attempt > 0)
            _execute_once(store, job, output, on_replica=path != store_path)
            return
        except (RuntimeError, OSError) as exc:
            if "No such file" not in str(exc) or attempt == READ_RACE_ATTEMPTS - 1:
                raise
            time.sleep(0.01 * (attempt + 1))


_VIEWS: dict[str, dict[str, object]] = {}
"""This worker's read-only views by path (the main store, its public replica), each with the
generation it was opened at."""


def _view(store_path: str, generation: int, fresh: bool) -> ox.Store:
    """This worker's read-only view, reopened (about 10 ms) only after a write or a read race."""
    view = _VIEWS.setdefault(store_path, {})
    if fresh or view.get("generation") != generation or "store" not in view:
        view.clear()
        view.update(generation=generation, store=open_read_only(store_path))
    store = view["store"]
    assert isinstance(store, ox.Store)
    return store


def _graphs(store: ox.Store) -> list[str]:
    """Every named graph of this worker's view, listed once per generation."""
    view = next(v for v in _VIEWS.values() if v.get("store") is store)
    if "graphs" not in view:
        view["graphs"] = [g.value for g in store.named_graphs() if isinstance(g, ox.NamedNode)]
    graphs = view["graphs"]
    assert isinstance(graphs, list)
    return graphs


def _execute_once(store: ox.Store, job: QueryJob, output: str, on_replica: bool = False) -> None:
    kwargs: dict[str, object] = {"base_iri": job.base_iri}
    if job.public:
        graphs = None if on_replica else _graphs(store)
        kwargs.update(public_options(job.query, job.default_graphs, job.named_graphs, graphs))
    else:
        default, named = list(job.default_graphs), list(job.named_graphs)
        if not default and not named:
            # the union option would override the query's own FROM/FROM NAMED: pass them on
            default, named = query_dataset(job.query) or ([], [])
        if default:
            kwargs["default_graph"] = [ox.NamedNode(g) for g in default]
        elif not named:
            kwargs["use_default_graph_as_union"] = True
        if named:
            kwargs["named_graphs"] = [ox.NamedNode(g) for g in named]
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


def _limit_memory(memory_mb: int) -> None:
    """Cap this worker's data segment (heap and anonymous maps): a runaway sort stops here."""
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_DATA, (limit, limit))


SERVICE_FAILED = (
    "a SERVICE call failed: the endpoint could not be reached or its answer could not be read"
)


def _failure(exc: Exception, query: str) -> str:
    """What the client is told: the engine's own words, never Python's class names or paths.

    Nor a remote endpoint's words: a failed SERVICE call's error may quote the body it received
    (an internal page) or tell a closed port from an open one, so any failure of a query that
    calls out gets one message.
    """
    if isinstance(exc, SyntaxError):
        return f"invalid SPARQL query: {exc}"
    if "service" in query.lower():
        return SERVICE_FAILED
    if isinstance(exc, OSError) and (exc.errno is not None or exc.filename is not None):
        return "the store could not be read for this query; try again"  # a local file error
    if isinstance(exc, ValueError | RuntimeError | OSError) and str(exc):
        return f"the query failed: {exc}"  # the engine's message (evaluation, SERVICE, IRIs)
    return "the query failed in the engine"


def _worker(store_path: str, conn: Connection, memory_mb: int, allowlist: tuple[str, ...]) -> None:
    """Child process loop: one job in, ("ok", path), ("error", message) or ("memory", "") out."""
    sandbox.confine(allowlist)  # first, before any SPARQL is parsed
    sys.setrecursionlimit(20_000)  # rdflib's parser (check_query) recurses per triple pattern
    _limit_memory(memory_mb)
    os.nice(WORKER_NICENESS)
    while True:
        try:
            job, output = conn.recv()
        except EOFError:
            return
        try:
            check_query(job.query, allowlist, confined=sandbox.CONFINED)
            _execute(store_path, job, output)
            reply = ("ok", output)
        except ForbiddenService as exc:
            reply = ("error", str(exc))
        except MemoryError:
            reply = ("memory", "")
        except Exception as exc:  # reported to the client as a 400, the worker lives on
            if not isinstance(exc, SyntaxError | ValueError | RuntimeError | OSError):
                traceback.print_exc(file=sys.stderr)  # for the operator, in the server's log
            reply = ("error", _failure(exc, job.query))
        conn.send(reply)
        if reply[0] == "memory":
            return  # a heap that hit the cap is not worth keeping: the pool starts a fresh worker


class _Worker:
    def __init__(
        self,
        context: mp.context.SpawnContext,
        store_path: str,
        memory_mb: int,
        allowlist: tuple[str, ...],
    ) -> None:
        self.conn, child = context.Pipe()
        self.process: SpawnProcess = context.Process(
            target=_worker, args=(store_path, child, memory_mb, allowlist), daemon=True
        )
        self.process.start()
        child.close()

    def alive(self) -> bool:
        return self.process.is_alive()

    def stop(self) -> None:
        if self.process.is_alive():
            self.process.kill()
        self.process.join(5)
        self.conn.close()


class _Died(Exception):
    """The worker process ended while it had our job."""


class QueryRunner:
    """A small supervised pool of query processes over an on-disk Oxigraph store."""

    def __init__(
        self,
        store_path: Path,
        workers: int,
        timeout: float,
        max_bytes: int,
        spool_dir: Path,
        queue: int = 32,
        memory_mb: int = 1024,
        service_allowlist: tuple[str, ...] = (),
    ) -> None:
        self.store_path = str(store_path)
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.spool_dir = spool_dir
        self.memory_mb = memory_mb
        self.service_allowlist = tuple(service_allowlist)
        spool_dir.mkdir(parents=True, exist_ok=True)
        self._context = mp.get_context("spawn")
        # Last in, first out: a lone reader keeps one worker and so one view of the store. Going
        # round the workers made each reopen its view at each write, at different moments, and a
        # reader could then see a count go back (tests/test_api_consistency.py). A worker that
        # died idle is still found: _take checks it.
        self._idle: deque[_Worker] = deque(self._spawn() for _ in range(max(1, workers)))
        self._lock = threading.Lock()
        self.admission = Admission(len(self._idle), queue, timeout, "query")

    async def submit(self, job: QueryJob) -> Path:
        """Run a query from async code, waiting (on no thread) for a worker; stream, then delete."""
        return await self.admission.run(
            lambda deadline: self._run(job, deadline), lambda path: path.unlink(missing_ok=True)
        )

    def run(self, job: QueryJob) -> Path:
        """:meth:`submit` for a caller on a thread of its own; it blocks that thread while queued."""
        return self.admission.run_blocking(lambda deadline: self._run(job, deadline))

    def _spawn(self) -> _Worker:
        return _Worker(self._context, self.store_path, self.memory_mb, self.service_allowlist)

    def _take(self) -> _Worker:
        """An idle worker, alive: a worker that died while idle (killed, OOM) is replaced here."""
        with self._lock:
            dead = [w for w in self._idle if not w.alive()]
            for corpse in dead:  # killed while idle (OOM killer, an operator): keep the pool whole
                self._idle.remove(corpse)
        for corpse in dead:
            corpse.stop()
        fresh = [self._spawn() for _ in dead]
        with self._lock:
            self._idle.extendleft(fresh)
            worker = self._idle.pop()
        if not worker.alive():
            worker.stop()
            worker = self._spawn()
        return worker

    def _run(self, job: QueryJob, deadline: float) -> Path:
        if too_deep(job.query):
            raise QueryTooComplex(
                f"the query nests brackets more than {MAX_NESTING} levels deep; simplify it"
            )
        fd, name = tempfile.mkstemp(prefix="query-", dir=self.spool_dir)
        os.close(fd)
        output = Path(name)
        worker = self._take()
        healthy = False
        try:
            try:
                worker.conn.send((job, name))
            except OSError:  # died between the check and the send: nothing ran, try a fresh one
                worker.stop()
                worker = self._spawn()
                try:
                    worker.conn.send((job, name))
                except OSError as exc:
                    raise _Died() from exc
            status, detail = self._wait(worker, output, deadline)
            healthy = True
            if status == "memory":
                healthy = False
                raise self._out_of_memory()
            if status != "ok":
                raise QueryFailed(detail)
            if output.stat().st_size > self.max_bytes:
                raise QueryTooLarge(
                    f"the result is larger than {self.max_bytes:,} bytes; add a LIMIT"
                )
            return output
        except _Died:
            output.unlink(missing_ok=True)
            raise self._death(worker) from None
        except BaseException:
            output.unlink(missing_ok=True)
            raise
        finally:
            if not healthy:
                worker.stop()
                worker = self._spawn()
            with self._lock:
                self._idle.append(worker)

    def _wait(self, worker: _Worker, output: Path, deadline: float) -> tuple[str, str]:
        """The worker's reply; raises at the deadline, past the size limit or if it dies."""
        try:
            while not worker.conn.poll(0.05):
                if time.monotonic() > deadline:
                    raise QueryTimeout(
                        f"the query ran for more than {self.timeout:g} s (time waiting for a free "
                        "worker included) and was stopped; add a LIMIT or narrow the patterns"
                    )
                if output.stat().st_size > self.max_bytes:
                    raise QueryTooLarge(
                        f"the result is larger than {self.max_bytes:,} bytes; add a LIMIT or "
                        "page with OFFSET"
                    )
                if not worker.alive():
                    raise _Died()
            status, detail = worker.conn.recv()
        except (EOFError, OSError) as exc:  # the pipe closed: the process is gone
            raise _Died() from exc
        return str(status), str(detail)

    def _death(self, worker: _Worker) -> QueryFailed | QueryUnavailable:
        """Why the worker died under this query, as the error its client gets."""
        worker.process.join(1)
        code = worker.process.exitcode
        if code == -signal.SIGABRT:  # the allocator gives up under the memory cap
            return self._out_of_memory()
        if code in (-signal.SIGSEGV, -signal.SIGBUS):  # the parser's recursion ran off the stack
            return QueryTooComplex(
                "the query is too deeply nested or too complex for the engine; simplify it"
            )
        return QueryInterrupted(
            "the query process was stopped before the query finished; try again",
            max(1, round(self.timeout)),
        )

    def _out_of_memory(self) -> QueryOutOfMemory:
        return QueryOutOfMemory(
            f"the query needed more than the {self.memory_mb:,} MB of memory a query may use and "
            "was stopped; add a LIMIT, narrow the patterns or sort fewer rows",
            max(1, round(self.timeout)),
        )

    def close(self) -> None:
        self.admission.close()
        with self._lock:
            for worker in self._idle:
                worker.stop()
            self._idle.clear()

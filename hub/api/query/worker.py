"""The inside of a query worker process: confine it, open read-only views, run jobs.

This code runs in the child processes of :class:`hub.api.query.runner.QueryRunner` (spawned, so
it imports nothing of the server's state): each job is checked (``SERVICE`` allow-list), run on
the worker's view of the store (or of its public replica, for anonymous jobs), and its results
serialised to the spool file the parent named. The reply says how it went.
"""

from __future__ import annotations

import ctypes
import os
import resource
import signal
import sys
import time
import traceback
from dataclasses import dataclass
from multiprocessing.connection import Connection

import pyoxigraph as ox

from hub.api.query import sandbox
from hub.api.query.dataset import public_options, query_dataset
from hub.api.query.safety import ForbiddenService, check_query
from hub.store.oxigraph import open_read_only
from hub.store.replica import replica_path, replica_ready


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


def _worker(
    store_path: str, conn: Connection, memory_mb: int, allowlist: tuple[str, ...], parent: int
) -> None:
    """Child process loop: one job in, ("ok", path), ("error", message) or ("memory", "") out."""
    # dies with the server, even one killed outright: a worker left behind would run its query on
    # and on, nobody there to stop it at the deadline
    ctypes.CDLL(None).prctl(sandbox.PR_SET_PDEATHSIG, signal.SIGKILL)
    if os.getppid() != parent:
        return  # the server went before the line above took effect
    sandbox.confine(allowlist)  # first, before any SPARQL is parsed
    sys.setrecursionlimit(20_000)  # rdflib's parser (check_query) recurses per triple pattern
    _limit_memory(memory_mb)
    os.nice(WORKER_NICENESS)
    conn.send(("ready", ""))
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

"""SPARQL Update evaluated in a confined process that is killed at the deadline.

An update is evaluated on a scratch copy of the graphs it writes and reads
(:mod:`hub.pipeline.sparql_update`) before anything is validated and committed. That evaluation
used to run in the server process while it held the write lock, with no time limit: one slow
update blocked every write for as long as it ran, and a ``SERVICE`` in its ``WHERE`` was called
from the server itself. Here it runs in a child process confined like the query workers
(:mod:`hub.api.query.sandbox`), with the same time limit and
memory cap; past them the child is killed and replaced, and the caller gets a clear error.
"""

from __future__ import annotations

import multiprocessing as mp
import resource
import sys
import threading
from collections.abc import Sequence
from multiprocessing.connection import Connection
from multiprocessing.context import SpawnProcess

import pyoxigraph as ox

from hub.api.query import sandbox
from hub.api.query.safety import ForbiddenService, check_update
from hub.errors import QueryError
from hub.pipeline.sparql_update import UpdateRefused
from hub.store.oxigraph import scratch as new_scratch


class UpdateTimeout(QueryError):
    """The update ran past the time limit and was stopped; nothing was written."""


def _evaluate(update: str, nquads: bytes, base_iri: str | None) -> bytes:
    scratch = new_scratch()
    if nquads:
        scratch.load(nquads, ox.RdfFormat.N_QUADS)
    scratch.update(update, base_iri=base_iri)
    return ox.serialize(scratch, format=ox.RdfFormat.N_QUADS) or b""


def _child(allowlist: tuple[str, ...], memory_mb: int, conn: Connection) -> None:
    sandbox.confine(allowlist)
    sys.setrecursionlimit(20_000)  # rdflib's parser recurses per triple; a crash here is contained
    if memory_mb > 0:
        limit = memory_mb * 1024 * 1024
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))
    while True:
        try:
            update, nquads, base_iri = conn.recv()
        except EOFError:
            return
        try:
            check_update(update, allowlist, confined=sandbox.CONFINED)
            conn.send(("ok", _evaluate(update, nquads, base_iri)))
        except ForbiddenService as exc:
            conn.send(("error", str(exc)))
        except SyntaxError as exc:
            conn.send(("error", f"invalid SPARQL Update: {exc}"))
        except MemoryError:
            conn.send(("error", f"the update needs more than {memory_mb} MB; narrow it"))
        except Exception:  # a failed SERVICE call, a DROP of a missing graph...: never echo why
            conn.send(("error", "the update could not be applied to the graphs it names"))


class UpdateRunner:
    """One confined child process, used by one update at a time (the caller holds the lock)."""

    def __init__(self, allowlist: Sequence[str], timeout: float, memory_mb: int = 1024) -> None:
        self.allowlist = tuple(allowlist)
        self.timeout = timeout
        self.memory_mb = memory_mb
        self._context = mp.get_context("spawn")
        self._lock = threading.Lock()
        self._process: SpawnProcess | None = None
        self._conn: Connection | None = None

    def _start(self) -> Connection:
        if self._process is not None and self._process.is_alive() and self._conn is not None:
            return self._conn
        self._stop()
        ours, theirs = self._context.Pipe()
        self._process = self._context.Process(
            target=_child, args=(self.allowlist, self.memory_mb, theirs), daemon=True
        )
        self._process.start()
        theirs.close()
        self._conn = ours
        return ours

    def evaluate(self, update: str, quads: list[ox.Quad], base_iri: str | None = None) -> list[ox.Quad]:
        """The quads after the update, or :class:`UpdateRefused`/:class:`UpdateTimeout`."""
        nquads = ox.serialize(quads, format=ox.RdfFormat.N_QUADS) or b""
        with self._lock:
            conn = self._start()
            conn.send((update, nquads, base_iri))
            if not conn.poll(self.timeout):
                self._stop()
                raise UpdateTimeout(
                    f"the update ran for more than {self.timeout:g} s and was stopped; nothing "
                    "was written"
                )
            try:
                status, detail = conn.recv()
            except EOFError:  # the child died (stack overflow on a deeply nested update...)
                self._stop()
                raise UpdateRefused("the update is too complex to evaluate; nothing was written") from None
        if status != "ok":
            raise UpdateRefused(detail)
        return list(ox.parse(detail, ox.RdfFormat.N_QUADS))

    def _stop(self) -> None:
        if self._process is not None:
            if self._process.is_alive():
                self._process.kill()
            self._process.join(5)
        if self._conn is not None:
            self._conn.close()
        self._process = None
        self._conn = None

    def close(self) -> None:
        with self._lock:
            self._stop()

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
import signal
import tempfile
import threading
import time
from collections import deque
from multiprocessing.context import SpawnProcess
from pathlib import Path

from hub.api.query.admission import Admission, NoFreeSlot, QueryUnavailable
from hub.api.query.cache import normalise
from hub.api.query.depth import MAX_NESTING, too_deep
from hub.api.query.lanes import CostKey, CostMemory, Preempted, cost_text
from hub.api.query.worker import QueryJob, _worker
from hub.errors import QueryError


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
            target=_worker, args=(store_path, child, memory_mb, allowlist, os.getpid()), daemon=True
        )
        self.process.start()
        child.close()
        self.ready = False  # it says so once confined and loaded (its first message)

    def check_ready(self) -> bool:
        """Whether it has started (reads its first message if it came while it was idle)."""
        if not self.ready:
            try:
                if self.conn.poll(0):
                    self.ready = self.conn.recv()[0] == "ready"
            except (EOFError, OSError):
                return False
        return self.ready

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
        fast_workers: int = 0,
        fast_seconds: float = 1.0,
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
        general, fast = max(1, workers), max(0, fast_workers)
        self._idle: deque[_Worker] = deque(self._spawn() for _ in range(general + fast))
        self._lock = threading.Lock()
        self.admission = Admission(general, queue, timeout, "query")
        self.fast = Admission(fast, queue, timeout, "fast-query") if fast else None
        self.fast_seconds = fast_seconds
        self.costs = CostMemory(fast_seconds)

    async def submit(self, job: QueryJob) -> Path:
        """Run a query from async code, waiting (on no thread) for a worker; stream, then delete.

        In the fast lane unless it is known to be slow or a general worker is free
        (:mod:`hub.api.query.lanes`)."""
        key: CostKey = (cost_text(normalise(job.query)), job.public)
        discard = _unlink
        if self.fast is None or self.costs.slow(key):
            return await self.admission.run(lambda deadline: self._run(job, deadline, key), discard)
        try:
            return await self.admission.run(
                lambda deadline: self._run(job, deadline, key), discard, wait=False
            )
        except NoFreeSlot:
            pass
        deadline = self.admission.deadline()
        try:
            return await self.fast.run(
                lambda deadline: self._run(job, deadline, key, self.fast_seconds), discard, deadline
            )
        except Preempted:
            return await self.admission.run(
                lambda deadline: self._run(job, deadline, key), discard, deadline
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
            # the most recent one that has started: a replacement still starting stays idle
            ready = [w for w in self._idle if w.check_ready()]
            worker = ready[-1] if ready else self._idle[-1]
            self._idle.remove(worker)
        if not worker.alive():
            worker.stop()
            worker = self._spawn()
        return worker

    def _run(
        self,
        job: QueryJob,
        deadline: float,
        key: CostKey | None = None,
        budget: float | None = None,
    ) -> Path:
        """The job on a worker; ``budget``: seconds it may run before :class:`Preempted`."""
        if budget is not None and key is not None and self.costs.slow(key):
            raise Preempted("known to be slow since it was queued")  # no worker to replace
        if too_deep(job.query):
            raise QueryTooComplex(
                f"the query nests brackets more than {MAX_NESTING} levels deep; simplify it"
            )
        fd, name = tempfile.mkstemp(prefix="query-", dir=self.spool_dir)
        os.close(fd)
        output = Path(name)
        worker = self._take()
        healthy = False
        run = self.costs.start(key) if key is not None else None
        preempted = False
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
            try:
                status, detail = self._wait(worker, output, deadline, budget)
            except Preempted:
                preempted = True
                raise
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
            if run is not None:
                self.costs.finish(run, slow=preempted)
            if not healthy:
                worker.stop()
                worker = self._spawn()
            with self._lock:
                self._idle.append(worker)

    def _wait(
        self, worker: _Worker, output: Path, deadline: float, budget: float | None = None
    ) -> tuple[str, str]:
        """The worker's reply; raises at the deadline, past the size limit or if it dies, and
        :class:`Preempted` once it has run ``budget`` seconds (counted from when the worker
        was ready: a fresh worker's start-up is not the query's cost)."""
        try:
            stop_at = deadline
            if budget is not None and worker.ready:
                stop_at = min(deadline, time.monotonic() + budget)
            while True:
                while not worker.conn.poll(0.05):
                    now = time.monotonic()
                    if now > stop_at and stop_at < deadline:
                        raise Preempted("past the fast lane's budget")
                    if now > deadline:
                        raise QueryTimeout(
                            f"the query ran for more than {self.timeout:g} s (time waiting for a "
                            "free worker included) and was stopped; add a LIMIT or narrow the "
                            "patterns"
                        )
                    if output.stat().st_size > self.max_bytes:
                        raise QueryTooLarge(
                            f"the result is larger than {self.max_bytes:,} bytes; add a LIMIT or "
                            "page with OFFSET"
                        )
                    if not worker.alive():
                        raise _Died()
                status, detail = worker.conn.recv()
                if status != "ready":
                    return str(status), str(detail)
                worker.ready = True
                if budget is not None:
                    stop_at = min(deadline, time.monotonic() + budget)
        except (EOFError, OSError) as exc:  # the pipe closed: the process is gone
            raise _Died() from exc

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
        if self.fast is not None:
            self.fast.close()
        with self._lock:
            for worker in self._idle:
                worker.stop()
            self._idle.clear()


def _unlink(path: Path) -> None:
    path.unlink(missing_ok=True)

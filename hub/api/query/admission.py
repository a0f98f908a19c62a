"""Admission control for queries: a bounded queue with a deadline, and no thread held while waiting.

Every synchronous endpoint of the API runs in one small shared thread pool (anyio's). A query that
waited there for a free worker would hold a thread that ``/health``, the change feed and writes
need, and a storm of slow queries would stall all of them. Here a waiting query holds no thread:
an async caller waits on an asyncio future that the job freeing a slot wakes up, and admitted jobs
run in an executor of exactly as many threads as there are slots. The wait counts against the
query timeout, so nobody waits in the queue for longer than the timeout; a full queue refuses at
once. Both refusals say when to come back (``Retry-After``).
"""

from __future__ import annotations

import asyncio
import math
import threading
import time
from collections import deque
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import TypeVar

from hub.errors import QueryError

T = TypeVar("T")


class QueryUnavailable(QueryError):
    """The query cannot be answered now, through no fault of its text; retry after ``retry_after`` s."""

    def __init__(self, message: str, retry_after: int) -> None:
        super().__init__(message)
        self.retry_after = retry_after


class QueryRejected(QueryUnavailable):
    """The hub is too busy to take the query: the queue is full, or the query waited too long."""


class NoFreeSlot(QueryError):
    """Raised by ``run(..., wait=False)`` when every slot is taken (the caller tries elsewhere)."""


class _Waiter:
    """One queued query; ``wake`` is called, from any thread, when a slot is handed to it."""

    def __init__(self, wake: Callable[[], None]) -> None:
        self.wake = wake


class Admission:
    """At most ``slots`` jobs at once, at most ``queue`` more waiting, none waiting past its deadline."""

    def __init__(self, slots: int, queue: int, timeout: float, name: str = "query") -> None:
        self.slots = max(1, slots)
        self.queue = max(0, queue)
        self.timeout = timeout
        self.retry_after = max(1, math.ceil(timeout))
        self._lock = threading.Lock()
        self._busy = 0
        self._waiters: deque[_Waiter] = deque()
        self._executor = ThreadPoolExecutor(max_workers=self.slots, thread_name_prefix=name)

    def deadline(self) -> float:
        """The ``time.monotonic()`` by which a query arriving now must be answered."""
        return time.monotonic() + self.timeout

    async def run(
        self,
        work: Callable[[float], T],
        discard: Callable[[T], None],
        deadline: float | None = None,
        wait: bool = True,
    ) -> T:
        """``work(deadline)`` in a slot, in the executor; ``discard`` cleans up an unwanted result.

        If the caller goes away (client disconnected, shutdown) once the job is running, the job
        still ends (it holds a worker the pool must get back) and its result is discarded.
        ``deadline``: one the query already had (it was moved from another lane); ``wait=False``:
        :class:`NoFreeSlot` at once rather than queueing.
        """
        deadline = self.deadline() if deadline is None else deadline
        await self._acquire(deadline, wait)
        try:
            future = self._executor.submit(self._in_slot, work, deadline)
        except BaseException:
            self._release()
            raise
        try:
            return await asyncio.shield(asyncio.wrap_future(future))
        except asyncio.CancelledError:
            future.add_done_callback(lambda done: _discard(done, discard))
            raise

    def run_blocking(self, work: Callable[[float], T]) -> T:
        """The same admission for a caller already on a thread of its own (CLI, scripts)."""
        deadline = self.deadline()
        woken = threading.Event()
        waiter = _Waiter(woken.set)
        if not self._enter(waiter) and not woken.wait(max(0.0, deadline - time.monotonic())):
            self._give_up(waiter)
            raise self._expired()
        try:
            return work(deadline)
        finally:
            self._release()

    def load(self) -> tuple[int, int]:
        """(jobs running, jobs waiting) now."""
        with self._lock:
            return self._busy, len(self._waiters)

    def close(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    # -- the queue ------------------------------------------------------------------------------

    async def _acquire(self, deadline: float, wait: bool = True) -> None:
        loop = asyncio.get_running_loop()
        woken: asyncio.Future[None] = loop.create_future()

        def resolve() -> None:
            if not woken.done():
                woken.set_result(None)

        def wake() -> None:
            try:
                loop.call_soon_threadsafe(resolve)
            except RuntimeError:  # the loop is closed: nobody waits any more, pass the slot on
                self._release()

        waiter = _Waiter(wake)
        if self._enter(waiter, wait):
            return
        if not wait:
            raise NoFreeSlot("every slot is taken")
        try:
            await asyncio.wait_for(woken, max(0.0, deadline - time.monotonic()))
        except TimeoutError:
            self._give_up(waiter)  # a slot handed over just as the deadline passed goes on
            raise self._expired() from None
        except BaseException:
            self._give_up(waiter)
            raise

    def _enter(self, waiter: _Waiter, wait: bool = True) -> bool:
        """True when a slot is free now; otherwise queue the waiter (unless ``wait`` is False),
        or refuse if the queue is full."""
        with self._lock:
            if self._busy < self.slots and not self._waiters:
                self._busy += 1
                return True
            if not wait:
                return False
            if len(self._waiters) >= self.queue:
                raise QueryRejected(
                    f"the hub is busy: {self.slots} queries are running and {len(self._waiters)} "
                    f"are waiting; retry in {self.retry_after} s",
                    self.retry_after,
                )
            self._waiters.append(waiter)
            return False

    def _give_up(self, waiter: _Waiter) -> None:
        """Leave the queue, or pass on the slot that was handed over while we were giving up."""
        with self._lock:
            try:
                self._waiters.remove(waiter)
                return
            except ValueError:
                pass
        self._release()

    def _release(self) -> None:
        with self._lock:
            if not self._waiters:
                self._busy -= 1
                return
            waiter = self._waiters.popleft()  # the slot passes straight to the next in line
        waiter.wake()

    def _in_slot(self, work: Callable[[float], T], deadline: float) -> T:
        try:
            return work(deadline)
        finally:
            self._release()

    def _expired(self) -> QueryRejected:
        return QueryRejected(
            f"the hub is busy: the query waited {self.timeout:g} s for a free query worker "
            f"without getting one; retry in {self.retry_after} s",
            self.retry_after,
        )


def _discard(done: Future[T], discard: Callable[[T], None]) -> None:
    if not done.cancelled() and done.exception() is None:
        discard(done.result())

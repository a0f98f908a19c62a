"""The hub's single write lock, which also numbers the writes it lets through.

Every write of a serving hub (REST, Graph Store, SPARQL Update, review, forget, the sync
scheduler) holds this lock from its first read to its commit and flush. Counting the lock's
releases therefore gives a data version that moves whenever the data may have moved, failed
writes included (a write that raised after its commit still releases the lock: counting the
releases rather than the successful commits keeps such a write from going unnoticed).

:meth:`WriteLock.stable_version` is the version *only when no write is under way*: at that
instant every write counted has been flushed, and none has started since, so the store is
exactly that version. The query result cache relies on it (:mod:`hub.api.query.cache`).
"""

from __future__ import annotations

import threading
from types import TracebackType


class WriteLock:
    """A non-reentrant lock (like ``threading.Lock``) that counts its acquisitions and releases."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts = threading.Lock()
        self._acquired = 0
        self._released = 0

    def acquire(self, blocking: bool = True, timeout: float = -1) -> bool:
        got = self._lock.acquire(blocking, timeout)
        if got:
            with self._counts:
                self._acquired += 1
        return got

    def release(self) -> None:
        with self._counts:
            self._released += 1
        self._lock.release()

    def locked(self) -> bool:
        return self._lock.locked()

    def __enter__(self) -> bool:
        return self.acquire()

    def __exit__(
        self,
        kind: type[BaseException] | None,
        value: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.release()

    @property
    def version(self) -> int:
        """How many writes have finished (released the lock)."""
        with self._counts:
            return self._released

    def stable_version(self) -> int | None:
        """The version when no write holds the lock at this instant, else None."""
        with self._counts:
            return self._released if self._acquired == self._released else None

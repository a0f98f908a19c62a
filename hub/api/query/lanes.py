"""Two lanes for queries: a small query never waits behind slow ones.

With one first-come queue, a 3 ms CONSTRUCT waited 1.6 s behind observatory queries for one of
the two workers (issue 19). The runner now keeps ``query_fast_workers`` workers for the *fast
lane* besides the ``query_workers`` of the *general lane*, and routes each query by what it is
known to cost:

* a query known to be slow (its normalised text took longer than ``query_fast_seconds`` the
  last time, or a run of it has been going for longer than that right now) queues in the
  general lane only;
* any other query takes a general worker if one is free at once, else queues in the fast lane;
* a query that runs past ``query_fast_seconds`` in the fast lane is stopped there (its worker is
  replaced) and queued again in the general lane, with the time it already spent counted against
  its timeout; it is known to be slow from then on.

So a fast-lane worker is never held for longer than ``query_fast_seconds`` by any query: a small
query waits at most that long per query ahead of it in its own lane, whatever the general lane
is doing. The admission control of :mod:`hub.api.query.admission` is unchanged inside each lane
(bounded queue, deadline, no thread held while waiting).
"""

from __future__ import annotations

import re
import threading
import time
from collections import OrderedDict

from hub.errors import QueryError

CostKey = tuple[str, bool]
"""(normalised query text, anonymous): the same text can cost differently on the replica."""


_COMMENT = re.compile(r"(^|\s)#[^\n]*", re.MULTILINE)


def cost_text(normalised: str) -> str:
    """What the cost memory keys on: the normalised text without its comments (a ``#`` at a
    line's start or after a space; IRIs hold no space), so a client numbering its requests in a
    comment does not hide a known slow query. Only an estimate rides on it, never an answer."""
    return _COMMENT.sub(r"\1", normalised).strip()


class Preempted(QueryError):
    """The query ran past the fast lane's budget; it goes on in the general lane."""


class CostMemory:
    """The last observed duration of recent queries (bounded), and the runs going on now."""

    def __init__(self, threshold: float, size: int = 4096) -> None:
        self.threshold = threshold
        self.size = size
        self._seconds: OrderedDict[CostKey, float] = OrderedDict()
        self._running: dict[int, tuple[CostKey, float]] = {}
        self._next = 0
        self._lock = threading.Lock()

    def slow(self, key: CostKey) -> bool:
        now = time.monotonic()
        with self._lock:
            seconds = self._seconds.get(key)
            if seconds is not None and seconds > self.threshold:
                return True
            return any(k == key and now - t > self.threshold for k, t in self._running.values())

    def start(self, key: CostKey) -> int:
        with self._lock:
            self._next += 1
            self._running[self._next] = (key, time.monotonic())
            return self._next

    def finish(self, run: int, slow: bool = False) -> None:
        """The run ended; ``slow``: it was stopped before its end, so its time says too little."""
        with self._lock:
            key, started = self._running.pop(run)
            seconds = time.monotonic() - started
            self._seconds[key] = max(seconds, self.threshold * 2) if slow else seconds
            self._seconds.move_to_end(key)
            while len(self._seconds) > self.size:
                self._seconds.popitem(last=False)

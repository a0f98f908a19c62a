"""Reading ahead: the next page of a source is fetched while the hub maps and commits this one.

A harvest alternates two waits of about the same length, the source's answer and the hub's own
work (parse, map, validate, commit); running the fetches in a thread overlaps them. The thread
only fetches: records are still made and committed in order, in the caller's thread, so crash
safety and cursors are unchanged. An error in the thread is raised in the caller at the point
where its item would have come.
"""

from __future__ import annotations

import queue
import threading
from collections.abc import Callable, Iterator
from typing import Generic, TypeVar

T = TypeVar("T")
_DONE = object()


class Prefetched(Generic[T]):
    """The items of ``produce()``, fetched up to ``depth`` ahead by a thread that starts at once
    (the caller can do other work meanwhile). ``close()`` lets the thread go, used up or not."""

    def __init__(self, produce: Callable[[], Iterator[T]], depth: int = 2) -> None:
        self._items: queue.Queue[object] = queue.Queue(maxsize=depth)
        self._stop = threading.Event()
        self._produce = produce
        threading.Thread(target=self._run, name="maillage-prefetch", daemon=True).start()

    def _put(self, item: object) -> bool:
        while not self._stop.is_set():
            try:
                self._items.put(item, timeout=0.1)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        try:
            for item in self._produce():
                if not self._put(item):
                    return
            self._put(_DONE)
        except BaseException as exc:  # handed to the caller, who decides
            self._put(exc)

    def __iter__(self) -> Iterator[T]:
        return self

    def __next__(self) -> T:
        if self._stop.is_set():
            raise StopIteration
        item = self._items.get()
        if item is _DONE:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item  # type: ignore[return-value]

    def close(self) -> None:
        self._stop.set()

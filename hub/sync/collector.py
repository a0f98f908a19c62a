"""Fewer garbage collections while a source is read.

A harvest allocates millions of short-lived objects (JSON items, triples, rows, transaction
text) in a process that already holds a large, long-lived heap (the territory reference, the
compiled shapes, the modules). With CPython's default first threshold (700 allocations), the
collector runs hundreds of times per thousand records and now and then walks that whole heap:
about a tenth of a data·inclusion harvest's time (bench/jsonapi.py, measured with ``gc.callbacks``).
While at least one read runs, the first threshold is raised; the objects a read creates are
freed by reference counting as before, only the search for reference cycles waits longer.
Thresholds are process-wide: reads in several threads (``maillage serve``) share one raise, and
the previous thresholds come back when the last one ends.
"""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from contextlib import contextmanager

READ_THRESHOLD = 10_000
"""Allocations between two young-generation collections during a read (CPython's default: 700)."""

_lock = threading.Lock()
_reads = 0
_saved: tuple[int, int, int] | None = None


@contextmanager
def fewer_collections() -> Iterator[None]:
    global _reads, _saved
    with _lock:
        if _reads == 0:
            _saved = gc.get_threshold()
            gc.set_threshold(max(READ_THRESHOLD, _saved[0]), _saved[1], _saved[2])
        _reads += 1
    try:
        yield
    finally:
        with _lock:
            _reads -= 1
            if _reads == 0 and _saved is not None:
                gc.set_threshold(*_saved)
                _saved = None

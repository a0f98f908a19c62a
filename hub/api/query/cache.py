"""A cache of SPARQL results keyed by the data version they were computed at: exact, never stale.

Dashboards (the observatory page, a regional portal polling the hub) send the same queries again
and again while the data moves little. Every write of a serving hub goes through its write lock
(:class:`hub.store.write_lock.WriteLock`), which numbers the writes; a result is stored under the
version the store *exactly* had while the query ran, and looked up under the current one, so a
write makes every older entry unreachable (they are dropped at the next store) and the next
answer reflects it.

Exactness. A result is stored only when no write was under way when the query was admitted nor
when it finished, and the version did not move in between: every read-only view a worker could
have used then holds exactly that version (views are reopened when the version changes; a view
opened during a write is only ever used by queries that are not stored). A hit is served only
while no write is under way, so it is never older than an answer already served by a worker,
whose view could not hold more than the store held at that instant: a count never goes back
because of the cache.

Isolation. The key holds whether the client is anonymous (public graphs only) or the operator,
the dataset (protocol graphs), the result format, the base IRI and the normalised text: an
anonymous client can only ever get an answer computed for an anonymous client.

Bounds. Least recently used entries go first past ``max_bytes``; a result larger than
``max_entry_bytes`` is streamed from its spool file and not kept.
"""

from __future__ import annotations

import asyncio
import re
import threading
from collections import OrderedDict
from dataclasses import dataclass

_SPACE = re.compile(r"\s+")


def normalise(query: str) -> str:
    """The text the cache and the cost memory key on: one for texts that differ only in layout.

    Runs of whitespace are collapsed only when the text has no quote at all, so no string
    literal (whose spaces matter) can be touched; IRIs hold no whitespace. A run holding a line
    break becomes one line break, so a ``#`` comment still ends where it ended. Otherwise only
    the surrounding whitespace and the line-break style go.
    """
    text = query.strip().replace("\r\n", "\n")
    if "'" in text or '"' in text:
        return text
    return _SPACE.sub(lambda m: "\n" if "\n" in m.group() else " ", text)


@dataclass(frozen=True)
class CacheKey:
    query: str
    result_format: str
    default_graphs: tuple[str, ...]
    named_graphs: tuple[str, ...]
    public: bool
    base_iri: str | None
    version: int


class ResultCache:
    """Result bytes by :class:`CacheKey`, least recently used dropped first; thread-safe."""

    def __init__(self, max_bytes: int, max_entry_bytes: int | None = None) -> None:
        self.max_bytes = max(0, max_bytes)
        self.max_entry_bytes = min(self.max_bytes, max_entry_bytes or self.max_bytes // 4)
        self._entries: OrderedDict[CacheKey, bytes] = OrderedDict()
        self._size = 0
        self._newest = -1
        self._lock = threading.Lock()
        self.hits = 0
        self.misses = 0
        self.flights: dict[CacheKey, asyncio.Future[bytes | None]] = {}
        """Queries running now, by key, for requests that can share their answer (used from
        the server's event loop only)."""

    @property
    def enabled(self) -> bool:
        return self.max_entry_bytes > 0

    def get(self, key: CacheKey) -> bytes | None:
        with self._lock:
            data = self._entries.get(key)
            if data is None:
                self.misses += 1
                return None
            self._entries.move_to_end(key)
            self.hits += 1
            return data

    def put(self, key: CacheKey, data: bytes) -> bool:
        """Keep ``data`` unless it is too large; False when it was not kept."""
        cost = _cost(key, data)
        if cost > self.max_entry_bytes:
            return False
        with self._lock:
            if key.version > self._newest:  # a write happened: older entries can never match
                self._newest = key.version
                for old in [k for k in self._entries if k.version < key.version]:
                    self._size -= _cost(old, self._entries.pop(old))
            elif key.version < self._newest:
                return False  # computed before a write that is already known
            previous = self._entries.pop(key, None)
            if previous is not None:
                self._size -= _cost(key, previous)
            self._entries[key] = data
            self._size += cost
            while self._size > self.max_bytes and self._entries:
                oldest, dropped = self._entries.popitem(last=False)
                self._size -= _cost(oldest, dropped)
            return True

    @property
    def size(self) -> int:
        with self._lock:
            return self._size


def _cost(key: CacheKey, data: bytes) -> int:
    return len(data) + len(key.query) + 200  # the key's strings and the entry's overhead

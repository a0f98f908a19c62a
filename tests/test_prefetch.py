"""Reading ahead in a thread: order, errors and early stops behave as a plain loop would."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator

import pytest

from connectors.base.prefetch import Prefetched


def test_items_come_in_order_and_errors_where_they_happened() -> None:
    def produce() -> Iterator[int]:
        yield from range(5)
        raise ConnectionError("the source went away")

    seen = []
    with pytest.raises(ConnectionError, match="went away"):
        for item in Prefetched(produce):
            seen.append(item)
    assert seen == [0, 1, 2, 3, 4]


def test_a_reader_that_stops_early_lets_the_thread_go() -> None:
    produced: list[int] = []

    def produce() -> Iterator[int]:
        for i in range(1000):
            produced.append(i)
            yield i

    before = threading.active_count()
    ahead = Prefetched(produce, depth=2)
    assert next(ahead) == 0
    ahead.close()
    time.sleep(0.5)
    assert len(produced) <= 5, "fetching stops a few items ahead, not at the end"
    assert threading.active_count() <= before, "no thread left behind"
    with pytest.raises(StopIteration):
        next(ahead)

"""Does a batch's placing recall grow with the store? (issue 18)

    .venv/bin/python bench/recall.py            # 2,000 then 80,000 waiting candidates
    .venv/bin/python bench/recall.py --quick    # 1,000 then 20,000

Placing asks the meta graph, once per batch of 500 records, for the candidates and choices of the
batch's (source, source id) pairs (``hub.meta.placements.known_placings``). It used to go over
every waiting candidate of the store, so an import slowed as candidates piled up. This fills a
fresh in-memory store with a small then a large number of waiting candidates (town names that
name several communes), asks the recall for a batch of 500 new records plus one known, and prints
the large/small time ratio measured in this run (best of 5; 1.0 means it does not grow).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import time

from hub.meta.placements import candidate_statements, known_placings
from hub.store.oxigraph import OxigraphStore
from hub.store.transaction import Transaction


def recall_seconds(candidates: int) -> float:
    """Best of 5 recalls for a batch of 500 new pairs and one waiting, over ``candidates``."""
    store = OxigraphStore(None)
    tx = Transaction()
    for n in range(candidates):
        tx.set_meta(*candidate_statements(
            "bench", f"c{n}", f"urn:bench:e{n}", f"urn:bench:g{n}", "Montreuil", "montreuil",
            ["93048", "85148", "62588"],
        ))
    store.commit(tx)
    pairs = [("bench", f"new{n}") for n in range(500)] + [("bench", "c1")]
    known_placings(store, pairs)  # first query: parser and caches
    best = float("inf")
    for _ in range(5):
        started = time.perf_counter()
        known = known_placings(store, pairs)
        best = min(best, time.perf_counter() - started)
    assert list(known.candidates) == [("bench", "c1")]
    return best


def main() -> None:
    small, large = (1_000, 20_000) if "--quick" in sys.argv else (2_000, 80_000)
    a, b = recall_seconds(small), recall_seconds(large)
    print(f"recall of a 500-record batch: {a * 1000:.1f} ms over {small:,} waiting candidates, "
          f"{b * 1000:.1f} ms over {large:,}")
    print(f"ratio large/small: {b / a:.2f} (store {large // small}x larger; 1.0 = does not grow)")


if __name__ == "__main__":
    main()

"""A sync's batches of new records: added in one transaction as N-Quads vs as SPARQL text.

    .venv/bin/python bench/append.py            # 2,000 new places in batches of 100, 5 rounds
    .venv/bin/python bench/append.py --quick    # the same, 2 rounds

A batch that only adds (new records, the common case of a first sync) is committed by the
embedded store as N-Quads in one ``Store.load`` transaction (``hub.store.oxigraph``); it was a
SPARQL Update text before. This fills a fresh on-disk store (with its public replica) with 1,000
places, then ingests 2,000 new places in batches of 100 with a cursor, as a connector's sync
does, once appending and once with every commit sent as SPARQL (``SETTLE_EVERY`` set to 0 for
the run: the path every commit took before), alternating which goes first; it prints µs per
record for both and the ratio appended / SPARQL.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import shutil
import statistics
import tempfile
import time

from bench.common import Row, header, print_summary
from bench.reimport import places
from hub.pipeline.ingest import Ingestor
from hub.store import oxigraph
from hub.vocab import DEFAULT_BASE_IRI

BATCH = 100
NEW = 2_000
APPENDING = oxigraph.SETTLE_EVERY


def us_per_record(settle_every: int, workdir: Path, tag: str) -> float:
    directory = Path(tempfile.mkdtemp(dir=workdir))
    try:
        with oxigraph.OxigraphStore(directory / "store") as store:
            Ingestor(store, DEFAULT_BASE_IRI).ingest(places(1_000, "1", "prefill-"))
            ingestor = Ingestor(store, DEFAULT_BASE_IRI, batch_size=BATCH)
            records = places(NEW, "1", f"{tag}-")
            oxigraph.SETTLE_EVERY = settle_every
            try:
                start = time.perf_counter()
                for first in range(0, NEW, BATCH):
                    result = ingestor.ingest_batch(records[first : first + BATCH], ("bench", str(first)))
                    if result.created != BATCH:
                        raise SystemExit(f"expected {BATCH} new records, got {result}")
                seconds = time.perf_counter() - start
            finally:
                oxigraph.SETTLE_EVERY = APPENDING
        return 1e6 * seconds / NEW
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    quick = "--quick" in sys.argv
    rounds = 2 if quick else 5
    started = time.perf_counter()
    header("append bench", quick)
    print(f"{NEW:,} new places in batches of {BATCH} into an on-disk store of 1,000, with a cursor; "
          f"{rounds} rounds, median")
    workdir = Path(tempfile.mkdtemp(prefix="maillage-bench-append-"))
    try:
        us_per_record(APPENDING, workdir, "warm")  # imports, shapes, caches
        times: dict[str, list[float]] = {"appended": [], "sparql": []}
        for round_ in range(rounds):
            order = [("appended", APPENDING), ("sparql", 0)]
            for name, settle in order if round_ % 2 == 0 else order[::-1]:
                times[name].append(us_per_record(settle, workdir, f"r{round_}"))
        appended, sparql = (statistics.median(times[k]) for k in ("appended", "sparql"))
        for name in ("appended", "sparql"):
            print(f"   {name:>8}: {statistics.median(times[name]):7.1f} µs/record (rounds: "
                  + ", ".join(f"{t:.1f}" for t in times[name]) + ")")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_summary([Row("a sync's batches of 100 new records, appended / SPARQL text, µs per record",
                       f"{appended / sparql:.2f}")], quick, started)


if __name__ == "__main__":
    main()

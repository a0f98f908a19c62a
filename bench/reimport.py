"""A re-import's updated records: deletions grouped in one VALUES operation vs one per subject.

    .venv/bin/python bench/reimport.py            # 200 and 2,000 updated records, 3 rounds
    .venv/bin/python bench/reimport.py --quick    # 200 and 2,000, 1 round

An updated record's commit removes its graphs and its meta statements (provenance, latest-wins
bookkeeping) before writing the new ones, in the same SPARQL Update. Each meta subject used to be
one ``DELETE WHERE`` operation; ``hub.store.transaction.meta_deletions`` now names up to 500
subjects in one ``VALUES`` block. This fills a fresh on-disk store (with its public replica) with
N places, then re-imports them all changed (N updates) through ``Ingestor.ingest``, once with the
grouped deletions and once with the former one-per-subject rendering (put back for the run),
alternating which goes first; it prints the median seconds and the ratio former / grouped.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import shutil
import statistics
import tempfile
import time
from collections.abc import Callable

import pyoxigraph as ox

from hub.pipeline.ingest import Ingestor
from hub.records import Record
from hub.store import transaction
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, META_GRAPH, MLG, RDF_TYPE

GROUPED = transaction.meta_deletions


def one_per_subject(nodes: list[str]) -> list[str]:
    """The rendering before 2026-12-05: one operation per subject."""
    return [f"DELETE WHERE {{ GRAPH <{META_GRAPH}> {{ {node} ?p ?o }} }}" for node in nodes]


def places(n: int, revision: str, tag: str = "") -> list[Record]:
    """``n`` places of source "bench"; ``tag`` sets them apart from those of another call."""
    records = []
    for i in range(n):
        subject = ox.NamedNode(f"{DEFAULT_BASE_IRI}bench/reimport/{tag}{i}")
        records.append(Record("bench", f"r{tag}{i}", (
            ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
            ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(f"Lieu {i} {revision}", language="fr")),
            ox.Triple(subject, ox.NamedNode(MLG + "shortDescription"),
                      ox.Literal(f"Un lieu numéro {i}", language="fr")),
            ox.Triple(subject, ox.NamedNode(MLG + "postalCode"), ox.Literal(f"{69001 + i % 9}")),
        ), revision=revision))
    return records


def reimport_seconds(n: int, render: Callable[[list[str]], list[str]], workdir: Path) -> float:
    directory = Path(tempfile.mkdtemp(dir=workdir))
    try:
        with OxigraphStore(directory / "store") as store:
            Ingestor(store, DEFAULT_BASE_IRI).ingest(places(n, "1"))
            changed = places(n, "2")
            transaction.meta_deletions = render
            try:
                start = time.perf_counter()
                result = Ingestor(store, DEFAULT_BASE_IRI).ingest(changed)
                seconds = time.perf_counter() - start
            finally:
                transaction.meta_deletions = GROUPED
            if result.updated != n:
                raise SystemExit(f"expected {n} updates, got {result.updated}")
        return seconds
    finally:
        shutil.rmtree(directory, ignore_errors=True)


def main() -> None:
    rounds = 1 if "--quick" in sys.argv else 3
    workdir = Path(tempfile.mkdtemp(prefix="maillage-bench-reimport-"))
    print(f"re-import of N records all changed, Ingestor defaults, on-disk store; {rounds} round(s), median")
    try:
        for n in (200, 2_000):
            reimport_seconds(50, GROUPED, workdir)  # warm-up: imports, shapes, caches
            times: dict[str, list[float]] = {"grouped": [], "former": []}
            for round_ in range(rounds):
                order = [("grouped", GROUPED), ("former", one_per_subject)]
                for name, render in order if round_ % 2 == 0 else order[::-1]:
                    times[name].append(reimport_seconds(n, render, workdir))
            grouped, former = (statistics.median(times[k]) for k in ("grouped", "former"))
            print(f"   {n:>5,} updated: grouped {grouped:6.2f} s, one per subject {former:6.2f} s, "
                  f"ratio former / grouped {former / grouped:.2f}")
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


if __name__ == "__main__":
    main()

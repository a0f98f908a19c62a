"""Compiled SHACL Core vs pyshacl: per-record validation time of both engines, in the same run.

    .venv/bin/python bench/shacl.py            # demo + 10,000 synthetic places, about 3 minutes
    .venv/bin/python bench/shacl.py --quick    # demo + 1,000 places, under 30 seconds

Both engines validate the same batches through ``hub.pipeline.validate.Validator`` (``engine="core"``
and ``engine="pyshacl"``), with the neighbour types the Ingestor would fetch. The rounds
alternate which engine goes first. The script also checks that the two engines report the same
results (focus, path, severity, value) for every record, and stops if they do not. Read the
ratio, not the absolute times (see README.md).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import argparse
import gc
import statistics
import time
from collections.abc import Callable

import pyoxigraph as ox
import pyshacl

import bench.run as synthetic  # the generator of bench/run.py: same places, communes
from bench.common import ROOT, header, parse
from hub.pipeline.ingest import Ingestor
from hub.pipeline.validate import Report, Validator, load_shapes
from hub.rdf.io import ParseOptions, read_records
from hub.records import Record
from hub.shacl import Data
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI

Batches = list[tuple[list[Record], list[ox.Triple]]]


def batches_of(records: list[Record], size: int) -> Batches:
    """Batches with their neighbour types, looked up the Ingestor's way in a store of all records."""
    lookup = OxigraphStore(None)
    lookup.native.extend(ox.Quad(t.subject, t.predicate, t.object) for r in records for t in r.triples)
    ingestor = Ingestor(lookup, DEFAULT_BASE_IRI)
    chunks = [records[i : i + size] for i in range(0, len(records), size)]
    return [(chunk, ingestor._neighbour_types(chunk, {})) for chunk in chunks]


def with_errors(records: list[Record]) -> list[Record]:
    """Every third place broken one way or another (names, latitudes, postal codes, links)."""
    mlg = synthetic.MLG
    broken: list[Record] = []
    for i, rec in enumerate(records):
        triples = list(rec.triples)
        if i % 3 == 0 and rec.entity() is not None and "/place/" in rec.source_id:
            kind = (i // 3) % 4
            if kind == 0:
                triples = [t for t in triples if t.predicate.value != mlg + "name"]
            elif kind == 1:
                triples.append(ox.Triple(triples[0].subject, ox.NamedNode(mlg + "latitude"),
                                         ox.Literal("123", datatype=synthetic.DECIMAL)))
            elif kind == 2:
                triples.append(ox.Triple(triples[0].subject, ox.NamedNode(mlg + "postalCode"),
                                         ox.Literal("69 001")))
            else:
                triples.append(ox.Triple(triples[0].subject, ox.NamedNode(mlg + "territory"),
                                         ox.NamedNode(synthetic.place_iri("0"))))
        broken.append(Record(source=rec.source, source_id=rec.source_id, triples=tuple(triples)))
    return broken


def run(validator: Validator, batches: Batches) -> tuple[float, list[Report]]:
    gc.collect()
    start = time.perf_counter()
    reports = [report for chunk, types in batches for report in validator.validate(chunk, types)]
    return time.perf_counter() - start, reports


def results(reports: list[Report]) -> list[set[tuple[str, str | None, str, str | None]]]:
    return [{(v.focus, v.path, v.severity, v.value) for v in r.violations} for r in reports]


def measure(name: str, batches: Batches, engines: dict[str, Validator], rounds: int) -> float:
    count = sum(len(chunk) for chunk, _ in batches)
    times: dict[str, list[float]] = {engine: [] for engine in engines}
    found: dict[str, list[Report]] = {}
    order = list(engines)
    for round_ in range(rounds):
        for engine in order if round_ % 2 == 0 else order[::-1]:
            seconds, found[engine] = run(engines[engine], batches)
            times[engine].append(1e6 * seconds / count)
    if results(found["core"]) != results(found["pyshacl"]):
        sys.exit(f"{name}: the two engines do not report the same results")
    violations = sum(len(r.violations) for r in found["core"])
    print(f"\n{name}: {count:,} records in {len(batches)} batches, {violations} results (same for both)")
    for engine, values in times.items():
        rounds_text = ", ".join(f"{v:,.1f}" for v in values)
        print(f"   {engine:<8} {statistics.median(values):>9,.1f} µs/record (rounds: {rounds_text})")
    ratio = statistics.median(times["pyshacl"]) / statistics.median(times["core"])
    print(f"   ratio pyshacl / core: {ratio:,.1f}")
    return ratio


def timed(action: Callable[[], object]) -> float:
    start = time.perf_counter()
    action()
    return time.perf_counter() - start


def main() -> None:
    def options(parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--rounds", type=int, default=3,
                            help="rounds per engine and data set (default 3)")
        parser.add_argument("--batch", type=int, default=200, help="records per batch (the import default)")

    args, places = parse(__doc__, 10_000, 1_000, "1,000 places instead of 10,000", options)
    rounds = args.rounds
    header("SHACL engines bench", args.quick, f"pyshacl {pyshacl.__version__}",
           f"{places:,} places (full run: 10,000)")

    shapes = load_shapes()
    compile_seconds = timed(lambda: Validator(shapes))
    engines = {"core": Validator(shapes), "pyshacl": Validator(shapes, engine="pyshacl")}
    assert engines["core"].engine == "core", "the hub shapes should compile"
    print(f"compiling the shapes graph (once per Validator): {1e3 * compile_seconds:.0f} ms")

    demo = read_records(ROOT / "demo" / "demo.ttl", ParseOptions(source="demo", namespace=DEFAULT_BASE_IRI),
                        ox.RdfFormat.TURTLE)
    generated = [synthetic.record(t) for t in synthetic.entity_triples(places + synthetic.COMMUNES)]
    label = f"{places:,} synthetic places + {synthetic.COMMUNES} communes"
    datasets = {"demo/demo.ttl": batches_of(demo, args.batch), label: batches_of(generated, args.batch),
                "1,000 of the places, a third of them broken": batches_of(with_errors(generated[:1_100]),
                                                                         args.batch)}
    for validator in engines.values():  # warm-up: imports, pyshacl's first call
        validator.validate(*datasets["demo/demo.ttl"][0])

    ratios = [measure(name, batches, engines, rounds) for name, batches in datasets.items()]

    batches = datasets[label]
    count = sum(len(chunk) for chunk, _ in batches)
    index = timed(lambda: [Data(t for r in chunk for t in r.triples) for chunk, _ in batches])
    print(f"\ncore engine, of which indexing the batch triples (pyoxigraph terms to tuples): "
          f"{1e6 * index / count:,.1f} µs/record")
    print(f"\nSummary: per-record validation, pyshacl / compiled core = {ratios[0]:,.1f} (demo), "
          f"{ratios[1]:,.1f} (synthetic places), {ratios[2]:,.1f} (with errors); goal >= 10")


if __name__ == "__main__":
    main()

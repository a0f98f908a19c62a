"""Ingest benchmarks that print ratios measured in one run (see bench/README.md).

    .venv/bin/python bench/run.py            # full run: 100k-entity store, 20k-place file
    .venv/bin/python bench/run.py --quick    # smaller sizes, same figures, a few minutes
    .venv/bin/python bench/run.py --million  # figure 1 alone, with a 1M-entity store
    .venv/bin/python bench/run.py --write-prefill DIR --entities 1000000  # that store, once
    .venv/bin/python bench/run.py --million --prefilled DIR  # figure 1 on a copy of it

Machines are noisy: read the ratios, not the absolute times. Nothing here asserts a figure; the
script only stops when the synthetic data does not go through the pipeline as valid records,
because the figures would then measure the quarantine instead of the ingest.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import dataclasses
import gc
import hashlib
import os
import shutil
import statistics
import subprocess
import tempfile
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox
import pyshacl
import rdflib

import hub.pipeline.ingest
import hub.pipeline.validate
from bench.common import Row, header, parse, print_summary
from hub.cli._common import rare_collections
from hub.cli.data import IMPORT_BATCH
from hub.iris import graph_iri
from hub.meta.changelog import LOG_SUBJECT, Change, append_change, last_sequence
from hub.meta.cursors import read_cursor
from hub.meta.provenance import provenance_statements
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.pipeline.neighbours import neighbour_types, types_of
from hub.pipeline.place import Placer
from hub.pipeline.validate import Validator, load_shapes
from hub.rdf.bridge import graph_of
from hub.rdf.io import ParseOptions, read_records
from hub.records import Record, now
from hub.store.oxigraph import OxigraphStore
from hub.store.replica import PublicReplica
from hub.store.transaction import VERSION_OF, VERSION_ORDER, Transaction
from hub.vocab import DEFAULT_BASE_IRI, META_GRAPH, MLG, RDF_TYPE, XSD

BASE = DEFAULT_BASE_IRI
SOURCE = "bench"
DATA = "https://example.org/bench/"
COMMUNES = 100  # every place links to one of them with mlg:territory (an sh:class check)

GOAL_SCALING = 1.5  # per-record ingest cost, big store / small store: at most
GOAL_IMPORT = 0.5  # hub import rate / raw bulk_load rate: at least
GOAL_REIMPORT = 0.25  # re-import of the file with 10 % of the records changed / raw: at least
CHANGED = 10  # every CHANGED-th place is changed in the re-imported file
VIRTUOSO_PLACES = 5_000  # at most, in the file of figure 2c (SPARQL Update batches are slow)
GOAL_VALIDATION = 1.5  # per-record batch validation / whole-graph pyshacl: at most (see README)


@dataclass(frozen=True)
class Sizes:
    small_store: int
    big_store: int
    new_records: int
    rounds: int
    file_places: int
    validation_batch: int = 200
    ingest_batch: int = 100


FULL = Sizes(small_store=1_000, big_store=100_000, new_records=500, rounds=3, file_places=20_000)
QUICK = Sizes(small_store=1_000, big_store=20_000, new_records=500, rounds=2, file_places=2_000)
MILLION = Sizes(small_store=1_000, big_store=1_000_000, new_records=500, rounds=3, file_places=20_000)


# --------------------------------------------------------------------------------------------
# Synthetic data: valid mlg:Place entities (11 triples) and the mlg:Commune nodes they link to.

NN = ox.NamedNode
TYPE = NN(RDF_TYPE)
PLACE = NN(MLG + "Place")
COMMUNE = NN(MLG + "Commune")
DECIMAL = NN(XSD + "decimal")
DATE = NN(XSD + "date")
P = {local: NN(MLG + local) for local in (
    "name", "shortDescription", "postalCode", "latitude", "longitude", "keyword",
    "dateModified", "territory", "inseeCode",
)}


def place_iri(key: str) -> str:
    return f"{DATA}place/{key}"


def commune_iri(k: int) -> str:
    return f"{DATA}commune/{k}"


def place_triples(key: str, i: int) -> tuple[ox.Triple, ...]:
    s = NN(place_iri(key))
    return (
        ox.Triple(s, TYPE, PLACE),
        ox.Triple(s, P["name"], ox.Literal(f"Lieu {key}", language="fr")),
        ox.Triple(s, P["shortDescription"], ox.Literal(f"Tiers-lieu de test {key}", language="fr")),
        ox.Triple(s, P["postalCode"], ox.Literal(f"{(i * 7919) % 100_000:05d}")),
        ox.Triple(s, P["latitude"], ox.Literal(f"{41 + (i % 900) / 100:.2f}", datatype=DECIMAL)),
        ox.Triple(s, P["longitude"], ox.Literal(f"{-4 + (i % 1200) / 100:.2f}", datatype=DECIMAL)),
        ox.Triple(s, P["keyword"], ox.Literal(f"atelier {i % 37}")),
        ox.Triple(s, P["keyword"], ox.Literal(f"réemploi {i % 41}")),
        ox.Triple(s, P["keyword"], ox.Literal(f"mobilité {i % 43}")),
        ox.Triple(s, P["dateModified"], ox.Literal("2025-06-01", datatype=DATE)),
        ox.Triple(s, P["territory"], NN(commune_iri(i % COMMUNES))),
    )


def commune_triples(k: int) -> tuple[ox.Triple, ...]:
    s = NN(commune_iri(k))
    return (
        ox.Triple(s, TYPE, COMMUNE),
        ox.Triple(s, P["name"], ox.Literal(f"Commune {k}", language="fr")),
        ox.Triple(s, P["inseeCode"], ox.Literal(f"01{k:03d}")),
    )


def record(triples: tuple[ox.Triple, ...]) -> Record:
    """A record as ``read_records`` makes it: one per subject, the subject IRI as source id."""
    return Record(source=SOURCE, source_id=triples[0].subject.value, triples=triples)


def entity_triples(total: int) -> Iterator[tuple[ox.Triple, ...]]:
    """``total`` entities: the communes first (so links resolve), then places."""
    for k in range(COMMUNES):
        yield commune_triples(k)
    for i in range(total - COMMUNES):
        yield place_triples(str(i), i)


def new_places(tag: str, count: int) -> list[Record]:
    return [record(place_triples(f"{tag}-{i}", i)) for i in range(count)]


def committed_quads(rec: Record, sequence: int, mark: bool = True) -> Iterator[tuple[ox.Triple, str]]:
    """What the Ingestor writes for a created record: its graph, provenance, one change entry
    (with its copy of the record), and, with ``mark``, the change log's last sequence (a prefill
    writes it once, for its last record). Placing writes nothing for these records.

    Built with the hub's own functions (Transaction, provenance_statements, append_change).
    """
    graph = graph_iri(BASE, rec.source, rec.source_id)
    entity = rec.entity()
    entity_value = entity.value if entity is not None else None
    tx = Transaction()
    tx.add_graph(graph, rec.triples)
    tx.add_meta(graph, provenance_statements(rec, entity_value))
    change = Change(sequence, now(), entity_value, graph, "create", rec.source, source_id=rec.source_id)
    append_change(tx, BASE, change, rec.triples)
    if not mark:
        del tx.latest[LOG_SUBJECT]
    for name, triples in tx.inserts.items():
        for t in triples:
            yield t, name
    for t in tx.meta_triples():
        yield t, META_GRAPH


def write_nquads(path: Path, total: int) -> int:
    """N-Quads of a store that already went through ``total`` created records."""
    count = 0
    with path.open("w", encoding="utf-8") as out:
        lines: list[str] = []
        for sequence, triples in enumerate(entity_triples(total), 1):
            for t, graph in committed_quads(record(triples), sequence, mark=sequence == total):
                lines.append(f"{t.subject} {t.predicate} {t.object} <{graph}> .\n")
            if len(lines) > 50_000:
                count += len(lines)
                out.writelines(lines)
                lines = []
        count += len(lines)
        out.writelines(lines)
    return count


def write_turtle(path: Path, places: int, changed: int = 0) -> int:
    """A Turtle file of the communes then ``places`` places; returns its number of triples.
    ``changed``: every ``changed``-th place has another name (the re-imported file)."""
    prefixes = (
        f"@prefix mlg: <{MLG}> .\n@prefix xsd: <{XSD}> .\n"
        f"@prefix c: <{DATA}commune/> .\n@prefix p: <{DATA}place/> .\n\n"
    )
    chunks = [prefixes]
    for k in range(COMMUNES):
        chunks.append(
            f'c:{k} a mlg:Commune ; mlg:name "Commune {k}"@fr ; mlg:inseeCode "01{k:03d}" .\n'
        )
    for i in range(places):
        name = "Nouveau lieu" if changed and i % changed == 0 else "Lieu"
        chunks.append(
            f'p:{i} a mlg:Place ;\n  mlg:name "{name} {i}"@fr ;\n'
            f'  mlg:shortDescription "Tiers-lieu de test {i}"@fr ;\n'
            f'  mlg:postalCode "{(i * 7919) % 100_000:05d}" ;\n'
            f'  mlg:latitude "{41 + (i % 900) / 100:.2f}"^^xsd:decimal ;\n'
            f'  mlg:longitude "{-4 + (i % 1200) / 100:.2f}"^^xsd:decimal ;\n'
            f'  mlg:keyword "atelier {i % 37}", "réemploi {i % 41}", "mobilité {i % 43}" ;\n'
            f'  mlg:dateModified "2025-06-01"^^xsd:date ;\n'
            f"  mlg:territory c:{i % COMMUNES} .\n"
        )
    path.write_text("".join(chunks), encoding="utf-8")
    return COMMUNES * 3 + places * 11


# --------------------------------------------------------------------------------------------
# Instrumentation: wrap the hub's stages (in this process only) to split the ingest time.

STAGES = {
    "sequence": "last_sequence (the change log's mark)",
    "hashes": "stored records lookup",
    "quarantine": "quarantine lookup",
    "placing": "placing recall (choices, candidates)",
    "neighbours": "neighbour types lookup",
    "validate": "Validator.validate",
    "graph_of": "  of which rdflib conversion",
    "pyshacl": "  of which pyshacl.validate",
    "render": "Transaction.render (SPARQL text)",
    "nquads": "Transaction.nquads_and_public (N-Quads text)",
    "update": "commit, SPARQL Update",
    "load": "commit, appended (N-Quads: extend, or bulk load)",
    "replica": "public replica (its part of each commit, its own thread)",
}
TOP_LEVEL = ("sequence", "hashes", "quarantine", "placing", "neighbours", "validate", "render",
             "nquads", "update", "load", "replica")


@dataclass
class Probe:
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))

    def wrap(self, name: str, fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                self.seconds[name] += time.perf_counter() - start

        return timed


@contextmanager
def instrumented() -> Iterator[Probe]:
    probe = Probe()
    targets: list[tuple[Any, str, str]] = [
        (hub.pipeline.ingest, "last_sequence", "sequence"),
        (hub.pipeline.ingest, "stored_records", "hashes"),
        (hub.pipeline.ingest, "quarantined", "quarantine"),
        (Placer, "recall", "placing"),
        (Ingestor, "_neighbour_types", "neighbours"),
        (Validator, "validate", "validate"),
        (hub.pipeline.validate, "graph_of", "graph_of"),
        (hub.pipeline.validate, "shacl_validate", "pyshacl"),
        (Transaction, "render", "render"),
        (Transaction, "nquads_and_public", "nquads"),
        (OxigraphStore, "_apply", "update"),
        (OxigraphStore, "_append", "load"),
        (PublicReplica, "_write", "replica"),
    ]
    saved = [(obj, attr, obj.__dict__[attr]) for obj, attr, _ in targets]
    try:
        for obj, attr, name in targets:
            setattr(obj, attr, probe.wrap(name, obj.__dict__[attr]))
        yield probe
    finally:
        for obj, attr, original in saved:
            setattr(obj, attr, original)


def breakdown_lines(probe: Probe, total: float, per: int, extra: dict[str, float] | None = None,
                    indent: str = "    ") -> list[str]:
    """Per-record µs of each stage, and its share of ``total``."""
    rows: list[tuple[str, float]] = list((extra or {}).items())
    rows += [(STAGES[k], probe.seconds.get(k, 0.0)) for k in STAGES]
    accounted = sum((extra or {}).values()) + sum(probe.seconds.get(k, 0.0) for k in TOP_LEVEL)
    rows.append(("other Python (planning, hashing, provenance, ...)", max(total - accounted, 0.0)))
    return [
        f"{indent}{label:<52} {us(seconds, per):>9} µs/record {100 * seconds / total:5.1f} %"
        for label, seconds in rows
    ]


# --------------------------------------------------------------------------------------------
# Helpers


def us(seconds: float, count: int) -> str:
    return f"{1e6 * seconds / count:,.1f}"


def rate(count: int, seconds: float) -> str:
    return f"{count / seconds:,.0f}"


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def check_created(result: IngestResult, expected: int, what: str) -> None:
    if result.created != expected or result.quarantined:
        first = next(iter(result.reports.values()), None)
        detail = first.summary() if first is not None else ""
        sys.exit(
            f"bench data did not ingest as {expected} valid new records ({what}): "
            f"created={result.created} quarantined={result.quarantined}\n{detail}"
        )


def check_prefill(validator: Validator) -> None:
    """The generated N-Quads equal what the Ingestor commits, timestamps aside."""

    def normal(quads: Iterator[tuple[str, str, str, str]]) -> set[tuple[str, str, str, str]]:
        return {
            (s, p, "<time>" if o.endswith(f"<{XSD}dateTime>") else o, g) for s, p, o, g in quads
        }

    rec = record(commune_triples(0))
    store = OxigraphStore(None)
    Ingestor(store, BASE, validator=validator).ingest([rec])
    # a commit that only adds appends the latest-wins bookkeeping as a version of its subject
    # (hub/meta/latest.py), where the prefill writes it in place: the same current state
    quads = [(str(q.subject), str(q.predicate), str(q.object), q.graph_name.value) for q in store.quads()]
    version_of = {s: o for s, p, o, _ in quads if p == f"<{VERSION_OF}>"}
    stored = normal(
        (version_of.get(s, s), p, o, g) for s, p, o, g in quads
        if p not in (f"<{VERSION_OF}>", f"<{VERSION_ORDER}>")
    )
    generated = normal(
        (str(t.subject), str(t.predicate), str(t.object), g) for t, g in committed_quads(rec, 1)
    )
    if stored != generated:
        sys.exit(
            "the prefill does not match what the Ingestor writes; update bench/run.py\n"
            f"only in the store: {sorted(stored - generated)[:5]}\n"
            f"only generated: {sorted(generated - stored)[:5]}"
        )


# --------------------------------------------------------------------------------------------
# 1. Per-record ingest cost, big store vs small store


def prefilled_store(directory: Path, total: int) -> tuple[OxigraphStore, float]:
    nq = directory / "prefill.nq"
    write_nquads(nq, total)
    store = OxigraphStore(directory / "store")
    seconds, _ = timed(lambda: store.native.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS))
    nq.unlink()
    return store, seconds


def prefill_entities(directory: Path) -> int:
    """How many entities the prefill in ``directory`` holds: its change log's last sequence (one
    entry per created record)."""
    if not (directory / "store").is_dir():
        sys.exit(f"no prefilled store in {directory} (expected {directory / 'store'}; "
                 "make one with --write-prefill DIR --entities N)")
    with OxigraphStore(directory / "store", read_only=True) as store:
        return last_sequence(store)


def copied_store(source: Path, directory: Path) -> OxigraphStore:
    """A copy of the prefill in ``source`` (the store and its replica files), opened for writing.

    A copy, not the prefill itself: the rounds write their records into the big store, so a
    second run on the same store would find them stored already and measure "unchanged"."""
    for entry in sorted(source.iterdir()):
        if entry.name.startswith("store"):
            if entry.is_dir():
                shutil.copytree(entry, directory / entry.name)
            else:
                shutil.copy2(entry, directory / entry.name)
    return OxigraphStore(directory / "store")


def check_reused(store: OxigraphStore, entities: int) -> None:
    """The reused prefill holds what ``committed_quads`` generates now for its first record
    (timestamps aside), so a prefill written by older code is refused rather than measured."""
    for t, graph in committed_quads(record(commune_triples(0)), 1, mark=False):
        g = NN(graph)
        if str(t.object).endswith(f"<{XSD}dateTime>"):
            found = any(True for _ in store.native.quads_for_pattern(t.subject, t.predicate, None, g))
        else:
            found = ox.Quad(t.subject, t.predicate, t.object, g) in store.native
        if not found:
            sys.exit(f"the reused prefill lacks {t} in <{graph}>: it was written by other code; "
                     "write it again with --write-prefill")
    if last_sequence(store) != entities:
        sys.exit(f"the reused prefill's change log ends at {last_sequence(store)}, not {entities}")


def bench_scaling(sizes: Sizes, validator: Validator, workdir: Path,
                  prefilled: Path | None = None, compact: bool = False) -> dict[str, float]:
    """``prefilled``: a directory holding a prefill of ``sizes.big_store`` entities (an earlier
    ``--write-prefill``), copied instead of generated and loaded again. ``compact``: both stores
    are compacted (``Store.optimize``) after their prefill, so the rounds do not run during the
    background compaction that a bulk load leaves pending (see bench/README.md, figure 1)."""
    print(f"\n1. Per-record ingest cost: store of {sizes.big_store:,} vs {sizes.small_store:,} "
          f"entities")
    print(f"   {sizes.new_records} new places per round, Ingestor(batch_size={sizes.ingest_batch}) "
          f"with validation, on-disk OxigraphStore; {sizes.rounds} rounds, median")
    check_prefill(validator)
    big_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="big-"))
    start = time.perf_counter()
    if prefilled is not None:
        big = copied_store(prefilled, big_dir)
        copy_seconds = time.perf_counter() - start
        check_reused(big, sizes.big_store)
        quads = len(big.native)
        print(f"   prefill of the big store REUSED from {prefilled} (copied in {copy_seconds:.1f} s, "
              f"not generated): {quads:,} quads (record graphs + provenance + change log)")
    else:
        big, load_seconds = prefilled_store(big_dir, sizes.big_store)
        quads = len(big.native)
        print(f"   prefill of the big store: {quads:,} quads (record graphs + provenance + change "
              f"log) in {time.perf_counter() - start:.1f} s, of which bulk_load {load_seconds:.1f} s")
    if compact:
        seconds, _ = timed(big.native.optimize)
        print(f"   both stores compacted before the rounds (Store.optimize): the big one in "
              f"{seconds:.1f} s")

    def ingest(store: OxigraphStore, records: list[Record]) -> tuple[float, Probe]:
        ingestor = Ingestor(store, BASE, validator=validator, batch_size=sizes.ingest_batch)
        with instrumented() as probe:
            seconds, result = timed(lambda: ingestor.ingest(records))
        check_created(result, len(records), "scaling")
        return seconds, probe

    # Warm-up (imports, pyshacl's first call, the store caches); not measured.
    ingest(big, new_places("warm", 50))

    small_times: list[float] = []
    big_times: list[float] = []
    probes: dict[str, list[tuple[float, Probe]]] = {"small": [], "big": []}
    for round_ in range(sizes.rounds):
        records = new_places(f"r{round_}", sizes.new_records)
        small_dir = Path(tempfile.mkdtemp(dir=workdir, prefix="small-"))
        small, _ = prefilled_store(small_dir, sizes.small_store)
        if compact:
            small.native.optimize()
        ingest(small, new_places("warm", 50))
        order = [("small", small), ("big", big)]
        if round_ % 2:
            order.reverse()
        for name, store in order:
            seconds, probe = ingest(store, records)
            (small_times if name == "small" else big_times).append(seconds)
            probes[name].append((seconds, probe))
        small.close()

    n = sizes.new_records
    small_us = 1e6 * statistics.median(small_times) / n
    big_us = 1e6 * statistics.median(big_times) / n
    ratio = big_us / small_us

    def rounds_text(times: list[float]) -> str:
        return ", ".join(us(t, n) for t in times)

    print(f"   small store ({sizes.small_store:,}): {small_us:,.1f} µs/record "
          f"(rounds: {rounds_text(small_times)})")
    print(f"   big store ({sizes.big_store:,}): {big_us:,.1f} µs/record "
          f"(rounds: {rounds_text(big_times)})")
    print(f"   ratio big / small: {ratio:.2f} (goal <= {GOAL_SCALING})")
    for name in ("small", "big"):
        seconds, probe = sorted(probes[name], key=lambda item: item[0])[len(probes[name]) // 2]
        print(f"   breakdown, {name} store (median round):")
        print("\n".join(breakdown_lines(probe, seconds, n)))
    big.close()
    return {"scaling_ratio": ratio, "small_us": small_us, "big_us": big_us}


# --------------------------------------------------------------------------------------------
# 2. Bulk import rate vs raw bulk_load


RAW_LOAD = ("import sys, pyoxigraph as ox; "
            "ox.Store(sys.argv[1]).bulk_load(path=sys.argv[2], format=ox.RdfFormat.TURTLE)")
# What a first load stored, loaded back by the store alone: the main store's N-Quads and the
# public replica's, each into a fresh on-disk store, side by side on two threads as the hub's
# writer and replica threads do (bulk_load releases the GIL).
STORED_LOAD = (  # arguments: main store directory and N-Quads file, then the replica's if any
    "import sys, threading, pyoxigraph as ox\n"
    "def load(d, f): ox.Store(d).bulk_load(path=f, format=ox.RdfFormat.N_QUADS)\n"
    "t = threading.Thread(target=load, args=(sys.argv[3], sys.argv[4])) if len(sys.argv) > 3 else None\n"
    "t and t.start()\n"
    "load(sys.argv[1], sys.argv[2])\n"
    "t and t.join()"
)


def whole_process(command: list[str]) -> float:
    """Seconds of one command run as its own process, start to exit (imports included)."""
    gc.collect()
    start = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, env=dict(os.environ))
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"{' '.join(command[:4])} failed:\n{done.stderr[-2000:]}")
    return seconds


def raw_load(workdir: Path, ttl: Path, attempts: int = 3) -> float:
    """Median seconds of a process that bulk-loads ``ttl`` into a fresh on-disk store."""
    times = []
    for attempt in range(attempts):
        directory = Path(tempfile.mkdtemp(dir=workdir, prefix=f"raw-{attempt}-"))
        times.append(whole_process([sys.executable, "-c", RAW_LOAD, str(directory), str(ttl)]))
        shutil.rmtree(directory)
    return statistics.median(times)


def hub_import(data: Path, ttl: Path) -> float:
    return whole_process([sys.executable, "-m", "hub", "--data-dir", str(data), "import", str(ttl)])


def stored_dumps(workdir: Path, data: Path) -> tuple[list[Path], int]:
    """What the hub stored in ``data`` (main store and replica) as N-Quads files, and how many
    quads that is."""
    dumps, quads = [], 0
    for name in ("store", "store-public"):
        dump = workdir / f"stored-{name}.nq"
        stored = ox.Store.read_only(str(data / name))
        stored.dump(output=str(dump), format=ox.RdfFormat.N_QUADS)
        quads += len(stored)
        del stored
        dumps.append(dump)
    return dumps, quads


def store_floor(workdir: Path, dumps: list[Path], attempts: int = 3) -> float:
    """Median seconds of a process that bulk-loads ``dumps`` (main store, then the replica if
    given) into fresh on-disk stores: the least any import that stores the same could take, the
    store doing nothing but its fastest load."""
    times = []
    for attempt in range(attempts):
        target = Path(tempfile.mkdtemp(dir=workdir, prefix=f"stored-{attempt}-"))
        pairs = zip(("main", "replica"), dumps, strict=False)  # one dump or two
        args = [str(arg) for name, dump in pairs for arg in (target / name, dump)]
        times.append(whole_process([sys.executable, "-c", STORED_LOAD, *args]))
        shutil.rmtree(target)
    return statistics.median(times)


def logged(data: Path) -> int:
    with OxigraphStore(data / "store", read_only=True) as store:
        return last_sequence(store)


def bench_import(sizes: Sizes, validator: Validator, workdir: Path, ttl: Path, changed_ttl: Path,
                 triples: int) -> dict[str, float]:
    records_count = sizes.file_places + COMMUNES
    changed = len(range(0, sizes.file_places, CHANGED))
    print(f"\n2. Import of a Turtle file of {sizes.file_places:,} places + {COMMUNES} communes "
          f"({triples:,} triples, {ttl.stat().st_size / 1e6:.1f} MB), as whole processes")
    print("   hub: `maillage import FILE` into a fresh data dir (territory reference off), then the "
          f"same file with every {CHANGED}th place renamed ({changed:,} records) into the same dir")
    print("   raw: a process that runs pyoxigraph `Store(path).bulk_load(FILE)` into a fresh on-disk "
          "store (median of 3)")
    raw_s = raw_load(workdir, ttl)
    data = Path(tempfile.mkdtemp(dir=workdir, prefix="hub-")) / "data"
    first_s = hub_import(data, ttl)
    if logged(data) != records_count:
        sys.exit(f"the first import logged {logged(data)} changes, expected {records_count}")
    dumps, stored_quads = stored_dumps(workdir, data)  # timed after the re-import, not between
    raw_changed_s = raw_load(workdir, changed_ttl)
    again_s = hub_import(data, changed_ttl)
    if logged(data) != records_count + changed:
        sys.exit(f"the re-import logged {logged(data) - records_count} changes, expected {changed}")
    shutil.rmtree(data.parent)
    stored_s = store_floor(workdir, dumps)
    for dump in dumps:
        dump.unlink()
    first_ratio = raw_s / first_s
    again_ratio = raw_changed_s / again_s
    print(f"   raw bulk_load:          {raw_s:7.2f} s  {rate(triples, raw_s):>9} triples/s")
    print(f"   hub, first load:        {first_s:7.2f} s  {rate(triples, first_s):>9} triples/s  "
          f"ratio {first_ratio:.3f} (goal >= {GOAL_IMPORT})")
    print(f"   store floor: {stored_quads:,} quads stored by the first load (main store and "
          f"replica), bulk-loaded by a process of their own: {stored_s:.2f} s; raw / that "
          f"{raw_s / stored_s:.3f} (the best first-load ratio while the hub stores what it does); "
          f"hub / that {first_s / stored_s:.2f}")
    print(f"   raw bulk_load, changed: {raw_changed_s:7.2f} s")
    print(f"   hub, re-import:         {again_s:7.2f} s  ratio {again_ratio:.3f} "
          f"(goal >= {GOAL_REIMPORT})")

    # The same first load in this process, its stages timed (the CLI's batch size, no bar).
    store = OxigraphStore(Path(tempfile.mkdtemp(dir=workdir, prefix="import-")) / "store")
    options = ParseOptions(source=SOURCE, namespace=BASE)
    extra: dict[str, float] = {}

    def in_process() -> IngestResult:
        start = time.perf_counter()
        records = read_records(ttl, options, ox.RdfFormat.TURTLE)
        extra["read_records (parse + group + skolemize)"] = time.perf_counter() - start
        start = time.perf_counter()
        digest = hashlib.sha256(ttl.read_bytes()).hexdigest()[:16]
        cursor_key = f"import:{SOURCE}:{digest}"
        done = int(read_cursor(store, BASE, cursor_key) or 0)
        ingestor = Ingestor(store, BASE, validator=validator, batch_size=IMPORT_BATCH)
        extra["file hash, read_cursor, Ingestor()"] = time.perf_counter() - start
        return ingestor.ingest(records[done:], cursor_key=cursor_key,
                               cursor_value=lambda n: str(done + n), known_types=types_of(records))

    with instrumented() as probe, rare_collections():  # the collector as the CLI sets it
        hub_seconds, result = timed(in_process)
        start = time.perf_counter()
        store.close()
        extra["closing the store (flush)"] = time.perf_counter() - start
    hub_seconds += extra["closing the store (flush)"]
    check_created(result, records_count, "import")
    print(f"   the first load in this process, by stage ({hub_seconds:.2f} s, batches of "
          f"{IMPORT_BATCH:,}; process start and imports not included; the commits, bulk load "
          "and replica, run on a second thread beside the next batch's planning, so the shares "
          "add up to more than 100 % and 'other Python' is what is left, if anything):")
    print("\n".join(breakdown_lines(probe, hub_seconds, records_count, extra)))

    # The floor of a pipeline in Python: the file read into records and validated, as the
    # import does, with nothing planned or written. No store work can bring the import under it.
    with rare_collections():
        start = time.perf_counter()
        records = read_records(ttl, options, ox.RdfFormat.TURTLE)
        known = types_of(records)
        empty = OxigraphStore(None)
        for first in range(0, len(records), IMPORT_BATCH):
            batch = records[first : first + IMPORT_BATCH]
            validator.validate(batch, neighbour_types(empty, batch, known))
        floor_s = time.perf_counter() - start
    print(f"   floor, reading and validating the file in this process, nothing written: "
          f"{floor_s:.2f} s; raw / floor {raw_s / floor_s:.3f} (the best first-load ratio a "
          "pipeline that reads and validates in Python could reach)")
    return {"import_ratio": first_ratio, "reimport_ratio": again_ratio, "floor_ratio": raw_s / floor_s,
            "stored_ratio": raw_s / stored_s, "over_stored": first_s / stored_s}


def bench_virtuoso(sizes: Sizes, workdir: Path) -> dict[str, float]:
    """The same kind of file into Virtuoso: `maillage import` on the remote backend (SPARQL
    Update batches of the configured size) / Virtuoso's own loader (ld_dir, rdf_loader_run)."""
    from tests.servers import virtuoso

    places = min(sizes.file_places, VIRTUOSO_PLACES)
    ttl = workdir / "virtuoso-places.ttl"
    triples = write_turtle(ttl, places)
    print(f"\n2c. Import of a Turtle file of {places:,} places + {COMMUNES} communes ({triples:,} "
          "triples) into Virtuoso 7, each into a fresh server")
    reason = virtuoso.available()
    if reason:
        print(f"   skipped: {reason}")
        return {}
    with virtuoso.running_virtuoso() as server:
        raw_s = timed(lambda: server.bulk_load(ttl, "urn:maillage:bench"))[0]
    with virtuoso.running_virtuoso() as server:
        config = workdir / "virtuoso.toml"
        config.write_text(f'[store]\nbackend = "sparql"\nquery_url = "{server.sparql_url}"\n'
                          f'gsp_url = "{server.gsp_url}"\ngsp_graph_param = "graph-uri"\n')
        data = Path(tempfile.mkdtemp(dir=workdir, prefix="hub-virtuoso-"))
        hub_s = whole_process([sys.executable, "-m", "hub", "--data-dir", str(data), "--config",
                               str(config), "import", str(ttl)])
    print(f"   Virtuoso's loader (ld_dir + rdf_loader_run + checkpoint, through isql): {raw_s:.2f} s")
    print(f"   hub, `maillage import` on the remote backend (a process):          {hub_s:.2f} s")
    print(f"   ratio loader / hub: {raw_s / hub_s:.3f}")
    return {"virtuoso_ratio": raw_s / hub_s}


# --------------------------------------------------------------------------------------------
# 3. Batch validation vs whole-graph pyshacl


def bench_validation(sizes: Sizes, validator: Validator, ttl: Path) -> dict[str, float]:
    records = read_records(ttl, ParseOptions(source=SOURCE, namespace=BASE), ox.RdfFormat.TURTLE)
    count = len(records)
    batch = sizes.validation_batch
    print(f"\n3. Validation of {count:,} records: hub Validator in batches of {batch} (with "
          f"neighbour types) vs one pyshacl.validate of the whole graph")
    lookup = OxigraphStore(None)
    lookup.native.bulk_load(path=str(ttl), format=ox.RdfFormat.TURTLE)
    ingestor = Ingestor(lookup, BASE, validator=validator)
    batches = [records[i : i + batch] for i in range(0, count, batch)]
    neighbour_seconds, neighbours = timed(
        lambda: [ingestor._neighbour_types(b, {}) for b in batches]  # the Ingestor's own lookup
    )

    with instrumented() as probe:
        hub_seconds, reports = timed(
            lambda: [validator.validate(b, n) for b, n in zip(batches, neighbours, strict=True)]
        )
    violations = sum(len(r.violations) for rs in reports for r in rs)

    whole_triples = [t for r in records for t in r.triples]
    build_seconds, whole = timed(lambda: graph_of(whole_triples))
    whole_seconds, (conforms, _, _) = timed(
        lambda: pyshacl.validate(whole, shacl_graph=validator.shapes, inference="none")
    )

    # What a pyshacl call costs before any record: empty data graph (shapes graph set-up).
    def shacl(graph: rdflib.Graph) -> float:
        return timed(lambda: hub.pipeline.validate.shacl_validate(
            graph, shacl_graph=validator.shapes, inference="none", allow_warnings=True))[0]

    fixed = statistics.median(shacl(rdflib.Graph()) for _ in range(5))
    # The neighbours' rdf:type triples alone: targets of the shapes (sh:targetClass), so pyshacl
    # validates each linked node, finds it incomplete, and the hub drops those results.
    sample = neighbours[1] if len(neighbours) > 1 else neighbours[0]
    linked = len({t.subject.value for t in sample})
    alone = statistics.median(shacl(graph_of(sample)) for _ in range(3))
    neighbour_share = (alone - fixed) * len(batches) / hub_seconds

    hub_us = 1e6 * hub_seconds / count
    whole_us = 1e6 * whole_seconds / count
    ratio = hub_us / whole_us
    pyshacl_only = probe.seconds["pyshacl"]
    print(f"   hub, batches of {batch}:        {hub_us:8,.1f} µs/record "
          f"({len(batches)} calls, {violations} violations)")
    print(f"     of which pyshacl:          {1e6 * pyshacl_only / count:8,.1f} µs/record; "
          f"rdflib conversion {us(probe.seconds['graph_of'], count)} µs/record")
    print(f"     neighbour types lookup (not counted above): {us(neighbour_seconds, count)} "
          f"µs/record")
    print(f"   pyshacl, whole graph:        {whole_us:8,.1f} µs/record (conforms={conforms}; "
          f"building its rdflib graph, not counted: {us(build_seconds, count)} µs/record)")
    print(f"   ratio hub / whole graph: {ratio:.2f} (goal <= {GOAL_VALIDATION}); pyshacl part "
          f"only: {pyshacl_only / whole_seconds:.2f}")
    print(f"   fixed cost of one pyshacl call (empty data graph): {1e3 * fixed:.1f} ms, i.e. "
          f"{1e6 * fixed / batch:,.1f} µs/record at batches of {batch}")
    print(f"   pyshacl on the neighbour types of one batch alone ({linked} linked nodes): "
          f"{1e3 * alone:.1f} ms, i.e. {1e6 * (alone - fixed) / linked:,.0f} µs per linked node "
          f"beyond the fixed cost; about {100 * neighbour_share:.0f} % of the hub's validation "
          f"time goes to validating linked nodes whose results are then dropped")
    return {"validation_ratio": ratio, "hub_validation_us": hub_us, "whole_us": whole_us}


# --------------------------------------------------------------------------------------------


def write_prefill(directory: Path, entities: int) -> None:
    """The big store of figure 1 written once into ``directory`` (``--write-prefill``), for
    ``--prefilled`` runs that copy it instead of paying its generation and load again."""
    if (directory / "store").exists():
        sys.exit(f"{directory / 'store'} exists already: choose an empty directory")
    check_prefill(Validator(load_shapes()))
    directory.mkdir(parents=True, exist_ok=True)
    start = time.perf_counter()
    store, load_seconds = prefilled_store(directory, entities)
    quads = len(store.native)
    store.close()
    print(f"prefill of {entities:,} entities written to {directory}: {quads:,} quads in "
          f"{time.perf_counter() - start:.1f} s, of which bulk_load {load_seconds:.1f} s; "
          f"use it with --million --prefilled {directory}")


def main() -> None:
    def million(parser: Any) -> None:
        parser.add_argument("--million", action="store_true", help="figure 1 alone, with a store "
                            f"of {MILLION.big_store:,} entities (its prefill takes many minutes)")
        parser.add_argument("--entities", type=int, default=MILLION.big_store, metavar="N",
                            help="with --million or --write-prefill: the big store's size instead")
        parser.add_argument("--prefilled", type=Path, metavar="DIR",
                            help="with --million: copy the prefill in DIR (from --write-prefill) "
                            "instead of writing one; the size is read from it")
        parser.add_argument("--compact", action="store_true",
                            help="figure 1: compact both stores (Store.optimize) before the rounds")
        parser.add_argument("--write-prefill", type=Path, metavar="DIR",
                            help="only write a prefill of --entities entities into DIR, for "
                            "--prefilled, and stop")

    args, sizes = parse(__doc__, FULL, QUICK, f"big store of {QUICK.big_store:,} entities instead of "
                        f"{FULL.big_store:,}, file of {QUICK.file_places:,} places instead of "
                        f"{FULL.file_places:,}", million)
    started = time.perf_counter()
    if args.write_prefill is not None:
        write_prefill(args.write_prefill, args.entities)
        return
    if args.prefilled is not None and not args.million:
        sys.exit("--prefilled goes with --million (figure 1 alone)")
    if args.million:
        header("bench", False, f"rdflib {rdflib.__version__}, pyshacl {pyshacl.__version__}")
        entities = args.entities if args.prefilled is None else prefill_entities(args.prefilled)
        big = dataclasses.replace(MILLION, big_store=entities)
        print(f"MILLION: figure 1 alone, big store {big.big_store:,} entities"
              + (f", its prefill reused from {args.prefilled}" if args.prefilled else ""))
        with tempfile.TemporaryDirectory(prefix="maillage-bench-") as tmp:
            scaling = bench_scaling(big, Validator(load_shapes()), Path(tmp), args.prefilled,
                                    args.compact)
        label = f"1. ingest µs/record, {big.big_store // 1000}k / {big.small_store // 1000}k store"
        print_summary([Row(label, f"{scaling['scaling_ratio']:.2f}",
                           f"<= {GOAL_SCALING}", scaling["scaling_ratio"] <= GOAL_SCALING)],
                      False, started)
        return
    header("bench", args.quick, f"rdflib {rdflib.__version__}, pyshacl {pyshacl.__version__}",
           f"big store {sizes.big_store:,} entities (full run: {FULL.big_store:,}), file of "
           f"{sizes.file_places:,} places (full run: {FULL.file_places:,}), {sizes.rounds} rounds (full "
           f"run: {FULL.rounds})")
    validator = Validator(load_shapes())

    with tempfile.TemporaryDirectory(prefix="maillage-bench-") as tmp:
        workdir = Path(tmp)
        scaling = bench_scaling(sizes, validator, workdir, compact=args.compact)
        ttl = workdir / "places.ttl"
        triples = write_turtle(ttl, sizes.file_places)
        changed_ttl = workdir / "places-changed.ttl"
        write_turtle(changed_ttl, sizes.file_places, changed=CHANGED)
        imported = bench_import(sizes, validator, workdir, ttl, changed_ttl, triples)
        imported |= bench_virtuoso(sizes, workdir)
        validation = bench_validation(sizes, validator, ttl)

    print_summary([
        Row(f"1. ingest µs/record, {sizes.big_store // 1000}k / {sizes.small_store // 1000}k store",
            f"{scaling['scaling_ratio']:.2f}", f"<= {GOAL_SCALING}",
            scaling["scaling_ratio"] <= GOAL_SCALING),
        Row(f"2. first import, raw bulk_load / hub, processes ({sizes.file_places // 1000}k places)",
            f"{imported['import_ratio']:.3f}", f">= {GOAL_IMPORT}",
            imported["import_ratio"] >= GOAL_IMPORT),
        Row(f"2b. re-import, {100 // CHANGED} % changed, raw / hub", f"{imported['reimport_ratio']:.3f}",
            f">= {GOAL_REIMPORT}", imported["reimport_ratio"] >= GOAL_REIMPORT),
        Row("2d. floor: raw / reading and validating the file in Python, nothing written",
            f"{imported['floor_ratio']:.3f}", "-", None),
        Row("2e. store floor: raw / bulk_load of what the first load stored (no Python)",
            f"{imported['stored_ratio']:.3f}", "-", None),
        Row("2f. first import, hub / that store floor", f"{imported['over_stored']:.2f}", "-", None),
        *([Row(f"2c. Virtuoso: its loader / hub import ({min(sizes.file_places, VIRTUOSO_PLACES) // 1000}k "
               "places)", f"{imported['virtuoso_ratio']:.3f}", "-", None)]
          if "virtuoso_ratio" in imported else []),
        Row(f"3. validation µs/record, batches / whole graph ({sizes.file_places // 1000}k)",
            f"{validation['validation_ratio']:.2f}", f"<= {GOAL_VALIDATION}",
            validation["validation_ratio"] <= GOAL_VALIDATION),
    ], args.quick, started)


if __name__ == "__main__":
    main()

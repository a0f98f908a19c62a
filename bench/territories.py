"""Time to load the official territory reference into a fresh hub (what a first start costs).

    .venv/bin/python bench/territories.py            # the whole reference (36,359 records)
    .venv/bin/python bench/territories.py --quick    # regions, departments, EPCI and the communes
                                                     # of 5 departments (about 3,000 records)

A fresh on-disk store (with its public replica, as `maillage serve` opens it) receives the
reference through hub.territories.reference.ensure_loaded, the path a first `serve`, `demo` or
`import` takes: records generated from the vendored package, SHACL, content hashes, provenance,
change log. Printed: that time, records per second, a second call (the version already stored:
one query), for scale the same records' triples written with pyoxigraph's raw `bulk_load`
into a fresh on-disk store (no provenance, no change log, no replica), and what the web filter's
territory-name suggestions cost: the store's folding query against the in-memory name index.
See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import gzip
import json
import tempfile
import time

import pyoxigraph as ox

from bench.common import Row, header, parse, print_summary, use_tmpfs
from hub.store.oxigraph import OxigraphStore
from hub.territories.index import DATA, TerritoryIndex
from hub.territories.reference import ensure_loaded, records
from hub.views.territory_filter import other_territories, suggest
from hub.vocab import DEFAULT_BASE_IRI

QUICK_DEPARTMENTS = ("01", "29", "75", "93", "974")


def index(quick: bool) -> TerritoryIndex:
    if not quick:
        return TerritoryIndex.load()
    data = json.loads(gzip.decompress(DATA.read_bytes()))
    data["communes"] = [c for c in data["communes"] if c[2] in QUICK_DEPARTMENTS]
    return TerritoryIndex(data)


def main() -> None:
    started = time.perf_counter()
    args, quick = parse(__doc__, False, True, "regions, departments, EPCI, the communes of 5 departments")
    use_tmpfs()
    header("territory reference load", args.quick, quick_line="communes of 5 departments only")
    reference = index(quick)
    count = len(reference.regions) + len(reference.departments) + len(reference.epcis) + len(
        reference.communes)
    with tempfile.TemporaryDirectory(prefix="bench-territories-") as scratch:
        with OxigraphStore(Path(scratch) / "store") as store:
            began = time.perf_counter()
            loaded = ensure_loaded(store, DEFAULT_BASE_IRI, index=reference)
            first = time.perf_counter() - began
            assert loaded.result is not None and loaded.result.created == count, loaded
            began = time.perf_counter()
            again = ensure_loaded(store, DEFAULT_BASE_IRI, index=reference)
            second = time.perf_counter() - began
            assert again.result is None
            asked, served = suggestions(store, compare=not quick)
        quads = [ox.Quad(t.subject, t.predicate, t.object, ox.NamedNode(r.graph_iri(DEFAULT_BASE_IRI)))
                 for r in records(reference, DEFAULT_BASE_IRI) for t in r.triples]
        raw = ox.Store(str(Path(scratch) / "raw"))
        began = time.perf_counter()
        raw.bulk_extend(quads)
        raw.flush()
        raw_seconds = time.perf_counter() - began
    print(f"first load, fresh on-disk hub: {count:,} records in {first:.1f} s "
          f"({count / first:,.0f} records/s)")
    print(f"second load (version already stored): {second * 1000:.0f} ms")
    print(f"raw bulk_extend of the same {len(quads):,} triples: {raw_seconds:.2f} s")
    print(f"territory names as you type ({len(PREFIXES)} prefixes): {asked * 1000:.0f} ms asking the "
          f"store, {served * 1000:.2f} ms from memory")
    print_summary([
        Row(f"reference load, {count:,} records, fresh hub (s)", f"{first:.1f}"),
        Row("second start, reference already there (ms)", f"{second * 1000:.0f}"),
        Row("reference load, hub / raw bulk_extend", f"{first / raw_seconds:.0f}"),
        Row("name suggestion, from memory (ms)", f"{served * 1000:.2f}"),
        Row("name suggestion, store query / memory", f"{asked / served:.0f}"),
    ], args.quick, started, value_title="value")


PREFIXES = ("vich", "saint", "mont", "ile de", "EPIN", "b", "seine-saint", "zzz")


def suggestions(store: OxigraphStore, compare: bool) -> tuple[float, float]:
    """Mean seconds per call of the web filter's suggestions: the store's folding query (a hub
    without the reference in memory) against the in-memory name index (with the store's other
    territories as the served hub keeps them between writes; reading them again after a write is
    one query, printed apart); with the whole reference stored (``compare``), both must give the
    same territories."""
    times = {}
    others = other_territories(store, DEFAULT_BASE_IRI)  # the served hub keeps them between writes
    for base in (None, DEFAULT_BASE_IRI):
        suggest(store, "x", 10, base, others)  # the index is built once per process, not per call
        began = time.perf_counter()
        found = [suggest(store, q, 10, base, others) for q in PREFIXES]
        times[base] = (time.perf_counter() - began) / len(PREFIXES)
        if base is None:
            expected = [[s.iri for s in f] for f in found]
        elif compare:
            assert [[s.iri for s in f] for f in found] == expected, "the two ways disagree"
    return times[None], times[DEFAULT_BASE_IRI]


if __name__ == "__main__":
    main()

"""Time to load the official territory reference into a fresh hub (what a first start costs).

    .venv/bin/python bench/territories.py            # the whole reference (36,359 records)
    .venv/bin/python bench/territories.py --quick    # regions, departments, EPCI and the communes
                                                     # of 5 departments (about 3,000 records)

A fresh on-disk store (with its public replica, as `maillage serve` opens it) receives the
reference through hub.territories.reference.ensure_loaded, the path a first `serve`, `demo` or
`import` takes: records generated from the vendored package, SHACL, content hashes, provenance,
change log. Printed: that time, records per second, a second call (the version already stored:
one query), and for scale the same records' triples written with pyoxigraph's raw `bulk_load`
into a fresh on-disk store (no provenance, no change log, no replica). See bench/README.md.
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
    print_summary([
        Row(f"reference load, {count:,} records, fresh hub (s)", f"{first:.1f}"),
        Row("second start, reference already there (ms)", f"{second * 1000:.0f}"),
        Row("reference load, hub / raw bulk_extend", f"{first / raw_seconds:.0f}"),
    ], args.quick, started, value_title="value")


if __name__ == "__main__":
    main()

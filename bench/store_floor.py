"""What the store alone needs to load what a first import stores, share by share.

    .venv/bin/python bench/store_floor.py            # the 20k-place file of bench/run.py
    .venv/bin/python bench/store_floor.py --quick    # 2,000 places

Issue 18 asks a first load to run at half the rate of raw ``bulk_load`` (the file's triples in
the default graph of a fresh on-disk store). This script asks how far any import could get while
it stores what the hub stores: it imports the file once with ``maillage import`` (a process,
territory reference off), dumps the main store and the public replica as N-Quads, sorts the main
store's quads into the shares below, and times a process that does nothing but ``bulk_load`` each
cumulative set of shares into a fresh on-disk store (with the replica's dump beside it on a
second thread, as the hub's replica thread writes it), median of 3, alternating with the raw
load. Shares:

- record graphs: the file's triples, each record in its own named graph (the data itself);
- placing: the grid cells and candidates of each place (bounding-box queries, territories);
- provenance: each record graph's statements in the meta graph (source, hash, licence, ...);
- change log: each change's entry, with its copy of the record;
- the rest of the meta graph (cursor, counters).

Printed: raw / each load. No Python runs in the loads, so the ratio for a set of shares is the
most a first load could reach while storing them; nothing is asserted.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import os
import statistics
import tempfile
import time
from collections import defaultdict
from dataclasses import dataclass

import pyoxigraph as ox

from bench.common import Row, header, parse, print_summary
from bench.run import hub_import, raw_load, store_floor, stored_dumps, write_turtle
from hub.vocab import META_GRAPH

SHARES = ("record graphs", "placing", "provenance", "change log", "rest of the meta graph")
SETS = (  # cumulative sets of shares, each loaded with and without the replica
    ("record graphs",),
    ("record graphs", "placing"),
    ("record graphs", "placing", "provenance"),
    ("record graphs", "placing", "change log"),
    SHARES,
)


@dataclass(frozen=True)
class Sizes:
    places: int


FULL, QUICK = Sizes(20_000), Sizes(2_000)


def share(quad: ox.Quad) -> str:
    graph = quad.graph_name
    if not isinstance(graph, ox.NamedNode):
        return "rest of the meta graph"
    if graph.value != META_GRAPH:
        return "placing" if "/placing/" in graph.value else "record graphs"
    subject = quad.subject.value
    if "/change/" in subject:
        return "change log"
    return "provenance" if "/graph/" in subject else "rest of the meta graph"


def split(main: Path, workdir: Path) -> tuple[dict[tuple[str, ...], Path], dict[str, int]]:
    """One N-Quads file per set of shares, and each share's quad count."""
    by_share: dict[str, list[ox.Quad]] = defaultdict(list)
    for quad in ox.parse(path=str(main), format=ox.RdfFormat.N_QUADS):
        by_share[share(quad)].append(quad)
    files = {}
    for number, shares in enumerate(SETS):
        files[shares] = workdir / f"set-{number}.nq"
        ox.serialize([q for s in shares for q in by_share[s]], output=str(files[shares]),
                     format=ox.RdfFormat.N_QUADS)
    return files, {s: len(by_share[s]) for s in SHARES}


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK, f"{QUICK.places:,} places instead of {FULL.places:,}")
    started = time.perf_counter()
    header("store floor", args.quick)
    with tempfile.TemporaryDirectory(prefix="maillage-floor-") as tmp:
        workdir = Path(tmp)
        ttl = workdir / "places.ttl"
        triples = write_turtle(ttl, sizes.places)
        data = workdir / "data"
        os.environ["MAILLAGE_TERRITORIES"] = "0"
        hub_s = hub_import(data, ttl)
        (main_dump, replica), stored_quads = stored_dumps(workdir, data)
        files, counts = split(main_dump, workdir)
        print(f"\nA file of {sizes.places:,} places ({triples:,} triples) imported by `maillage import`: "
              f"{hub_s:.2f} s. What it stored, by share (quads):")
        for name in SHARES:
            print(f"   {name:24s} {counts[name]:>9,}")
        print(f"   {'public replica':24s} {stored_quads - sum(counts.values()):>9,} (its own store)")
        times: dict[str, list[float]] = defaultdict(list)
        for _ in range(3):  # alternating, so that a slow moment of the machine hits all of them
            times["raw"].append(raw_load(workdir, ttl, attempts=1))
            for shares, path in files.items():
                label = " + ".join(shares)
                times[label].append(store_floor(workdir, [path], attempts=1))
                times[label + " + replica"].append(store_floor(workdir, [path, replica], attempts=1))
        raw_s = statistics.median(times["raw"])
        print(f"\nbulk_load as whole processes, median of 3 (raw: the file into the default graph, "
              f"{raw_s:.2f} s):")
        rows = []
        for label, seconds in times.items():
            if label == "raw":
                continue
            median = statistics.median(seconds)
            print(f"   {label:84s} {median:6.2f} s  raw / that {raw_s / median:.3f}")
            rows.append(Row(f"raw / load of {label}".replace("record graphs", "records")
                            .replace("rest of the meta graph", "rest"),
                            f"{raw_s / median:.3f}", "-", None))
        rows.append(Row("raw / maillage import", f"{raw_s / hub_s:.3f}", ">= 0.5", raw_s / hub_s >= 0.5))
    print_summary(rows, args.quick, started)


if __name__ == "__main__":
    main()

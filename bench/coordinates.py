"""Cost of placing from coordinates: reading the commune outlines, then one decision per record.

    .venv/bin/python bench/coordinates.py            # one point per commune (34,867 decisions)
    .venv/bin/python bench/coordinates.py --quick    # one point per 20 communes

A record that gives only coordinates is placed by hub.territories.geometry (point in the outline
of the communes whose box holds it). Printed: the time to read the vendored outlines (paid once
per process, at the first such record), the time per decision through Placer.decide with
coordinates, the same with a town name (the cheapest placing that needs no code), and their
ratio. The points are the middle of each commune's bounding box (inside it or not: the cost is
the same). See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import time

from bench.common import Row, header, parse, print_summary
from hub.pipeline.place import Hints, Placer
from hub.territories import geometry
from hub.territories.index import TerritoryIndex
from hub.vocab import DEFAULT_BASE_IRI


def main() -> None:
    started = time.perf_counter()
    args, step = parse(__doc__, 1, 20, "one point per 20 communes")
    header("placing from coordinates", args.quick, quick_line="one point per 20 communes")
    index = TerritoryIndex.load()
    began = time.perf_counter()
    shapes = geometry.CommuneShapes.read()
    read = time.perf_counter() - began
    geometry.available()  # what the placer uses, read here once so the decisions below exclude it
    points = []
    for i in range(0, len(shapes.codes), step):
        x0, y0, x1, y1 = shapes._boxes[4 * i : 4 * i + 4]
        points.append(((y0 + y1) / 2 * shapes.quantum, (x0 + x1) / 2 * shapes.quantum))
    names = [c.name for c in list(index.all_communes())[::step]]
    placer = Placer(DEFAULT_BASE_IRI, index)
    began = time.perf_counter()
    placed = sum(bool(placer.decide(Hints(point=p), {}).placements) for p in points)
    by_point = (time.perf_counter() - began) / len(points)
    began = time.perf_counter()
    for name in names:
        placer.decide(Hints(names=(name,)), {})
    by_name = (time.perf_counter() - began) / len(names)
    print(f"outlines read: {len(shapes.codes):,} communes in {read:.2f} s")
    print(f"coordinates: {len(points):,} decisions, {placed:,} placed, {by_point * 1e6:.0f} µs each")
    print(f"town name: {len(names):,} decisions, {by_name * 1e6:.0f} µs each")
    print_summary([
        Row("outlines read, once per process (s)", f"{read:.2f}"),
        Row("placing decision from coordinates (µs)", f"{by_point * 1e6:.0f}"),
        Row("placing decision, coordinates / town name", f"{by_point / by_name:.1f}"),
    ], args.quick, started, value_title="value")


if __name__ == "__main__":
    main()

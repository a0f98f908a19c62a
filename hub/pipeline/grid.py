"""Grid cells: a spatial index for bounding boxes, derived from an entity's coordinates.

Oxigraph has no range index: a bounding box (``?lat >= a && ?lat <= b ...``) reads every
latitude and longitude in the store, 12 times Virtuoso's time on 100,000 entities (issue 19).
So each entity with ``mlg:latitude`` and ``mlg:longitude`` also gets ``mlg:gridCell`` values,
the cells of a fixed grid holding its point at two sizes (1° and 0.1°, strings such as
``"g10:452:48"``), written at commit in the record's derived graph beside its placing
(:mod:`hub.pipeline.place`), replaced and dropped with the record. A bounding box then lists the
cells it covers (:func:`bbox_cells`) as ``VALUES``, which the store answers from its
predicate-object index, and keeps the exact coordinate filter for the cells' edges.

From SPARQL (anonymous readers too: the derived graph is public)::

    PREFIX mlg: <https://w3id.org/maillage/ontology#>
    SELECT ?s ?lat ?lon WHERE {
      VALUES ?cell { "g10:450:40" "g10:450:41" "g10:451:40" "g10:451:41" }
      ?s mlg:gridCell ?cell ; mlg:latitude ?lat ; mlg:longitude ?lon .
      FILTER(?lat >= 45.0 && ?lat <= 45.1 && ?lon >= 4.0 && ?lon <= 4.1)
    }

A cell is ``g{cells per degree}:{floor(lat × n)}:{floor(lon × n)}``; list a box's cells with
:func:`bbox_cells` (the README shows the arithmetic).
"""

from __future__ import annotations

import math
from collections.abc import Iterable

import pyoxigraph as ox

from hub.store.base import Store
from hub.vocab import MLG

GRID_CELL = MLG + "gridCell"
LATITUDE, LONGITUDE = MLG + "latitude", MLG + "longitude"
LEVELS = (10, 1)
"""Cells per degree, finest first: 0.1° (about 11 km) and 1°."""
MAX_CELLS = 400
"""A box covering more cells than this at the coarsest level is filtered without the index."""

_CELL = ox.NamedNode(GRID_CELL)


def cell(lat: float, lon: float, per_degree: int) -> str:
    return f"g{per_degree}:{math.floor(lat * per_degree)}:{math.floor(lon * per_degree)}"


def grid_triples(entity: ox.NamedNode, lat: float, lon: float) -> list[ox.Triple]:
    """The entity's cells, one per level; none for coordinates off the globe."""
    if not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return []
    return [ox.Triple(entity, _CELL, ox.Literal(cell(lat, lon, n))) for n in LEVELS]


def coordinates(triples: Iterable[ox.Triple], entity: ox.NamedNode) -> tuple[float, float] | None:
    """The entity's (latitude, longitude) as its record states them, when both are numbers."""
    lat = lon = None
    for t in triples:
        p = t.predicate.value
        if p in (LATITUDE, LONGITUDE) and t.subject == entity and isinstance(t.object, ox.Literal):
            try:
                value = float(t.object.value)
            except ValueError:
                continue
            if math.isfinite(value):
                if p == LATITUDE:
                    lat = value
                else:
                    lon = value
    return (lat, lon) if lat is not None and lon is not None else None


def complete(store: Store) -> bool:
    """Whether every entity with numeric coordinates on the globe has its cells. A store written
    before cells existed (or by a tool that bypasses ingest) has none until ``maillage places
    refresh``; until then the bounding-box filters do without the index (answers stay right)."""
    return not store.ask(
        f"ASK {{ ?s <{LATITUDE}> ?lat ; <{LONGITUDE}> ?lon . "
        "FILTER(isNumeric(?lat) && isNumeric(?lon) && ?lat >= -90 && ?lat <= 90 && "
        f"?lon >= -180 && ?lon <= 180) FILTER NOT EXISTS {{ ?s <{GRID_CELL}> ?cell }} }}"
    )


def bbox_cells(bbox: tuple[float, float, float, float]) -> list[str] | None:
    """The cells covering (minLon, minLat, maxLon, maxLat) at the finest level that needs at most
    :data:`MAX_CELLS`; None when the box is too large for the index to help."""
    min_lon, min_lat, max_lon, max_lat = bbox
    for n in LEVELS:
        rows = range(math.floor(min_lat * n), math.floor(max_lat * n) + 1)
        columns = range(math.floor(min_lon * n), math.floor(max_lon * n) + 1)
        if len(rows) * len(columns) <= MAX_CELLS:
            return [f"g{n}:{r}:{c}" for r in rows for c in columns]
    return None


def bbox_cells_values(bbox: tuple[float, float, float, float], variable: str = "cell") -> str:
    """``VALUES ?cell { ... }`` for the box, or "" when it is too large for the index."""
    cells = bbox_cells(bbox)
    if cells is None:
        return ""
    return f"VALUES ?{variable} {{ " + " ".join(f'"{c}"' for c in cells) + " }"

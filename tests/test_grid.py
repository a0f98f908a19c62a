"""Grid cells: bounding boxes answered through the cells find exactly the entities inside."""

from __future__ import annotations

import json
import random
import re
from pathlib import Path

import httpx

from hub.pipeline.grid import LEVELS, bbox_cells, bbox_cells_values, cell
from hub.vocab import MLG, XSD
from tests.servers.hub import serving

BBOX = (4.0, 45.0, 4.35, 45.25)  # minLon, minLat, maxLon, maxLat


def test_the_cells_of_a_box_hold_every_point_inside_it() -> None:
    rng = random.Random(7)
    for _ in range(200):
        lon0, lat0 = rng.uniform(-10, 10), rng.uniform(40, 50)
        box = (lon0, lat0, lon0 + rng.uniform(0, 3), lat0 + rng.uniform(0, 3))
        cells = bbox_cells(box)
        assert cells is not None
        level = int(cells[0][1:].split(":")[0])
        for _ in range(20):
            lat, lon = rng.uniform(box[1], box[3]), rng.uniform(box[0], box[2])
            assert cell(lat, lon, level) in cells
    assert bbox_cells((-180, -90, 180, 90)) is None  # the whole world: no index
    assert bbox_cells_values((-180, -90, 180, 90)) == ""
    assert LEVELS[0] > LEVELS[-1]


def place_update(points: dict[str, tuple[float, float]]) -> str:
    body = " ".join(
        f"GRAPH <https://example.org/g/{key}> {{ <https://example.org/p/{key}> a <{MLG}Place> ; "
        f'<{MLG}name> "Lieu {key}"@fr ; <{MLG}latitude> "{lat}"^^<{XSD}decimal> ; '
        f'<{MLG}longitude> "{lon}"^^<{XSD}decimal> }}'
        for key, (lat, lon) in points.items()
    )
    return f"INSERT DATA {{ {body} }}"


def inside(lat: float, lon: float) -> bool:
    return BBOX[1] <= lat <= BBOX[3] and BBOX[0] <= lon <= BBOX[2]


def test_bbox_through_the_cells_finds_exactly_the_places_inside(tmp_path: Path) -> None:
    rng = random.Random(3)
    points = {f"g{n}": (round(rng.uniform(44.8, 45.45), 4), round(rng.uniform(3.8, 4.55), 4))
              for n in range(60)}
    points["edge"] = (BBOX[3], BBOX[2])  # on the box's corner: inside
    expected = {f"https://example.org/p/{k}" for k, (lat, lon) in points.items() if inside(lat, lon)}
    assert 5 < len(expected) < 55
    with serving(tmp_path / "data", demo=False) as hub, httpx.Client(timeout=60) as client:
        response = client.post(f"{hub.url}/sparql/update", data={"update": place_update(points)},
                                headers=hub.auth)
        assert response.status_code == 200, response.text
        bbox = ",".join(str(v) for v in BBOX)
        listed = client.get(f"{hub.url}/api/places", params={"bbox": bbox, "limit": 500},
                            headers={"Accept": "application/ld+json"})
        assert listed.status_code == 200, listed.text
        assert {m["id"] for m in listed.json()["items"]} == expected
        query = (
            f"SELECT ?s WHERE {{ {bbox_cells_values(BBOX)} ?s <{MLG}gridCell> ?cell ; "
            f"<{MLG}latitude> ?lat ; <{MLG}longitude> ?lon . FILTER(?lat >= {BBOX[1]} && "
            f"?lat <= {BBOX[3]} && ?lon >= {BBOX[0]} && ?lon <= {BBOX[2]}) }}"
        )
        rows = client.get(f"{hub.url}/sparql", params={"query": query},
                          headers={"Accept": "application/sparql-results+json"}).json()
        assert {b["s"]["value"] for b in rows["results"]["bindings"]} == expected  # anonymous too
        page = client.get(f"{hub.url}/ui/map", params={"bbox": bbox})
        assert page.status_code == 200
        points = re.search(r'<script[^>]*id="map-points"[^>]*>(.*?)</script>', page.text, re.S)
        assert points is not None
        assert {p["iri"] for p in json.loads(points.group(1))} == expected  # the map shows the box
        assert client.get(f"{hub.url}/ui/map", params={"bbox": "4,45,nope"}).status_code == 400
        # moved out of the box: its cells move with it
        moved = next(iter(sorted(expected)))
        key = moved.rsplit("/", 1)[1]
        update = place_update({key: (47.0, 2.0)}).replace(
            "INSERT DATA", f"DROP GRAPH <https://example.org/g/{key}> ; INSERT DATA")
        assert client.post(f"{hub.url}/sparql/update", data={"update": update},
                           headers=hub.auth).status_code == 200
        again = client.get(f"{hub.url}/api/places", params={"bbox": bbox, "limit": 500},
                           headers={"Accept": "application/ld+json"})
        assert {m["id"] for m in again.json()["items"]} == expected - {moved}

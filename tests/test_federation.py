"""Hubs on loopback, as separate processes: two local hubs and an aggregator, over real HTTP."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from hub.vocab import MLG
from tests.servers.hub import ServedHub, serving

PLACES = f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{MLG}Place> }}"


def places_file(path: Path, prefix: str, count: int) -> Path:
    lines = [f"@prefix mlg: <{MLG}> ."]
    lines += [f'<https://example.org/{prefix}/{i}> a mlg:Place ; mlg:name "{prefix} {i}"@fr .' for i in range(count)]
    path.write_text("\n".join(lines) + "\n")
    return path


def hub_config(name: str, peers: dict[str, str]) -> str:
    text = f'[hub]\nbase_iri = "https://{name}.example.org/id/"\n'
    for peer, url in peers.items():
        text += f'\n[[sources]]\nname = "{peer}"\nkind = "hub"\nurl = "{url}"\ndirection = "read"\n'
    return text


def count(hub: ServedHub, query: str = PLACES) -> int:
    return int(httpx.get(f"{hub.url}/sparql", params={"query": query}).json()["results"]["bindings"][0]["n"]["value"])


def sync(hub: ServedHub, source: str) -> dict[str, object]:
    response = httpx.post(f"{hub.url}/sources/{source}/sync", headers=hub.auth, timeout=120)
    assert response.status_code == 200, response.text
    return dict(response.json())


def add_place(hub: ServedHub, key: str) -> None:
    turtle = f'<https://example.org/new/{key}> a <{MLG}Place> ; <{MLG}name> "Nouveau {key}"@fr .'
    response = httpx.put(f"{hub.url}/store", params={"graph": f"https://example.org/graph/{key}"},
                         content=turtle, headers={"Content-Type": "text/turtle", **hub.auth})
    assert response.status_code == 201, response.text


@pytest.fixture
def local_hubs(tmp_path: Path) -> Iterator[tuple[ServedHub, ServedHub]]:
    with ExitStack() as stack:
        hubs = []
        for name, size in (("a", 3), ("b", 2)):
            data = tmp_path / name / "data"
            data.parent.mkdir()
            source = places_file(tmp_path / f"{name}.ttl", name, size)
            subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(data), "import", str(source)],
                           check=True, capture_output=True)
            hubs.append(stack.enter_context(serving(data, hub_config(name, {}), demo=False)))
        yield hubs[0], hubs[1]


def test_an_aggregator_sums_its_peers_and_catches_up(local_hubs: tuple[ServedHub, ServedHub],
                                                     tmp_path: Path) -> None:
    a, b = local_hubs
    config = hub_config("region", {"a": a.url, "b": b.url})
    with serving(tmp_path / "region" / "data", config, demo=False) as region:
        assert sync(region, "a")["error"] is None and sync(region, "b")["error"] is None
        assert count(region) == count(a) + count(b) == 5
        add_place(a, "a-late")  # a change in a local hub reaches the aggregator
        sync(region, "a")
        assert count(region) == 6
    for key in ("x", "y", "z"):  # the aggregator is down while the local hub changes
        add_place(a, key)
    with serving(tmp_path / "region" / "data", config, demo=False) as region:
        sync(region, "a")
        sync(region, "a")
        assert count(region) == count(a) + count(b) == 9, "caught up, nothing lost or twice"
        graphs = f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{MLG}Place> }} }}"
        assert count(region, graphs) == 9


def test_a_loop_in_the_topology_duplicates_nothing(local_hubs: tuple[ServedHub, ServedHub],
                                                   tmp_path: Path) -> None:
    a, b = local_hubs
    region_dir, mesh_dir = tmp_path / "region" / "data", tmp_path / "mesh" / "data"
    with serving(region_dir, hub_config("region", {"a": a.url, "b": b.url}), demo=False) as region:
        sync(region, "a")
        sync(region, "b")
        with serving(mesh_dir, hub_config("mesh", {"region": region.url}), demo=False) as mesh:
            sync(mesh, "region")
            assert count(mesh) == 5
    with ExitStack() as stack:  # now the region also reads the mesh, which holds the region's data
        mesh = stack.enter_context(serving(mesh_dir, hub_config("mesh", {}), demo=False))
        region = stack.enter_context(serving(
            region_dir, hub_config("region", {"a": a.url, "b": b.url, "mesh": mesh.url}), demo=False))
        assert sync(region, "mesh")["error"] is None
        assert count(region) == 5, "records that came back through the mesh are not counted twice"
        graphs = f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{MLG}Place> }} }}"
        assert count(region, graphs) == 5


def test_a_hub_does_not_take_back_its_own_records(local_hubs: tuple[ServedHub, ServedHub],
                                                  tmp_path: Path) -> None:
    a, b = local_hubs
    with serving(tmp_path / "region" / "data", hub_config("region", {"a": a.url, "b": b.url}),
                 demo=False) as region:
        sync(region, "a")
        sync(region, "b")
        # the local hub "a" reads the region back: its own three places must not return twice
        a_again = tmp_path / "a-again" / "data"
        subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(a_again), "import",
                        str(places_file(tmp_path / "a2.ttl", "a", 3))], check=True, capture_output=True)
        with serving(a_again, hub_config("a", {"region": region.url}), demo=False) as same_as_a:
            assert sync(same_as_a, "region")["error"] is None
            assert count(same_as_a) == 5, "b's two places arrive, a's own three do not come back"


def test_a_peer_that_answers_garbage_is_reported_and_nothing_is_lost(local_hubs: tuple[ServedHub, ServedHub],
                                                                      tmp_path: Path) -> None:
    a, _ = local_hubs
    config = hub_config("region", {"a": a.url, "broken": f"{a.url}/health/nothing"})
    with serving(tmp_path / "region" / "data", config, demo=False) as region:
        sync(region, "a")
        report = sync(region, "broken")
        assert (report["error"] and "did not answer" in str(report["error"])) or "HTTP" in str(report["error"])
        [broken] = [s for s in httpx.get(f"{region.url}/sources").json() if s["name"] == "broken"]
        assert broken["last_error"]
        assert count(region) == 3


def test_a_peer_whose_feed_went_backwards_is_reported(local_hubs: tuple[ServedHub, ServedHub],
                                                      tmp_path: Path) -> None:
    a, _ = local_hubs
    region_dir = tmp_path / "region" / "data"
    with serving(region_dir, hub_config("region", {"a": a.url}), demo=False) as region:
        sync(region, "a")
        assert count(region) == 3
    # the peer is rebuilt from scratch (same name, new empty store): its feed now ends earlier
    with ExitStack() as stack:
        rebuilt = stack.enter_context(serving(tmp_path / "a-rebuilt" / "data", hub_config("a", {}), demo=False))
        region = stack.enter_context(serving(region_dir, hub_config("region", {"a": rebuilt.url}), demo=False))
        report = sync(region, "a")
        assert report["error"] and "went backwards" in str(report["error"])
        assert count(region) == 3, "what was read is kept"

"""The observatory queries of sparql/ answer on the demo data, and federated queries reach peers."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.pipeline.ingest import Ingestor
from hub.pipeline.neighbours import types_of
from hub.rdf.io import ParseOptions, read_records
from hub.rdf.resources import DEMO_DIR, SPARQL_DIR
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, MLG
from tests.servers.hub import ServedHub, serving


@pytest.fixture(scope="module")
def demo_store() -> OxigraphStore:
    records = read_records(DEMO_DIR / "demo.ttl", ParseOptions("demo", namespace=DEFAULT_BASE_IRI),
                           ox.RdfFormat.TURTLE)
    store = OxigraphStore(None)
    Ingestor(store, DEFAULT_BASE_IRI).ingest(records, known_types=types_of(records))
    return store


@pytest.mark.parametrize("name", sorted(p.stem for p in SPARQL_DIR.glob("*.rq")))
def test_each_observatory_query_answers_on_the_demo(demo_store: OxigraphStore, name: str) -> None:
    rows = demo_store.select((SPARQL_DIR / f"{name}.rq").read_text())
    assert rows, f"{name} found nothing in the demo data"


def test_projects_per_region_add_up(demo_store: OxigraphStore) -> None:
    rows = demo_store.select((SPARQL_DIR / "projects-per-region.rq").read_text())
    projects = {r["project"].value for r in rows}
    assert len({r["regionName"].value for r in rows}) > 3
    located = demo_store.select(f"""SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{ ?p a <{MLG}Project> ;
        <{MLG}concernsTerritory>/<{MLG}partOfTerritory>* ?r . ?r a <{MLG}Region> }}""")
    assert len(projects) == int(located[0]["n"].value)


def test_service_reaches_an_allow_listed_peer(hub_server: ServedHub, tmp_path: Path) -> None:
    peer = f"{hub_server.url}/sparql"
    query = f"SELECT (COUNT(?s) AS ?n) WHERE {{ SERVICE <{peer}> {{ ?s a <{MLG}Project> }} }}"
    with serving(tmp_path / "data", f'[api]\nservice_allowlist = ["{peer}"]\n', demo=False) as local:
        answer = httpx.get(f"{local.url}/sparql", params={"query": query}, timeout=60)
        assert answer.status_code == 200, answer.text
        remote = int(answer.json()["results"]["bindings"][0]["n"]["value"])
        direct = httpx.get(f"{hub_server.url}/sparql", params={
            "query": f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{MLG}Project> }}"}).json()
        assert remote == int(direct["results"]["bindings"][0]["n"]["value"]) > 0

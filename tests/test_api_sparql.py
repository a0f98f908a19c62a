"""``/sparql``, ``/sparql/update`` and ``/store`` over real HTTP, read back by real parsers."""

from __future__ import annotations

import csv
import io
import json
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from rdflib.plugins.stores.sparqlstore import SPARQLStore
from SPARQLWrapper import JSON, SPARQLWrapper

from hub.vocab import MLG
from tests.servers.hub import ServedHub, serving

COUNT_PROJECTS = f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{MLG}Project> }}"
NAMES = f"SELECT ?s ?name WHERE {{ ?s a <{MLG}Project> ; <{MLG}name> ?name }} ORDER BY ?s"


def demo_count(cls: str) -> int:
    quads = ox.parse(path="demo/demo.ttl", format=ox.RdfFormat.TURTLE)
    return len({q.subject for q in quads if q.predicate.value.endswith("#type")
                and q.object.value == MLG + cls})


def test_select_in_every_result_format(hub_server: ServedHub) -> None:
    url = f"{hub_server.url}/sparql"
    expected = demo_count("Project")
    got = httpx.get(url, params={"query": COUNT_PROJECTS},
                    headers={"Accept": "application/sparql-results+json"})
    assert got.status_code == 200
    assert int(got.json()["results"]["bindings"][0]["n"]["value"]) == expected
    xml = httpx.post(url, content=NAMES, headers={"Content-Type": "application/sparql-query",
                                                  "Accept": "application/sparql-results+xml"})
    ns = {"r": "http://www.w3.org/2005/sparql-results#"}
    assert len(ET.fromstring(xml.content).findall(".//r:result", ns)) == expected
    csv_text = httpx.post(url, data={"query": NAMES}, headers={"Accept": "text/csv"}).text
    rows = list(csv.DictReader(io.StringIO(csv_text)))
    assert len(rows) == expected and rows[0]["name"]
    tsv = httpx.get(url, params={"query": NAMES},
                    headers={"Accept": "text/tab-separated-values"}).text.splitlines()
    assert tsv[0].split("\t") == ["?s", "?name"] and len(tsv) == expected + 1


@pytest.mark.parametrize("media", ["text/turtle", "application/n-triples", "application/rdf+xml",
                                   "application/ld+json", "application/trig",
                                   "application/n-quads"])
def test_construct_in_every_rdf_format(hub_server: ServedHub, media: str) -> None:
    query = f"CONSTRUCT {{ ?s <{MLG}name> ?n }} WHERE {{ ?s a <{MLG}Project> ; <{MLG}name> ?n }}"
    response = httpx.get(f"{hub_server.url}/sparql", params={"query": query},
                         headers={"Accept": media})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(media)
    fmt = ox.RdfFormat.from_media_type(media)
    assert fmt is not None
    assert len(list(ox.parse(response.content, fmt))) == demo_count("Project")


def test_service_description_without_query(hub_server: ServedHub) -> None:
    response = httpx.get(f"{hub_server.url}/sparql")
    assert response.status_code == 200
    graph = rdflib.Graph().parse(data=response.text, format="turtle")
    sd = rdflib.Namespace("http://www.w3.org/ns/sparql-service-description#")
    assert (None, sd.endpoint, rdflib.URIRef(f"{hub_server.url}/sparql")) in graph


def test_standard_clients(hub_server: ServedHub) -> None:
    wrapper = SPARQLWrapper(f"{hub_server.url}/sparql")
    wrapper.setQuery(COUNT_PROJECTS)
    wrapper.setReturnFormat(JSON)
    result = wrapper.query().convert()
    assert int(result["results"]["bindings"][0]["n"]["value"]) == demo_count("Project")  # type: ignore[index]
    store = SPARQLStore(f"{hub_server.url}/sparql")
    rows = list(store.query(NAMES))
    assert len(rows) == demo_count("Project")


def test_dataset_parameters(hub_server: ServedHub) -> None:
    graph = json.loads(httpx.get(f"{hub_server.url}/sparql", params={
        "query": f"SELECT ?g WHERE {{ GRAPH ?g {{ ?s a <{MLG}Project> }} }} LIMIT 1"}).text)
    g = graph["results"]["bindings"][0]["g"]["value"]
    one = httpx.get(f"{hub_server.url}/sparql", params={
        "query": "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s ?p ?o }", "default-graph-uri": g})
    assert int(one.json()["results"]["bindings"][0]["n"]["value"]) == 1


@pytest.mark.parametrize("query,fragment", [
    ("SELEC ?x WHERE {}", "invalid"),
    ("SELECT * WHERE { SERVICE <http://169.254.169.254/latest> { ?s ?p ?o } }", "allow-list"),
    ("SELECT * WHERE { SERVICE ?endpoint { ?s ?p ?o } }", "SERVICE"),
])
def test_bad_queries_are_4xx_with_a_reason(hub_server: ServedHub, query: str, fragment: str) -> None:
    response = httpx.get(f"{hub_server.url}/sparql", params={"query": query})
    assert response.status_code == 400
    assert fragment in response.json()["error"]
    assert httpx.get(f"{hub_server.url}/sparql", params={"query": COUNT_PROJECTS}).status_code == 200


def test_unsupported_accept_and_post_type(hub_server: ServedHub) -> None:
    assert httpx.get(f"{hub_server.url}/sparql", params={"query": NAMES},
                     headers={"Accept": "image/png"}).status_code == 406
    assert httpx.post(f"{hub_server.url}/sparql", content=b"x",
                      headers={"Content-Type": "image/png"}).status_code == 415


@pytest.fixture(scope="module")
def limited_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    config = "[api]\nquery_timeout = 1.5\nmax_result_bytes = 20000\nmax_request_bytes = 50000\n"
    with serving(tmp_path_factory.mktemp("limited") / "data", config) as served:
        yield served


def test_runaway_query_is_stopped_and_the_server_keeps_answering(limited_hub: ServedHub) -> None:
    runaway = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"
    start = time.monotonic()
    response = httpx.get(f"{limited_hub.url}/sparql", params={"query": runaway}, timeout=60)
    assert response.status_code == 503
    assert "stopped" in response.json()["error"]
    assert time.monotonic() - start < 30
    ok = httpx.get(f"{limited_hub.url}/sparql", params={"query": "ASK { ?s ?p ?o }"})
    assert ok.status_code == 200 and ok.json()["boolean"] is True


def test_result_and_request_size_limits(limited_hub: ServedHub) -> None:
    big = httpx.get(f"{limited_hub.url}/sparql", params={"query": "SELECT * WHERE { ?s ?p ?o }"})
    assert big.status_code == 413 and "LIMIT" in big.json()["error"]
    huge = "SELECT * WHERE { ?s ?p ?o } #" + "x" * 60_000
    assert httpx.post(f"{limited_hub.url}/sparql", content=huge.encode(),
                      headers={"Content-Type": "application/sparql-query"}).status_code == 413


@pytest.fixture
def writable_hub(tmp_path: Path) -> Iterator[ServedHub]:
    with serving(tmp_path / "data") as served:
        yield served


def place(graph: str, subject: str, name: str | None) -> str:
    name_triple = f'<{subject}> <{MLG}name> "{name}"@fr .' if name else ""
    return f"GRAPH <{graph}> {{ <{subject}> a <{MLG}Place> . {name_triple} }}"


def ask(hub: ServedHub, query: str) -> bool:
    return bool(httpx.get(f"{hub.url}/sparql", params={"query": query}).json()["boolean"])


def test_sparql_update_needs_token_and_validates(writable_hub: ServedHub) -> None:
    url = f"{writable_hub.url}/sparql/update"
    update = f"INSERT DATA {{ {place('https://example.org/g/1', 'https://example.org/p/1', 'Lieu')} }}"
    headers = {"Content-Type": "application/sparql-update"}
    assert httpx.post(url, content=update, headers=headers).status_code == 401
    assert httpx.post(url, content=update, headers={**headers, "Authorization": "Bearer nope"}
                      ).status_code == 401
    ok = httpx.post(url, content=update, headers={**headers, **writable_hub.auth})
    assert ok.status_code == 200, ok.text
    assert [c["operation"] for c in ok.json()["changes"]] == ["create"]
    assert ask(writable_hub, f'ASK {{ <https://example.org/p/1> <{MLG}name> "Lieu"@fr }}')
    changes = httpx.get(f"{writable_hub.url}/health").json()["last_sequence"]
    assert changes == ok.json()["changes"][0]["sequence"]

    invalid = f"INSERT DATA {{ {place('https://example.org/g/2', 'https://example.org/p/2', None)} }}"
    refused = httpx.post(url, data={"update": invalid}, headers=writable_hub.auth)
    assert refused.status_code == 422
    assert any("fr" in v["message"] for v in refused.json()["violations"])
    assert not ask(writable_hub, "ASK { <https://example.org/p/2> ?p ?o }")

    rename = (f'DELETE {{ GRAPH <https://example.org/g/1> {{ ?s <{MLG}name> ?n }} }} '
              f'INSERT {{ GRAPH <https://example.org/g/1> {{ ?s <{MLG}name> "Nouveau"@fr }} }} '
              f'WHERE {{ GRAPH <https://example.org/g/1> {{ ?s <{MLG}name> ?n }} }}')
    updated = httpx.post(url, content=rename, headers={**headers, **writable_hub.auth})
    assert [c["operation"] for c in updated.json()["changes"]] == ["update"]
    assert ask(writable_hub, f'ASK {{ <https://example.org/p/1> <{MLG}name> "Nouveau"@fr }}')


@pytest.mark.parametrize("update,fragment", [
    ("INSERT DATA { <https://e.org/a> <https://e.org/p> 1 }", "GRAPH"),
    ("LOAD <http://example.org/data.ttl>", "LOAD"),
    ("DROP ALL", "graph"),
    ("INSERT DATA { GRAPH <urn:maillage:meta> { <https://e.org/a> <https://e.org/p> 1 } }", "state"),
    ("INSERT DATTA {", "invalid"),
])
def test_refused_updates_say_why(writable_hub: ServedHub, update: str, fragment: str) -> None:
    response = httpx.post(f"{writable_hub.url}/sparql/update", data={"update": update},
                          headers=writable_hub.auth)
    assert response.status_code == 400
    assert fragment.lower() in response.json()["error"].lower()


def test_graph_store_protocol(writable_hub: ServedHub) -> None:
    url = f"{writable_hub.url}/store"
    graph = {"graph": "https://example.org/graph/tl"}
    turtle = f'<https://example.org/tl> a <{MLG}Place> ; <{MLG}name> "Tiers-lieu"@fr .'
    ttl = {"Content-Type": "text/turtle"}
    assert httpx.put(url, params=graph, content=turtle, headers=ttl).status_code == 401
    created = httpx.put(url, params=graph, content=turtle, headers={**ttl, **writable_hub.auth})
    assert created.status_code == 201, created.text
    read = httpx.get(url, params=graph, headers={"Accept": "application/n-triples"})
    assert len(list(ox.parse(read.content, ox.RdfFormat.N_TRIPLES))) == 2
    more = f'<https://example.org/tl> <{MLG}postalCode> "75011" .'
    assert httpx.post(url, params=graph, content=more, headers={**ttl, **writable_hub.auth}
                      ).status_code == 200
    assert ask(writable_hub, f'ASK {{ <https://example.org/tl> <{MLG}postalCode> "75011" }}')
    bad = f'<https://example.org/tl> <{MLG}postalCode> "750" .'
    assert httpx.post(url, params=graph, content=bad, headers={**ttl, **writable_hub.auth}
                      ).status_code == 422
    broken = httpx.put(url, params=graph, content="<a> <b", headers={**ttl, **writable_hub.auth})
    assert broken.status_code == 400 and "line" in broken.json()["error"]
    assert httpx.delete(url, params=graph, headers=writable_hub.auth).status_code == 204
    assert httpx.get(url, params=graph).status_code == 404
    assert ask(writable_hub, "ASK { ?s ?p ?o }")  # the rest of the data is still there


def test_the_api_serves_a_remote_virtuoso_store(tmp_path: Path, virtuoso: object) -> None:
    config = (f'[store]\nbackend = "sparql"\nquery_url = "{virtuoso.sparql_url}"\n'  # type: ignore[attr-defined]
              f'gsp_url = "{virtuoso.gsp_url}"\ngsp_graph_param = "graph-uri"\n')  # type: ignore[attr-defined]
    with serving(tmp_path / "data", config, demo=False) as hub:
        graph = {"graph": "https://example.org/graph/remote"}
        turtle = f'<https://example.org/remote> a <{MLG}Place> ; <{MLG}name> "Lieu distant"@fr .'
        put = httpx.put(f"{hub.url}/store", params=graph, content=turtle,
                        headers={"Content-Type": "text/turtle", **hub.auth})
        assert put.status_code == 201, put.text
        found = httpx.get(f"{hub.url}/sparql", params={
            "query": f'SELECT ?n WHERE {{ <https://example.org/remote> <{MLG}name> ?n }}'},
            headers={"Accept": "application/sparql-results+json"})
        assert found.status_code == 200, found.text
        assert [b["n"]["value"] for b in found.json()["results"]["bindings"]] == ["Lieu distant"]
        assert httpx.delete(f"{hub.url}/store", params=graph, headers=hub.auth).status_code == 204


def test_from_chooses_the_default_graph_for_operators_and_anonymous_readers(
    hub_server: ServedHub,
) -> None:
    """A query's FROM is honoured whoever asks (the union option used to override it)."""
    url = f"{hub_server.url}/sparql"
    json_results = {"Accept": "application/sparql-results+json"}
    first = httpx.get(url, params={"query": "SELECT ?g WHERE { GRAPH ?g { ?s ?p ?o } } LIMIT 1"},
                      headers=json_results).json()["results"]["bindings"][0]["g"]["value"]
    inside = httpx.get(url, headers=json_results, params={
        "query": f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{first}> {{ ?s ?p ?o }} }}"})
    expected = int(inside.json()["results"]["bindings"][0]["n"]["value"])
    query = f"SELECT (COUNT(*) AS ?n) FROM <{first}> WHERE {{ ?s ?p ?o }}"
    for headers in (json_results, {**json_results, **hub_server.auth}):
        answer = httpx.get(url, params={"query": query}, headers=headers)
        assert answer.status_code == 200, answer.text
        assert int(answer.json()["results"]["bindings"][0]["n"]["value"]) == expected > 0

"""``/api/{type}`` in the formats people and tools read, against a served hub with the demo data.

A listing page is Linked Data (a Hydra collection: rdflib and pyld read its members, with no
network but the hub's own context), an entity document is the same graph in Turtle, N-Triples and
RDF/XML, and a collection opens in a map tool (GeoJSON) and a spreadsheet (CSV), page by page.
"""

from __future__ import annotations

import csv
import io
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import rdflib
from pyld import jsonld
from rdflib.compare import isomorphic
from rdflib.namespace import RDF, RDFS

from hub.vocab import MLG
from tests.servers.hub import ServedHub, serving

HYDRA = rdflib.Namespace("http://www.w3.org/ns/hydra/core#")
M = rdflib.Namespace(MLG)
LOCATED = [  # places a person would add with coordinates, beside the demo's own
    {"name": "Tiers-lieu de Die", "latitude": 44.753, "longitude": 5.37},
    {"name": "Fablab de Brest", "latitude": "48.39", "longitude": "-4.49"},
    {"name": 'Café "Le Lien", Saint-Denis', "latitude": -20.88, "longitude": 55.45,
     "shortDescription": "Un café associatif,\nouvert à tous"},
]


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    with serving(tmp_path_factory.mktemp("rest-formats") / "data") as served:
        for place in LOCATED:
            created = httpx.post(f"{served.url}/api/places", json=place, headers=served.auth,
                                 timeout=60)
            assert created.status_code == 201, created.text
        formula = httpx.post(f"{served.url}/api/places", headers=served.auth, timeout=60,
                             json={"name": "=HYPERLINK(\"x\")", "latitude": 45.0, "longitude": 4.0})
        assert formula.status_code == 201, formula.text
        person = httpx.post(f"{served.url}/api/actors", headers=served.auth, timeout=60, json={
            "type": "Person", "name": "Ada Listée", "email": "ada.listee@example.org",
            "streetAddress": "3 rue des Listes", "latitude": 48.85, "longitude": 2.35,
        })
        assert person.status_code == 201, person.text
        yield served


def demo_located() -> int:
    """Places of demo/demo.ttl with coordinates."""
    graph = rdflib.Graph().parse(Path(__file__).parents[1] / "demo" / "demo.ttl")
    return len({s for s in graph.subjects(RDF.type, M.Place) if (s, M.latitude, None) in graph})


class HubOnlyLoader:
    """A JSON-LD document loader that reads from the hub and refuses every other host."""

    def __init__(self, hub: ServedHub) -> None:
        self.hub = hub
        self.loaded: list[str] = []

    def __call__(self, url: str, options: dict[str, Any] | None = None) -> dict[str, Any]:
        if not url.startswith(self.hub.url + "/"):
            raise AssertionError(f"a JSON-LD processor tried to leave the hub: {url}")
        self.loaded.append(url)
        response = httpx.get(url, headers={"Accept": "application/ld+json"}, timeout=30)
        assert response.status_code == 200, url
        return {"contentType": "application/ld+json", "contextUrl": None,
                "documentUrl": url, "document": response.json()}


def inline_contexts(document: dict[str, Any], loader: HubOnlyLoader) -> dict[str, Any]:
    """The page with its remote contexts replaced by what the hub serves (rdflib has no
    document loader to plug in, so the test does its job)."""
    contexts = document["@context"] if isinstance(document["@context"], list) else [document["@context"]]
    return {**document, "@context": [
        loader(c)["document"]["@context"] if isinstance(c, str) else c for c in contexts
    ]}


def page_graph(hub: ServedHub, response: httpx.Response) -> rdflib.Graph:
    doc = inline_contexts(response.json(), HubOnlyLoader(hub))
    return rdflib.Graph().parse(data=json.dumps(doc), format="json-ld", publicID=str(response.url))


def sparql(hub: ServedHub, query: str) -> list[dict[str, Any]]:
    response = httpx.get(f"{hub.url}/sparql", params={"query": f"PREFIX mlg: <{MLG}>\n{query}"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert response.status_code == 200, response.text
    bindings: list[dict[str, Any]] = response.json()["results"]["bindings"]
    return bindings


def members_of(hub: ServedHub, classes: str) -> set[str]:
    rows = sparql(hub, f"SELECT DISTINCT ?s WHERE {{ VALUES ?c {{ {classes} }} ?s a ?c "
                       "FILTER(isIRI(?s)) }")
    return {row["s"]["value"] for row in rows}


def keys(value: Any) -> set[str]:
    if isinstance(value, list):
        return set().union(*(keys(v) for v in value)) if value else set()
    if not isinstance(value, dict):
        return set()
    found = {k for k in value if k != "@context"}
    return found.union(*(keys(v) for k, v in value.items() if k != "@context"))


def walk(first: str, next_of: Callable[[httpx.Response], str | None],
         **headers: str) -> Iterator[httpx.Response]:
    url: str | None = first
    seen: set[str] = set()
    while url is not None:
        assert url not in seen, f"the pages loop back to {url}"
        seen.add(url)
        response = httpx.get(url, headers=headers, timeout=60)
        assert response.status_code == 200, response.text
        yield response
        url = next_of(response)


def link_next(response: httpx.Response) -> str | None:
    return response.links.get("next", {}).get("url")


# ---------------------------------------------------------------- a listing page is Linked Data


def test_rdflib_reads_a_page_as_members_with_types_and_names(hub: ServedHub) -> None:
    response = httpx.get(f"{hub.url}/api/projects", params={"limit": 5, "count": "true"}, timeout=60)
    assert response.status_code == 200
    assert response.headers["vary"] == "Accept"
    page = response.json()
    graph = page_graph(hub, response)
    collection = rdflib.URIRef(page["id"])
    members = set(graph.objects(collection, HYDRA.member))
    assert len(list(graph.triples((collection, HYDRA.member, None)))) == len(page["items"]) == 5
    assert {str(m) for m in members} == {item["id"] for item in page["items"]}
    assert (collection, RDF.type, HYDRA.Collection) in graph
    assert graph.value(collection, HYDRA.totalItems).toPython() == len(
        members_of(hub, "mlg:Project"))
    for member in members:
        assert (member, RDF.type, M.Project) in graph
        assert graph.value(member, M.name) is not None
        document = graph.value(member, RDFS.seeAlso)
        assert str(document).startswith(hub.url + "/api/projects/")
        assert httpx.get(str(document), headers={"Accept": "text/turtle"}).status_code == 200
    view = graph.value(collection, HYDRA.view)
    assert str(view) == str(response.url)
    assert (view, RDF.type, HYDRA.PartialCollectionView) in graph
    assert str(graph.value(view, HYDRA.first)) == str(response.url)
    assert graph.value(view, HYDRA.next) is not None


def test_every_key_of_a_page_is_a_term_of_the_served_context(hub: ServedHub) -> None:
    pages = [httpx.get(f"{hub.url}/api/{c}", params={"limit": 2, "count": "true"}).json()
             for c in ("events", "projects", "places", "territories")]
    context = HubOnlyLoader(hub)(pages[0]["@context"][0])["document"]["@context"]
    used = keys(pages)
    assert {"items", "view", "next", "first", "count", "href", "name", "startDate"} <= used
    assert used - set(context) - {"@context"} == set()


def test_pyld_expands_and_converts_a_page_offline_as_rdflib_does(hub: ServedHub) -> None:
    response = httpx.get(f"{hub.url}/api/actors", params={"limit": 6}, timeout=60)
    loader = HubOnlyLoader(hub)
    expanded = jsonld.expand(response.json(), {"documentLoader": loader, "base": str(response.url)})
    assert loader.loaded == [f"{hub.url}/api/collection-context.jsonld"]
    [collection] = expanded
    assert collection["@type"] == [str(HYDRA.Collection)]
    members = collection[str(HYDRA.member)]
    assert len(members) == 6
    for member in members:
        assert {t.removeprefix(MLG) for t in member["@type"]} <= {"Organization", "Person", "Actor"}
        assert member[MLG + "name"][0]["@value"]
    nquads = jsonld.to_rdf(response.json(), {"documentLoader": loader, "base": str(response.url),
                                             "format": "application/n-quads"})
    by_pyld = rdflib.Graph().parse(data=nquads, format="nt")
    assert isomorphic(by_pyld, page_graph(hub, response))


def test_following_hydra_next_visits_every_item_once(hub: ServedHub) -> None:
    seen: list[str] = []

    def next_view(response: httpx.Response) -> str | None:
        graph = page_graph(hub, response)
        collection = rdflib.URIRef(response.json()["id"])
        seen.extend(str(m) for m in graph.objects(collection, HYDRA.member))
        view = graph.value(collection, HYDRA.view)
        following = graph.value(view, HYDRA.next)
        assert link_next(response) == (str(following) if following else None)
        return str(following) if following else None

    pages = list(walk(f"{hub.url}/api/actors?limit=9", next_view))
    assert len(pages) > 2
    assert len(seen) == len(set(seen))
    assert set(seen) == members_of(hub, "mlg:Actor mlg:Organization mlg:Person")


def test_a_page_also_reads_as_turtle_and_n_triples(hub: ServedHub) -> None:
    url = f"{hub.url}/api/projects?limit=4"
    as_jsonld = page_graph(hub, httpx.get(url))
    turtle = httpx.get(url, headers={"Accept": "text/turtle"})
    assert turtle.headers["content-type"].startswith("text/turtle")
    assert isomorphic(rdflib.Graph().parse(data=turtle.text, format="turtle"), as_jsonld)
    ntriples = httpx.get(url, headers={"Accept": "application/n-triples"})
    assert isomorphic(rdflib.Graph().parse(data=ntriples.text, format="nt"), as_jsonld)
    by_format = rdflib.Graph().parse(data=httpx.get(url + "&format=nt").text, format="nt")
    assert len(list(by_format.triples((None, HYDRA.member, None)))) == 4


# ---------------------------------------------------------------- an entity in every RDF syntax


@pytest.mark.parametrize("collection", ["projects", "actors", "places", "territories"])
def test_entity_documents_are_one_graph_in_turtle_ntriples_and_rdfxml(
    hub: ServedHub, collection: str
) -> None:
    href = httpx.get(f"{hub.url}/api/{collection}", params={"limit": 1}).json()["items"][0]["href"]
    url = hub.url + href
    turtle = httpx.get(url, headers={"Accept": "text/turtle"})
    graph = rdflib.Graph().parse(data=turtle.text, format="turtle")
    assert len(graph) > 1
    tags = {turtle.headers["etag"]}
    for accept, syntax in (("application/n-triples", "nt"), ("application/rdf+xml", "xml")):
        response = httpx.get(url, headers={"Accept": accept})
        assert response.status_code == 200
        assert response.headers["content-type"].startswith(accept)
        assert response.headers["vary"] == "Accept"
        assert isomorphic(rdflib.Graph().parse(data=response.text, format=syntax), graph)
        again = httpx.get(url, headers={"Accept": accept, "If-None-Match": response.headers["etag"]})
        assert again.status_code == 304
        tags.add(response.headers["etag"])
    assert len(tags) == 3  # a cache never answers one syntax with another
    by_format = httpx.get(url, params={"format": "nt"}, headers={"Accept": "text/html"})
    assert by_format.headers["content-type"].startswith("application/n-triples")


# ---------------------------------------------------------------- GeoJSON and CSV


def test_geojson_pages_hold_every_entity_with_coordinates(hub: ServedHub) -> None:
    features: list[dict[str, Any]] = []
    first = f"{hub.url}/api/places?format=geojson&limit=2"
    for response in walk(first, link_next):
        assert response.headers["content-type"] == "application/geo+json"
        assert response.headers["vary"] == "Accept"
        body = response.json()
        assert body["type"] == "FeatureCollection"
        features += body["features"]
    located = sparql(hub, "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a mlg:Place ; "
                          "mlg:latitude ?lat ; mlg:longitude ?lon }")
    assert len(features) == int(located[0]["n"]["value"]) == len(LOCATED) + 1 + demo_located()
    assert len({f["id"] for f in features}) == len(features)
    by_name = {f["properties"]["name"]: f for f in features}
    for place in LOCATED:
        feature = by_name[place["name"]]
        assert feature["type"] == "Feature"
        assert feature["geometry"]["type"] == "Point"
        lon, lat = feature["geometry"]["coordinates"]
        assert isinstance(lon, float) and isinstance(lat, float)
        assert (lon, lat) == (float(place["longitude"]), float(place["latitude"]))
        properties = feature["properties"]
        assert properties["type"] == "Place" and properties["id"] == feature["id"]
        assert httpx.get(properties["url"], headers={"Accept": "text/turtle"}).status_code == 200
    by_accept = httpx.get(f"{hub.url}/api/places", headers={"Accept": "application/geo+json"})
    assert by_accept.json()["features"] == sorted(features, key=lambda f: f["id"])
    none_located = httpx.get(f"{hub.url}/api/projects", params={"format": "geojson"})
    assert none_located.json()["features"] == []


def test_csv_pages_have_a_header_and_one_row_per_item(hub: ServedHub) -> None:
    rows: list[dict[str, str]] = []
    first = f"{hub.url}/api/places?limit=10"
    for response in walk(first, link_next, Accept="text/csv"):
        assert response.headers["content-type"].startswith("text/csv")
        assert response.headers["vary"] == "Accept"
        assert "\r\n" in response.text
        page_rows = list(csv.DictReader(io.StringIO(response.text, newline="")))
        json_page = httpx.get(response.url.copy_set_param("format", "json")).json()
        assert [r["id"] for r in page_rows] == [i["id"] for i in json_page["items"]]
        rows += page_rows
    assert list(rows[0])[:3] == ["id", "type", "name"]
    assert {r["id"] for r in rows} == members_of(hub, "mlg:Place")
    assert len(rows) == len({r["id"] for r in rows})
    cafe = next(r for r in rows if r["name"].startswith("Café"))
    assert cafe["name"] == LOCATED[2]["name"]  # comma and quotes survive RFC 4180 quoting
    assert cafe["shortDescription"] == LOCATED[2]["shortDescription"]
    assert float(cafe["latitude"]) == -20.88
    assert next(r for r in rows if "HYPERLINK" in r["name"])["name"].startswith("'=")
    by_format = httpx.get(f"{hub.url}/api/projects", params={"format": "csv", "limit": 500})
    assert len(list(csv.reader(io.StringIO(by_format.text, newline="")))) == (
        1 + len(members_of(hub, "mlg:Project")))


def test_formats_a_listing_cannot_give_are_refused_clearly(hub: ServedHub) -> None:
    assert httpx.get(f"{hub.url}/api/places", params={"format": "pdf"}).status_code == 400
    assert httpx.get(f"{hub.url}/api/places", params={"format": "application/pdf"}).status_code == 406
    assert httpx.get(f"{hub.url}/api/places", headers={"Accept": "image/png"}).status_code == 406
    default = httpx.get(f"{hub.url}/api/places")
    assert default.headers["content-type"].startswith("application/json")


def test_no_listing_format_shows_a_persons_contact_data(hub: ServedHub) -> None:
    rows = httpx.get(f"{hub.url}/sparql", headers={**hub.auth, "Accept": "application/sparql-results+json"},
                     params={"query": f"SELECT ?mail WHERE {{ GRAPH ?g {{ ?p a <{MLG}Person> }} "
                                      f"GRAPH ?h {{ ?p <{MLG}email> ?mail }} }}"}).json()
    mails = {row["mail"]["value"] for row in rows["results"]["bindings"]}
    assert "ada.listee@example.org" in mails
    for fmt in ("json", "jsonld", "turtle", "nt", "rdfxml", "geojson", "csv"):
        body = httpx.get(f"{hub.url}/api/actors", params={"limit": 500, "format": fmt}).text
        assert not [m for m in mails if m in body], fmt
        assert "rue des Listes" not in body and "Ada Listée" in body, fmt

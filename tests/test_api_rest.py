"""The REST API over HTTP against a real ``maillage serve``: listings, filters, items, writes.

Expected results are computed from ``demo/demo.ttl`` itself, never hard-coded, so the tests keep
meaning the same thing when the demo data grows.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from html import escape
from pathlib import Path
from typing import Any

import httpx
import pyoxigraph as ox
import pytest
import rdflib

from hub.rdf.resources import DEMO_DIR
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE, class_iris
from tests.servers.hub import ServedHub, serving

BASE = DEFAULT_BASE_IRI
LD = {"Accept": "application/ld+json"}


# ---------------------------------------------------------------- the demo data, as the truth


@lru_cache(maxsize=1)
def demo() -> dict[str, list[ox.Triple]]:
    """Demo triples by subject IRI."""
    by_subject: dict[str, list[ox.Triple]] = defaultdict(list)
    for quad in ox.parse(path=DEMO_DIR / "demo.ttl", format=ox.RdfFormat.TURTLE):
        by_subject[quad.subject.value].append(quad.triple)
    return dict(by_subject)


def typed(local: str) -> set[str]:
    classes = set(class_iris(local))
    return {
        s for s, triples in demo().items()
        if any(t.predicate.value == RDF_TYPE and t.object.value in classes for t in triples)
    }


def values(subject: str, prop: str) -> list[str]:
    return [t.object.value for t in demo().get(subject, []) if t.predicate.value == MLG + prop]


def in_territory(subject: str, code: str, props: tuple[str, ...]) -> bool:
    """Does ``subject`` reach a territory with INSEE ``code`` via ``props`` then partOf*?"""
    frontier = [o for p in props for o in values(subject, p)]
    seen: set[str] = set()
    while frontier:
        node = frontier.pop()
        if node in seen:
            continue
        seen.add(node)
        if code in values(node, "inseeCode"):
            return True
        frontier += values(node, "partOfTerritory")
    return False


# ---------------------------------------------------------------- helpers


def walk(hub: ServedHub, collection: str, **params: Any) -> list[dict[str, Any]]:
    """Every item of a listing, following the ``next`` links of its ``view``."""
    items: list[dict[str, Any]] = []
    url: str | None = f"{hub.url}/api/{collection}"
    first = True
    while url is not None:
        response = httpx.get(url, params=params if first else None, timeout=60)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["type"] == "Collection"
        items += page["items"]
        url = page["view"].get("next")
        first = False
    return items


def ids(items: list[dict[str, Any]]) -> list[str]:
    return [item["id"] for item in items]


def local(iri: str, collection_prefix: str) -> str:
    assert iri.startswith(BASE + collection_prefix + "/")
    return iri[len(BASE + collection_prefix) + 1:]


def jsonld_triples(text: str) -> set[tuple[str, str, str]]:
    return {
        (str(q.subject), str(q.predicate), str(q.object))
        for q in ox.parse(text, format=ox.RdfFormat.JSON_LD)
    }


def demo_set(subject: str) -> set[tuple[str, str, str]]:
    return {(str(t.subject), str(t.predicate), str(t.object)) for t in demo()[subject]}


def sample_project() -> str:
    return sorted(s for s in typed("Project") if values(s, "description"))[0]


# ---------------------------------------------------------------- listings and pagination


def test_walking_every_page_lists_each_project_once(hub_server: ServedHub) -> None:
    items = walk(hub_server, "projects", limit=7)
    assert len(items) == len(set(ids(items)))
    assert set(ids(items)) == typed("Project")
    assert ids(items) == sorted(ids(items))
    first = httpx.get(f"{hub_server.url}/api/projects", params={"count": "true"}).json()
    assert first["count"] == len(typed("Project"))
    assert len(first["items"]) == min(50, len(typed("Project")))
    assert all(item["type"] == "Project" and item["name"] for item in items)


@pytest.mark.parametrize(
    ("collection", "local_name"),
    [("actors", "Actor"), ("territories", "Territory"), ("places", "Place"),
     ("commons", "Commons"), ("resources", "Resource"), ("events", "Event")],
)
def test_collections_include_subclasses(hub_server: ServedHub, collection: str,
                                        local_name: str) -> None:
    items = walk(hub_server, collection, limit=500)
    assert set(ids(items)) == typed(local_name)


def test_summary_items_carry_the_listing_fields(hub_server: ServedHub) -> None:
    items = walk(hub_server, "actors", limit=500)
    by_id = {item["id"]: item for item in items}
    person = sorted(typed("Person"))[0]
    assert by_id[person]["type"] == "Person"
    assert by_id[person]["name"] in values(person, "name")
    response = httpx.get(hub_server.url + by_id[person]["href"], headers=LD)
    assert response.status_code == 200


# ---------------------------------------------------------------- filters


def test_q_searches_names_and_descriptions_case_insensitively(hub_server: ServedHub) -> None:
    def expected(needle: str) -> set[str]:
        return {
            s for s in typed("Project")
            if any(
                needle.lower() in v.lower()
                for p in ("name", "shortDescription", "description")
                for v in values(s, p)
            )
        }

    for needle in ("numérique", "NUMÉRIQUE", "design"):
        found = set(ids(walk(hub_server, "projects", q=needle)))
        assert found == expected(needle)
        assert found
    only_in_description = {
        s for s in expected("design")
        if not any("design" in v.lower() for p in ("name", "shortDescription")
                   for v in values(s, p))
    }
    assert only_in_description <= set(ids(walk(hub_server, "projects", q="design")))
    assert walk(hub_server, "projects", q='no "such" \\ text } LIMIT') == []


def test_tag_and_theme_filters(hub_server: ServedHub) -> None:
    keyword = values(sample_project(), "keyword")[0]
    found = walk(hub_server, "projects", tag=keyword.upper())
    assert found
    assert set(ids(found)) == {
        s for s in typed("Project") if keyword.lower() in [v.lower() for v in values(s, "keyword")]
    }
    assert all(keyword.lower() in [k.lower() for k in item["keyword"]] for item in found)
    themes = sorted({v for s in typed("Project") for v in values(s, "theme")})
    found = walk(hub_server, "projects", theme=themes[0])
    assert found and all(themes[0] in item["theme"] for item in found)
    assert set(ids(found)) == {s for s in typed("Project") if themes[0] in values(s, "theme")}


def test_territory_filter_follows_part_of_territory(hub_server: ServedHub) -> None:
    props = ("territory", "concernsTerritory")
    for collection, local_name in (("projects", "Project"), ("actors", "Actor")):
        expected = {s for s in typed(local_name) if in_territory(s, "84", props)}
        assert expected, "the demo has entities in Auvergne-Rhône-Alpes"
        assert set(ids(walk(hub_server, collection, territory="84"))) == expected
    # at least one match goes through a commune, i.e. two partOfTerritory steps below the region
    communes = typed("Territory") & {
        s for s in demo() if any(t.object.value == MLG + "Commune" for t in demo()[s])
    }
    via_commune = {
        s for s in typed("Project")
        if any(c in communes for p in props for c in values(s, p)) and in_territory(s, "84", props)
    }
    assert via_commune <= set(ids(walk(hub_server, "projects", territory="84")))
    assert via_commune
    inside = set(ids(walk(hub_server, "territories", territory="84", limit=500)))
    assert BASE + "territory/region-84" in inside
    assert {s for s in typed("Territory") if in_territory(s, "84", ("partOfTerritory",))} <= inside
    assert walk(hub_server, "projects", territory="99999") == []  # well-formed, unknown
    assert httpx.get(f"{hub_server.url}/api/projects", params={"territory": "no-such-code"}).status_code == 400


def test_source_and_updated_since_filters(hub_server: ServedHub) -> None:
    assert set(ids(walk(hub_server, "places", source="demo"))) == typed("Place")
    assert walk(hub_server, "places", source="nowhere") == []
    past = (datetime.now(UTC) - timedelta(days=3650)).isoformat()
    assert set(ids(walk(hub_server, "places", updated_since=past))) == typed("Place")
    future = (datetime.now(UTC) + timedelta(days=1)).strftime("%Y-%m-%dT%H:%M:%SZ")
    assert walk(hub_server, "places", updated_since=future) == []


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"}, {"limit": "501"}, {"limit": "many"},
        {"cursor": "!!not base64!!"}, {"cursor": "aGVsbG8gd29ybGQ"},  # "hello world"
        {"bbox": "1,2,3"}, {"bbox": "a,b,c,d"}, {"bbox": "10,50,5,40"}, {"bbox": "0,0,200,10"},
        {"bbox": "nan,0,1,1"},
        {"updated_since": "yesterday"}, {"updated_since": "2024-13-45"},
    ],
)
def test_malformed_parameters_are_400(hub_server: ServedHub, params: dict[str, str]) -> None:
    response = httpx.get(f"{hub_server.url}/api/projects", params=params)
    assert response.status_code == 400, response.text
    assert response.json()["error"]


def test_unknown_collection_is_a_clear_404(hub_server: ServedHub) -> None:
    for path in ("/api/unicorns", "/api/unicorns/x"):
        response = httpx.get(hub_server.url + path)
        assert response.status_code == 404
        assert "projects" in response.json()["error"]


# ---------------------------------------------------------------- items


def test_every_demo_entity_round_trips_through_jsonld(hub_server: ServedHub) -> None:
    """The compact JSON-LD parses back to exactly the demo triples of the entity."""
    collections = {
        "actors": "Actor", "places": "Place", "projects": "Project", "commons": "Commons",
        "resources": "Resource", "events": "Event", "territories": "Territory",
    }
    with httpx.Client(base_url=hub_server.url, timeout=60) as client:
        for collection, local_name in collections.items():
            prefix = local_name.lower()
            for subject in sorted(typed(local_name)):
                response = client.get(f"/api/{collection}/{local(subject, prefix)}")
                assert response.status_code == 200, (subject, response.text)
                assert response.headers["content-type"].startswith("application/ld+json")
                assert jsonld_triples(response.text) == demo_set(subject), subject


def test_jsonld_with_rdflib_and_plain_json(hub_server: ServedHub) -> None:
    subject = sample_project()
    url = f"{hub_server.url}/api/projects/{local(subject, 'project')}"
    response = httpx.get(url, headers={"Accept": "application/json"})
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/json")
    body = response.json()
    assert body["id"] == subject and body["type"] == "Project"
    assert isinstance(body["@context"], dict)
    graph = rdflib.Graph().parse(data=response.text, format="json-ld")
    names = {str(o) for o in graph.objects(rdflib.URIRef(subject), rdflib.URIRef(MLG + "name"))}
    assert names == set(values(subject, "name"))


def test_turtle_and_html(hub_server: ServedHub) -> None:
    subject = sample_project()
    url = f"{hub_server.url}/api/projects/{local(subject, 'project')}"
    turtle = httpx.get(url, headers={"Accept": "text/turtle"})
    assert turtle.status_code == 200
    assert turtle.headers["content-type"].startswith("text/turtle")
    parsed = {(str(q.subject), str(q.predicate), str(q.object))
              for q in ox.parse(turtle.content, format=ox.RdfFormat.TURTLE)}
    assert parsed == demo_set(subject)

    browser = "text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8"
    html = httpx.get(url, headers={"Accept": browser})
    assert html.status_code == 200
    assert html.headers["content-type"].startswith("text/html")
    assert escape(values(subject, "name")[0]) in html.text
    assert escape(values(subject, "description")[0]) in html.text
    assert "demo" in html.text and "/graph/demo/" in html.text  # provenance: source, graph
    # links to other entities' pages are followable
    linked = [
        s for s in typed("Actor") if subject in values(s, "carriesProject")
    ]
    if linked:
        links = re.findall(r'href="(/api/[^"]+)"', html.text)
        assert links
    actor = sorted(s for s in typed("Actor") if values(s, "carriesProject"))[0]
    page = httpx.get(f"{hub_server.url}/api/actors/{local(actor, 'actor')}",
                     headers={"Accept": "text/html"})
    project_link = f'/api/projects/{local(values(actor, "carriesProject")[0], "project")}'
    assert f'href="{project_link}"' in page.text
    assert httpx.get(hub_server.url + project_link, headers={"Accept": "text/html"}
                     ).status_code == 200


def test_item_errors(hub_server: ServedHub) -> None:
    subject = sample_project()
    url = f"{hub_server.url}/api/projects/{local(subject, 'project')}"
    assert httpx.get(url, headers={"Accept": "image/png"}).status_code == 406
    missing = httpx.get(f"{hub_server.url}/api/projects/no-such-project")
    assert missing.status_code == 404 and "no-such-project" in missing.json()["error"]
    wrong = httpx.get(f"{hub_server.url}/api/actors/_", params={"iri": subject})
    assert wrong.status_code == 404
    by_iri = httpx.get(f"{hub_server.url}/api/projects/_", params={"iri": subject})
    assert by_iri.status_code == 200 and by_iri.json()["id"] == subject
    by_iri = httpx.get(f"{hub_server.url}/api/projects", params={"iri": subject})
    assert by_iri.status_code == 200 and by_iri.json()["id"] == subject
    for bad in ("not an iri", "<x>", "http://a b"):
        response = httpx.get(f"{hub_server.url}/api/projects/_", params={"iri": bad})
        assert response.status_code in (400, 404), response.text
    for path in ("/api/projects/%00", "/api/projects/a%20b/c", "/api/projects/%FF%FE",
                 "/api/projects/..%2F..%2Fetc", "/api/projects/" + "x" * 5000):
        assert httpx.get(hub_server.url + path).status_code in (400, 404), path


def test_writes_need_the_token(hub_server: ServedHub) -> None:
    subject = sample_project()
    url = f"{hub_server.url}/api/projects/{local(subject, 'project')}"
    body = {"name": "Hijacked"}
    for headers in ({}, {"Authorization": "Bearer wrong-token"}, {"Authorization": "Basic x"}):
        assert httpx.post(f"{hub_server.url}/api/projects", json=body,
                          headers=headers).status_code == 401
        assert httpx.put(url, json=body, headers=headers).status_code == 401
        assert httpx.patch(url, json=body, headers=headers).status_code == 401
        assert httpx.delete(url, headers=headers).status_code == 401
    assert httpx.get(url).json()["name"] != "Hijacked"


# ---------------------------------------------------------------- writes, on a server of their own


@pytest.fixture(scope="module")
def writable(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    with serving(tmp_path_factory.mktemp("rest-writes") / "data") as served:
        yield served


@pytest.fixture
def client(writable: ServedHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=writable.url, headers=writable.auth, timeout=120) as c:
        yield c


def test_invalid_post_is_422_with_bilingual_violations(client: httpx.Client) -> None:
    iri = "https://example.org/nowhere-place"
    response = client.post("/api/places", json={"id": iri, "latitude": 123, "placeKind": "x"})
    assert response.status_code == 422, response.text
    report = response.json()
    assert report["error"]
    paths = {v["path"] for v in report["violations"]}
    assert {MLG + "name", MLG + "latitude"} <= paths
    for violation in report["violations"]:
        assert violation["focus"] == iri
        assert violation["message"]["fr"] and violation["message"]["en"]
        assert violation["message"]["fr"] != violation["message"]["en"]
    assert client.get("/api/places/_", params={"iri": iri}).status_code == 404
    assert iri not in ids(client.get("/api/places", params={"limit": 500}).json()["items"])


@pytest.mark.parametrize(
    ("content_type", "body", "status"),
    [
        ("application/json", b"{not json", 400),
        ("application/json", b"[1, 2]", 400),
        ("application/json", b"", 400),
        ("application/json", b'{"name": "X", "nmae": "typo"}', 400),
        ("application/ld+json", b'{"@context": 5, "name": "X"}', 400),
        ("application/ld+json", b'{"@context": "https://example.org/ctx", "name": "X"}', 400),
        ("application/json", b'{"id": "https://example.org/a", "name": "A",'
                             b' "memberOf": {"id": "https://example.org/b", "name": "B"}}', 400),
        ("text/turtle", b"<a> <b> ", 400),
        ("text/turtle", b"\xff\xfe garbage", 400),
        ("text/turtle", b'<< <a:b> <a:c> <a:d> >> <https://w3id.org/maillage/ontology#name> "x" .',
         400),
        ("application/json", b"[" * 100_000 + b"]" * 100_000, 400),
        ("application/json", b'{"name": "x"' + b', "memberOf": {"name": "y"' * 100 + b"}" * 101,
         400),
        ("application/xml", b"<x/>", 415),
        ("application/json", b'{"name": "P", "type": "Project"}', 422),
    ],
)
def test_bad_bodies_are_4xx(client: httpx.Client, content_type: str, body: bytes,
                            status: int) -> None:
    response = client.post("/api/places", content=body, headers={"Content-Type": content_type})
    assert response.status_code == status, response.text
    assert response.json()["error"]


def test_post_get_put_patch_delete(client: httpx.Client) -> None:
    created = client.post("/api/projects", json={
        "name": {"@value": "Jardin partagé des Lilas", "@language": "fr"},
        "shortDescription": "Un jardin",
        "keyword": ["jardin", "quartier"],
    })
    assert created.status_code == 201, created.text
    iri = created.json()["id"]
    assert iri == BASE + "project/api/jardin-partage-des-lilas"
    location = created.headers["location"]
    assert location.endswith("/api/projects/api/jardin-partage-des-lilas")
    fetched = client.get(location)
    assert fetched.status_code == 200
    assert fetched.json()["name"] == {"@value": "Jardin partagé des Lilas", "@language": "fr"}
    assert sorted(fetched.json()["keyword"]) == ["jardin", "quartier"]
    # same name again: a new IRI, not an overwrite
    twin = client.post("/api/projects", json={"name": "Jardin partagé des Lilas"})
    assert twin.status_code == 201 and twin.json()["id"] != iri
    assert client.post("/api/projects", json={"id": iri, "name": "X"}).status_code == 409

    put = client.put(location, json={"name": "Jardin des Lilas", "theme": "nature"})
    assert put.status_code == 200, put.text
    body = put.json()
    assert body["name"] == "Jardin des Lilas" and body["theme"] == "nature"
    assert "keyword" not in body and "shortDescription" not in body
    assert client.get(location).json() == body

    patch = client.patch(location, json={"keyword": ["potager"], "theme": None,
                                         "shortDescription": "Potager"})
    assert patch.status_code == 200, patch.text
    body = patch.json()
    assert body["name"] == "Jardin des Lilas"
    assert body["keyword"] == "potager" and body["shortDescription"] == "Potager"
    assert "theme" not in body
    bad_patch = client.patch(location, json={"email": "not an address"})
    assert bad_patch.status_code == 422
    assert [v["path"] for v in bad_patch.json()["violations"]] == [MLG + "email"]
    assert "email" not in client.get(location).json()

    assert client.delete(location).status_code == 204
    assert client.get(location).status_code == 404
    assert client.delete(location).status_code == 404
    assert iri not in ids(walk_client(client, "projects"))


def walk_client(client: httpx.Client, collection: str, **params: Any) -> list[dict[str, Any]]:
    items: list[dict[str, Any]] = []
    response = client.get(f"/api/{collection}", params={"limit": 500, **params})
    while True:
        assert response.status_code == 200, response.text
        items += response.json()["items"]
        if not response.json()["view"].get("next"):
            return items
        response = client.get(response.json()["view"]["next"])


def test_post_turtle_with_subclass_type(client: httpx.Client) -> None:
    turtle = f"""@prefix mlg: <{MLG}> .
<https://example.org/people/ada> a mlg:Person ; mlg:name "Ada"@en ;
    mlg:memberOf <{sorted(typed('Organization'))[0]}> .
"""
    response = client.post("/api/actors", content=turtle,
                           headers={"Content-Type": "text/turtle"})
    assert response.status_code == 201, response.text
    assert response.json()["type"] == "Person"
    got = client.get("/api/actors/_", params={"iri": "https://example.org/people/ada"},
                     headers={"Accept": "text/turtle"})
    triples = list(ox.parse(got.content, format=ox.RdfFormat.TURTLE))
    assert any(t.object == ox.Literal("Ada", language="en") for t in triples)
    # a link to a stored node of the wrong class is refused
    wrong = client.post("/api/actors", json={
        "id": "https://example.org/people/bob", "type": "Person", "name": "Bob",
        "memberOf": sorted(typed("Project"))[0],
    })
    assert wrong.status_code == 422
    assert any(v["path"] == MLG + "memberOf" for v in wrong.json()["violations"])


def test_writes_to_a_demo_entity_keep_its_graph(client: httpx.Client) -> None:
    place = sorted(typed("Place"))[0]
    url = f"/api/places/{local(place, 'place')}"
    patched = client.patch(url, json={"postalCode": "29250"})
    assert patched.status_code == 200, patched.text
    assert patched.json()["postalCode"] == "29250"
    assert patched.json()["name"]
    html = client.get(url, headers={"Accept": "text/html"}).text
    graphs = set(re.findall(r"<code>([^<]*/graph/[^<]*)</code>", html))
    assert len(graphs) == 1 and "/graph/demo/" in next(iter(graphs)), graphs
    put = client.put(url, content=f'<{place}> <{MLG}name> "Renamed place" .',
                     headers={"Content-Type": "text/turtle"})
    assert put.status_code == 200, put.text
    assert put.json()["name"] == "Renamed place" and put.json()["type"] == "Place"
    assert ids(walk_client(client, "places", source="demo")).count(place) == 1
    assert place not in ids(walk_client(client, "places", source="api"))

    commons = sorted(typed("Commons"))[0]
    url = f"/api/commons/{local(commons, 'commons')}"
    assert client.delete(url).status_code == 204
    assert client.get(url).status_code == 404
    assert commons not in ids(walk_client(client, "commons"))
    assert client.get(url, headers={"Accept": "text/html"}).status_code == 404


def test_bbox_and_updated_since(client: httpx.Client) -> None:
    before = (datetime.now(UTC) - timedelta(seconds=1)).isoformat()
    inside = client.post("/api/places", json={
        "name": "Tiers-lieu de Die", "latitude": 44.753, "longitude": 5.37,
    })
    outside = client.post("/api/places", json={
        "name": "Tiers-lieu de Brest", "latitude": "48.39", "longitude": "-4.49",
    })
    assert inside.status_code == 201 and outside.status_code == 201, inside.text + outside.text
    found = walk_client(client, "places", bbox="4.5,44,6,45.5")
    assert ids(found) == [inside.json()["id"]]
    assert found[0]["latitude"] == pytest.approx(44.753)
    both = set(ids(walk_client(client, "places", bbox="-5,40,8,50")))
    assert {inside.json()["id"], outside.json()["id"]} <= both
    recent = set(ids(walk_client(client, "places", updated_since=before)))
    assert {inside.json()["id"], outside.json()["id"]} <= recent
    assert not (typed("Place") - {sorted(typed("Place"))[0]}) & recent
    assert set(ids(walk_client(client, "places", source="api"))) >= {
        inside.json()["id"], outside.json()["id"]
    }


def test_json_body_decoding_never_500(client: httpx.Client) -> None:
    for body in ('{"name": "\\ud800"}', '{"id": "not an iri", "name": "X"}',
                 '{"id": "_:b0", "name": "X"}', '{"name": {"@value": 1, "@language": 5}}',
                 '{"latitude": "abc", "name": "X"}', '{"url": "not a url", "name": "X"}',
                 json.dumps({"name": "X" * 2_000})):
        response = client.post("/api/places", content=body.encode(),
                               headers={"Content-Type": "application/json"})
        assert response.status_code < 500, (body, response.text)


def test_served_context_matches_the_file(hub_server: ServedHub) -> None:
    served = httpx.get(f"{hub_server.url}/api/context.jsonld").json()
    path = Path(DEMO_DIR).parent / "ontologies" / "context.jsonld"
    assert served == json.loads(path.read_text(encoding="utf-8"))

"""Concurrent writes against a real ``maillage serve``: no acknowledged write is lost.

Each race starts its requests together (a barrier) from separate threads and connections, so the
server sees them interleaved. Also: ETag preconditions (412, 304), JSON-LD bodies and repeated
``graph=`` on the Graph Store, and the attribution of API edits in ``/changes``.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import httpx
import pyoxigraph as ox
import pytest

from hub.iris import graph_iri
from hub.vocab import DEFAULT_BASE_IRI, MLG
from tests.servers.hub import ServedHub, serving

RACERS = 8


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    with serving(tmp_path_factory.mktemp("concurrent-writes") / "data") as served:
        yield served


def race(hub: ServedHub, calls: list[Callable[[httpx.Client], httpx.Response]]
         ) -> list[httpx.Response]:
    """Run every call at the same moment, each on its own connection."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[httpx.Client], httpx.Response]) -> httpx.Response:
        with httpx.Client(base_url=hub.url, headers=hub.auth, timeout=120) as client:
            client.get("/health")  # connect before the barrier, so the writes start together
            barrier.wait()
            return call(client)

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


@pytest.fixture
def client(hub: ServedHub) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=hub.url, headers=hub.auth, timeout=120) as c:
        yield c


def demo_place(client: httpx.Client, index: int) -> str:
    """The API path of one demo place (a different one per test, so tests do not interfere)."""
    items = client.get("/api/places", params={"limit": 20}).json()["items"]
    return str(items[index]["href"])


def graph_turtle(client: httpx.Client, graph: str) -> list[ox.Triple]:
    response = client.get("/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
    assert response.status_code == 200, response.text
    return [q.triple for q in ox.parse(response.content, format=ox.RdfFormat.TURTLE)]


# ------------------------------------------------------------------------------- races


def test_concurrent_patches_of_different_properties_all_survive(client: httpx.Client,
                                                                hub: ServedHub) -> None:
    url = demo_place(client, 0)
    edits: list[dict[str, Any]] = [
        {"postalCode": "29250"},
        {"streetAddress": "1 rue des Lilas"},
        {"email": "contact@example.org"},
        {"keyword": ["concurrence"]},
        {"theme": "mobilité partagée"},
        {"description": "Écrit en même temps que sept autres modifications."},
        {"shortDescription": "Huit écritures simultanées"},
        {"url": "https://example.org/lieu"},
    ]
    responses = race(hub, [lambda c, e=e: c.patch(url, json=e) for e in edits])
    assert [r.status_code for r in responses] == [200] * len(edits), [r.text for r in responses]
    stored = client.get(url).json()
    for edit in edits:
        [(prop, value)] = edit.items()
        expected = value[0] if isinstance(value, list) else value
        assert stored.get(prop) == expected, (prop, stored.get(prop))


def test_concurrent_creates_of_one_id_give_one_201(client: httpx.Client, hub: ServedHub) -> None:
    iri = "https://example.org/places/one-of-many"
    names = [f"Créé par le client {i}" for i in range(RACERS)]
    responses = race(hub, [
        lambda c, n=n: c.post("/api/places", json={"id": iri, "name": n}) for n in names
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [201] + [409] * (RACERS - 1), [r.text for r in responses]
    [winner] = [r for r in responses if r.status_code == 201]
    stored = client.get("/api/places/_", params={"iri": iri}).json()
    assert stored["name"] == winner.json()["name"]


def test_concurrent_graph_store_posts_keep_every_keyword(client: httpx.Client,
                                                         hub: ServedHub) -> None:
    graph = "https://example.org/graphs/keywords"
    subject = "https://example.org/places/keywords"
    created = client.put(
        "/store", params={"graph": graph},
        content=f'<{subject}> a <{MLG}Place> ; <{MLG}name> "Mots-clés" .',
        headers={"Content-Type": "text/turtle"},
    )
    assert created.status_code == 201, created.text
    keywords = [f"mot-{i}" for i in range(RACERS)]
    responses = race(hub, [
        lambda c, k=k: c.post("/store", params={"graph": graph},
                              content=f'<{subject}> <{MLG}keyword> "{k}" .',
                              headers={"Content-Type": "text/turtle"})
        for k in keywords
    ])
    assert [r.status_code for r in responses] == [200] * RACERS, [r.text for r in responses]
    stored = {t.object.value for t in graph_turtle(client, graph)
              if t.predicate.value == MLG + "keyword"}
    assert stored == set(keywords)


def test_same_base_version_one_write_wins_the_others_get_412(client: httpx.Client,
                                                             hub: ServedHub) -> None:
    url = demo_place(client, 1)
    tag = client.get(url).headers["etag"]
    responses = race(hub, [
        lambda c, i=i: c.patch(url, json={"postalCode": f"3500{i}"}, headers={"If-Match": tag})
        for i in range(RACERS)
    ])
    statuses = sorted(r.status_code for r in responses)
    assert statuses == [200] + [412] * (RACERS - 1), [r.text for r in responses]
    [winner] = [r for r in responses if r.status_code == 200]
    assert client.get(url).json()["postalCode"] == winner.json()["postalCode"]


def test_rest_and_graph_store_writes_to_one_graph_all_survive(client: httpx.Client,
                                                               hub: ServedHub) -> None:
    url = demo_place(client, 6)
    iri = client.get(url).json()["id"]
    graph = graph_iri(DEFAULT_BASE_IRI, "demo", iri)
    assert client.get("/store", params={"graph": graph}).status_code == 200
    edits = [{"postalCode": "69001"}, {"streetAddress": "2 place Bellecour"},
             {"email": "lieu@example.org"}, {"description": "Deux chemins, un graphe."}]
    keywords = [f"croisé-{i}" for i in range(4)]
    calls: list[Callable[[httpx.Client], httpx.Response]] = [
        lambda c, e=e: c.patch(url, json=e) for e in edits
    ]
    calls += [
        lambda c, k=k: c.post("/store", params={"graph": graph},
                              content=f'<{iri}> <{MLG}keyword> "{k}" .',
                              headers={"Content-Type": "text/turtle"})
        for k in keywords
    ]
    responses = race(hub, calls)
    assert all(r.status_code == 200 for r in responses), [(r.status_code, r.text[-300:]) for r in responses if r.status_code != 200]
    stored = client.get(url).json()
    for edit in edits:
        [(prop, value)] = edit.items()
        assert stored.get(prop) == value, (prop, stored.get(prop))
    kept = stored.get("keyword", [])
    assert set(keywords) <= set(kept if isinstance(kept, list) else [kept])


# ------------------------------------------------------------------------------- preconditions


def test_rest_if_match_mismatch_is_412_and_changes_nothing(client: httpx.Client) -> None:
    url = demo_place(client, 2)
    before = client.get(url)
    tag = before.headers["etag"]
    assert tag.startswith('"') and not tag.startswith("W/")
    stale = '"0000000000000000"'
    for method, body in (("PATCH", {"postalCode": "75001"}), ("PUT", {"name": "Écrasé"})):
        refused = client.request(method, url, json=body, headers={"If-Match": stale})
        assert refused.status_code == 412, refused.text
        assert "changed" in refused.json()["error"]
    assert client.delete(url, headers={"If-Match": stale}).status_code == 412
    assert client.put(url, json={"name": "Écrasé"}, headers={"If-None-Match": "*"}).status_code == 412
    malformed = client.patch(url, json={"name": "Écrasé"}, headers={"If-Match": "abc"})
    assert malformed.status_code == 400 and "quoted" in malformed.json()["error"]
    after = client.get(url)
    assert after.json() == before.json() and after.headers["etag"] == tag

    patched = client.patch(url, json={"postalCode": "75001"}, headers={"If-Match": tag})
    assert patched.status_code == 200, patched.text
    new_tag = patched.headers["etag"]
    assert new_tag != tag and client.get(url).headers["etag"] == new_tag
    assert client.patch(url, json={"postalCode": "75002"},
                        headers={"If-Match": tag}).status_code == 412
    turtle_tag = client.get(url, headers={"Accept": "text/turtle"}).headers["etag"]
    assert turtle_tag != new_tag  # another representation, another strong tag
    assert client.patch(url, json={"postalCode": "75003"},
                        headers={"If-Match": turtle_tag}).status_code == 200


def test_rest_create_with_if_none_match_star_of_existing_id_is_412(client: httpx.Client) -> None:
    existing = client.get(demo_place(client, 3)).json()["id"]
    response = client.post("/api/places", json={"id": existing, "name": "Doublon"},
                           headers={"If-None-Match": "*"})
    assert response.status_code == 412, response.text
    assert client.get("/api/places/_", params={"iri": existing}).json()["name"] != "Doublon"


def test_get_with_if_none_match_is_304(client: httpx.Client) -> None:
    url = demo_place(client, 4)
    first = client.get(url)
    tag = first.headers["etag"]
    cached = client.get(url, headers={"If-None-Match": tag})
    assert cached.status_code == 304 and cached.content == b""
    assert cached.headers["etag"] == tag
    assert client.get(url, headers={"If-None-Match": f'"other", W/{tag}'}).status_code == 304
    assert client.get(url, headers={"If-None-Match": '"other"'}).status_code == 200
    client.patch(url, json={"postalCode": "13001"})
    assert client.get(url, headers={"If-None-Match": tag}).status_code == 200


def test_graph_store_preconditions(client: httpx.Client) -> None:
    graph = "https://example.org/graphs/preconditions"
    subject = "https://example.org/places/preconditions"
    turtle = {"Content-Type": "text/turtle"}
    body = f'<{subject}> a <{MLG}Place> ; <{MLG}name> "Conditions" .'
    created = client.put("/store", params={"graph": graph}, content=body,
                         headers={**turtle, "If-None-Match": "*"})
    assert created.status_code == 201, created.text
    tag = created.headers["etag"]
    before = set(graph_turtle(client, graph))
    read = client.get("/store", params={"graph": graph}, headers={"Accept": "text/turtle"})
    assert read.headers["etag"] == tag
    assert client.get("/store", params={"graph": graph},
                      headers={"Accept": "text/turtle", "If-None-Match": tag}).status_code == 304
    again = client.put("/store", params={"graph": graph}, content=body,
                       headers={**turtle, "If-None-Match": "*"})
    assert again.status_code == 412
    stale = client.post("/store", params={"graph": graph},
                        content=f'<{subject}> <{MLG}keyword> "jamais" .',
                        headers={**turtle, "If-Match": '"0123456789abcdef"'})
    assert stale.status_code == 412
    assert client.delete("/store", params={"graph": graph},
                         headers={"If-Match": '"0123456789abcdef"'}).status_code == 412
    assert set(graph_turtle(client, graph)) == before
    added = client.post("/store", params={"graph": graph},
                        content=f'<{subject}> <{MLG}keyword> "oui" .',
                        headers={**turtle, "If-Match": tag})
    assert added.status_code == 200, added.text
    assert added.headers["etag"] != tag
    assert client.delete("/store", params={"graph": graph},
                         headers={"If-Match": added.headers["etag"]}).status_code == 204
    assert client.get("/store", params={"graph": graph}).status_code == 404


# ------------------------------------------------------------------------------- Graph Store


def test_graph_store_accepts_json_ld(client: httpx.Client) -> None:
    graph = "https://example.org/graphs/jsonld"
    subject = "https://example.org/places/jsonld"
    with_context = {
        "@context": {"mlg": MLG},
        "@id": subject, "@type": "mlg:Place", "mlg:name": "Lieu en JSON-LD",
    }
    put = client.put("/store", params={"graph": graph}, json=with_context,
                     headers={"Content-Type": "application/ld+json"})
    assert put.status_code == 201, put.text
    hub_terms = {"@id": subject, "keyword": "sans-contexte"}  # no @context: the hub context
    post = client.post("/store", params={"graph": graph}, json=hub_terms,
                       headers={"Content-Type": "application/ld+json"})
    assert post.status_code == 200, post.text
    stored = {(t.predicate.value, t.object.value) for t in graph_turtle(client, graph)}
    assert (MLG + "name", "Lieu en JSON-LD") in stored
    assert (MLG + "keyword", "sans-contexte") in stored
    other_graph = {"@id": "https://example.org/graphs/elsewhere",
                   "@graph": [{"@id": subject, f"{MLG}keyword": "ailleurs"}]}
    refused = client.post("/store", params={"graph": graph}, json=other_graph,
                          headers={"Content-Type": "application/ld+json"})
    assert refused.status_code == 400 and "one graph" in refused.json()["error"]
    remote = client.post("/store", params={"graph": graph},
                         json={"@context": "https://example.org/context.jsonld", "name": "x"},
                         headers={"Content-Type": "application/ld+json"})
    assert remote.status_code == 400 and "remote @context" in remote.json()["error"]
    jsonld = client.get("/store", params={"graph": graph},
                        headers={"Accept": "application/ld+json"})
    assert jsonld.status_code == 200 and jsonld.headers["etag"] != put.headers["etag"]


@pytest.mark.parametrize("method", ["GET", "PUT", "POST", "DELETE"])
@pytest.mark.parametrize("query", [
    "graph=https://example.org/a&graph=https://example.org/b",
    "graph=https://example.org/a&default",
])
def test_ambiguous_graph_parameter_is_400(client: httpx.Client, method: str, query: str) -> None:
    body = f'<https://example.org/x> a <{MLG}Place> ; <{MLG}name> "x" .'
    response = client.request(method, f"/store?{query}", content=body,
                              headers={"Content-Type": "text/turtle"})
    assert response.status_code == 400, response.text
    message = response.json()["error"]
    assert "once" in message or "not both" in message
    for graph in ("https://example.org/a", "https://example.org/b"):
        assert client.get("/store", params={"graph": graph}).status_code == 404


# ------------------------------------------------------------------------------- change feed


def test_api_edit_is_attributed_to_the_api_in_changes(client: httpx.Client) -> None:
    url = demo_place(client, 5)
    iri = client.get(url).json()["id"]
    since = client.get("/changes", params={"since": 10**9}).json()["last_sequence"]  # the open page
    assert client.patch(url, json={"postalCode": "44000"}).status_code == 200
    items = client.get("/changes", params={"since": since}).json()["orderedItems"]
    [item] = [i for i in items if i.get("object") == iri]
    assert item["source"] == "demo"  # the record stays the demo's: peers still find its graph
    assert item["by"] == "api"
    loaded = client.get("/changes", params={"limit": 5}).json()["orderedItems"]
    assert loaded and all("by" not in i for i in loaded)  # the demo import wrote those itself
    streamed = client.get("/changes", params={"since": since, "source": "demo"}).json()
    assert [i["by"] for i in streamed["orderedItems"] if i.get("object") == iri] == ["api"]

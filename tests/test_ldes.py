"""``/changes`` as a Linked Data Event Stream, read by the reference client (npm ``ldes-client``)
offline, and by rdflib and pyld with no document loader reaching the network."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
import rdflib
from pyld import jsonld

from hub.vocab import MLG
from tests.servers.hub import ServedHub, serving

ROOT = Path(__file__).resolve().parent.parent
CLIENT = ROOT / "web" / "node_modules" / "ldes-client" / "dist" / "bin" / "cli.js"
OFFLINE = Path(__file__).with_name("ldes_offline.mjs")
AS = "https://www.w3.org/ns/activitystreams#"
DCT = "http://purl.org/dc/terms/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD = "http://www.w3.org/2001/XMLSchema#"
PAGE = 3


def place(key: str, name: str, extra: str = "") -> str:
    return f'<https://example.org/place/{key}> a <{MLG}Place> ; <{MLG}name> "{name}"@fr {extra}.'


def put(hub: ServedHub, key: str, turtle: str) -> None:
    response = httpx.put(f"{hub.url}/store", params={"graph": f"https://example.org/graph/{key}"},
                         content=turtle, headers={"Content-Type": "text/turtle", **hub.auth})
    assert response.status_code in (200, 201, 204), response.text


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """A hub whose history holds creates, updates and deletes made through the API."""
    with serving(tmp_path_factory.mktemp("ldes") / "data", demo=False) as served:
        for key in ("a", "b", "c", "d"):
            put(served, key, place(key, f"Lieu {key}"))
        put(served, "a", place("a", "Lieu A renommé"))
        put(served, "c", place("c", "Lieu C, deuxième nom"))
        for key in ("b", "d"):
            response = httpx.delete(f"{served.url}/store",
                                    params={"graph": f"https://example.org/graph/{key}"},
                                    headers=served.auth)
            assert response.status_code in (200, 204), response.text
        put(served, "e", place("e", "Lieu E"))
        yield served


def last(hub: ServedHub) -> int:
    return int(httpx.get(f"{hub.url}/health").json()["last_sequence"])


NUMBER = re.compile(r"^(.*> )(-?[0-9][0-9.eE+-]*|true|false)( <[^>]*>)? \.$")


def nquads(line: str) -> str:
    """The client prints Turtle-style short literals (``1``); N-Quads wants them typed."""
    match = NUMBER.match(line)
    if not match:
        return line
    head, value, graph = match.groups()
    kind = ("boolean" if value in ("true", "false") else "double" if "e" in value.lower()
            else "decimal" if "." in value else "integer")
    return f'{head}"{value}"^^<{XSD}{kind}>{graph or ""} .'


def replicate(url: str) -> tuple[list[ox.Quad], str]:
    """Every quad of every member the reference client emits, and its stderr."""
    node = shutil.which("node")
    if node is None or not CLIENT.exists():
        pytest.fail("ldes-client is not installed: run `make test` (npm ci in web/)")
    done = subprocess.run([node, "--import", OFFLINE.as_uri(), str(CLIENT), url],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr
    text = "\n".join(nquads(line) for line in done.stdout.splitlines() if line.strip())
    return list(ox.parse(text.encode(), ox.RdfFormat.N_QUADS)), done.stderr


def test_reference_client_replicates_creates_updates_and_deletes(hub: ServedHub) -> None:
    quads, log = replicate(f"{hub.url}/changes?limit={PAGE}")
    assert "OFFLINE-REFUSED" not in log
    members = {q.subject.value for q in quads
               if q.predicate.value == RDF_TYPE and isinstance(q.graph_name, ox.DefaultGraph)}
    assert members == {f"https://w3id.org/maillage/id/change/{n}" for n in range(1, last(hub) + 1)}
    kinds = {q.subject.value: q.object.value.removeprefix(AS) for q in quads
             if q.predicate.value == RDF_TYPE and q.subject.value in members}
    assert sorted(kinds.values()) == ["Create"] * 5 + ["Delete"] * 2 + ["Update"] * 2
    version_of = {q.subject.value: q.object.value for q in quads if q.predicate.value == DCT + "isVersionOf"}
    deleted = {version_of[m] for m, kind in kinds.items() if kind == "Delete"}
    assert deleted == {"https://example.org/place/b", "https://example.org/place/d"}
    for member, kind in kinds.items():  # tombstones carry no state; versions carry theirs
        state = [q for q in quads if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value == member]
        assert (kind == "Delete") == (not state), member

    # replaying the members in sequence order gives what the hub serves now
    sequence = {q.subject.value: int(q.object.value) for q in quads if q.predicate.value == MLG + "sequence"}
    graph_of = {q.subject.value: q.object.value for q in quads if q.predicate.value == MLG + "graph"}
    replayed: dict[str, set[ox.Triple]] = {}
    for member in sorted(members, key=sequence.__getitem__):
        if kinds[member] == "Delete":
            replayed.pop(graph_of[member], None)
        else:
            replayed[graph_of[member]] = {q.triple for q in quads
                                          if isinstance(q.graph_name, ox.NamedNode)
                                          and q.graph_name.value == member}
    rows = httpx.get(f"{hub.url}/sparql", params={"query": "SELECT ?s ?n WHERE { ?s ?p ?n }"},
                     headers={"Accept": "application/sparql-results+json"}).json()["results"]["bindings"]
    served = {(r["s"]["value"], r["n"]["value"]) for r in rows}
    assert {(t.subject.value, t.object.value) for ts in replayed.values() for t in ts} == served
    names = {t.object.value for ts in replayed.values() for t in ts if t.predicate.value == MLG + "name"}
    assert names == {"Lieu A renommé", "Lieu C, deuxième nom", "Lieu E"}


def test_stream_description_and_caching(hub: ServedHub) -> None:
    first = httpx.get(f"{hub.url}/changes", params={"limit": PAGE})
    assert first.headers["cache-control"] == "public, max-age=31536000, immutable"
    etag = first.headers["etag"]
    again = httpx.get(f"{hub.url}/changes", params={"limit": PAGE}, headers={"If-None-Match": etag})
    assert again.status_code == 304
    tail = httpx.get(f"{hub.url}/changes", params={"since": last(hub) - 1, "limit": PAGE})
    assert "immutable" not in tail.headers["cache-control"] and "etag" in tail.headers
    trig = httpx.get(f"{hub.url}/changes", params={"limit": PAGE}, headers={"Accept": "application/trig"})
    assert trig.headers["content-type"].startswith("application/trig")
    data = rdflib.Dataset()
    data.parse(data=trig.text, format="trig")
    ldes, tree = rdflib.Namespace("https://w3id.org/ldes#"), rdflib.Namespace("https://w3id.org/tree#")
    stream = rdflib.URIRef(f"{hub.url}/changes")
    assert (stream, rdflib.RDF.type, ldes.EventStream) in data
    assert (stream, ldes.timestampPath, rdflib.URIRef(AS + "published")) in data
    assert (stream, ldes.versionOfPath, rdflib.URIRef(DCT + "isVersionOf")) in data
    assert (stream, tree.view, rdflib.URIRef(f"{hub.url}/changes?since=0&limit={PAGE}")) in data
    assert len(list(data.objects(stream, tree.member))) == PAGE
    page = rdflib.URIRef(f"{hub.url}/changes?since=0&limit={PAGE}")
    relation = next(data.objects(page, tree.relation))
    assert (relation, rdflib.RDF.type, tree.GreaterThanRelation) in data
    assert (relation, tree.node, rdflib.URIRef(f"{hub.url}/changes?since={PAGE}&limit={PAGE}")) in data
    assert list(data.objects(None, ldes.retentionPolicy))


def offline_loader(url: str, options: dict[str, object] | None = None) -> dict[str, object]:
    raise AssertionError(f"pyld tried to fetch {url}")


def test_pyld_and_rdflib_read_every_page_offline(hub: ServedHub) -> None:
    url: str | None = f"{hub.url}/changes?limit={PAGE}"
    members = 0
    while url is not None:
        body = httpx.get(url).json()
        nquads_text = jsonld.to_rdf(body, {"format": "application/n-quads", "documentLoader": offline_loader})
        data = rdflib.Dataset()
        data.parse(data=nquads_text, format="nquads")
        rdflib_data = rdflib.Dataset()
        rdflib_data.parse(data=json.dumps(body), format="json-ld")
        assert len(data) == len(rdflib_data) > 0
        members += len(list(data.objects(rdflib.URIRef(f"{hub.url}/changes"),
                                         rdflib.URIRef("https://w3id.org/tree#member"))))
        url = body.get("next")
    assert members == last(hub)
    context = httpx.get(f"{hub.url}/context/ldes.jsonld").json()
    assert context["@context"] == httpx.get(f"{hub.url}/changes").json()["@context"]

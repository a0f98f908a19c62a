"""Hostile inputs against a real ``maillage serve``: entity bombs, huge refused values, odd
tokens, made-up HTTP methods, crafted review ids, characters XML cannot carry, and provenance
links that are not web addresses. Each is refused with a small 4xx and leaves the store as it was.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import quote
from xml.etree import ElementTree

import httpx
import pyoxigraph as ox
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.pipeline.ingest import Ingestor
from hub.pipeline.match import Match, candidate_update
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.sync.merge import conflict
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.servers.hub import ServedHub, serving

SMALL = 20_000
"""Bytes: the most any refusal below may answer (the attacks send up to megabytes)."""
PROV = "http://www.w3.org/ns/prov#"


def billion_laughs(levels: int = 8) -> bytes:
    """RDF/XML of ~600 bytes whose name expands to 10 ** (levels + 1) characters."""
    entities = '<!ENTITY a0 "aaaaaaaaaa">' + "".join(
        f'<!ENTITY a{i} "{f"&a{i - 1};" * 10}">' for i in range(1, levels + 1)
    )
    return f"""<?xml version="1.0"?>
<!DOCTYPE rdf:RDF [{entities}]>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:m="{MLG}">
  <rdf:Description rdf:about="https://example.org/laughs">
    <rdf:type rdf:resource="{MLG}Place"/><m:name>&a{levels};</m:name>
  </rdf:Description>
</rdf:RDF>""".encode()


def place(source: str, key: str, iri: str, name: str) -> Record:
    subject = ox.NamedNode(iri)
    return Record(source=source, source_id=key, triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name, language="fr")),
    ))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """A hub holding two places, one match candidate between them and one open conflict."""
    data = tmp_path_factory.mktemp("abuse") / "data"
    with OxigraphStore(data / "store") as store:
        ingestor = Ingestor(store, DEFAULT_BASE_IRI)
        wiki = place("wiki", "1", "https://example.org/wiki/1", "Le Moulin")
        platform = place("plateforme", "a", "https://example.org/co/a", "Le moulin")
        ingestor.ingest([wiki, platform])
        match = candidate_update(platform, "https://example.org/co/a",
                                 Match("https://example.org/wiki/1", 0.5, "same name"))
        clash = conflict("wiki", "https://example.org/wiki/1", "nom", "A", "B", "both changed", "name")
        ingestor.ingest_batch([], None, [match, clash])
    with serving(data, demo=False) as served:
        yield served


def healthy(hub: ServedHub) -> bool:
    return httpx.get(f"{hub.url}/health", timeout=30).status_code == 200


def ask(hub: ServedHub, query: str) -> bool:
    response = httpx.get(f"{hub.url}/sparql", params={"query": query},
                         headers={"Accept": "application/sparql-results+json"}, timeout=30)
    assert response.status_code == 200, response.text
    return bool(response.json()["boolean"])


def graph_exists(hub: ServedHub, graph: str) -> bool:
    return ask(hub, f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


# --- 6. entity expansion and the size of error reports -----------------------------------------


def test_billion_laughs_is_refused_small_and_the_server_stays_up(hub: ServedHub) -> None:
    body = billion_laughs()
    assert len(body) < 1000
    graph = "https://example.org/graphs/laughs"
    response = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=body, timeout=120,
                         headers={**hub.auth, "Content-Type": "application/rdf+xml"})
    assert response.status_code == 400, response.text[:500]
    assert len(response.content) < SMALL
    assert "DTD entities are not accepted" in response.json()["error"]
    assert healthy(hub)
    assert not graph_exists(hub, graph)
    assert not ask(hub, "ASK { <https://example.org/laughs> ?p ?o }")


def test_plain_rdf_xml_is_still_accepted(hub: ServedHub) -> None:
    body = f"""<?xml version="1.0"?>
<rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#" xmlns:m="{MLG}">
  <rdf:Description rdf:about="https://example.org/xml-place">
    <rdf:type rdf:resource="{MLG}Place"/><m:name>Lieu &amp; XML</m:name>
  </rdf:Description>
</rdf:RDF>""".encode()
    graph = "https://example.org/graphs/xml-place"
    response = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=body, timeout=60,
                         headers={**hub.auth, "Content-Type": "application/rdf+xml"})
    assert response.status_code == 201, response.text
    assert ask(hub, f'ASK {{ <https://example.org/xml-place> <{MLG}name> "Lieu & XML" }}')


def test_the_command_line_refuses_entities_too(tmp_path: Path) -> None:
    file = tmp_path / "laughs.rdf"
    file.write_bytes(billion_laughs())
    data = tmp_path / "data"
    for command in ("import", "validate"):
        result = subprocess.run(
            [sys.executable, "-m", "hub", "--data-dir", str(data), command, str(file)],
            capture_output=True, text=True, timeout=120,
        )
        assert result.returncode == 1, result.stdout + result.stderr
        assert "DTD entities are not accepted" in result.stderr
        assert len(result.stdout + result.stderr) < SMALL
        assert "Traceback" not in result.stderr
    status = subprocess.run(
        [sys.executable, "-m", "hub", "--data-dir", str(data), "status", "--format", "json"],
        capture_output=True, text=True, timeout=120, check=True,
    )
    assert json.loads(status.stdout)["last_sequence"] == 0


def test_a_huge_invalid_value_gets_a_small_422(hub: ServedHub) -> None:
    huge = "9" * 900_000  # under the 1 MB literal limit, far from a 5-digit postal code
    rest = httpx.post(f"{hub.url}/api/places", headers=hub.auth, timeout=120,
                      json={"id": "https://example.org/huge", "name": "Grand", "postalCode": huge})
    graph = "https://example.org/graphs/huge"
    turtle = f'<https://example.org/huge> a <{MLG}Place> ; <{MLG}name> "Grand" ; <{MLG}postalCode> "{huge}" .'
    gsp = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=turtle.encode(),
                    headers={**hub.auth, "Content-Type": "text/turtle"}, timeout=120)
    update = httpx.post(f"{hub.url}/sparql/update", content=f"INSERT DATA {{ GRAPH <{graph}> {{ {turtle} }} }}",
                        headers={**hub.auth, "Content-Type": "application/sparql-update"}, timeout=120)
    for response in (rest, gsp, update):
        assert response.status_code == 422, response.text[:500]
        assert len(response.content) < SMALL
        values = [v["value"] for v in response.json()["violations"] if v["value"]]
        assert values and all(v.startswith("9" * 100) and "900,000" in v for v in values), values
    assert not graph_exists(hub, graph)
    assert not ask(hub, "ASK { <https://example.org/huge> ?p ?o }")
    quarantine = httpx.get(f"{hub.url}/quarantine", headers=hub.auth, timeout=30)
    assert quarantine.status_code == 200 and len(quarantine.content) < 100_000


def test_many_huge_violations_are_counted_not_all_listed(hub: ServedHub) -> None:
    graph = "https://example.org/graphs/many"
    codes = ", ".join(f'"{i:03d}{"x" * 20_000}"' for i in range(300))  # 6 MB of bad codes
    turtle = f'<https://example.org/many> a <{MLG}Place> ; <{MLG}name> "M" ; <{MLG}postalCode> {codes} .'
    response = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=turtle.encode(),
                         headers={**hub.auth, "Content-Type": "text/turtle"}, timeout=120)
    assert response.status_code == 422, response.text[:500]
    assert len(response.content) < 100_000
    report = response.json()
    assert len(report["violations"]) <= 100
    assert report["violations_not_listed"] >= 200
    assert not graph_exists(hub, graph)


def test_a_huge_parse_error_is_not_echoed(hub: ServedHub) -> None:
    body = b"<https://example.org/a> <https://example.org/p> " + b"x" * 2_000_000 + b" ."
    response = httpx.post(f"{hub.url}/api/places", content=body, timeout=60,
                          headers={**hub.auth, "Content-Type": "text/turtle"})
    assert response.status_code == 400
    assert len(response.content) < SMALL


# --- 7. the bearer token -----------------------------------------------------------------------


@pytest.mark.parametrize("header", [
    "Bearer tökén".encode(),
    "Bearer tökén".encode("latin-1"),
    b"Bearer \xff\xfe\x80",
    f"Bearer {'é' * 10_000}".encode(),
    b"Bearer",
    b"Bearer  two words",
    b"Basic dXNlcjpwYXNz",
    b"bearer",
    b"\xe2\x80\x8bBearer x",
])
def test_malformed_or_non_ascii_tokens_are_401(hub: ServedHub, header: bytes) -> None:
    response = httpx.post(f"{hub.url}/matches/{'0' * 24}/reject", headers={b"Authorization": header})
    assert response.status_code == 401, response.text
    assert "token" in response.json()["error"]
    assert "Traceback" not in response.text


def test_the_right_token_still_opens_writes(hub: ServedHub) -> None:
    response = httpx.post(f"{hub.url}/matches/{'0' * 24}/reject", headers=hub.auth)
    assert response.status_code == 404  # past the token check: the id names no candidate
    twice = [("Authorization", f"Bearer {hub.token}"), ("Authorization", "Bearer other")]
    assert httpx.post(f"{hub.url}/matches/{'0' * 24}/reject", headers=twice).status_code == 401


# --- 8. metrics label cardinality --------------------------------------------------------------


def metric_labels(hub: ServedHub) -> tuple[int, set[str], set[str]]:
    response = httpx.get(f"{hub.url}/metrics", timeout=30)
    assert response.status_code == 200
    methods: set[str] = set()
    routes: set[str] = set()
    for family in text_string_to_metric_families(response.text):
        if family.name == "maillage_http_requests":
            for sample in family.samples:
                methods.add(sample.labels["method"])
                routes.add(sample.labels["route"])
    return len(response.content), methods, routes


def test_made_up_methods_and_paths_do_not_grow_metrics(hub: ServedHub) -> None:
    with httpx.Client(base_url=hub.url, timeout=30) as client:
        for i in range(3):
            client.get("/health")
            client.get(f"/api/places/_?iri=https://example.org/{i}")
        before, _, _ = metric_labels(hub)
        for i in range(3000):
            response = client.request(f"X{i}MADEUP", f"/made/up/{i}" if i % 2 else "/health")
            assert response.status_code < 500
            client.get(f"/no/such/path/{i}")
    after, methods, routes = metric_labels(hub)
    assert after < before + 10_000, (before, after)
    assert methods <= {"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "other"}
    assert "other" in methods and "unmatched" in routes
    assert not any("made" in r or "no/such" in r for r in routes)


# --- 10. ids pasted into queries ---------------------------------------------------------------


MALICIOUS_IDS = [
    "x> || true) } } #",
    "x> || ?c != <urn:x",
    "x>) } } ; DROP GRAPH <urn:maillage:meta> ; #",
    "}",
    "' OR '1'='1",
    '" . ?s ?p ?o',
    "a b",
    "0" * 23 + ">",
    "0" * 24 + " ",
    "ZZZZZZZZZZZZZZZZZZZZZZZZ",
    "é" * 24,
]


def review_state(hub: ServedHub) -> tuple[object, object]:
    return (httpx.get(f"{hub.url}/matches", timeout=30, headers=hub.auth).json(),
            httpx.get(f"{hub.url}/conflicts", timeout=30, headers=hub.auth).json())


@pytest.mark.parametrize("bad_id", MALICIOUS_IDS)
def test_malicious_review_ids_are_unknown_and_change_nothing(hub: ServedHub, bad_id: str) -> None:
    before = review_state(hub)
    assert len(before[0]) == 1 and len(before[1]) == 1  # type: ignore[arg-type]
    path = quote(bad_id, safe="")
    for url, params in [
        (f"{hub.url}/matches/{path}/accept", {}),
        (f"{hub.url}/matches/{path}/reject", {}),
        (f"{hub.url}/conflicts/{path}/resolve", {"keep": "source"}),
        (f"{hub.url}/conflicts/{path}/resolve", {"keep": "hub"}),
    ]:
        response = httpx.post(url, params=params, headers=hub.auth, timeout=30)
        # unknown, as any id the hub did not make: never a query or update error
        assert response.status_code == 404, (url, response.status_code, response.text)
        assert response.json()["error"].startswith(("no match candidate", "no conflict"))
        assert "SPARQL" not in response.text and len(response.content) < SMALL
    assert review_state(hub) == before
    assert healthy(hub)


# --- low: characters XML cannot carry, provenance links ----------------------------------------


def test_a_nul_character_is_refused_everywhere_and_xml_answers_still_work(hub: ServedHub) -> None:
    iri = "https://example.org/nul-place"
    graph = "https://example.org/graphs/nul"
    rest = httpx.post(f"{hub.url}/api/places", headers=hub.auth, timeout=30,
                      json={"id": iri, "name": "avant\u0000après"})
    turtle = f'<{iri}> a <{MLG}Place> ; <{MLG}name> "avant\\u0000après" .'
    gsp = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=turtle.encode(),
                    headers={**hub.auth, "Content-Type": "text/turtle"}, timeout=30)
    update = httpx.post(f"{hub.url}/sparql/update", content=f"INSERT DATA {{ GRAPH <{graph}> {{ {turtle} }} }}",
                        headers={**hub.auth, "Content-Type": "application/sparql-update"}, timeout=30)
    control = httpx.post(f"{hub.url}/api/places", headers=hub.auth, timeout=30,
                         json={"id": iri, "name": "bip\u0007bip"})
    for response in (rest, gsp, update, control):
        assert response.status_code == 422, response.text
        assert "XML" in response.text
    assert "U+0000" in rest.text and "U+0007" in control.text
    assert not ask(hub, f"ASK {{ <{iri}> ?p ?o }}")
    xml = httpx.get(f"{hub.url}/sparql", params={"query": "SELECT ?s ?p ?o WHERE { ?s ?p ?o }"},
                    headers={"Accept": "application/sparql-results+xml"}, timeout=30)
    assert xml.status_code == 200
    ElementTree.fromstring(xml.content)  # well-formed: nothing unrepresentable was stored


@pytest.mark.parametrize("source", [
    "javascript:alert(1)", "file:///etc/passwd", "data:text/html,hello", "ftp://example.org/x",
    "urn:isbn:123", "http:no-host",
])
def test_non_web_primary_sources_are_refused(hub: ServedHub, source: str) -> None:
    iri = "https://example.org/prov-place"
    turtle = f'<{iri}> a <{MLG}Place> ; <{MLG}name> "P" ; <{PROV}hadPrimarySource> <{source}> .'
    rest = httpx.post(f"{hub.url}/api/places", content=turtle.encode(),
                      headers={**hub.auth, "Content-Type": "text/turtle"}, timeout=30)
    graph = "https://example.org/graphs/prov"
    gsp = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=turtle.encode(),
                    headers={**hub.auth, "Content-Type": "text/turtle"}, timeout=30)
    for response in (rest, gsp):
        assert 400 <= response.status_code < 500, response.text
        assert "http(s)" in response.text
    assert not ask(hub, f"ASK {{ <{iri}> ?p ?o }}")


def test_a_web_primary_source_is_accepted(hub: ServedHub) -> None:
    iri = "https://example.org/prov-ok"
    turtle = (f'<{iri}> a <{MLG}Place> ; <{MLG}name> "P" ; '
              f'<{PROV}hadPrimarySource> <https://example.org/source/page> .')
    graph = "https://example.org/graphs/prov-ok"
    response = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=turtle.encode(),
                         headers={**hub.auth, "Content-Type": "text/turtle"}, timeout=30)
    assert response.status_code == 201, response.text
    assert graph_exists(hub, graph)

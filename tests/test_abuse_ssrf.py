"""Server-side request forgery: whatever a query says, the hub calls only allow-listed endpoints.

A local listener plays the internal service an attacker wants to reach; it must receive nothing.
The spellings are the ones that got through the first, regex-based check (a ``#`` comment ended
by a carriage return, escapes in prefixed names) plus the usual variants. Two layers are tested
apart: the parse check (a served hub answers 400) and the confinement of the processes that run
SPARQL (a confined process given a SERVICE query directly, past any check, reaches nothing).
"""

from __future__ import annotations

import http.server
import multiprocessing as mp
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.servers.hub import ServedHub, serving

SECRET = "internal-secret-4f1c"


@dataclass
class Listener:
    """An HTTP service on loopback that answers SPARQL JSON holding a secret, and logs hits."""

    server: http.server.ThreadingHTTPServer
    hits: list[str] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_port}/sparql"


def _listener(status: int = 200) -> Listener:
    body = (
        '{"head":{"vars":["x"]},"results":{"bindings":[{"x":{"type":"literal","value":"'
        + SECRET + '"}}]}}'
    ).encode()
    hits: list[str] = []

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self.rfile.read(int(self.headers.get("content-length") or 0))
            hits.append(self.path)
            self.send_response(status)
            self.send_header("content-type", "application/sparql-results+json")
            self.send_header("content-length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_POST = do_GET

        def log_message(self, *args: Any) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return Listener(server, hits)


@pytest.fixture
def listener() -> Iterator[Listener]:
    found = _listener()
    yield found
    found.server.shutdown()


def spellings(target: str) -> list[str]:
    """SERVICE calls to ``target`` written the ways that fooled, or could fool, a tokenizer."""
    inner = "{ ?x ?p ?o }"
    return [
        f"SELECT * WHERE {{ #x\rSERVICE <{target}> {inner} }}",
        f"PREFIX ex: <http://e.example/> SELECT * WHERE {{ ?s ex:a\\# ?o . SERVICE <{target}> {inner} }}",
        f"PREFIX ex: <http://e.example/> SELECT * WHERE {{ ?s ex:a\\' ?o . SERVICE <{target}> {inner} }}",
        f"select * where {{ service <{target}> {inner} }}",
        f"SELECT * WHERE {{ SERVICE SILENT <{target}> {inner} }}",
        f"SELECT * WHERE {{ VALUES ?e {{ <{target}> }} SERVICE ?e {inner} }}",
        f"SELECT * WHERE {{ ?s ?p ?o FILTER EXISTS {{ SERVICE <{target}> {inner} }} }}",
        f"SELECT * WHERE {{ {{ SELECT ?x WHERE {{ SERVICE <{target}> {inner} }} }} }}",
        f"BASE <{target}> SELECT * WHERE {{ SERVICE <sparql> {inner} }}",
        f"PREFIX t: <{target.rsplit('/', 1)[0]}/> SELECT * WHERE {{ SERVICE t:sparql {inner} }}",
        f"SELECT * WHERE {{ SERV\\u0049CE <{target}> {inner} }}",
    ]


def update_spellings(target: str) -> list[str]:
    inner = "{ ?x ?p ?o }"
    return [
        f"INSERT {{ GRAPH <urn:x:g> {{ ?x ?p ?o }} }} WHERE {{ #x\rSERVICE <{target}> {inner} }}",
        f"INSERT {{ GRAPH <urn:x:g> {{ ?x ?p ?o }} }} WHERE {{ SERVICE <{target}> {inner} }}",
        f"LOAD <{target}> INTO GRAPH <urn:x:g>",
        f"load silent <{target}>",
    ]


@pytest.fixture(scope="module")
def default_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """A default install (no allow-list), as attacked."""
    with serving(tmp_path_factory.mktemp("ssrf") / "data") as hub:
        yield hub


def _attack(hub: ServedHub, query: str) -> list[httpx.Response]:
    return [
        httpx.get(f"{hub.url}/sparql", params={"query": query}, timeout=30),
        httpx.post(f"{hub.url}/sparql", content=query.encode(), timeout=30,
                   headers={"Content-Type": "application/sparql-query"}),
    ]


def test_no_spelling_of_service_reaches_an_internal_host(
    default_hub: ServedHub, listener: Listener
) -> None:
    """Refused when the parser reads the call; otherwise run where there is no network at all.

    ``ex:a\\#``, ``ex:a\\'`` and a comment ended by a carriage return are SPARQL 1.1 that rdflib
    reads otherwise or not at all: those queries reach the engine, in a process with no route
    anywhere, and come back empty or as an error.
    """
    for query in spellings(listener.url):
        for response in _attack(default_hub, query):
            assert response.status_code in (200, 400), (query, response.status_code, response.text)
            assert SECRET not in response.text
            assert "Error:" not in response.text and "Traceback" not in response.text
    assert listener.hits == []


def test_every_spelling_the_parser_reads_is_refused_naming_the_allow_list(
    default_hub: ServedHub, listener: Listener
) -> None:
    unreadable = ("\\#", "\\'", "\r")  # rdflib ends comments at \n only
    readable = [q for q in spellings(listener.url) if not any(u in q for u in unreadable)]
    for query in readable:
        for response in _attack(default_hub, query):
            assert response.status_code == 400, (query, response.text)
            error = response.json()["error"]
            assert "allow-list" in error or "could not check" in error, (query, error)
    assert listener.hits == []


def test_no_update_reaches_an_internal_host(default_hub: ServedHub, listener: Listener) -> None:
    for update in update_spellings(listener.url):
        response = httpx.post(
            f"{default_hub.url}/sparql/update", content=update.encode(), timeout=30,
            headers={**default_hub.auth, "Content-Type": "application/sparql-update"},
        )
        assert 400 <= response.status_code < 500, (update, response.status_code, response.text)
        assert SECRET not in response.text
    assert listener.hits == []
    assert "urn:x:g" not in httpx.get(
        f"{default_hub.url}/sparql", timeout=30,
        params={"query": "SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }"},
    ).text


def test_refusals_name_the_allow_list(default_hub: ServedHub, listener: Listener) -> None:
    query = f"SELECT * WHERE {{ SERVICE <{listener.url}> {{ ?x ?p ?o }} }}"
    response = httpx.get(f"{default_hub.url}/sparql", params={"query": query}, timeout=30)
    assert response.status_code == 400
    assert "allow-list" in response.json()["error"]


def test_a_huge_query_is_answered_without_freezing_health(default_hub: ServedHub) -> None:
    """The old check backtracked quadratically on this body and froze every endpoint."""
    body = "SELECT * WHERE { " + "'" * 150_000 + " }"
    response = httpx.post(f"{default_hub.url}/sparql", content=body.encode(), timeout=60,
                          headers={"Content-Type": "application/sparql-query"})
    assert 400 <= response.status_code < 500
    assert httpx.get(f"{default_hub.url}/health", timeout=10).status_code == 200


def test_allow_listed_federation_works_and_nothing_else(tmp_path: Path, listener: Listener) -> None:
    other = _listener()
    config = f'[api]\nservice_allowlist = ["{listener.url}"]\nquery_timeout = 15\n'
    try:
        with serving(tmp_path / "data", config=config) as hub:
            allowed = f"SELECT ?x WHERE {{ SERVICE <{listener.url}> {{ ?x ?p ?o }} }}"
            response = httpx.get(f"{hub.url}/sparql", params={"query": allowed}, timeout=30,
                                 headers={"Accept": "application/sparql-results+json"})
            assert response.status_code == 200, response.text
            assert [b["x"]["value"] for b in response.json()["results"]["bindings"]] == [SECRET]
            for query in spellings(other.url):
                for refused in _attack(hub, query):
                    assert refused.status_code in (200, 400) and SECRET not in refused.text
    finally:
        other.server.shutdown()
    assert listener.hits and other.hits == []


def _run_confined(allowlist: tuple[str, ...], targets: list[str], out: Any) -> None:
    from hub.api.query import sandbox

    sandbox.confine(allowlist)
    import pyoxigraph as ox

    answers: list[object] = [sandbox.CONFINED]
    for target in targets:
        try:
            rows = ox.Store().query(f"SELECT ?x WHERE {{ SERVICE <{target}> {{ ?x ?p ?o }} }}")
            answers.append([str(row["x"].value) for row in rows])  # type: ignore[union-attr]
        except Exception:
            answers.append(None)
    out.put(answers)


def _confined(allowlist: tuple[str, ...], targets: list[str]) -> list[object]:
    context = mp.get_context("spawn")
    queue = context.Queue()
    process = context.Process(target=_run_confined, args=(allowlist, targets, queue))
    process.start()
    try:
        answers: list[object] = queue.get(timeout=60)
    finally:
        process.join(10)
    return answers


def test_a_confined_process_reaches_no_host_without_an_allow_list(listener: Listener) -> None:
    """Even a SERVICE no check ever saw: the process has no network at all."""
    answers = _confined((), [listener.url, "http://localhost:1/", "http://example.org/sparql"])
    assert answers[0] is True, "the kernel refused the network namespace"
    assert answers[1:] == [None, None, None]
    assert listener.hits == []


def test_a_confined_process_reaches_only_allow_listed_endpoints(listener: Listener) -> None:
    other = _listener()
    try:
        named = listener.url.replace("127.0.0.1", "localhost")
        answers = _confined((named,), [named, other.url, named.replace("localhost", "127.0.0.1")])
    finally:
        other.server.shutdown()
    assert answers[0] is True
    assert answers[1] == [SECRET]
    assert answers[2] is None and other.hits == []
    assert answers[3] is None  # the name is allowed; its address is not another way in
    assert len(listener.hits) == 1


def test_failed_federated_calls_reveal_neither_body_nor_port(tmp_path: Path) -> None:
    """An allowed endpoint that answers an error page and one where no port is open look alike."""
    failing = _listener(status=500)
    closed = failing.url.replace(str(failing.server.server_port), str(_closed_port()))
    config = f'[api]\nservice_allowlist = ["{failing.url}", "{closed}"]\nquery_timeout = 15\n'
    try:
        with serving(tmp_path / "data", config=config, demo=False) as hub:
            answers = []
            for target in (failing.url, closed):
                query = f"SELECT ?x WHERE {{ SERVICE <{target}> {{ ?x ?p ?o }} }}"
                answers.append(httpx.get(f"{hub.url}/sparql", params={"query": query}, timeout=30))
    finally:
        failing.server.shutdown()
    assert failing.hits
    for response in answers:
        assert response.status_code in (400, 502, 503), response.text
        assert SECRET not in response.text and "Connection refused" not in response.text
    assert answers[0].json() == answers[1].json()


def _closed_port() -> int:
    from tests.servers.common import free_port

    return free_port()


def test_an_update_naming_relative_or_unnamed_graphs_is_a_clear_400(default_hub: ServedHub) -> None:
    """rdflib predicts the graphs, Oxigraph evaluates: a disagreement is refused, never a 500."""
    for update in (
        "INSERT DATA { GRAPH <relative> { <http://a.example/s> <http://a.example/p> 1 } }",
        "INSERT DATA { <http://a.example/s> <http://a.example/p> 1 }",
    ):
        response = httpx.post(
            f"{default_hub.url}/sparql/update", content=update.encode(), timeout=30,
            headers={**default_hub.auth, "Content-Type": "application/sparql-update"},
        )
        assert response.status_code == 400, (update, response.text)
        assert "graph" in response.json()["error"]

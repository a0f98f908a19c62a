"""What a browser and a cache see on every route: CORS preflights, HEAD, ``Vary: Accept``.

Reads are open to any origin without credentials; writes only to ``[api] cors_origins``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.servers.hub import ServedHub, serving

EDITOR = "https://editor.example"
STRANGER = "https://elsewhere.example"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    config = f'[api]\ncors_origins = ["{EDITOR}"]\n'
    with serving(tmp_path_factory.mktemp("browsers") / "hub", config=config) as served:
        yield served


def preflight(hub: ServedHub, path: str, origin: str, method: str, headers: str = "") -> httpx.Response:
    request_headers = {"Origin": origin, "Access-Control-Request-Method": method}
    if headers:
        request_headers["Access-Control-Request-Headers"] = headers
    return httpx.options(f"{hub.url}{path}", headers=request_headers)


def listed(response: httpx.Response, header: str) -> set[str]:
    return {v.strip().lower() for v in response.headers.get(header, "").split(",") if v.strip()}


@pytest.mark.parametrize("path,method,headers", [
    ("/sparql", "POST", "content-type"),
    ("/sparql", "GET", "accept"),
    ("/api/projects", "GET", "accept"),
    ("/changes", "GET", "last-event-id"),
    ("/.well-known/void", "GET", "accept"),
])
def test_reads_are_open_to_any_origin(hub: ServedHub, path: str, method: str, headers: str) -> None:
    answer = preflight(hub, path, STRANGER, method, headers)
    assert answer.status_code in (200, 204)
    assert answer.headers["access-control-allow-origin"] == "*"
    assert method.lower() in listed(answer, "access-control-allow-methods")
    assert headers in listed(answer, "access-control-allow-headers")
    assert "access-control-allow-credentials" not in answer.headers
    actual = httpx.get(f"{hub.url}{path}", headers={"Origin": STRANGER})
    assert actual.headers["access-control-allow-origin"] == "*"
    assert {"location", "etag"} <= listed(actual, "access-control-expose-headers")


def test_a_query_posted_from_another_origin_is_answered(hub: ServedHub) -> None:
    response = httpx.post(f"{hub.url}/sparql", content="ASK {}", headers={
        "Origin": STRANGER, "Content-Type": "application/sparql-query"})
    assert response.status_code == 200 and response.headers["access-control-allow-origin"] == "*"


@pytest.mark.parametrize("path,method", [
    ("/sparql/update", "POST"), ("/store", "PUT"), ("/api/projects", "POST"),
])
def test_writes_only_from_configured_origins(hub: ServedHub, path: str, method: str) -> None:
    refused = preflight(hub, path, STRANGER, method, "authorization,content-type")
    assert "access-control-allow-origin" not in refused.headers
    allowed = preflight(hub, path, EDITOR, method, "authorization,content-type")
    assert allowed.status_code in (200, 204)
    assert allowed.headers["access-control-allow-origin"] == EDITOR
    assert "authorization" in listed(allowed, "access-control-allow-headers")
    assert method.lower() in listed(allowed, "access-control-allow-methods")
    assert "origin" in listed(allowed, "vary")


def test_a_write_from_the_configured_origin_is_readable_by_it(hub: ServedHub) -> None:
    update = ('INSERT DATA { GRAPH <https://example.org/cors/> { <https://example.org/cors/r> a '
              '<https://w3id.org/maillage/ontology#Resource> ; '
              '<https://w3id.org/maillage/ontology#name> "r"@fr } }')
    response = httpx.post(f"{hub.url}/sparql/update", content=update, headers={
        "Origin": EDITOR, "Content-Type": "application/sparql-update", **hub.auth})
    assert response.status_code == 200, response.text
    assert response.headers["access-control-allow-origin"] == EDITOR


def get_routes(hub: ServedHub) -> list[str]:
    """Every GET path of the OpenAPI description; ``{collection}`` as ``projects``, other parameters
    left out (the 404 of an unknown id is checked separately)."""
    spec = httpx.get(f"{hub.url}/openapi.json").json()
    paths = {p.replace("{collection}", "projects") for p, ops in spec["paths"].items() if "get" in ops}
    return sorted(p for p in paths if "{" not in p)


def test_head_on_every_get_route(hub: ServedHub) -> None:
    """HEAD answers as GET would (status, type), without a body, on every GET route listed in
    the OpenAPI description, and every answer varies with Accept."""
    routes = get_routes(hub)
    assert {"/sparql", "/api/projects", "/changes", "/.well-known/void"} <= set(routes)
    for path in [*routes, "/", "/api/projects/nope"]:
        head = httpx.head(f"{hub.url}{path}", timeout=30)
        assert head.status_code != 405, path
        assert head.content == b"", path
        assert "accept" in listed(head, "vary"), path
        if path.endswith("/stream"):
            assert head.status_code == 200  # the SSE stream: HEAD ends at once, GET never does
            continue
        got = httpx.get(f"{hub.url}{path}", timeout=30)
        assert head.status_code == got.status_code, path
        assert head.headers.get("content-type") == got.headers.get("content-type"), path

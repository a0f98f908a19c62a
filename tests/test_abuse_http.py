"""HTTP abuse against a real ``maillage serve``: missing security headers, foreign map tiles,
a forged ``Host`` header, slow clients (slowloris) and a ``/docs`` page that needed a CDN.

The hub is served with a short ``client_timeout`` and one tile server of its own (a small local
HTTP server on another port), so that the Content Security Policy can be checked in Chromium
with a real cross-origin tile layer.
"""

from __future__ import annotations

import http.server
import re
import select
import socket
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import httpx
import pytest

from tests.servers.common import free_port, unavailable
from tests.servers.hub import ServedHub, serving

EVIL = "evil.example"
CLIENT_TIMEOUT = 2
SOCKET_GUARD = 60.0
"""Only a hang guard for raw sockets: far above any deadline of the hub, never a latency check."""
TRICKLE = 120
"""Bytes sent one by one (at most a quarter of a second apart) before concluding that the hub
waits forever: many times what ``CLIENT_TIMEOUT`` lets through, and a bounded test if it fails."""
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000001e221bc330000000049454e44ae426082"
)
CHROMIUM = "/usr/bin/chromium"


class _Tiles(http.server.BaseHTTPRequestHandler):
    served: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        _Tiles.served.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture(scope="module")
def tile_server() -> Iterator[str]:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), _Tiles)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}/{{z}}/{{x}}/{{y}}.png"
    server.shutdown()


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory, tile_server: str) -> Iterator[ServedHub]:
    config = f'[api]\nclient_timeout = {CLIENT_TIMEOUT}\ntile_servers = ["{tile_server}"]\n'
    with serving(tmp_path_factory.mktemp("abuse-http") / "data", config) as served:
        yield served


def _port(hub: ServedHub) -> int:
    return int(hub.url.rsplit(":", 1)[1])


def _check_headers(response: httpx.Response) -> None:
    where = f"{response.request.method} {response.request.url} ({response.status_code})"
    policy = response.headers.get("content-security-policy", "")
    directives = {d.split()[0]: d.split()[1:] for d in policy.split("; ") if d}
    assert directives.get("script-src", [None])[0] == "'self'", where
    assert "'unsafe-inline'" not in policy and "'unsafe-eval'" not in policy, where
    assert directives.get("style-src") == ["'self'"], where
    assert directives.get("frame-ancestors") == ["'none'"], where
    assert response.headers.get("x-content-type-options") == "nosniff", where
    assert response.headers.get("x-frame-options") == "DENY", where
    assert response.headers.get("referrer-policy") in ("no-referrer", "strict-origin-when-cross-origin")


def test_security_headers_on_every_kind_of_response(hub: ServedHub) -> None:
    query = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
    responses = [
        httpx.get(f"{hub.url}/"),
        httpx.get(f"{hub.url}/ui/operations"),
        httpx.get(f"{hub.url}/api/places", params={"limit": 1}),
        httpx.get(f"{hub.url}/sparql", params={"query": query}),
        httpx.post(f"{hub.url}/sparql", content=query, headers={"Content-Type": "application/sparql-query"}),
        httpx.get(f"{hub.url}/sparql"),
        httpx.get(f"{hub.url}/.well-known/void"),
        httpx.get(f"{hub.url}/static/web.css"),
        httpx.get(f"{hub.url}/ui/no-such-page"),
        httpx.get(f"{hub.url}/no-such-path"),
        httpx.post(f"{hub.url}/sparql/update", content="CLEAR ALL"),
    ]
    assert [r.status_code for r in responses[:8]] == [200] * 8
    assert [r.status_code for r in responses[8:10]] == [404, 404]
    assert responses[10].status_code in (401, 403)
    assert "text/html" in responses[0].headers["content-type"]
    assert "json" in responses[3].headers["content-type"]
    for response in responses:
        _check_headers(response)
    # the map's configured tile server is the one foreign image origin; nothing else is allowed
    policy = responses[0].headers["content-security-policy"]
    img = next(d for d in policy.split("; ") if d.startswith("img-src"))
    assert img.split()[1:] == ["'self'", "data:", f"http://127.0.0.1:{_tile_port(hub)}"]


def _tile_port(hub: ServedHub) -> int:
    page = httpx.get(f"{hub.url}/ui/map").text
    found = re.search(r"http://127\.0\.0\.1:(\d+)/\{z\}", page)
    assert found, "the map page does not draw the configured tile server"
    return int(found.group(1))


def test_map_refuses_tile_servers_that_are_not_configured(hub: ServedHub, tile_server: str) -> None:
    for foreign in (f"https://{EVIL}/{{z}}/{{x}}/{{y}}.png", "javascript:alert(1)//{z}{x}{y}",
                    tile_server + "?x", tile_server.replace("http://", "https://")):
        refused = httpx.get(f"{hub.url}/ui/map", params={"tiles": foreign})
        assert refused.status_code == 400, foreign
        assert "text/html" in refused.headers["content-type"]
        assert 'id="map-tiles"' not in refused.text and "leaflet" not in refused.text  # no map drawn
    chosen = httpx.get(f"{hub.url}/ui/map", params={"tiles": tile_server})
    assert chosen.status_code == 200 and tile_server in chosen.text
    default = httpx.get(f"{hub.url}/ui/map")
    assert default.status_code == 200 and tile_server in default.text


def _requests_with_forged_host(hub: ServedHub, host: str) -> list[httpx.Response]:
    forged = {"Host": host}
    with httpx.Client(base_url=hub.url, headers=forged, timeout=30) as client:
        first = client.get("/api/places", params={"limit": 1}).json()["items"][0]
        item = first["id"]
        created = client.post("/api/projects", json={"name": "Projet au nom de l'hôte"},
                              headers=hub.auth)
        assert created.status_code == 201, created.text
        return [
            client.get("/.well-known/void", headers={"Accept": "text/turtle"}),
            client.get("/.well-known/void", headers={"Accept": "application/ld+json"}),
            client.get("/changes", params={"limit": 2}),
            client.get("/changes", params={"limit": 2, "since": 2}),
            client.get("/sparql"),
            client.get("/api/places", params={"limit": 1}),
            client.get(created.headers["location"].replace(hub.url, "")),
            client.get(created.headers["location"].replace(hub.url, ""), headers={"Accept": "text/turtle"}),
            client.get("/ui/entity", params={"iri": item}),
            client.get("/docs"),
            client.get("/changes/"),  # a redirect: its Location is absolute
            created,
        ]


@pytest.mark.parametrize("host", [EVIL, f"{EVIL}:{{port}}", f"127.0.0.1:{{port}}@{EVIL}", f"{EVIL}\\"])
def test_forged_host_header_never_reaches_a_document(hub: ServedHub, host: str) -> None:
    host = host.format(port=_port(hub))
    responses = _requests_with_forged_host(hub, host)
    for response in responses:
        assert response.status_code < 500, response.request.url
        assert EVIL not in response.text, response.request.url
        assert EVIL not in response.headers.get("location", "")
    void = responses[0].text
    assert f"<{hub.url}/sparql>" in void  # the address the connection came in on instead
    assert responses[2].json()["next"].startswith(f"{hub.url}/changes?")
    assert responses[-1].headers["location"].startswith(f"{hub.url}/api/projects/")


def test_the_servers_own_names_are_kept(hub: ServedHub) -> None:
    port = _port(hub)
    for host in (f"localhost:{port}", f"127.0.0.1:{port}"):
        feed = httpx.get(f"{hub.url}/changes", params={"limit": 1}, headers={"Host": host})
        assert feed.json()["next"].startswith(f"http://{host}/changes?")
    elsewhere = httpx.get(f"{hub.url}/changes", params={"limit": 1}, headers={"Host": f"localhost:{port + 1}"})
    assert elsewhere.json()["next"].startswith(f"{hub.url}/changes?")


def test_public_url_is_used_for_every_absolute_url(tmp_path: Path) -> None:
    public = "https://data.example.org/maillage"
    config = f'[api]\npublic_url = "{public}"\n'
    with serving(tmp_path / "data", config) as served:
        for prefix in ("", "/maillage"):  # behind a proxy that strips the prefix, or not
            forged = {"Host": EVIL, "X-Forwarded-Proto": "http"}
            void = httpx.get(f"{served.url}{prefix}/.well-known/void", headers=forged)
            assert void.status_code == 200 and EVIL not in void.text
            assert f"<{public}/sparql>" in void.text and f"<{public}/changes>" in void.text
            feed = httpx.get(f"{served.url}{prefix}/changes", params={"limit": 1}, headers=forged).json()
            assert feed["next"].startswith(f"{public}/changes?")
            description = httpx.get(f"{served.url}{prefix}/sparql", headers=forged)
            assert f"<{public}/sparql/update>" in description.text and EVIL not in description.text
        docs = httpx.get(f"{served.url}/docs").text
        assert "/maillage/openapi.json" in docs and "/maillage/static/vendor/swagger-ui/" in docs


def _status_line(sock: socket.socket) -> bytes:
    received = b""
    while b"\r\n" not in received:
        chunk = sock.recv(4096)
        if not chunk:
            break
        received += chunk
    return received.split(b"\r\n", 1)[0]


def _closed(sock: socket.socket) -> bool:
    """True once the server has closed the connection (after whatever it answered)."""
    try:
        while sock.recv(4096):
            pass
    except ConnectionResetError:
        pass
    return True


def _trickle(sock: socket.socket, data: bytes, hub: ServedHub, other: list[int]) -> bool:
    """Sends ``data`` one byte at a time, another client using the hub meanwhile; True when the
    server stopped listening (closed or answered) before everything was sent."""
    for index, byte in enumerate(data):
        try:
            sock.sendall(bytes([byte]))
        except (BrokenPipeError, ConnectionResetError):
            return True
        if index % 4 == 0:
            other.append(httpx.get(f"{hub.url}/health", timeout=30).status_code)
        if select_readable(sock, 0.25):
            return True
    return False


def select_readable(sock: socket.socket, wait: float) -> list[socket.socket]:
    """The socket when the server has answered or closed within ``wait`` seconds, else nothing."""
    return select.select([sock], [], [], wait)[0]


def _connect(hub: ServedHub) -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", _port(hub)))
    sock.settimeout(SOCKET_GUARD)
    return sock


def test_a_body_sent_byte_by_byte_gets_408_and_others_are_served(hub: ServedHub) -> None:
    other: list[int] = []
    with _connect(hub) as sock:
        sock.sendall(b"POST /sparql HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/sparql-query\r\n"
                     b"Content-Length: 100000\r\n\r\n")
        assert _trickle(sock, b"S" * TRICKLE, hub, other), "the hub kept waiting for a trickled body"
        assert _status_line(sock) == b"HTTP/1.1 408 Request Timeout"
        assert _closed(sock)
    assert other and set(other) == {200}


def test_headers_sent_byte_by_byte_get_408_and_others_are_served(hub: ServedHub) -> None:
    other: list[int] = []
    headers = b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\n" + b"X-Slow: " + b"a" * TRICKLE
    with _connect(hub) as sock:
        assert _trickle(sock, headers, hub, other), "the hub waited for trickled headers to the end"
        assert _status_line(sock) == b"HTTP/1.1 408 Request Timeout"
        assert _closed(sock)
    assert other and set(other) == {200}


def test_a_body_nobody_reads_cannot_keep_the_connection(hub: ServedHub) -> None:
    """``/health`` answers without reading the body; the trickle must still end in a close."""
    other: list[int] = []
    with _connect(hub) as sock:
        sock.sendall(b"GET /health HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 100000\r\n\r\n")
        assert _status_line(sock) == b"HTTP/1.1 200 OK"  # the rest of the answer is read below
        closed = False
        for _ in range(TRICKLE):
            try:
                sock.sendall(b"S")
            except (BrokenPipeError, ConnectionResetError):
                closed = True
                break
            if select_readable(sock, 0.25) and not sock.recv(4096):
                closed = True
                break
            if len(other) < 3:
                other.append(httpx.get(f"{hub.url}/health", timeout=30).status_code)
        assert closed
    assert set(other) == {200}


def test_docs_need_no_external_host(hub: ServedHub) -> None:
    docs = httpx.get(f"{hub.url}/docs")
    assert docs.status_code == 200 and "text/html" in docs.headers["content-type"]
    assert "://" not in docs.text  # every reference is a path on the hub itself
    referenced = re.findall(r'(?:src|href)="([^"]+)"', docs.text) + re.findall(r"url: '([^']+)'", docs.text)
    assert "/openapi.json" in referenced and len(referenced) >= 4
    for path in referenced:
        assert path.startswith("/") and not path.startswith("//"), path
        assert httpx.get(f"{hub.url}{path}").status_code == 200, path
    policy = docs.headers["content-security-policy"]
    assert re.search(r"script-src 'self' 'sha256-[A-Za-z0-9+/=]+'(;|$)", policy), policy
    assert httpx.get(f"{hub.url}/redoc").status_code == 404


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        yield browser
        browser.close()


def test_pages_work_under_the_policy_in_a_browser(hub: ServedHub, chromium: object) -> None:
    httpx.put(f"{hub.url}/store", params={"graph": "https://example.org/abuse-http/places"},
              headers={**hub.auth, "Content-Type": "text/turtle"},
              content='<https://example.org/abuse-http/p> a <https://w3id.org/maillage/ontology#Place> ; '
                      '<https://w3id.org/maillage/ontology#name> "Lieu"@fr ; '
                      '<https://w3id.org/maillage/ontology#latitude> 45.7 ; '
                      '<https://w3id.org/maillage/ontology#longitude> 4.8 .').raise_for_status()
    context = chromium.new_context()  # type: ignore[attr-defined]
    violations: list[str] = []
    tab = context.new_page()
    tab.on("console", lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None)
    tab.on("pageerror", lambda exc: violations.append(str(exc)))
    _Tiles.served.clear()
    for path in ("/", "/ui/places", "/ui/sparql", "/ui/observatory", "/ui/operations", "/ui/map"):
        assert tab.goto(hub.url + path).status == 200, path
        tab.wait_for_load_state("networkidle")
    assert tab.locator(".leaflet-marker-icon").count() >= 1
    assert _Tiles.served, "the configured tile server was not used by the map"
    tab.goto(hub.url + "/docs")
    tab.wait_for_selector(".opblock", timeout=30_000)
    assert tab.locator(".opblock").count() > 10
    framed = tab.evaluate("""url => new Promise(done => {
        const frame = document.createElement('iframe');
        frame.onload = () => { try { done(frame.contentDocument === null || frame.contentDocument.body.innerHTML === ''); }
                                catch (e) { done(true); } };
        frame.src = url; document.body.appendChild(frame);
        setTimeout(() => done('no load event'), 10000);
    })""", hub.url + "/ui/operations")
    context.close()
    assert framed is True, f"/ui/operations inside a frame: {framed}"
    assert not [v for v in violations if "frame-ancestors" not in v and "frame-src" not in v], violations

"""A threaded HTTP reverse proxy that injects faults, for testing clients against a flaky wiki.

Usage::

    with FaultyProxy(wiki.api_url) as proxy:
        proxy.fail_next("maxlag", when=lambda method, params: params.get("action") == "edit")
        site = mwclient.Site(proxy.host, path="/", scheme="http")   # or httpx.get(proxy.url, ...)

Every request not answered by a fault is forwarded unchanged (method, path, query, body and
headers, cookies included) and the upstream answer (status, headers including every
``Set-Cookie``, body) is sent back. Each connection carries one request (HTTP/1.0 style).
"""

from __future__ import annotations

import email.parser
import email.policy
import http.client
import json
import threading
from collections.abc import Callable
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Literal
from urllib.parse import parse_qsl, urlsplit

FaultKind = Literal["5xx", "timeout", "lost_response", "maxlag", "html", "ratelimited", "readonly"]
#: ``when(method, params)``: params merge the query string and a form body (first value per name).
Predicate = Callable[[str, dict[str, str]], bool]

FAULT_KINDS: tuple[str, ...] = (
    "5xx",
    "timeout",
    "lost_response",
    "maxlag",
    "html",
    "ratelimited",
    "readonly",
)

HOP_BY_HOP = frozenset(
    {
        "connection", "keep-alive", "proxy-authenticate", "proxy-authorization", "proxy-connection",
        "te", "trailer", "trailers", "transfer-encoding", "upgrade",
    }
)  # fmt: skip

API_ERRORS = {
    "maxlag": "Waiting for 127.0.0.1: 5 seconds lagged",
    "ratelimited": (
        "As an anti-abuse measure, you are limited from performing this action too many times in a short "
        "space of time, and you have exceeded this limit. Please try again in a few minutes."
    ),
    "readonly": "The wiki is currently in read-only mode.",
}


@dataclass
class _Fault:
    kind: str
    remaining: int
    when: Predicate | None
    delay: float | None


def parse_params(query: str, content_type: str, body: bytes) -> dict[str, str]:
    """Query-string and form-body parameters of a request (first value wins, files skipped)."""
    params: dict[str, str] = {}
    pairs = parse_qsl(query, keep_blank_values=True)
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        pairs += parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    elif ctype == "multipart/form-data":
        raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
        message = email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw)
        for part in message.iter_parts():
            name = part.get_param("name", header="content-disposition")
            payload = part.get_payload(decode=True)
            if name and part.get_filename() is None and isinstance(payload, bytes):
                pairs.append((str(name), payload.decode(part.get_content_charset() or "utf-8", "replace")))
    for key, value in pairs:
        params.setdefault(key, value)
    return params


class FaultyProxy:
    """Reverse proxy to ``target_url``'s host; ``url`` keeps the target's path (e.g. ``/api.php``).

    ``timeout_delay`` is how long a "timeout" or "lost_response" fault holds the request before
    closing the connection without an answer: make it longer than the client's read timeout.
    """

    def __init__(self, target_url: str, timeout_delay: float = 5.0, upstream_timeout: float = 60.0) -> None:
        target = urlsplit(target_url)
        if target.scheme != "http" or not target.hostname:
            raise ValueError(f"FaultyProxy only forwards to plain http URLs, not {target_url!r}")
        self.target_host = target.hostname
        self.target_port = target.port or 80
        self.target_netloc = target.netloc
        self.target_path = target.path or "/"
        self.timeout_delay = timeout_delay
        self.upstream_timeout = upstream_timeout
        #: (method, params) of every request received, faulted or forwarded, in arrival order.
        self.requests: list[tuple[str, dict[str, str]]] = []
        #: (kind, method, params) of every fault served.
        self.faults_served: list[tuple[str, str, dict[str, str]]] = []
        self._faults: list[_Fault] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    # -- public API

    @property
    def port(self) -> int:
        if self._server is None:
            raise RuntimeError("the proxy is not running")
        return int(self._server.server_address[1])

    @property
    def host(self) -> str:
        """``127.0.0.1:PORT``, for mwclient's ``Site(host, path=..., scheme="http")``."""
        return f"127.0.0.1:{self.port}"

    @property
    def base_url(self) -> str:
        return f"http://{self.host}"

    @property
    def url(self) -> str:
        """The proxied equivalent of ``target_url``."""
        return f"{self.base_url}{self.target_path}"

    def fail_next(
        self, kind: FaultKind, count: int = 1, when: Predicate | None = None, delay: float | None = None
    ) -> None:
        """Answer the next ``count`` requests matching ``when`` (all when None) with fault ``kind``.

        Kinds: "5xx" (503 HTML page), "timeout" (hold ``delay``/``timeout_delay`` seconds, then
        close without answering; not forwarded), "lost_response" (forwarded, so the wiki acts on
        it, then held and closed without answering), "maxlag" (API error + ``Retry-After: 1`` and
        ``X-Database-Lag: 5``), "html" (200 ``text/html`` page instead of JSON), "ratelimited",
        "readonly" (API errors). Faults queue up; the oldest matching one is served first.
        """
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        if count < 1:
            raise ValueError("count must be at least 1")
        with self._lock:
            self._faults.append(_Fault(kind, count, when, delay))

    def pending(self) -> int:
        """How many faults are still queued."""
        with self._lock:
            return sum(f.remaining for f in self._faults)

    def clear(self) -> None:
        """Drop queued faults and forget the recorded requests."""
        with self._lock:
            self._faults.clear()
            self.requests.clear()
            self.faults_served.clear()

    def start(self) -> FaultyProxy:
        handler = type("Handler", (_Handler,), {"proxy": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            kwargs={"poll_interval": 0.05},
            name="faulty-proxy",
            daemon=True,
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=10)

    def __enter__(self) -> FaultyProxy:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()

    # -- used by the handler

    def _take_fault(self, method: str, params: dict[str, str]) -> _Fault | None:
        with self._lock:
            self.requests.append((method, params))
            for fault in self._faults:
                if fault.when is None or fault.when(method, params):
                    fault.remaining -= 1
                    if fault.remaining == 0:
                        self._faults.remove(fault)
                    self.faults_served.append((fault.kind, method, params))
                    return fault
        return None

    def _hold(self, fault: _Fault) -> None:
        self._stopping.wait(self.timeout_delay if fault.delay is None else fault.delay)


class _Handler(BaseHTTPRequestHandler):
    proxy: FaultyProxy
    protocol_version = "HTTP/1.0"
    server_version = "faulty-proxy"

    def log_message(self, format: str, *args: object) -> None:
        pass

    def do_GET(self) -> None:
        self._handle()

    do_POST = do_HEAD = do_PUT = do_DELETE = do_PATCH = do_OPTIONS = do_GET

    def _read_body(self) -> bytes:
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks: list[bytes] = []
            while True:
                size = int(self.rfile.readline().split(b";")[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline()
        length = int(self.headers.get("Content-Length") or 0)
        return self.rfile.read(length) if length else b""

    def _handle(self) -> None:
        body = self._read_body()
        query = urlsplit(self.path).query
        params = parse_params(query, self.headers.get("Content-Type", ""), body)
        fault = self.proxy._take_fault(self.command, params)
        if fault is None:
            self._forward(body)
        elif fault.kind == "timeout":
            self.proxy._hold(fault)
            self.close_connection = True
        elif fault.kind == "lost_response":
            self._forward(body, send=False)
            self.proxy._hold(fault)
            self.close_connection = True
        elif fault.kind == "5xx":
            page = b"<html><head><title>503 Service Unavailable</title></head><body>Service Unavailable</body></html>"
            self._answer(503, "text/html; charset=utf-8", page)
        elif fault.kind == "html":
            page = (
                b"<!DOCTYPE html><html><head><title>Maintenance</title></head>"
                b"<body><h1>Le wiki est en maintenance</h1></body></html>"
            )
            self._answer(200, "text/html; charset=utf-8", page)
        else:
            self._api_error(fault.kind, params)

    def _api_error(self, code: str, params: dict[str, str]) -> None:
        error: dict[str, object] = {"code": code, "info": API_ERRORS[code]}
        extra = {}
        if code == "maxlag":
            error.update(host="127.0.0.1", lag=5, type="db")
            extra = {"Retry-After": "1", "X-Database-Lag": "5"}
        elif code == "readonly":
            error["readonlyreason"] = "Maintenance de la base (faulty proxy)"
        doc = f"See {self.proxy.url} for API usage."
        error["docref" if params.get("formatversion") == "2" else "*"] = doc
        payload = json.dumps({"error": error, "servedby": "faulty-proxy"}).encode()
        self._answer(200, "application/json; charset=utf-8", payload, {"MediaWiki-API-Error": code, **extra})

    def _answer(
        self, status: int, content_type: str, payload: bytes, headers: dict[str, str] | None = None
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for name, value in (headers or {}).items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

    def _forward(self, body: bytes, send: bool = True) -> None:
        proxy = self.proxy
        headers = {
            k: v for k, v in self.headers.items() if k.lower() not in HOP_BY_HOP and k.lower() != "host"
        }
        headers["Host"] = proxy.target_netloc
        if body or self.command in ("POST", "PUT", "PATCH"):
            headers["Content-Length"] = str(len(body))
        conn = http.client.HTTPConnection(
            proxy.target_host, proxy.target_port, timeout=proxy.upstream_timeout
        )
        try:
            conn.request(self.command, self.path, body=body or None, headers=headers)
            reply = conn.getresponse()
            payload = reply.read()
        except (OSError, http.client.HTTPException) as exc:
            if send:
                self._answer(
                    502, "text/plain; charset=utf-8", f"faulty proxy: upstream failed: {exc}".encode()
                )
            return
        finally:
            conn.close()
        if not send:
            return
        self.send_response_only(reply.status, reply.reason)
        for name, value in reply.getheaders():
            if name.lower() not in HOP_BY_HOP and name.lower() != "content-length":
                self.send_header(name, value)
        self.send_header("Content-Length", str(len(payload)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(payload)

"""A hostile upstream for the source-abuse tests: a real HTTP server on loopback whose every path
answers what the test scripts, byte by byte when needed (a body that never ends, one byte at a
time, a gzip bomb, a redirect elsewhere), and an *internal* listener standing for the service an
attacker wants the hub to reach: it logs every connection and request, and must receive none.

Usage::

    with hostile_server() as api, hostile_server() as internal:
        api.route("/lieux", lambda w: w.json({"results": [], "next": internal.url + "/x"}))
        ...
        assert internal.hits == []
"""

from __future__ import annotations

import gzip
import json
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass(frozen=True)
class Hit:
    method: str
    path: str
    headers: dict[str, str]
    body: bytes


class Writer:
    """What a scripted route may answer."""

    def __init__(self, handler: BaseHTTPRequestHandler, server: HostileServer) -> None:
        self.handler = handler
        self.server = server

    def raw(self, data: bytes) -> None:
        self.handler.wfile.write(data)
        self.handler.wfile.flush()

    def send(self, status: int, body: bytes, headers: dict[str, str] | None = None) -> None:
        head = {"Content-Type": "application/json", "Content-Length": str(len(body)), "Connection": "close",
                **(headers or {})}
        lines = [f"HTTP/1.1 {status} X"] + [f"{k}: {v}" for k, v in head.items()]
        self.raw(("\r\n".join(lines) + "\r\n\r\n").encode() + body)

    def json(self, value: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self.send(status, json.dumps(value).encode(), headers)

    def redirect(self, location: str, status: int = 302) -> None:
        self.send(status, b"", {"Location": location})

    def gzip_bomb(self, prefix: bytes, size: int, suffix: bytes) -> None:
        """``size`` bytes of spaces between ``prefix`` and ``suffix``, gzipped (about 1,000 to 1)."""
        body = gzip.compress(prefix + b" " * size + suffix, 9)
        self.send(200, body, {"Content-Encoding": "gzip"})

    def endless(self, prefix: bytes, chunk: bytes = b" " * 65536, most: int = 2_000) -> None:
        """A chunked body that goes on (``most`` chunks at most, so a test cannot run forever)."""
        self.raw(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n"
                 b"Connection: close\r\n\r\n")
        try:
            self.raw(b"%x\r\n%s\r\n" % (len(prefix), prefix))
            for _ in range(most):
                self.raw(b"%x\r\n%s\r\n" % (len(chunk), chunk))
            self.raw(b"0\r\n\r\n")
            self.server.finished.append(self.handler.path)
        except OSError:
            self.server.gave_up.append(self.handler.path)

    def drip(self, data: bytes, every: float, head: bool = False) -> None:
        """``data`` a byte at a time, a byte each ``every`` seconds (the status line and headers
        too when ``head``); records whether the client stayed to the end or went away."""
        header = (b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\n"
                  b"Connection: close\r\nContent-Length: %d\r\n\r\n" % len(data))
        try:
            if not head:
                self.raw(header)
            for byte in (header if head else b"") + data:
                self.raw(bytes([byte]))
                time.sleep(every)
            self.server.finished.append(self.handler.path)
        except OSError:
            self.server.gave_up.append(self.handler.path)


Route = Callable[[Writer], None]


@dataclass(eq=False)
class HostileServer:
    url: str = ""
    port: int = 0
    routes: dict[str, Route] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    finished: list[str] = field(default_factory=list)
    """Paths whose scripted answer was sent to its end."""
    gave_up: list[str] = field(default_factory=list)
    """Paths whose client closed the connection before the end."""

    def route(self, path: str, answer: Route) -> None:
        self.routes[path] = answer

    def paths(self) -> list[str]:
        return [h.path for h in self.hits]


def _handler(server: HostileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def _any(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            body = self.rfile.read(length) if length else b""
            server.hits.append(Hit(self.command, self.path, {k.lower(): v for k, v in self.headers.items()}, body))
            answer = server.routes.get(self.path.split("?", 1)[0])
            writer = Writer(self, server)
            if answer is None:
                writer.json({"detail": "not found"}, 404)
            else:
                answer(writer)
            self.close_connection = True

        do_GET = do_POST = do_HEAD = _any

    return Handler


@contextmanager
def hostile_server() -> Iterator[HostileServer]:
    state = HostileServer()
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), _handler(state))
    httpd.daemon_threads = True
    state.port = int(httpd.server_address[1])
    state.url = f"http://127.0.0.1:{state.port}"
    thread = threading.Thread(target=httpd.serve_forever, name=f"hostile-{state.port}", daemon=True)
    thread.start()
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()

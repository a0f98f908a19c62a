"""What the JSON API emulators share: a frozen clock, injected faults, a request log.

The platform emulators (``aides_territoires.py``, ``gogocarto.py``) each follow their project's
code for paths, envelopes, records and errors; what a network or a reverse proxy does to an answer
(a 503 page, a hang, an HTML page, a body cut short) is the same whatever the platform, so it is
written once here. A test asks for a fault with ``fail_next(kind, when=...)``; the next matching
request gets it instead of the platform's answer (and is still logged in ``requests``).

Fault kinds: "5xx" = HTTP 503 with nginx's HTML error page; "timeout" = wait ``delay`` seconds
(default 10) before answering normally; "html" = HTTP 200 text/html (a maintenance or login page
served by a proxy); "malformed" = HTTP 200 application/json whose body is cut short; "forbidden" =
HTTP 403 with nginx's HTML page (a proxy or firewall refusing the client).
"""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Literal, NamedTuple

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse, Response
from starlette.routing import Route

FaultKind = Literal["5xx", "timeout", "html", "malformed", "forbidden"]
FAULT_KINDS: tuple[str, ...] = ("5xx", "timeout", "html", "malformed", "forbidden")
Predicate = Callable[[str, dict[str, str]], bool]
"""``when(path, query)``: whether a fault applies to this request (as the data·inclusion emulator's)."""

NGINX_PAGE = (
    "<html>\r\n<head><title>{status}</title></head>\r\n<body>\r\n<center><h1>{status}</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)
MAINTENANCE_PAGE = (
    "<!DOCTYPE html><html lang=\"fr\"><head><meta charset=\"utf-8\"><title>Maintenance</title></head>"
    "<body><h1>Site en maintenance</h1><p>Revenez dans quelques minutes.</p></body></html>"
)


class Seen(NamedTuple):
    """One request an emulator received."""

    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]


@dataclass
class Clock:
    """The platform's "now", frozen between ``advance()`` calls (UTC)."""

    now: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def advance(self, seconds: float) -> datetime:
        self.now = datetime.fromtimestamp(self.now.timestamp() + seconds, UTC)
        return self.now


@dataclass
class _Fault:
    kind: str
    remaining: int
    when: Predicate | None
    delay: float


@dataclass(eq=False)
class Faults:
    """Faults waiting for their request, and the log of requests."""

    malformed_body: bytes = b'{"data": [{"id": "1", "name": "cut sh'
    """What a "malformed" fault answers: the start of this platform's envelope, cut short."""
    requests: list[Seen] = field(default_factory=list)
    _pending: list[_Fault] = field(default_factory=list)
    lock: threading.RLock = field(default_factory=threading.RLock)

    def fail_next(self, kind: FaultKind, count: int = 1, when: Predicate | None = None, delay: float = 10.0) -> None:
        """Answer the next ``count`` matching requests with a fault (see the module docstring)."""
        if kind not in FAULT_KINDS:
            raise ValueError(f"unknown fault kind {kind!r}; expected one of {FAULT_KINDS}")
        with self.lock:
            self._pending.append(_Fault(kind, count, when, delay))

    def _take(self, path: str, query: dict[str, str]) -> _Fault | None:
        with self.lock:
            for fault in self._pending:
                if fault.when is None or fault.when(path, query):
                    fault.remaining -= 1
                    if fault.remaining <= 0:
                        self._pending.remove(fault)
                    return fault
        return None

    async def intercept(self, request: Request) -> Response | None:
        """Log the request; the fault's answer when one applies (None: answer normally)."""
        query = dict(request.query_params)
        with self.lock:
            self.requests.append(Seen(request.method, request.url.path, query, dict(request.headers)))
        fault = self._take(request.url.path, query)
        if fault is None:
            return None
        if fault.kind == "5xx":
            return HTMLResponse(NGINX_PAGE.format(status="503 Service Temporarily Unavailable"), 503)
        if fault.kind == "forbidden":
            return HTMLResponse(NGINX_PAGE.format(status="403 Forbidden"), 403)
        if fault.kind == "html":
            return HTMLResponse(MAINTENANCE_PAGE)
        if fault.kind == "malformed":
            return Response(self.malformed_body, media_type="application/json")
        await asyncio.sleep(fault.delay)  # timeout: the client gives up first
        return None


Handler = Callable[[Request], Awaitable[Response]]


def app_for(faults: Faults, handler: Handler) -> Starlette:
    """One catch-all route: faults first, then the platform's own routing in ``handler``."""

    async def endpoint(request: Request) -> Response:
        return await faults.intercept(request) or await handler(request)

    methods = ["GET", "POST", "PUT", "DELETE", "PATCH", "HEAD", "OPTIONS"]
    return Starlette(routes=[Route("/{path:path}", endpoint, methods=methods)])

"""What browsers and caches need of every route: CORS, ``HEAD``, ``Vary: Accept``.

Done once here, for every router, rather than route by route (where it was missing everywhere):

* **CORS.** Reads (``GET``/``HEAD`` anywhere, and a query ``POST``ed to ``/sparql``) are open to
  any origin without credentials, like public open-data endpoints: ``Access-Control-Allow-Origin:
  *``. Writes are allowed only from the origins of ``[api] cors_origins``, which also get the
  ``Authorization`` header (an operator's console). ``Last-Event-ID`` may be sent (the SSE feed);
  ``Location``, ``ETag`` and ``Link`` may be read.
* **HEAD** is answered as the ``GET`` of the same URL, without its body.
* **Vary: Accept** goes on every response: most of them are negotiated, and a cache that stored
  Turtle for a JSON client would be worse than one that stores a few variants.
"""

from __future__ import annotations

from starlette.datastructures import Headers, MutableHeaders
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

READ_METHODS = ("GET", "HEAD")
WRITE_METHODS = ("POST", "PUT", "PATCH", "DELETE")
READ_HEADERS = (
    "Accept", "Accept-Language", "Content-Type", "Last-Event-ID", "If-None-Match",
    "If-Modified-Since", "Cache-Control",
)
WRITE_HEADERS = (*READ_HEADERS, "Authorization", "If-Match", "If-Unmodified-Since", "Slug")
EXPOSED = "ETag, Location, Link, Content-Location, Last-Modified, Retry-After"
QUERY_PATHS = ("/sparql", "/sparql/")
MAX_AGE = "600"


def is_read(method: str, path: str) -> bool:
    """A request that only reads: any GET/HEAD, and a query POSTed to the query endpoint."""
    return method in READ_METHODS or (method == "POST" and path in QUERY_PATHS)


class BrowserPolicy:
    """CORS for open reads and configured writers, HEAD as GET, ``Vary: Accept``."""

    def __init__(self, app: ASGIApp, write_origins: list[str]) -> None:
        self.app = app
        self.write_origins = set(write_origins)

    def _writer(self, origin: str) -> bool:
        return origin in self.write_origins or "*" in self.write_origins

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        origin = headers.get("origin")
        method = scope["method"]
        if method == "OPTIONS" and origin and "access-control-request-method" in headers:
            await self._preflight(scope, headers, origin)(scope, receive, send)
            return
        head = method == "HEAD"
        if head:
            scope = {**scope, "method": "GET"}
        read = is_read(scope["method"], scope["path"])
        finished = False

        async def send_with_headers(message: Message) -> None:
            nonlocal finished
            if message["type"] == "http.response.start":
                out = MutableHeaders(scope=message)
                _add_vary(out, "Accept")
                if origin:
                    self._cors_headers(out, origin, read)
            elif message["type"] == "http.response.body" and head:
                # HEAD: the GET's headers, none of its body. The response ends at once, so the
                # server reports the client gone and a stream (SSE) stops instead of running on.
                if finished:
                    return
                finished = True
                message = {"type": "http.response.body", "body": b"", "more_body": False}
            await send(message)

        await self.app(scope, receive, send_with_headers)

    def _cors_headers(self, out: MutableHeaders, origin: str, read: bool) -> None:
        if self._writer(origin):
            out["Access-Control-Allow-Origin"] = origin
            _add_vary(out, "Origin")
        elif read:
            out["Access-Control-Allow-Origin"] = "*"
        else:
            return  # a write from an origin not configured: the browser keeps the answer from it
        out["Access-Control-Expose-Headers"] = EXPOSED

    def _preflight(self, scope: Scope, headers: Headers, origin: str) -> Response:
        requested = headers["access-control-request-method"].strip().upper()
        if self._writer(origin):
            return Response(status_code=204, headers={
                "Access-Control-Allow-Origin": origin,
                "Access-Control-Allow-Methods": ", ".join((*READ_METHODS, *WRITE_METHODS)),
                "Access-Control-Allow-Headers": ", ".join(WRITE_HEADERS),
                "Access-Control-Max-Age": MAX_AGE,
                "Vary": "Origin",
            })
        if is_read(requested, scope["path"]):
            methods = (*READ_METHODS, "POST") if scope["path"] in QUERY_PATHS else READ_METHODS
            return Response(status_code=204, headers={
                "Access-Control-Allow-Origin": "*",
                "Access-Control-Allow-Methods": ", ".join(methods),
                "Access-Control-Allow-Headers": ", ".join(READ_HEADERS),
                "Access-Control-Max-Age": MAX_AGE,
            })
        return JSONResponse(
            {"error": f"{requested} from {origin} is not allowed: writes are accepted from the "
                      "origins of [api] cors_origins only (reads from any origin)"},
            status_code=403,
        )


def _add_vary(headers: MutableHeaders, name: str) -> None:
    present = [v.strip().lower() for v in headers.get("vary", "").split(",") if v.strip()]
    if name.lower() not in present and "*" not in present:
        headers.add_vary_header(name)

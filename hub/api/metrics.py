"""Prometheus metrics: request counts and latencies by route, plus hub gauges at scrape time."""

from __future__ import annotations

import time

from prometheus_client import CollectorRegistry, Counter, Histogram
from starlette.types import ASGIApp, Message, Receive, Scope, Send

REGISTRY = CollectorRegistry(auto_describe=True)
REQUESTS = Counter(
    "maillage_http_requests_total", "HTTP requests", ["method", "route", "status"],
    registry=REGISTRY,
)
LATENCY = Histogram(
    "maillage_http_request_seconds", "HTTP request latency", ["method", "route"],
    registry=REGISTRY,
)
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT"})
OTHER_METHOD = "other"
UNMATCHED = "unmatched"


def labels(scope: Scope) -> tuple[str, str]:
    """(method, route) labels from a bounded set, whatever the client sends: the standard methods
    or ``other``, the route template (``/api/{collection}/{id}``) or ``unmatched``. A label per
    raw value would let any client grow ``/metrics`` (and the server's memory) without end."""
    method = str(scope.get("method", ""))
    route = getattr(scope.get("route"), "path", None)
    return (
        method if method in METHODS else OTHER_METHOD,
        route if isinstance(route, str) else UNMATCHED,
    )


class MetricsMiddleware:
    """Counts every request by method and route template (bounded label values)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        start = time.perf_counter()
        status = 500

        async def record_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = int(message["status"])
            await send(message)

        try:
            await self.app(scope, receive, record_status)
        finally:
            method, route = labels(scope)
            REQUESTS.labels(method, route, str(status)).inc()
            LATENCY.labels(method, route).observe(time.perf_counter() - start)

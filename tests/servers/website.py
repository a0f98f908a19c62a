"""A small static website for the website connector's tests - a real HTTP server over pages held
in memory, answering as a static file server does (nginx's ``ngx_http_static_module`` and
``ngx_http_not_modified_filter``): ``ETag`` and ``Last-Modified`` on every page, 304 when
``If-None-Match`` names the current ETag or ``If-Modified-Since`` is the page's exact time, 404 for
an unknown path. It also serves ``/robots.txt`` (which forbids ``/prive/``) and ``/sitemap.xml``
listing every public page with its ``lastmod``.

Every request is logged (path, Host header, conditional headers, User-Agent, arrival time) so a
test sees what the hub asked for. Time is a fake clock that moves only with ``advance()``: two
edits in one second still get two ``lastmod`` values.

Usage::

    with running_site() as site:
        site.put("/lieux/fabrique.html", html_page(organization("La Fabrique")))
        site.fail("/casse.html", 500)
        httpx.get(site.url + "/sitemap.xml")
"""

from __future__ import annotations

import hashlib
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

ROBOTS = "User-agent: *\nDisallow: /prive/\n"


@dataclass(frozen=True)
class Hit:
    path: str
    host: str
    if_none_match: str | None
    if_modified_since: str | None
    user_agent: str
    at: float


@dataclass
class StoredPage:
    body: bytes
    modified: datetime
    status: int = 200
    content_type: str = "text/html; charset=utf-8"

    @property
    def etag(self) -> str:  # nginx: "<mtime hex>-<length hex>"; a hash of the body is stricter
        return '"' + hashlib.sha1(self.body).hexdigest()[:16] + '"'


@dataclass
class Site:
    url: str = ""
    pages: dict[str, StoredPage] = field(default_factory=dict)
    hits: list[Hit] = field(default_factory=list)
    now: datetime = field(default_factory=lambda: datetime(2026, 11, 2, 9, 0, tzinfo=UTC))
    extra_sitemap: list[str] = field(default_factory=list)
    """Absolute URLs added to the sitemap as they are (another host, a forbidden path)."""
    redirects: dict[str, str] = field(default_factory=dict)
    """Path → the Location a 301 answers (another host, to check it is not followed)."""
    index: list[str] = field(default_factory=list)
    """Absolute URLs of the sitemaps ``/sitemap-index.xml`` lists."""
    lock: threading.Lock = field(default_factory=threading.Lock)

    def advance(self, minutes: int = 1) -> None:
        self.now += timedelta(minutes=minutes)

    def put(self, path: str, html: str) -> str:
        """Create or replace a page (a later time than any before); returns its URL."""
        self.advance()
        with self.lock:
            self.pages[path] = StoredPage(html.encode(), self.now)
        return self.url + path

    def fail(self, path: str, status: int) -> str:
        """A page listed in the sitemap that answers ``status`` with an HTML error page."""
        self.advance()
        with self.lock:
            self.pages[path] = StoredPage(b"<html><body><h1>Erreur</h1></body></html>", self.now, status)
        return self.url + path

    def remove(self, path: str) -> None:
        self.advance()
        with self.lock:
            del self.pages[path]

    def requested(self, path: str) -> list[Hit]:
        return [h for h in self.hits if h.path == path]

    def sitemap(self) -> bytes:
        entries = [
            f"<url><loc>{self.url}{path}</loc><lastmod>{page.modified.isoformat()}</lastmod></url>"
            for path, page in sorted(self.pages.items())
        ] + [f"<url><loc>{url}</loc></url>" for url in self.extra_sitemap]
        return (
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">' + "".join(entries) + "</urlset>"
        ).encode()


def _handler(site: Site) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: Any) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = self.path.split("?", 1)[0]
            site.hits.append(Hit(path, self.headers.get("Host", ""), self.headers.get("If-None-Match"),
                                 self.headers.get("If-Modified-Since"), self.headers.get("User-Agent", ""),
                                 time.monotonic()))
            if path == "/robots.txt":
                return self._send(200, ROBOTS.encode(), "text/plain")
            if path == "/sitemap.xml":
                return self._send(200, site.sitemap(), "application/xml")
            if path == "/sitemap-index.xml":
                children = "".join(f"<sitemap><loc>{url}</loc></sitemap>" for url in site.index)
                body = ('<?xml version="1.0" encoding="UTF-8"?><sitemapindex '
                        f'xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">{children}</sitemapindex>')
                return self._send(200, body.encode(), "application/xml")
            if path in site.redirects:
                return self._send(301, b"", "text/html", {"Location": site.redirects[path]})
            with site.lock:
                page = site.pages.get(path)
            if page is None:
                return self._send(404, b"<html><body>Not Found</body></html>", "text/html")
            if page.status != 200:
                return self._send(page.status, page.body, "text/html")
            modified = format_datetime(page.modified, usegmt=True)
            headers = {"ETag": page.etag, "Last-Modified": modified}
            match = self.headers.get("If-None-Match")
            since = self.headers.get("If-Modified-Since")
            if (match is not None and page.etag in [m.strip() for m in match.split(",")]) or (
                match is None and since == modified
            ):
                return self._send(304, b"", None, headers)
            return self._send(200, page.body, page.content_type, headers)

        def _send(self, status: int, body: bytes, kind: str | None, headers: dict[str, str] | None = None) -> None:
            self.send_response(status)
            if kind:
                self.send_header("Content-Type", kind)
            for key, value in (headers or {}).items():
                self.send_header(key, value)
            if status != 304:
                self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            if status != 304:
                self.wfile.write(body)

    return Handler


@contextmanager
def running_site() -> Iterator[Site]:
    site = Site()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(site))
    site.url = f"http://127.0.0.1:{server.server_address[1]}"
    thread = threading.Thread(target=server.serve_forever, name="test-website", daemon=True)
    thread.start()
    try:
        yield site
    finally:
        server.shutdown()
        server.server_close()


# -- pages ------------------------------------------------------------------------------------
def html_page(*nodes: dict[str, Any] | str, lang: str = "fr", body: str = "") -> str:
    """An HTML page with one JSON-LD script per node (a string is put in the script as it is)."""
    scripts = "".join(
        f'<script type="application/ld+json">{n if isinstance(n, str) else json.dumps(n)}</script>'
        for n in nodes
    )
    return f'<!doctype html><html lang="{lang}"><head><title>Page</title>{scripts}</head><body>{body}</body></html>'


def organization(name: str, **extra: Any) -> dict[str, Any]:
    return {"@context": "https://schema.org", "@type": "Organization", "name": name, **extra}

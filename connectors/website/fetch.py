"""Polite HTTP for websites the hub reads but does not own: robots.txt, a pace per host, a
User-Agent naming Maillage, conditional GETs, a size cap, and only the hosts the source names.

An association's website is usually a small shared host: the hub must cost it next to nothing
(an unchanged page is a 304, at most one request per ``delay`` seconds to a host), obey its
robots.txt, and never be turned into a way to reach other machines: a sitemap or a redirect that
points at a host the ``[[sources]]`` entry does not name, or at anything but http(s), is refused
before any connection is made, and answers are bounded in total time and size: both through
``connectors.base.http``, which the JSON API connector shares (docs/security.md).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass, field
from urllib.parse import urlsplit
from urllib.robotparser import RobotFileParser

import httpx

from connectors.base import ConnectorError
from connectors.base.http import Answer, GuardedHttp, Refused, host_of
from hub.errors import InputError

__all__ = ["Page", "PageError", "PoliteClient", "Settings", "WebsiteError", "host_of"]
log = logging.getLogger("maillage.website")
USER_AGENT = "Maillage/0.1 (linked-data hub for territorial commons; schema.org reader)"
ROBOTS_AGENT = "Maillage"


class WebsiteError(ConnectorError):
    """The website cannot be read as configured (sitemap unreachable or not a sitemap)."""


class PageError(InputError):
    """One page could not be read (an HTTP error, too big, off-site redirect, broken markup);
    the page's records stay as they were and the reason is quarantined under the page's URL."""


@dataclass(frozen=True)
class Settings:
    user_agent: str = USER_AGENT
    delay: float = 1.0
    """Seconds between two requests to one host (robots.txt's Crawl-delay when it asks more)."""
    timeout: float = 20.0
    max_page_bytes: int = 2_000_000
    max_retries: int = 2
    retry_wait: float = 1.0
    max_crawl_delay: float = 60.0
    """A robots.txt asking a longer Crawl-delay reads nothing: obeying 10^9 s would hang the sync."""


@dataclass(frozen=True)
class Page:
    url: str
    status: int
    """200 (``body`` holds the page), 304 (unchanged since the validators sent), 404 or 410."""
    body: bytes = b""
    content_type: str = ""
    etag: str | None = None
    modified: str | None = None


@dataclass
class _Host:
    robots: RobotFileParser | None = None
    last: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)


class PoliteClient:
    """GETs on the allowed hosts only, paced per host, robots.txt obeyed."""

    def __init__(self, hosts: set[str], settings: Settings) -> None:
        self.hosts = {h.lower() for h in hosts}
        self.settings = settings
        self.http = GuardedHttp(self.hosts, settings.timeout, settings.max_page_bytes,
                                headers={"User-Agent": settings.user_agent},
                                hint="; add it to options.hosts to read it")
        self._hosts: dict[str, _Host] = {}

    def check(self, url: str) -> None:
        """Refuse a URL the hub must not contact (raises PageError)."""
        try:
            self.http.check(url)
        except Refused as exc:
            raise PageError(str(exc)) from exc

    def allowed(self, url: str) -> bool:
        """Whether the site's robots.txt lets Maillage read ``url`` (fetched once per host)."""
        return self._robots(url).can_fetch(ROBOTS_AGENT, url)

    def get(self, url: str, etag: str | None = None, modified: str | None = None) -> Page:
        """The page, or its 304/404/410; a redirect is followed only within the allowed hosts.
        Raises PageError for anything else (after retries for 5xx and transport errors)."""
        headers = {}
        if etag:
            headers["If-None-Match"] = etag
        if modified:
            headers["If-Modified-Since"] = modified
        answer = self._send(url, headers)
        if answer.status in (304, 404, 410):
            return Page(url, answer.status)
        if answer.status != 200:
            raise PageError(f"{answer.url}: HTTP {answer.status}")
        return Page(url, 200, answer.body, answer.headers.get("content-type", ""),
                    answer.headers.get("etag"), answer.headers.get("last-modified"))

    def new_pass(self) -> None:
        """Forget the robots.txt read: a connector kept open between runs reads it again."""
        for host in self._hosts.values():
            host.robots = None

    def close(self) -> None:
        self.http.close()

    # -- pacing, retries ------------------------------------------------------------------------
    def _send(self, url: str, headers: dict[str, str]) -> Answer:
        wait = self.settings.retry_wait
        for attempt in range(self.settings.max_retries + 1):
            try:
                answer = self._once(url, headers)
                busy = answer.status >= 500 or answer.status == 429
                if not busy or attempt == self.settings.max_retries:
                    return answer
                problem = f"HTTP {answer.status}"
            except httpx.TransportError as exc:
                if attempt == self.settings.max_retries:
                    raise PageError(f"{url}: not reachable ({type(exc).__name__}: {exc})") from exc
                problem = type(exc).__name__
            log.warning("website: %s answered %s; retrying in %.1f s", url, problem, wait)
            time.sleep(wait)
            wait *= 2
        raise PageError(f"{url}: not reachable")  # pragma: no cover - the loop returns or raises

    def _once(self, url: str, headers: dict[str, str]) -> Answer:
        """One GET, its redirects followed within the source's hosts, each hop paced; size and
        total time bounded by connectors.base.http."""
        try:
            return self.http.request("GET", url, headers=headers, before=self._pace)
        except Refused as exc:
            raise PageError(str(exc)) from exc

    def _host(self, url: str) -> _Host:
        return self._hosts.setdefault(host_of(url), _Host())

    def _pace(self, url: str) -> None:
        """At most one request per delay to a host: the site's Crawl-delay wins when longer."""
        host = self._host(url)
        delay = self.settings.delay
        if host.robots is not None:
            asked = host.robots.crawl_delay(ROBOTS_AGENT)
            delay = max(delay, float(asked or 0))
        with host.lock:
            pause = host.last + delay - time.monotonic()
            if pause > 0:
                time.sleep(pause)
            host.last = time.monotonic()

    def _robots(self, url: str) -> RobotFileParser:
        host = self._host(url)
        if host.robots is None:
            parts = urlsplit(url)
            robots_url = f"{parts.scheme}://{parts.netloc}/robots.txt"
            parser = RobotFileParser(robots_url)
            try:
                answer = self._once(robots_url, {})
            except (httpx.HTTPError, PageError) as exc:
                raise WebsiteError(f"{robots_url} could not be read ({exc}); nothing was read") from exc
            if answer.status in (401, 403):
                parser.parse(["User-agent: *", "Disallow: /"])  # as urllib.robotparser reads a refusal
            elif answer.status >= 500:
                raise WebsiteError(f"{robots_url}: HTTP {answer.status}; nothing was read")
            elif answer.status == 200:
                parser.parse(answer.body.decode("utf-8", "replace").splitlines())
                asked = float(parser.crawl_delay(ROBOTS_AGENT) or 0)
                if asked > self.settings.max_crawl_delay:
                    raise WebsiteError(
                        f"{robots_url} asks a Crawl-delay of {asked:g} s, more than max_crawl_delay = "
                        f"{self.settings.max_crawl_delay:g} s; nothing was read or deleted"
                    )
            else:
                parser.parse([])  # no robots.txt: everything may be read
            host.robots = parser
        return host.robots

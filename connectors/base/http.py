"""HTTP to servers the hub reads but does not control (websites, JSON APIs): only the hosts the
source names, a total time and a size for each answer, and the connector's credentials only there.

A source's operator names a server; what that server answers (a ``next`` link, a redirect, a
sitemap entry, a token exchange) is data, and data must not choose where the hub connects, how
long it waits or how much it keeps (docs/security.md, "Sources"). So every request goes through
:class:`GuardedHttp`:

- a URL is checked before any connection: http(s) only, and its host and port among the source's
  (another port of a configured host is another service); a redirect is followed by hand and each
  hop is checked the same way, so credentials never leave those hosts;
- a host *name* that resolves to a loopback, link-local (cloud metadata), unspecified or
  multicast address is refused at connection time, on the address actually connected to (a DNS
  answer that changes between the check and the connection changes nothing); an address the
  operator wrote (``127.0.0.1``) or ``localhost`` is taken as meant;
- an answer has ``timeout`` seconds in all, from connecting to its last byte (every socket read
  and write waits at most what is left: a server sending a byte a second is cut off), and at most
  ``max_bytes`` once decompressed (a gzip bomb stops at the cap);
- cookies a host sets are kept for that host (a login session), so never sent elsewhere either;
- proxies from the environment are not used: they would receive what the checks keep in.
"""

from __future__ import annotations

import contextvars
import functools
import ipaddress
import socket
import ssl
import time
from collections.abc import Callable, Iterable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpcore
import httpx

from connectors.base import ConnectorError

REDIRECTS = (301, 302, 303, 307, 308)
MAX_REDIRECTS = 5
MAX_URL = 8192
"""Longer URLs are refused: servers refuse them too, and they only carry a message's weight."""
_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("deadline", default=None)


class Refused(ConnectorError):
    """A request the guard does not make or an answer it does not keep: another host, scheme or
    port, a private address, an answer too big or too slow. Never worth asking again."""


@dataclass(frozen=True)
class Answer:
    url: str
    """Where the answer came from (after redirects)."""
    status: int
    headers: httpx.Headers
    body: bytes


def host_of(url: str) -> str:
    """The host a URL reaches, with its port unless it is http(s)'s own: another port of a
    configured host is another service, not the site."""
    parts = urlsplit(url)
    try:
        port = parts.port
    except ValueError:
        return ""
    host = (parts.hostname or "").lower()
    return host if port in (None, 80, 443) else f"{host}:{port}"


def _remaining(timeout: float | None) -> float | None:
    deadline = _DEADLINE.get()
    if deadline is None:
        return timeout
    left = deadline - time.monotonic()
    if left <= 0:
        raise httpcore.ReadTimeout("the answer's total time is over")
    return left if timeout is None else min(timeout, left)


def _literal(host: str) -> bool:
    try:
        ipaddress.ip_address(host.strip("[]"))
    except ValueError:
        return False
    return True


def _forbidden(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return ip.is_loopback or ip.is_link_local or ip.is_unspecified or ip.is_multicast or ip.is_reserved


class _Stream(httpcore.NetworkStream):
    """A socket whose every read and write waits no longer than the answer's time left."""

    def __init__(self, inner: httpcore.NetworkStream) -> None:
        self.inner = inner

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        return self.inner.read(max_bytes, _remaining(timeout))

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        self.inner.write(buffer, _remaining(timeout))

    def close(self) -> None:
        self.inner.close()

    def start_tls(self, ssl_context: ssl.SSLContext, server_hostname: str | None = None,
                  timeout: float | None = None) -> httpcore.NetworkStream:
        return _Stream(self.inner.start_tls(ssl_context, server_hostname, _remaining(timeout)))

    def get_extra_info(self, info: str) -> Any:
        return self.inner.get_extra_info(info)


class _Backend(httpcore.NetworkBackend):
    """Connects to a checked address of the host, with the answer's time left."""

    def __init__(self) -> None:
        self.inner = httpcore.SyncBackend()

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        address = host
        if not _literal(host) and host.lower() != "localhost":
            try:
                found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise httpcore.ConnectError(f"{host}: {exc}") from exc
            usable = [str(info[4][0]) for info in found if not _forbidden(str(info[4][0]))]
            if not usable:
                raise Refused(f"{host} resolves to {found[0][4][0]}, a loopback, link-local or "
                                 f"unspecified address; write the address itself to mean it")
            address = usable[0]
        stream = self.inner.connect_tcp(address, port, _remaining(timeout), local_address, socket_options)
        return _Stream(stream)

    def connect_unix_socket(self, path: str, timeout: float | None = None,
                            socket_options: Iterable[Any] | None = None) -> httpcore.NetworkStream:
        raise httpcore.ConnectError("no unix sockets")

    def sleep(self, seconds: float) -> None:
        time.sleep(seconds)


@functools.cache
def _tls() -> ssl.SSLContext:
    """One TLS context for every guarded client: building one loads the CA bundle (about 15 ms),
    and a harvest opens a client per thread and per pass (9 for a wiki: 0.3 s of its 1.5 s). A
    context is safe to share between threads and its settings are the same for all."""
    return httpx.create_ssl_context(trust_env=False)


class _Transport(httpx.HTTPTransport):
    def __init__(self) -> None:
        super().__init__(verify=_tls(), trust_env=False)
        self._pool = httpcore.ConnectionPool(ssl_context=_tls(), network_backend=_Backend())


class GuardedHttp:
    """Requests to ``hosts`` (``host`` or ``host:port``, as :func:`host_of` writes them) only."""

    def __init__(self, hosts: Iterable[str], timeout: float, max_bytes: int,
                 headers: Mapping[str, str] | None = None, hint: str = "") -> None:
        self.hosts = {h.lower() for h in hosts if h}
        self.hint = hint
        """Appended to a refused host's message: how this kind of source allows more hosts."""
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.http = httpx.Client(transport=_Transport(), timeout=timeout, headers=dict(headers or {}),
                                 follow_redirects=False, trust_env=False)

    def check(self, url: str) -> None:
        """Raise Refused unless the hub may contact ``url``."""
        if len(url) > MAX_URL:
            raise Refused(f"{_short(url)}: not a valid address ({len(url):,} characters)")
        try:
            scheme = urlsplit(url).scheme.lower()
            httpx.URL(url)
        except (ValueError, httpx.InvalidURL) as exc:
            raise Refused(f"{_short(url)}: not a valid address ({exc})") from exc
        if scheme not in ("http", "https"):
            raise Refused(f"{_short(url)}: only http(s) addresses are read, not {scheme or 'this'!r}")
        if host_of(url) not in self.hosts:
            raise Refused(
                f"{_short(url)}: host {host_of(url)!r} is not one of this source's hosts "
                f"({', '.join(sorted(self.hosts))}){self.hint}"
            )

    def request(self, method: str, url: str, *, params: Mapping[str, str | int] | None = None,
                headers: Mapping[str, str] | None = None, data: Mapping[str, Any] | None = None,
                json: Any = None, before: Callable[[str], None] | None = None) -> Answer:
        """The answer to one request, redirects followed within the source's hosts (``before``
        is called with each URL about to be asked: a pace per host). Raises Refused, or
        httpx.TransportError for a server that is down or timed out."""
        self.check(url)
        target = str(httpx.URL(url, params=params)) if params else url
        for _ in range(MAX_REDIRECTS + 1):
            self.check(target)
            if before is not None:
                before(target)
            with self._deadline():
                status, answer_headers, body = self._one(method, target, headers, data, json)
            if status in REDIRECTS and "location" in answer_headers:
                target = urljoin(target, answer_headers["location"])
                if status in (301, 302, 303) and method != "GET":
                    method, data, json = "GET", None, None
                continue
            return Answer(target, status, answer_headers, body)
        raise Refused(f"{_short(url)}: more than {MAX_REDIRECTS} redirects")

    def _one(self, method: str, url: str, headers: Mapping[str, str] | None,
             data: Mapping[str, Any] | None, json: Any) -> tuple[int, httpx.Headers, bytes]:
        with self.http.stream(method, url, headers=headers, data=data, json=json) as response:
            return response.status_code, response.headers, self._body(response, url)

    def _body(self, response: httpx.Response, url: str) -> bytes:
        cap = self.max_bytes
        declared = response.headers.get("content-length", "")
        if declared.isdigit() and int(declared) > cap:
            raise Refused(f"{_short(url)}: {int(declared):,} bytes, over max_page_bytes = {cap:,}")
        chunks: list[bytes] = []
        size = 0
        for chunk in response.iter_bytes():  # decompressed as it comes
            size += len(chunk)
            if size > cap:
                raise Refused(f"{_short(url)}: over max_page_bytes = {cap:,}; not read")
            chunks.append(chunk)
        return b"".join(chunks)

    @contextmanager
    def _deadline(self) -> Iterator[None]:
        token = _DEADLINE.set(time.monotonic() + self.timeout)
        try:
            yield
        except httpx.TimeoutException as exc:
            raise httpx.ReadTimeout(f"no complete answer within {self.timeout:g} s") from exc
        finally:
            _DEADLINE.reset(token)

    def twin(self) -> GuardedHttp:
        """The same hosts, limits, headers and cookies (a login session) on its own connection
        pool: an httpx client is not meant to be shared between threads."""
        other = GuardedHttp(self.hosts, self.timeout, self.max_bytes, self.http.headers, self.hint)
        other.http.cookies = httpx.Cookies(self.http.cookies)
        return other

    def close(self) -> None:
        self.http.close()


def _short(url: str) -> str:
    """A URL as error messages show it: without its query (it may carry a key), cut to 200."""
    shown = url.split("?", 1)[0]
    return shown if len(shown) <= 200 else shown[:200] + "…"

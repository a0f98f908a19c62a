"""The origin of every absolute URL the hub writes, never taken from an untrusted ``Host`` header.

Links in the VoID description, the change feed, the Service Description, list pages and
``Location`` headers are built by Starlette from the request's scheme, ``Host`` header and root
path. A client could otherwise send ``Host: evil.example`` and get (or get a cache to store)
documents that point elsewhere. This middleware rewrites the scope before anything reads it:

- ``[api] public_url`` set: its scheme, host and path prefix, whatever the request said;
- unset: the ``Host`` header is kept only when it names the address the connection came in on
  (the local socket, or ``[api] host``; loopback names when that address is loopback) with the
  same port; any other value is replaced by that local address. Behind a reverse proxy that
  passes its own host name, set ``public_url``.
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Receive, Scope, Send

from hub.config import ConfigError

LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})


def parse_public_url(url: str) -> tuple[str, str, str]:
    """``(scheme, authority, path prefix)`` of ``[api] public_url``, or a :class:`ConfigError`."""
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname or "@" in parts.netloc:
        raise ConfigError(f"[api] public_url must be an http(s) URL such as https://data.example.org, "
                          f"not {url!r}")
    if parts.query or parts.fragment:
        raise ConfigError("[api] public_url cannot have a query or a fragment")
    try:
        parts.port  # noqa: B018  (raises on a malformed port)
    except ValueError as exc:
        raise ConfigError(f"[api] public_url has an invalid port: {url!r}") from exc
    return parts.scheme, parts.netloc.lower(), parts.path.rstrip("/")


def _is_loopback(host: str) -> bool:
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return host == "localhost"


def _authority(host: str, port: int | None) -> str:
    shown = f"[{host}]" if ":" in host else host
    return shown if port is None else f"{shown}:{port}"


def _split_host(value: str) -> tuple[str, int | None] | None:
    """Host name and port of a ``Host`` header value, or None when it is malformed."""
    parts = urlsplit(f"//{value}")
    try:
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname or parts.username is not None or parts.path or parts.query:
        return None
    return parts.hostname.lower(), port


class PublicOrigin:
    """Rewrites scheme, ``Host`` and root path so that URLs point only where the hub is served."""

    def __init__(self, app: ASGIApp, public: tuple[str, str, str] | None, configured_host: str) -> None:
        self.app = app
        self.public = public
        self.configured_host = configured_host.lower()

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            scope = self._rewritten(scope)
        await self.app(scope, receive, send)

    def _rewritten(self, scope: Scope) -> Scope:
        headers = [(k, v) for k, v in scope.get("headers") or [] if k != b"host"]
        if self.public is not None:
            scheme, authority, prefix = self.public
            path: str = scope["path"]
            raw: bytes = scope.get("raw_path") or path.encode()
            if prefix and not (path == prefix or path.startswith(prefix + "/")):
                path, raw = prefix + path, prefix.encode() + raw
            return {**scope, "scheme": scheme, "root_path": prefix, "path": path, "raw_path": raw,
                    "headers": [(b"host", authority.encode()), *headers]}
        scheme = "https" if scope.get("scheme") == "https" else "http"
        return {**scope, "scheme": scheme, "headers": [(b"host", self._host(scope).encode()), *headers]}

    def _host(self, scope: Scope) -> str:
        """The request's ``Host`` when it names this server, else the local address."""
        server = scope.get("server")
        local_host, local_port = (str(server[0]).lower(), server[1]) if server else (self.configured_host,
                                                                                     None)
        sent = next((v for k, v in scope.get("headers") or [] if k == b"host"), None)
        parsed = _split_host(sent.decode("latin-1")) if sent else None
        if parsed is not None:
            name, port = parsed
            default = 443 if scope.get("scheme") == "https" else 80
            known = {local_host, self.configured_host}
            if _is_loopback(local_host):
                known |= LOOPBACK_NAMES
            if name in known and (port or default) == (local_port or default):
                return _authority(name, port)
        return _authority(local_host, local_port)

"""Security headers on every response: a Content Security Policy, no MIME sniffing, no framing.

Every script and style of the web interface and of ``/docs`` is served by the hub itself (the
libraries are vendored), so the policy can forbid anything else: an injected ``<script>`` or a
page that frames ``/ui/operations`` to click its buttons gets nothing. Images may also come from
the tile servers of ``[api] tile_servers``, the only foreign origins the map may draw.
A route may send its own ``Content-Security-Policy`` (``/docs`` adds the hash of its one inline
script); the middleware then leaves that header alone.
"""

from __future__ import annotations

import re
from urllib.parse import urlsplit

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.config import ConfigError

CSP = "content-security-policy"
TILE_HOST = re.compile(r"^(\{s\}\.)?[A-Za-z0-9.-]+$")
"""A tile server's host: plain, or ``{s}.`` (Leaflet's subdomain placeholder) then plain."""


def tile_origin(template: str) -> str:
    """The CSP source of a tile URL template, e.g. ``https://*.tile.example.org``.

    Placeholders may appear in the path only (``{s}`` also as the first label of the host),
    since a policy cannot name a host that is only known once Leaflet fills it in.
    """
    parts = urlsplit(template)
    host = parts.hostname or ""
    if parts.scheme not in ("http", "https") or not parts.netloc or "@" in parts.netloc:
        raise ConfigError(f"[api] tile_servers: {template!r} is not an http(s) URL template")
    if not TILE_HOST.match(host) or not all(k in template for k in ("{z}", "{x}", "{y}")):
        raise ConfigError(
            f"[api] tile_servers: {template!r} needs {{z}}, {{x}} and {{y}} in its path and a plain "
            "host name (or {s}. before one)"
        )
    if any(c in template for c in "\"'<> \\"):
        raise ConfigError(f"[api] tile_servers: {template!r} contains characters a URL cannot hold")
    host = host.replace("{s}.", "*.", 1)
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.scheme}://{host}{port}"


def content_security_policy(tile_servers: list[str], script_hashes: tuple[str, ...] = ()) -> str:
    """The default policy: everything from the hub itself, images also from the tile servers;
    ``script_hashes`` (``sha256-...``) allow exactly those inline scripts."""
    tiles = sorted({tile_origin(t) for t in tile_servers})
    return "; ".join([
        "default-src 'self'",
        " ".join(["script-src 'self'", *(f"'{h}'" for h in script_hashes)]),
        "style-src 'self'",
        " ".join(["img-src 'self' data:", *tiles]),
        "connect-src 'self'",
        "font-src 'self'",
        "object-src 'none'",
        "base-uri 'none'",
        "form-action 'self'",
        "frame-ancestors 'none'",
    ])


class SecurityHeaders:
    """Adds the headers to every HTTP response, including errors and static files."""

    def __init__(self, app: ASGIApp, policy: str) -> None:
        self.app = app
        self.headers: list[tuple[bytes, bytes]] = [
            (CSP.encode(), policy.encode()),
            (b"x-content-type-options", b"nosniff"),
            (b"x-frame-options", b"DENY"),
            (b"referrer-policy", b"strict-origin-when-cross-origin"),
        ]

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return

        async def with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or [])
                present = {name.lower() for name, _ in headers}
                headers += [(k, v) for k, v in self.headers if k not in present]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, receive, with_headers)

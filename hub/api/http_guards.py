"""Wires the HTTP hardening into the app: security headers, trusted origin, request deadline, docs.

The settings are checked here, when the app is built, so that ``maillage serve`` stops with a
one-line error on a bad ``public_url`` or tile server instead of failing at the first request.
"""

from __future__ import annotations

from fastapi import FastAPI

from hub.api.public_origin import PublicOrigin, parse_public_url
from hub.api.routes import docs
from hub.api.security_headers import SecurityHeaders, content_security_policy
from hub.api.slow_clients import BodyDeadline
from hub.config import Config, ConfigError


def install_http_guards(app: FastAPI, config: Config) -> None:
    """Adds the middlewares outside those already added (call it last) and the ``/docs`` page."""
    settings = config.api
    if settings.client_timeout <= 0:
        raise ConfigError("[api] client_timeout must be a positive number of seconds")
    if settings.max_connections < 1:
        raise ConfigError("[api] max_connections must be at least 1")
    policy = content_security_policy(settings.tile_servers)
    public = parse_public_url(settings.public_url) if settings.public_url else None
    app.include_router(docs.router)
    app.add_middleware(BodyDeadline, timeout=settings.client_timeout)
    app.add_middleware(SecurityHeaders, policy=policy)
    app.add_middleware(PublicOrigin, public=public, configured_host=settings.host)

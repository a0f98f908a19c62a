"""Open the store a configuration names."""

from __future__ import annotations

import os

import httpx

from hub.config import Config, ConfigError
from hub.store.base import Store
from hub.store.oxigraph import OxigraphStore
from hub.store.remote import RemoteStore


def open_store(config: Config, *, read_only: bool = False) -> Store:
    """The configured backend; the embedded store lives in ``data_dir/store``."""
    settings = config.store
    if settings.backend == "oxigraph":
        if config.in_memory:
            return OxigraphStore(None)
        return OxigraphStore(config.data_dir / "store", read_only=read_only)
    if settings.backend == "sparql":
        if not settings.query_url:
            raise ConfigError("[store] backend = 'sparql' needs query_url")
        auth: httpx.Auth | None = None
        if settings.user_env:
            user = os.environ.get(settings.user_env, "")
            password = os.environ.get(settings.password_env or "", "")
            auth = httpx.DigestAuth(user, password) if settings.digest else httpx.BasicAuth(
                user, password
            )
        return RemoteStore(
            settings.query_url,
            settings.update_url,
            settings.gsp_url,
            gsp_graph_param=settings.gsp_graph_param,
            auth=auth,
        )
    raise ConfigError(f"unknown store backend {settings.backend!r} (use 'oxigraph' or 'sparql')")

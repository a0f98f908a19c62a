"""Credentials come from environment variables the configuration names, never from files."""

from __future__ import annotations

import os

from hub.config import ConfigError, SourceSettings


def secret(source: SourceSettings, key: str) -> str | None:
    """The value of the environment variable named by ``credentials.<key>`` (None if unnamed)."""
    name = source.credentials.get(key)
    if not name:
        return None
    value = os.environ.get(name)
    if value is None:
        raise ConfigError(f"source {source.name!r}: environment variable {name} is not set")
    return value

"""Checks every connector's mapping file makes of its entries, with the same messages."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from hub.config import ConfigError
from hub.vocab import CLASS_NAMES


def check_entry(raw: dict[str, Any], where: str, required: Iterable[str]) -> None:
    """The keys an entry needs, and a ``class`` the hub knows."""
    for key in required:
        if key not in raw:
            raise ConfigError(f"{where} needs '{key}'")
    if raw["class"] not in CLASS_NAMES:
        raise ConfigError(f"{where}: class {raw['class']!r} is not a hub class")

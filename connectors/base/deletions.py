"""The guard on full passes: a pass that would remove most of what the hub knows from a source is
refused before anything is written.

A source rarely loses half its pages or elements at once; a mapping that no longer matches it
(a renamed template, a wrong costum key) or a half-answering server looks exactly like that, and
deleting on its word would empty the hub and the change feed. The person running the sync
decides: fix the mapping, or raise ``max_deletions`` for the source if the deletions are real.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from connectors.base import ConnectorError

DEFAULT_LIMIT = 0.5  # share of the known records one full pass may delete
MINIMUM = 10  # below this many known records, any deletion is plausible


def deletion_limit(options: Mapping[str, Any]) -> float:
    limit = float(options.get("max_deletions", DEFAULT_LIMIT))
    if not 0 <= limit <= 1:
        raise ConnectorError(f"max_deletions must be a share between 0 and 1, not {limit}")
    return limit


def check_deletions(source: str, known: int, gone: int, limit: float, what: str) -> None:
    """Raise when ``gone`` of the ``known`` records of ``source`` is more than ``limit`` allows."""
    if known >= MINIMUM and gone > known * limit:
        raise ConnectorError(
            f"{source}: the full pass finds only {known - gone} of the {known} {what} the hub knows; "
            f"deleting {gone} is more than max_deletions = {limit:g} allows, so nothing was deleted. "
            f"Check that the mapping still matches the source (template names, costum key); if the "
            f"deletions are real, set options.max_deletions = 1 for this source and sync again."
        )

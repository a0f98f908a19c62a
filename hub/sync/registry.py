"""Which code serves a source ``kind``: the built-in connectors, and any package that declares one.

A third party adds a kind without editing the hub: its package declares an entry point in the
group ``maillage.connectors`` (name: the kind, value: the module whose ``connector(config,
source, view)`` builds it). The built-in kinds are declared the same way in pyproject.toml, and
listed here too so that a source checkout that was never installed still finds them. The kind
``hub`` (a peer hub) is served by ``connectors.peerhub``: the config keeps its old name.

This module imports nothing of the hub beyond the connector protocol, so ``hub.config`` can ask
it which kinds exist without an import cycle.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from importlib.metadata import entry_points
from types import ModuleType
from typing import Any

from connectors.base.protocol import Connector

GROUP = "maillage.connectors"
BUILTIN = {
    "mediawiki": "connectors.mediawiki",
    "communecter": "connectors.communecter",
    "hub": "connectors.peerhub",
    "website": "connectors.website",
    "jsonapi": "connectors.jsonapi",
}

Factory = Callable[[Any, Any, Any], Connector]
"""``connector(config, source, view)``: the hub's Config, the source's SourceSettings, and the
HubView of that source."""


def kinds() -> dict[str, str]:
    """Kind → module: the built-in kinds, then those installed packages declare (a package
    cannot take over a built-in kind by declaring its name)."""
    found = {ep.name: ep.value for ep in entry_points(group=GROUP) if ep.name not in BUILTIN}
    return {**BUILTIN, **found}


def factory(kind: str) -> Factory | None:
    """The connector factory of ``kind``; None when no module serves it."""
    module_name = kinds().get(kind)
    if module_name is None:
        return None
    target, _, attribute = module_name.partition(":")
    module: ModuleType = importlib.import_module(target)
    found: Factory = getattr(module, attribute or "connector")
    return found

"""Connectors kept open between runs of the same process: one login per source, not per run.

A wiki run that finds nothing used to spend most of its time logging in again (see
bench/README.md); the scheduler inside ``maillage serve`` and the two rounds of ``sync_all`` now
reuse the connector. A run that fails drops its connector, so the next one starts afresh (an
expired session, a server restarted), and a connector older than ``max_age`` is replaced, so a
long-running hub never depends on a session for long.
"""

from __future__ import annotations

import threading
import time

from connectors.base.protocol import Connector
from hub.config import Config, ConfigError, SourceSettings
from hub.pipeline.ingest import Ingestor
from hub.sync import registry
from hub.sync.view import StoreView

MAX_AGE_S = 15 * 60


def load_connector(config: Config, source: SourceSettings, ingestor: Ingestor) -> Connector:
    """A new connector for ``source``, seeing the hub through a read-only view of its store."""
    factory = registry.factory(source.kind)
    if factory is None:
        raise ConfigError(f"source {source.name!r}: no connector for kind {source.kind!r}")
    return factory(config, source, StoreView(ingestor.store, source.name))


class ConnectorPool:
    def __init__(self, config: Config, ingestor: Ingestor, max_age_s: float = MAX_AGE_S) -> None:
        self.config = config
        self.ingestor = ingestor
        self.max_age_s = max_age_s
        self._open: dict[str, tuple[Connector, float]] = {}
        self._lock = threading.Lock()

    def get(self, source: SourceSettings) -> Connector:
        with self._lock:
            found = self._open.get(source.name)
            if found is not None and time.monotonic() - found[1] < self.max_age_s:
                return found[0]
        self.discard(source.name)
        connector = load_connector(self.config, source, self.ingestor)
        with self._lock:
            self._open[source.name] = (connector, time.monotonic())
        return connector

    def discard(self, name: str) -> None:
        with self._lock:
            found = self._open.pop(name, None)
        if found is not None:
            found[0].close()

    def close(self) -> None:
        for name in list(self._open):
            self.discard(name)

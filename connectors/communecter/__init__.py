"""Communecter connector: organisations, projects, events, POIs and resources ⇄ hub entities."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from connectors.base import HubView
from connectors.base.deletions import deletion_limit
from connectors.base.secrets import secret
from connectors.communecter.client import ClientSettings, CommunecterClient
from connectors.communecter.elements import ElementIdentity, ElementMapper
from connectors.communecter.mapping import load_mapping
from connectors.communecter.reader import CommunecterReader
from connectors.communecter.writer import CommunecterWriter
from hub.config import Config, ConfigError, SourceSettings
from hub.rdf.resources import ROOT

CLIENT_OPTIONS = {
    "user_agent", "timeout", "max_page_bytes", "max_retries", "retry_wait", "auth", "token_name",
}
DEFAULT_MAPPING = ROOT / "mappings" / "communecter.toml"


class CommunecterConnector:
    """Reads and writes one Communecter instance as configured by a ``[[sources]]`` table."""

    reader: CommunecterReader
    writer: CommunecterWriter

    def __init__(self, config: Config, source: SourceSettings, view: HubView) -> None:
        self.name = source.name
        path = Path(source.mapping) if source.mapping else DEFAULT_MAPPING
        if not path.is_absolute() and config.path is not None and source.mapping:
            path = config.path.parent / path
        self.mapping = load_mapping(path)
        options = dict(source.options)
        unknown = set(options) - CLIENT_OPTIONS - {"reconcile_hours", "max_deletions"}
        if unknown:
            raise ConfigError(f"source {source.name!r}: unknown option(s) {', '.join(sorted(unknown))}")
        settings = ClientSettings(**{k: v for k, v in options.items() if k in CLIENT_OPTIONS})
        self.client = CommunecterClient(
            source.url, secret(source, "user_env"), secret(source, "password_env"), settings
        )
        self.mapper = ElementMapper(self.mapping, ElementIdentity(config.base_iri, source.name), source.url)
        reconcile = timedelta(hours=float(options.get("reconcile_hours", 24)))
        self.reader = CommunecterReader(
            self.client, self.mapping, self.mapper, view, reconcile, deletion_limit(options)
        )
        self.writer = CommunecterWriter(self.client, self.mapping, self.mapper, self.reader, view)

    def close(self) -> None:
        self.client.close()


def connector(config: Config, source: SourceSettings, view: HubView) -> CommunecterConnector:
    """Entry point the sync engine looks up by the source's kind (``hub.sync.registry``)."""
    return CommunecterConnector(config, source, view)

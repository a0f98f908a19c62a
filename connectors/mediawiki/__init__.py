"""MediaWiki connector: wiki pages ⇄ hub entities through each wiki's own templates."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

from connectors.base import HubView
from connectors.base.deletions import deletion_limit
from connectors.base.secrets import secret
from connectors.mediawiki.client import ClientSettings, WikiClient
from connectors.mediawiki.mapping import load_mapping
from connectors.mediawiki.pagemap import PageMapper, WikiIdentity, file_url_for, page_url_for
from connectors.mediawiki.reader import WikiReader
from connectors.mediawiki.writer import WikiWriter
from hub.config import Config, ConfigError, SourceSettings

CLIENT_OPTIONS = {
    "user_agent", "timeout", "max_page_bytes", "max_retries", "retry_wait", "edit_interval", "maxlag",
}


class MediaWikiConnector:
    """Reads and writes one wiki as configured by a ``[[sources]]`` table of kind mediawiki."""

    reader: WikiReader
    writer: WikiWriter

    def __init__(self, config: Config, source: SourceSettings, view: HubView) -> None:
        self.name = source.name
        if not source.mapping:
            raise ConfigError(f"source {source.name!r}: a mediawiki source needs a mapping file")
        mapping_path = Path(source.mapping)
        if not mapping_path.is_absolute() and config.path is not None:
            mapping_path = config.path.parent / mapping_path
        self.mapping = load_mapping(mapping_path)
        options = dict(source.options)
        settings = ClientSettings(**{k: v for k, v in options.items() if k in CLIENT_OPTIONS})
        user = secret(source, "user_env")
        password = secret(source, "password_env")
        self.client = WikiClient(source.url, user, password, settings)
        identity = WikiIdentity(config.base_iri, source.name)
        self.mapper = PageMapper(
            self.mapping, identity, page_url_for(source.url, self.mapping.page_url), file_url_for(source.url)
        )
        self.reader = WikiReader(
            self.client,
            self.mapping,
            self.mapper,
            view,
            timedelta(days=float(options.get("reconcile_days", 7))),
            user,
            deletion_limit(options),
        )
        self.writer = WikiWriter(self.client, self.mapping, self.mapper, self.reader, view)

    def close(self) -> None:
        self.client.close()


def connector(config: Config, source: SourceSettings, view: HubView) -> MediaWikiConnector:
    """Entry point the sync engine looks up by the source's kind (``hub.sync.registry``)."""
    return MediaWikiConnector(config, source, view)

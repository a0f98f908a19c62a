"""Websites publishing schema.org markup (JSON-LD, microdata): organisations, places, events.

Many associations and tiers-lieux have no platform account, only a website whose pages describe
them, their venue and their events in schema.org JSON-LD (what search engines read). A source of
kind ``website`` reads such a site politely (``fetch``), from its sitemap or a list of pages
(``sitemap``, ``reader``), and maps the markup to the hub's classes (``schema``). It is read-only:
the hub cannot edit a website, so ``direction`` must be ``read``.
"""

from __future__ import annotations

from typing import Any

from connectors.base import HubView
from connectors.base.deletions import deletion_limit
from connectors.website.fetch import PoliteClient, Settings, host_of
from connectors.website.reader import Site, WebsiteReader
from hub.config import Config, ConfigError, SourceSettings

CLIENT_OPTIONS = {"user_agent", "delay", "timeout", "max_page_bytes", "max_retries", "retry_wait",
                  "max_crawl_delay"}
SITE_OPTIONS = {"urls", "hosts", "language", "microdata", "max_pages", "max_deletions", "max_page_items"}


class WebsiteConnector:
    """Reads one website as configured by a ``[[sources]]`` table; writes nothing."""

    writer = None

    def __init__(self, config: Config, source: SourceSettings, view: HubView) -> None:
        self.name = source.name
        options: dict[str, Any] = dict(source.options)
        unknown = set(options) - CLIENT_OPTIONS - SITE_OPTIONS
        if unknown:
            raise ConfigError(f"source {source.name!r}: unknown option(s) {', '.join(sorted(unknown))}")
        if source.direction != "read":
            raise ConfigError(
                f"source {source.name!r}: a website is only read (direction = \"read\"), "
                f"the hub cannot edit its pages"
            )
        urls = options.get("urls", [])
        hosts = options.get("hosts", [])
        if not _strings(urls) or not _strings(hosts):
            raise ConfigError(f"source {source.name!r}: options.urls and options.hosts are lists of text")
        allowed = {h for h in (host_of(source.url), *map(host_of, urls), *(h.lower() for h in hosts)) if h}
        try:
            settings = Settings(**{k: v for k, v in options.items() if k in CLIENT_OPTIONS})
            site = Site(
                source.name,
                config.base_iri,
                source.url,
                tuple(urls),
                str(options.get("language", "fr")),
                bool(options.get("microdata", True)),
                int(options.get("max_pages", 5000)),
                deletion_limit(options),
                int(options.get("max_page_items", 1000)),
            )
        except (TypeError, ValueError) as exc:
            raise ConfigError(f"source {source.name!r}: bad option value ({exc})") from exc
        self.client = PoliteClient(allowed, settings)
        self._reader = WebsiteReader(self.client, site, view)

    @property
    def reader(self) -> WebsiteReader:
        return self._reader

    def close(self) -> None:
        self.client.close()


def _strings(value: object) -> bool:
    return isinstance(value, list) and all(isinstance(v, str) for v in value)


def connector(config: Config, source: SourceSettings, view: HubView) -> WebsiteConnector:
    """Entry point the sync engine looks up by the source's kind (``hub.sync.registry``)."""
    return WebsiteConnector(config, source, view)

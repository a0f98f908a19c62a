"""JSON/REST APIs read through a declarative mapping (``kind = "jsonapi"``): a new platform costs
a TOML file, not a connector.

The mapping says how to authenticate, which endpoints to page through and how, where records sit
in each answer, and how each field becomes a hub property; ``connectors/jsonapi/README.md`` is
the format's reference. The connector only reads: the hub never writes to these sources, and a
source declared ``direction = "write"`` or ``"both"`` is refused when the configuration loads.

Modules: ``mapping`` (the file, checked), ``auth`` and ``client`` (HTTP, errors, retries),
``paging`` (pages of one endpoint), ``paths`` (dotted paths in JSON), ``rules`` (a value →
RDF terms; ``html_text`` for HTML values), ``records`` (a record → a hub record), ``reader``
(passes, cursors, deletions), ``discover`` (a draft mapping from sampled records).
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

from connectors.base import HubView
from connectors.base.deletions import deletion_limit
from connectors.base.secrets import secret
from connectors.jsonapi.auth import Authenticator
from connectors.jsonapi.client import ApiClient
from connectors.jsonapi.mapping import ApiMapping, load_mapping
from connectors.jsonapi.reader import ApiReader
from connectors.jsonapi.records import RecordMapper
from hub.config import Config, ConfigError, SourceSettings

TUNING = {"timeout": float, "max_retries": int, "retry_wait": float, "max_retry_after": float,
          "reconcile_hours": float, "batch_size": int, "max_page_bytes": int, "max_pages": int}
"""Mapping settings ([api]) a source may override in its ``options``: the same API is read from
a fast network by one hub and a slow one by another."""
OPTIONS = {"max_deletions", "page_size", *TUNING}


def mapping_path(config: Config, source: SourceSettings) -> Path:
    if not source.mapping:
        raise ConfigError(
            f"source {source.name!r}: a jsonapi source needs mapping = \"<file>.toml\" "
            f"(shipped: mappings/data-inclusion.toml; see connectors/jsonapi/README.md)"
        )
    path = Path(source.mapping)
    if not path.is_absolute() and config.path is not None:
        path = config.path.parent / path
    return path


class JsonApiConnector:
    """Reads one JSON API as configured by a ``[[sources]]`` table and its mapping."""

    reader: ApiReader
    writer: None = None

    def __init__(self, config: Config, source: SourceSettings, view: HubView,
                 mapping: ApiMapping | None = None) -> None:
        self.name = source.name
        if source.direction != "read":
            raise ConfigError(
                f"source {source.name!r}: jsonapi sources are read-only (the hub does not write to "
                f"JSON APIs); set direction = \"read\""
            )
        unknown = set(source.options) - OPTIONS
        if unknown:
            raise ConfigError(f"source {source.name!r}: unknown option(s) {', '.join(sorted(unknown))}")
        self.mapping = replace(
            mapping or load_mapping(mapping_path(config, source)),
            **{key: kind(source.options[key]) for key, kind in TUNING.items() if key in source.options},
        )
        if "page_size" in source.options:  # an API whose limit is lower here, a test's small pages
            size = int(source.options["page_size"])
            self.mapping = replace(self.mapping, endpoints=tuple(
                replace(e, paging=replace(e.paging, size_value=size)) for e in self.mapping.endpoints))
        auth = Authenticator(self.mapping.auth, lambda key: secret(source, key), source.name)
        self.client = ApiClient(source.url, self.mapping, auth, source.name)
        self.mapper = RecordMapper(self.mapping, config.base_iri, source.name, source.url)
        self.reader = ApiReader(self.client, self.mapping, self.mapper, view, deletion_limit(source.options))

    def close(self) -> None:
        self.client.close()


def connector(config: Config, source: SourceSettings, view: HubView) -> JsonApiConnector:
    """Entry point the sync engine looks up by the source's kind (``hub.sync.registry``)."""
    return JsonApiConnector(config, source, view)

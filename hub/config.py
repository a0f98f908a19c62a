"""Configuration: ``maillage.toml`` plus environment, resolved once into plain dataclasses.

Secrets never live in the file: it names environment variables (``*_env`` keys) instead.
"""

from __future__ import annotations

import os
import tomllib
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

from hub.errors import HubError
from hub.sync.registry import kinds
from hub.vocab import DEFAULT_BASE_IRI

CONFIG_ENV = "MAILLAGE_CONFIG"
DATA_ENV = "MAILLAGE_DATA"
TERRITORIES_ENV = "MAILLAGE_TERRITORIES"
"""``0`` (or ``false``, ``no``) keeps the territory reference out of the store (the test suite's hubs,
which would otherwise each load 36,000 records); beats ``[hub] territories``."""
TOKEN_ENV = "MAILLAGE_TOKEN"
DIRECTIONS = ("read", "write", "both")


class ConfigError(HubError):
    """The configuration is unreadable or inconsistent; the message names the key."""


@dataclass
class StoreSettings:
    backend: str = "oxigraph"
    query_url: str | None = None
    update_url: str | None = None
    gsp_url: str | None = None
    gsp_graph_param: str = "graph"
    user_env: str | None = None
    password_env: str | None = None
    digest: bool = False


@dataclass
class ApiSettings:
    host: str = "127.0.0.1"
    port: int = 8000
    token_env: str = TOKEN_ENV
    query_timeout: float = 10.0
    max_result_bytes: int = 200_000_000
    max_request_bytes: int = 10_000_000
    query_workers: int = 2
    query_queue: int = 32
    """Queries that may wait for a free query worker; past it, 503 with Retry-After at once. The
    wait counts against ``query_timeout``."""
    query_memory_mb: int = 1024
    """Memory (data segment) each query worker may use; a query past it gets 503. 0: no cap."""
    query_fast_workers: int = 1
    """Query workers kept for the fast lane (queries not known to be slow), besides
    ``query_workers``; 0: one lane (hub.api.query.lanes)."""
    query_fast_seconds: float = 1.0
    """A query that runs longer than this in the fast lane moves to the general lane (and is
    known to be slow from then on)."""
    query_cache_mb: int = 64
    """Memory for the SPARQL result cache (hub.api.query.cache); 0: off."""
    query_cache_remote: bool = False
    """With a remote store, cache results anyway: only right when this hub is the server's only
    writer (the cache knows of the hub's own writes only)."""
    cors_origins: list[str] = field(default_factory=list)
    service_allowlist: list[str] = field(default_factory=list)
    public_url: str | None = None
    """The hub's address as its clients see it (``https://data.example.org``); every absolute URL
    the API writes uses it. Unset: the address the connection came in on."""
    tile_servers: list[str] = field(default_factory=list)
    """Tile URL templates the map may draw (the first by default); the only origins images may
    come from besides the hub itself."""
    client_timeout: float = 30.0
    """Seconds a client has to send a whole request (headers and body); then 408 and closed."""
    max_connections: int = 500
    """Open connections at most; past it, new requests get 503 instead of exhausting descriptors."""


@dataclass
class SourceSettings:
    name: str
    kind: str
    url: str
    direction: str = "read"
    mapping: str | None = None
    schedule: str | None = None
    credentials: dict[str, str] = field(default_factory=dict)
    options: dict[str, Any] = field(default_factory=dict)
    license: str | None = None
    """IRI of the licence the source publishes its data under; unset: not declared (the hub then
    claims none for its records, rather than its own, see :meth:`Config.licence_of`)."""
    attribution: str | None = None
    """How re-users must credit the source; unset: its name."""
    publish_person_contacts: bool = False
    """Persons' e-mail, telephone and street address from this source are public (consent
    exists); otherwise they stay in private graphs (docs/privacy.md)."""


LICENCE_OUVERTE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
EU_THEMES = {
    "AGRI": "Agriculture, fisheries, forestry and food",
    "ECON": "Economy and finance",
    "EDUC": "Education, culture and sport",
    "ENER": "Energy",
    "ENVI": "Environment",
    "GOVE": "Government and public sector",
    "HEAL": "Health",
    "INTR": "International issues",
    "JUST": "Justice, legal system and public safety",
    "OP_DATPRO": "Provisional data",
    "REGI": "Regions and cities",
    "SOCI": "Population and society",
    "TECH": "Science and technology",
    "TRAN": "Transport",
}
"""The EU data theme vocabulary (DCAT-AP's themes), code to English label."""


@dataclass
class CatalogSettings:
    """``[catalog]``: who publishes the hub's dataset, for its DCAT-AP description and licence.

    ``license`` covers the data the operator loads without a configured source (the demo, plain
    ``maillage import``, API writes): Etalab's Licence Ouverte by default, the licence of the
    French public-sector documents the demo is drawn from. Themes are codes of the EU data
    theme vocabulary (http://publications.europa.eu/resource/authority/data-theme).
    """

    title: str = "Maillage"
    description: str = (
        "Actors, places, projects, commons, resources, events and territories of third places "
        "and commons, gathered from their sources and published as linked data."
    )
    publisher: str = "Maillage"
    publisher_url: str | None = None
    contact_email: str | None = None
    contact_url: str | None = None
    keywords: list[str] = field(
        default_factory=lambda: ["tiers-lieux", "communs", "territoires", "third places", "commons"]
    )
    themes: list[str] = field(default_factory=lambda: ["REGI", "SOCI", "GOVE"])
    license: str = LICENCE_OUVERTE


@dataclass(frozen=True)
class Licence:
    """A source's licence (None: not declared) and how to credit it."""

    iri: str | None
    attribution: str


@dataclass
class Config:
    data_dir: Path = Path("data")
    base_iri: str = DEFAULT_BASE_IRI
    batch_size: int = 200
    in_memory: bool = False
    territories: bool = True
    """Load the official territory reference (source "territoires") at first start or import."""
    store: StoreSettings = field(default_factory=StoreSettings)
    api: ApiSettings = field(default_factory=ApiSettings)
    sources: list[SourceSettings] = field(default_factory=list)
    catalog: CatalogSettings = field(default_factory=CatalogSettings)
    path: Path | None = None

    def source(self, name: str) -> SourceSettings:
        for source in self.sources:
            if source.name == name:
                return source
        known = ", ".join(s.name for s in self.sources) or "none configured"
        raise ConfigError(f"no source named {name!r} (known: {known})")

    def licence_of(self, source: str) -> Licence:
        """A configured source's own licence; any other name (the demo, an import, the API) is
        data the operator loads, under the catalogue's licence. A configured source without
        ``license`` gets none: a wiki under CC BY-SA must not be republished as Licence Ouverte."""
        for settings in self.sources:
            if settings.name == source:
                return Licence(settings.license, settings.attribution or settings.name)
        return Licence(self.catalog.license, self.catalog.publisher)

    @property
    def contact_sources(self) -> frozenset[str]:
        """Sources whose persons' contact data may be published (``publish_person_contacts``)."""
        return frozenset(s.name for s in self.sources if s.publish_person_contacts)

    @property
    def write_token(self) -> str | None:
        return os.environ.get(self.api.token_env) or None


def _section(cls: type, table: dict[str, Any], where: str) -> Any:
    known = {f.name for f in fields(cls)}
    unknown = set(table) - known
    if unknown:
        raise ConfigError(f"unknown key(s) in {where}: {', '.join(sorted(unknown))}")
    return cls(**table)


def _source(table: dict[str, Any], index: int) -> SourceSettings:
    where = f"[[sources]] #{index + 1}"
    for key in ("name", "kind", "url"):
        if key not in table:
            raise ConfigError(f"{where} needs '{key}'")
    source: SourceSettings = _section(SourceSettings, table, where)
    if source.kind not in (known := kinds()):
        raise ConfigError(f"{where}: kind must be one of {', '.join(known)}")
    if source.direction not in DIRECTIONS:
        raise ConfigError(f"{where}: direction must be one of {', '.join(DIRECTIONS)}")
    _check_iri(source.license, f"{where} license")
    return source


def _check_iri(value: str | None, where: str) -> None:
    """Licences end up as IRIs in provenance and DCAT: a name ("CC BY-SA") would be a broken link."""
    if value is not None and not value.startswith(("http://", "https://")):
        raise ConfigError(f"{where} must be an http(s) IRI, e.g. https://creativecommons.org/licenses/by-sa/4.0/")


def read_toml(path: Path, what: str) -> dict[str, Any]:
    """A TOML file as a dict, or a :class:`ConfigError` that names the file and the problem."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"{what} not found: {path}") from exc
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: invalid TOML: {exc}") from exc


def find_config_path(explicit: Path | None) -> Path | None:
    """``--config``, else ``$MAILLAGE_CONFIG``, else ``./maillage.toml`` when present."""
    if explicit is not None:
        return explicit
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    default = Path("maillage.toml")
    return default if default.exists() else None


def load_config(path: Path | None = None, data_dir: Path | None = None) -> Config:
    """Read the configuration; ``data_dir`` (``--data-dir``) beats ``$MAILLAGE_DATA`` and the file."""
    config_path = find_config_path(path)
    raw: dict[str, Any] = {}
    if config_path is not None:
        raw = read_toml(config_path, "config file")
    hub = dict(raw.get("hub", {}))
    unknown = set(raw) - {"hub", "store", "api", "sources", "catalog"}
    if unknown:
        raise ConfigError(f"unknown section(s): {', '.join(sorted(unknown))}")
    config = Config(
        store=_section(StoreSettings, raw.get("store", {}), "[store]"),
        api=_section(ApiSettings, raw.get("api", {}), "[api]"),
        catalog=_section(CatalogSettings, raw.get("catalog", {}), "[catalog]"),
        sources=[_source(t, i) for i, t in enumerate(raw.get("sources", []))],
        path=config_path,
    )
    config.base_iri = hub.pop("base_iri", config.base_iri)
    config.batch_size = int(hub.pop("batch_size", config.batch_size))
    territories = hub.pop("territories", config.territories)
    if not isinstance(territories, bool):
        raise ConfigError("[hub] territories must be true or false")
    chosen_territories = os.environ.get(TERRITORIES_ENV, "").lower()
    config.territories = {"0": False, "false": False, "no": False, "1": True, "true": True,
                          "yes": True}.get(chosen_territories, territories)
    file_data_dir = hub.pop("data_dir", None)
    if hub:
        raise ConfigError(f"unknown key(s) in [hub]: {', '.join(sorted(hub))}")
    _check_iri(config.catalog.license, "[catalog] license")
    if unknown_themes := set(config.catalog.themes) - set(EU_THEMES):
        raise ConfigError(
            f"[catalog] themes: unknown code(s) {', '.join(sorted(unknown_themes))} "
            f"(EU data themes: {', '.join(EU_THEMES)})"
        )
    if not config.base_iri.endswith(("/", "#")):
        raise ConfigError("[hub] base_iri must end with '/' or '#'")
    chosen = data_dir or os.environ.get(DATA_ENV) or file_data_dir
    if chosen is not None:
        config.data_dir = Path(chosen)
    names = [s.name for s in config.sources]
    if len(names) != len(set(names)):
        raise ConfigError("two [[sources]] share a name")
    return config

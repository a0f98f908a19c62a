"""A hub under test: an in-memory hub with real sources, run the way ``maillage sync`` runs it.

One helper for every test (and bench) that drives a sync end to end, so that the questions a
test asks of the hub — which entity did this page or element become, what does the hub say about
it, what happens when another source says something — are answered by the hub's own typed reads
(``hub.sync.view``, ``hub.meta``), never by SPARQL over the bookkeeping graph written again in
each test file. When the bookkeeping graph's layout changes, these keep working or fail loudly.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING

import pyoxigraph as ox

from hub.config import LICENCE_OUVERTE, Config, SourceSettings
from hub.meta.conflicts import list_conflicts
from hub.meta.provenance import record_entity
from hub.pipeline.ingest import Ingestor
from hub.pipeline.validate import Validator
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.sync.engine import SyncReport, sync_all, sync_source
from hub.sync.view import StoreView, hub_classes
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE

if TYPE_CHECKING:
    import pytest

ROOT = Path(__file__).resolve().parents[1]
LANGUAGE_TAGGED = frozenset({"name", "shortDescription", "description"})

BOT_EMAIL, BOT_PASSWORD = "bot@maillage.test", "mot-de-passe-du-bot"  # the emulator's bot account


@dataclass(frozen=True)
class Source:
    """One source of the hub under test: its settings, the environment its credentials are read
    from, and how a test names its items (a page title becomes the page's URL; an element key is
    its source id already)."""

    settings: SourceSettings
    env: Mapping[str, str] = field(default_factory=dict)
    url_of: Callable[[str], str] | None = None


def mediawiki_source(wiki: object, name: str = "fabmob", mapping: str = "mappings/fabmob.toml",
                     url: str | None = None, direction: str = "both", schedule: str | None = None,
                     **options: object) -> Source:
    """A MediaWiki source on ``wiki`` (tests.servers.mediawiki.Wiki), logged in as its bot;
    ``url``: another address for the same wiki (a faulty proxy in front of it)."""
    from connectors.mediawiki.pagemap import page_url_for

    api_url = url or wiki.api_url  # type: ignore[attr-defined]
    user_env, password_env = f"MAILLAGE_TEST_{name.upper()}_USER", f"MAILLAGE_TEST_{name.upper()}_PASSWORD"
    settings = SourceSettings(
        name=name, kind="mediawiki", url=api_url, mapping=str((ROOT / mapping).resolve()), direction=direction,
        schedule=schedule, credentials={"user_env": user_env, "password_env": password_env},
        options={"retry_wait": 0.2, "edit_interval": 0, **options},
    )
    env = {user_env: wiki.bot_user, password_env: wiki.bot_password}  # type: ignore[attr-defined]
    return Source(settings, env, page_url_for(api_url, None))


def communecter_source(platform: object, name: str = "co", mapping: str | None = None, direction: str = "both",
                       schedule: str | None = None, **options: object) -> Source:
    """A Communecter source on ``platform`` (the emulator), logged in as the bot account the
    test added with ``platform.add_user(BOT_EMAIL, BOT_PASSWORD, …)``."""
    user_env, password_env = f"MAILLAGE_TEST_{name.upper()}_USER", f"MAILLAGE_TEST_{name.upper()}_PASSWORD"
    settings = SourceSettings(
        name=name, kind="communecter", url=platform.url, direction=direction,  # type: ignore[attr-defined]
        mapping=str((ROOT / mapping).resolve()) if mapping else None, schedule=schedule,
        credentials={"user_env": user_env, "password_env": password_env},
        options={"retry_wait": 0.05, **options},
    )
    return Source(settings, {user_env: BOT_EMAIL, password_env: BOT_PASSWORD})


def website_source(site: object, name: str = "site", url: str | None = None, **options: object) -> Source:
    """A website source on ``site`` (tests.servers.website.Site), from its sitemap unless ``url``
    names another address; no pause between requests unless the test asks for one. A page's URL
    is how a test names its item."""
    settings = SourceSettings(
        name=name, kind="website", url=url or f"{site.url}/sitemap.xml",  # type: ignore[attr-defined]
        options={"delay": 0, "retry_wait": 0.01, "timeout": 5, **options},
    )
    return Source(settings, url_of=lambda key: key)


def jsonapi_source(api: object, name: str = "di", mapping: str = "mappings/data-inclusion.toml",
                   token: str | None = None, **options: object) -> Source:
    """A jsonapi source on ``api`` (an emulator with ``url`` and ``token``, such as
    tests.servers.data_inclusion), its token in an environment variable; ``token`` overrides it."""
    token_env = f"MAILLAGE_TEST_{name.upper()}_TOKEN"
    settings = SourceSettings(
        name=name, kind="jsonapi", url=api.url, mapping=str((ROOT / mapping).resolve()),  # type: ignore[attr-defined]
        direction="read", credentials={"token_env": token_env}, options=dict(options),
        license=LICENCE_OUVERTE,
    )
    return Source(settings, {token_env: token if token is not None else api.token})  # type: ignore[attr-defined]


def jsonapi_config(url: str, token_env: str, name: str = "di",
                   mapping: str = "mappings/data-inclusion.toml") -> str:
    """The ``[[sources]]`` text of a served hub reading the API at ``url`` (the settings of
    :func:`jsonapi_source`), its token read from ``token_env``, which the caller sets."""
    return f"""
[[sources]]
name = "{name}"
kind = "jsonapi"
url = "{url}"
mapping = "{(ROOT / mapping).resolve()}"
direction = "read"
credentials = {{ token_env = "{token_env}" }}
license = "{LICENCE_OUVERTE}"
options = {{ retry_wait = 0.05, timeout = 5 }}
"""


class HubUnderTest:
    """An in-memory hub with ``sources``; ``monkeypatch`` (when given) scopes the credentials'
    environment variables to the test, otherwise they are set for the process (bench)."""

    def __init__(self, *sources: Source, monkeypatch: pytest.MonkeyPatch | None = None,
                 validator: Validator | None = None, base: str = DEFAULT_BASE_IRI, batch_size: int = 50) -> None:
        self.monkeypatch = monkeypatch
        self.sources: dict[str, Source] = {}
        self.base = base
        self.store = OxigraphStore(None)
        self.config = Config(in_memory=True, sources=[])
        self.ingestor = Ingestor(self.store, base, validator=validator, batch_size=batch_size)
        for source in sources:
            self.add(source)

    def add(self, source: Source) -> None:
        """Connect one more source (it runs after the others)."""
        for key, value in source.env.items():
            if self.monkeypatch is not None:
                self.monkeypatch.setenv(key, value)
            else:
                os.environ[key] = value
        self.sources[source.settings.name] = source
        self.config.sources.append(source.settings)

    def close(self) -> None:
        self.store.close()

    def _name(self, source: str | None) -> str:
        if source is None:
            if len(self.sources) != 1:
                raise ValueError(f"say which source: {sorted(self.sources)}")
            return next(iter(self.sources))
        return source

    def sync(self, source: str | None = None, full: bool = False, ok: bool = True) -> SyncReport:
        """One run of a source (the only one when not named); ``ok``: it must end without error."""
        report = sync_source(self.config, self.ingestor, self._name(source), full)
        if ok:
            assert report.error is None, report.error
        return report

    def sync_all(self, ok: bool = True) -> list[SyncReport]:
        """One run of every source, in configuration order, as ``maillage sync`` does."""
        reports = sync_all(self.config, self.ingestor)
        if ok:
            for report in reports:
                assert report.error is None, report.error
        return reports

    def entity(self, key: str, source: str | None = None) -> str:
        """The hub entity that a source's item became: ``key`` is how the test names the item
        (a page title, an element key)."""
        name = self._name(source)
        view = StoreView(self.store, name)
        url_of = self.sources[name].url_of
        source_id: str | None = key
        if url_of is not None:
            url = url_of(key)
            source_id = view.ids_by_url([url]).get(url)
        graphs = view.graphs([source_id]).get(source_id, []) if source_id is not None else []
        entities = [e for e in (record_entity(self.store, g) for g in graphs) if e is not None]
        assert entities, f"no entity for {key!r} in {name}"
        return entities[0]

    def values(self, entity: str, prop: str) -> set[str]:
        """What the hub says about ``entity``'s ``mlg:<prop>``, across every source (data graphs)."""
        rows = self.store.select(f"SELECT ?v WHERE {{ {ox.NamedNode(entity)} <{MLG}{prop}> ?v }}")
        return {r["v"].value for r in rows}

    def other_source_says(self, entity: str, cls: str | None = None, *, by: str = "plateforme",
                          **values: str) -> None:
        """Another source (``by``) states these values about the entity, which is of class
        ``cls`` (by default the class the hub already knows it by)."""
        subject = ox.NamedNode(entity)
        local = cls or hub_classes(self.store, entity)[0]
        triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + local))]
        for prop, value in values.items():
            lang = "fr" if prop in LANGUAGE_TAGGED else None
            triples.append(ox.Triple(subject, ox.NamedNode(MLG + prop), ox.Literal(value, language=lang)))
        result = self.ingestor.ingest([Record(source=by, source_id=entity, triples=tuple(triples))])
        assert result.quarantined == 0, {g: r.summary() for g, r in result.reports.items()}

    def holds(self, entity: str) -> bool:
        """Whether any graph still says something about ``entity``."""
        return self.store.ask(f"ASK {{ {ox.NamedNode(entity)} ?p ?o }}")

    def conflicted(self, source: str | None = None) -> set[str]:
        """The entities with an open conflict in ``source`` (every source when None)."""
        return {c.entity for c in list_conflicts(self.store, source)}

    @contextmanager
    def killed_after_write(self) -> Iterator[None]:
        """The process dies (KeyboardInterrupt) after the first write to a source and before the
        hub commits its record and sync state: the commit that carries sync state never runs."""
        real = Ingestor.ingest_batch

        def dies(ingestor: Ingestor, records: list[Record], cursor: object = None, state: object = (),
                 **kwargs: object) -> object:
            if state:
                raise KeyboardInterrupt("killed between the write and its record")
            return real(ingestor, records, cursor, state, **kwargs)  # type: ignore[arg-type]

        Ingestor.ingest_batch = dies  # type: ignore[method-assign,assignment]
        try:
            yield
        finally:
            Ingestor.ingest_batch = real  # type: ignore[method-assign]

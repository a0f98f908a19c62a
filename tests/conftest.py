"""Shared fixtures: stores on both backends, an ingestor, and record builders."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator

import pyoxigraph as ox
import pytest

from hub.config import TERRITORIES_ENV
from hub.pipeline.ingest import Ingestor
from hub.pipeline.validate import Validator
from hub.records import Record
from hub.store import Store
from hub.store.oxigraph import OxigraphStore
from hub.store.remote import RemoteStore
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.servers import virtuoso as virtuoso_server
from tests.servers.common import unavailable
from tests.servers.hub import ServedHub
from tests.servers.mediawiki import Wiki

BASE = DEFAULT_BASE_IRI

# The hubs the tests start (and the CLI they run) leave the 36,000-record territory reference out
# of their stores: each would spend tens of seconds loading it. Tests of the reference turn it on
# (MAILLAGE_TERRITORIES=1 in the environment of the hub they start, or `[hub] territories`).
os.environ.setdefault(TERRITORIES_ENV, "0")


@pytest.fixture(scope="session")
def validator() -> Validator:
    return Validator()


@pytest.fixture(scope="session")
def virtuoso() -> Iterator[virtuoso_server.Virtuoso]:
    reason = virtuoso_server.available()
    if reason:
        unavailable(reason)
    with virtuoso_server.running_virtuoso() as server:
        yield server


def _clear_remote(store: RemoteStore) -> None:
    rows = store.select("SELECT DISTINCT ?g WHERE { GRAPH ?g { ?s ?p ?o } }")
    ours = [r["g"].value for r in rows if r["g"].value.startswith((BASE, "urn:maillage"))]
    if ours:
        store.update(" ;\n".join(f"DROP SILENT GRAPH <{g}>" for g in ours))


@pytest.fixture(params=["oxigraph", "virtuoso"])
def store(request: pytest.FixtureRequest) -> Iterator[Store]:
    """The same tests on the embedded store and on a real remote SPARQL server."""
    if request.param == "oxigraph":
        with OxigraphStore(None) as memory:
            yield memory
        return
    server = request.getfixturevalue("virtuoso")
    remote = RemoteStore(server.sparql_url, gsp_url=server.gsp_url, gsp_graph_param="graph-uri")
    _clear_remote(remote)
    yield remote
    _clear_remote(remote)
    remote.close()


@pytest.fixture
def ingestor(store: Store, validator: Validator) -> Ingestor:
    return Ingestor(store, BASE, validator, batch_size=50)


def iri(local: str) -> ox.NamedNode:
    return ox.NamedNode(f"https://example.org/{local}")


def mlg(local: str) -> ox.NamedNode:
    return ox.NamedNode(MLG + local)


def lit(value: str, lang: str | None = "fr") -> ox.Literal:
    return ox.Literal(value, language=lang) if lang else ox.Literal(value)


def place_triples(local: str, name: str | None, **extra: ox.NamedNode | ox.Literal) -> list[ox.Triple]:
    subject = iri(local)
    triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), mlg("Place"))]
    if name is not None:
        triples.append(ox.Triple(subject, mlg("name"), lit(name)))
    triples += [ox.Triple(subject, mlg(k), v) for k, v in extra.items()]
    return triples


RecordFactory = Callable[..., Record]


@pytest.fixture
def place_record() -> RecordFactory:
    """A record for a Place as a source would send it."""

    def build(local: str, name: str | None = "Tiers-lieu", source: str = "test", **extra: object) -> Record:
        deleted = bool(extra.pop("deleted", False))
        revision = extra.pop("revision", None)
        return Record(
            source=source,
            source_id=local,
            triples=tuple(place_triples(local, name, **extra)),  # type: ignore[arg-type]
            revision=revision,  # type: ignore[arg-type]
            deleted=deleted,
        )

    return build


@pytest.fixture(scope="session", params=["oxigraph", "virtuoso"])
def hub_server(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """A real ``maillage serve`` over the demo data, shared by read-mostly HTTP tests: once on
    the embedded store, once on a real Virtuoso as the remote store (the scale-out setup)."""
    from tests.servers.hub import serving

    data = tmp_path_factory.mktemp("hub") / "data"
    if request.param == "oxigraph":
        with serving(data) as served:
            yield served
        return
    reason = virtuoso_server.available()
    if reason:
        unavailable(reason)
    with virtuoso_server.running_virtuoso() as remote:
        config = (f'[store]\nbackend = "sparql"\nquery_url = "{remote.sparql_url}"\n'
                  f'gsp_url = "{remote.gsp_url}"\ngsp_graph_param = "graph-uri"\n')
        with serving(data, config) as served:
            yield served


@pytest.fixture(scope="session")
def wiki() -> Iterator[Wiki]:
    """A real MediaWiki 1.39 (Debian package, SQLite, php -S) with the fixture pages."""
    from tests.servers import mediawiki

    reason = mediawiki.available()
    if reason:
        unavailable(reason)
    with mediawiki.running_wiki() as running:
        yield running

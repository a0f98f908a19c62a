"""The territory reference as records of its own source, "territoires", loaded into the store.

SPARQL (the observatory, `?territory=` filters) needs the territories and their hierarchy in the
store; the records go through the ordinary ingest pipeline so they get provenance (source,
package version as revision, licence), a change-log entry and content-hash skipping like any
source: a new package version rewrites only the territories that changed.

They are validated against the shapes like any record (2.5 s for all of them); what a first load
costs is the store's commits (see bench/territories.py).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from hub.config import LICENCE_OUVERTE, Config, Licence
from hub.meta.cursors import read_cursor
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.pipeline.neighbours import types_of
from hub.pipeline.validate import Validator
from hub.records import Record
from hub.store.base import Store
from hub.territories.index import Area, Commune, Kind, TerritoryIndex, iri
from hub.vocab import META_GRAPH, MLG, OWL_SAME_AS, RDF_TYPE, term

log = logging.getLogger(__name__)

SOURCE = "territoires"
CONNECTOR = "reference"
LICENCE = Licence(LICENCE_OUVERTE, "Etalab, découpage administratif (INSEE, DGCL, La Poste)")
INSEE_GEO = "http://id.insee.fr/geo/"
OVERSEAS_COLLECTIVITIES = frozenset({"975", "977", "978", "984", "986", "987", "988", "989"})
"""Collectivités d'outre-mer: the package files them as departments and regions; INSEE's
geographic RDF has no departement/region resource for them, so no owl:sameAs is claimed."""

_CLASS: dict[Kind, str] = {"commune": "Commune", "epci": "EPCI", "departement": "Department",
                           "region": "Region"}
_INSEE_KIND: dict[Kind, str] = {"commune": "commune", "departement": "departement", "region": "region"}


def _triples(base: str, kind: Kind, code: str, name: str, population: int | None,
             parents: list[tuple[Kind, str]], postal_codes: tuple[str, ...] = (),
             same_as: bool = True) -> tuple[ox.Triple, ...]:
    subject = ox.NamedNode(iri(base, kind, code))
    out = [
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + _CLASS[kind])),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name, language="fr")),
        ox.Triple(subject, ox.NamedNode(MLG + "inseeCode"), ox.Literal(code)),
    ]
    if population is not None:
        out.append(ox.Triple(subject, ox.NamedNode(MLG + "population"),
                             ox.Literal(str(population), datatype=ox.NamedNode(XSD_INTEGER))))
    out += [ox.Triple(subject, ox.NamedNode(MLG + "postalCode"), ox.Literal(p)) for p in postal_codes]
    out += [ox.Triple(subject, ox.NamedNode(MLG + "partOfTerritory"), ox.NamedNode(iri(base, k, c)))
            for k, c in parents]
    if same_as and kind in _INSEE_KIND:
        out.append(ox.Triple(subject, ox.NamedNode(OWL_SAME_AS),
                             ox.NamedNode(f"{INSEE_GEO}{_INSEE_KIND[kind]}/{code}")))
    return tuple(out)


XSD_INTEGER = "http://www.w3.org/2001/XMLSchema#integer"


def records(index: TerritoryIndex, base: str) -> Iterator[Record]:
    """One record per territory, parents before children (regions, departments, EPCI, communes),
    with the package version as revision. Source ids are the IRIs' last segment."""
    revision = f"{index.package}@{index.version}"

    def record(kind: Kind, code: str, triples: tuple[ox.Triple, ...]) -> Record:
        return Record(SOURCE, f"{kind}-{code}", triples, revision=revision, connector=CONNECTOR)

    def area(a: Area, parents: list[tuple[Kind, str]]) -> Record:
        overseas = a.code in OVERSEAS_COLLECTIVITIES
        return record(a.kind, a.code, _triples(base, a.kind, a.code, a.name, a.population, parents,
                                                same_as=not overseas))

    for region in index.regions.values():
        yield area(region, [])
    for department in index.departments.values():
        yield area(department, [("region", department.parent)] if department.parent else [])
    for epci in index.epcis.values():
        yield area(epci, [])
    for commune in index.communes.values():
        yield record("commune", commune.insee, _commune_triples(base, commune))


def _commune_triples(base: str, commune: Commune) -> tuple[ox.Triple, ...]:
    parents: list[tuple[Kind, str]] = [("departement", commune.department)]
    if commune.epci is not None:
        parents.append(("epci", commune.epci))
    return _triples(base, "commune", commune.insee, commune.name, commune.population, parents,
                    commune.postal_codes, same_as=commune.department not in OVERSEAS_COLLECTIVITIES)


@dataclass(frozen=True)
class Loaded:
    version: str
    stored: int
    result: IngestResult | None
    """None when the store already held this version in full (nothing was read)."""


CURSOR = "reference:territoires"
"""The cursor that says which package version the store holds in full (written with the last
batch, so a load killed halfway is taken up again at the next start)."""


def loaded_revision(store: Store, base: str) -> str | None:
    """The package version the store holds in full, if any: one cheap query at every start."""
    return read_cursor(store, base, CURSOR)


def ensure_loaded(store: Store, base: str, batch_size: int = 2000,
                  index: TerritoryIndex | None = None) -> Loaded:
    """Load the reference unless the store already holds this version in full. Territories that
    did not change are skipped by their content hash (their provenance keeps the version that
    last changed them), those the package dropped are deleted, the others written."""
    index = index or TerritoryIndex.load()
    revision = f"{index.package}@{index.version}"
    expected = len(index.regions) + len(index.departments) + len(index.epcis) + len(index.communes)
    if loaded_revision(store, base) == revision:
        return Loaded(index.version, expected, None)
    log.info("loading the territory reference %s (%d territories; about a minute on a fresh store, "
             "once per package version)", revision, expected)
    ingestor = Ingestor(store, base, Validator(), batch_size, licences=lambda _source: LICENCE)
    wanted = list(records(index, base))
    result = IngestResult()
    gone = _dropped(store, {r.source_id for r in wanted})
    if gone:
        result.add(ingestor.ingest(
            Record(SOURCE, sid, (), deleted=True, connector=CONNECTOR, revision=revision) for sid in gone))
    result.add(ingestor.ingest(
        wanted, cursor_key=CURSOR, known_types=types_of(wanted),
        cursor_value=lambda n: revision if n >= len(wanted) else f"{revision} (partial: {n})"))
    log.info("territory reference %s: %d created, %d updated, %d deleted, %d unchanged", revision,
             result.created, result.updated, result.deleted, result.unchanged)
    return Loaded(index.version, expected, result)


def _dropped(store: Store, wanted: set[str]) -> list[str]:
    """Territories an older package had and this one does not (a commune merged away)."""
    rows = store.select(f"""SELECT ?id WHERE {{ GRAPH <{META_GRAPH}> {{
        ?g <{term("source")}> {ox.Literal(SOURCE)} ; <{term("sourceId")}> ?id }} }}""")
    return sorted(r["id"].value for r in rows if r["id"].value not in wanted)


def load_configured(config: Config, store: Store) -> Loaded | None:
    """What `serve`, `demo` and `import` call first: the reference when the configuration wants it
    (``[hub] territories``, default true), a single cheap query when it is already there."""
    if not config.territories:
        return None
    return ensure_loaded(store, config.base_iri)

"""Placing at ingest: a record's INSEE code, postal code or town name → ``mlg:territory`` to its commune.

The link is the hub's own deduction, not the source's data, so it never enters the record graph
(what the source said, and what outbound sync projects back to it). It lives in a derived graph
beside it, :func:`placing_graph`, public like the record graph (under the hub's base IRI, not
``urn:maillage:``), written in the same transaction and dropped or replaced with the record; its
name says which record graph it was derived from. The graph also says how its links were made
(``mlg:placingMethod``, ``mlg:confidence``), once for all of them (see :meth:`Placer.statements`).

Placing reads the record's own triples (``mlg:inseeCode``, ``mlg:postalCode``, ``mlg:locality``,
which the mappings produce from the sources' fields, and, when a record gives nothing else,
``mlg:latitude``/``mlg:longitude``, looked up in the commune outlines of
:mod:`hub.territories.geometry`), so connectors, imports and API writes are
placed alike. The look-ups are in memory (:class:`~hub.territories.index.TerritoryIndex`); the
store is asked once per batch, for the choices people made and the candidates waiting.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache

import pyoxigraph as ox

from hub.iris import component
from hub.meta.held import Held
from hub.meta.placements import Known, candidate_statements, known_placings
from hub.pipeline import grid
from hub.records import Record
from hub.store.base import Store
from hub.store.transaction import Transaction
from hub.territories import geometry
from hub.territories.index import Commune, TerritoryIndex, normalise_name, reference_version
from hub.territories.index import iri as territory_iri
from hub.vocab import MLG, RDF_TYPE, XSD, class_iris

log = logging.getLogger(__name__)
INSEE_CODE = re.compile(r"(?:\d{5}|2[AB]\d{3})")
POSTAL_CODE = re.compile(r"\d{5}")
TERRITORY = MLG + "territory"
HINT_PREDICATES = (MLG + "territory", MLG + "concernsTerritory")
RULES = "3"
"""The version of the placing rules and of the derived graph's form; a hub whose records were
placed under other rules (or another reference) places them again once (hub/territories/catch_up.py).
2: method and confidence said once per derived graph (3 triples per link).
3: the grid cells of located entities (mlg:gridCell, hub.pipeline.grid) in the derived graph."""
TERRITORY_CLASSES = frozenset(
    c for local in ("Territory", "Commune", "EPCI", "Department", "Region") for c in class_iris(local)
)
"""A territory is not placed: the reference's own communes carry INSEE codes too."""


_TERRITORY = ox.NamedNode(TERRITORY)
_METHOD, _CONFIDENCE = ox.NamedNode(MLG + "placingMethod"), ox.NamedNode(MLG + "confidence")
_DECIMAL = ox.NamedNode(XSD + "decimal")


def placing_graph(base: str, record_graph: str) -> str:
    """The derived graph that holds the hub's placing of a record (reversible, one per record)."""
    return f"{base}placing/{component(record_graph)}"


def is_placing_graph(base: str, graph: str) -> bool:
    """Whether ``graph`` is a derived placing graph: the hub's own deduction, re-made at every
    ingest, so an export leaves it out (imported elsewhere it would be a record of nothing)."""
    return graph.startswith(f"{base}placing/")


@dataclass(frozen=True)
class Placement:
    insee: str
    method: str  # insee, postal, postal+name, name, choice, coordinates
    confidence: float


@dataclass(frozen=True)
class Ambiguity:
    """A name (or a postal code without a name) that fits several communes."""

    name: str
    key: str
    communes: tuple[str, ...]  # most populous first


@dataclass
class Outcome:
    placements: dict[str, Placement] = field(default_factory=dict)
    ambiguous: list[Ambiguity] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)

    def add(self, commune: Commune | str, method: str, confidence: float) -> None:
        code = commune if isinstance(commune, str) else commune.insee
        self.placements.setdefault(code, Placement(code, method, confidence))


@dataclass(frozen=True)
class Hints:
    insee: tuple[str, ...] = ()
    postal: tuple[str, ...] = ()
    names: tuple[str, ...] = ()
    department: str | None = None
    region: str | None = None
    point: tuple[float, float] | None = None  # latitude, longitude

    @property
    def empty(self) -> bool:
        return not (self.insee or self.postal or self.names or self.point)


_AREA_HINT = re.compile(r"territory/(departement|region)-([0-9A-Za-z]{1,3})$")


_LAT, _LON = MLG + "latitude", MLG + "longitude"
_INSEE, _POSTAL, _LOCALITY, _TYPE, _AREA, _POINT = range(6)
_READ = {MLG + "inseeCode": _INSEE, MLG + "postalCode": _POSTAL, MLG + "locality": _LOCALITY,
         RDF_TYPE: _TYPE, **dict.fromkeys(HINT_PREDICATES, _AREA), _LAT: _POINT, _LON: _POINT}
READ_PREDICATES = frozenset(_READ)
"""Every predicate placing reads: a record whose statements with these say the same is placed
the same."""


def hints_of(record: Record, entity: ox.NamedNode) -> Hints | None:
    """What the record says about where its entity is (its own statements only); None for a
    territory (the reference's own records). One pass, the predicate tested first: it runs on
    every record ingested."""
    found: tuple[list[str], list[str], list[str]] = ([], [], [])
    area: dict[str, str] = {}
    point: dict[str, str] = {}
    for t in record.triples:
        slot = _READ.get(t.predicate.value)
        if slot is None or t.subject != entity:
            continue
        o = t.object
        if slot <= _LOCALITY:
            if isinstance(o, ox.Literal):
                found[slot].append(o.value)
        elif slot == _POINT:
            if isinstance(o, ox.Literal):
                point.setdefault(t.predicate.value, o.value)
        elif isinstance(o, ox.NamedNode):
            if slot == _TYPE:
                if o.value in TERRITORY_CLASSES:
                    return None
            elif match := _AREA_HINT.search(o.value):
                area.setdefault(match[1], match[2])
    try:
        where = (float(point[_LAT]), float(point[_LON])) if len(point) == 2 else None
    except ValueError:
        where = None  # the shapes refuse it; placing just does not use it
    insee, postal, names = found
    return Hints(tuple(insee), tuple(postal), tuple(names), area.get("departement"), area.get("region"),
                 where)


class Placer:
    """Decides and writes placings; one per ingestor (the index is shared by the process)."""

    def __init__(self, base: str, index: TerritoryIndex | None = None, *, enabled: bool = True) -> None:
        """``enabled=False``: place nothing (benchmarks, tools that must store records as they are)."""
        self.base = base
        self.enabled = enabled
        self._index = index
        self._missing = False
        self._cache: dict[int, tuple[Record, tuple[ox.NamedNode, Hints] | None]] = {}

    @property
    def index(self) -> TerritoryIndex:
        if self._index is None:
            self._index = TerritoryIndex.load()
        return self._index

    def reference(self) -> tuple[str, str]:
        """(package, version) of the reference placings are made with, without building the
        index when it is not built yet (an :class:`OSError` when it is not installed)."""
        if self._index is not None:
            return self._index.package, self._index.version
        return reference_version()

    def _available(self) -> bool:
        """A hub installed without the reference data still ingests; it says once it cannot place.
        Asked when a decision is to be made: the index is built at the first one."""
        if self._index is None and not self._missing:
            try:
                self._index = TerritoryIndex.load()
            except OSError as exc:
                self._missing = True
                log.warning("territory reference unavailable, records are not placed: %s", exc)
        return self._index is not None

    def wanted(self, record: Record) -> bool:
        """Whether placing has anything to read in the record (cheap: no look-up)."""
        return self._hints(record) is not None

    def _hints(self, record: Record) -> tuple[ox.NamedNode, Hints] | None:
        if record.deleted or not self.enabled:
            return None
        cached = self._cache.get(id(record))
        if cached is not None and cached[0] is record:  # asked by the batch's recall, then write
            return cached[1]
        entity = record.entity()
        hints = hints_of(record, entity) if entity is not None else None
        found = None if entity is None or hints is None or hints.empty else (entity, hints)
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[id(record)] = (record, found)  # the record is held: its id is not reused
        return found

    def recall(self, store: Store, records: Iterable[Record]) -> Known:
        """The batch's choices and waiting candidates, in one query (none when nothing needs them)."""
        pairs = [(r.source, r.source_id) for r in records]
        return known_placings(store, pairs) if pairs else Known()

    def decide(self, hints: Hints, choices: Mapping[str, str]) -> Outcome:
        """INSEE code → exact; postal code → its commune, or the one the name names; a name alone
        → only when it names one commune (within the department or region the record gives);
        several → a person's choice if there is one, else an ambiguity. Never a guess."""
        index, out = self.index, Outcome()
        for raw in hints.insee:
            code = raw.strip().upper()
            if not INSEE_CODE.fullmatch(code):
                out.warnings.append(f"malformed INSEE code {raw[:40]!r}: not placed")
            elif (commune := index.commune(code)) is None:
                out.warnings.append(f"unknown INSEE code {code!r}: not placed")
            else:
                out.add(commune, "insee", 1.0)
        if out.placements:
            return out
        postal: list[tuple[str, list[Commune]]] = []
        for raw in hints.postal:
            code = raw.replace(" ", "").strip()
            if not POSTAL_CODE.fullmatch(code):
                out.warnings.append(f"malformed postal code {raw[:40]!r}: not placed")
            elif not (served := index.by_postal_code(code)):
                out.warnings.append(f"unknown postal code {code!r}: not placed")
            else:
                postal.append((code, served))
        for code, communes in postal:
            if len(communes) == 1:
                out.add(communes[0], "postal", 1.0)
                continue
            named = [index.by_name(n, postal_code=code) for n in hints.names]
            if any(len(found) == 1 for found in named):
                for found in named:
                    if len(found) == 1:
                        out.add(found[0], "postal+name", 0.95)
                continue
            name = next((n for n, found in zip(hints.names, named, strict=True) if found),
                        code)
            self._ambiguous(out, name, code if name == code else normalise_name(name),
                            next((f for f in named if f), communes), choices)
        if postal:
            return out
        hinted = hints.department is not None or hints.region is not None
        for name in hints.names:
            if not name.strip():
                continue
            found = index.by_name(name, department=hints.department, region=hints.region)
            if len(found) == 1:
                out.add(found[0], "name", 0.9 if hinted else 0.8)
            elif not found:
                out.warnings.append(f"no commune named {name[:80]!r}: not placed")
            else:
                self._ambiguous(out, name, normalise_name(name), found, choices)
        if hints.point is not None and not (hints.insee or hints.postal or hints.names):
            self._by_point(out, hints, *hints.point)
        return out

    def _by_point(self, out: Outcome, hints: Hints, lat: float, lon: float) -> None:
        """Coordinates and no other hint (:func:`geometry.commune_at`: never the nearest commune)."""
        shapes = geometry.available()  # read at the first record that gives only coordinates
        found = (geometry.commune_at(shapes, self.index, lat, lon, hints.department, hints.region)
                 if shapes is not None else "no commune outlines installed: coordinates not placed")
        if isinstance(found, str):
            out.warnings.append(found)
        else:
            out.add(found[0], "coordinates", found[1])

    @staticmethod
    def _ambiguous(
        out: Outcome, name: str, key: str, communes: list[Commune], choices: Mapping[str, str]
    ) -> None:
        codes = tuple(c.insee for c in communes)
        chosen = choices.get(key)
        if chosen is not None:
            out.add(chosen, "choice", 1.0)
        else:
            out.ambiguous.append(Ambiguity(name.strip(), key, codes))

    def write(
        self, tx: Transaction, record: Record, graph: str, known: Known, *, existed: bool,
        held: Held | None = None,
    ) -> list[str]:
        """Fill ``tx`` with the record's placing (derived graph, candidates) and its grid cells
        (:mod:`hub.pipeline.grid`); returns warnings. ``held``: what the derived graph and the
        waiting candidates hold (:mod:`hub.pipeline.before`), so that they are only revised."""
        before = held or Held()
        pair = (record.source, record.source_id)
        found = self._hints(record)
        self._cache.pop(id(record), None)
        outcome = (
            self.decide(found[1], known.choices.get(pair, {})) if found and self._available() else Outcome()
        )
        cells = self._cells(record, found[0] if found else None)
        if existed or outcome.placements or cells:  # a new record placed nowhere writes nothing
            derived = placing_graph(self.base, graph)
            triples = self.statements(found[0], derived, graph, outcome) if found else []
            triples += cells
            if existed:
                tx.revise_graph(derived, triples, before.graphs.get(derived))
            else:
                tx.add_graph(derived, triples)
        emitted = set()
        waiting = known.candidates.get(pair, ())
        for ambiguity in outcome.ambiguous:
            subject, statements = candidate_statements(
                record.source, record.source_id, found[0].value if found else "", graph,
                ambiguity.name, ambiguity.key, ambiguity.communes,
            )
            emitted.add(subject)
            if subject in waiting:
                tx.revise_meta(subject, statements, before.statements.get(subject))
            else:  # the batch's recall knows every candidate of the record: nothing to replace,
                tx.add_meta(subject, statements)  # and a batch of new records can append
        for subject in waiting:
            if subject not in emitted:
                tx.clear_meta(subject)
        return outcome.warnings

    def located(self, record: Record) -> bool:
        """Whether the record has coordinates, so grid cells to write."""
        return bool(self._cells(record))

    def _cells(self, record: Record, entity: ox.NamedNode | None = None) -> list[ox.Triple]:
        """The entity's grid cells; ``entity``: the record's, when the caller already has it (its
        hints found it), so the record is not walked again for it."""
        if record.deleted or not self.enabled:
            return []
        entity = entity or record.entity()
        point = grid.coordinates(record.triples, entity) if entity is not None else None
        return grid.grid_triples(entity, *point) if entity is not None and point else []

    def forget(self, tx: Transaction, record: Record, graph: str, known: Known) -> None:
        """The record is gone: its placing and its waiting candidates go with it (choices stay:
        the record may come back)."""
        tx.drop_graph(placing_graph(self.base, graph))
        for subject in known.candidates.get((record.source, record.source_id), ()):
            tx.clear_meta(subject)

    def statements(
        self, entity: ox.NamedNode, derived: str, graph: str, outcome: Outcome
    ) -> list[ox.Triple]:
        """The derived graph, kept small (it is written with every record that names a town):
        the links, then how they were made, said once on the graph itself (``<derived>
        mlg:placingMethod``, ``mlg:confidence``): one link costs 3 triples. A link made another
        way than the first (a list of names, one of them chosen by a person) says its own on
        ``<derived#INSEE>``. Which record graph it comes from is the graph's name
        (:func:`placing_graph`, reversible: ``ENCODE_FOR_URI`` in SPARQL), so no triple says it."""
        if not outcome.placements:
            return []
        node = ox.NamedNode(derived)
        triples = [ox.Triple(entity, _TERRITORY, _commune(self.base, p.insee))
                   for p in outcome.placements.values()]
        first: Placement | None = None
        for placement in outcome.placements.values():
            if first is None:
                first = placement
                subject = node
            elif (placement.method, placement.confidence) == (first.method, first.confidence):
                continue
            else:
                subject = ox.NamedNode(f"{derived}#{placement.insee}")
            triples += [
                ox.Triple(subject, _METHOD, _literal(placement.method)),
                ox.Triple(subject, _CONFIDENCE, _literal(f"{placement.confidence:.2f}", _DECIMAL)),
            ]
        return triples


@cache
def _literal(value: str, datatype: ox.NamedNode | None = None) -> ox.Literal:
    return ox.Literal(value, datatype=datatype)


@lru_cache(maxsize=1 << 16)
def _commune(base: str, insee: str) -> ox.NamedNode:
    return ox.NamedNode(territory_iri(base, "commune", insee))

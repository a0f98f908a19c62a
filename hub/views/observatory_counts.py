"""The observatory's figures kept up to date from the change log, instead of recomputed.

The queries ``sparql/observatory-by-*.rq`` stay the definition; recomputing them after each write
took 3–11× Virtuoso's time at national size, because every answer re-joined every entity with the
territory hierarchy. Here each entity's *contribution* (its (territory, type), (theme, type) and
(type, source) pairs) is kept with the totals; a catch-up reads the change log past the last
sequence it applied, re-reads only the entities those entries name (in batches) and replaces their
contributions, so an answer after a change costs work proportional to the change.

Counts per month come from the change-log entries themselves: each new entry adds one.

Territories (their level, name, code, population and ``mlg:partOfTerritory`` links) are read once;
a logged change touching a territory node (a level type or a ``partOfTerritory`` link, before or
after) rebuilds everything, which only reference loads do.

Consistency without the write lock (taking it would bump the data version and empty the result
cache): the change log is read before the entities' facts, so a write committed in between is
seen early and re-read at the next catch-up, which converges; the month counts only ever follow
log entries. Every write of the hub logs its changed entities (:mod:`hub.meta.changelog`), which
is what makes this exact. A remote store written by others than this hub would not log their
changes: the app then keeps none (``hub.api.app``) and the page runs the SPARQL queries.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Iterable
from decimal import ROUND_FLOOR, Decimal

import pyoxigraph as ox

from hub.meta.changelog import changes_numbered, last_sequence
from hub.meta.public import public_graph_filter
from hub.store.base import Row, Store
from hub.views.observatory_territories import (
    LEVELS,
    PART_OF,
    Territories,
    number,
    public_pattern,
    union_pattern,
)
from hub.vocab import META_GRAPH, MLG, RDF_TYPE

TYPES = tuple(MLG + t for t in ("Organization", "Person", "Place", "Project", "Commons", "Resource", "Event"))
PLACED = (MLG + "territory", MLG + "concernsTerritory")
THEME = MLG + "theme"
_INTEGER = ox.NamedNode("http://www.w3.org/2001/XMLSchema#integer")
_DECIMAL = ox.NamedNode("http://www.w3.org/2001/XMLSchema#decimal")
_BATCH = 400

log = logging.getLogger("maillage.observatory")

Pair = tuple[str, str]
Term = ox.NamedNode | ox.Literal | ox.BlankNode


class ObservatoryCounts:
    """Per-entity contributions and their totals, caught up from the change log on each read."""

    def __init__(self, store: Store, public: bool = False) -> None:
        self._store = store
        self.public = public
        """Count the public graphs only (what an anonymous reader's query sees), not every graph."""
        self._tp = public_pattern if public else union_pattern
        self._lock = threading.Lock()
        self._built = False
        self._sequence = 0
        self._territories: Territories | None = None
        self._placed: dict[str, frozenset[Pair]] = {}  # entity -> (territory, type)
        self._themes: dict[str, frozenset[Pair]] = {}  # entity -> (theme, type)
        self._placed_themes: dict[str, frozenset[Pair]] = {}  # entity -> (territory, theme)
        self._sources: dict[str, frozenset[Pair]] = {}  # entity -> (type, source)
        self._by_territory: Counter[Pair] = Counter()
        self._by_theme: Counter[Pair] = Counter()
        self._by_territory_theme: Counter[Pair] = Counter()
        self._by_source: Counter[Pair] = Counter()
        self._by_month: Counter[tuple[str, str, str]] = Counter()
        self._graph_entities: dict[str, set[str]] = {}
        self._unlogged: set[str] = set()
        self._unlogged_lock = threading.Lock()
        self._entity_graphs: dict[str, set[str]] = {}

    # -- keeping up ---------------------------------------------------------------------------

    def changed(self, entities: Iterable[str]) -> None:
        """Entities a write changed without a change-log entry (a person's choice of commune for a
        town name, :func:`hub.pipeline.place.choice_plan`): read again at the next catch-up."""
        with self._unlogged_lock:
            self._unlogged.update(entities)

    def ready(self) -> ObservatoryCounts | None:
        """Itself once built, else None (the caller runs the queries) after starting a build in
        the background if none is under way: a first visit does not wait for a national build."""
        if self._built:
            return self
        if not self._lock.locked():
            threading.Thread(target=self.build_quietly, name="observatory-build", daemon=True).start()
        return None

    def build_quietly(self) -> None:
        """:meth:`catch_up` for a background thread: a failure is logged, the next visit retries."""
        try:
            self.catch_up()
        except Exception:
            log.exception("building the observatory figures failed; the next visit tries again")


    def catch_up(self) -> None:
        """Apply every change-log entry past the last one applied (build first if never built)."""
        with self._lock:
            if not self._built:
                self._build()
                return
            with self._unlogged_lock:
                unlogged = set(self._unlogged)
            touched = set(unlogged)
            months: Counter[tuple[str, str, str]] = Counter()
            sequence, newest = self._sequence, last_sequence(self._store)
            graphs: set[str] = set()
            while sequence < newest:  # by sequence values: no scan of the whole log
                upto = min(newest, sequence + 2000)
                changes = changes_numbered(self._store, sequence + 1, upto)
                for change in changes:
                    if not self.public:  # the log is in the bookkeeping graph: not public
                        months[(change.time.isoformat()[:7], change.source, change.operation)] += 1
                    if change.entity is not None:
                        touched.add(change.entity)
                    touched |= self._graph_entities.get(change.graph, set())
                    graphs.add(change.graph)
                sequence = upto
            touched |= self._territories_in(graphs)
            if touched and self._refresh(sorted(touched)):
                return  # rebuilt: the months and the sequence are the store's own already
            # applied once every entity is read again: a failure above leaves them to the next call
            self._by_month.update(months)
            with self._unlogged_lock:
                self._unlogged -= unlogged
            self._sequence = max(self._sequence, sequence)

    def _territories_in(self, graphs: set[str]) -> set[str]:
        """Territory nodes the changed graphs state something of: a population added to a region
        by another record than the one naming the region is counted in its density."""
        territories = self._territories
        if not graphs or territories is None:
            return set()
        found: set[str] = set()
        ordered = sorted(graphs)
        for i in range(0, len(ordered), _BATCH):
            values = " ".join(f"<{g}>" for g in ordered[i:i + _BATCH])
            for row in self._store.select(
                    f"SELECT DISTINCT ?s WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"):
                if territories.touches(row["s"].value):
                    found.add(row["s"].value)
        return found

    def _build(self) -> None:
        started = time.perf_counter()
        store = self._store
        self._sequence = last_sequence(store)
        self._by_month = Counter()
        for row in [] if self.public else store.select(f"""SELECT ?t ?s ?o WHERE {{ GRAPH <{META_GRAPH}> {{
                ?c a <{MLG}Change> ; <{MLG}sequence> ?n ; <http://www.w3.org/ns/prov#atTime> ?t ;
                   <{MLG}source> ?s ; <{MLG}operation> ?o . FILTER(?n <= {self._sequence}) }} }}"""):
            self._by_month[(row["t"].value[:7], row["s"].value, row["o"].value)] += 1
        self._territories = Territories(store, self._tp)
        self._placed, self._themes, self._sources, self._placed_themes = {}, {}, {}, {}
        self._by_territory, self._by_theme, self._by_source = Counter(), Counter(), Counter()
        self._by_territory_theme = Counter()
        self._graph_entities, self._entity_graphs = {}, {}
        self._refresh(None)
        self._built = True
        log.info("observatory figures (%s) built in %.1f s: %d entities counted",
                 "public graphs" if self.public else "every graph", time.perf_counter() - started,
                 len(self._entity_graphs))

    def _refresh(self, entities: list[str] | None) -> bool:
        """Read again the facts of ``entities`` (of the whole store for None) and replace their
        contributions; True when a territory among them made it rebuild everything."""
        territories = self._territories
        assert territories is not None
        batches = [None] if entities is None else [
            entities[i:i + _BATCH] for i in range(0, len(entities), _BATCH)]
        for batch in batches:
            facts, graphs = self._facts(batch)
            if batch is not None and any(
                    territories.touches(e) or PART_OF in facts.get(e, {}) for e in batch):
                self._build()  # a territory moved: every closure may have
                return True
            sources = self._type_sources(batch)
            for entity in set(facts) | set(sources) if batch is None else batch:
                f = facts.get(entity, {})
                types = f.get(RDF_TYPE, set())
                placed = {(t, ty) for p in PLACED for pl in f.get(p, set())
                          for t in territories.reached(pl) for ty in types if ty in TYPES}
                themes = {(th, ty) for th in f.get(THEME, set()) for ty in types}
                reached = {t for p in PLACED for pl in f.get(p, set()) for t in territories.reached(pl)}
                placed_themes = {(t, th) for t in reached for th in f.get(THEME, set())}
                self._replace(self._placed_themes, self._by_territory_theme, entity, frozenset(placed_themes))
                self._replace(self._placed, self._by_territory, entity, frozenset(placed))
                self._replace(self._themes, self._by_theme, entity, frozenset(themes))
                by_source = frozenset(sources.get(entity, set()))
                self._replace(self._sources, self._by_source, entity, by_source)
                counted = placed or themes or by_source
                self._place_in_graphs(entity, graphs.get(entity, set()) if counted else set())
        return False

    def _place_in_graphs(self, entity: str, graphs: set[str]) -> None:
        """Which graphs hold the facts an entity counts by: a change logged for a graph (a merge
        moves a record's facts to another entity) reads again the entities it held."""
        for graph in self._entity_graphs.pop(entity, set()) - graphs:
            held = self._graph_entities.get(graph)
            if held is not None:
                held.discard(entity)
                if not held:
                    del self._graph_entities[graph]
        if graphs:
            self._entity_graphs[entity] = graphs
            for graph in graphs:
                self._graph_entities.setdefault(graph, set()).add(entity)

    @staticmethod
    def _replace(kept: dict[str, frozenset[Pair]], totals: Counter[Pair], entity: str,
                 new: frozenset[Pair]) -> None:
        old = kept.pop(entity, frozenset())
        for key in old - new:
            totals[key] -= 1
            if totals[key] <= 0:
                del totals[key]
        for key in new - old:
            totals[key] += 1
        if new:
            kept[entity] = new

    def _facts(self, batch: list[str] | None) -> tuple[dict[str, dict[str, set[str]]], dict[str, set[str]]]:
        """(entity -> predicate -> objects, entity -> graphs) for the predicates counted by.

        One ``VALUES`` of (entity, predicate) pairs: with two ``VALUES`` the engine read every quad
        first (bench/README.md, "Slow in Oxigraph itself")."""
        predicates = (RDF_TYPE, THEME, PART_OF, *PLACED)
        if batch is None:
            values = f"VALUES ?p {{ {' '.join(f'<{p}>' for p in predicates)} }}"
        else:
            pairs = " ".join(f"(<{e}> <{p}>)" for e in batch for p in predicates)
            values = f"VALUES (?e ?p) {{ {pairs} }}"
        where = f"GRAPH ?g {{ ?e ?p ?o }} {public_graph_filter('g') if self.public else ''}"
        facts: dict[str, dict[str, set[str]]] = {}
        graphs: dict[str, set[str]] = {}
        for row in self._store.select(f"SELECT ?e ?p ?o ?g WHERE {{ {values} {where} }}"):
            entity = row["e"].value
            facts.setdefault(entity, {}).setdefault(row["p"].value, set()).add(_key(row["o"]))
            graphs.setdefault(entity, set()).add(row["g"].value)
        return facts, graphs

    def _type_sources(self, batch: list[str] | None) -> dict[str, set[Pair]]:
        if self.public:
            return {}  # the bookkeeping graph, where sources are, is not in the public dataset
        values = "" if batch is None else f"VALUES ?e {{ {' '.join(f'<{e}>' for e in batch)} }}"
        found: dict[str, set[Pair]] = {}
        for row in self._store.select(f"""SELECT DISTINCT ?e ?t ?s WHERE {{ {values}
                GRAPH ?g {{ ?e a ?t }} GRAPH <{META_GRAPH}> {{ ?g <{MLG}source> ?s }}
                FILTER(STRSTARTS(STR(?t), "{MLG}")) }}"""):
            found.setdefault(row["e"].value, set()).add((row["t"].value, _key(row["s"])))
        return found

    # -- answers, in the shape of the queries' rows --------------------------------------------

    def by_level(self, level: str) -> list[Row]:
        """``sparql/observatory-by-{level}.rq``'s rows."""
        self.catch_up()
        cls = MLG + LEVELS[level]
        with self._lock:
            t = self._territories
            assert t is not None
            rows: list[Row] = []
            for (territory, type_), count in self._by_territory.items():
                if cls not in t.level.get(territory, set()):
                    continue
                row: Row = {level: _node(territory), "type": ox.NamedNode(type_),
                            "entities": ox.Literal(str(count), datatype=_INTEGER)}
                if territory in t.name:
                    row[f"{level}Name"] = ox.Literal(t.name[territory])
                if territory in t.code:
                    row["code"] = ox.Literal(t.code[territory])
                population = t.population.get(territory)
                if population is not None:
                    row["population"] = population
                    density = _density(count, population)
                    if density is not None:
                        row["density"] = density
                rows.append(row)
        return sorted(rows, key=lambda r: (r[f"{level}Name"].value if f"{level}Name" in r else "",
                                           r["type"].value))

    def by_territory_theme(self) -> list[Row]:
        """``sparql/observatory-by-territory-theme.rq``'s rows."""
        self.catch_up()
        levels = {MLG + c for c in LEVELS.values()}
        with self._lock:
            t = self._territories
            assert t is not None
            rows: list[Row] = []
            for (territory, theme), count in self._by_territory_theme.items():
                for level in sorted(t.level.get(territory, set()) & levels):
                    row: Row = {"level": ox.NamedNode(level), "territory": ox.NamedNode(territory),
                                "theme": _term(theme), "entities": ox.Literal(str(count), datatype=_INTEGER)}
                    if territory in t.name:
                        row["territoryName"] = ox.Literal(t.name[territory])
                    rows.append(row)
        return sorted(rows, key=lambda r: (r["level"].value, r["territoryName"].value if "territoryName" in r
                                           else "", -count_of(r), r["theme"].value))

    def by_theme(self) -> list[Row]:
        """``sparql/observatory-by-theme.rq``'s rows."""
        self.catch_up()
        with self._lock:
            items = list(self._by_theme.items())
        rows: list[Row] = [{"theme": _term(theme), "type": _term(type_),
                            "entities": ox.Literal(str(n), datatype=_INTEGER)}
                           for (theme, type_), n in items]
        return sorted(rows, key=lambda r: (-int(r["entities"].value), r["theme"].value))

    def by_type(self) -> list[Row]:
        """``sparql/observatory-by-type.rq``'s rows."""
        self.catch_up()
        with self._lock:
            items = list(self._by_source.items())
        rows: list[Row] = [{"type": ox.NamedNode(type_), "source": _term(source),
                            "entities": ox.Literal(str(n), datatype=_INTEGER)}
                           for (type_, source), n in items]
        return sorted(rows, key=lambda r: (r["type"].value, r["source"].value))

    def by_month(self) -> list[Row]:
        """``sparql/observatory-by-month.rq``'s rows."""
        self.catch_up()
        with self._lock:
            items = list(self._by_month.items())
        rows: list[Row] = [{"month": ox.Literal(m), "source": ox.Literal(s), "operation": ox.Literal(o),
                            "changes": ox.Literal(str(n), datatype=_INTEGER)}
                           for (m, s, o), n in sorted(items)]
        return rows


_TERMS: dict[str, Term] = {}


def _key(term: Term) -> str:
    """Terms kept as strings (IRIs bare, others in N-Triples form) and found again by :func:`_term`."""
    key = term.value if isinstance(term, ox.NamedNode) else str(term)
    _TERMS.setdefault(key, term)
    return key


def _term(key: str) -> Term:
    return _TERMS.get(key) or ox.NamedNode(key)


def _node(iri: str) -> ox.NamedNode:
    return ox.NamedNode(iri)


def _density(count: int, population: ox.Literal) -> ox.Literal | None:
    """``ROUND(?entities * 100000000 / ?p) / 10000`` (SPARQL rounds halves up)."""
    p = number(population)
    if not p:
        return None
    rounded = (Decimal(count * 100000000) / p + Decimal("0.5")).to_integral_value(rounding=ROUND_FLOOR)
    return ox.Literal(str((rounded / 10000).normalize()), datatype=_DECIMAL)


def count_of(row: Row) -> int:
    return int(row["entities"].value)

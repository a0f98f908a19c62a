"""Identity across sources: is a record new to the hub, or a thing it already knows from elsewhere?

Runs on records about to create an entity. A strong match (same web address, or an explicit
``owl:sameAs``) links the record to the existing entity at once; a weaker one (same name in the
same postal code or town, or the same name alone) creates the entity as usual and puts the pair
on a review list: a person accepts or rejects it, nothing is merged on a guess.
"""

from __future__ import annotations

import dataclasses
import re
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from hub.errors import NotFound
from hub.iris import graph_iri
from hub.meta.candidates import Candidate, candidate_statements, forget_candidate, list_candidates
from hub.meta.provenance import holders, others_hold_records, stored_records
from hub.meta.syncstate import SyncState
from hub.pipeline.ingest import Ingestor
from hub.records import MetaUpdate, Record
from hub.store.base import Store
from hub.vocab import META_GRAPH, MLG, OWL_SAME_AS, PROV, RDF_TYPE, term

STRONG = 1.0


@dataclass(frozen=True)
class Match:
    entity: str
    confidence: float
    reason: str


def normal_name(name: str) -> str:
    """Case, accents and punctuation do not make two names different."""
    plain = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().casefold()
    return " ".join(re.sub(r"[^a-z0-9]+", " ", plain).split())


def _values(record: Record, entity: str, prop: str) -> list[str]:
    return [
        str(t.object.value)  # type: ignore[union-attr]
        for t in record.triples
        if str(t.subject) == f"<{entity}>" and t.predicate.value == MLG + prop
    ]


def _narrowing(names: list[str], urls: list[str]) -> list[str]:
    """Tests that let the store skip entities that cannot match: the same web address, or a name
    sharing the record's longest word (case aside). The exact comparison follows in Python."""
    words = sorted({w for n in names for w in re.split(r"[^\w]+", n.casefold()) if len(w) > 1}, key=len)
    tests = [f"CONTAINS(LCASE(STR(?name)), {ox.Literal(words[-1])})"] if words else []
    # with and without the final "/": the comparison that follows ignores it too
    tests += [f"STR(?url) IN ({ox.Literal(u.rstrip('/'))}, {ox.Literal(u.rstrip('/') + '/')})" for u in urls]
    return tests


@dataclass(frozen=True)
class _Known:
    """An entity of the store that a new record may be."""

    entity: str
    cls: str
    source: str
    name: str
    url: str | None
    postal_code: str | None
    town: str | None


def _known(store: Store, records: list[Record]) -> list[_Known]:
    """One query for a whole batch: the entities any of its records may match."""
    tests: list[str] = []
    classes: set[str] = set()
    for record in records:
        subject = record.entity()
        if subject is None:
            continue
        classes |= {
            str(t.object)
            for t in record.triples
            if t.subject == subject and t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode)
        }
        tests += _narrowing(_values(record, subject.value, "name"), _values(record, subject.value, "url"))
    if not tests or not classes:
        return []
    # a record never matches its own source: with one source in the batch (a harvest), its
    # records already stored are left out by the store, not row by row here
    sources = {r.source for r in records}
    own = f"FILTER(?src != {ox.Literal(sources.pop())})" if len(sources) == 1 else ""
    rows = store.select(
        f"""SELECT DISTINCT ?e ?t ?src ?name ?url ?cp ?town WHERE {{
        GRAPH <{META_GRAPH}> {{ ?g <{term("source")}> ?src {own} }}
        GRAPH ?g {{ ?e a ?t ; <{MLG}name> ?name . VALUES ?t {{ {" ".join(sorted(classes))} }}
            FILTER({" || ".join(dict.fromkeys(tests))})
            OPTIONAL {{ ?e <{MLG}url> ?url }} OPTIONAL {{ ?e <{MLG}postalCode> ?cp }}
            OPTIONAL {{ ?e <{MLG}locality> ?town }} }} }}"""
    )

    def opt(row: dict[str, ox.NamedNode | ox.BlankNode | ox.Literal], key: str) -> str | None:
        return row[key].value if key in row else None

    return [
        _Known(
            r["e"].value,
            r["t"].value,
            r["src"].value,
            r["name"].value,
            opt(r, "url"),
            opt(r, "cp"),
            opt(r, "town"),
        )
        for r in rows
    ]


def _same_as(record: Record) -> list[str]:
    subject = record.entity()
    return [
        t.object.value
        for t in record.triples
        if t.subject == subject and t.predicate.value == OWL_SAME_AS and isinstance(t.object, ox.NamedNode)
    ]


Declared = dict[str, set[tuple[str, str]]]


def _is_iri(text: str) -> bool:
    try:
        ox.NamedNode(text)
    except ValueError:
        return False
    return True


def _declared(store: Store, records: list[Record]) -> Declared:
    """Declared identities, by address, with (entity, source): the batch's ``owl:sameAs`` targets
    that the hub knows (a hub entity, or the address of a record of another source: a wiki page
    that names the platform element it documents), and stored entities that declare themselves
    the same as a batch record's address (the element read after the page). Any other target
    (Wikidata, a web page) says nothing about identity."""
    targets = sorted({iri for r in records for iri in _same_as(r)})
    addresses = sorted({r.source_url for r in records if r.source_url and _is_iri(r.source_url)})
    if not targets and not addresses:
        return {}
    meta, named = f"GRAPH <{META_GRAPH}>", " ".join(str(ox.NamedNode(u)) for u in targets)
    parts = [
        f"""VALUES ?u {{ {named} }}
            {meta} {{ ?g a <{term("Record")}> ; <{term("entity")}> ?u ; <{term("source")}> ?src .
                BIND(?u AS ?e) }}""",
        f"""VALUES ?u {{ {named} }}
            {meta} {{ ?g a <{term("Record")}> ; <{PROV}hadPrimarySource> ?u ; <{term("entity")}> ?e ;
                <{term("source")}> ?src }}""",
    ] if targets else []
    if addresses:
        parts.append(
            f"""VALUES ?u {{ {" ".join(str(ox.NamedNode(u)) for u in addresses)} }}
            GRAPH ?g {{ ?e <{OWL_SAME_AS}> ?u }} {meta} {{ ?g <{term("source")}> ?src }}"""
        )
    rows = store.select(f"SELECT ?u ?e ?src WHERE {{ {' UNION '.join(f'{{ {p} }}' for p in parts)} }}")
    found: Declared = {}
    for r in rows:
        found.setdefault(r["u"].value, set()).add((r["e"].value, r["src"].value))
    return found


def find_matches(
    store: Store, record: Record, known: list[_Known] | None = None, declared: Declared | None = None
) -> list[Match]:
    """Existing entities of the record's class, from other sources, that may be the same thing."""
    subject = record.entity()
    if subject is None:
        return []
    entity = subject.value
    declared = _declared(store, [record]) if declared is None else declared
    same_as = {
        other
        for iri in [*_same_as(record), record.source_url]
        for other, source in declared.get(iri or "", ())
        if source != record.source and other != entity
    }
    classes = {
        t.object.value
        for t in record.triples
        if t.subject == subject and t.predicate.value == RDF_TYPE and isinstance(t.object, ox.NamedNode)
    }
    names = {normal_name(n) for n in _values(record, entity, "name")}
    urls = {u.rstrip("/") for u in _values(record, entity, "url")}
    codes = set(_values(record, entity, "postalCode"))
    towns = {normal_name(t) for t in _values(record, entity, "locality")}
    best: dict[str, Match] = {e: Match(e, STRONG, "declared the same (owl:sameAs)") for e in same_as}
    for row in known if known is not None else _known(store, [record]):
        if row.cls not in classes or row.source == record.source or row.entity == entity:
            continue
        if row.url is not None and row.url.rstrip("/") in urls:
            match = Match(row.entity, STRONG, f"same web address {row.url}")
        elif normal_name(row.name) not in names:
            continue
        elif (row.postal_code is not None and row.postal_code in codes) or (
            row.town is not None and normal_name(row.town) in towns
        ):
            match = Match(row.entity, 0.8, f"same name {row.name!r} in the same postal code or town")
        else:
            match = Match(row.entity, 0.5, f"same name {row.name!r}")
        if row.entity not in best or best[row.entity].confidence < match.confidence:
            best[row.entity] = match
    return sorted(best.values(), key=lambda m: -m.confidence)


def relabel(record: Record, old: str, new: str) -> Record:
    """The record speaking of ``new`` where it spoke of ``old``."""

    def swap(term_: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> ox.NamedNode:
        return ox.NamedNode(new) if isinstance(term_, ox.NamedNode) and term_.value == old else term_  # type: ignore[return-value]

    triples = tuple(ox.Triple(swap(t.subject), t.predicate, swap(t.object)) for t in record.triples)
    return dataclasses.replace(record, triples=triples)


Alone = Callable[[str], bool]
"""Whether a source is the only one holding records (nothing to match its records against)."""


class LoneSource:
    """:data:`Alone` for the batches of one read. The store's answer scans every record the hub
    holds (tens of ms at 10,000 records), which a harvest would pay at each of its batches: it is
    asked once, and again only when someone else committed since (the ingestor numbers every
    change of its store, so a record of another source cannot appear without the numbering
    moving past what this read's own commits account for)."""

    def __init__(self, store: Store, position: Callable[[], int | None]) -> None:
        self.store = store
        self.position = position  # the ingestor's next change-log sequence (None: not known yet)
        self._answers: dict[str, bool] = {}
        self._mark: int | None = None

    def __call__(self, source: str) -> bool:
        if self._mark is None or self.position() != self._mark:
            self._answers.clear()
            self._mark = self.position()
        if source not in self._answers:
            self._answers[source] = not others_hold_records(self.store, source)
        return self._answers[source]

    def committed(self, changes: int) -> None:
        """This read committed a batch that logged ``changes`` entries: they are accounted for."""
        if self._mark is not None:
            self._mark += changes


def reconcile(
    store: Store, records: list[Record], base: str, alone: Alone | None = None
) -> tuple[list[Record], list[MetaUpdate]]:
    """Link new records to the entities they strongly match; list weaker matches for review.
    ``alone`` (a :class:`LoneSource` kept over a read) answers the lone-source question from
    memory; without it the store is asked."""
    # records from peer hubs keep their origin's identity: matching is for first-hand sources
    fresh = [
        r for r in records if not r.deleted and not r.error and r.origin is None and r.entity() is not None
    ]
    sources = {r.source for r in fresh}
    if not fresh:
        return list(records), []
    lone = next(iter(sources)) if len(sources) == 1 else None
    if alone is not None and lone is not None and alone(lone):
        return list(records), []  # nothing to match against: not even the stored hashes are read
    graphs = {id(r): r.graph_iri(base) for r in fresh}
    stored = stored_records(store, graphs.values())  # an index look-up per graph
    new = [r for r in fresh if graphs[id(r)] not in stored]
    # Nothing new (a source read again: only known records), or nothing to match against (a first
    # harvest, a lone source). Without ``alone``, new records are looked at first: the lone-source
    # question scans every record the hub holds, which a re-read of 10,000 records would ask 50 times.
    if not new or (alone is None and lone is not None and not others_hold_records(store, lone)):
        return list(records), []
    known, declared = _known(store, new), _declared(store, new)
    out: list[Record] = []
    state: list[MetaUpdate] = []
    for record in records:
        subject = record.entity()
        graph = graphs.get(id(record))  # a record of the batch not fresh has none
        if graph is None or graph in stored or subject is None:
            out.append(record)
            continue
        matches = find_matches(store, record, known, declared)
        strong = [m for m in matches if m.confidence >= STRONG]
        if len(strong) == 1:
            out.append(relabel(record, subject.value, strong[0].entity))
            # every side of the pair starts from what it holds now: nothing is copied over
            holding = [(record.source, record.source_id), *holders(store, strong[0].entity)]
            state += [SyncState(src, strong[0].entity, sid, baseline=True).update() for src, sid in holding]
            continue
        out.append(record)
        state += [candidate_update(record, subject.value, m) for m in matches]
    return out, state


def candidate_update(record: Record, new_entity: str, match: Match) -> MetaUpdate:
    """The review-list entry for a weak match of ``record``'s new entity."""
    return candidate_statements(
        record.source, record.source_id, new_entity, match.entity, match.confidence, match.reason
    )


def _candidate(ingestor: Ingestor, candidate_id: str) -> tuple[Candidate, str]:
    """The pair waiting for a person, and the graph of its new record."""
    found = list_candidates(ingestor.store, candidate_id)
    if not found:
        raise NotFound(f"no match candidate {candidate_id[:80]!r} (see `maillage matches list`)")
    return found[0], graph_iri(ingestor.base, found[0].source, found[0].source_id)


def accept(ingestor: Ingestor, candidate_id: str) -> Candidate:
    """The new entity is the existing one: its record is relabelled onto it (one change logged)."""
    pair, graph = _candidate(ingestor, candidate_id)
    triples = tuple(ingestor.store.graph_triples(graph))
    record = relabel(
        Record(pair.source, pair.source_id, triples, connector="matching"), pair.new_entity, pair.existing
    )
    holding = [(pair.source, pair.source_id), *holders(ingestor.store, pair.existing)]
    state = [SyncState(src, pair.existing, sid, baseline=True).update() for src, sid in holding]
    ingestor.ingest_batch([record], None, [*state, forget_candidate(candidate_id)])
    return pair


def reject(ingestor: Ingestor, candidate_id: str) -> Candidate:
    """Different things: each lives on its own, and is now sent to the other sources (neither
    was while the pair waited)."""
    pair, graph = _candidate(ingestor, candidate_id)
    holding = holders(ingestor.store, pair.existing)
    existing = [(pair.existing, graph_iri(ingestor.base, src, sid)) for src, sid in holding[:1]]
    forget = forget_candidate(candidate_id)
    ingestor.touch([(pair.new_entity, graph), *existing], "matching", [forget])
    return pair

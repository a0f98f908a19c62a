"""What the meta graph holds about one entity, and the note an erasure leaves behind.

``maillage forget`` (:mod:`hub.pipeline.forget`) must find everything the hub kept about a
person: the record graphs whose entity it is, the quarantine entries that carry it, the
working state of the sync and of the review (sync states, conflicts, match candidates), and the
change-log entries that kept a copy of its records. The readers are here, beside the layout
they read (:mod:`hub.meta`), so that a new kind of subject about an entity is one place to add.

The erasure itself is logged as an ``mlg:Erasure`` subject that says when and how much, never
whom: a log of erasures that named the person would keep what it erased.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from hub.store.base import Store
from hub.store.transaction import Node, Transaction, integer, iri, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

ERASURE = term("Erasure")
ERASURE_PREFIX = "urn:maillage:erasure:"
REVIEW_KINDS = ("SyncState", "Conflict", "MatchCandidate", "PlacementCandidate")
"""Kinds of working state that name an entity (``mlg:entity``, or ``mlg:sameAsCandidate`` for a
candidate pair): all of it describes the person, none of it is needed once the person is gone."""


@dataclass(frozen=True)
class EntityRecord:
    """A record graph whose main entity is the one being erased."""

    graph: str
    source: str
    source_id: str


def entity_records(store: Store, entity: str) -> list[EntityRecord]:
    """Every stored record graph whose entity is ``entity``, in graph order."""
    rows = store.select(
        f"""SELECT ?g ?src ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
            <{term("entity")}> {ox.NamedNode(entity)} ;
            <{term("source")}> ?src ; <{term("sourceId")}> ?id }} }} ORDER BY ?g"""
    )
    return [EntityRecord(r["g"].value, r["src"].value, r["id"].value) for r in rows]


def quarantine_mentioning(store: Store, entity: str) -> list[str]:
    """Quarantine entries whose payload or report names ``entity`` (as an N-Triples IRI, so
    that ``…/jeanne`` does not match ``…/jeanne2``)."""
    needle = ox.Literal(str(ox.NamedNode(entity)))
    rows = store.select(
        f"""SELECT DISTINCT ?q WHERE {{ GRAPH <{META_GRAPH}> {{
            ?q a <{term("QuarantinedRecord")}> .
            {{ ?q <{term("payload")}> ?text }} UNION {{ ?q <{term("report")}> ?text }}
            FILTER(CONTAINS(?text, {needle})) }} }}"""
    )
    return [r["q"].value for r in rows]


def review_state_of(store: Store, entity: str) -> list[str]:
    """Sync states, conflicts and match candidates about ``entity``."""
    kinds = " ".join(f"<{term(k)}>" for k in REVIEW_KINDS)
    node = ox.NamedNode(entity)
    rows = store.select(
        f"""SELECT DISTINCT ?s WHERE {{ GRAPH <{META_GRAPH}> {{
            VALUES ?kind {{ {kinds} }} ?s a ?kind .
            {{ ?s <{term("entity")}> {node} }} UNION {{ ?s <{term("sameAsCandidate")}> {node} }}
            }} }}"""
    )
    return [r["s"].value for r in rows]


def log_erasure(tx: Transaction, when: datetime, records: int, quarantined: int,
                scrubbed: int, first_sequence: int | None) -> str:
    """The trace of an erasure: its time, what it removed (counts) and the sequence of its first
    tombstone in the change log, so that an operator can show that it happened and when,
    without the hub keeping who it was."""
    subject = ERASURE_PREFIX + uuid.uuid4().hex
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(ERASURE)),
        (PROV + "atTime", timestamp(when)),
        (term("recordsRemoved"), integer(records)),
        (term("quarantineRemoved"), integer(quarantined)),
        (term("statesScrubbed"), integer(scrubbed)),
    ]
    if first_sequence is not None:
        # not mlg:sequence: that predicate numbers the change log (hub.meta.changelog)
        statements.append((term("firstTombstone"), integer(first_sequence)))
    tx.add_meta(subject, statements)
    return subject


def erasure_times(store: Store) -> list[datetime]:
    """When erasures happened, oldest first (what an operator can show of them)."""
    rows = store.select(
        f"""SELECT ?t WHERE {{ GRAPH <{META_GRAPH}> {{ ?e a <{ERASURE}> ; <{PROV}atTime> ?t }} }}
        ORDER BY ?t"""
    )
    return [datetime.fromisoformat(r["t"].value) for r in rows]

"""Erasing a person: ``maillage forget IRI`` and ``POST /forget``.

A deletion through the Graph Store removes a record graph but leaves what the hub kept about it
elsewhere: earlier versions in the change log (``mlg:state``, published by ``/changes``), a
refused version in the quarantine, the working state of the sync and of the review. An erasure
removes all of it, for every record of the entity, in one transaction
(:mod:`hub.store.transaction`): a crash leaves either the person or no trace of them.

What stays: one tombstone per record graph in the change log (an ``as:Delete`` member written
by ``forget``: peer hubs follow it and drop their copy, like any deletion), the earlier entries
without their copy of the record (identifiers and times only: the sequence keeps no gap), and
an ``mlg:Erasure`` note with the time and the counts, never whom (:mod:`hub.meta.erasure`).
A source that still holds the person sends them again at its next sync: erase there too.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pyoxigraph as ox

from hub.errors import NotFound
from hub.meta.changelog import Change, append_change, entries_keeping_state, scrub_states
from hub.meta.erasure import (
    entity_records,
    log_erasure,
    quarantine_mentioning,
    review_state_of,
)
from hub.meta.public import companion_graph
from hub.pipeline.ingest import Ingestor
from hub.pipeline.place import placing_graph
from hub.records import now
from hub.store.transaction import Transaction

WRITER = "forget"
"""``writtenBy`` of the tombstones: the feed says the deletion is an erasure, not the source's."""


@dataclass
class Erasure:
    """What an erasure removed (counts and tombstones: nothing about the person)."""

    entity: str
    records: int = 0
    quarantined: int = 0
    review_state: int = 0
    scrubbed: int = 0
    tombstones: list[Change] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "entity": self.entity,
            "records_removed": self.records,
            "quarantine_removed": self.quarantined,
            "review_state_removed": self.review_state,
            "change_log_states_scrubbed": self.scrubbed,
            "tombstones": [c.as_dict() for c in self.tombstones],
        }


def check_iri(entity: str) -> str:
    """The IRI, or :class:`NotFound` for text that names nothing (never put into a query)."""
    try:
        return ox.NamedNode(entity.strip()).value
    except ValueError:
        raise NotFound(f"{entity[:200]!r} is not an IRI: nothing to forget") from None


def forget(ingestor: Ingestor, entity: str) -> Erasure:
    """Erase ``entity`` from the store; :class:`NotFound` when the hub holds nothing about it.

    The caller holds the hub's write lock when there is one (the API), so no write reads the
    entity between the plan and the commit."""
    entity = check_iri(entity)
    store = ingestor.store
    erasure = Erasure(entity)

    def plan(tx: Transaction, sequence: int) -> int:
        records = entity_records(store, entity)
        quarantine = quarantine_mentioning(store, entity)
        review = review_state_of(store, entity)
        if not (records or quarantine or review):
            raise NotFound(f"the hub holds nothing about <{entity}>")
        entries = entries_keeping_state(store, entity, [r.graph for r in records])
        erasure.scrubbed = scrub_states(tx, store, entries)
        first = sequence if records else None
        for record in records:
            tx.drop_graph(record.graph)
            tx.drop_graph(companion_graph(record.graph))
            tx.drop_graph(placing_graph(ingestor.base, record.graph))
            tx.clear_meta(record.graph)
            change = Change(sequence, now(), entity, record.graph, "delete", record.source,
                            WRITER, source_id=record.source_id)
            append_change(tx, ingestor.base, change)
            erasure.tombstones.append(change)
            sequence += 1
        for subject in (*quarantine, *review):
            tx.clear_meta(subject)
        erasure.records, erasure.quarantined = len(records), len(quarantine)
        erasure.review_state = len(review)
        log_erasure(tx, now(), erasure.records, erasure.quarantined, erasure.scrubbed, first)
        return sequence

    ingestor.commit_planned(plan)
    return erasure

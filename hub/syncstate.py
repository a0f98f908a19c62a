"""Sync state per (source, entity): which page or object of the source holds the entity, and the
projection the hub last pushed there. It lives in the meta graph and commits with the data.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field

import pyoxigraph as ox

from hub.records import MetaUpdate, now
from hub.store.base import Store
from hub.transaction import Node, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

OVERRIDE = "__value__:"
"""A ``pushed`` key prefix: ``__value__:<hub property>`` = a value a person chose to settle a
conflict, written to the source whatever it holds (see hub.conflicts.resolve)."""


@dataclass
class SyncState:
    source: str
    entity: str
    source_id: str
    pushed: dict[str, str] = field(default_factory=dict)

    @property
    def subject(self) -> str:
        return state_iri(self.source, self.entity)

    def update(self) -> MetaUpdate:
        statements: list[tuple[str, Node]] = [
            (RDF_TYPE, iri(term("SyncState"))),
            (term("source"), text(self.source)),
            (term("entity"), iri(self.entity)),
            (term("sourceId"), text(self.source_id)),
            (term("pushed"), text(json.dumps(self.pushed, ensure_ascii=False, sort_keys=True))),
            (PROV + "generatedAtTime", timestamp(now())),
        ]
        return self.subject, statements


def state_iri(source: str, entity: str) -> str:
    digest = hashlib.sha256(f"{source}\n{entity}".encode()).hexdigest()[:24]
    return f"urn:maillage:sync:{digest}"


def _rows(store: Store, source: str, filter_values: str) -> list[SyncState]:
    rows = store.select(
        f"""SELECT ?e ?id ?pushed WHERE {{ GRAPH <{META_GRAPH}> {{
            ?s a <{term("SyncState")}> ; <{term("source")}> {ox.Literal(source)} ;
               <{term("entity")}> ?e ; <{term("sourceId")}> ?id ; <{term("pushed")}> ?pushed .
            {filter_values} }} }}"""
    )
    return [SyncState(source, r["e"].value, r["id"].value, json.loads(r["pushed"].value)) for r in rows]


def states_by_source_id(store: Store, source: str, source_ids: list[str]) -> dict[str, SyncState]:
    if not source_ids:
        return {}
    values = " ".join(str(ox.Literal(i)) for i in source_ids)
    return {s.source_id: s for s in _rows(store, source, f"VALUES ?id {{ {values} }}")}


def state_for_entity(store: Store, source: str, entity: str) -> SyncState | None:
    found = _rows(store, source, f"VALUES ?e {{ {ox.NamedNode(entity)} }}")
    return found[0] if found else None


def states_for_entity(store: Store, entity: str) -> list[SyncState]:
    """The entity's sync state in every source that holds it."""
    rows = store.select(
        f"""SELECT ?src ?id ?pushed WHERE {{ GRAPH <{META_GRAPH}> {{
            ?s a <{term('SyncState')}> ; <{term('source')}> ?src ; <{term('entity')}> {ox.NamedNode(entity)} ;
               <{term('sourceId')}> ?id ; <{term('pushed')}> ?pushed }} }}"""
    )
    return [SyncState(r["src"].value, entity, r["id"].value, json.loads(r["pushed"].value)) for r in rows]

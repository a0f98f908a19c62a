"""Sync state per (source, entity): which page or object of the source holds the entity, the
projection the hub last pushed there, and what a person or the matcher asked of the next push
(typed fields: ``baseline``, ``overrides``, ``forced``). It lives in the meta graph and commits
with the data it describes, so a crash never separates a write from its record.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from hub.records import MetaUpdate, now
from hub.store.base import Store
from hub.store.transaction import Node, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

LEGACY_OVERRIDE = "__value__:"
LEGACY_BASELINE = "__baseline__"
LEGACY_FORCE = "\u2063maillage: push again\u2063"
"""How states written before the typed fields hid them in ``pushed``: a key prefix for a value a
person chose, a key for a pair just linked, a value no source holds for a field to push again.
Still read (and rewritten typed at the entity's next push); no longer written."""


@dataclass
class SyncState:
    """Where the entity lives in the source, and what the hub last did there."""

    source: str
    entity: str
    source_id: str
    pushed: dict[str, str] = field(default_factory=dict)
    """The projection the hub last wrote (or found settled) there: the merge's "pushed"."""
    baseline: bool = False
    """The pair was just linked (``hub.pipeline.match``): what each side holds now is the starting
    point, nothing is copied over at the next push."""
    overrides: dict[str, str] = field(default_factory=dict)
    """Hub property → a value a person chose to settle a conflict, written at the next push
    whatever the source holds (``maillage conflicts resolve --keep value``)."""
    forced: set[str] = field(default_factory=set)
    """Fields whose last pushed value is forgotten, so the hub's value is written again
    (``maillage conflicts resolve --keep hub``)."""

    @property
    def subject(self) -> str:
        return state_iri(self.source, self.entity)

    def merge_base(self) -> dict[str, str]:
        """``pushed`` as the three-way merge must see it: forced fields count as never written."""
        return {k: v for k, v in self.pushed.items() if k not in self.forced}

    def update(self) -> MetaUpdate:
        statements: list[tuple[str, Node]] = [
            (RDF_TYPE, iri(term("SyncState"))),
            (term("source"), text(self.source)),
            (term("entity"), iri(self.entity)),
            (term("sourceId"), text(self.source_id)),
            (term("pushed"), text(_json(self.pushed))),
            (PROV + "generatedAtTime", timestamp(now())),
        ]
        if self.baseline:
            statements.append((term("baseline"), text("true")))
        if self.overrides:
            statements.append((term("overrides"), text(_json(self.overrides))))
        if self.forced:
            statements.append((term("forced"), text(_json(sorted(self.forced)))))
        return self.subject, statements

    @classmethod
    def stored(
        cls,
        source: str,
        entity: str,
        source_id: str,
        pushed: str,
        baseline: str | None = None,
        overrides: str | None = None,
        forced: str | None = None,
    ) -> SyncState:
        """A state from its stored literals, reading the legacy keys of ``pushed`` too."""
        raw: dict[str, str] = json.loads(pushed)
        chosen: dict[str, str] = json.loads(overrides) if overrides else {}
        again: set[str] = set(json.loads(forced)) if forced else set()
        plain: dict[str, str] = {}
        linked = baseline == "true"
        for key, value in raw.items():
            if key == LEGACY_BASELINE:
                linked = True
            elif key.startswith(LEGACY_OVERRIDE):
                chosen.setdefault(key[len(LEGACY_OVERRIDE) :], value)
            elif value == LEGACY_FORCE:
                again.add(key)
            else:
                plain[key] = value
        return cls(source, entity, source_id, plain, linked, chosen, again)


def _json(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, sort_keys=True)


def state_iri(source: str, entity: str) -> str:
    digest = hashlib.sha256(f"{source}\n{entity}".encode()).hexdigest()[:24]
    return f"urn:maillage:sync:{digest}"


_OPTIONAL = f"""OPTIONAL {{ ?s <{term("baseline")}> ?baseline }}
    OPTIONAL {{ ?s <{term("overrides")}> ?overrides }} OPTIONAL {{ ?s <{term("forced")}> ?forced }}"""


def _state(source: str, entity: str, row: Mapping[str, Any]) -> SyncState:
    def value(name: str) -> str | None:
        return row[name].value if name in row else None

    return SyncState.stored(
        source, entity, row["id"].value, row["pushed"].value,
        value("baseline"), value("overrides"), value("forced"),
    )


def _rows(store: Store, source: str, filter_values: str) -> list[SyncState]:
    rows = store.select(
        f"""SELECT ?e ?id ?pushed ?baseline ?overrides ?forced WHERE {{ GRAPH <{META_GRAPH}> {{
            ?s a <{term("SyncState")}> ; <{term("source")}> {ox.Literal(source)} ;
               <{term("entity")}> ?e ; <{term("sourceId")}> ?id ; <{term("pushed")}> ?pushed .
            {filter_values} {_OPTIONAL} }} }}"""
    )
    return [_state(source, r["e"].value, r) for r in rows]


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
        f"""SELECT ?src ?id ?pushed ?baseline ?overrides ?forced WHERE {{ GRAPH <{META_GRAPH}> {{
            ?s a <{term('SyncState')}> ; <{term('source')}> ?src ; <{term('entity')}> {ox.NamedNode(entity)} ;
               <{term('sourceId')}> ?id ; <{term('pushed')}> ?pushed . {_OPTIONAL} }} }}"""
    )
    return [_state(r["src"].value, entity, r) for r in rows]

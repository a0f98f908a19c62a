"""Conflicts: a value changed both in the hub and in a source. The source's value was kept; a
person decides, with ``maillage conflicts resolve``, whether the hub's value should win after all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from hub.ingest import Ingestor
from hub.iris import graph_iri, is_review_id
from hub.records import MetaUpdate
from hub.store.base import Store
from hub.syncstate import OVERRIDE, state_for_entity, states_for_entity
from hub.vocab import META_GRAPH, PROV, term

PREFIX = "urn:maillage:conflict:"
RESOLVER = "conflict-resolution"
FORCE = "\u2063maillage: push again\u2063"
"""A pushed value no source holds, so the hub's value is pushed again (not U+0000: the sync state
lives in the meta graph, and XML answers cannot carry that character)."""


class ConflictError(Exception):
    """No such conflict, or it cannot be resolved as asked."""


@dataclass(frozen=True)
class Conflict:
    id: str
    source: str
    entity: str
    parameter: str
    hub_value: str
    source_value: str
    reason: str
    time: datetime
    prop: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id, "source": self.source, "entity": self.entity, "parameter": self.parameter,
            "hub_value": self.hub_value, "source_value": self.source_value, "reason": self.reason,
            "time": self.time.isoformat(),
        }


def list_conflicts(store: Store, source: str | None = None, conflict_id: str | None = None) -> list[Conflict]:
    filters = f"FILTER(?src = {ox.Literal(source)})" if source else ""
    if conflict_id:
        if not is_review_id(conflict_id):
            return []  # not an id the hub makes: it names no conflict
        filters += f" FILTER(?c = {ox.NamedNode(PREFIX + conflict_id)})"
    rows = store.select(
        f"""SELECT ?c ?src ?e ?param ?hub ?val ?reason ?t ?prop WHERE {{ GRAPH <{META_GRAPH}> {{
            ?c a <{term('Conflict')}> ; <{term('source')}> ?src ; <{term('entity')}> ?e ;
               <{term('parameter')}> ?param ; <{term('hubValue')}> ?hub ; <{term('sourceValue')}> ?val ;
               <{term('reason')}> ?reason ; <{PROV}generatedAtTime> ?t .
            OPTIONAL {{ ?c <{term('hubProperty')}> ?prop }} {filters} }} }}
           ORDER BY DESC(?t) ?c"""
    )
    return [
        Conflict(
            id=r["c"].value.removeprefix(PREFIX), source=r["src"].value, entity=r["e"].value,
            parameter=r["param"].value, hub_value=r["hub"].value, source_value=r["val"].value,
            reason=r["reason"].value, time=datetime.fromisoformat(r["t"].value),
            prop=r["prop"].value if "prop" in r else None,
        )
        for r in rows
    ]


def resolve(ingestor: Ingestor, conflict_id: str, keep: str, value: str | None = None) -> Conflict:
    """``keep="source"``: forget the conflict. ``keep="hub"``: push the hub's value at next sync.
    ``keep="value"``: the next sync writes ``value`` to every source that holds the entity."""
    found = list_conflicts(ingestor.store, conflict_id=conflict_id)
    if not found:
        raise ConflictError(f"no conflict {conflict_id[:80]!r} (see `maillage conflicts`)")
    conflict = found[0]
    forget: MetaUpdate = (PREFIX + conflict_id, [])
    if keep == "source":
        ingestor.ingest_batch([], None, [forget])
    elif keep == "hub":
        state = state_for_entity(ingestor.store, conflict.source, conflict.entity)
        if state is None:
            raise ConflictError(f"no sync state for {conflict.entity} in {conflict.source}")
        state.pushed[conflict.parameter] = FORCE
        graph = graph_iri(ingestor.base, conflict.source, state.source_id)
        ingestor.touch([(conflict.entity, graph)], RESOLVER, [forget, state.update()])
    elif keep == "value":
        if not value or conflict.prop is None:
            raise ConflictError("give the value to write (and the conflict must name its hub property)")
        states = states_for_entity(ingestor.store, conflict.entity)
        for state in states:
            state.pushed[OVERRIDE + conflict.prop] = value
        graph = graph_iri(ingestor.base, conflict.source, states[0].source_id if states else conflict.entity)
        ingestor.touch([(conflict.entity, graph)], RESOLVER, [forget, *(s.update() for s in states)])
    else:
        raise ConflictError("keep must be 'source', 'hub' or 'value'")
    return conflict

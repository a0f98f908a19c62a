"""Conflict records: a value changed both in the hub and in a source, and the source's was kept.

One record per (source, entity, field), so a conflict seen again replaces itself instead of
piling up. Resolving one touches the sync state as well, so it belongs to the sync engine
(``hub.conflicts.resolve`` for now); here is only what a conflict is, how it is written, listed
and which hub properties it holds back.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from hub.iris import is_review_id
from hub.records import MetaUpdate, Node, now
from hub.store.base import Store
from hub.store.transaction import iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

PREFIX = "urn:maillage:conflict:"


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


def conflict_update(
    source: str,
    entity: str,
    field: str,
    hub_value: str,
    source_value: str,
    reason: str,
    prop: str | None = None,
) -> MetaUpdate:
    """A conflict record for the meta graph, one per (source, entity, field); ``prop`` is the hub
    property behind the field, which no connector writes anywhere until a person decides."""
    digest = hashlib.sha256(f"{source}\n{entity}\n{field}".encode()).hexdigest()[:24]
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(term("Conflict"))),
        (term("source"), text(source)),
        (term("entity"), iri(entity)),
        (term("parameter"), text(field)),
        (term("hubValue"), text(hub_value)),
        (term("sourceValue"), text(source_value)),
        (term("reason"), text(reason)),
        (PROV + "generatedAtTime", timestamp(now())),
    ]
    if prop:
        statements.append((term("hubProperty"), text(prop)))
    return PREFIX + digest, statements


def forget_conflict(conflict_id: str) -> MetaUpdate:
    """The update that removes a conflict record (once a person has decided)."""
    return PREFIX + conflict_id, []


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


def blocked_properties(store: Store, entity: str) -> set[str]:
    """Hub properties of the entity with an open conflict in any source: no connector writes
    them until a person decides."""
    rows = store.select(
        f"""SELECT DISTINCT ?p WHERE {{ GRAPH <{META_GRAPH}> {{ ?c a <{term("Conflict")}> ;
            <{term("entity")}> {ox.NamedNode(entity)} ; <{term("hubProperty")}> ?p }} }}"""
    )
    return {r["p"].value for r in rows}

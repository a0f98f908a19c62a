"""The three-way merge every writing connector uses, and the conflict records it leaves.

Values are compared as *projections*: one normalised string per field of the source. Per field,
the hub's value is written only where the source still holds what the hub last saw there; where
a person changed the same field meanwhile, their value stays and a conflict is recorded.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass

from hub.records import MetaUpdate, now
from hub.store.base import Store
from hub.syncstate import OVERRIDE
from hub.transaction import Node, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

Projection = dict[str, str]


@dataclass
class Plan:
    updates: dict[str, str]
    conflicts: list[tuple[str, str, str]]  # field, hub value, source value


def split_overrides(pushed: Projection) -> tuple[Projection, dict[str, str]]:
    """The pushed projection without the chosen values, and the chosen values by hub property."""
    plain = {k: v for k, v in pushed.items() if not k.startswith(OVERRIDE)}
    chosen = {k[len(OVERRIDE) :]: v for k, v in pushed.items() if k.startswith(OVERRIDE)}
    return plain, chosen


def settled(hub: Projection, pushed: Projection, base: Projection) -> bool:
    """Whether every hub value is one the hub already wrote or read there: then :func:`plan`
    finds nothing to do whatever the source holds now, and the source need not be read."""
    return all(value in (pushed.get(field), base.get(field)) for field, value in hub.items())


def plan(hub: Projection, pushed: Projection, base: Projection, current: Projection) -> Plan:
    """``hub``: what other sources say now; ``pushed``: what the hub last wrote; ``base``: the
    source as the hub last read it; ``current``: the source now. Absent hub values never erase."""
    result = Plan({}, [])
    for field, value in hub.items():
        if value in (pushed.get(field), current.get(field), base.get(field)):
            # unchanged in the hub, already there, or the source's own value coming back
            continue
        if current.get(field) == base.get(field):
            result.updates[field] = value
        else:
            result.conflicts.append((field, value, current.get(field, "")))
    return result


def conflict(
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
    return f"urn:maillage:conflict:{digest}", statements


def blocked_properties(store: Store, entity: str) -> set[str]:
    """Hub properties of the entity with an open conflict in any source."""
    rows = store.select(
        f"""SELECT DISTINCT ?p WHERE {{ GRAPH <{META_GRAPH}> {{ ?c a <{term("Conflict")}> ;
            <{term("entity")}> <{entity}> ; <{term("hubProperty")}> ?p }} }}"""
    )
    return {r["p"].value for r in rows}

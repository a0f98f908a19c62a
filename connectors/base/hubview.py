"""What a writing connector asks the store about an entity: its classes, where it lives in a
source, and its triples split between that source's graph and everyone else's."""

from __future__ import annotations

import pyoxigraph as ox

from hub.store.base import Store
from hub.vocab import META_GRAPH, MLG, RDF_TYPE, term


def hub_classes(store: Store, entity: str) -> list[str]:
    """Local names of the hub classes the entity has."""
    rows = store.select(f"SELECT DISTINCT ?t WHERE {{ <{entity}> <{RDF_TYPE}> ?t }}")
    return [r["t"].value[len(MLG) :] for r in rows if r["t"].value.startswith(MLG)]


def entity_triples(store: Store, entity: str, source: str, *, other_sources: bool) -> list[ox.Triple]:
    """The entity's statements from the graphs of ``source`` or, with ``other_sources``, from all
    the other sources' graphs."""
    op = "!=" if other_sources else "="
    rows = store.select(
        f"""SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{entity}> ?p ?o }}
            GRAPH <{META_GRAPH}> {{ ?g <{term("source")}> ?src }}
            FILTER(?src {op} {ox.Literal(source)}) }}"""
    )
    subject = ox.NamedNode(entity)
    return [ox.Triple(subject, r["p"], r["o"]) for r in rows]  # type: ignore[arg-type]


def source_id_of(store: Store, entity: str, source: str) -> str | None:
    """The id, in ``source``, of the record that holds the entity (None if it has none there)."""
    rows = store.select(
        f"""SELECT ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g <{term("entity")}> <{entity}> ;
            <{term("source")}> {ox.Literal(source)} ; <{term("sourceId")}> ?id }} }}"""
    )
    return rows[0]["id"].value if rows else None


def deleted_from(store: Store, entity: str, source: str) -> bool:
    """Whether ``source`` once held the entity and deleted it: a person removed it there, and a
    writer does not bring it back (the change log keeps every deletion)."""
    return store.ask(
        f"""ASK {{ GRAPH <{META_GRAPH}> {{ ?c <{term("entity")}> <{entity}> ;
            <{term("source")}> {ox.Literal(source)} ; <{term("operation")}> "delete" }} }}"""
    )

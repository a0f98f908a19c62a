"""The hub as a connector may see it (``HubView``), and what the outbound engine asks the store
about an entity: its classes, where it lives in a source, and its triples split between that
source's graph and everyone else's.

Connectors never query the store: the questions they need answered are the methods of
:class:`StoreView`, so the bookkeeping graph's layout stays known here and in ``hub.meta``.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from hub.meta.syncstate import state_for_entity, states_by_source_id
from hub.store.base import Store
from hub.vocab import META_GRAPH, MLG, PROV, RDF_TYPE, term


def _values(variable: str, terms: Iterable[ox.NamedNode | ox.Literal]) -> str:
    return f"VALUES ?{variable} {{ {' '.join(str(t) for t in terms)} }}"


class StoreView:
    """:class:`connectors.base.protocol.HubView` over a store, for one source."""

    def __init__(self, store: Store, source: str) -> None:
        self.store = store
        self.source = source
        self._source = ox.Literal(source)

    def source_ids(self, only: Iterable[str] | None = None) -> set[str]:
        wanted = list(only) if only is not None else None
        if wanted is not None and not wanted:
            return set()
        values = _values("id", map(ox.Literal, wanted)) if wanted is not None else ""
        rows = self.store.select(
            f"""SELECT ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
                <{term("source")}> {self._source} ; <{term("sourceId")}> ?id . {values} }} }}"""
        )
        return {r["id"].value for r in rows}

    def entities(self, source_ids: Iterable[str]) -> dict[str, str]:
        states = states_by_source_id(self.store, self.source, list(source_ids))
        return {sid: state.entity for sid, state in states.items()}

    def known(self, iris: Iterable[str]) -> set[str]:
        wanted = sorted(set(iris))
        found: set[str] = set()
        for start in range(0, len(wanted), 500):
            values = _values("s", map(ox.NamedNode, wanted[start : start + 500]))
            rows = self.store.select(f"SELECT DISTINCT ?s WHERE {{ {values} ?s a ?t }}")
            found |= {r["s"].value for r in rows}
        return found

    def source_id(self, entity: str) -> str | None:
        found = source_id_of(self.store, entity, self.source)
        if found is None:
            state = state_for_entity(self.store, self.source, entity)
            found = state.source_id if state else None
        return found

    def source_url(self, entity: str) -> str | None:
        rows = self.store.select(
            f"""SELECT ?url WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
                <{term("entity")}> {ox.NamedNode(entity)} ;
                <{term("source")}> {self._source} ; <{PROV}hadPrimarySource> ?url }} }} LIMIT 1"""
        )
        return rows[0]["url"].value if rows else None

    def name(self, entity: str) -> str | None:
        rows = self.store.select(f"SELECT ?name WHERE {{ <{entity}> <{MLG}name> ?name }} LIMIT 1")
        return rows[0]["name"].value if rows else None

    def classes(self, entity: str) -> list[str]:
        return hub_classes(self.store, entity)

    def ids_by_url(self, urls: Iterable[str]) -> dict[str, str]:
        wanted = list(urls)
        if not wanted:
            return {}
        rows = self.store.select(
            f"""SELECT ?url ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
                <{term("source")}> {self._source} ;
                <{term("sourceId")}> ?id ; <{PROV}hadPrimarySource> ?url .
                {_values("url", map(ox.NamedNode, wanted))} }} }}"""
        )
        return {r["url"].value: r["id"].value for r in rows}

    def graphs(self, source_ids: Iterable[str]) -> dict[str, list[str]]:
        wanted = list(source_ids)
        if not wanted:
            return {}
        rows = self.store.select(
            f"""SELECT ?id ?g WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
                <{term("source")}> {self._source} ;
                <{term("sourceId")}> ?id . {_values("id", map(ox.Literal, wanted))} }} }}"""
        )
        found: dict[str, list[str]] = {}
        for row in rows:
            found.setdefault(row["id"].value, []).append(row["g"].value)
        return found

    def territories(self, names: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """(territory class local name, name as written) → the territories of that class the hub
        holds under that name: one when it is unambiguous, several for homonymous communes."""
        wanted = sorted(set(names))
        found: dict[tuple[str, str], list[str]] = {}
        for start in range(0, len(wanted), 200):
            pairs = " ".join(
                f"({ox.NamedNode(MLG + cls)} {ox.Literal(name)} {ox.Literal(name, language='fr')})"
                for cls, name in wanted[start : start + 200]
            )
            rows = self.store.select(
                f"""SELECT DISTINCT ?c ?key ?t WHERE {{ VALUES (?c ?key ?fr) {{ {pairs} }}
                    {{ ?t a ?c ; <{MLG}name> ?key }} UNION {{ ?t a ?c ; <{MLG}name> ?fr }} }}"""
            )
            for row in rows:
                key = (row["c"].value.removeprefix(MLG), row["key"].value)
                found.setdefault(key, []).append(row["t"].value)
        return {key: sorted(iris) for key, iris in found.items()}


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
            GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ; <{term("source")}> ?src }}
            FILTER(?src {op} {ox.Literal(source)}) }}"""
    )
    subject = ox.NamedNode(entity)
    return [ox.Triple(subject, r["p"], r["o"]) for r in rows]  # type: ignore[arg-type]


def source_id_of(store: Store, entity: str, source: str) -> str | None:
    """The id, in ``source``, of the record that holds the entity (None if it has none there)."""
    rows = store.select(
        f"""SELECT ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
            <{term("entity")}> <{entity}> ;
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

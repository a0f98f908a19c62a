"""One entity as the REST API sees it: its IRI, its triples across record graphs, its provenance.

Paths: ``/api/{collection}/{id}`` names ``{base}{class}/{id}`` (``/api/projects/pni`` is
``{base}project/pni``); an entity with a foreign IRI is reached with ``?iri=<full IRI>`` (on the
item path, whose ``{id}`` is then ignored; ``_`` is the conventional placeholder).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from urllib.parse import quote

import pyoxigraph as ox

from hub.meta.public import public_graph_filter
from hub.pipeline.grid import GRID_CELL
from hub.store.base import Store
from hub.views.jsonld import node_key
from hub.vocab import COLLECTIONS, META_GRAPH, MLG, RDF_TYPE, class_iris

SAFE_PATH = "/%:@!$&'()*+,;=-._~"


def singular_prefix(base: str, collection: str) -> str:
    """``{base}project/`` for ``projects``: the namespace of the collection's hub IRIs."""
    return f"{base}{COLLECTIONS[collection].lower()}/"


def collection_of(types: list[str]) -> str | None:
    """The collection a set of class IRIs belongs to (the first in COLLECTIONS order)."""
    for name, local in COLLECTIONS.items():
        if set(class_iris(local)) & set(types):
            return name
    return None


def entity_path(base: str, collection: str, iri: str) -> str:
    """The API path of an entity (``?iri=`` form for IRIs outside the hub namespace)."""
    prefix = singular_prefix(base, collection)
    if iri.startswith(prefix) and len(iri) > len(prefix):
        return f"/api/{collection}/{quote(iri[len(prefix):], safe=SAFE_PATH)}"
    return f"/api/{collection}/_?iri={quote(iri, safe='')}"


@dataclass
class Entity:
    iri: str
    triples: list[ox.Triple]  # about the entity and its anonymous (genid) nodes, all graphs
    graphs: list[str]
    types: list[str]
    embedded: set[str] = field(default_factory=set)
    derived: set[tuple[str, str]] = field(default_factory=set)
    """(predicate, object) pairs the hub derived itself (its placing) and no record states: shown
    to readers, but never written back into a record by an edit."""

    def own_triples(self) -> list[ox.Triple]:
        """The triples records state, without the hub's derived ones: what an edit starts from."""
        return [
            t for t in self.triples
            if node_key(t.subject) != self.iri or (str(t.predicate), str(t.object)) not in self.derived
        ]

    def values(self, predicate: str) -> list[ox.NamedNode | ox.BlankNode | ox.Literal]:
        return [
            t.object  # type: ignore[misc]
            for t in self.triples
            if node_key(t.subject) == self.iri and t.predicate.value == predicate
        ]


def _genid_prefix(base: str) -> str:
    return f"{base}genid/"


def load_entity(store: Store, base: str, iri: str) -> Entity | None:
    """Everything the public record graphs say about ``iri`` (not the meta graph, not a
    person's contact data), or None."""
    node = str(ox.NamedNode(iri))
    rows = store.select(
        f"SELECT ?g ?p ?o WHERE {{ GRAPH ?g {{ {node} ?p ?o }} {public_graph_filter()} }}"
    )
    if not rows:
        return None
    subject = ox.NamedNode(iri)
    seen: set[tuple[str, str]] = set()
    stated: set[tuple[str, str]] = set()
    triples: list[ox.Triple] = []
    graphs: list[str] = []
    placing = f"{base}placing/"
    for row in rows:
        if row["p"].value == GRID_CELL:  # an index for bounding boxes, not a fact to show
            continue
        graphs.append(row["g"].value)
        key = (str(row["p"]), str(row["o"]))
        if not row["g"].value.startswith(placing):
            stated.add(key)
        if key not in seen:
            seen.add(key)
            triples.append(ox.Triple(subject, row["p"], row["o"]))  # type: ignore[arg-type]
    embedded = _embedded_nodes(store, base, triples)
    types = [node_key(t.object) for t in triples if t.predicate.value == RDF_TYPE]
    return Entity(iri, triples, sorted(set(graphs)), types, embedded, seen - stated)


def _embedded_nodes(store: Store, base: str, triples: list[ox.Triple]) -> set[str]:
    """Follow links to skolemised anonymous nodes (a few levels) and add their triples."""
    prefix = _genid_prefix(base)
    found: set[str] = set()
    frontier = {
        t.object.value
        for t in triples
        if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(prefix)
    }
    for _ in range(5):
        frontier -= found
        if not frontier:
            break
        found |= frontier
        values = " ".join(str(ox.NamedNode(i)) for i in sorted(frontier))
        rows = store.select(
            f"SELECT DISTINCT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} "
            f"{public_graph_filter()} }}"
        )
        frontier = set()
        for row in rows:
            triples.append(ox.Triple(row["s"], row["p"], row["o"]))  # type: ignore[arg-type]
            obj = row["o"]
            if isinstance(obj, ox.NamedNode) and obj.value.startswith(prefix):
                frontier.add(obj.value)
    return found


@dataclass(frozen=True)
class RecordGraph:
    graph: str
    source: str | None
    source_id: str | None
    retrieved_at: str | None
    generated_at: str | None
    revision: str | None
    connector: str | None
    entity: str | None = None
    license: str | None = None  # IRI; None: the source declared none
    attribution: str | None = None


def provenance(store: Store, iri: str, graphs: list[str]) -> list[RecordGraph]:
    """The record graphs that hold the entity, with their source, source id and dates."""
    meta = ox.NamedNode(META_GRAPH)
    values = " ".join(str(ox.NamedNode(g)) for g in graphs)
    selector = f"{{ VALUES ?g {{ {values} }} }} UNION " if graphs else ""
    rows = store.select(
        f"SELECT ?g ?p ?o WHERE {{ {selector}{{ GRAPH {meta} {{ ?g a {ox.NamedNode(MLG + 'Record')} ; "
        f"{ox.NamedNode(MLG + 'entity')} {ox.NamedNode(iri)} }} }} "
        f"GRAPH {meta} {{ ?g ?p ?o }} }}"
    )
    fields: dict[str, dict[str, str]] = {}
    for row in rows:
        fields.setdefault(row["g"].value, {})[row["p"].value] = row["o"].value
    result = []
    for graph in sorted(fields):
        f = fields[graph]
        result.append(
            RecordGraph(
                graph=graph,
                source=f.get(MLG + "source"),
                source_id=f.get(MLG + "sourceId"),
                retrieved_at=f.get(MLG + "retrievedAt"),
                generated_at=f.get("http://www.w3.org/ns/prov#generatedAtTime"),
                revision=f.get(MLG + "revision"),
                connector=f.get(MLG + "connector"),
                entity=f.get(MLG + "entity"),
                license=f.get(MLG + "license"),
                attribution=f.get("http://creativecommons.org/ns#attributionName"),
            )
        )
    return result


def incoming(store: Store, iri: str, limit: int = 200) -> list[tuple[str, str]]:
    """(subject, predicate) of the statements of record graphs that point at ``iri``."""
    rows = store.select(
        f"SELECT DISTINCT ?s ?p WHERE {{ GRAPH ?g {{ ?s ?p {ox.NamedNode(iri)} }} "
        f"{public_graph_filter()} FILTER(isIRI(?s)) }} "
        f"ORDER BY ?p ?s LIMIT {int(limit)}"
    )
    return [(row["s"].value, row["p"].value) for row in rows]


def types_and_names(store: Store, iris: list[str]) -> dict[str, tuple[list[str], list[ox.Literal]]]:
    """Types and names of linked nodes, for links and labels in the HTML page."""
    if not iris:
        return {}
    values = " ".join(str(ox.NamedNode(i)) for i in iris[:1000])
    rows = store.select(
        f"SELECT ?s ?p ?o WHERE {{ VALUES ?s {{ {values} }} VALUES ?p {{ "
        f"{ox.NamedNode(RDF_TYPE)} {ox.NamedNode(MLG + 'name')} }} ?s ?p ?o }}"
    )
    result: dict[str, tuple[list[str], list[ox.Literal]]] = {}
    for row in rows:
        types, names = result.setdefault(row["s"].value, ([], []))
        obj = row["o"]
        if row["p"].value == RDF_TYPE:
            types.append(obj.value)
        elif isinstance(obj, ox.Literal):
            names.append(obj)
    return result


def best_text(literals: list[ox.Literal], lang: str = "fr") -> str | None:
    """One text among language variants: the preferred language, untagged, English, any."""
    if not literals:
        return None
    for wanted in (lang, "", "en"):
        for literal in literals:
            if (literal.language or "") == wanted:
                return literal.value
    return literals[0].value

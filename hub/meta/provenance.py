"""PROV-O provenance of record graphs: every triple can be traced to its source and revision.

Each record also carries its source's licence (``mlg:license``) and attribution
(``cc:attributionName``, the Creative Commons rights vocabulary): re-users of one entity must
not have to read the configuration to learn under which terms each of its facts came.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache

import pyoxigraph as ox

from hub.config import Licence
from hub.records import Record, now
from hub.store.base import Store
from hub.store.transaction import Node, iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, term

ATTRIBUTION_NAME = "http://creativecommons.org/ns#attributionName"
LICENSE = term("license")


def provenance_statements(
    record: Record, entity: str | None, licence: Licence | None = None
) -> list[tuple[str, Node]]:
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(term("Record"))),
        (RDF_TYPE, iri(PROV + "Entity")),
        (term("source"), text(record.source)),
        (term("sourceId"), text(record.source_id)),
        (term("connector"), text(record.connector)),
        (term("contentHash"), text(record.content_hash)),
        (term("retrievedAt"), timestamp(record.retrieved_at)),
        (PROV + "generatedAtTime", timestamp(now())),
    ]
    if record.revision is not None:
        statements.append((term("revision"), text(record.revision)))
    if entity is not None:
        statements.append((term("entity"), iri(entity)))
    if record.source_url is not None:
        statements.append((PROV + "hadPrimarySource", iri(record.source_url)))
    if licence is not None:
        if licence.iri is not None:
            statements.append((LICENSE, iri(licence.iri)))
        statements.append((ATTRIBUTION_NAME, text(licence.attribution)))
    if record.origin is not None:
        hub, source, source_id = record.origin
        statements += [(term("originHub"), iri(hub)), (term("originSource"), text(source)),
                       (term("originSourceId"), text(source_id))]
    return statements


@dataclass(frozen=True)
class Stored:
    """What the meta graph says of a record graph already stored."""

    content_hash: str
    source_url: str | None
    license: str | None = None
    attribution: str | None = None


def unchanged_provenance(record: Record, licence: Licence | None) -> Stored | None:
    """What the meta graph holds of the record's graph if the record is stored unchanged, at the
    same address, under the same licence: the ``expected`` of :func:`stored_records`. None for a
    deletion, and for a licence without an IRI (it expects none stored: an absence is read, not
    looked up)."""
    if record.deleted or (licence is not None and licence.iri is None):
        return None
    if licence is None:
        return Stored(record.content_hash, record.source_url)
    return Stored(record.content_hash, record.source_url, licence.iri, licence.attribution)


def stored_records(
    store: Store, graphs: Iterable[str], expected: Mapping[str, Stored] | None = None
) -> dict[str, Stored]:
    """Content hash and primary source of each record graph already stored, by graph IRI.

    ``expected``: what the caller would take as unchanged, by graph; its fields left None are
    not looked at. A graph whose stored statements hold every value it names is answered with
    it, from the store's index (:meth:`Store.holds`): a source read again, mostly unchanged,
    pays no query for its unchanged records, nor a first load for its new ones, nor a changed
    record (answered with an empty hash: it differs). The others (an expected hash with another
    address or licence, and graphs nothing was expected of) are read with a query."""
    result: dict[str, Stored] = {}
    graph_list = list(dict.fromkeys(graphs))
    wanted = {g: (node, e) for g in graph_list if (e := (expected or {}).get(g)) and (node := _node(g))}
    # the hash first: then the rest of what is expected of the graphs that hold it
    hashes = [ox.Quad(node, _HASH, ox.Literal(e.content_hash), _META) for node, e in wanted.values()]
    same = {
        g: quads for g, hit in zip(wanted, store.holds(hashes), strict=True)
        if hit and (quads := _others(*wanted[g])) is not None
    }
    held = iter(store.holds([q for quads in same.values() for q in quads]))
    for graph, quads in same.items():
        if all([next(held) for _ in quads]):  # a list: every answer is consumed
            result[graph] = wanted[graph][1]
    # the rest: new graphs (the whole of a first load) are told apart by one more look-up each,
    # and a stored graph whose hash is not the expected one is known to differ without reading
    # it (its hash is given as empty: a changed record is replaced whatever it held)
    rest = {g: node for g in graph_list if g not in result and (node := _node(g)) is not None}
    kinds = [ox.Quad(node, _TYPE, _RECORD, _META) for node in rest.values()]
    graph_list = []
    for graph, stored in zip(rest, store.holds(kinds), strict=True):
        if stored and graph in wanted and graph not in same:
            result[graph] = Stored("", None)
        elif stored:
            graph_list.append(graph)
    for start in range(0, len(graph_list), 500):
        values = " ".join(f"<{g}>" for g in graph_list[start : start + 500])
        rows = store.select(
            f"SELECT ?g ?h ?url ?lic ?by WHERE {{ GRAPH <{META_GRAPH}> {{ VALUES ?g {{ {values} }} "
            f"?g <{term('contentHash')}> ?h OPTIONAL {{ ?g <{PROV}hadPrimarySource> ?url }} "
            f"OPTIONAL {{ ?g <{LICENSE}> ?lic }} OPTIONAL {{ ?g <{ATTRIBUTION_NAME}> ?by }} }} }}"
        )
        for row in rows:
            url, lic, by = (row[k].value if k in row else None for k in ("url", "lic", "by"))
            result[row["g"].value] = Stored(row["h"].value, url, lic, by)
    return result


_HASH, _PRIMARY_SOURCE = ox.NamedNode(term("contentHash")), ox.NamedNode(PROV + "hadPrimarySource")
_LICENSE, _ATTRIBUTION = ox.NamedNode(LICENSE), ox.NamedNode(ATTRIBUTION_NAME)
_META = ox.NamedNode(META_GRAPH)
_TYPE, _RECORD = ox.NamedNode(RDF_TYPE), ox.NamedNode(term("Record"))


def _node(graph: str) -> ox.NamedNode | None:
    """The graph's IRI as a term (None if it is not one: the store cannot hold it)."""
    try:
        return ox.NamedNode(graph)
    except ValueError:
        return None


def _others(subject: ox.NamedNode, stored: Stored) -> list[ox.Quad] | None:
    """The meta statements besides the hash that ``stored`` names about its graph (None: an
    address that is not an IRI, which the store cannot hold)."""
    quads = []
    if stored.source_url is not None:
        if (address := _node(stored.source_url)) is None:
            return None
        quads.append(ox.Quad(subject, _PRIMARY_SOURCE, address, _META))
    if stored.license is not None:
        quads.append(ox.Quad(subject, _LICENSE, _iri(stored.license), _META))
    if stored.attribution is not None:
        quads.append(ox.Quad(subject, _ATTRIBUTION, _text(stored.attribution), _META))
    return quads


@lru_cache(maxsize=256)
def _iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)  # a source's licence: the same for each of its records


@lru_cache(maxsize=256)
def _text(value: str) -> ox.Literal:
    return ox.Literal(value)


def record_sources(store: Store, graphs: Iterable[str]) -> dict[str, tuple[str, str]]:
    """(source, source id) of each record graph already stored, by graph IRI: a graph written
    through the API keeps the source that first wrote it."""
    result: dict[str, tuple[str, str]] = {}
    graph_list = list(dict.fromkeys(graphs))
    for start in range(0, len(graph_list), 500):
        values = " ".join(f"<{g}>" for g in graph_list[start : start + 500])
        rows = store.select(
            f"SELECT ?g ?src ?id WHERE {{ GRAPH <{META_GRAPH}> {{ VALUES ?g {{ {values} }} "
            f"?g <{term('source')}> ?src ; <{term('sourceId')}> ?id }} }}"
        )
        result.update({r["g"].value: (r["src"].value, r["id"].value) for r in rows})
    return result


def record_entity(store: Store, graph: str) -> str | None:
    """The entity a stored record graph speaks of, if it has one."""
    rows = store.select(
        f"SELECT ?e WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{term('entity')}> ?e }} }}"
    )
    return rows[0]["e"].value if rows else None


def holders(store: Store, entity: str) -> list[tuple[str, str]]:
    """(source, source id) of every record that already holds the entity."""
    rows = store.select(
        f"""SELECT ?src ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
            <{term("entity")}> {ox.NamedNode(entity)} ;
            <{term("source")}> ?src ; <{term("sourceId")}> ?id }} }}"""
    )
    return [(r["src"].value, r["id"].value) for r in rows]


def others_hold_records(store: Store, source: str) -> bool:
    """Whether any source but ``source`` holds records."""
    other = f"FILTER(?src != {ox.Literal(source)})"
    return store.ask(
        f"ASK {{ GRAPH <{META_GRAPH}> {{ ?g a <{term('Record')}> ; <{term('source')}> ?src {other} }} }}"
    )

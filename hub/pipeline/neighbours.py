"""The classes of the nodes a batch links to, which ``sh:class`` constraints check.

A batch is validated alone, so the types of what it links to come from elsewhere: the run's own
records (a whole file, a whole harvest: ``known_types``, so that a link to a record of a later
batch is not refused) and, for the rest, the store.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

import pyoxigraph as ox

from hub.records import Record
from hub.store.base import Store
from hub.vocab import RDF_TYPE


def neighbour_types(
    store: Store, records: list[Record], known_types: Mapping[str, list[ox.NamedNode]]
) -> list[ox.Triple]:
    """``rdf:type`` of the stored nodes the batch links to, so ``sh:class`` can be checked."""
    own = {s.value for r in records for s in r.subjects()}
    linked = {
        t.object.value
        for r in records
        for t in r.triples
        if isinstance(t.object, ox.NamedNode)
        and t.predicate.value != RDF_TYPE
        and t.object.value not in own
    }
    rdf_type = ox.NamedNode(RDF_TYPE)
    types = [
        ox.Triple(ox.NamedNode(node), rdf_type, cls)
        for node in linked
        for cls in known_types.get(node, ())
    ]
    linked_list = sorted(linked - known_types.keys())
    for start in range(0, len(linked_list), 500):
        values = " ".join(f"<{iri}>" for iri in linked_list[start : start + 500])
        rows = store.select(
            f"SELECT ?s ?t WHERE {{ VALUES ?s {{ {values} }} ?s <{RDF_TYPE}> ?t }}"
        )
        types.extend(
            ox.Triple(row["s"], rdf_type, row["t"])  # type: ignore[arg-type]
            for row in rows
        )
    return types


def types_of(records: Iterable[Record]) -> dict[str, list[ox.NamedNode]]:
    """The classes each subject of the records declares, for :meth:`Ingestor.ingest`."""
    types: dict[str, list[ox.NamedNode]] = {}
    for record in records:
        for t in record.triples:
            if (
                t.predicate.value == RDF_TYPE
                and isinstance(t.object, ox.NamedNode)
                and isinstance(t.subject, ox.NamedNode)
            ):
                types.setdefault(t.subject.value, []).append(t.object)
    return types

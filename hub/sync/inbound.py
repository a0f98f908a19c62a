"""The read path of a sync: read → match → ingest, one batch at a time.

Each batch the reader yields is matched against the hub's entities (``hub.pipeline.match``)
and committed with its cursor and the links matching made, in one transaction: a kill between
two batches resumes after the last one committed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence

import pyoxigraph as ox

from connectors.base.protocol import Reader
from hub.meta.cursors import read_cursor
from hub.pipeline.ingest import IngestResult
from hub.pipeline.match import LoneSource, reconcile
from hub.sync.collector import fewer_collections
from hub.sync.commit import Committer
from hub.vocab import MLG

KnownTypes = Mapping[str, list[ox.NamedNode]]


def read_source(
    reader: Reader,
    commit: Committer,
    name: str,
    full: bool,
    total: IngestResult,
    on_batch: Callable[[IngestResult], None] | None = None,
) -> None:
    """Read ``name`` from its cursor (or all of it with ``full``) into the hub; ``total`` sums
    what each batch did."""
    ingestor = commit.ingestor
    cursor = read_cursor(ingestor.store, ingestor.base, name)
    converted_from: object = None
    known: KnownTypes = {}
    classes: dict[tuple[str, ...], list[ox.NamedNode]] = {}
    alone = LoneSource(ingestor.store, lambda: ingestor.next_sequence)
    with fewer_collections():
        for batch in reader.read(cursor, full):
            if batch.known_types is not converted_from:  # convert once per listing
                known = _as_nodes(batch.known_types, classes)
                converted_from = batch.known_types
            records, links = reconcile(ingestor.store, batch.records, ingestor.base, alone)
            result = commit(records, (name, batch.cursor), links, known_types=known)
            alone.committed(len(result.changes))
            total.add(result)
            if on_batch is not None:
                on_batch(result)


def _as_nodes(
    known: Mapping[str, Sequence[str]], nodes: dict[tuple[str, ...], list[ox.NamedNode]]
) -> KnownTypes:
    """The classes as nodes; ``nodes`` keeps one list per set of classes over the read (a reader
    such as the JSON API one gives a new listing with each batch, naming the same few classes)."""
    converted = {}
    for entity, classes in known.items():
        key = tuple(classes)
        if key not in nodes:
            nodes[key] = [ox.NamedNode(MLG + c) for c in key]
        converted[entity] = nodes[key]
    return converted

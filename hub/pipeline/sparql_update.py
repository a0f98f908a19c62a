"""SPARQL Update through the ingest pipeline: validated, logged, all or nothing.

An update is first applied to an in-memory copy of the graphs it names; the resulting graphs
become records that are validated together, and only if every one conforms are they committed
(one transaction, one change-log entry per graph). Updates must name their graphs (``GRAPH <g>``
or ``WITH <g>``): the default graph is the read-only union of all record graphs. The ``WHERE``
part sees the graphs it reads as well (:mod:`hub.pipeline.update_dataset`); Oxigraph's evaluation
decides what was written, and a graph it changed that rdflib did not read as written refuses it.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import pyoxigraph as ox
import rdflib
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate

from hub.clipping import clip_message
from hub.errors import InputError
from hub.meta.provenance import record_sources
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.pipeline.place import is_placing_graph
from hub.pipeline.update_dataset import MAX_READ_QUADS, Reads, parse, reads, with_dataset
from hub.pipeline.validate import Report
from hub.records import Record
from hub.store.base import Store
from hub.store.oxigraph import scratch as new_scratch
from hub.vocab import META_GRAPH

SOURCE = "sparql-update"
_ABSOLUTE = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")

Evaluate = Callable[[str, list[ox.Quad], str | None], list[ox.Quad]]
"""Runs an update (relative IRIs against the base given) on a scratch copy of the graphs it
writes and reads, and returns the quads after it."""


class UpdateRefused(InputError):
    """The update cannot be applied as written; the message says what to change."""


@dataclass
class UpdateOutcome:
    result: IngestResult | None
    invalid: dict[str, Report]


def affected_graphs(update: str, base_iri: str | None = None) -> list[str]:
    """The graphs an update writes, or :class:`UpdateRefused`."""
    try:
        operations = translateUpdate(parseUpdate(update), base=base_iri).algebra
    except Exception as exc:  # pyparsing raises several types; all mean "not SPARQL Update"
        raise UpdateRefused(clip_message(f"invalid SPARQL Update: {exc}")) from exc
    graphs: list[str] = []
    for op in operations:
        graphs.extend(_graphs_of(op))
    if META_GRAPH in graphs:
        raise UpdateRefused(f"<{META_GRAPH}> holds the hub's own state and cannot be updated")
    return list(dict.fromkeys(graphs))


def _graphs_of(op: rdflib.plugins.sparql.parserutils.CompValue) -> Iterable[str]:
    name = op.name
    if name == "Load":
        raise UpdateRefused("LOAD is not allowed: it would fetch arbitrary URLs")
    if name in ("Drop", "Clear", "Create"):
        return [_iri(op.graphiri, name)]
    if name in ("Add", "Move", "Copy"):
        return [_iri(g, name) for g in op.graph]
    if name in ("InsertData", "DeleteData", "DeleteWhere"):
        return _template_graphs(op, None, name)
    if name == "Modify":
        found: list[str] = []
        for clause in (op.delete, op.insert):
            if clause is not None:
                found += _template_graphs(clause, op.withClause, name)
        return found
    raise UpdateRefused(f"unsupported update operation {name}")


def _template_graphs(
    clause: rdflib.plugins.sparql.parserutils.CompValue, default: object, name: str
) -> list[str]:
    graphs = [_iri(g, name) for g in (clause.quads or {})]
    if clause.triples:
        if default is None:
            raise UpdateRefused(
                "name the graph to write: GRAPH <g> { ... } or WITH <g> (the default graph is the "
                "read-only union of all record graphs)"
            )
        graphs.append(_iri(default, name))
    return graphs


def _iri(graph: object, operation: str) -> str:
    if isinstance(graph, rdflib.URIRef):
        if not _ABSOLUTE.match(graph):
            raise UpdateRefused(
                f"{operation}: the graph <{graph}> is a relative IRI; write it in full or add BASE"
            )
        return str(graph)
    raise UpdateRefused(
        f"{operation}: the graph must be one IRI (not ALL, DEFAULT, NAMED or a variable)"
    )


def evaluate_here(update: str, quads: list[ox.Quad], base_iri: str | None = None) -> list[ox.Quad]:
    """In this process, with no time limit: for trusted callers (the API uses a confined child)."""
    scratch = new_scratch()
    scratch.extend(quads)
    try:
        scratch.update(update, base_iri=base_iri)
    except (SyntaxError, OSError, ValueError) as exc:
        raise UpdateRefused(clip_message(f"the update failed: {exc}")) from exc
    return list(scratch)


def _split(
    quads: list[ox.Quad], graphs: list[str], read: set[ox.Quad]
) -> dict[str, list[ox.Triple]]:
    """The evaluated quads per written graph; one parse decides what an update may touch.

    rdflib read the update to tell which graphs it writes, Oxigraph evaluated it; the graphs
    copied only to be read must come back unchanged. When Oxigraph wrote anywhere else (the two
    parsers read the text differently), nothing is written.
    """
    by_graph: dict[str, list[ox.Triple]] = {graph: [] for graph in graphs}
    others: set[ox.Quad] = set()
    for quad in quads:
        name = quad.graph_name
        if isinstance(name, ox.NamedNode) and name.value in by_graph:
            by_graph[name.value].append(quad.triple)
        else:
            others.add(quad)
    changed = others ^ read
    if changed:
        name = next(iter(changed)).graph_name
        where = f"<{name.value}>" if isinstance(name, ox.NamedNode) else "the default graph"
        raise UpdateRefused(
            f"the update writes to {where}, which it does not name as GRAPH <g> or WITH <g>; "
            "nothing was written"
        )
    return by_graph


def _read_copy(store: Store, found: Reads, written: list[str]) -> list[ox.Quad]:
    """The quads the update's WHERE reads beyond the graphs it writes, at most MAX_READ_QUADS."""
    copied: list[ox.Quad] = []

    def add(quads: Iterable[ox.Quad]) -> None:
        copied.extend(quads)
        if len(copied) > MAX_READ_QUADS:
            raise UpdateRefused(
                f"the update's WHERE reads more than {MAX_READ_QUADS:,} triples (the whole default "
                "graph, or GRAPH ?g over every graph): name the graphs it reads with GRAPH <g> or "
                "USING <g>, or send using-graph-uri"
            )

    if found.every_graph or found.default_union:
        everything = (q for q in store.quads() if q.graph_name != ox.NamedNode(META_GRAPH))
        for quad in everything:
            name = quad.graph_name
            if found.every_graph and isinstance(name, ox.NamedNode) and name.value not in written:
                add([quad])
            if found.default_union:
                add([ox.Quad(quad.subject, quad.predicate, quad.object, ox.DefaultGraph())])
    if not found.every_graph:
        for graph in sorted(found.graphs - set(written) - {META_GRAPH}):
            add(store.quads(graph))
    return copied


def apply_update(
    ingestor: Ingestor,
    update: str,
    evaluate: Evaluate = evaluate_here,
    *,
    base_iri: str | None = None,
    using: list[str] | None = None,
    using_named: list[str] | None = None,
) -> UpdateOutcome:
    """Validate then commit an update; nothing is written when any graph would be invalid.

    ``base_iri`` resolves relative IRIs (the endpoint's URL); ``using``/``using_named`` are the
    protocol's ``using-graph-uri``/``using-named-graph-uri``.
    """
    try:
        update = with_dataset(update, using or [], using_named or [], base_iri)
        found = reads(parse(update, base_iri))
    except InputError as exc:
        raise UpdateRefused(str(exc)) from exc
    graphs = affected_graphs(update)  # a relative graph name stays refused: write it in full
    derived = [g for g in graphs if is_placing_graph(ingestor.base, g)]
    if derived:
        raise UpdateRefused(f"<{derived[0]}> is the hub's placing of a record (derived at ingest): "
                            "update the record instead")
    before = [quad for graph in graphs for quad in ingestor.store.quads(graph)]
    read = _read_copy(ingestor.store, found, graphs)
    after = _split(evaluate(update, before + read, base_iri), graphs, set(read))
    known = record_sources(ingestor.store, graphs) if graphs else {}
    records = []
    for graph in graphs:
        triples = tuple(after[graph])
        source, source_id = known.get(graph, (SOURCE, graph))
        records.append(
            Record(source=source, source_id=source_id, triples=triples, graph=graph,
                   connector=SOURCE, deleted=not triples, written_by="api")
        )
    reports = ingestor.check(records)
    invalid = {r.graph or "": rep for r, rep in zip(records, reports, strict=True) if not rep.conforms}
    if invalid:
        return UpdateOutcome(result=None, invalid=invalid)
    return UpdateOutcome(result=ingestor.ingest(records), invalid={})

"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol over record graphs.

Reads are open; PUT, POST and DELETE need the token and go through the ingest pipeline, so a
graph written here is validated, gets provenance and appears in the change feed like any other.
A write holds ``HubState.write_lock`` from its read of the graph to its commit, so concurrent
POSTs all land; ``ETag``, ``If-Match`` and ``If-None-Match`` work as for REST entities
(:mod:`hub.api.routes.preconditions`).
"""

from __future__ import annotations

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_token
from hub.api.negotiation import GRAPH_TYPES, NotAcceptable, choose
from hub.api.routes.graph_body import graph_triples
from hub.api.routes.preconditions import check_write, content_hash, etag, not_modified
from hub.api.routes.rest_write import WRITER
from hub.api.routes.writes import invalid_response, summary
from hub.api.state import HubState, hub_state
from hub.clipping import clip_message
from hub.meta.provenance import record_sources
from hub.pipeline.sparql_update import SOURCE as UPDATE_SOURCE
from hub.records import Record, skolemize
from hub.vocab import META_GRAPH

router = APIRouter(tags=["Graph Store"])
SOURCE = "graph-store"
TRIPLE_TYPES = tuple(t for t in GRAPH_TYPES if t not in ("application/trig", "application/n-quads"))


TAG_VARIANTS = {"text/turtle": "", "application/n-triples": "nt", "application/rdf+xml": "rdf",
                "application/ld+json": "jsonld"}


def _graph_param(request: Request) -> str:
    params = request.query_params
    graphs = params.getlist("graph")
    if len(graphs) > 1:
        raise HTTPException(400, "give ?graph= once: a request reads or writes one graph")
    if "default" in params:
        if graphs:
            raise HTTPException(400, "give either ?graph=<IRI> or ?default, not both")
        raise HTTPException(
            400, "the default graph is the read-only union of all graphs; name a graph with ?graph="
        )
    graph = graphs[0] if graphs else None
    if not graph:
        raise HTTPException(400, "name the graph with ?graph=<IRI>")
    try:
        ox.NamedNode(graph)
    except ValueError as exc:
        raise HTTPException(400, clip_message(f"invalid graph IRI: {exc}")) from exc
    if graph == META_GRAPH:
        raise HTTPException(403, "the hub's own state graph is read-only here")
    return graph


@router.get("/store", summary="Read a graph (Graph Store Protocol)")
def get_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    try:
        media = choose(request.headers.get("accept"), TRIPLE_TYPES)
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    triples = state.store.graph_triples(graph)
    if not triples:
        raise HTTPException(404, clip_message(f"no graph <{graph}>"))
    tag = etag(content_hash(triples), TAG_VARIANTS.get(media, media.rsplit("/", 1)[-1]))
    headers = {"ETag": tag, "Vary": "Accept"}
    if not_modified(request.headers, tag):
        return Response(status_code=304, headers=headers)
    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.TURTLE
    return Response(ox.serialize(triples, format=fmt), media_type=media, headers=headers)


async def _body_triples(request: Request, graph: str, base: str) -> list[ox.Triple]:
    body = await request.body()
    triples = graph_triples(body, request.headers.get("content-type", ""), graph)
    return skolemize(triples, base, graph)


def _record(state: HubState, graph: str, triples: tuple[ox.Triple, ...], deleted: bool) -> Record:
    source, source_id = record_sources(state.store, [graph]).get(graph, (SOURCE, graph))
    connector = SOURCE if source != UPDATE_SOURCE else UPDATE_SOURCE
    return Record(source=source, source_id=source_id, triples=triples, graph=graph,
                  connector=connector, deleted=deleted, written_by=WRITER)


def _current(state: HubState, request: Request, graph: str) -> list[ox.Triple]:
    """The stored graph, after checking the request's preconditions against it (lock held)."""
    triples = state.store.graph_triples(graph)
    check_write(request.headers, content_hash(triples) if triples else None)
    return triples


def _write(state: HubState, record: Record, created: bool) -> Response:
    """Validate then commit (lock held); the answer carries the graph's new ``ETag``."""
    [report] = state.ingestor.check([record]) if not record.deleted else [None]
    if report is not None and not report.conforms:
        return invalid_response({record.graph or "": report})
    result = state.commit([record])
    stored = state.store.graph_triples(record.graph or "")
    headers = {"ETag": etag(content_hash(stored))} if stored else {}
    return JSONResponse(summary(result), status_code=201 if created else 200, headers=headers)


@router.put("/store", summary="Replace a graph", dependencies=[Depends(require_token)])
async def put_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    triples = await _body_triples(request, graph, state.config.base_iri)

    def run() -> Response:
        with state.write_lock:
            current = _current(state, request, graph)
            return _write(state, _record(state, graph, tuple(triples), False), not current)

    return await run_in_threadpool(run)


@router.post("/store", summary="Add triples to a graph", dependencies=[Depends(require_token)])
async def post_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    triples = await _body_triples(request, graph, state.config.base_iri)

    def run() -> Response:
        with state.write_lock:
            current = _current(state, request, graph)
            merged = tuple(dict.fromkeys([*current, *triples]))
            return _write(state, _record(state, graph, merged, False), not current)

    return await run_in_threadpool(run)


@router.delete("/store", summary="Delete a graph", dependencies=[Depends(require_token)])
def delete_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    with state.write_lock:
        if not _current(state, request, graph):
            raise HTTPException(404, clip_message(f"no graph <{graph}>"))
        state.commit([_record(state, graph, (), True)])
    return Response(status_code=204)

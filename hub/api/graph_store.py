"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol over record graphs.

Reads are open; PUT, POST and DELETE need the token and go through the ingest pipeline, so a
graph written here is validated, gets provenance and appears in the change feed like any other.
"""

from __future__ import annotations

import io

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_token
from hub.api.negotiation import GRAPH_TYPES, NotAcceptable, choose
from hub.api.state import HubState, hub_state
from hub.api.writes import invalid_response, summary
from hub.rdfio import RdfInputError, parse_quads
from hub.records import Record, skolemize
from hub.sparql_update import SOURCE as UPDATE_SOURCE
from hub.vocab import META_GRAPH, term

router = APIRouter(tags=["Graph Store"])
SOURCE = "graph-store"
TRIPLE_TYPES = tuple(t for t in GRAPH_TYPES if t not in ("application/trig", "application/n-quads"))


def _graph_param(request: Request) -> str:
    params = request.query_params
    if "default" in params:
        raise HTTPException(
            400, "the default graph is the read-only union of all graphs; name a graph with ?graph="
        )
    graph = params.get("graph")
    if not graph:
        raise HTTPException(400, "name the graph with ?graph=<IRI>")
    try:
        ox.NamedNode(graph)
    except ValueError as exc:
        raise HTTPException(400, f"invalid graph IRI: {exc}") from exc
    if graph == META_GRAPH:
        raise HTTPException(403, "the hub's own state graph is read-only here")
    return graph


def _exists(state: HubState, graph: str) -> bool:
    return state.store.ask(f"ASK {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")


@router.get("/store", summary="Read a graph (Graph Store Protocol)")
def get_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    try:
        media = choose(request.headers.get("accept"), TRIPLE_TYPES)
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    triples = state.store.graph_triples(graph)
    if not triples:
        raise HTTPException(404, f"no graph <{graph}>")
    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.TURTLE
    return Response(ox.serialize(triples, format=fmt), media_type=media)


async def _body_triples(request: Request, graph: str, base: str) -> list[ox.Triple]:
    media = request.headers.get("content-type", "text/turtle").split(";")[0].strip().lower()
    fmt = ox.RdfFormat.from_media_type(media)
    if fmt is None or fmt.supports_datasets:
        raise HTTPException(415, f"send the graph as one of: {', '.join(TRIPLE_TYPES)}")
    body = await request.body()
    try:
        quads = parse_quads(io.BytesIO(body), fmt, graph, "request body")
    except RdfInputError as exc:
        raise HTTPException(400, str(exc)) from exc
    return skolemize([q.triple for q in quads], base, graph)


def _record(state: HubState, graph: str, triples: tuple[ox.Triple, ...], deleted: bool) -> Record:
    rows = state.store.select(
        f"SELECT ?src ?id WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{term('source')}> ?src ; "
        f"<{term('sourceId')}> ?id }} }}"
    )
    source, source_id = (rows[0]["src"].value, rows[0]["id"].value) if rows else (SOURCE, graph)
    connector = SOURCE if source != UPDATE_SOURCE else UPDATE_SOURCE
    return Record(source=source, source_id=source_id, triples=triples, graph=graph,
                  connector=connector, deleted=deleted)


def _write(state: HubState, record: Record, created: bool) -> Response:
    [report] = state.ingestor.check([record]) if not record.deleted else [None]
    if report is not None and not report.conforms:
        return invalid_response({record.graph or "": report})
    result = state.ingest([record])
    return JSONResponse(summary(result), status_code=201 if created else 200)


@router.put("/store", summary="Replace a graph", dependencies=[Depends(require_token)])
async def put_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    triples = await _body_triples(request, graph, state.config.base_iri)

    def run() -> Response:
        existed = _exists(state, graph)
        return _write(state, _record(state, graph, tuple(triples), False), not existed)

    return await run_in_threadpool(run)


@router.post("/store", summary="Add triples to a graph", dependencies=[Depends(require_token)])
async def post_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    triples = await _body_triples(request, graph, state.config.base_iri)

    def run() -> Response:
        current = state.store.graph_triples(graph)
        merged = tuple(dict.fromkeys([*current, *triples]))
        return _write(state, _record(state, graph, merged, False), not current)

    return await run_in_threadpool(run)


@router.delete("/store", summary="Delete a graph", dependencies=[Depends(require_token)])
def delete_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    if not _exists(state, graph):
        raise HTTPException(404, f"no graph <{graph}>")
    state.ingest([_record(state, graph, (), True)])
    return Response(status_code=204)

"""``/store``: the SPARQL 1.1 Graph Store HTTP Protocol over record graphs.

Reads are open; PUT, POST and DELETE need the token and go through the ingest pipeline, so a
graph written here is validated, gets provenance and appears in the change feed like any other.
A write holds ``HubState.write_lock`` from its read of the graph to its commit, so concurrent
POSTs all land; ``ETag``, ``If-Match`` and ``If-None-Match`` work as for REST entities
(:mod:`hub.api.routes.preconditions`).

Graphs are named indirectly (``?graph=<IRI>``): graph IRIs are the hub's own, independent of the
address it is served at. ``?default`` is the union the anonymous ``/sparql`` default graph shows
(:mod:`hub.meta.public`), readable but not writable (405 with ``Allow``): writing it would mean
writing a record graph no one named. A POST to ``/store`` itself creates a graph under the hub's
base IRI and answers 201 with that IRI in ``Location``, as the protocol asks.
"""

from __future__ import annotations

import uuid

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.api.auth import is_operator, require_token
from hub.api.negotiation import GRAPH_TYPES, NotAcceptable, choose
from hub.api.routes.graph_body import body_triples
from hub.api.routes.preconditions import check_write, content_hash, etag, not_modified
from hub.api.routes.rest_write import WRITER
from hub.api.routes.writes import invalid_response, summary
from hub.api.state import HubState, hub_state
from hub.clipping import clip_message
from hub.iris import graph_iri
from hub.meta.provenance import record_sources
from hub.meta.public import RECORD_GRAPHS_PUBLIC, companion_graph, is_public_graph
from hub.pipeline.place import is_placing_graph
from hub.pipeline.sparql_update import SOURCE as UPDATE_SOURCE
from hub.records import Record, skolemize

router = APIRouter(tags=["Graph Store"])
SOURCE = "graph-store"
TRIPLE_TYPES = tuple(t for t in GRAPH_TYPES if t not in ("application/trig", "application/n-quads"))


GRAPH_METHODS = "GET, HEAD, OPTIONS, PUT, POST, DELETE"
DEFAULT_METHODS = "GET, HEAD, OPTIONS"
TAG_VARIANTS = {"text/turtle": "", "application/n-triples": "nt", "application/rdf+xml": "rdf",
                "application/ld+json": "jsonld"}


def _is_default(request: Request) -> bool:
    """Whether the request names the default graph (``?default``), refusing ambiguous requests."""
    params = request.query_params
    graphs = params.getlist("graph")
    if len(graphs) > 1:
        raise HTTPException(400, "give ?graph= once: a request reads or writes one graph")
    if "default" in params and graphs:
        raise HTTPException(400, "give either ?graph=<IRI> or ?default, not both")
    return "default" in params


def _writable(request: Request) -> None:
    """405 for a write to ``?default``, before the token is asked for: no token makes it work."""
    if _is_default(request):
        raise HTTPException(
            405, "the default graph is the read-only union of the record graphs; "
            "name a graph with ?graph=<IRI>", headers={"Allow": DEFAULT_METHODS},
        )


def _graph_param(request: Request, read: bool = False) -> str:
    _writable(request)
    graph = request.query_params.get("graph")
    if not graph:
        raise HTTPException(400, "name the graph with ?graph=<IRI>")
    try:
        ox.NamedNode(graph)
    except ValueError as exc:
        raise HTTPException(400, clip_message(f"invalid graph IRI: {exc}")) from exc
    if not read and not is_public_graph(graph):
        raise HTTPException(403, "the hub's own state graphs are read-only here")
    if not read and is_placing_graph(hub_state(request).config.base_iri, graph):
        raise HTTPException(403, "a placing graph is derived by the hub at ingest: write the record")
    return graph


def _default_triples(state: HubState) -> list[ox.Triple]:
    """The default graph as anonymous readers see it: the union of the record graphs."""
    if not RECORD_GRAPHS_PUBLIC:
        return []
    return list(dict.fromkeys(
        q.triple for q in state.store.quads()
        if isinstance(q.graph_name, ox.NamedNode) and is_public_graph(q.graph_name.value)
    ))


@router.options("/store", summary="The methods the Graph Store allows here")
def store_options(request: Request) -> Response:
    allow = DEFAULT_METHODS if _is_default(request) else GRAPH_METHODS
    return Response(status_code=204, headers={"Allow": allow})


@router.get("/store", summary="Read a graph (Graph Store Protocol)")
def get_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """HEAD runs the same code: the server sends the headers (length included) and no body."""
    default = _is_default(request)
    graph = "" if default else _graph_param(request, read=True)
    if graph and not is_public_graph(graph) and not is_operator(request, state):
        raise HTTPException(404, clip_message(f"no graph <{graph}>"))  # private: as if absent
    try:
        media = choose(request.headers.get("accept"), TRIPLE_TYPES)
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    triples = _default_triples(state) if default else state.store.graph_triples(graph)
    if not triples and not default:
        raise HTTPException(404, clip_message(f"no graph <{graph}>"))
    tag = etag(content_hash(triples), TAG_VARIANTS.get(media, media.rsplit("/", 1)[-1]))
    headers = {"ETag": tag, "Vary": "Accept"}
    if not_modified(request.headers, tag):
        return Response(status_code=304, headers=headers)
    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.TURTLE
    return Response(ox.serialize(triples, format=fmt), media_type=media, headers=headers)


# HEAD is GET without the body (hub.api.browsers does it for every route before routing; this
# route keeps the Graph Store's HEAD right on an app built without that middleware).
router.add_api_route("/store", get_graph, methods=["HEAD"], include_in_schema=False)


async def _body_triples(request: Request, graph: str, base: str) -> list[ox.Triple]:
    body = await request.body()
    triples = body_triples(body, request.headers.get("content-type", ""), graph)
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


def _write(state: HubState, record: Record, created: bool, location: str | None = None) -> Response:
    """Validate then commit (lock held); the answer carries the graph's new ``ETag``."""
    [report] = state.ingestor.check([record]) if not record.deleted else [None]
    if report is not None and not report.conforms:
        return invalid_response({record.graph or "": report})
    result = state.commit([record])
    stored = state.store.graph_triples(record.graph or "")
    headers = {"ETag": etag(content_hash(stored))} if stored else {}
    body = summary(result)
    if location is not None:
        headers["Location"] = location
        body = {**body, "graph": location}
    return JSONResponse(body, status_code=201 if created else 200, headers=headers)


WRITE_GUARDS = [Depends(_writable), Depends(require_token)]


@router.put("/store", summary="Replace a graph", dependencies=WRITE_GUARDS)
async def put_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    triples = await _body_triples(request, graph, state.config.base_iri)

    def run() -> Response:
        with state.write_lock:
            current = _current(state, request, graph)
            return _write(state, _record(state, graph, tuple(triples), False), not current)

    return await run_in_threadpool(run)


async def _create_graph(request: Request, state: HubState) -> Response:
    """POST to the store itself: a new graph under the hub's base IRI, 201 + ``Location``."""
    graph = graph_iri(state.config.base_iri, SOURCE, uuid.uuid4().hex)
    triples = await _body_triples(request, graph, state.config.base_iri)
    if not triples:
        raise HTTPException(400, "the body holds no triples: there is no graph to create")

    def run() -> Response:
        with state.write_lock:
            record = _record(state, graph, tuple(dict.fromkeys(triples)), False)
            return _write(state, record, True, location=graph)

    return await run_in_threadpool(run)


@router.post("/store", summary="Add triples to a graph, or create one",
             dependencies=WRITE_GUARDS)
async def post_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """With ``?graph=``: merge into that graph. Without: create a graph (see the module)."""
    if "graph" not in request.query_params:
        return await _create_graph(request, state)
    graph = _graph_param(request)
    triples = await _body_triples(request, graph, state.config.base_iri)

    def run() -> Response:
        with state.write_lock:
            current = _current(state, request, graph)
            # the record is the graph and its private companion (persons' contact data, which
            # the ingest splits off again): merging into the public part alone would drop it
            private = state.store.graph_triples(companion_graph(graph))
            merged = tuple(dict.fromkeys([*current, *private, *triples]))
            return _write(state, _record(state, graph, merged, False), not current)

    return await run_in_threadpool(run)


@router.delete("/store", summary="Delete a graph", dependencies=WRITE_GUARDS)
def delete_graph(request: Request, state: HubState = Depends(hub_state)) -> Response:
    graph = _graph_param(request)
    with state.write_lock:
        if not _current(state, request, graph):
            raise HTTPException(404, clip_message(f"no graph <{graph}>"))
        state.commit([_record(state, graph, (), True)])
    return Response(status_code=204)

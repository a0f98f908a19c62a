"""``/sparql``: the SPARQL 1.1 Protocol (query operation) and the Service Description.

GET with ``query=``, POST as ``application/sparql-query`` or as a form; ``default-graph-uri`` and
``named-graph-uri`` select the dataset, otherwise the default graph is the union of all graphs.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from hub.api.negotiation import GRAPH_TYPES, SELECT_TYPES, NotAcceptable, choose, requested_type
from hub.api.query.remote import RemoteQueryRunner
from hub.api.query.runner import QueryJob
from hub.api.query.safety import ForbiddenService, check_query
from hub.api.query.statuses import run_query
from hub.api.state import HubState, hub_state
from hub.rdf.forms import query_form

router = APIRouter(tags=["SPARQL"])
CHUNK = 1024 * 1024  # fewer thread-pool hops per response (bench/http.py)
SD_TURTLE = """@prefix sd: <http://www.w3.org/ns/sparql-service-description#> .
@prefix void: <http://rdfs.org/ns/void#> .
@prefix dcterms: <http://purl.org/dc/terms/> .
<{endpoint}> a sd:Service ;
    sd:endpoint <{endpoint}> ;
    sd:supportedLanguage sd:SPARQL11Query ;
    sd:feature sd:UnionDefaultGraph, sd:BasicFederatedQuery ;
    sd:resultFormat <http://www.w3.org/ns/formats/SPARQL_Results_JSON>,
        <http://www.w3.org/ns/formats/SPARQL_Results_XML>,
        <http://www.w3.org/ns/formats/SPARQL_Results_CSV>,
        <http://www.w3.org/ns/formats/SPARQL_Results_TSV>,
        <http://www.w3.org/ns/formats/Turtle>, <http://www.w3.org/ns/formats/N-Triples>,
        <http://www.w3.org/ns/formats/RDF_XML>, <http://www.w3.org/ns/formats/JSON-LD>,
        <http://www.w3.org/ns/formats/TriG>, <http://www.w3.org/ns/formats/N-Quads> ;
    sd:defaultDataset [ a sd:Dataset ;
        dcterms:description "The default graph is the union of every record graph."@en ;
        void:sparqlEndpoint <{endpoint}> ] .
<{update}> a sd:Service ; sd:endpoint <{update}> ; sd:supportedLanguage sd:SPARQL11Update .
"""


async def _protocol_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = await request.body()
        if media == "application/sparql-query":
            params.setdefault("query", []).append(body.decode("utf-8", errors="replace"))
        elif media == "application/x-www-form-urlencoded":
            for key, values in parse_qs(body.decode("utf-8", errors="replace")).items():
                params.setdefault(key, []).extend(values)
        else:
            raise HTTPException(
                415,
                "POST a query as application/sparql-query or application/x-www-form-urlencoded",
            )
    return params


def _stream(path: Path) -> Iterator[bytes]:
    try:
        with path.open("rb") as handle:
            while chunk := handle.read(CHUNK):
                yield chunk
    finally:
        path.unlink(missing_ok=True)


def service_description(request: Request) -> Response:
    endpoint = str(request.url_for("sparql_get"))
    update = str(request.url_for("sparql_update"))
    return Response(
        SD_TURTLE.format(endpoint=endpoint, update=update), media_type="text/turtle"
    )


async def answer_query(request: Request, state: HubState) -> Response:
    params = await _protocol_params(request)
    queries = params.get("query", [])
    if not queries:
        if request.method == "GET":
            return service_description(request)
        raise HTTPException(400, "no query: send one as query= or as application/sparql-query")
    if len(queries) > 1:
        raise HTTPException(400, "exactly one query parameter is allowed")
    query = queries[0]
    try:
        if isinstance(state.runner, RemoteQueryRunner):  # local workers check it themselves
            await run_in_threadpool(check_query, query, state.config.api.service_allowlist)
    except ForbiddenService as exc:
        raise HTTPException(400, str(exc)) from exc
    form = query_form(query)
    offered = GRAPH_TYPES if form in ("CONSTRUCT", "DESCRIBE") else SELECT_TYPES
    format_param = next(iter(params.get("format") or params.get("output") or []), None)
    accept = requested_type(format_param, request.headers.get("accept"))
    try:
        media = choose(accept, offered)
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    job = QueryJob(
        query=query,
        result_format=media,
        default_graphs=tuple(params.get("default-graph-uri", [])),
        named_graphs=tuple(params.get("named-graph-uri", [])),
        generation=state.generation,
    )
    path = await run_query(state.runner, job)
    return StreamingResponse(_stream(path), media_type=media)


@router.get("/sparql", name="sparql_get", summary="SPARQL query (or the Service Description)")
async def sparql_get(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """SPARQL 1.1 Protocol query via GET; without ``query``, the Service Description."""
    return await answer_query(request, state)


@router.post("/sparql", name="sparql_post", summary="SPARQL query via POST")
async def sparql_post(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """SPARQL 1.1 Protocol query via POST (direct or URL-encoded)."""
    return await answer_query(request, state)

"""``/sparql``: the SPARQL 1.1 Protocol (query operation) and the Service Description.

GET with ``query=``, POST as ``application/sparql-query`` or as a form; ``default-graph-uri`` and
``named-graph-uri`` select the dataset, otherwise the default graph is the union of the record
graphs. Without the operator's token only the public graphs exist (:mod:`hub.api.query.dataset`);
with it, every graph, the bookkeeping graph included.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response, StreamingResponse
from starlette.concurrency import run_in_threadpool

from hub.api.auth import is_operator
from hub.api.negotiation import GRAPH_TYPES, SELECT_TYPES, NotAcceptable, choose, requested_type
from hub.api.query.observatory import maintained_answer, ready
from hub.api.query.remote import RemoteQueryRunner
from hub.api.query.runner import QueryJob
from hub.api.query.safety import ForbiddenService, check_query
from hub.api.query.statuses import run_cached
from hub.api.routes.update import utf8_body
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
    sd:defaultDataset <{dataset}> .
<{dataset}> a sd:Dataset ;
    dcterms:description "The default graph is the union of every record graph."@en ;
    dcterms:description "The named graphs are the record graphs; counts are in the VoID."@en ;
    sd:defaultGraph [ a sd:Graph ] ;
    void:sparqlEndpoint <{endpoint}> .
<{update}> a sd:Service ; sd:endpoint <{update}> ; sd:supportedLanguage sd:SPARQL11Update ;
    sd:inputFormat <http://www.w3.org/ns/formats/Turtle>,
        <http://www.w3.org/ns/formats/N-Triples>, <http://www.w3.org/ns/formats/RDF_XML>,
        <http://www.w3.org/ns/formats/JSON-LD>, <http://www.w3.org/ns/formats/TriG>,
        <http://www.w3.org/ns/formats/N-Quads> .
"""


async def _protocol_params(request: Request) -> dict[str, list[str]]:
    params: dict[str, list[str]] = {}
    for key, value in request.query_params.multi_items():
        params.setdefault(key, []).append(value)
    if request.method == "POST":
        media = request.headers.get("content-type", "").split(";")[0].strip().lower()
        body = utf8_body(request, await request.body())
        if media == "application/sparql-query":
            params.setdefault("query", []).append(body)
        elif media == "application/x-www-form-urlencoded":
            for key, values in parse_qs(body).items():
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


SD_TYPES = ("text/turtle", "application/rdf+xml", "application/ld+json", "application/n-triples")
SD_PREFIXES = {
    "sd": "http://www.w3.org/ns/sparql-service-description#",
    "void": "http://rdfs.org/ns/void#",
    "dcterms": "http://purl.org/dc/terms/",
}


def service_description(request: Request, format_param: str | None = None) -> Response:
    """The Service Description in the format asked (Accept or ``format=``), Turtle by default."""
    endpoint = str(request.url_for("sparql_get"))
    update = str(request.url_for("sparql_update"))
    accept = requested_type(format_param, request.headers.get("accept"))
    media = choose(accept, SD_TYPES, extra_aliases=_GRAPH_ALIASES)
    dataset = f"{request.url_for('void_description')}#dataset"  # the VoID dataset: same node
    text = SD_TURTLE.format(endpoint=endpoint, update=update, dataset=dataset)
    if media == "text/turtle":
        return Response(text, media_type=media)
    rdf_format = ox.RdfFormat.from_media_type(media)
    assert rdf_format is not None
    triples = [q.triple for q in ox.parse(text, ox.RdfFormat.TURTLE)]
    prefixes = SD_PREFIXES if rdf_format in (ox.RdfFormat.RDF_XML, ox.RdfFormat.JSON_LD) else None
    return Response(ox.serialize(triples, format=rdf_format, prefixes=prefixes), media_type=media)


_GRAPH_ALIASES = {
    "application/xml": "application/rdf+xml",
    "text/xml": "application/rdf+xml",
    "application/json": "application/ld+json",
}
_GRAPH_SHORT_NAMES = {"xml": "application/rdf+xml", "json": "application/ld+json"}
"""What ``xml``/``json`` mean for a graph: SPARQLWrapper sends ``format=xml`` (and XML media types
in Accept) for every query form by default, and a CONSTRUCT's XML is RDF/XML."""


async def answer_query(request: Request, state: HubState) -> Response:
    params = await _protocol_params(request)
    if "update" in params:
        raise HTTPException(
            400, "an update is POSTed to /sparql/update (application/sparql-update or a form); "
            "GET and /sparql only run queries",
        )
    queries = params.get("query", [])
    format_param = next(iter(params.get("format") or params.get("output") or []), None)
    if not queries:
        if request.method == "GET":
            return service_description(request, format_param)
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
    graph = form in ("CONSTRUCT", "DESCRIBE")
    offered = GRAPH_TYPES if graph else SELECT_TYPES
    if graph and format_param:
        format_param = _GRAPH_SHORT_NAMES.get(format_param.strip().lower(), format_param)
    accept = requested_type(format_param, request.headers.get("accept"))
    try:
        media = choose(accept, offered, extra_aliases=_GRAPH_ALIASES if graph else None)
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    job = QueryJob(
        query=query,
        result_format=media,
        default_graphs=tuple(params.get("default-graph-uri", [])),
        named_graphs=tuple(params.get("named-graph-uri", [])),
        base_iri=str(request.url_for("sparql_get")),
        public=not is_operator(request, state),
    )
    maintained = await run_in_threadpool(
        maintained_answer, ready(state.observatory_public if job.public else state.observatory), query, media,
        job.default_graphs + job.named_graphs)
    if maintained is not None:
        return Response(maintained, media_type=media)
    result = await run_cached(state.runner, state.cache, state.write_lock, job)
    if isinstance(result, bytes):
        return Response(result, media_type=media)
    return StreamingResponse(_stream(result), media_type=media)


@router.get("/sparql", name="sparql_get", summary="SPARQL query (or the Service Description)")
async def sparql_get(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """SPARQL 1.1 Protocol query via GET; without ``query``, the Service Description."""
    return await answer_query(request, state)


@router.post("/sparql", name="sparql_post", summary="SPARQL query via POST")
async def sparql_post(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """SPARQL 1.1 Protocol query via POST (direct or URL-encoded)."""
    return await answer_query(request, state)

"""``/api/{collection}``: REST over the hub classes, JSON-LD with the hub context.

Listings page by opaque cursors in IRI order and filter by text, keyword, theme, territory (with
the territory hierarchy), bounding box, update time and source; a page is a Hydra collection in
JSON-LD (or Turtle, N-Triples, RDF/XML), or GeoJSON or CSV (:mod:`hub.views.collection`,
:mod:`hub.views.flat`), chosen by ``Accept`` or ``format=``, with ``Link`` headers to the first and
next pages. Items negotiate JSON-LD, Turtle, N-Triples, RDF/XML and HTML. Writes (bearer token)
go through the ingest pipeline, so SHACL, provenance and the change log apply as for any import
(:mod:`hub.api.routes.rest_edit`). Item paths: see :mod:`hub.views.entity`. Items other than HTML
carry a strong ``ETag`` (see :mod:`hub.api.routes.preconditions`) and answer ``If-None-Match``
with 304.
"""

from __future__ import annotations

from dataclasses import replace
from urllib.parse import unquote

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response

from hub.api.negotiation import NotAcceptable, choose
from hub.api.routes import rest_formats
from hub.api.routes.preconditions import content_hash, etag, not_modified
from hub.api.state import HubState, hub_state
from hub.rdf.io import serialize
from hub.views import collection as hydra
from hub.views import listing
from hub.views.entity import (
    Entity,
    incoming,
    load_entity,
    provenance,
    singular_prefix,
    types_and_names,
)
from hub.views.html import render
from hub.views.jsonld import compact_node, document, hub_context
from hub.views.listing import BadParameter, Filters
from hub.vocab import COLLECTIONS, MLG, XSD, class_iris

router = APIRouter(tags=["REST"])

ITEM_TYPES = (
    "application/ld+json", "text/turtle", "text/html", "application/n-triples", "application/rdf+xml",
)
LIST_TYPES = (
    "application/json", "application/ld+json", "application/geo+json", "text/csv",
    "text/turtle", "application/n-triples", "application/rdf+xml",
)
RDF_FORMATS = {
    "text/turtle": (ox.RdfFormat.TURTLE, "ttl"),
    "application/n-triples": (ox.RdfFormat.N_TRIPLES, "nt"),
    "application/rdf+xml": (ox.RdfFormat.RDF_XML, "rdf"),
}
JSON_ALIAS = {"application/json": "application/ld+json"}
COLLECTION = Path(
    description="one of: " + ", ".join(COLLECTIONS), examples=list(COLLECTIONS)
)
ENTITY_ID = Path(
    description="the IRI after {base}{class}/ (e.g. pni for {base}project/pni); or _ with ?iri=",
    examples=["_"],
)
FORMAT = Query(
    None, alias="format",
    description="instead of Accept: json, jsonld, geojson, csv, turtle, nt, rdfxml, html "
    "(as each route offers) or a media type",
)
TURTLE_PREFIXES = {"mlg": MLG, "xsd": XSD, "schema": "https://schema.org/"}


def check_collection(name: str) -> str:
    if name not in COLLECTIONS:
        raise HTTPException(
            404, f"unknown collection {name!r}; collections are: {', '.join(COLLECTIONS)}"
        )
    return name


def _negotiate(request: Request, offered: tuple[str, ...], aliases: dict[str, str]) -> str:
    """The media type to answer with: ``format=`` (a short name or a media type) wins over
    ``Accept``."""
    try:
        wanted = rest_formats.requested(request.query_params.get("format"))
        return choose(wanted or request.headers.get("accept"), offered, extra_aliases=aliases)
    except BadParameter as exc:
        raise HTTPException(400, str(exc)) from exc
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc


def _valid_iri(iri: str) -> str:
    try:
        ox.NamedNode(iri)
    except ValueError as exc:
        raise HTTPException(400, f"invalid IRI {iri!r}: {exc}") from exc
    if ":" not in iri:
        raise HTTPException(400, f"invalid IRI {iri!r}: an absolute IRI is required")
    return iri


def _candidate_iris(request: Request, collection: str, base: str) -> list[str]:
    """The IRIs an item URL may name: ``?iri=``, else ``{base}{class}/{id}`` (as sent, then
    percent-decoded)."""
    given = request.query_params.get("iri")
    if given:
        return [_valid_iri(given)]
    raw = request.scope.get("raw_path") or request.url.path.encode()
    path = raw.decode("utf-8", errors="replace").split("?", 1)[0]
    prefix = f"/api/{collection}/"
    local = path[len(prefix):] if path.startswith(prefix) else request.path_params["entity_id"]
    if not local:
        raise HTTPException(404, "no entity id in the path")
    candidates = [singular_prefix(base, collection) + local]
    decoded = singular_prefix(base, collection) + unquote(local)
    if decoded != candidates[0]:
        candidates.append(decoded)
    return [c for c in candidates if _iri_ok(c)] or [_valid_iri(candidates[0])]


def _iri_ok(iri: str) -> bool:
    try:
        ox.NamedNode(iri)
    except ValueError:
        return False
    return True


def find_entity(state: HubState, request: Request, collection: str) -> Entity:
    base = state.config.base_iri
    candidates = _candidate_iris(request, collection, base)
    for iri in candidates:
        entity = load_entity(state.store, base, iri)
        if entity is None:
            continue
        if set(entity.types) & set(class_iris(COLLECTIONS[collection])):
            return entity
        kinds = ", ".join(hub_context().compact(t) for t in entity.types) or "untyped"
        raise HTTPException(404, f"<{iri}> is not in /api/{collection} (it is: {kinds})")
    raise HTTPException(404, f"no entity <{candidates[0]}> in /api/{collection}")


def entity_tag(entity: Entity, media: str) -> str | None:
    """The ``ETag`` of an item representation; none for HTML, which also shows what links to
    the entity and so changes without the entity changing."""
    if media == "text/html":
        return None
    return etag(content_hash(entity.triples), RDF_FORMATS[media][1] if media in RDF_FORMATS else "")


def entity_response(state: HubState, entity: Entity, media: str, status: int = 200,
                     json_media: str = "application/ld+json",
                     headers: dict[str, str] | None = None) -> Response:
    base = state.config.base_iri
    tag = entity_tag(entity, media)
    headers = {**(headers or {}), **({"ETag": tag} if tag else {}), "Vary": "Accept"}
    if media in RDF_FORMATS:
        body = serialize(entity.triples, RDF_FORMATS[media][0], TURTLE_PREFIXES)
        return Response(body, status, headers, media_type=media)
    if media == "text/html":
        referrers = incoming(state.store, entity.iri)
        linked = sorted({
            t.object.value for t in entity.triples if isinstance(t.object, ox.NamedNode)
        } | {s for s, _ in referrers})
        page = render(
            entity, base, provenance(state.store, entity.iri, entity.graphs),
            types_and_names(state.store, linked), referrers,
        )
        return Response(page, status, headers, media_type="text/html; charset=utf-8")
    node = compact_node(entity.iri, entity.triples, entity.embedded)
    return JSONResponse(document(node), status, headers, media_type=json_media)


def _item(request: Request, state: HubState, collection: str) -> Response:
    """GET of one entity, with 304 when the client's ``If-None-Match`` names this version."""
    media = _negotiate(request, ITEM_TYPES, JSON_ALIAS)
    entity = find_entity(state, request, collection)
    tag = entity_tag(entity, media)
    if tag is not None and not_modified(request.headers, tag):
        return Response(status_code=304, headers={"ETag": tag, "Vary": "Accept"})
    return entity_response(state, entity, media, json_media=_json_media(request))


def _json_media(request: Request) -> str:
    accept = (request.headers.get("accept") or "").lower()
    return "application/json" if "application/json" in accept and "ld+json" not in accept else (
        "application/ld+json"
    )


@router.get("/api/context.jsonld", summary="The hub JSON-LD context")
def context() -> Response:
    return JSONResponse(hub_context().document, media_type="application/ld+json")


@router.get("/api/collection-context.jsonld", summary="The JSON-LD context of listing pages")
def collection_context() -> Response:
    return JSONResponse(hydra.listing_context(), media_type="application/ld+json")


@router.get("/api/{collection}", summary="List a collection (cursor pagination, filters)")
def list_collection(
    request: Request,
    collection: str = COLLECTION,
    limit: int = Query(listing.DEFAULT_LIMIT, ge=1, le=listing.MAX_LIMIT),
    cursor: str | None = Query(None, description="opaque: the 'next' link carries it"),
    q: str | None = Query(None, description="case-insensitive text in names and descriptions"),
    tag: str | None = Query(None, description="a keyword (mlg:keyword), case-insensitive"),
    theme: str | None = Query(None, description="a theme (mlg:theme), case-insensitive"),
    territory: str | None = Query(
        None, description="a commune, EPCI, department or region code (84, region-84, 03310, "
        "200041465) or a territory IRI; includes the territories inside it (partOfTerritory+)"
    ),
    bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat"),
    updated_since: str | None = Query(None, description="ISO 8601 date-time"),
    source: str | None = Query(None, description="provenance source name"),
    count: bool = Query(False, description="also count every matching item"),
    iri: str | None = Query(None, description="return this entity instead of a listing"),
    fmt: str | None = FORMAT,
    state: HubState = Depends(hub_state),
) -> Response:
    check_collection(collection)
    if iri:
        return _item(request, state, collection)
    media = _negotiate(request, LIST_TYPES, {"application/json": "application/json"})
    try:
        after = listing.decode_cursor(cursor) if cursor else None
        filters = Filters(
            q=q or None,
            tag=tag or None,
            theme=theme or None,
            territory=territory or None,
            bbox=listing.parse_bbox(bbox) if bbox else None,
            updated_since=listing.parse_since(updated_since) if updated_since else None,
            source=source or None,
            grid=state.grid_ready,
        )
    except BadParameter as exc:
        raise HTTPException(400, str(exc)) from exc
    if media == "application/geo+json":
        filters = replace(filters, located=True)
    base = state.config.base_iri
    iris, more = listing.list_page(state.store, collection, filters, after, limit)
    items = hydra.summary_items(iris, listing.summary_triples(state.store, iris), collection, base)
    paging = ("cursor", "limit", "count", "format")
    page = hydra.Page(
        collection=collection,
        items=items,
        collection_url=str(request.url.remove_query_params(paging)),
        page_url=str(request.url),
        first_url=str(request.url.remove_query_params("cursor")),
        next_url=(
            str(request.url.include_query_params(cursor=listing.encode_cursor(iris[-1])))
            if more and iris else None
        ),
        total=listing.count(state.store, collection, filters) if count else None,
    )
    return rest_formats.list_response(page, media, str(request.url_for("collection_context")))


@router.get("/api/{collection}/{entity_id:path}", summary="One entity: JSON-LD, Turtle or HTML")
def get_entity(
    request: Request,
    collection: str = COLLECTION,
    entity_id: str = ENTITY_ID,
    fmt: str | None = FORMAT,
    state: HubState = Depends(hub_state),
) -> Response:
    check_collection(collection)
    return _item(request, state, collection)

"""``/api/{collection}``: REST over the hub classes, JSON-LD with the hub context.

Listings page by opaque cursors in IRI order and filter by text, keyword, theme, territory (with
the territory hierarchy), bounding box, update time and source. Items negotiate JSON-LD, Turtle
and HTML. Writes (bearer token) go through the ingest pipeline, so SHACL, provenance and the
change log apply as for any import. Item paths: see :mod:`hub.api.rest_entity`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Path, Query, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.api import rest_query
from hub.api.auth import require_token
from hub.api.negotiation import NotAcceptable, choose
from hub.api.rest_body import Body, BodyError, merge, read_body
from hub.api.rest_entity import (
    Entity,
    best_text,
    entity_path,
    incoming,
    load_entity,
    provenance,
    singular_prefix,
    types_and_names,
)
from hub.api.rest_html import render
from hub.api.rest_jsonld import compact_node, document, hub_context, node_key
from hub.api.rest_query import BadParameter, Filters
from hub.api.rest_write import InvalidEntity, delete_entity, write_entity
from hub.api.state import HubState, hub_state
from hub.rdfio import serialize
from hub.vocab import COLLECTIONS, MLG, RDF_TYPE, XSD, class_iris

router = APIRouter(tags=["REST"])

ITEM_TYPES = ("application/ld+json", "text/turtle", "text/html")
LIST_TYPES = ("application/json", "application/ld+json")
JSON_ALIAS = {"application/json": "application/ld+json"}
COLLECTION = Path(
    description="one of: " + ", ".join(COLLECTIONS), examples=list(COLLECTIONS)
)
ENTITY_ID = Path(
    description="the IRI after {base}{class}/ (e.g. pni for {base}project/pni); or _ with ?iri=",
    examples=["_"],
)
WRITE_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "content": {
            "application/ld+json": {
                "schema": {"type": "object"},
                "example": {"name": "Tiers-lieu des Lilas", "shortDescription": "Un tiers-lieu"},
            },
            "application/json": {"schema": {"type": "object"}},
            "text/turtle": {"schema": {"type": "string"}},
        },
    }
}
TURTLE_PREFIXES = {"mlg": MLG, "xsd": XSD, "schema": "https://schema.org/"}


def _collection(name: str) -> str:
    if name not in COLLECTIONS:
        raise HTTPException(
            404, f"unknown collection {name!r}; collections are: {', '.join(COLLECTIONS)}"
        )
    return name


def _negotiate(request: Request, offered: tuple[str, ...], aliases: dict[str, str]) -> str:
    try:
        return choose(request.headers.get("accept"), offered, extra_aliases=aliases)
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


def _find(state: HubState, request: Request, collection: str) -> Entity:
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


def _entity_response(state: HubState, entity: Entity, media: str, status: int = 200,
                     json_media: str = "application/ld+json",
                     headers: dict[str, str] | None = None) -> Response:
    base = state.config.base_iri
    if media == "text/turtle":
        body = serialize(entity.triples, ox.RdfFormat.TURTLE, TURTLE_PREFIXES)
        return Response(body, status, headers, media_type="text/turtle")
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


def _json_media(request: Request) -> str:
    accept = (request.headers.get("accept") or "").lower()
    return "application/json" if "application/json" in accept and "ld+json" not in accept else (
        "application/ld+json"
    )


@router.get("/api/context.jsonld", summary="The hub JSON-LD context")
def context() -> Response:
    return JSONResponse(hub_context().document, media_type="application/ld+json")


def _summary(
    ctx_iris: list[str], triples: list[ox.Triple], collection: str, base: str
) -> list[dict[str, Any]]:
    ctx = hub_context()
    subclasses = class_iris(COLLECTIONS[collection])
    by_subject: dict[str, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(node_key(t.subject), []).append(t)
    items = []
    for iri in ctx_iris:
        values: dict[str, list[ox.NamedNode | ox.Literal]] = {}
        for t in by_subject.get(iri, []):
            values.setdefault(t.predicate.value, []).append(t.object)  # type: ignore[arg-type]
        types = [o.value for o in values.pop(RDF_TYPE, []) if o.value in subclasses]
        specific = sorted(types, key=lambda t: subclasses.index(t))[-1] if types else subclasses[0]
        item: dict[str, Any] = {"id": iri, "type": ctx.compact(specific)}
        for prop in rest_query.SUMMARY_PROPERTIES:
            objects = values.get(MLG + prop, [])
            literals = [o for o in objects if isinstance(o, ox.Literal)]
            if prop in ("keyword", "theme"):
                if literals:
                    item[prop] = sorted({o.value for o in literals})
            elif prop in ("latitude", "longitude"):
                try:
                    item[prop] = float(literals[0].value) if literals else None
                except ValueError:
                    item[prop] = literals[0].value
            elif prop == "url":
                if objects:
                    item[prop] = objects[0].value
            else:
                text = best_text(literals)
                if text is not None or prop in ("name", "shortDescription"):
                    item[prop] = text
        item = {k: v for k, v in item.items() if v is not None or k in ("name",)}
        item["href"] = entity_path(base, collection, iri)
        items.append(item)
    return items


@router.get("/api/{collection}", summary="List a collection (cursor pagination, filters)")
def list_collection(
    request: Request,
    collection: str = COLLECTION,
    limit: int = Query(rest_query.DEFAULT_LIMIT, ge=1, le=rest_query.MAX_LIMIT),
    cursor: str | None = Query(None, description="opaque: the 'next' link carries it"),
    q: str | None = Query(None, description="case-insensitive text in names and descriptions"),
    tag: str | None = Query(None, description="a keyword (mlg:keyword), case-insensitive"),
    theme: str | None = Query(None, description="a theme (mlg:theme), case-insensitive"),
    territory: str | None = Query(
        None, description="INSEE code; includes the territories inside it (partOfTerritory+)"
    ),
    bbox: str | None = Query(None, description="minLon,minLat,maxLon,maxLat"),
    updated_since: str | None = Query(None, description="ISO 8601 date-time"),
    source: str | None = Query(None, description="provenance source name"),
    count: bool = Query(False, description="also count every matching item"),
    iri: str | None = Query(None, description="return this entity instead of a listing"),
    state: HubState = Depends(hub_state),
) -> Response:
    _collection(collection)
    if iri:
        entity = _find(state, request, collection)
        media = _negotiate(request, ITEM_TYPES, JSON_ALIAS)
        return _entity_response(state, entity, media, json_media=_json_media(request))
    media = _negotiate(request, LIST_TYPES, {"application/json": "application/json"})
    try:
        after = rest_query.decode_cursor(cursor) if cursor else None
        filters = Filters(
            q=q or None,
            tag=tag or None,
            theme=theme or None,
            territory=territory or None,
            bbox=rest_query.parse_bbox(bbox) if bbox else None,
            updated_since=rest_query.parse_since(updated_since) if updated_since else None,
            source=source or None,
        )
    except BadParameter as exc:
        raise HTTPException(400, str(exc)) from exc
    base = state.config.base_iri
    iris, more = rest_query.list_page(state.store, collection, filters, after, limit)
    items = _summary(iris, rest_query.summary_triples(state.store, iris), collection, base)
    next_url = (
        str(request.url.include_query_params(cursor=rest_query.encode_cursor(iris[-1])))
        if more and iris else None
    )
    page: dict[str, Any] = {
        "@context": str(request.url_for("context")),
        "type": "Collection",
        "collection": collection,
        "items": items,
        "next": next_url,
    }
    if count:
        page["count"] = rest_query.count(state.store, collection, filters)
    return JSONResponse(page, media_type=media)


@router.get("/api/{collection}/{entity_id:path}", summary="One entity: JSON-LD, Turtle or HTML")
def get_entity(
    request: Request,
    collection: str = COLLECTION,
    entity_id: str = ENTITY_ID,
    state: HubState = Depends(hub_state),
) -> Response:
    _collection(collection)
    media = _negotiate(request, ITEM_TYPES, JSON_ALIAS)
    entity = _find(state, request, collection)
    return _entity_response(state, entity, media, json_media=_json_media(request))


def _invalid(exc: InvalidEntity) -> Response:
    return JSONResponse(exc.as_json(), status_code=422)


def _write(state: HubState, iri: str, triples: list[ox.Triple], graphs: list[str]) -> None:
    """:func:`write_entity`, with data the pipeline cannot even represent answered as 400."""
    try:
        write_entity(state, iri, triples, graphs)
    except (TypeError, ValueError) as exc:
        raise HTTPException(400, f"the data cannot be stored: {exc}") from exc


def _read(state: HubState, body: bytes, content_type: str, collection: str,
          target: str | None, patch: bool = False) -> Body:
    try:
        return read_body(
            body, content_type, collection=collection, base=state.config.base_iri,
            target=target, patch=patch,
            exists=lambda iri: load_entity(state.store, state.config.base_iri, iri) is not None,
        )
    except BodyError as exc:
        if exc.status == 422:
            raise InvalidEntity(str(exc)) from exc
        raise HTTPException(exc.status, str(exc)) from exc


@router.post(
    "/api/{collection}", summary="Create an entity (JSON-LD or Turtle)", status_code=201,
    dependencies=[Depends(require_token)], openapi_extra=WRITE_BODY,
)
async def create_entity(
    request: Request, collection: str = COLLECTION, state: HubState = Depends(hub_state)
) -> Response:
    _collection(collection)
    body = await request.body()
    content_type = request.headers.get("content-type", "")

    base = state.config.base_iri

    def work() -> Response:
        try:
            parsed = _read(state, body, content_type, collection, None)
            if load_entity(state.store, base, parsed.iri) is not None:
                path = entity_path(base, collection, parsed.iri)
                raise HTTPException(
                    409, f"<{parsed.iri}> already exists: PUT or PATCH {path} to change it"
                )
            _write(state, parsed.iri, parsed.triples, [])
        except InvalidEntity as exc:
            return _invalid(exc)
        entity = load_entity(state.store, base, parsed.iri)
        assert entity is not None
        location = str(request.base_url).rstrip("/") + entity_path(base, collection, parsed.iri)
        return _entity_response(state, entity, "application/ld+json", 201,
                                headers={"Location": location})

    return await run_in_threadpool(work)


async def _update(request: Request, collection: str, state: HubState, patch: bool) -> Response:
    _collection(collection)
    body = await request.body()
    content_type = request.headers.get("content-type", "")

    base = state.config.base_iri

    def work() -> Response:
        current = _find(state, request, collection)
        try:
            parsed = _read(state, body, content_type, collection, current.iri, patch)
            triples = merge(current.triples, parsed, base, collection) if patch else parsed.triples
            _write(state, current.iri, triples, current.graphs)
        except InvalidEntity as exc:
            return _invalid(exc)
        entity = load_entity(state.store, base, current.iri)
        if entity is None:
            raise HTTPException(404, f"<{current.iri}> holds no statements any more")
        return _entity_response(state, entity, "application/ld+json")

    return await run_in_threadpool(work)


@router.put(
    "/api/{collection}/{entity_id:path}", summary="Replace an entity",
    dependencies=[Depends(require_token)], openapi_extra=WRITE_BODY,
)
async def replace_entity(
    request: Request,
    collection: str = COLLECTION,
    entity_id: str = ENTITY_ID,
    state: HubState = Depends(hub_state),
) -> Response:
    return await _update(request, collection, state, patch=False)


@router.patch(
    "/api/{collection}/{entity_id:path}",
    summary="Merge properties into an entity (given properties replace their values; null "
    "removes)",
    dependencies=[Depends(require_token)], openapi_extra=WRITE_BODY,
)
async def patch_entity(
    request: Request,
    collection: str = COLLECTION,
    entity_id: str = ENTITY_ID,
    state: HubState = Depends(hub_state),
) -> Response:
    return await _update(request, collection, state, patch=True)


@router.delete(
    "/api/{collection}/{entity_id:path}", summary="Delete an entity", status_code=204,
    dependencies=[Depends(require_token)],
)
def remove_entity(
    request: Request,
    collection: str = COLLECTION,
    entity_id: str = ENTITY_ID,
    state: HubState = Depends(hub_state),
) -> Response:
    _collection(collection)
    entity = _find(state, request, collection)
    delete_entity(state, entity.iri, entity.graphs)
    return Response(status_code=204)

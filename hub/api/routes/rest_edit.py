"""REST writes: create, replace, merge and delete entities of ``/api/{collection}``.

Each write holds ``HubState.write_lock`` from its read of the stored entity to its commit and to
the read of the result, so concurrent writes queue instead of overwriting each other: every 2xx
is in the store afterwards, and of several creates of one IRI exactly one is 201. Preconditions
(``If-Match``, ``If-None-Match``) are checked against the entity's ``ETag`` under the same lock;
a write answers with the new ``ETag``.
"""

from __future__ import annotations

from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_token
from hub.api.routes.preconditions import check_write, content_hash
from hub.api.routes.rest import (
    COLLECTION,
    ENTITY_ID,
    check_collection,
    entity_response,
    find_entity,
)
from hub.api.routes.rest_body import Body, BodyError, merge, read_body
from hub.api.routes.rest_write import InvalidEntity, delete_entity, write_entity
from hub.api.routes.writes import warning_header
from hub.api.state import HubState, hub_state
from hub.meta.public import companion_graph
from hub.views.entity import entity_path, load_entity

router = APIRouter(tags=["REST"])

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


def _invalid(exc: InvalidEntity) -> Response:
    return JSONResponse(exc.as_json(), status_code=422)


def _write(state: HubState, iri: str, triples: list[ox.Triple], graphs: list[str]) -> dict[str, str]:
    """:func:`write_entity`, with data the pipeline cannot even represent answered as 400; the
    stored record's warnings as a ``Warning`` header (the body is the entity)."""
    try:
        return warning_header([(iri, v) for v in write_entity(state, iri, triples, graphs)])
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
    check_collection(collection)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    base = state.config.base_iri

    def work() -> Response:
        with state.write_lock:
            try:
                parsed = _read(state, body, content_type, collection, None)
                existing = load_entity(state.store, base, parsed.iri)
                check_write(
                    request.headers, content_hash(existing.triples) if existing else None
                )
                if existing is not None:
                    path = entity_path(base, collection, parsed.iri)
                    raise HTTPException(
                        409, f"<{parsed.iri}> already exists: PUT or PATCH {path} to change it"
                    )
                warned = _write(state, parsed.iri, parsed.triples, [])
            except InvalidEntity as exc:
                return _invalid(exc)
            entity = load_entity(state.store, base, parsed.iri)
        if entity is None:
            raise HTTPException(409, f"<{parsed.iri}> was removed before it could be shown")
        location = str(request.base_url).rstrip("/") + entity_path(base, collection, parsed.iri)
        return entity_response(state, entity, "application/ld+json", 201,
                               headers={"Location": location, **warned})

    return await run_in_threadpool(work)


async def _update(request: Request, collection: str, state: HubState, patch: bool) -> Response:
    check_collection(collection)
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    base = state.config.base_iri

    def work() -> Response:
        with state.write_lock:
            current = find_entity(state, request, collection)
            check_write(request.headers, content_hash(current.triples))
            try:
                parsed = _read(state, body, content_type, collection, current.iri, patch)
                # a patch keeps what it does not name, the person's private contacts included
                # (the entity view is public: they are in the companion graphs)
                subject = ox.NamedNode(current.iri)
                private = [t for g in current.graphs
                           for t in state.store.graph_triples(companion_graph(g))
                           if t.subject == subject]
                triples = (
                    merge([*current.own_triples(), *private], parsed, base, collection) if patch
                    else parsed.triples
                )
                warned = _write(state, current.iri, triples, current.graphs)
            except InvalidEntity as exc:
                return _invalid(exc)
            entity = load_entity(state.store, base, current.iri)
        if entity is None:
            raise HTTPException(404, f"<{current.iri}> holds no statements any more")
        return entity_response(state, entity, "application/ld+json", headers=warned)

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
    check_collection(collection)
    with state.write_lock:
        entity = find_entity(state, request, collection)
        check_write(request.headers, content_hash(entity.triples))
        delete_entity(state, entity.iri, entity.graphs)
    return Response(status_code=204)

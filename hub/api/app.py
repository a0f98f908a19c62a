"""Build the FastAPI application around one store."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from hub.api.browsers import BrowserPolicy
from hub.api.http_guards import install_http_guards
from hub.api.metrics import MetricsMiddleware
from hub.api.negotiation import NotAcceptable
from hub.api.query.admission import QueryUnavailable
from hub.api.query.cache import ResultCache
from hub.api.query.remote import RemoteQueryRunner
from hub.api.query.runner import QueryRunner, QueryTimeout, QueryTooLarge
from hub.api.query.update_runner import UpdateTimeout
from hub.api.routes import (
    changes,
    forget,
    graph_store,
    ops,
    rest,
    rest_edit,
    review,
    sparql,
    territories,
    update,
    void,
)
from hub.api.routes.rest_write import InvalidEntity
from hub.api.state import HubState
from hub.clipping import MAX_MESSAGE_CHARS, clip_json
from hub.config import Config
from hub.errors import HubError, NotFound
from hub.pipeline import grid
from hub.pipeline.ingest import Ingestor
from hub.store import open_store
from hub.store.base import Store
from hub.store.remote import RemoteStore
from hub.sync.scheduler import SyncRunner
from hub.territories.catch_up import ensure_placed
from hub.territories.reference import load_configured
from hub.views.observatory_counts import ObservatoryCounts
from hub.web import pages

log = logging.getLogger("maillage.api")

HUB_ERROR_STATUS: tuple[tuple[type[HubError], int], ...] = (
    (NotFound, 404),
    (NotAcceptable, 406),
    (QueryTooLarge, 413),
    (InvalidEntity, 422),
    (QueryUnavailable, 503),  # the hub's state, not the request: retry later
    (QueryTimeout, 503),
    (UpdateTimeout, 503),
)
"""The status of a :class:`HubError` no route mapped itself: the first class it is an instance
of, else 400. Never a 500: a ``HubError`` is by definition not a bug."""


def hub_error_response(exc: HubError) -> JSONResponse:
    """``{"error": message}`` with the status from :data:`HUB_ERROR_STATUS` (and ``Retry-After``
    for the 503s, as :mod:`hub.api.query.statuses` sends it)."""
    status = next((code for cls, code in HUB_ERROR_STATUS if isinstance(exc, cls)), 400)
    if status == 400:
        status = getattr(exc, "status", 400)  # BodyError carries its own
    retry = getattr(exc, "retry_after", 5)
    headers = {"Retry-After": str(max(1, int(retry)))} if status == 503 else None
    body = {"error": clip_json(str(exc), MAX_MESSAGE_CHARS)}
    return JSONResponse(body, status_code=status, headers=headers)


class BodyLimit:
    """Refuse request bodies over the configured size before anything reads them."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None and declared.isdigit() and int(declared) > self.max_bytes:
            response = JSONResponse(
                {"error": f"request body over the {self.max_bytes:,}-byte limit"}, status_code=413
            )
            await response(scope, receive, send)
            return
        received = 0

        async def limited() -> Message:
            nonlocal received
            message = await receive()
            received += len(message.get("body", b"") or b"")
            if received > self.max_bytes:
                raise StarletteHTTPException(413, f"request body over the {self.max_bytes:,}-byte limit")
            return message

        await self.app(scope, limited, send)


def make_runner(config: Config, store: Store) -> QueryRunner | RemoteQueryRunner:
    """Killable worker processes for the embedded store; the server itself for a remote one."""
    spool = Path(config.data_dir) / "spool"
    if isinstance(store, RemoteStore):
        return RemoteQueryRunner(
            store.query_url, config.api.query_timeout, config.api.max_result_bytes, spool,
            auth=store.auth, slots=config.api.query_workers, queue=config.api.query_queue,
        )
    return QueryRunner(
        store_path=config.data_dir / "store",
        workers=config.api.query_workers,
        timeout=config.api.query_timeout,
        max_bytes=config.api.max_result_bytes,
        spool_dir=spool,
        queue=config.api.query_queue,
        memory_mb=config.api.query_memory_mb,
        service_allowlist=tuple(config.api.service_allowlist),
        fast_workers=config.api.query_fast_workers,
        fast_seconds=config.api.query_fast_seconds,
    )


def make_cache(config: Config, store: Store) -> ResultCache | None:
    """The result cache: on for the embedded store (every write goes through this hub); with a
    remote store only when the operator says this hub is its sole writer."""
    if config.api.query_cache_mb <= 0:
        return None
    if isinstance(store, RemoteStore) and not config.api.query_cache_remote:
        return None
    return ResultCache(config.api.query_cache_mb * 1024 * 1024)


def create_app(config: Config) -> FastAPI:
    """The app; the store opens at startup and closes at shutdown."""

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        store = open_store(config)
        load_configured(config, store)  # the territory reference, at the first start only
        ensure_placed(store, config.base_iri, progress=lambda n: log.info(  # once per reference/rules
            "placing the records stored before this reference or these rules: %d so far", n))
        runner = make_runner(config, store)
        hub = HubState(
            config=config,
            store=store,
            ingestor=Ingestor(
                store, config.base_iri, batch_size=config.batch_size, licences=config.licence_of,
                contact_sources=config.contact_sources,
            ),
            runner=runner,
        )
        hub.cache = make_cache(config, store)
        if not isinstance(store, RemoteStore) or config.api.query_cache_remote:
            hub.observatory = ObservatoryCounts(store)  # only exact while this hub logs every write
            hub.observatory_public = ObservatoryCounts(store, public=True)
            for counts in (hub.observatory, hub.observatory_public):  # built before the first visit
                counts.ready()
        hub.grid_ready = grid.complete(store)
        if not hub.grid_ready:
            log.warning("some located entities have no grid cells yet: bounding boxes are "
                        "filtered without the index until `maillage places refresh`")
        hub.syncs = SyncRunner(config, hub.ingestor, hub.write_lock, hub.after_write)
        hub.syncs.start()
        app.state.hub = hub
        log.info("serving the store in %s", config.data_dir)
        try:
            yield
        finally:
            hub.syncs.stop()
            runner.close()
            store.close()

    app = FastAPI(
        title="Maillage",
        version="0.1.0",
        description=(
            "Linked-data hub for territorial and commons communities: SPARQL 1.1, Graph Store "
            "Protocol, REST with JSON-LD, change feed and dataset description."
        ),
        lifespan=lifespan,
        docs_url=None,  # /docs comes from hub.api.routes.docs, with the vendored Swagger UI
        redoc_url=None,
    )
    for module in (sparql, update, graph_store, territories, rest, changes, void, ops, review, forget):
        app.include_router(module.router)
    app.include_router(rest_edit.router)
    app.include_router(pages.router)
    app.mount(pages.STATIC_URL, pages.static_files(), name="static")
    app.add_middleware(MetricsMiddleware)
    app.add_middleware(BrowserPolicy, write_origins=config.api.cors_origins)  # CORS, HEAD, Vary
    app.add_middleware(BodyLimit, max_bytes=config.api.max_request_bytes)
    install_http_guards(app, config)

    @app.exception_handler(HubError)
    async def hub_error(request: Request, exc: HubError) -> Response:
        return hub_error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def bad_request(request: Request, exc: RequestValidationError) -> Response:
        detail = clip_json(exc.errors())  # the errors repeat the refused input: clipped
        return JSONResponse({"error": "invalid request", "detail": detail}, status_code=400)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        return JSONResponse(
            {"error": clip_json(exc.detail, MAX_MESSAGE_CHARS)}, status_code=exc.status_code,
            headers=exc.headers,
        )

    return app

"""``/changes``: the change log as a paged, resumable feed, and as a live Server-Sent Events stream.

The feed follows the spirit of LDES (Linked Data Event Streams) with ActivityStreams 2.0 terms:
every entry is an immutable activity numbered by the gap-free change-log sequence, and a consumer
resumes from the last sequence it processed. See :func:`changes_feed` for the page shape.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from hub.api.state import HubState, hub_state
from hub.iris import change_iri
from hub.meta.changelog import Change, last_sequence, read_changes
from hub.store.base import StoreError
from hub.vocab import MLG, XSD

router = APIRouter(tags=["changes"])
log = logging.getLogger("maillage.api.changes")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_SEQUENCE = 2**63 - 1  # sequences are xsd:integer values a store keeps as 64-bit
POLL_SECONDS = 0.5
PING_SECONDS = 15
STREAM_BATCH = 100
MEDIA_TYPE = "application/ld+json"

ACTIVITY_TYPES = {"create": "Create", "update": "Update", "delete": "Delete"}
CONTEXT: list[object] = [
    "https://www.w3.org/ns/activitystreams",
    {
        "mlg": MLG,
        "xsd": XSD,
        "tree": "https://w3id.org/tree#",
        "ldes": "https://w3id.org/ldes#",
        "sequence": {"@id": "mlg:sequence", "@type": "xsd:integer"},
        "graph": {"@id": "mlg:graph", "@type": "@id"},
        "source": "mlg:source",
        "by": "mlg:writtenBy",
        "last_sequence": {"@id": "mlg:lastSequence", "@type": "xsd:integer"},
    },
]


def _int_param(raw: str | None, name: str, default: int, minimum: int, maximum: int) -> int:
    """A non-negative integer query parameter or header, else a 400 that says what is wrong."""
    if raw is None or raw.strip() == "":
        return default
    text = raw.strip()
    if not text.isascii() or not text.isdigit():
        raise HTTPException(400, f"{name} must be an integer between {minimum} and {maximum}")
    if len(text) > 19 or not minimum <= int(text) <= maximum:
        raise HTTPException(400, f"{name} must be an integer between {minimum} and {maximum}")
    return int(text)


def _source_param(request: Request) -> str | None:
    values = request.query_params.getlist("source")
    if len(values) > 1:
        raise HTTPException(400, "at most one source parameter is allowed")
    return values[0] if values and values[0] else None


def change_item(base: str, change: Change) -> dict[str, object]:
    """One change-log entry as an ActivityStreams activity."""
    item: dict[str, object] = {
        "id": change_iri(base, change.sequence),
        "type": ACTIVITY_TYPES.get(change.operation, "Activity"),
        "sequence": change.sequence,
        "published": change.time.isoformat(),
    }
    if change.entity is not None:
        item["object"] = change.entity
    item["graph"] = change.graph
    item["source"] = change.source
    if change.by is not None:
        item["by"] = change.by
    return item


@router.get(
    "/changes",
    name="changes_feed",
    summary="The change log as a paged, resumable JSON-LD feed (LDES / ActivityStreams 2.0)",
    response_class=JSONResponse,
)
def changes_feed(request: Request, state: HubState = Depends(hub_state)) -> JSONResponse:
    """Entries with a sequence above ``since`` (default 0), oldest first, ``limit`` per page.

    Parameters: ``since`` (integer >= 0, default 0), ``limit`` (1 to 1000, default 100) and
    ``source`` (only the entries written by that source). Anything else malformed is a 400.

    The page (``application/ld+json``)::

        {
          "@context": ["https://www.w3.org/ns/activitystreams", {"mlg": ..., "sequence": ...}],
          "id": "<this page: /changes?since=N&limit=M>",
          "type": "OrderedCollectionPage",
          "partOf": "<.../changes>",
          "orderedItems": [
            {"id": "<base>change/17", "type": "Create" | "Update" | "Delete",
             "sequence": 17, "published": "2025-01-01T12:00:00+00:00",
             "object": "<entity IRI>",  # absent when the change had no single entity
             "graph": "<record graph IRI>", "source": "<source name>",
             "by": "api"}  # only when the API wrote it; "source" stays the record's source
          ],
          "next": "<.../changes?since=<last sequence of this page>&limit=M>",
          "last_sequence": 42
        }

    ``next`` is present only while more entries follow; a consumer stores the sequence of the last
    entry it processed and resumes with ``since=<that sequence>``. ``last_sequence`` is the hub's
    newest sequence at the time of the request (whatever the ``source`` filter). Sequences are
    gap-free and never reused, so walking ``next`` until it disappears visits every entry once.
    For live updates, ``/changes/stream`` sends the same items as Server-Sent Events.
    """
    since = _int_param(request.query_params.get("since"), "since", 0, 0, MAX_SEQUENCE)
    limit = _int_param(request.query_params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    source = _source_param(request)
    changes = read_changes(state.store, since=since, limit=limit + 1, source=source)
    more = len(changes) > limit
    changes = changes[:limit]
    base = state.config.base_iri

    feed_url = request.url_for("changes_feed")
    extra = {"source": source} if source else {}

    def page_url(start: int) -> str:
        return str(feed_url.include_query_params(since=start, limit=limit, **extra))

    body: dict[str, Any] = {
        "@context": CONTEXT,
        "id": page_url(since),
        "type": "OrderedCollectionPage",
        "partOf": str(feed_url),
        "orderedItems": [change_item(base, c) for c in changes],
    }
    if more:
        body["next"] = page_url(changes[-1].sequence)
    body["last_sequence"] = last_sequence(state.store)
    return JSONResponse(body, media_type=MEDIA_TYPE)


@router.get(
    "/changes/stream",
    name="changes_stream",
    summary="New change-log entries as Server-Sent Events",
    response_class=EventSourceResponse,
)
async def changes_stream(request: Request, state: HubState = Depends(hub_state)) -> EventSourceResponse:
    """Every entry above ``since`` (or above the ``Last-Event-ID`` header, which wins) as it commits.

    Each entry is one SSE ``message`` event whose ``id`` is its sequence and whose ``data`` is the
    JSON of the same item as in ``/changes``' ``orderedItems``. The hub polls its change log
    about every 0.5 s and sends a comment line every 15 s so that proxies keep the connection.
    Browsers' ``EventSource`` reconnects with ``Last-Event-ID`` by itself, so nothing is lost or
    sent twice across a reconnection. ``source=`` filters as in ``/changes``.
    """
    since = _int_param(request.query_params.get("since"), "since", 0, 0, MAX_SEQUENCE)
    resumed = request.headers.get("last-event-id")
    if resumed is not None and resumed.strip():
        since = _int_param(resumed, "Last-Event-ID", 0, 0, MAX_SEQUENCE)
    source = _source_param(request)
    base = state.config.base_iri

    async def events() -> AsyncIterator[ServerSentEvent]:
        cursor = since
        yield ServerSentEvent(comment=f"maillage change stream after sequence {cursor}", retry=2000)
        while True:  # sse-starlette cancels this generator when the client goes away
            try:
                changes = await run_in_threadpool(
                    read_changes, state.store, cursor, STREAM_BATCH, source
                )
            except StoreError as exc:  # end the stream; the client resumes with Last-Event-ID
                log.warning("change stream stopped: %s", exc)
                return
            for change in changes:
                yield ServerSentEvent(
                    id=str(change.sequence),
                    data=json.dumps(change_item(base, change), ensure_ascii=False),
                )
                cursor = change.sequence
            if len(changes) < STREAM_BATCH:
                await asyncio.sleep(POLL_SECONDS)

    return EventSourceResponse(
        events(), ping=PING_SECONDS, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )

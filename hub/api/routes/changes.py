"""``/changes``: the change log as a Linked Data Event Stream, and as a live Server-Sent Events stream.

The feed is an LDES (``ldes:EventStream``, TREE pages linked by ``tree:relation``) whose members
are versions of entities, ActivityStreams activities numbered by the gap-free change-log
sequence: a consumer resumes from the last sequence it processed (see :mod:`hub.views.ldes` for
the shape, :func:`changes_feed` for paging and caching). JSON-LD with the hub's own context by
default, TriG, N-Quads or Turtle (members' states left out: Turtle has no named graphs) by
negotiation. Peer hubs read the same feed.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
from collections.abc import AsyncIterator
from typing import Any

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from sse_starlette import EventSourceResponse, ServerSentEvent
from starlette.concurrency import run_in_threadpool

from hub.api.negotiation import NotAcceptable, choose
from hub.api.state import HubState, hub_state
from hub.meta.changelog import Change, last_sequence, read_changes, read_states
from hub.store.base import StoreError
from hub.views.ldes import CONTEXT, member, page

router = APIRouter(tags=["changes"])
log = logging.getLogger("maillage.api.changes")

DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
MAX_SEQUENCE = 2**63 - 1  # sequences are xsd:integer values a store keeps as 64-bit
POLL_SECONDS = 0.5
PING_SECONDS = 15
STREAM_BATCH = 100
MEDIA_TYPE = "application/ld+json"
OFFERED = ("application/ld+json", "application/trig", "application/n-quads", "text/turtle")
RDF_FORMATS = {
    "application/trig": ox.RdfFormat.TRIG,
    "application/n-quads": ox.RdfFormat.N_QUADS,
    "text/turtle": ox.RdfFormat.TURTLE,
}
FULL_PAGE_CACHE = "public, max-age=31536000, immutable"
OPEN_PAGE_CACHE = "public, max-age=1, must-revalidate"


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


def _public_states(state: HubState, changes: list[Change]) -> dict[int, list[ox.Triple]]:
    """The record graphs after each change: what the graph held, persons' contact data already
    left out at commit (hub.meta.public.split_contacts), so what anonymous readers may see."""
    return read_states(state.store, (c.sequence for c in changes))


@router.get("/context/ldes.jsonld", name="ldes_context", include_in_schema=False)
def ldes_context() -> JSONResponse:
    """The JSON-LD context of ``/changes``, served here so that no reader needs the network."""
    return JSONResponse(
        {"@context": CONTEXT},
        media_type=MEDIA_TYPE,
        headers={"Cache-Control": "public, max-age=86400"},
    )


@router.get(
    "/changes",
    name="changes_feed",
    summary="The change log as a Linked Data Event Stream (JSON-LD, TriG, N-Quads, Turtle)",
    response_class=JSONResponse,
)
def changes_feed(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """Entries with a sequence above ``since`` (default 0), oldest first, ``limit`` per page.

    Parameters: ``since`` (integer >= 0, default 0), ``limit`` (1 to 1000, default 100) and
    ``source`` (only the entries written by that source). Anything else malformed is a 400.

    The page (``application/ld+json``, its context inline and at ``/context/ldes.jsonld``)::

        {
          "@context": {...},
          "id": "<this page: /changes?since=N&limit=M>",
          "type": "OrderedCollectionPage",
          "partOf": "<.../changes>",          # the ldes:EventStream
          "orderedItems": [
            {"id": "<base>change/17", "type": "Create" | "Update" | "Delete",
             "sequence": 17, "published": "2025-01-01T12:00:00+00:00",
             "object": "<entity IRI>", "isVersionOf": "<entity IRI>",
             "graph": "<record graph IRI>", "source": "<source name>", "sourceId": "...",
             "by": "api",        # only when the API wrote it; "source" stays the record's
             "@graph": [...]}    # creates and updates: the record graph after the change
          ],
          "next": "<.../changes?since=<last sequence of this page>&limit=M>",
          "relation": [{"type": "GreaterThanRelation", "path": "mlg:sequence", ...}],
          "last_sequence": 42,   # only on the open (last) page
          "@included": [{"type": "EventStream", "member": [...], "view": ...}, ...]
        }

    A full page (``limit`` entries) always has ``next``, even before the next page has
    entries, so it never changes: it is served ``immutable`` with an ``ETag``. The open page,
    with fewer entries, has no ``next`` and carries ``last_sequence``, the hub's newest
    sequence (whatever the ``source`` filter). A consumer walks ``next`` until a page has fewer
    than ``limit`` entries, stores the last sequence it processed and resumes with
    ``since=<that sequence>``. ``/changes/stream`` sends new entries as Server-Sent Events.
    """
    since = _int_param(request.query_params.get("since"), "since", 0, 0, MAX_SEQUENCE)
    limit = _int_param(request.query_params.get("limit"), "limit", DEFAULT_LIMIT, 1, MAX_LIMIT)
    source = _source_param(request)
    try:
        media = choose(request.headers.get("accept"), OFFERED)
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    changes = read_changes(state.store, since=since, limit=limit, source=source)
    full = len(changes) >= limit
    feed_url = request.url_for("changes_feed")
    extra = {"source": source} if source else {}

    def page_url(start: int) -> str:
        return str(feed_url.include_query_params(since=start, limit=limit, **extra))

    body = page(
        state.config.base_iri,
        str(feed_url),
        page_url,
        since,
        limit,
        changes,
        _public_states(state, changes),
        None if full else last_sequence(state.store),
    )
    content, media_type = _render(body, media)
    etag = '"' + hashlib.sha256(content).hexdigest()[:32] + '"'
    headers = {
        "ETag": etag,
        "Cache-Control": FULL_PAGE_CACHE if full else OPEN_PAGE_CACHE,
        "Vary": "Accept",
    }
    if etag in (t.strip() for t in request.headers.get("if-none-match", "").split(",")):
        return Response(status_code=304, headers=headers)
    return Response(content, media_type=media_type, headers=headers)


def _render(body: dict[str, Any], media: str) -> tuple[bytes, str]:
    """The page in the negotiated syntax: JSON-LD as built, else parsed and written by
    pyoxigraph (the context is inline: nothing is fetched)."""
    data = json.dumps(body, ensure_ascii=False).encode()
    if media == MEDIA_TYPE:
        return data, MEDIA_TYPE
    quads = ox.parse(data, ox.RdfFormat.JSON_LD)
    if media == "text/turtle":
        default = (q.triple for q in quads if isinstance(q.graph_name, ox.DefaultGraph))
        out = ox.serialize(default, format=ox.RdfFormat.TURTLE)
    else:
        out = ox.serialize(quads, format=RDF_FORMATS[media])
    return out or b"", media


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
                states = await run_in_threadpool(_public_states, state, changes)
            except StoreError as exc:  # end the stream; the client resumes with Last-Event-ID
                log.warning("change stream stopped: %s", exc)
                return
            for change in changes:
                yield ServerSentEvent(
                    id=str(change.sequence),
                    data=json.dumps(member(base, change, states.get(change.sequence)), ensure_ascii=False),
                )
                cursor = change.sequence
            if len(changes) < STREAM_BATCH:
                await asyncio.sleep(POLL_SECONDS)

    return EventSourceResponse(
        events(), ping=PING_SECONDS, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    )

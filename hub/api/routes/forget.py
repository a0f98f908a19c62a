"""``POST /forget``: erase a person from a running hub (``maillage forget`` needs the store to
itself; this route does the same under the hub's write lock, see :mod:`hub.pipeline.forget`)."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_token
from hub.api.state import HubState, hub_state
from hub.pipeline.forget import forget

router = APIRouter(tags=["privacy"])


def _forget(state: HubState, entity: str) -> dict[str, object]:
    with state.write_lock:  # nothing known about the IRI: NotFound, a 404 from the app's handler
        erasure = forget(state.ingestor, entity)
        state.after_write()
    return erasure.as_dict()


@router.post(
    "/forget",
    summary="Erase a person: records, contact data, quarantine, copies in the change log",
    dependencies=[Depends(require_token)],
)
async def forget_entity(
    iri: str = Query(..., description="The IRI of the person (the entity) to erase"),
    state: HubState = Depends(hub_state),
) -> dict[str, object]:
    """Removes the entity's record graphs and their private contact graphs, the quarantine
    entries that carry it, its sync states, conflicts and match candidates, and the copies of
    its records the change log kept (``/changes`` members lose their state). Each record graph
    gets a tombstone in ``/changes`` (``by: "forget"``) that peer hubs follow. Answers the counts
    and the tombstones; 404 when the hub holds nothing about the IRI."""
    return await run_in_threadpool(_forget, state, iri)

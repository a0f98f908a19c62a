"""Decisions only a person can take: conflicts to resolve and identity matches to confirm."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_operator, require_token
from hub.api.state import HubState, hub_state
from hub.meta.candidates import list_candidates
from hub.pipeline.match import accept, reject
from hub.sync.resolve import ConflictError, resolve

router = APIRouter(tags=["review"])


@router.get("/matches", summary="Records that may be an entity the hub already knows",
            dependencies=[Depends(require_operator)])
def matches(state: HubState = Depends(hub_state)) -> list[dict[str, object]]:
    """Pairs (new entity, existing entity) with a confidence and the reason, most likely first."""
    return [c.as_dict() for c in list_candidates(state.store)]


def _decide(state: HubState, action: object, candidate_id: str) -> dict[str, object]:
    with state.write_lock:  # an unknown id is a NotFound: 404 from the app's HubError handler
        pair = action(state.ingestor, candidate_id)  # type: ignore[operator]
        state.after_write()
    return dict(pair.as_dict())


@router.post(
    "/matches/{candidate_id}/accept", summary="Same thing: merge", dependencies=[Depends(require_token)]
)
async def accept_match(candidate_id: str, state: HubState = Depends(hub_state)) -> dict[str, object]:
    return await run_in_threadpool(_decide, state, accept, candidate_id)


@router.post(
    "/matches/{candidate_id}/reject", summary="Different things", dependencies=[Depends(require_token)]
)
async def reject_match(candidate_id: str, state: HubState = Depends(hub_state)) -> dict[str, object]:
    return await run_in_threadpool(_decide, state, reject, candidate_id)


@router.post(
    "/conflicts/{conflict_id}/resolve",
    summary="Keep the hub's or the source's value",
    dependencies=[Depends(require_token)],
)
async def resolve_conflict(
    conflict_id: str,
    keep: str = Query(
        pattern="^(hub|source|value)$",
        description="source: keep its value; hub: write the hub's value; value: write `value` everywhere",
    ),
    value: str | None = Query(default=None, max_length=100_000, description="The value, with keep=value"),
    state: HubState = Depends(hub_state),
) -> dict[str, object]:
    def run() -> dict[str, object]:
        with state.write_lock:
            try:
                conflict = resolve(state.ingestor, conflict_id, keep, value)
            except ConflictError as exc:
                status = 404 if str(exc).startswith("no conflict") else 400
                raise HTTPException(status, str(exc)) from exc
            state.after_write()
        return {**conflict.as_dict(), "kept": keep}

    return await run_in_threadpool(run)

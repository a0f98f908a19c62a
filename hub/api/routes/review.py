"""Decisions only a person can take: conflicts to resolve and identity matches to confirm."""

from __future__ import annotations

from fastapi import APIRouter, Depends, HTTPException, Query
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_operator, require_token
from hub.api.state import HubState, hub_state
from hub.meta.candidates import list_candidates
from hub.meta.placements import list_placements
from hub.pipeline.match import accept, reject
from hub.pipeline.place_again import choice_plan
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


@router.get("/places", summary="Town names that name several communes, waiting for a choice",
            dependencies=[Depends(require_operator)])
def places(state: HubState = Depends(hub_state)) -> list[dict[str, object]]:
    """Each name with the INSEE codes of the communes it may be, most populous first."""
    return [c.as_dict() for c in list_placements(state.store)]


@router.post(
    "/places/{candidate_id}/choose",
    summary="Place the record in this commune, now and at every re-sync",
    dependencies=[Depends(require_token)],
)
async def choose_place(
    candidate_id: str,
    insee: str = Query(pattern="^[0-9][0-9AB][0-9]{3}$", description="INSEE code of the commune meant"),
    state: HubState = Depends(hub_state),
) -> dict[str, object]:
    def run() -> dict[str, object]:
        with state.write_lock:  # unknown id: 404; a commune not among the candidates: 400
            candidate, tx = choice_plan(state.store, state.ingestor.placer, candidate_id, insee)
            state.store.commit(tx)
            state.after_write()
        for counts in (state.observatory, state.observatory_public):  # placed: not in the change log
            if counts is not None:
                counts.changed([candidate.entity])
        return {**candidate.as_dict(), "chosen": insee}

    return await run_in_threadpool(run)


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

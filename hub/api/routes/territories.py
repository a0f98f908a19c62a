"""Territory names as a user types, for the web filter and any client that wants the same."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from hub.api.state import HubState, hub_state
from hub.views.territory_filter import MAX_SUGGESTIONS, suggest

router = APIRouter(tags=["rest"])


@router.get("/api/territory-names", summary="Territories whose name starts with q")
def territory_names(
    q: str = Query("", max_length=100, description="the start of a name; accents and case ignored"),
    limit: int = Query(10, ge=1, le=MAX_SUGGESTIONS),
    state: HubState = Depends(hub_state),
) -> list[dict[str, object]]:
    """Regions, departments, EPCI then communes, each largest first; ``filter`` is the value to
    pass as ``territory=`` to the listings."""
    return [s.as_json() for s in suggest(state.store, q, limit)]

"""Territory names as a user types, for the web filter and any client that wants the same."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query

from hub.api.state import HubState, hub_state
from hub.views.territory_filter import MAX_SUGGESTIONS, Suggestion, other_territories, suggest

router = APIRouter(tags=["rest"])


@router.get("/api/territory-names", summary="Territories whose name starts with q")
def territory_names(
    q: str = Query("", max_length=100, description="the start of a name; accents and case ignored"),
    limit: int = Query(10, ge=1, le=MAX_SUGGESTIONS),
    state: HubState = Depends(hub_state),
) -> list[dict[str, object]]:
    """Regions, departments, EPCI then communes, each largest first; ``filter`` is the value to
    pass as ``territory=`` to the listings. The reference's names are served from memory when
    the hub holds the reference (``[hub] territories``)."""
    if not state.config.territories:
        return [s.as_json() for s in suggest(state.store, q, limit)]
    base = state.config.base_iri
    return [s.as_json() for s in suggest(state.store, q, limit, base, _others(state, base))]


_OTHERS: dict[int, tuple[int, list[Suggestion]]] = {}
"""Per hub: the store's territories outside the reference, and the write generation they were
read at (a key stroke must not query the store; a write, a sync included, makes them stale)."""


def _others(state: HubState, base: str) -> list[Suggestion]:
    generation = state.generation  # read first: a write during the query makes the next call ask
    cached = _OTHERS.get(id(state))
    if cached is None or cached[0] != generation:
        cached = (generation, other_territories(state.store, base))
        _OTHERS[id(state)] = cached
    return cached[1]

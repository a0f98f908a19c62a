"""Resolving a conflict: a person decides, with ``maillage conflicts resolve``, whether the hub's
value should win after all. The conflict records themselves live in :mod:`hub.meta.conflicts`;
resolving touches the sync state too, which is why this is not there.
"""

from __future__ import annotations

from hub.errors import HubError
from hub.iris import graph_iri
from hub.meta.conflicts import Conflict, forget_conflict, list_conflicts
from hub.meta.syncstate import state_for_entity, states_for_entity
from hub.pipeline.ingest import Ingestor

RESOLVER = "conflict-resolution"


class ConflictError(HubError):
    """No such conflict, or it cannot be resolved as asked."""


def resolve(ingestor: Ingestor, conflict_id: str, keep: str, value: str | None = None) -> Conflict:
    """``keep="source"``: forget the conflict. ``keep="hub"``: push the hub's value at next sync.
    ``keep="value"``: the next sync writes ``value`` to every source that holds the entity."""
    found = list_conflicts(ingestor.store, conflict_id=conflict_id)
    if not found:
        raise ConflictError(f"no conflict {conflict_id[:80]!r} (see `maillage conflicts`)")
    conflict = found[0]
    forget = forget_conflict(conflict_id)
    if keep == "source":
        ingestor.ingest_batch([], None, [forget])
    elif keep == "hub":
        state = state_for_entity(ingestor.store, conflict.source, conflict.entity)
        if state is None:
            raise ConflictError(f"no sync state for {conflict.entity} in {conflict.source}")
        state.forced.add(conflict.parameter)
        graph = graph_iri(ingestor.base, conflict.source, state.source_id)
        ingestor.touch([(conflict.entity, graph)], RESOLVER, [forget, state.update()])
    elif keep == "value":
        if not value or conflict.prop is None:
            raise ConflictError("give the value to write (and the conflict must name its hub property)")
        states = states_for_entity(ingestor.store, conflict.entity)
        for state in states:
            state.overrides[conflict.prop] = value
        graph = graph_iri(ingestor.base, conflict.source, states[0].source_id if states else conflict.entity)
        ingestor.touch([(conflict.entity, graph)], RESOLVER, [forget, *(s.update() for s in states)])
    else:
        raise ConflictError("keep must be 'source', 'hub' or 'value'")
    return conflict

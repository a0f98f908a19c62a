"""The outbound loop every writing connector shares: which changes reach which entity push."""

from __future__ import annotations

from collections.abc import Callable, Iterator

from connectors.base import Batch
from hub.matching import BASELINE
from hub.meta.changelog import Change
from hub.records import MetaUpdate, Record
from hub.store.base import Store
from hub.syncstate import state_for_entity

PushEntity = Callable[[str], tuple[list[Record], list[MetaUpdate]]]


def push_changes(
    store: Store, source: str, changes: list[Change], push_entity: PushEntity
) -> Iterator[Batch]:
    """One batch per change, its sequence as the cursor. A source's own changes are not written
    back (echo suppression), except to start a pair the read just linked (see hub.matching)."""
    handled: set[str] = set()
    for change in changes:
        entity = change.entity
        if entity is None or entity in handled:
            yield Batch([], str(change.sequence))
            continue
        if change.source == source:
            state = state_for_entity(store, source, entity)
            if state is None or not state.pushed.get(BASELINE):
                yield Batch([], str(change.sequence))
                continue
        handled.add(entity)
        records, updates = push_entity(entity)
        yield Batch(records, str(change.sequence), updates)

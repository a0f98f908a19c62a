"""Writing the hub's changes into a source: the one copy of the per-entity outbound algorithm.

For each entity changed by another source, four projections are compared field by field: what
the other sources say now (*hub*), what the hub last pushed (*pushed*), what the source said
when the hub last read it (*base*) and what it says now (*current*). A hub value is written only
where the source still holds the base value; where a person changed the same field meanwhile,
the person's value stays and a conflict is recorded (``hub.sync.merge``). Each write is based on
the revision just fetched, so a write that raced with a person's edit is refused by the source
and merged again. The writer (``connectors.base.protocol.Writer``) only does the I/O.

Crash safety: each entity's outcome (the item as written, the new sync state, its conflicts)
is one :class:`Outcome` that the engine commits with the change's sequence as the outbound
cursor, before the next entity starts. A kill between a create and its commit leaves an item
the hub did not record: the next push starts with ``resuming`` set, and the writer adopts it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass, field

from connectors.base.protocol import (
    AlreadyExists,
    Current,
    Projection,
    StaleRevision,
    Target,
    Writer,
    WriteRefused,
)
from hub.meta.candidates import pending
from hub.meta.changelog import Change
from hub.meta.conflicts import blocked_properties
from hub.meta.syncstate import SyncState, state_for_entity
from hub.records import MetaUpdate, Record
from hub.store.base import Store
from hub.sync.merge import conflict, plan, settled
from hub.sync.view import deleted_from, entity_triples, hub_classes, source_id_of

log = logging.getLogger("maillage.sync")
ATTEMPTS = 3
KEPT_CHANGING = "the item kept changing while the hub wrote"


@dataclass
class Outcome:
    """What one change led to, committed in one transaction with ``cursor`` (its sequence)."""

    cursor: str
    records: list[Record] = field(default_factory=list)
    state: list[MetaUpdate] = field(default_factory=list)


class Outbound:
    """Pushes the hub's changes to one source through its writer."""

    def __init__(self, store: Store, source: str, writer: Writer) -> None:
        self.store = store
        self.source = source
        self.writer = writer
        self._resuming = True

    def push(self, changes: list[Change]) -> Iterator[Outcome]:
        """One outcome per change. A source's own changes are not written back (echo
        suppression), except to start a pair the read just linked (``hub.pipeline.match``)."""
        self._resuming = True  # the previous push may have stopped half-way (crash, error)
        handled: set[str] = set()
        for change in changes:
            entity = change.entity
            cursor = str(change.sequence)
            if entity is None or entity in handled:
                yield Outcome(cursor)
                continue
            if change.source == self.source:
                state = state_for_entity(self.store, self.source, entity)
                if state is None or not state.baseline:
                    yield Outcome(cursor)
                    continue
            handled.add(entity)
            records, updates = self.push_entity(entity)
            yield Outcome(cursor, records, updates)

    def push_entity(self, entity: str) -> tuple[list[Record], list[MetaUpdate]]:
        resuming, self._resuming = self._resuming, False
        target = self.writer.target(hub_classes(self.store, entity))
        if target is None:
            return [], []
        hub = self._project(target, entity, other_sources=True)
        if not hub or not target.required <= hub.keys():
            return [], []
        state = state_for_entity(self.store, self.source, entity)
        if state is not None and state.baseline:
            # a pair the hub just linked: what each side holds now is the starting point
            return [], [SyncState(self.source, entity, state.source_id, dict(hub)).update()]
        key = source_id_of(self.store, entity, self.source) or (state.source_id if state else None)
        if key is None:
            if pending(self.store, entity) or deleted_from(self.store, entity, self.source):
                return [], []  # waiting for a person, or a person deleted its item here
            return self._create(target, entity, hub, resuming)
        base = self._project(target, entity, other_sources=False)
        pushed = state.merge_base() if state else base
        chosen = state.overrides if state else {}
        withdrawn = _withdrawn(target, hub, pushed)
        if settled(hub, pushed, base) and not chosen and not withdrawn:
            return [], [SyncState(self.source, entity, key, {**pushed, **hub}).update()]
        for _ in range(ATTEMPTS):
            current = self.writer.fetch(target, key, entity)
            if current is None:
                log.warning("%s %s of %s is gone from %s; not recreated", target.name, key, entity,
                            self.source)
                return [], []
            updates, conflicts = self._merge(target, entity, hub, pushed, base, chosen, current)
            new_state = SyncState(self.source, entity, key, {**pushed, **hub, **updates})
            if not updates:
                return [], [new_state.update(), *conflicts]
            try:
                written = self.writer.update(target, current, updates)
            except StaleRevision:
                log.info("%s changed while the hub wrote it: reading it again", current.label or key)
                continue
            except WriteRefused as exc:
                return [], [*conflicts, self._refused(entity, exc)]
            return _records(written), [new_state.update(), *conflicts]
        return [], [conflict(self.source, entity, "*", "", KEPT_CHANGING, KEPT_CHANGING)]

    def _merge(
        self,
        target: Target,
        entity: str,
        hub: Projection,
        pushed: Projection,
        base: Projection,
        chosen: dict[str, str],
        current: Current,
    ) -> tuple[Projection, list[MetaUpdate]]:
        """The fields to write and the conflict records, for the item as it is now."""
        merge = plan(hub, pushed, base, current.fields)
        merge.updates.update(_withdrawn(target, hub, pushed))
        blocked = blocked_properties(self.store, entity)
        updates = {f: v for f, v in merge.updates.items() if target.properties.get(f) not in blocked}
        for prop, value in chosen.items():  # a value a person chose to settle a conflict
            chosen_field = target.overridable.get(prop)
            if chosen_field is not None and current.fields.get(chosen_field) != value:
                updates[chosen_field] = value
        where = f"{current.label}: " if current.label else ""
        conflicts = [
            conflict(
                self.source,
                entity,
                name,
                ours,
                theirs,
                f"{where}'{name}' was changed both in the hub and in {self.source}; "
                f"the value in {self.source} was kept",
                target.properties.get(name),
            )
            for name, ours, theirs in merge.conflicts
        ]
        return updates, conflicts

    def _create(
        self, target: Target, entity: str, hub: Projection, resuming: bool
    ) -> tuple[list[Record], list[MetaUpdate]]:
        try:
            created = self.writer.create(target, hub, entity, resuming=resuming)
        except AlreadyExists as exc:
            return [], [conflict(self.source, entity, exc.field, exc.value, str(exc), str(exc))]
        except WriteRefused as exc:
            return [], [self._refused(entity, exc)]
        if created is None:
            return [], []
        state = SyncState(self.source, entity, created.source_id, dict(hub))
        return _records(created), [state.update()]

    def _project(self, target: Target, entity: str, *, other_sources: bool) -> Projection:
        triples = entity_triples(self.store, entity, self.source, other_sources=other_sources)
        return self.writer.project(target, triples, entity)

    def _refused(self, entity: str, exc: WriteRefused) -> MetaUpdate:
        message = str(exc)
        return conflict(
            self.source, entity, "*", "", message, f"{self.source} refused the hub's change: {message}"
        )


def _withdrawn(target: Target, hub: Projection, pushed: Projection) -> Projection:
    """Shown-only fields the hub no longer has a value for are emptied: the source mirrors the
    other side there, so (say) a member who left disappears. (The source's own projection never
    holds them: they are not read.)"""
    return {name: "" for name in sorted(target.shown_only) if pushed.get(name) and name not in hub}


def _records(item: Current) -> list[Record]:
    return [item.record] if item.record is not None else []

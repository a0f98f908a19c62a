"""Writing the hub's changes to Communecter through its own save endpoint.

Elements the hub creates carry the platform's source marker (``source.key`` = the mapping's
``source_key``) and are remembered in the sync state, so they are recognised when read back.
Updates send only the fields that changed in the hub since the last push, and only where the
platform still holds what the hub last read (the shared three-way merge); a field changed on
both sides is left as the platform has it and recorded as a conflict.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterator
from typing import Any

import httpx
from hub.syncstate import SyncState, state_for_entity

from connectors.base import Batch
from connectors.base.hubview import deleted_from, entity_triples, hub_classes, source_id_of
from connectors.base.push import push_changes
from connectors.communecter.client import CommunecterClient, CommunecterError, form_fields
from connectors.communecter.elements import ElementMapper, element_id, linked_ids, with_tag
from connectors.communecter.mapping import InstanceMapping, TypeMapping
from connectors.communecter.reader import CommunecterReader, Element
from hub.meta.candidates import pending
from hub.meta.changelog import Change
from hub.pipeline.match import BASELINE
from hub.records import MetaUpdate, Record
from hub.store.base import Store
from hub.sync.merge import Projection, blocked_properties, conflict, plan, settled, split_overrides

log = logging.getLogger("maillage.communecter")


class CommunecterWriter:
    def __init__(
        self,
        client: CommunecterClient,
        mapping: InstanceMapping,
        mapper: ElementMapper,
        reader: CommunecterReader,
        store: Store,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.mapper = mapper
        self.reader = reader
        self.store = store
        self.source = mapper.identity.source
        self._resuming = True

    def push(self, changes: list[Change]) -> Iterator[Batch]:
        self._resuming = True  # the previous push may have stopped half-way (crash, error)
        return push_changes(self.store, self.source, changes, self._push_entity)

    def _push_entity(self, entity: str) -> tuple[list[Record], list[MetaUpdate]]:
        resuming, self._resuming = self._resuming, False
        kind = next((k for c in hub_classes(self.store, entity) if (k := self.mapping.for_class(c))), None)
        if kind is None or not kind.writable:
            return [], []
        hub = self.mapper.project(
            kind,
            entity_triples(self.store, entity, self.source, other_sources=True),
            entity,
            self._element_of,
        )
        if "name" not in hub:
            return [], []
        state = state_for_entity(self.store, self.source, entity)
        if state is not None and state.pushed.get(BASELINE):
            # a pair the hub just linked: what each side holds now is the starting point
            return [], [SyncState(self.source, entity, state.source_id, dict(hub)).update()]
        key = source_id_of(self.store, entity, self.source) or (state.source_id if state else None)
        if key is None:
            if pending(self.store, entity) or deleted_from(self.store, entity, self.source):
                return [], []  # waiting for a person, or a person deleted its element here
            return self._create(entity, kind, hub, resuming)
        base = self.mapper.project(
            kind,
            entity_triples(self.store, entity, self.source, other_sources=False),
            entity,
            self._element_of,
        )
        pushed, chosen = split_overrides(state.pushed) if state else (base, {})
        if settled(hub, pushed, base) and not chosen:
            return [], [SyncState(self.source, entity, key, {**pushed, **hub}).update()]
        current = self.reader.fetch(kind, key)
        if current is None:
            log.warning("element %s of %s is gone from the platform; not recreated", key, entity)
            return [], []
        now_there = self._projection(current, entity)
        merge = plan(hub, pushed, base, now_there)
        blocked = blocked_properties(self.store, entity)
        merge.updates = {f: v for f, v in merge.updates.items() if _property(kind, f) not in blocked}
        for prop, value in chosen.items():  # a value a person chose to settle a conflict
            field = next((f for f in kind.fields if f.property == prop and f.write), None)
            if field is not None and now_there.get(field.path) != value:
                merge.updates[field.path] = value
        conflicts = [
            conflict(
                self.source,
                entity,
                field,
                ours,
                theirs,
                f"'{field}' was changed both in the hub and on the platform; the platform's value was kept",
                _property(kind, field),
            )
            for field, ours, theirs in merge.conflicts
        ]
        new_state = SyncState(self.source, entity, key, {**pushed, **hub, **merge.updates})
        if not merge.updates:
            return [], [new_state.update(), *conflicts]
        answer = self._save(kind, self.mapper.form(kind, merge.updates), key)
        if not answer.get("result"):
            return [], [*conflicts, self._refused(entity, answer)]
        saved = self.reader.fetch(kind, key)
        records = [self._record(saved, entity)] if saved else []
        return records, [new_state.update(), *conflicts]

    def _create(
        self, entity: str, kind: TypeMapping, hub: Projection, resuming: bool
    ) -> tuple[list[Record], list[MetaUpdate]]:
        """``resuming``: the first entity of a push, which a killed run may have saved already
        (each entity's outcome commits before the next one starts, so only this one can be)."""
        fields = {**dict(kind.create_defaults), **self.mapper.form(kind, hub), "source.id": entity}
        fields = with_tag(kind, fields)
        if resuming and (adopted := self._ours(kind, hub.get("name", ""), entity)) is not None:
            return self._adopt(entity, hub, kind, adopted)  # saved by a run killed before recording it
        try:
            answer = self._save(kind, fields, None, retries=0)
        except CommunecterError as exc:
            # the answer may have been lost after the platform saved it: look before sending again
            lost = isinstance(exc.__cause__, httpx.TimeoutException)
            if (adopted := self._look_for(kind, hub.get("name", ""), entity, lost)) is not None:
                return self._adopt(entity, hub, kind, adopted)
            answer = self._save(kind, fields, None)
        if not answer.get("result"):
            return [], [self._refused(entity, answer)]
        return self._adopt(
            entity, hub, kind, str(answer.get("id") or element_id(answer.get("map") or {}, ""))
        )

    def _look_for(self, kind: TypeMapping, name: str, entity: str, patiently: bool) -> str | None:
        """The element a create made although its answer never came. After a timeout the
        platform may still be saving: look again, the waits doubling, for one more timeout."""
        settings = self.client.settings
        deadline = time.monotonic() + (settings.timeout if patiently else 0)
        wait = settings.retry_wait
        while (found := self._ours(kind, name, entity)) is None and time.monotonic() < deadline:
            time.sleep(min(wait, max(deadline - time.monotonic(), 0)))
            wait *= 2
        return found

    def _adopt(
        self, entity: str, hub: Projection, kind: TypeMapping, key: str
    ) -> tuple[list[Record], list[MetaUpdate]]:
        saved = self.reader.fetch(kind, key)
        state = SyncState(self.source, entity, key, dict(hub))
        return ([self._record(saved, entity)] if saved else []), [state.update()]

    def _save(
        self,
        kind: TypeMapping,
        fields: dict[str, str | list[str]],
        key: str | None,
        retries: int | None = None,
    ) -> dict[str, Any]:
        values: dict[str, str | list[str]] = {"collection": kind.collection, "key": kind.controller, **fields}
        if key is None:  # the marker that tells the platform (and the hub) where it came from
            values.update(
                {
                    "source.key": self.mapping.source_key,
                    "source.keys": [self.mapping.source_key],
                    "source.insertOrign": "import",
                }
            )
        else:
            values["id"] = key
        return self.client.post("/co2/element/save", form_fields(values), auth=True, retries=retries)

    def _projection(self, element: Element, entity: str) -> Projection:
        kind, _, _ = element
        return self.mapper.project(
            kind, list(self._record(element, entity).triples), entity, self._element_of
        )

    def _record(self, element: Element, entity: str) -> Record:
        kind, key, raw = element
        links = self.reader.resolver({t for link in kind.links for t in linked_ids(raw, link.kind)}, {entity})
        return self.mapper.record(kind, key, raw, entity, links, self.reader.hidden())

    def _ours(self, kind: TypeMapping, name: str, entity: str) -> str | None:
        """An element of that name that the hub created for this entity (source marker + id)."""
        results = (
            self.client.post(
                "/co2/search/globalautocomplete",
                {
                    "name": name,
                    "searchType[]": [kind.collection],
                    "sourceKey": self.mapping.source_key,
                    "indexStep": "50",
                },
            ).get("results")
            or {}
        )
        candidates = results.values() if isinstance(results, dict) else results
        for candidate in candidates:
            key = element_id(candidate, "")
            answer = self.client.post(f"/co2/element/get/type/{kind.collection}/id/{key}", {}, auth=True)
            source = (answer.get("map") or {}).get("source") or {}
            if isinstance(source, dict) and source.get("id") == entity:
                return key
        return None

    def _element_of(self, entity: str) -> tuple[str, str] | None:
        """(collection, element id) of an entity that lives on this platform."""
        key = source_id_of(self.store, entity, self.source)
        state = None if key else state_for_entity(self.store, self.source, entity)
        key = key or (state.source_id if state else None)
        kind = next((k for c in hub_classes(self.store, entity) if (k := self.mapping.for_class(c))), None)
        return (kind.collection, key) if key and kind else None

    def _refused(self, entity: str, answer: dict[str, Any]) -> MetaUpdate:
        message = str(answer.get("msg") or answer)
        return conflict(
            self.source, entity, "*", "", message, f"the platform refused the hub's change: {message}"
        )


def _property(kind: TypeMapping, path: str) -> str | None:
    field = kind.field(path)
    link = next((k for k in kind.links if path == f"links.{k.kind}"), None)
    return field.property if field else (link.property if link else None)

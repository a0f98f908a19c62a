"""Writing to Communecter through its own save endpoint: the Communecter side of the hub's
outbound sync (the policy, merge and sync state are the hub's: ``hub.sync.outbound``).

Elements the hub creates carry the platform's source marker (``source.key`` = the mapping's
``source_key``, ``source.id`` = the hub entity), so they are recognised when read back and
adopted, not made twice, after a run killed between a save and its record. The platform has
no revisions: an update sends only the changed fields, then reads the element back.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any

import httpx
import pyoxigraph as ox

from connectors.base import Current, HubView, Projection, Target, WriteRefused
from connectors.communecter.client import CommunecterClient, CommunecterError, form_fields
from connectors.communecter.elements import ElementMapper, element_id, linked_ids, with_tag
from connectors.communecter.mapping import InstanceMapping, TypeMapping
from connectors.communecter.reader import CommunecterReader, Element
from hub.records import Record


class CommunecterWriter:
    def __init__(
        self,
        client: CommunecterClient,
        mapping: InstanceMapping,
        mapper: ElementMapper,
        reader: CommunecterReader,
        view: HubView,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.mapper = mapper
        self.reader = reader
        self.view = view

    def target(self, classes: Sequence[str]) -> Target | None:
        kind = self._kind(classes)
        if kind is None or not kind.writable:
            return None
        overridable: dict[str, str] = {}
        for field in reversed([f for f in kind.fields if f.write]):  # the first field wins
            overridable[field.property] = field.path
        properties = {f.path: f.property for f in kind.fields}
        properties.update({f"links.{link.kind}": link.property for link in kind.links})
        return Target(kind.collection, kind, properties, overridable, required=frozenset({"name"}))

    def project(self, target: Target, triples: Sequence[ox.Triple], entity: str) -> Projection:
        return self.mapper.project(target.native, list(triples), entity, self._element_of)

    def fetch(self, target: Target, source_id: str, entity: str) -> Current | None:
        element = self.reader.fetch(target.native, source_id)
        return self._current(element, entity) if element is not None else None

    def update(self, target: Target, current: Current, changes: Projection) -> Current:
        kind: TypeMapping = target.native
        answer = self._save(kind, self.mapper.form(kind, changes), current.source_id)
        if not answer.get("result"):
            raise WriteRefused(str(answer.get("msg") or answer))
        return self._read_back(kind, current.source_id, current.entity)

    def create(self, target: Target, fields: Projection, entity: str, *, resuming: bool) -> Current | None:
        kind: TypeMapping = target.native
        form = {**dict(kind.create_defaults), **self.mapper.form(kind, fields), "source.id": entity}
        form = with_tag(kind, form)
        name = fields.get("name", "")
        if resuming and (adopted := self._ours(kind, name, entity)) is not None:
            return self._read_back(kind, adopted, entity)  # saved by a run killed before recording it
        try:
            answer = self._save(kind, form, None, retries=0)
        except CommunecterError as exc:
            # the answer may have been lost after the platform saved it: look before sending again
            lost = isinstance(exc.__cause__, httpx.TimeoutException)
            if (adopted := self._look_for(kind, name, entity, lost)) is not None:
                return self._read_back(kind, adopted, entity)
            answer = self._save(kind, form, None)
        if not answer.get("result"):
            raise WriteRefused(str(answer.get("msg") or answer))
        key = str(answer.get("id") or element_id(answer.get("map") or {}, ""))
        return self._read_back(kind, key, entity)

    # -- helpers -----------------------------------------------------------------------------
    def _kind(self, classes: Sequence[str]) -> TypeMapping | None:
        return next((k for c in classes if (k := self.mapping.for_class(c))), None)

    def _current(self, element: Element, entity: str) -> Current:
        kind, key, _ = element
        record = self._record(element, entity)
        fields = self.mapper.project(kind, list(record.triples), entity, self._element_of)
        return Current(key, entity, fields, element, key, record)

    def _read_back(self, kind: TypeMapping, key: str, entity: str) -> Current:
        """The element as saved; without a record when it cannot be read back (the sync state is
        recorded all the same: the next read brings it)."""
        saved = self.reader.fetch(kind, key)
        return self._current(saved, entity) if saved is not None else Current(key, entity, {}, None, key)

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

    def _save(
        self,
        kind: TypeMapping,
        fields: dict[str, str | list[str]],
        key: str | None,
        retries: int | None = None,
    ) -> dict[str, Any]:
        values: dict[str, str | list[str]] = {"collection": kind.collection, "key": kind.controller, **fields}
        if key is None:  # the marker that tells the platform (and the hub) where it came from
            marker = self.mapping.source_key
            values.update({"source.key": marker, "source.keys": [marker], "source.insertOrign": "import"})
        else:
            values["id"] = key
        return self.client.post("/co2/element/save", form_fields(values), auth=True, retries=retries)

    def _record(self, element: Element, entity: str) -> Record:
        kind, key, raw = element
        links = self.reader.resolver({t for link in kind.links for t in linked_ids(raw, link.kind)}, {entity})
        return self.mapper.record(kind, key, raw, entity, links, self.reader.hidden())

    def _ours(self, kind: TypeMapping, name: str, entity: str) -> str | None:
        """An element of that name that the hub created for this entity (source marker + id)."""
        form: dict[str, str | list[str]] = {
            "name": name,
            "searchType[]": [kind.collection],
            "sourceKey": self.mapping.source_key,
            "indexStep": "50",
        }
        results = self.client.post("/co2/search/globalautocomplete", form).get("results") or {}
        for candidate in results.values() if isinstance(results, dict) else results:
            key = element_id(candidate, "")
            answer = self.client.post(f"/co2/element/get/type/{kind.collection}/id/{key}", {}, auth=True)
            source = (answer.get("map") or {}).get("source") or {}
            if isinstance(source, dict) and source.get("id") == entity:
                return key
        return None

    def _element_of(self, entity: str) -> tuple[str, str] | None:
        """(collection, element id) of an entity that lives on this platform."""
        key = self.view.source_id(entity)
        kind = self._kind(self.view.classes(entity)) if key else None
        return (kind.collection, key) if key and kind else None

"""Reading a Communecter instance: full passes over the open-data API, then increments.

The open-data API (``/api/<controller>/get``) has no date filter, so a full pass pages through
every element and lets the content hash keep unchanged ones out of the change log; it also finds
deleted elements. Increments use the search's ``lastTimes`` filter (``updated`` later than a
unix time), then read each changed element in full. The cursor holds that time and when the
last full pass ran.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Batch, HubView
from connectors.base.deletions import DEFAULT_LIMIT, check_deletions
from connectors.communecter.client import CommunecterClient, CommunecterError
from connectors.communecter.elements import ElementMapper, element_id, linked_ids
from connectors.communecter.mapping import InstanceMapping, TypeMapping
from hub.records import Record

log = logging.getLogger("maillage.communecter")
Element = tuple[TypeMapping, str, dict[str, Any]]


@dataclass
class Position:
    since: int | None = None
    full_at: str | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> Position:
        raw = json.loads(cursor) if cursor else {}
        return cls(raw.get("since"), raw.get("full_at"))

    def dump(self) -> str:
        return json.dumps({"since": self.since, "full_at": self.full_at})


class CommunecterReader:
    def __init__(
        self,
        client: CommunecterClient,
        mapping: InstanceMapping,
        mapper: ElementMapper,
        view: HubView,
        reconcile_every: timedelta = timedelta(days=1),
        max_deletions: float = DEFAULT_LIMIT,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.mapper = mapper
        self.view = view
        self.reconcile_every = reconcile_every
        self.max_deletions = max_deletions
        self.source = mapper.identity.source
        self.known_types: dict[str, list[str]] = {}
        self._own: frozenset[str] | None = None

    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        self.known_types = {}  # a connector may serve several runs: nothing from the last one
        position = Position.parse(cursor)
        due = position.full_at is None or (
            datetime.now(UTC) - datetime.fromisoformat(position.full_at) > self.reconcile_every
        )
        if full or position.since is None or due:
            yield from self.full_pass()
        else:
            yield from self.increments(position)

    # -- full pass ---------------------------------------------------------------------------
    def full_pass(self) -> Iterator[Batch]:
        since = self._latest_update()
        elements: list[Element] = []
        for kind in self.mapping.read_types():
            found = self._api_pages(kind) if kind.read_via == "api" else self._search_pages([kind], None)
            elements += found
        seen = {key for _, key, _ in elements}
        stored = self._stored_ids()
        gone = [key for key in stored if key not in seen]
        check_deletions(self.source, len(stored), len(gone), self.max_deletions, "elements")
        entities = self._entities([key for _, key, _ in elements])
        self.known_types = {
            entities.get(key) or self.mapper.identity.iri(key): list(kind.classes)
            for kind, key, _ in elements
        }
        position = Position(since, None)
        size = self.mapping.page_size
        for start in range(0, len(elements), size):
            yield Batch(self._records(elements[start : start + size]), position.dump(), self.known_types)
        position.full_at = datetime.now(UTC).isoformat()
        yield Batch(
            [
                Record(source=self.source, source_id=key, triples=(), connector="communecter", deleted=True)
                for key in gone
            ],
            position.dump(),
            self.known_types,
        )

    def _api_pages(self, kind: TypeMapping) -> list[Element]:
        found: list[Element] = []
        index = 0
        params = {"format": "communecter", "key": self.mapping.read_key, "insee": self.mapping.insee}
        while True:
            answer = self.client.get(
                f"/api/{kind.controller}/get/limit/{self.mapping.page_size}/index/{index}",
                **{k: v for k, v in params.items() if v},
            )
            entities = answer.get("entities") or {}  # PHP writes an empty page as []
            if not isinstance(entities, dict):
                raise CommunecterError(f"/api/{kind.controller}/get: 'entities' is not an object")
            found += [
                (typed, str(key), value)
                for key, value in entities.items()
                if isinstance(value, dict) and (typed := self.mapping.kind_of(kind.collection, value))
            ]
            if len(entities) < self.mapping.page_size:
                return found
            index += self.mapping.page_size

    def _search(self, kinds: list[TypeMapping], since: int | None, index: int, step: int) -> dict[str, Any]:
        form: dict[str, str | list[str]] = {
            "searchType[]": list(dict.fromkeys(k.collection for k in kinds)),
            "indexMin": str(index),
            "indexStep": str(step),
        }
        if since is not None:
            form["lastTimes"] = str(since)
        if self.mapping.read_key:
            form["sourceKey"] = self.mapping.read_key
        results = self.client.post("/co2/search/globalautocomplete", form).get("results") or {}
        if isinstance(results, list):
            results = {element_id(r, str(i)): r for i, r in enumerate(results)}
        return dict(results)

    def _search_pages(self, kinds: list[TypeMapping], since: int | None) -> list[Element]:
        found: list[Element] = []
        index, step = 0, self.mapping.page_size
        while True:
            results = self._search(kinds, since, index, step)
            for key, value in results.items():
                collection = str(value.get("type") or value.get("collection") or "")
                kind = self.mapping.kind_of(collection, value)
                if kind is not None:
                    found.append((kind, element_id(value, key), value))
            if len(results) < step:
                return found
            index += step

    def _latest_update(self) -> int | None:
        newest = self._search(self.mapping.read_types(), None, 0, 1)
        times = [int(v.get("updated", 0)) for v in newest.values() if str(v.get("updated", "")).isdigit()]
        return max(times) if times else None

    # -- increments --------------------------------------------------------------------------
    def increments(self, position: Position) -> Iterator[Batch]:
        changed = self._search_pages(self.mapping.read_types(), position.since)
        if not changed:
            return
        stamps = [int(e.get("updated", 0)) for _, _, e in changed if str(e.get("updated", "")).isdigit()]
        new_position = Position(max([position.since or 0, *stamps]), position.full_at)
        elements = [self.fetch(kind, key) or (kind, key, summary) for kind, key, summary in changed]
        yield Batch(self._records([e for e in elements if e is not None]), new_position.dump())

    def fetch(self, kind: TypeMapping, key: str) -> Element | None:
        """One element in full: open data for the types it serves, the element view otherwise."""
        if kind.read_via == "api":
            entities = self.client.get(f"/api/{kind.controller}/get/id/{key}", format="communecter")
            found = (entities.get("entities") or {}).get(key)
        else:
            answer = self.client.post(f"/co2/element/get/type/{kind.collection}/id/{key}", {}, auth=True)
            found = answer.get("map") if answer.get("result") else None
        if not isinstance(found, dict):
            return None
        return self.mapping.kind_of(kind.collection, found) or kind, key, found

    # -- elements to records -----------------------------------------------------------------
    def _records(self, elements: list[Element]) -> list[Record]:
        hidden = self.hidden()
        elements = [e for e in elements if e[1] not in hidden]
        entities = self._entities([key for _, key, _ in elements])
        targets = {t for kind, _, e in elements for link in kind.links for t in linked_ids(e, link.kind)}
        links = self.resolver(
            targets, {entities.get(k) or self.mapper.identity.iri(k) for _, k, _ in elements}
        )
        return [
            self.mapper.record(
                kind, key, element, entities.get(key) or self.mapper.identity.iri(key), links, hidden
            )
            for kind, key, element in elements
        ]

    def hidden(self) -> frozenset[str]:
        """The hub's own account, when people are read: the platform makes it a member of every
        organisation it creates, which says nothing about the community."""
        if self._own is None:
            account = self.client.account_id() if self.mapping.reads_people else None
            self._own = frozenset([account] if account else [])
        return self._own

    def resolver(self, ids: set[str], in_batch: set[str]) -> Callable[[str], str | None]:
        """Element id -> hub IRI for linked elements that are hub entities; None otherwise."""
        entities = self._entities(list(ids))
        iris = {i: entities.get(i) or self.mapper.identity.iri(i) for i in ids}
        typed = set(self.known_types) | in_batch
        unknown = [iri for iri in iris.values() if iri not in typed]
        if unknown:
            typed |= self.view.known(unknown)
        return lambda key: iris.get(key) if iris.get(key) in typed else None

    def _entities(self, keys: list[str]) -> dict[str, str]:
        """Elements the hub created for entities of other sources keep those entities' IRIs."""
        return self.view.entities(keys)

    def _stored_ids(self) -> set[str]:
        return self.view.source_ids()

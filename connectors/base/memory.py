"""An in-memory source behind the real connector protocol: the engine's test double.

What ``httpx.MockTransport`` is to a client, this is to ``hub.sync``: a ``Reader`` and a
``Writer`` over a plain dict, so the sync engine's policies (echo suppression, merge, conflicts,
adoption after a crash, the deletion guard) can be tested without a wiki or a platform, and so
the contract suite (``connectors.base.testing``) has a reference connector every real one is
held to. It is as small as a source can be while still behaving like one:

- an item is a hub class and flat fields named after hub properties (``name``,
  ``shortDescription``…), with a revision that each write bumps and a sequence number that
  orders changes (the cursor of incremental reads);
- a person's edits go through :class:`MemorySource` directly (``create_item``, ``edit_item``,
  ``delete_item``), the hub's through the writer, which refuses a write on a stale revision;
- items the hub creates carry the entity they were made for (``origin``), which is how a
  ``create`` that resumes after a crash finds the item a killed run made instead of a twin.

A source is found by its URL, ``memory://<key>``, in :data:`SOURCES`; the kind ``memory`` is not
registered by default (a test adds it to ``hub.sync.registry.BUILTIN``).
"""

from __future__ import annotations

import itertools
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from connectors.base.deletions import check_deletions, deletion_limit
from connectors.base.protocol import Batch, Current, HubView, Projection, StaleRevision, Target
from hub.records import Record
from hub.vocab import MLG, RDF_TYPE

LANGUAGE_TAGGED = frozenset({"name", "shortDescription", "description"})
SOURCES: dict[str, MemorySource] = {}
"""``memory://<key>`` → the source a connector of that URL reads and writes."""


@dataclass
class Item:
    cls: str
    fields: dict[str, str]
    revision: int = 1
    sequence: int = 0
    origin: str | None = None
    """The hub entity this item was created for (the writer's marker, like a platform's
    ``source.key``): None for a person's item."""


@dataclass
class MemorySource:
    """The source itself: what a person sees and edits, and what the connector reads."""

    key: str
    items: dict[str, Item] = field(default_factory=dict)
    deleted: dict[str, int] = field(default_factory=dict)
    """Id → sequence of its deletion (incremental reads report it once)."""
    writes: int = 0
    """Writes made through the connector (a test counts echoes with it)."""
    _clock: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    def __post_init__(self) -> None:
        SOURCES[self.key] = self

    @property
    def url(self) -> str:
        return f"memory://{self.key}"

    def tick(self) -> int:
        return next(self._clock)

    def create_item(self, cls: str, origin: str | None = None, **fields: str) -> str:
        item_id = f"i{len(self.items) + len(self.deleted) + 1}"
        self.items[item_id] = Item(cls, dict(fields), sequence=self.tick(), origin=origin)
        return item_id

    def edit_item(self, item_id: str, **fields: str) -> None:
        item = self.items[item_id]
        item.fields.update(fields)
        item.fields = {k: v for k, v in item.fields.items() if v != ""}
        item.revision += 1
        item.sequence = self.tick()

    def delete_item(self, item_id: str) -> None:
        del self.items[item_id]
        self.deleted[item_id] = self.tick()


class MemoryConnector:
    """One configured memory source (kind ``memory``); ``options.max_deletions`` as elsewhere."""

    def __init__(self, source: Any, view: HubView) -> None:
        self.name: str = source.name
        self.source = SOURCES[str(source.url).removeprefix("memory://")]
        self.view = view
        self.limit = deletion_limit(source.options)
        self.reader = self
        self.writer = self

    def close(self) -> None:
        pass

    # ---------------------------------------------------------------- reading

    def _subject(self, item_id: str, item: Item, entities: dict[str, str]) -> str:
        """The hub's entity for an item the hub wrote; otherwise an IRI of this source's own."""
        return entities.get(item_id) or item.origin or f"https://memory.example/{self.source.key}/{item_id}"

    def _record(self, item_id: str, item: Item, entities: dict[str, str]) -> Record:
        subject = ox.NamedNode(self._subject(item_id, item, entities))
        triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + item.cls))]
        for prop, value in sorted(item.fields.items()):
            lang = "fr" if prop in LANGUAGE_TAGGED else None
            triples.append(ox.Triple(subject, ox.NamedNode(MLG + prop), ox.Literal(value, language=lang)))
        return Record(source=self.name, source_id=item_id, triples=tuple(triples),
                      revision=str(item.revision), connector="memory")

    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        since = 0 if full or cursor is None else int(cursor)
        items = sorted(((i, it) for i, it in self.source.items.items() if it.sequence > since),
                       key=lambda pair: pair[1].sequence)
        entities = self.view.entities([i for i, _ in items])
        records = [self._record(i, it, entities) for i, it in items]
        if full:
            known = self.view.source_ids()
            gone = sorted(known - set(self.source.items))
            check_deletions(self.name, len(known), len(gone), self.limit, "items")
        else:
            gone = sorted(i for i, at in self.source.deleted.items() if at > since)
        records += [Record(source=self.name, source_id=i, triples=(), connector="memory", deleted=True)
                    for i in gone]
        last = max([since, *(it.sequence for _, it in items), *self.source.deleted.values()])
        types = {self._subject(i, it, entities): [it.cls] for i, it in items}
        yield Batch(records, str(last), types)

    # ---------------------------------------------------------------- writing

    def target(self, classes: Sequence[str]) -> Target | None:
        return Target(name=classes[0], native=classes[0]) if classes else None

    def project(self, target: Target, triples: Sequence[ox.Triple], entity: str) -> Projection:
        values: dict[str, list[str]] = {}
        for t in triples:
            if t.predicate.value.startswith(MLG) and isinstance(t.object, ox.Literal):
                values.setdefault(t.predicate.value[len(MLG):], []).append(t.object.value)
        return {prop: ", ".join(sorted(found)) for prop, found in values.items()}

    def _current(self, item_id: str, item: Item, entity: str) -> Current:
        record = self._record(item_id, item, {item_id: entity})
        return Current(item_id, entity, dict(item.fields), native=item.revision,
                       label=item.fields.get("name", item_id), record=record)

    def fetch(self, target: Target, source_id: str, entity: str) -> Current | None:
        item = self.source.items.get(source_id)
        return self._current(source_id, item, entity) if item is not None else None

    def update(self, target: Target, current: Current, changes: Projection) -> Current:
        item = self.source.items.get(current.source_id)
        if item is None or item.revision != current.native:
            raise StaleRevision(current.source_id)
        self.source.edit_item(current.source_id, **changes)
        self.source.writes += 1
        return self._current(current.source_id, item, current.entity)

    def create(self, target: Target, fields: Projection, entity: str, *, resuming: bool) -> Current | None:
        if "name" not in fields:
            return None
        for item_id, item in self.source.items.items():
            if item.origin == entity:  # a killed run made it: adopt it
                return self._current(item_id, item, entity)
        item_id = self.source.create_item(str(target.native), origin=entity, **fields)
        self.source.writes += 1
        return self._current(item_id, self.source.items[item_id], entity)


def connector(config: Any, source: Any, view: HubView) -> MemoryConnector:
    """Entry point the sync engine looks up by the source's kind."""
    return MemoryConnector(source, view)

"""What a connector is to the hub: a Reader, a Writer, and the read-only HubView they are given.

The hub owns every sync *policy* (matching, echo suppression, the three-way merge, conflicts,
sync state, retries, crash safety: ``hub.sync``); a connector owns only its source's *I/O*: how
to list and read items, how to turn an item into hub triples and back, how to write one. So a
new kind of source costs an adapter, not a study of the hub. The calls below are the whole
contract; each docstring says what the hub relies on, the way httpx documents
``BaseTransport.handle_request``. ``connectors.base.testing`` checks a connector against it.

One sync of a writing source, as the hub drives it::

    for each change in the hub's change log since the last push:
        target = writer.target(classes)              # None: not written to this source
        hub    = writer.project(target, hub triples)  # what the other sources say
        current = writer.fetch(target, id, entity)    # the item now (None: gone, not recreated)
        ... the hub merges hub / last pushed / last read / current per field ...
        writer.update(target, current, changes)  or  writer.create(target, fields, entity, ...)
    for batch in reader.read(cursor):                 # then read what changed in the source
        ... the hub matches, validates and commits batch + cursor in one transaction ...

Nothing here imports the hub's store, pipeline or bookkeeping graph: what a connector needs to
know about the hub's contents it asks the :class:`HubView`.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

import pyoxigraph as ox

from hub.records import Record

Projection = dict[str, str]
"""One normalised string per field of an item (template parameter, element path). Two values
the source would store alike must project to the same string: the hub compares projections to
decide what changed, so a difference in spelling alone would be written back and forth."""


@dataclass(frozen=True)
class Batch:
    """Records read from a source and the cursor to resume *after* them.

    The hub commits the records and the cursor in one transaction: a crash after the commit
    resumes after this batch, a crash before it reads the batch again (and identical records
    change nothing)."""

    records: list[Record]
    cursor: str
    known_types: Mapping[str, Sequence[str]] = field(default_factory=dict)
    """Entity IRI → hub class local names of the entities this *read* will deliver (a whole
    harvest's listing), so a link to an item of a later batch is not refused for want of a
    type. Hand the same mapping object to every batch of a read: the hub converts it once."""


@dataclass(frozen=True)
class Target:
    """Where an entity of some hub classes goes in this source (a wiki template, an element
    type). The hub reads the plain fields; ``native`` is the connector's own description, which
    the hub hands back to the writer and never looks inside."""

    name: str
    """How a person names the target (template, collection), for messages."""
    native: Any
    properties: Mapping[str, str] = field(default_factory=dict)
    """Field → the hub property behind it. An open conflict on a property blocks writing that
    field from every source until a person decides (``maillage conflicts``)."""
    overridable: Mapping[str, str] = field(default_factory=dict)
    """Hub property → the field where a value a person chose to settle a conflict is written."""
    shown_only: frozenset[str] = frozenset()
    """Fields written but never read back (MediaWiki's ``direction = "out"`` parameters): the
    source mirrors the hub there, so a value the hub no longer has is emptied."""
    required: frozenset[str] = frozenset()
    """Fields the hub's projection must hold for the entity to be written here at all."""


@dataclass(frozen=True)
class Current:
    """An item as the source holds it now."""

    source_id: str
    """The item's id in the source, as the reader puts it in ``Record.source_id``."""
    entity: str
    """The hub entity the item holds (the one ``fetch`` or ``create`` was asked about)."""
    fields: Projection
    """Its projection (empty when the item cannot be read as data: the hub then writes nothing
    over what it cannot see)."""
    native: Any = None
    """The connector's own handle (page revision, element): what ``update`` writes on top of."""
    label: str = ""
    """How a person names the item (a page title), for conflict messages."""
    record: Record | None = None
    """The item as a record, when it was just written: the hub commits it with the sync state,
    so its next read finds nothing new (no echo)."""


class StaleRevision(Exception):
    """``update`` found the item changed since ``fetch``: the hub fetches it again and merges
    again (up to three times, then records a conflict)."""


class WriteRefused(Exception):
    """The source refused the write (a validation rule, a permission); the message says why and
    becomes a conflict record, the hub's value staying out of the source."""


class AlreadyExists(Exception):
    """``create`` found an item with the same key that the hub did not make (a person's page of
    that title): linking them is a person's decision, recorded as a conflict."""

    def __init__(self, field: str, value: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.value = value


class HubView(Protocol):
    """What a connector may know of the hub's contents, for one source; read-only.

    Implemented once, over the store, by ``hub.sync.view``; tests use any object with these
    methods. Answers reflect the last commit; a connector must not cache them across reads."""

    source: str
    """The source's name in the configuration."""

    def source_ids(self, only: Iterable[str] | None = None) -> set[str]:
        """Ids of this source's records the hub holds (all, or those among ``only``): the
        deletion check compares them with what the source lists."""
        ...

    def entities(self, source_ids: Iterable[str]) -> dict[str, str]:
        """Source id → hub entity, for items the hub *wrote* here for entities of other sources:
        a reader gives their records that entity's IRI, not one minted from the id."""
        ...

    def known(self, iris: Iterable[str]) -> set[str]:
        """Which of ``iris`` the hub holds as typed entities (a link to anything else is not
        one the hub can follow)."""
        ...

    def source_id(self, entity: str) -> str | None:
        """The id in this source of the item that holds ``entity``, read or written there."""
        ...

    def source_url(self, entity: str) -> str | None:
        """The URL this source gave for ``entity``'s item (its provenance), if it has one."""
        ...

    def name(self, entity: str) -> str | None:
        """The entity's ``mlg:name`` in the hub, in any source."""
        ...

    def classes(self, entity: str) -> list[str]:
        """Local names of the hub classes the entity has."""
        ...

    def ids_by_url(self, urls: Iterable[str]) -> dict[str, str]:
        """URL → id, for this source's records whose provenance is one of ``urls``."""
        ...

    def graphs(self, source_ids: Iterable[str]) -> dict[str, list[str]]:
        """Source id → the hub graphs holding this source's records of that id (a peer hub's
        records keep their origin's graph, so the id alone does not give it)."""
        ...

    def territories(self, names: Iterable[tuple[str, str]]) -> dict[tuple[str, str], list[str]]:
        """(territory class local name, name) → IRIs of the territories of that class the hub
        holds under that name (several: homonymous communes). Only territories the hub holds can
        be linked: a link to any other would be refused by the shapes."""
        ...


class Reader(Protocol):
    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        """Batches of records changed since ``cursor`` (everything when None or ``full``).

        Each batch's cursor must resume *after* that batch and nothing before it: the hub may
        stop between any two batches (a crash, a kill) and call ``read`` again with the last
        committed one. A record whose item is gone is ``Record(..., deleted=True)``; a full read
        lists every item, so the hub can tell what disappeared (``connectors.base.deletions``
        refuses to delete most of a source at once). Raise ``ConnectorError`` when the source
        cannot be used as configured; the hub keeps what was committed."""
        ...


class Writer(Protocol):
    def target(self, classes: Sequence[str]) -> Target | None:
        """Which target carries an entity of these hub classes (local names) here; None when
        the source does not hold such entities or they are not written to it."""
        ...

    def project(self, target: Target, triples: Sequence[ox.Triple], entity: str) -> Projection:
        """Hub triples about ``entity`` → one normalised string per field of ``target``.

        The hub projects the other sources' triples (what to write), this source's own triples
        (what it last read) and, through ``fetch``, the item now, and compares them field by
        field: equal values must give equal strings. Fields the triples say nothing about are
        absent (an absent hub value never erases a field)."""
        ...

    def fetch(self, target: Target, source_id: str, entity: str) -> Current | None:
        """The item ``source_id``, which holds ``entity``, as the source holds it now, with the
        revision ``update`` will write on top of; None when it is gone (the hub does not
        recreate what a person deleted)."""
        ...

    def update(self, target: Target, current: Current, changes: Projection) -> Current:
        """Write ``changes`` (field → new value; "" empties a field) on top of ``current``.

        Must not touch any other field, nor anything else of the item. Raise
        :class:`StaleRevision` when the source says the item changed since ``current`` was
        fetched (the hub re-reads and re-merges), :class:`WriteRefused` when it refuses the
        values. Return the item as written, with its ``record``."""
        ...

    def create(self, target: Target, fields: Projection, entity: str, *, resuming: bool) -> Current | None:
        """Create an item holding ``fields`` for the hub's ``entity``; None when ``fields`` lack
        what the source needs (a title), nothing being written.

        Must be idempotent across a crash: when ``resuming`` (the first entity of a push, the
        only one a killed run can have written without recording it), or when the answer of a
        create was lost, find the item a previous attempt made and return it instead of making
        a twin. Raise :class:`AlreadyExists` when a person's item has the same key,
        :class:`WriteRefused` when the source refuses the values. Return the item with its
        ``record``."""
        ...


class Connector(Protocol):
    """One configured source: the factory registered for its kind builds it from the source's
    settings and a :class:`HubView` (``factory(config, source, view)``)."""

    name: str

    @property
    def reader(self) -> Reader: ...

    @property
    def writer(self) -> Writer | None:
        """None for a source the hub only reads (a peer hub)."""
        ...

    def close(self) -> None:
        """Log out, close connections; the hub may keep a connector open between runs."""
        ...

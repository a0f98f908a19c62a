"""The one protocol every connector implements (MediaWiki, Communecter, peer hubs...).

A connector reads its source incrementally and hands the hub :class:`~hub.records.Record` batches
together with the cursor that resumes *after* them; the hub commits each batch and its cursor in
one transaction (``hub.pipeline.ingest``), so a crash never loses or replays a change. Writing back to a
source goes through :meth:`Connector.push`, which bases every write on the revision the hub last
saw, so a concurrent human edit is detected (and merged or recorded as a conflict) instead of
overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from typing import Protocol

from hub.errors import HubError
from hub.meta.changelog import Change
from hub.records import MetaUpdate, Record


class ConnectorError(HubError):
    """A source cannot be used as configured (unreachable, login refused, not the expected API);
    the message is for the person running the sync."""


@dataclass(frozen=True)
class Batch:
    """Records read from a source and the cursor to resume after them."""

    records: list[Record]
    cursor: str
    state: list[MetaUpdate] = field(default_factory=list)
    """Sync state to commit with the records (pages the hub wrote, conflicts...)."""


class Connector(Protocol):
    """A source the hub reads from and, when the direction allows it, writes to."""

    name: str

    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        """Batches of records changed since ``cursor`` (everything when None or ``full``)."""
        ...

    def known_types(self) -> Mapping[str, list[str]]:
        """Entity IRI -> hub class local names, for entities the current read will deliver."""
        ...

    def push(self, changes: list[Change]) -> Iterator[Batch]:
        """Write the hub's changes to the source; each batch carries the records as the source
        now holds them, the sync state, and (as its cursor) the last change sequence handled."""
        ...

    def close(self) -> None:
        """Log out, close connections."""
        ...


class Reader(Protocol):
    @property
    def known_types(self) -> Mapping[str, list[str]]: ...

    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]: ...


class Writer(Protocol):
    def push(self, changes: list[Change]) -> Iterator[Batch]: ...


class ReaderWriterConnector:
    """A connector made of a reader and a writer over one client: the protocol's three calls
    are theirs, and a connector class only builds them from its source's settings."""

    name: str
    reader: Reader
    writer: Writer

    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        return self.reader.read(cursor, full)

    def known_types(self) -> Mapping[str, list[str]]:
        return self.reader.known_types

    def push(self, changes: list[Change]) -> Iterator[Batch]:
        return self.writer.push(changes)

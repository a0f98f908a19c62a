"""The one protocol every connector implements (MediaWiki, Communecter, peer hubs...).

A connector reads its source incrementally and hands the hub :class:`~hub.records.Record` batches
together with the cursor that resumes *after* them; the hub commits each batch and its cursor in
one transaction (``hub.ingest``), so a crash never loses or replays a change. Writing back to a
source goes through :meth:`Connector.write` with the revision the hub last saw, so a concurrent
human edit is detected instead of overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Protocol

from hub.records import Record


@dataclass(frozen=True)
class Batch:
    """Records read from a source and the cursor to resume after them."""

    records: list[Record]
    cursor: str


@dataclass(frozen=True)
class WriteOutcome:
    """What happened to one outbound write."""

    written: bool
    revision: str | None = None
    conflict: str | None = None


class Connector(Protocol):
    """A source the hub reads from and, when the direction allows it, writes to."""

    name: str

    def read(self, cursor: str | None) -> Iterator[Batch]:
        """Batches of records changed since ``cursor`` (everything when None)."""
        ...

    def write(self, record: Record, base_revision: str | None) -> WriteOutcome:
        """Write one record back; refuse (conflict) if the source moved past ``base_revision``."""
        ...

"""Reading a JSON API: full passes that list everything (and so find deletions), and increments
through an updated-since filter where every endpoint has one.

Without such a filter every read is a full pass: the hub compares each record's content hash
with what it holds, so an unchanged record writes nothing and logs no change. Pages are fetched
ahead in a thread while the hub maps and commits the previous ones (``connectors.base.prefetch``).

Endpoints are read in the mapping's order, and records are committed as they come: a link
resolves to a record this pass listed already, or that the hub holds from the source. List the
linked endpoint first (structures before their services); a link to a record the source does not
list quarantines the record that makes it, with the reason.

Deletions come last, once every endpoint was listed in full: an id the hub holds that no listing
gave is deleted, under ``max_deletions`` (``connectors.base.deletions``). A listing shorter than
the ``total`` its API announced deletes nothing (records moved between pages while it was read).
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Batch, ConnectorError, HubView
from connectors.base.deletions import DEFAULT_LIMIT, check_deletions
from connectors.base.prefetch import Prefetched
from connectors.jsonapi.client import ApiClient, ApiError
from connectors.jsonapi.mapping import ApiMapping, Endpoint
from connectors.jsonapi.paging import Listing, pages
from connectors.jsonapi.records import CONNECTOR, RecordMapper
from connectors.jsonapi.rules import RuleError
from hub.records import Record

log = logging.getLogger("maillage.jsonapi")
OVERLAP = timedelta(minutes=5)
"""An increment asks from a little before the last one began: clocks differ, and records seen
twice change nothing."""


@dataclass
class Position:
    since: str | None = None
    full_at: str | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> Position:
        try:
            raw = json.loads(cursor) if cursor else {}
        except ValueError:
            raw = {}
        return cls(raw.get("since"), raw.get("full_at")) if isinstance(raw, dict) else cls()

    def dump(self) -> str:
        return json.dumps({"since": self.since, "full_at": self.full_at})


class ApiReader:
    def __init__(self, client: ApiClient, mapping: ApiMapping, mapper: RecordMapper, view: HubView,
                 max_deletions: float = DEFAULT_LIMIT, batch_size: int | None = None) -> None:
        self.client = client
        self.mapping = mapping
        self.mapper = mapper
        self.view = view
        self.max_deletions = max_deletions
        self.batch_size = batch_size or mapping.batch_size
        self.source = mapper.source
        self._listed: set[str] = set()

    @property
    def incremental(self) -> bool:
        return all(e.updated_since is not None for e in self.mapping.endpoints)

    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        position = Position.parse(cursor)
        due = position.full_at is None or datetime.now(UTC) - _parse_time(position.full_at) > timedelta(
            hours=self.mapping.reconcile_hours)
        if full or not self.incremental or position.since is None or due:
            yield from self.full_pass(position)
        else:
            yield from self.increments(position)

    # -- full pass ---------------------------------------------------------------------------
    def full_pass(self, position: Position) -> Iterator[Batch]:
        started = datetime.now(UTC)
        self._listed = set()
        short: list[str] = []
        for endpoint in self.mapping.endpoints:
            listing = Listing()
            yield from self._endpoint(endpoint, listing, position.dump(), None)
            if listing.cut is not None:
                short.append(f"{endpoint.name}: {listing.read} read, {listing.cut}")
            elif not listing.complete:
                announced = " then ".join(str(t) for t in sorted(listing.totals, reverse=True))
                short.append(f"{endpoint.name}: {listing.read} read, {announced} announced")
        if short:
            raise ApiError(
                f"{self.source}: the listing is incomplete ({'; '.join(short)}): it changed while it was "
                f"read, or the API pages without end; the records read were kept, nothing was deleted"
            )
        stored = self.view.source_ids()
        gone = sorted(stored - self._listed)
        check_deletions(self.source, len(stored), len(gone), self.max_deletions, "records")
        done = Position(self._since(started), started.isoformat())
        deleted = [Record(source=self.source, source_id=key, triples=(), connector=CONNECTOR, deleted=True)
                   for key in gone]
        for start in range(0, max(len(deleted), 1), self.batch_size):
            yield Batch(deleted[start : start + self.batch_size], done.dump())

    # -- increments --------------------------------------------------------------------------
    def increments(self, position: Position) -> Iterator[Batch]:
        started = datetime.now(UTC)
        self._listed = set()
        for endpoint in self.mapping.endpoints:
            since = endpoint.updated_since
            extra = {since.param: position.since} if since and position.since else None
            listing = Listing()
            yield from self._endpoint(endpoint, listing, position.dump(), extra)
            if listing.cut is not None:  # the increment's time is not moved past what was unread
                raise ApiError(f"{self.source}: {endpoint.name}: {listing.read} read, {listing.cut}; "
                               f"the records read were kept, the next sync asks again")
        yield Batch([], Position(self._since(started), position.full_at).dump())

    def _since(self, started: datetime) -> str | None:
        formats = {e.updated_since.format for e in self.mapping.endpoints if e.updated_since}
        if not formats:
            return None
        return (started - OVERLAP).strftime(formats.pop())

    # -- pages to batches ----------------------------------------------------------------------
    def _endpoint(self, endpoint: Endpoint, listing: Listing, cursor: str,
                  extra: dict[str, str] | None) -> Iterator[Batch]:
        fetched = Prefetched(lambda: pages(self.client, endpoint, listing, extra))
        waiting: list[Any] = []
        try:
            try:
                for page in fetched:
                    waiting += page
                    while len(waiting) >= self.batch_size:
                        yield self._batch(endpoint, waiting[: self.batch_size], cursor, listing)
                        waiting = waiting[self.batch_size :]
            except ConnectorError:
                if waiting:  # the pages read before the one that failed are worth keeping
                    yield self._batch(endpoint, waiting, cursor, listing)
                raise
            if waiting:
                yield self._batch(endpoint, waiting, cursor, listing)
        finally:
            fetched.close()

    def _batch(self, endpoint: Endpoint, items: list[Any], cursor: str, listing: Listing) -> Batch:
        kept = []
        for item in items:
            record_id = self.mapper.record_id(endpoint, item)
            if record_id is not None and not self.mapper.kept(endpoint, item):
                continue  # as if absent: deleted from the hub if it was there
            if record_id is not None:
                self._listed.add(self.mapper.source_id(endpoint, record_id))
            kept.append(item)
        targets = self._link_targets(endpoint, kept)
        places = self._territories(endpoint, kept)
        records = [self.mapper.record(endpoint, item, lambda name, key: targets.get((name, key)),
                                      places.get, listing.license)
                   for item in kept]
        known = {iri: list(self.mapping.endpoint(name).classes) for (name, _), iri in targets.items() if iri}
        return Batch(records, cursor, known)

    def _territories(self, endpoint: Endpoint, items: list[Any]) -> dict[tuple[str, str], str]:
        """(territory class, name) → the one territory the hub holds so named, for every territory
        rule of the items (a name several communes bear links to none: nothing is guessed)."""
        wanted = {key for rule in endpoint.rules if rule.territory for item in items
                  for key in self.mapper.territory_keys(rule, item)}
        if not wanted:
            return {}
        return {key: iris[0] for key, iris in self.view.territories(wanted).items() if len(iris) == 1}

    def _link_targets(self, endpoint: Endpoint, items: list[Any]) -> dict[tuple[str, str], str | None]:
        """(endpoint, id) → entity IRI for every link the items make, when the source lists it
        (in this pass, or in what the hub holds from it); None otherwise."""
        wanted: set[tuple[str, str]] = set()
        for rule in endpoint.rules:
            if rule.link:
                for item in items:
                    try:
                        values = self.mapper.converter.raw_values(rule, item)
                    except RuleError:
                        continue  # the record reports it
                    wanted |= {(rule.link, str(v)) for v in values if isinstance(v, str | int)}
        if not wanted:
            return {}
        ids = {self.mapper.source_id(self.mapping.endpoint(name), key): (name, key) for name, key in wanted}
        held = self.view.source_ids(only=[i for i in ids if i not in self._listed])
        return {
            pair: self.mapper.entity(self.mapping.endpoint(pair[0]), pair[1])
            if (sid in self._listed or sid in held) else None
            for sid, pair in ids.items()
        }


def _parse_time(text: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return datetime.fromtimestamp(0, UTC)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)

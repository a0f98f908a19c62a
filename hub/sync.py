"""The sync engine: read a source into the hub, then push the hub's changes out to it.

Connectors are found by kind (``connectors.<kind>.connector``), so a new kind of source is a new
folder. Every batch a connector yields commits with its cursor and sync state in one
transaction; a failure stops that source's sync with its reason recorded, never the others'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph as ox

from connectors.base import Batch, Connector, ConnectorError
from hub.config import Config, ConfigError
from hub.connector_pool import ConnectorPool, load_connector
from hub.ingest import Ingestor, IngestResult
from hub.matching import reconcile
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.cursors import read_cursor
from hub.records import now
from hub.transaction import Node, text, timestamp
from hub.vocab import MLG, PROV, RDF_TYPE, term

log = logging.getLogger("maillage.sync")
PUSH_PAGE = 500


@dataclass
class SyncReport:
    source: str
    started: datetime = field(default_factory=now)
    run_start: int = 0  # the change-log position when the run began
    read: IngestResult = field(default_factory=IngestResult)
    pushed: IngestResult = field(default_factory=IngestResult)
    error: str | None = None

    def summary(self) -> str:
        if self.error:
            return f"{self.source}: failed: {self.error}"
        r, p = self.read, self.pushed
        return (
            f"{self.source}: read {r.created} new, {r.updated} updated, {r.deleted} deleted, "
            f"{r.unchanged} unchanged, {r.quarantined} quarantined; wrote {p.updated + p.created} page(s)"
        )


def sync_source(
    config: Config,
    ingestor: Ingestor,
    name: str,
    full: bool = False,
    on_batch: Callable[[IngestResult], None] | None = None,
    read: bool = True,
    report: SyncReport | None = None,
    pool: ConnectorPool | None = None,
    backfill: bool = False,
) -> SyncReport:
    """Push to then read from one source (as its direction allows); errors end in the report.
    With a ``pool``, the connector is taken from it and left open for the next run. A source
    receives the changes made since its first run; with ``backfill``, the hub's whole change
    log (what it held before the source was connected), as far as the mapping covers it."""
    source = config.source(name)
    if report is None:
        report = SyncReport(name, run_start=last_sequence(ingestor.store))
    try:
        connector = pool.get(source) if pool else load_connector(config, source, ingestor)
        try:
            # Push first: the merge base is then still the source as the hub last read it, so a
            # person's edit made since shows up as theirs (kept, or a conflict), never as ours.
            # A source never read yet is read first: what it already holds must be matched with
            # the hub's entities before anything is created there (see hub.matching).
            known = read_cursor(ingestor.store, ingestor.base, name) is not None or not read
            if source.direction in ("write", "both") and known:
                _push(connector, ingestor, name, report, backfill)
            if read and source.direction in ("read", "both"):
                _read(connector, ingestor, name, full, report, on_batch)
            if not known and source.direction in ("write", "both"):
                # first contact: from now on this source receives the changes of this run on
                ingestor.ingest_batch([], (f"{name}:outbound", str(0 if backfill else report.run_start)))
        finally:
            if pool is None:
                connector.close()
    except Exception as exc:  # one source's failure must not stop the others
        if pool is not None:
            pool.discard(name)  # the next run starts afresh
        known = isinstance(exc, ConfigError | ConnectorError)
        report.error = str(exc) if known else f"{type(exc).__name__}: {exc}"
        log.warning("sync of %s failed: %s", name, report.error)
        log.debug("sync of %s failed", name, exc_info=True)
    _record_status(ingestor, report)
    return report


def sync_all(
    config: Config,
    ingestor: Ingestor,
    names: list[str] | None = None,
    full: bool = False,
    on_batch: Callable[[IngestResult], None] | None = None,
    pool: ConnectorPool | None = None,
    backfill: bool = False,
) -> list[SyncReport]:
    """Every source once, then a second round of pushes: what a source read late in the first
    round reaches the sources synchronised before it, within the same run."""
    names = names or [s.name for s in config.sources]
    start = last_sequence(ingestor.store)
    own = pool is None
    pool = pool or ConnectorPool(config, ingestor)
    try:
        reports = []
        for name in names:
            report = SyncReport(name, run_start=start)
            reports.append(sync_source(config, ingestor, name, full, on_batch, True, report, pool, backfill))
        for report in reports:
            if report.error is None and config.source(report.source).direction in ("write", "both"):
                sync_source(config, ingestor, report.source, read=False, report=report, pool=pool)
    finally:
        if own:
            pool.close()
    return reports


def _commit(ingestor: Ingestor, batch: Batch, cursor_key: str) -> IngestResult:
    return ingestor.ingest_batch(batch.records, (cursor_key, batch.cursor), batch.state)


def _read(
    connector: Connector,
    ingestor: Ingestor,
    name: str,
    full: bool,
    report: SyncReport,
    on_batch: Callable[[IngestResult], None] | None,
) -> None:
    cursor = read_cursor(ingestor.store, ingestor.base, name)
    converted_from: object = None
    for batch in connector.read(cursor, full):
        known = connector.known_types()
        if known is not converted_from:  # convert once per listing, not once per batch
            ingestor.known_types = {
                entity: [ox.NamedNode(MLG + c) for c in classes] for entity, classes in known.items()
            }
            converted_from = known
        records, links = reconcile(ingestor.store, batch.records, ingestor.base)
        result = _commit(ingestor, Batch(records, batch.cursor, [*batch.state, *links]), name)
        report.read.add(result)
        if on_batch is not None:
            on_batch(result)
    ingestor.known_types = {}


def _push(
    connector: Connector, ingestor: Ingestor, name: str, report: SyncReport, backfill: bool = False
) -> None:
    key = f"{name}:outbound"
    stored = read_cursor(ingestor.store, ingestor.base, key)
    # a newly connected source receives what changes from the start of its first run on (the
    # other sources' first harvest included), not the hub's whole past unless asked (backfill)
    since = 0 if backfill else int(stored) if stored is not None else report.run_start
    while changes := read_changes(ingestor.store, since=since, limit=PUSH_PAGE):
        for batch in connector.push(changes):
            if batch.records or batch.state:
                report.pushed.add(_commit(ingestor, batch, key))
        # batches that wrote nothing only move the cursor: one commit for the page of changes
        since = changes[-1].sequence
        ingestor.ingest_batch([], (key, str(since)))


def _record_status(ingestor: Ingestor, report: SyncReport) -> None:
    """Last sync time, outcome and error per source, for /sources and ``maillage status``."""
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, ox.NamedNode(term("SourceStatus"))),
        (term("source"), text(report.source)),
        (PROV + "startedAtTime", timestamp(report.started)),
        (PROV + "endedAtTime", timestamp(now())),
        (term("summary"), text(report.summary())),
    ]
    if report.error:
        statements.append((term("lastError"), text(report.error)))
    ingestor.ingest_batch([], None, [(f"urn:maillage:source:{report.source}", statements)])

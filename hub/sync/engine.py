"""The sync engine: push the hub's changes out to a source, then read the source into the hub.

Connectors are found by kind (``hub.sync.registry``). Every batch commits with its cursor and
sync state in one transaction (``hub.sync.commit``); a failure stops that source's sync with its
reason recorded, never the others'.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from connectors.base import Connector, ConnectorError
from hub.config import Config, ConfigError
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.cursors import read_cursor
from hub.meta.status import status_update
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.records import now
from hub.store.write_lock import WriteLock
from hub.sync.commit import Committer
from hub.sync.inbound import read_source
from hub.sync.outbound import Outbound
from hub.sync.pool import ConnectorPool, load_connector

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
    write_lock: WriteLock | None = None,
    after_write: Callable[[], None] | None = None,
) -> SyncReport:
    """Push to then read from one source (as its direction allows); errors end in the report.
    With a ``pool``, the connector is taken from it and left open for the next run. A source
    receives the changes made since its first run; with ``backfill``, the hub's whole change
    log (what it held before the source was connected), as far as the mapping covers it.
    ``write_lock`` is held for each commit only, ``after_write`` called after each (see
    ``hub.sync.commit``)."""
    commit = Committer(ingestor, write_lock, after_write)
    source = config.source(name)
    if report is None:
        report = SyncReport(name, run_start=last_sequence(ingestor.store))
    try:
        connector = pool.get(source) if pool else load_connector(config, source, ingestor)
        try:
            # Push first: the merge base is then still the source as the hub last read it, so a
            # person's edit made since shows up as theirs (kept, or a conflict), never as ours.
            # A source never read yet is read first: what it already holds must be matched with
            # the hub's entities before anything is created there (see hub.pipeline.match).
            known = read_cursor(ingestor.store, ingestor.base, name) is not None or not read
            if source.direction in ("write", "both") and known:
                _push(connector, commit, name, report, backfill)
            if read and source.direction in ("read", "both"):
                read_source(connector.reader, commit, name, full, report.read, on_batch)
            if not known and source.direction in ("write", "both"):
                # first contact: from now on this source receives the changes of this run on
                commit([], (f"{name}:outbound", str(0 if backfill else report.run_start)))
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
    _record_status(commit, report)
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


def _push(
    connector: Connector, commit: Committer, name: str, report: SyncReport, backfill: bool = False
) -> None:
    if connector.writer is None:
        return  # a source the hub only reads
    ingestor = commit.ingestor
    key = f"{name}:outbound"
    stored = read_cursor(ingestor.store, ingestor.base, key)
    # a newly connected source receives what changes from the start of its first run on (the
    # other sources' first harvest included), not the hub's whole past unless asked (backfill)
    since = 0 if backfill else int(stored) if stored is not None else report.run_start
    outbound = Outbound(ingestor.store, name, connector.writer)
    while changes := read_changes(ingestor.store, since=since, limit=PUSH_PAGE):
        for outcome in outbound.push(changes):
            if outcome.records or outcome.state:
                report.pushed.add(commit(outcome.records, (key, outcome.cursor), outcome.state))
        # outcomes that wrote nothing only move the cursor: one commit for the page of changes
        since = changes[-1].sequence
        commit([], (key, str(since)))


def _record_status(commit: Committer, report: SyncReport) -> None:
    """Last sync time, outcome and error per source, for /sources and ``maillage status``."""
    commit([], None, [status_update(report.source, report.started, now(), report.summary(), report.error)])

"""Scheduled syncs inside ``maillage serve``: one APScheduler job per source with a ``schedule``.

A source's runs never overlap (a lock per source; a run still going when the next is due is
skipped, not queued), and every run goes through the same code as ``maillage sync``. A run
holds the API's write lock only while it commits a batch.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable

from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger

from hub.config import Config, ConfigError
from hub.pipeline.ingest import Ingestor
from hub.store.write_lock import WriteLock
from hub.sync.engine import SyncReport, sync_source
from hub.sync.pool import ConnectorPool

log = logging.getLogger("maillage.scheduler")
SHORTHANDS = {"@hourly": "0 * * * *", "@daily": "0 3 * * *", "@weekly": "0 3 * * 1"}


def trigger_for(schedule: str) -> CronTrigger | IntervalTrigger:
    """A crontab line, ``@hourly``/``@daily``/``@weekly``, or ``every N minutes|seconds``."""
    text = SHORTHANDS.get(schedule.strip(), schedule.strip())
    words = text.split()
    if len(words) == 3 and words[0] == "every" and words[1].isdigit():
        unit = words[2].rstrip("s")
        if unit in ("second", "minute", "hour"):
            return IntervalTrigger(**{f"{unit}s": int(words[1])})
    try:
        return CronTrigger.from_crontab(text)
    except ValueError as exc:
        raise ConfigError(f"invalid schedule {schedule!r}: {exc}") from exc


class SyncRunner:
    """Runs syncs for the API process: on schedule, or on demand, one at a time per source."""

    def __init__(self, config: Config, ingestor: Ingestor, write_lock: WriteLock,
                 after_write: Callable[[], None]) -> None:
        self.config = config
        self.ingestor = ingestor
        self.write_lock = write_lock
        self.after_write = after_write
        self.locks = {source.name: threading.Lock() for source in config.sources}
        self.pool = ConnectorPool(config, ingestor)
        self.stopped = False
        self.scheduler = BackgroundScheduler(timezone="UTC")

    def start(self) -> None:
        for source in self.config.sources:
            if source.schedule:
                self.scheduler.add_job(self.run, trigger_for(source.schedule), args=[source.name],
                                       id=source.name, max_instances=1, coalesce=True)
        if self.scheduler.get_jobs():
            self.scheduler.start()

    def run(self, name: str) -> SyncReport | None:
        """One sync of ``name``; None when a run of that source is already going."""
        lock = self.locks[name]
        if self.stopped:
            return None
        if not lock.acquire(blocking=False):
            log.info("sync of %s still running: this run is skipped", name)
            return None
        try:
            # the API's write lock is taken for each commit, not for the run: API writes do not
            # wait behind a slow source, and each commit is still whole (hub.sync.commit)
            report = sync_source(self.config, self.ingestor, name, pool=self.pool,
                                 write_lock=self.write_lock, after_write=self.after_write)
            log.info("%s", report.summary())
            return report
        finally:
            lock.release()

    def running(self, name: str) -> bool:
        return self.locks[name].locked()

    def stop(self, wait_s: float = 60.0) -> None:
        """No new runs; a run in progress ends (up to ``wait_s``) before its connector closes."""
        self.stopped = True
        if self.scheduler.running:
            self.scheduler.shutdown(wait=False)
        for name, lock in self.locks.items():
            if lock.acquire(timeout=wait_s):
                try:
                    self.pool.discard(name)
                finally:
                    lock.release()
            else:
                log.warning("sync of %s still running after %.0f s: its connector is left open", name, wait_s)

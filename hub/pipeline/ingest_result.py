"""What an ingest did: counts for progress bars and logs, the changes logged, the reports."""

from __future__ import annotations

from dataclasses import dataclass, field

from hub.meta.changelog import Change
from hub.pipeline.validate import Report


@dataclass
class IngestResult:
    """What a batch (or a whole run) did, for progress bars, logs and tests."""

    created: int = 0
    updated: int = 0
    deleted: int = 0
    unchanged: int = 0
    quarantined: int = 0
    changes: list[Change] = field(default_factory=list)
    reports: dict[str, Report] = field(default_factory=dict)

    @property
    def seen(self) -> int:
        return self.created + self.updated + self.deleted + self.unchanged + self.quarantined

    def add(self, other: IngestResult) -> None:
        self.created += other.created
        self.updated += other.updated
        self.deleted += other.deleted
        self.unchanged += other.unchanged
        self.quarantined += other.quarantined
        self.changes.extend(other.changes)
        self.reports.update(other.reports)

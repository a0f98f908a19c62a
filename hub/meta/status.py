"""What is in the hub: counts per class and per source, quarantine, latest changes."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from hub.meta.changelog import Change, last_sequence, read_changes
from hub.meta.quarantine import QuarantineEntry, list_quarantine
from hub.records import MetaUpdate, Node
from hub.store.base import Store
from hub.store.transaction import iri, text, timestamp
from hub.vocab import COLLECTIONS, META_GRAPH, PROV, RDF_TYPE, class_iris, term


@dataclass
class Status:
    classes: dict[str, int] = field(default_factory=dict)
    sources: dict[str, int] = field(default_factory=dict)
    quarantine: list[QuarantineEntry] = field(default_factory=list)
    syncs: dict[str, dict[str, str | None]] = field(default_factory=dict)
    last_sequence: int = 0
    recent: list[Change] = field(default_factory=list)

    def as_dict(self) -> dict[str, object]:
        return {
            "classes": self.classes,
            "sources": self.sources,
            "quarantine": [q.as_dict() for q in self.quarantine],
            "syncs": self.syncs,
            "last_sequence": self.last_sequence,
            "recent_changes": [c.as_dict() for c in self.recent],
        }


def class_counts(store: Store) -> dict[str, int]:
    """Entities per hub class (subclasses counted with their parent), outside the meta graph."""
    counts: dict[str, int] = {}
    for local in COLLECTIONS.values():
        values = " ".join(f"<{c}>" for c in class_iris(local))
        rows = store.select(
            f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ VALUES ?c {{ {values} }} "
            f"?s <{RDF_TYPE}> ?c }} FILTER(?g != <{META_GRAPH}>) }}"
        )
        counts[local] = int(rows[0]["n"].value) if rows else 0
    return counts


def source_counts(store: Store) -> dict[str, int]:
    """Record graphs per source."""
    rows = store.select(
        f"SELECT ?src (COUNT(?g) AS ?n) WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term('Record')}> ;"
        f" <{term('source')}> ?src }} }} GROUP BY ?src ORDER BY ?src"
    )
    return {row["src"].value: int(row["n"].value) for row in rows}


def status_update(
    source: str, started: datetime, ended: datetime, summary: str, error: str | None = None
) -> MetaUpdate:
    """Last sync time, outcome and error of a source, for /sources and ``maillage status``: one
    subject per source, replaced at every run."""
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(term("SourceStatus"))),
        (term("source"), text(source)),
        (PROV + "startedAtTime", timestamp(started)),
        (PROV + "endedAtTime", timestamp(ended)),
        (term("summary"), text(summary)),
    ]
    if error:
        statements.append((term("lastError"), text(error)))
    return f"urn:maillage:source:{source}", statements


def source_statuses(store: Store) -> dict[str, dict[str, str | None]]:
    """Per source: when its last sync ended, its summary and, if it failed, why."""
    rows = store.select(
        f"""SELECT ?src ?start ?at ?summary ?error WHERE {{ GRAPH <{META_GRAPH}> {{
            ?s a <{term('SourceStatus')}> ; <{term('source')}> ?src ; <{PROV}endedAtTime> ?at ;
               <{term('summary')}> ?summary . OPTIONAL {{ ?s <{term('lastError')}> ?error }}
            OPTIONAL {{ ?s <{PROV}startedAtTime> ?start }} }} }}"""
    )
    return {
        row["src"].value: {
            "last_sync": row["at"].value,
            "last_duration_s": _seconds(row["start"].value, row["at"].value) if "start" in row else None,
            "last_summary": row["summary"].value,
            "last_error": row["error"].value if "error" in row else None,
        }
        for row in rows
    }


def _seconds(start: str, end: str) -> str:
    elapsed = datetime.fromisoformat(end) - datetime.fromisoformat(start)
    return f"{elapsed.total_seconds():.0f}"


def hub_status(store: Store, recent: int = 10) -> Status:
    last = last_sequence(store)
    return Status(
        classes=class_counts(store),
        sources=source_counts(store),
        quarantine=list_quarantine(store),
        syncs=source_statuses(store),
        last_sequence=last,
        recent=read_changes(store, since=max(0, last - recent), limit=recent),
    )

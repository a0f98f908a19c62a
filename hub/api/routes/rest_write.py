"""REST writes through the ingest pipeline, keeping one record graph per entity.

A write to an entity first seen in another source (the demo, a harvest) is written as a record of
that same source and source id, so it replaces the same graph instead of adding a twin; other
graphs that held the entity lose its statements. Invalid data is quarantined by the pipeline and
reported to the client with the SHACL violations.

Every function here reads the stored graphs it rewrites, so the caller holds
``HubState.write_lock`` from its own read of the entity to the return: a concurrent write then
waits instead of being overwritten by a record built from a stale read.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pyoxigraph as ox

from hub.api.routes.rest_body import anonymous_closure
from hub.api.state import HubState
from hub.clipping import MAX_VIOLATIONS, clip, clip_message, clip_optional
from hub.errors import InputError
from hub.iris import graph_iri
from hub.pipeline.validate import Violation
from hub.records import Record
from hub.store.base import Store
from hub.views.entity import provenance
from hub.views.jsonld import node_key

API_SOURCE = "api"
CONNECTOR = "rest"
WRITER = "api"
"""What the change log names as the writer of every API edit, whatever the record's source."""


class InvalidEntity(InputError):
    """The pipeline refused the record; ``violations`` says why (empty for non-SHACL reasons)."""

    def __init__(self, message: str, violations: list[Violation] | None = None) -> None:
        super().__init__(message)
        self.violations = violations or []

    def as_json(self) -> dict[str, Any]:
        listed = [violation_json(v) for v in self.violations[:MAX_VIOLATIONS]]
        body: dict[str, Any] = {"error": clip_message(str(self)), "violations": listed}
        if len(self.violations) > MAX_VIOLATIONS:
            body["violations_not_listed"] = len(self.violations) - MAX_VIOLATIONS
        return body


def violation_json(violation: Violation) -> dict[str, Any]:
    fr = violation.messages.get("fr") or violation.message("en")
    en = violation.messages.get("en") or violation.message("fr")
    return {  # clipped: a refused value may be megabytes long
        "focus": clip(violation.focus),
        "path": clip_optional(violation.path),
        "value": clip_optional(violation.value),
        "severity": violation.severity,
        "message": {"fr": clip_message(fr), "en": clip_message(en)},
    }


@dataclass(frozen=True)
class GraphInfo:
    graph: str
    source: str
    source_id: str
    entity: str | None


def graph_infos(store: Store, iri: str, graphs: list[str]) -> list[GraphInfo]:
    """Record graphs whose entity is ``iri`` or that hold statements about it."""
    return [
        GraphInfo(r.graph, r.source, r.source_id, r.entity)
        for r in provenance(store, iri, graphs)
        if r.source is not None and r.source_id is not None
    ]


def _without_entity(store: Store, info: GraphInfo, iri: str, base: str) -> list[ox.Triple]:
    old = store.graph_triples(info.graph)
    owned = anonymous_closure(old, {iri}, base)
    return [t for t in old if node_key(t.subject) not in owned]


def _commit(state: HubState, record: Record) -> list[Violation]:
    """Store the record; its warnings (stored all the same), or InvalidEntity."""
    problem = record.problem()
    if problem is not None:
        raise InvalidEntity(problem)
    result = state.commit([record])
    graph = graph_iri(state.config.base_iri, record.source, record.source_id)
    if not result.quarantined:
        report = result.reports.get(graph)
        return list(report.violations) if report else []
    report = result.reports.get(graph)
    violations = [v for v in report.violations if v.severity == "Violation"] if report else []
    raise InvalidEntity(
        "the entity does not conform to the hub shapes; nothing was stored / "
        "l'entité n'est pas conforme aux formes du hub ; rien n'a été enregistré",
        violations or (report.violations if report else []),
    )


def write_entity(
    state: HubState, iri: str, triples: list[ox.Triple], graphs: list[str]
) -> list[Violation]:
    """Replace what the hub says about ``iri`` with ``triples`` (entity triples first); returns
    the stored record's warnings."""
    base = state.config.base_iri
    infos = graph_infos(state.store, iri, graphs)
    mine = [i for i in infos if i.entity == iri]
    primary = next((i for i in mine if i.source == API_SOURCE), mine[0] if mine else None)
    if primary is None:
        record = Record(API_SOURCE, iri, tuple(triples), connector=CONNECTOR, written_by=WRITER)
    else:
        kept = _without_entity(state.store, primary, iri, base)
        record = Record(
            primary.source, primary.source_id, tuple(triples + kept), connector=CONNECTOR,
            written_by=WRITER,
        )
    warnings = _commit(state, record)
    _detach(state, iri, [i for i in infos if i is not primary])
    return warnings


def delete_entity(state: HubState, iri: str, graphs: list[str]) -> None:
    """Remove the entity: its own graphs are deleted, its statements leave shared graphs."""
    _detach(state, iri, graph_infos(state.store, iri, graphs))


def _detach(state: HubState, iri: str, infos: list[GraphInfo]) -> None:
    base = state.config.base_iri
    records = []
    for info in infos:
        remaining = Record(
            info.source, info.source_id, tuple(_without_entity(state.store, info, iri, base)),
            connector=CONNECTOR, written_by=WRITER,
        )
        if remaining.triples and remaining.entity() is not None:
            records.append(remaining)
        else:
            records.append(
                Record(info.source, info.source_id, (), connector=CONNECTOR, deleted=True,
                       written_by=WRITER)
            )
    if records:
        state.commit(records)

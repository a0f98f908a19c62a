"""Operations: health, metrics, sources, quarantine, conflicts."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path

from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from starlette.concurrency import run_in_threadpool

from hub.api.auth import require_operator, require_token
from hub.api.metrics import REGISTRY
from hub.api.query.runner import QueryRunner
from hub.api.state import HubState, hub_state
from hub.meta.changelog import last_sequence
from hub.meta.conflicts import list_conflicts
from hub.meta.cursors import cursor_times
from hub.meta.quarantine import list_quarantine
from hub.meta.status import class_counts, source_counts, source_statuses

router = APIRouter(tags=["operations"])
NEVER_SYNCED = {"last_sync": None, "last_duration_s": None, "last_summary": None, "last_error": None}

METRICS_MEDIA_TYPE = "text/plain; version=0.0.4; charset=utf-8"


@router.get("/health", summary="Liveness and store reachability")
def health(state: HubState = Depends(hub_state)) -> dict[str, object]:
    """200 when the store answers; load balancers and the test fixtures poll it. ``hub`` is this
    hub's identity (its base IRI), which peer hubs use to recognise records that came from it."""
    return {"status": "ok", "hub": state.config.base_iri, "last_sequence": last_sequence(state.store)}


def _source_param(request: Request) -> str | None:
    values = request.query_params.getlist("source")
    if len(values) > 1:
        raise HTTPException(400, "at most one source parameter is allowed")
    return values[0] if values and values[0] else None


def _latest_for_source(times: dict[str, datetime], name: str) -> datetime | None:
    """The newest cursor of a source: keyed by its name, or by ``<name>:<detail>``."""
    matching = [at for key, at in times.items() if key == name or key.startswith(f"{name}:")]
    return max(matching) if matching else None


@router.get("/sources", summary="Configured sources with their record counts and last sync")
def sources(state: HubState = Depends(hub_state)) -> list[dict[str, object]]:
    """The ``[[sources]]`` of the configuration (credentials left out), each with ``records``
    (its record graphs in the store) and ``last_cursor_update`` (when its sync cursor was last
    committed, ISO 8601, or null if it never ran)."""
    counts = source_counts(state.store)
    times = cursor_times(state.store)
    statuses = source_statuses(state.store)
    listed: list[dict[str, object]] = []
    for source in state.config.sources:
        latest = _latest_for_source(times, source.name)
        listed.append(
            {
                "name": source.name,
                "kind": source.kind,
                "url": source.url,
                "direction": source.direction,
                "schedule": source.schedule,
                "records": counts.get(source.name, 0),
                "last_cursor_update": latest.isoformat() if latest else None,
                "running": bool(state.syncs and state.syncs.running(source.name)),
                **statuses.get(source.name, NEVER_SYNCED),
            }
        )
    return listed


@router.post(
    "/sources/{name}/sync",
    summary="Synchronise a source now (bearer token)",
    dependencies=[Depends(require_token)],
    responses={404: {"description": "No such source"}, 409: {"description": "A sync of it is running"}},
)
async def sync_now(name: str, state: HubState = Depends(hub_state)) -> dict[str, object]:
    """Run the same sync as ``maillage sync NAME`` in this process and return its outcome."""
    if state.syncs is None or name not in state.syncs.locks:
        raise HTTPException(404, f"no source named {name!r}")
    report = await run_in_threadpool(state.syncs.run, name)
    if report is None:
        raise HTTPException(409, f"a sync of {name!r} is already running")
    return {"source": name, "summary": report.summary(), "error": report.error}


@router.get("/quarantine", summary="Records refused by the shapes, with their SHACL report",
            dependencies=[Depends(require_operator)])
def quarantine(request: Request, state: HubState = Depends(hub_state)) -> list[dict[str, object]]:
    """Quarantined records (``source=`` to keep one source), each with ``reason`` (a readable
    summary) and ``report`` (the SHACL validation report as Turtle)."""
    return [entry.as_dict() for entry in list_quarantine(state.store, _source_param(request))]


@router.get("/conflicts", summary="Conflicts found while synchronising sources",
            dependencies=[Depends(require_operator)])
def conflicts(request: Request, state: HubState = Depends(hub_state)) -> list[dict[str, object]]:
    """Values changed both in the hub and in a source (``source=`` to keep one source), newest
    first: ``id`` (for ``maillage conflicts resolve``), ``entity``, ``source``, ``parameter``,
    ``hub_value``, ``source_value`` (the one kept), ``reason`` and ``time``."""
    return [c.as_dict() for c in list_conflicts(state.store, _source_param(request))]


def store_bytes(path: Path) -> int:
    """Size on disk of the files under ``path`` (0 when it does not exist)."""
    total = 0
    for directory, _, files in os.walk(path):
        for name in files:
            try:
                total += os.stat(os.path.join(directory, name)).st_size
            except OSError:
                continue  # a file the store compacted away while we walked
    return total


def query_gauges(state: HubState) -> Iterator[GaugeMetricFamily]:
    """What the query lanes are doing now, and how the result cache serves."""
    running = GaugeMetricFamily("maillage_query_running", "Queries running, per lane", labels=["lane"])
    waiting = GaugeMetricFamily("maillage_query_waiting", "Queries queued, per lane", labels=["lane"])
    runner = state.runner
    lanes = [("general", runner.admission)]
    if isinstance(runner, QueryRunner) and runner.fast is not None:
        lanes.append(("fast", runner.fast))
    for name, admission in lanes:
        busy, queued = admission.load()
        running.add_metric([name], busy)
        waiting.add_metric([name], queued)
    yield running
    yield waiting
    if state.cache is not None:
        yield GaugeMetricFamily("maillage_query_cache_hits", "SPARQL answers served from the cache",
                                value=state.cache.hits)
        yield GaugeMetricFamily("maillage_query_cache_bytes", "Memory the result cache holds",
                                value=state.cache.size)


class HubCollector(Collector):
    """Gauges computed from the store when Prometheus scrapes."""

    def __init__(self, state: HubState) -> None:
        self.state = state

    def collect(self) -> Iterator[GaugeMetricFamily]:
        store = self.state.store
        entities = GaugeMetricFamily(
            "maillage_entities", "Entities per hub class (subclasses with their parent)",
            labels=["class"],
        )
        for local, count in class_counts(store).items():
            entities.add_metric([local], count)
        yield entities
        records = GaugeMetricFamily("maillage_records", "Record graphs per source", labels=["source"])
        for name, count in source_counts(store).items():
            records.add_metric([name], count)
        yield records
        yield GaugeMetricFamily(
            "maillage_quarantined_records", "Records waiting in the quarantine",
            value=len(list_quarantine(store)),
        )
        yield GaugeMetricFamily(
            "maillage_change_log_sequence", "Newest change-log sequence number",
            value=last_sequence(store),
        )
        yield from query_gauges(self.state)
        config = self.state.config
        if config.store.backend == "oxigraph" and not config.in_memory:
            yield GaugeMetricFamily(
                "maillage_store_bytes", "Size on disk of the embedded store",
                value=store_bytes(Path(config.data_dir) / "store"),
            )


@router.get("/metrics", summary="Prometheus metrics")
def metrics(state: HubState = Depends(hub_state)) -> Response:
    """Request counters and latencies by route, plus hub gauges computed at scrape time:
    ``maillage_entities{class}``, ``maillage_records{source}``, ``maillage_quarantined_records``,
    ``maillage_change_log_sequence``, ``maillage_store_bytes``, the query lanes' load
    (``maillage_query_running{lane}``, ``maillage_query_waiting{lane}``) and the result cache's
    (``maillage_query_cache_hits``, ``maillage_query_cache_bytes``)."""
    hub_registry = CollectorRegistry(auto_describe=False)
    hub_registry.register(HubCollector(state))
    body = generate_latest(REGISTRY) + generate_latest(hub_registry)
    return Response(body, media_type=METRICS_MEDIA_TYPE)

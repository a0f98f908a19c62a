"""The one way endpoints run a query: through the runner's admission, errors as HTTP statuses.

Every endpoint that reads through the query pool maps its failures the same way: the query's
fault is a 4xx (400 invalid or too complex, 413 too large), the hub's state is a 503 with
``Retry-After`` (busy, timed out, out of memory, worker stopped). None of them is a 500.
"""

from __future__ import annotations

import asyncio
import math
from dataclasses import replace
from pathlib import Path

from fastapi import HTTPException

from hub.api.query.admission import QueryUnavailable
from hub.api.query.cache import CacheKey, ResultCache, normalise
from hub.api.query.remote import RemoteQueryRunner
from hub.api.query.runner import QueryFailed, QueryJob, QueryRunner, QueryTimeout, QueryTooLarge
from hub.store.write_lock import WriteLock


async def run_query(runner: QueryRunner | RemoteQueryRunner, job: QueryJob) -> Path:
    """The result file (the caller streams, then deletes it), or an :class:`HTTPException`."""
    try:
        return await runner.submit(job)
    except QueryUnavailable as exc:
        raise HTTPException(503, str(exc), headers=_retry(exc.retry_after)) from exc
    except QueryTimeout as exc:
        raise HTTPException(503, str(exc), headers=_retry(math.ceil(runner.timeout))) from exc
    except QueryTooLarge as exc:
        raise HTTPException(413, str(exc)) from exc
    except QueryFailed as exc:
        raise HTTPException(400, str(exc)) from exc


async def run_cached(
    runner: QueryRunner | RemoteQueryRunner,
    cache: ResultCache | None,
    writes: WriteLock,
    job: QueryJob,
) -> Path | bytes:
    """The result as bytes (from the cache, or just kept in it) or as a spool file to stream.

    The version is read when the query is admitted and again when it ends: the result is kept
    only if no write was under way at either instant and none finished in between
    (:mod:`hub.api.query.cache` says why that makes it exact). Requests for a query already
    running (eight dashboards opened at once) wait for that run and share its answer rather
    than each taking a worker.
    """
    start = writes.stable_version()
    job = replace(job, generation=writes.version if start is None else start)
    if cache is None or not cache.enabled or start is None:
        return await run_query(runner, job)
    key = CacheKey(
        normalise(job.query), job.result_format, job.default_graphs, job.named_graphs,
        job.public, job.base_iri, start,
    )
    hit = cache.get(key)
    if hit is not None:
        return hit
    leader = cache.flights.get(key)
    if leader is not None:  # the same query is running for someone else: share its answer
        shared = await asyncio.shield(leader)
        if shared is not None and writes.stable_version() == start:
            return shared
        return await run_query(runner, job)
    flight: asyncio.Future[bytes | None] = asyncio.get_running_loop().create_future()
    cache.flights[key] = flight
    data: bytes | None = None
    try:
        path = await run_query(runner, job)
        if writes.stable_version() != start or path.stat().st_size > cache.max_entry_bytes:
            return path
        data = await asyncio.to_thread(_take, path)
        cache.put(key, data)
        return data
    finally:
        del cache.flights[key]
        flight.set_result(data)


def _take(path: Path) -> bytes:
    try:
        return path.read_bytes()
    finally:
        path.unlink(missing_ok=True)


def _retry(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(max(1, seconds))}

"""The one way endpoints run a query: through the runner's admission, errors as HTTP statuses.

Every endpoint that reads through the query pool maps its failures the same way: the query's
fault is a 4xx (400 invalid or too complex, 413 too large), the hub's state is a 503 with
``Retry-After`` (busy, timed out, out of memory, worker stopped). None of them is a 500.
"""

from __future__ import annotations

import math
from pathlib import Path

from fastapi import HTTPException

from hub.api.query.admission import QueryUnavailable
from hub.api.query.remote import RemoteQueryRunner
from hub.api.query.runner import QueryFailed, QueryJob, QueryRunner, QueryTimeout, QueryTooLarge


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


def _retry(seconds: int) -> dict[str, str]:
    return {"Retry-After": str(max(1, seconds))}

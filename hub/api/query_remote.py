"""Queries for the remote backend: forwarded to the SPARQL server, spooled with the same limits."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

import httpx

from hub.api.query_runner import QueryFailed, QueryJob, QueryTimeout, QueryTooLarge


class RemoteQueryRunner:
    """Same contract as :class:`~hub.api.query_runner.QueryRunner`, over HTTP."""

    def __init__(
        self, query_url: str, timeout: float, max_bytes: int, spool_dir: Path,
        auth: httpx.Auth | None = None,
    ) -> None:
        self.query_url = query_url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.spool_dir = spool_dir
        spool_dir.mkdir(parents=True, exist_ok=True)
        self._client = httpx.Client(timeout=timeout, auth=auth)

    def run(self, job: QueryJob) -> Path:
        data = [("query", job.query)]
        data += [("default-graph-uri", g) for g in job.default_graphs]
        data += [("named-graph-uri", g) for g in job.named_graphs]
        fd, name = tempfile.mkstemp(prefix="query-", dir=self.spool_dir)
        path = Path(name)
        try:
            with os.fdopen(fd, "wb") as out, self._client.stream(
                "POST", self.query_url, data=dict(data) if len(data) == 1 else data,  # type: ignore[arg-type]
                headers={"Accept": job.result_format},
            ) as response:
                if response.status_code >= 400:
                    raise QueryFailed(f"the SPARQL server answered {response.status_code}: "
                                      f"{response.read()[:300].decode(errors='replace')}")
                size = 0
                for chunk in response.iter_bytes():
                    size += len(chunk)
                    if size > self.max_bytes:
                        raise QueryTooLarge(
                            f"the result is larger than {self.max_bytes:,} bytes; add a LIMIT"
                        )
                    out.write(chunk)
            return path
        except httpx.TimeoutException as exc:
            path.unlink(missing_ok=True)
            raise QueryTimeout(f"the SPARQL server did not answer within {self.timeout:g} s") from exc
        except httpx.HTTPError as exc:
            path.unlink(missing_ok=True)
            raise QueryFailed(f"cannot reach the SPARQL server: {exc}") from exc
        except BaseException:
            path.unlink(missing_ok=True)
            raise

    def close(self) -> None:
        self._client.close()

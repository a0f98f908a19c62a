"""Queries for the remote backend: forwarded to the SPARQL server, spooled with the same limits.

The server is always asked for SPARQL JSON results or N-Triples, which every SPARQL 1.1 server
writes, and the answer is converted here into the format the client asked for: clients get the
same formats, with the same spelling, whatever store the hub runs on.
"""

from __future__ import annotations

import os
import re
import tempfile
import time
from pathlib import Path

import httpx
import pyoxigraph as ox

from hub.api.negotiation import GRAPH_TYPES
from hub.api.query.admission import Admission
from hub.api.query.dataset import anonymous_dataset
from hub.api.query.depth import MAX_NESTING, too_deep
from hub.api.query.runner import QueryFailed, QueryJob, QueryTimeout, QueryTooComplex, QueryTooLarge
from hub.vocab import META_GRAPH, term

JSON_RESULTS = "application/sparql-results+json"
N_TRIPLES = "application/n-triples"
RECORD_GRAPHS = (
    f"SELECT ?g WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term('Record')}> }} }}"
)
"""The record graphs, as the bookkeeping graph lists them: asking a server for every graph that
holds a triple scans all its quads (and lists its system graphs)."""


_RELATIVE_IRI = re.compile(r"<(?![A-Za-z][A-Za-z0-9+.-]*:)[^<>\s\"{}|^`\\]*>")
"""An IRI reference without a scheme (a relative IRI); ``<`` and ``>`` as operators have spaces."""


class RemoteQueryRunner:
    """Same contract as :class:`~hub.api.query.runner.QueryRunner`, over HTTP.

    The same admission control too: at most ``slots`` queries at once against the server, a
    bounded queue, and the time spent queued counted against the timeout.
    """

    def __init__(
        self,
        query_url: str,
        timeout: float,
        max_bytes: int,
        spool_dir: Path,
        auth: httpx.Auth | None = None,
        slots: int = 2,
        queue: int = 32,
    ) -> None:
        self.query_url = query_url
        self.timeout = timeout
        self.max_bytes = max_bytes
        self.spool_dir = spool_dir
        spool_dir.mkdir(parents=True, exist_ok=True)
        self._client = httpx.Client(timeout=timeout, auth=auth)
        self.admission = Admission(slots, queue, timeout, "remote-query")
        self._graph_cache: tuple[int, list[str]] = (-1, [])

    def _spool(self) -> Path:
        fd, name = tempfile.mkstemp(prefix="query-", dir=self.spool_dir)
        os.close(fd)
        return Path(name)

    async def submit(self, job: QueryJob) -> Path:
        """Run a query from async code, waiting (on no thread) for a slot; stream, then delete."""
        return await self.admission.run(
            lambda deadline: self._run(job, deadline), lambda path: path.unlink(missing_ok=True)
        )

    def run(self, job: QueryJob) -> Path:
        """:meth:`submit` for a caller on a thread of its own; it blocks that thread while queued."""
        return self.admission.run_blocking(lambda deadline: self._run(job, deadline))

    def _run(self, job: QueryJob, deadline: float) -> Path:
        if too_deep(job.query):
            raise QueryTooComplex(
                f"the query nests brackets more than {MAX_NESTING} levels deep; simplify it"
            )
        graph = job.result_format in GRAPH_TYPES
        fetched = self._fetch(job, N_TRIPLES if graph else JSON_RESULTS, deadline)
        if job.result_format in (N_TRIPLES if graph else JSON_RESULTS,):
            return fetched
        try:
            return self._convert(fetched, job.result_format, graph)
        finally:
            fetched.unlink(missing_ok=True)

    def _graphs(self, generation: int) -> list[str]:
        """The server's named graphs, asked once per store generation (for anonymous queries)."""
        if self._graph_cache[0] != generation:
            response = self._client.post(
                self.query_url,
                data={"query": RECORD_GRAPHS},
                headers={"Accept": JSON_RESULTS},
            )
            if response.status_code >= 400:
                raise QueryFailed(f"the SPARQL server answered {response.status_code}")
            rows = response.json()["results"]["bindings"]
            self._graph_cache = (generation, [r["g"]["value"] for r in rows if "g" in r])
        return self._graph_cache[1]

    def _fetch(self, job: QueryJob, accept: str, deadline: float) -> Path:
        query = job.query
        if job.base_iri and _RELATIVE_IRI.search(query):
            # Only when needed: Virtuoso writes the protocol's dataset as `define` lines before
            # the text and refuses a BASE after them (SP030), so a BASE it does not need breaks
            # every anonymous query there.
            query = f"BASE <{job.base_iri}>\n{query}"
        data: dict[str, str | list[str]] = {"query": query}
        default, named = list(job.default_graphs), list(job.named_graphs)
        if job.public:  # an explicit dataset: the server's union would show the private graphs
            try:
                graphs = self._graphs(job.generation)
            except httpx.HTTPError as exc:
                raise QueryFailed(f"cannot reach the SPARQL server: {exc}") from exc
            default, named = anonymous_dataset(job.query, default, named, graphs)
            data["default-graph-uri"] = default or ["urn:maillage:none"]
            data["named-graph-uri"] = named or ["urn:maillage:none"]
        else:
            if default:
                data["default-graph-uri"] = default
            if named:
                data["named-graph-uri"] = named
        path = self._spool()
        try:
            left = deadline - time.monotonic()
            if left <= 0:
                raise httpx.TimeoutException("no time left")
            with (
                path.open("wb") as out,
                self._client.stream(
                    "POST", self.query_url, data=data, headers={"Accept": accept}, timeout=left
                ) as response,
            ):
                if response.status_code == 400:
                    detail = response.read()[:300].decode(errors="replace").strip()
                    raise QueryFailed(f"invalid SPARQL query (the store says: {detail})")
                if response.status_code >= 400:
                    detail = response.read()[:300].decode(errors="replace")
                    raise QueryFailed(f"the SPARQL server answered {response.status_code}: {detail}")
                size = 0
                for chunk in response.iter_bytes():
                    if time.monotonic() > deadline:
                        raise httpx.TimeoutException("past the deadline")
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

    def _convert(self, fetched: Path, media: str, graph: bool) -> Path:
        output = self._spool()
        try:
            with fetched.open("rb") as source, output.open("wb") as out:
                if graph:
                    fmt = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.TURTLE
                    quads = ox.parse(source, ox.RdfFormat.N_TRIPLES)
                    if fmt.supports_datasets:
                        ox.serialize(quads, out, fmt)
                    else:
                        ox.serialize((q.triple for q in quads), out, fmt)
                else:
                    results = ox.parse_query_results(source, ox.QueryResultsFormat.JSON)
                    results.serialize(
                        out, ox.QueryResultsFormat.from_media_type(media) or ox.QueryResultsFormat.JSON
                    )
            return output
        except (SyntaxError, ValueError, OSError) as exc:
            output.unlink(missing_ok=True)
            raise QueryFailed(f"the SPARQL server's answer could not be read: {exc}") from exc

    def close(self) -> None:
        self.admission.close()
        self._client.close()

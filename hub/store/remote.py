"""A remote SPARQL 1.1 server (Virtuoso, Fuseki, GraphDB...) behind the store interface.

Queries and updates use the SPARQL 1.1 Protocol; whole graphs are read with the Graph Store
Protocol when a GSP URL is configured, else with a CONSTRUCT. Results are parsed into pyoxigraph
terms so that the rest of the hub cannot tell the backends apart.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox

from hub.store.base import Row, Store, StoreError, Term

XSD_STRING = "http://www.w3.org/2001/XMLSchema#string"


def term_from_json(binding: dict[str, Any]) -> Term:
    """One SPARQL JSON results binding as a term; accepts SPARQL 1.0 ``typed-literal`` too."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    datatype = binding.get("datatype", XSD_STRING)
    return ox.Literal(value, datatype=ox.NamedNode(datatype))


class RemoteStore(Store):
    """SPARQL 1.1 Query + Update (+ Graph Store Protocol) over HTTP."""

    def __init__(
        self,
        query_url: str,
        update_url: str | None = None,
        gsp_url: str | None = None,
        *,
        gsp_graph_param: str = "graph",
        auth: httpx.Auth | tuple[str, str] | None = None,
        timeout: float = 60.0,
    ) -> None:
        self.query_url = query_url
        self.update_url = update_url or query_url
        self.gsp_url = gsp_url
        self.gsp_graph_param = gsp_graph_param
        self.auth = auth if isinstance(auth, httpx.Auth) else None
        self._client = httpx.Client(auth=auth, timeout=timeout)

    def _post(self, url: str, data: dict[str, str], accept: str) -> httpx.Response:
        try:
            response = self._client.post(url, data=data, headers={"Accept": accept})
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the SPARQL server at {url}: {exc}") from exc
        if response.status_code >= 400:
            detail = response.text.strip().splitlines()[:3]
            raise StoreError(
                f"the SPARQL server answered {response.status_code}: {' '.join(detail)[:500]}"
            )
        return response

    def _results(self, query: str) -> dict[str, Any]:
        response = self._post(
            self.query_url, {"query": query}, "application/sparql-results+json"
        )
        try:
            return dict(response.json())
        except ValueError as exc:
            raise StoreError("the SPARQL server did not answer with SPARQL JSON results") from exc

    def select(self, query: str) -> list[Row]:
        bindings = self._results(query)["results"]["bindings"]
        return [{name: term_from_json(b) for name, b in row.items()} for row in bindings]

    def ask(self, query: str) -> bool:
        results = self._results(query)
        if "boolean" in results:
            return bool(results["boolean"])
        # Virtuoso answers ASK as a SELECT of __ASK_RETVAL: no row means false.
        rows = results.get("results", {}).get("bindings", [])
        return bool(rows) and rows[0].get("__ASK_RETVAL", {}).get("value") not in ("0", "false")

    def construct(self, query: str) -> list[ox.Triple]:
        response = self._post(self.query_url, {"query": query}, "application/n-triples")
        return [q.triple for q in ox.parse(io.BytesIO(response.content), ox.RdfFormat.N_TRIPLES)]

    def update(self, update: str) -> None:
        self._post(self.update_url, {"update": update}, "*/*")

    def quads(self, graph: str | None = None) -> Iterator[ox.Quad]:
        if graph is not None:
            graph_node = ox.NamedNode(graph)
            for triple in self._graph_triples(graph):
                yield ox.Quad(triple.subject, triple.predicate, triple.object, graph_node)
            return
        rows = self.select("SELECT ?g ?s ?p ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
        for row in rows:
            yield ox.Quad(row["s"], row["p"], row["o"], row["g"])  # type: ignore[arg-type]

    def _graph_triples(self, graph: str) -> list[ox.Triple]:
        if self.gsp_url is None:
            return self.construct(f"CONSTRUCT {{ ?s ?p ?o }} WHERE {{ GRAPH <{graph}> {{ ?s ?p ?o }} }}")
        try:
            response = self._client.get(
                self.gsp_url,
                params={self.gsp_graph_param: graph},
                headers={"Accept": "application/n-triples"},
            )
        except httpx.HTTPError as exc:
            raise StoreError(f"cannot reach the Graph Store at {self.gsp_url}: {exc}") from exc
        if response.status_code == 404:
            return []
        if response.status_code >= 400:
            raise StoreError(f"the Graph Store answered {response.status_code} for <{graph}>")
        fmt = ox.RdfFormat.from_media_type(response.headers.get("content-type", "").split(";")[0])
        data = io.BytesIO(response.content)
        return [q.triple for q in ox.parse(data, fmt or ox.RdfFormat.TURTLE)]

    def close(self) -> None:
        self._client.close()

"""Peer-hub connector: another Maillage hub's change feed, read into this one.

Hubs compose into larger ones (a regional hub aggregating local ones, a national observatory
aggregating regions) without a central owner. Each record keeps where it was first read (origin
hub, source and id): a record from the same origin reaches one graph here whatever the path it
took (no double counting in a mesh), and a record that originated here is never taken back
(no loops).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox

from connectors.base import Batch, ConnectorError, HubView
from hub.config import Config, SourceSettings
from hub.iris import graph_iri, slug
from hub.records import Record, now
from hub.vocab import XSD, term

PAGE = 500
GRAPHS_PER_QUERY = 100
PEER_META = "urn:maillage:meta"
"""The peer's bookkeeping graph, as its public SPARQL endpoint serves it: part of what a hub
publishes, like its change feed (this hub's own is reached only through the HubView)."""


class PeerError(ConnectorError):
    """The peer hub cannot be read: down, garbage, or a feed that went backwards."""


class PeerHubConnector:
    """Reads a peer hub (its own reader); nothing is written to a peer: peers read each
    other's feeds."""

    writer = None

    def __init__(self, config: Config, source: SourceSettings, view: HubView) -> None:
        self.name = source.name
        self.base = config.base_iri
        self.url = source.url.rstrip("/")
        self.view = view
        timeout = float(source.options.get("timeout", 30))
        self.http = httpx.Client(timeout=timeout, headers={"User-Agent": "Maillage peer-hub connector"})

    # -- protocol ----------------------------------------------------------------------------
    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        since = 0 if full or not cursor else int(cursor)
        peer_hub = str(self._json("/health").get("hub") or self.url)
        if peer_hub == self.base:
            raise PeerError(f"{self.url} is this hub itself (same base IRI {self.base})")
        while True:
            page = self._json("/changes", since=since, limit=PAGE)
            items = page.get("orderedItems")
            if not isinstance(items, list):
                raise PeerError(f"{self.url}/changes did not answer a change feed (no orderedItems)")
            if not items:
                last = int(page.get("last_sequence", since))
                if last < since:
                    raise PeerError(
                        f"the feed of {self.url} went backwards: it ends at {last}, "
                        f"this hub had read up to {since}; kept what was read"
                    )
                return
            records = self._records(items, peer_hub)
            since = max(int(i["sequence"]) for i in items)
            yield Batch(records, str(since))

    @property
    def reader(self) -> PeerHubConnector:
        return self

    def close(self) -> None:
        self.http.close()

    # -- reading -----------------------------------------------------------------------------
    def _json(self, path: str, **params: Any) -> dict[str, Any]:
        try:
            response = self.http.get(self.url + path, params=params or None)
        except httpx.HTTPError as exc:
            raise PeerError(f"cannot reach the peer hub {self.url}: {exc}") from exc
        if response.status_code != 200:
            raise PeerError(f"{self.url}{path} answered HTTP {response.status_code}")
        try:
            data = response.json()
        except ValueError as exc:
            raise PeerError(f"{self.url}{path} did not answer JSON") from exc
        if not isinstance(data, dict):
            raise PeerError(f"{self.url}{path} answered {type(data).__name__}, not an object")
        return data

    def _records(self, items: list[dict[str, Any]], peer_hub: str) -> list[Record]:
        latest: dict[str, dict[str, Any]] = {}
        for item in items:
            if not isinstance(item, dict) or "graph" not in item or "sequence" not in item:
                raise PeerError(f"{self.url}/changes: an entry without graph or sequence")
            latest[str(item["graph"])] = item
        origins = self._origins(list(latest), peer_hub)
        wanted = [
            g
            for g, item in latest.items()
            if item.get("type") != "Delete" and g in origins and origins[g][0] != self.base
        ]
        contents = self._contents(wanted)
        records: list[Record] = []
        for peer_graph, item in latest.items():
            if item.get("type") == "Delete" or peer_graph not in origins:
                records += self._deleted(peer_graph)
                continue
            origin = origins[peer_graph]
            if origin[0] == self.base:
                continue  # it started here: taking it back would make a loop
            records.append(
                Record(
                    source=self.name,
                    source_id=peer_graph,
                    triples=tuple(contents.get(peer_graph, ())),
                    revision=str(item["sequence"]),
                    retrieved_at=now(),
                    connector="hub",
                    graph=graph_iri(self.base, f"hub:{slug(origin[0])}:{origin[1]}", origin[2]),
                    origin=origin,
                )
            )
        return records

    def _origins(self, graphs: list[str], peer_hub: str) -> dict[str, tuple[str, str, str]]:
        """Where each of the peer's graphs was first read, from the peer's own provenance."""
        values = " ".join(f"<{g}>" for g in graphs)
        query = f"""SELECT ?g ?src ?id ?ohub ?osrc ?oid WHERE {{ GRAPH <{PEER_META}> {{
            VALUES ?g {{ {values} }} ?g <{term("source")}> ?src ; <{term("sourceId")}> ?id .
            OPTIONAL {{ ?g <{term("originHub")}> ?ohub ; <{term("originSource")}> ?osrc ;
                        <{term("originSourceId")}> ?oid }} }} }}"""
        try:
            response = self.http.post(
                f"{self.url}/sparql",
                data={"query": query},
                headers={"Accept": "application/sparql-results+json"},
            )
            rows = response.json()["results"]["bindings"]
        except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
            raise PeerError(f"cannot read the provenance of {self.url}: {exc}") from exc
        origins: dict[str, tuple[str, str, str]] = {}
        for row in rows:
            if "ohub" in row:
                origins[row["g"]["value"]] = (row["ohub"]["value"], row["osrc"]["value"], row["oid"]["value"])
            else:
                origins[row["g"]["value"]] = (peer_hub, row["src"]["value"], row["id"]["value"])
        return origins

    def _contents(self, graphs: list[str]) -> dict[str, list[ox.Triple]]:
        """The triples of many of the peer's graphs, a hundred per SPARQL request (one request per
        graph through the Graph Store cost more than everything else together)."""
        contents: dict[str, list[ox.Triple]] = {g: [] for g in graphs}
        for start in range(0, len(graphs), GRAPHS_PER_QUERY):
            values = " ".join(f"<{g}>" for g in graphs[start : start + GRAPHS_PER_QUERY])
            query = f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
            try:
                response = self.http.post(
                    f"{self.url}/sparql",
                    data={"query": query},
                    headers={"Accept": "application/sparql-results+json"},
                )
                bindings = response.json()["results"]["bindings"]
                for row in bindings:
                    subject, predicate = _term(row["s"]), _term(row["p"])
                    triple = ox.Triple(subject, predicate, _term(row["o"]))  # type: ignore[arg-type]
                    contents[row["g"]["value"]].append(triple)
            except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
                raise PeerError(f"cannot read the graphs of {self.url}: {exc}") from exc
        return contents

    def _deleted(self, peer_graph: str) -> list[Record]:
        return [
            Record(
                source=self.name,
                source_id=peer_graph,
                triples=(),
                connector="hub",
                deleted=True,
                graph=graph,
            )
            for graph in self.view.graphs([peer_graph]).get(peer_graph, [])
        ]


def _term(binding: dict[str, Any]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    """One SPARQL JSON results binding as a term (SPARQL 1.0 ``typed-literal`` too)."""
    kind, value = binding["type"], binding["value"]
    if kind == "uri":
        return ox.NamedNode(value)
    if kind == "bnode":
        return ox.BlankNode(value)
    if "xml:lang" in binding:
        return ox.Literal(value, language=binding["xml:lang"])
    return ox.Literal(value, datatype=ox.NamedNode(binding.get("datatype", XSD + "string")))


def connector(config: Config, source: SourceSettings, view: HubView) -> PeerHubConnector:
    """Entry point the sync engine looks up by the source's kind (``hub``, see hub.sync.registry)."""
    return PeerHubConnector(config, source, view)

"""Peer-hub connector: another Maillage hub's change feed, read into this one.

Hubs compose into larger ones (a regional hub aggregating local ones, a national observatory
aggregating regions) without a central owner. Each record keeps where it was first read (origin
hub, source and id): a record from the same origin reaches one graph here whatever the path it
took (no double counting in a mesh), and a record that originated here is never taken back
(no loops).

Everything comes from the peer's ``/changes`` event stream, the one anonymous readers get: each
member carries the record graph after the change (persons' contact data already left out) and
the record's source, id and origin; a deletion is a tombstone. Entries from before members
carried states are skipped.

A peer is another organisation's server: its answers go through the guarded client
(``connectors.base.http``): only the peer's host and port, each answer bounded in time
(``timeout``, 30 s) and size (``max_page_bytes``, 50 MB), JSON too deep to read a clear error.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pyoxigraph as ox

from connectors.base import Batch, ConnectorError, HubView
from connectors.base.http import GuardedHttp, Refused, host_of
from hub.config import Config, SourceSettings
from hub.iris import graph_iri, slug
from hub.records import Record, now
from hub.vocab import XSD

PAGE = 500


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
        max_bytes = int(source.options.get("max_page_bytes", 50_000_000))
        self.http = GuardedHttp({host_of(self.url)}, timeout, max_bytes,
                                headers={"User-Agent": "Maillage peer-hub connector"})

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
            answer = self.http.request("GET", self.url + path, params=params or None)
        except Refused as exc:
            raise PeerError(f"the peer hub {self.url}: {exc}") from exc
        except httpx.HTTPError as exc:
            raise PeerError(f"cannot reach the peer hub {self.url}: {exc}") from exc
        if answer.status != 200:
            raise PeerError(f"{self.url}{path} answered HTTP {answer.status}")
        try:
            data = json.loads(answer.body)
        except RecursionError as exc:
            raise PeerError(f"{self.url}{path}: JSON nested too deep to read") from exc
        except ValueError as exc:
            raise PeerError(f"{self.url}{path} did not answer JSON") from exc
        if not isinstance(data, dict):
            raise PeerError(f"{self.url}{path} answered {type(data).__name__}, not an object")
        return data

    def _records(self, items: list[dict[str, Any]], peer_hub: str) -> list[Record]:
        """Each graph's last version in this page of the peer's event stream: its state (the
        member's named graph) and where it was first read travel in the member itself."""
        latest: dict[str, dict[str, Any]] = {}
        for item in items:
            if not isinstance(item, dict) or "graph" not in item or "sequence" not in item:
                raise PeerError(f"{self.url}/changes: an entry without graph or sequence")
            if item.get("type") == "Delete" or "@graph" in item:
                latest[str(item["graph"])] = item  # an update without state changed no data
        records: list[Record] = []
        for peer_graph, item in latest.items():
            if item.get("type") == "Delete":
                records += self._deleted(peer_graph)
                continue
            origin = _origin(item, peer_hub, self.url)
            if origin[0] == self.base:
                continue  # it started here: taking it back would make a loop
            records.append(
                Record(
                    source=self.name,
                    source_id=peer_graph,
                    triples=tuple(_triples(item["@graph"], self.url)),
                    revision=str(item["sequence"]),
                    retrieved_at=now(),
                    connector="hub",
                    graph=graph_iri(self.base, f"hub:{slug(origin[0])}:{origin[1]}", origin[2]),
                    origin=origin,
                )
            )
        return records

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


def _origin(item: dict[str, Any], peer_hub: str, url: str) -> tuple[str, str, str]:
    """(hub, source, source id) where a member's record was first read."""
    if all(isinstance(item.get(k), str) for k in ("originHub", "originSource", "originSourceId")):
        return (item["originHub"], item["originSource"], item["originSourceId"])
    if isinstance(item.get("source"), str) and isinstance(item.get("sourceId"), str):
        return (peer_hub, item["source"], item["sourceId"])
    raise PeerError(f"{url}/changes: member {item.get('id')} says neither its source nor its id")


def _triples(nodes: Any, url: str) -> list[ox.Triple]:
    """A member's state (expanded JSON-LD node objects, as hub.views.ldes writes them)."""
    try:
        triples = []
        for node in nodes:
            subject = _node(node["@id"])
            for predicate, values in node.items():
                if predicate == "@id":
                    continue
                for value in values:
                    triples.append(ox.Triple(subject, ox.NamedNode(predicate), _value(value)))
        return triples
    except (KeyError, TypeError, ValueError, AttributeError) as exc:
        raise PeerError(f"{url}/changes: a member's state is not readable: {exc}") from exc


def _node(identifier: str) -> ox.NamedNode | ox.BlankNode:
    return ox.BlankNode(identifier[2:]) if identifier.startswith("_:") else ox.NamedNode(identifier)


def _value(value: dict[str, str]) -> ox.NamedNode | ox.BlankNode | ox.Literal:
    if "@id" in value:
        return _node(value["@id"])
    if "@language" in value:
        return ox.Literal(value["@value"], language=value["@language"])
    return ox.Literal(value["@value"], datatype=ox.NamedNode(value.get("@type", XSD + "string")))


def connector(config: Config, source: SourceSettings, view: HubView) -> PeerHubConnector:
    """Entry point the sync engine looks up by the source's kind (``hub``, see hub.sync.registry)."""
    return PeerHubConnector(config, source, view)

"""The change log as a Linked Data Event Stream (LDES over TREE): the read model of ``/changes``.

Each change-log entry is a member: a version of an entity (``dcterms:isVersionOf``), stamped
with its commit time (``as:published``, the stream's ``ldes:timestampPath``), typed
``as:Create``/``as:Update``/``as:Delete``. A create or update carries the record graph as it was
after the change, in a named graph named by the member (what TREE's member extraction collects);
a delete carries no state: it is the tombstone that tells followers to forget the entity's
record. Pages follow the gap-free sequence: a full page (``limit`` entries) always links to the
next one by a ``tree:GreaterThanRelation`` on ``mlg:sequence``, so its content never changes and
can be cached for ever; the last page is open and grows.

The JSON keeps the ActivityStreams shape the feed always had (``orderedItems``, ``next``,
``partOf``), but its context is served by the hub (``CONTEXT``, also inline) so that no reader
has to fetch anything from the network to turn a page into RDF.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

import pyoxigraph as ox

from hub.iris import change_iri
from hub.meta.changelog import Change
from hub.vocab import MLG, XSD

AS = "https://www.w3.org/ns/activitystreams#"
TREE = "https://w3id.org/tree#"
LDES = "https://w3id.org/ldes#"
DCTERMS = "http://purl.org/dc/terms/"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"

ACTIVITY_TYPES = {"create": "Create", "update": "Update", "delete": "Delete"}

CONTEXT: dict[str, Any] = {
    "@version": 1.1,
    "as": AS,
    "tree": TREE,
    "ldes": LDES,
    "dcterms": DCTERMS,
    "rdfs": RDFS,
    "mlg": MLG,
    "xsd": XSD,
    "id": "@id",
    "type": "@type",
    "OrderedCollectionPage": "as:OrderedCollectionPage",
    "Create": "as:Create",
    "Update": "as:Update",
    "Delete": "as:Delete",
    "Activity": "as:Activity",
    "EventStream": "ldes:EventStream",
    "Node": "tree:Node",
    "GreaterThanRelation": "tree:GreaterThanRelation",
    "partOf": {"@id": "as:partOf", "@type": "@id"},
    "orderedItems": {"@id": "as:orderedItems", "@container": "@list"},
    "next": {"@id": "as:next", "@type": "@id"},
    "published": {"@id": "as:published", "@type": "xsd:dateTime"},
    "object": {"@id": "as:object", "@type": "@id"},
    "isVersionOf": {"@id": "dcterms:isVersionOf", "@type": "@id"},
    "sequence": {"@id": "mlg:sequence", "@type": "xsd:integer"},
    "graph": {"@id": "mlg:graph", "@type": "@id"},
    "source": "mlg:source",
    "sourceId": "mlg:sourceId",
    "originHub": "mlg:originHub",
    "originSource": "mlg:originSource",
    "originSourceId": "mlg:originSourceId",
    "by": "mlg:writtenBy",
    "last_sequence": {"@id": "mlg:lastSequence", "@type": "xsd:integer"},
    "view": {"@id": "tree:view", "@type": "@id"},
    "member": {"@id": "tree:member", "@type": "@id"},
    "relation": {"@id": "tree:relation"},
    "path": {"@id": "tree:path", "@type": "@id"},
    "value": {"@id": "tree:value", "@type": "xsd:integer"},
    "node": {"@id": "tree:node", "@type": "@id"},
    "timestampPath": {"@id": "ldes:timestampPath", "@type": "@id"},
    "versionOfPath": {"@id": "ldes:versionOfPath", "@type": "@id"},
    "retentionPolicy": {"@id": "ldes:retentionPolicy"},
    "comment": "rdfs:comment",
}
"""Every term the feed uses, so that a page is RDF without any remote context."""

RETENTION = {
    "type": "mlg:FullHistoryPolicy",
    "comment": (
        "Every member is kept: every change-log entry, and for creates and updates the record "
        "graph as it was after the change. Only an erasure (maillage forget) rewrites members."
    ),
}

def node_object(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> dict[str, str]:
    """A term as an expanded JSON-LD value."""
    if isinstance(term, ox.NamedNode):
        return {"@id": term.value}
    if isinstance(term, ox.BlankNode):
        return {"@id": f"_:{term.value}"}
    if isinstance(term, ox.Literal):
        if term.language:
            return {"@value": term.value, "@language": term.language}
        if term.datatype.value == XSD + "string":
            return {"@value": term.value}
        return {"@value": term.value, "@type": term.datatype.value}
    raise ValueError("RDF-star triples are not published in the feed")


def state_nodes(triples: Iterable[ox.Triple]) -> list[dict[str, Any]]:
    """Triples as expanded JSON-LD node objects, one per subject."""
    nodes: dict[str, dict[str, Any]] = {}
    for t in triples:
        subject = node_object(t.subject)["@id"]
        node = nodes.setdefault(subject, {"@id": subject})
        node.setdefault(t.predicate.value, []).append(node_object(t.object))
    return list(nodes.values())


def member(
    base: str, change: Change, state: list[ox.Triple] | None
) -> dict[str, object]:
    """One change-log entry as a member: an activity and a version of its entity."""
    item: dict[str, object] = {
        "id": change_iri(base, change.sequence),
        "type": ACTIVITY_TYPES.get(change.operation, "Activity"),
        "sequence": change.sequence,
        "published": change.time.isoformat(),
    }
    if change.entity is not None:
        item["object"] = change.entity
    item["isVersionOf"] = change.entity if change.entity is not None else change.graph
    item["graph"] = change.graph
    item["source"] = change.source
    if change.source_id is not None:
        item["sourceId"] = change.source_id
    if change.origin is not None:
        item["originHub"], item["originSource"], item["originSourceId"] = change.origin
    if change.by is not None:
        item["by"] = change.by
    if state is not None and change.operation != "delete":
        item["@graph"] = state_nodes(state)
    return item


def page(
    base: str,
    stream: str,
    page_url: Callable[[int], str],
    since: int,
    limit: int,
    changes: list[Change],
    states: dict[int, list[ox.Triple]],
    last: int | None,
) -> dict[str, Any]:
    """One page of the stream. ``changes`` holds at most ``limit`` entries after ``since``; a
    full page links to the next page whether or not it has entries yet; ``last`` (the hub's
    newest sequence) goes only into the open page, the one that still changes."""
    items = [member(base, c, states.get(c.sequence)) for c in changes]
    this = page_url(since)
    body: dict[str, Any] = {
        "@context": CONTEXT,
        "id": this,
        "type": "OrderedCollectionPage",
        "partOf": stream,
        "orderedItems": items,
    }
    if len(changes) >= limit:
        after = changes[-1].sequence
        body["next"] = page_url(after)
        body["relation"] = [
            {
                "type": "GreaterThanRelation",
                "path": "mlg:sequence",
                "value": after,
                "node": page_url(after),
            }
        ]
    if last is not None:
        body["last_sequence"] = last
    body["@included"] = [
        {
            "id": stream,
            "type": "EventStream",
            "timestampPath": "as:published",
            "versionOfPath": "dcterms:isVersionOf",
            "view": page_url(0),
            "member": [item["id"] for item in items],
        },
        {"id": page_url(0), "type": "Node", "retentionPolicy": RETENTION},
    ]
    return body

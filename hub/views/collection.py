"""A listing page as Linked Data: a Hydra collection whose members are the page's items.

The JSON a script reads and the RDF a JSON-LD processor reads are one document: ``items`` is
``hydra:member``, ``view`` the ``hydra:PartialCollectionView`` of this page with its ``first`` and
``next`` links, ``count`` ``hydra:totalItems``, and every key of an item is a term of the listing
context, which the hub serves itself (``/api/collection-context.jsonld``) so a processor needs no
network beyond the hub. Items are summaries (type, name, a few literals, ``href`` to the full
entity document, read as ``rdfs:seeAlso``), built from :func:`hub.views.listing.summary_triples`,
the read model the anonymous filters apply to.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox

from hub.views import listing
from hub.views.entity import best_text, entity_path
from hub.views.jsonld import hub_context, node_key
from hub.vocab import COLLECTIONS, MLG, RDF_TYPE, class_iris

HYDRA = "http://www.w3.org/ns/hydra/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"

# What the listing adds to the hub context. Coordinates are JSON numbers in a listing (map code
# reads them as numbers), so they are read as xsd:double rather than through the hub context's
# xsd:decimal coercion, which would turn 44.75 into the ill-typed "4.475E1"^^xsd:decimal; dates
# may be xsd:date or xsd:dateTime, so a summary gives them as text rather than claim one type.
LISTING_TERMS: dict[str, Any] = {
    "hydra": HYDRA,
    "Collection": "hydra:Collection",
    "PartialCollectionView": "hydra:PartialCollectionView",
    "items": {"@id": "hydra:member", "@container": "@set"},
    "count": "hydra:totalItems",
    "view": {"@id": "hydra:view", "@type": "@id"},
    "first": {"@id": "hydra:first", "@type": "@id"},
    "next": {"@id": "hydra:next", "@type": "@id"},
    "href": {"@id": "rdfs:seeAlso", "@type": "@id"},
    "latitude": {"@id": "mlg:latitude"},
    "longitude": {"@id": "mlg:longitude"},
    "startDate": {"@id": "mlg:startDate"},
    "endDate": {"@id": "mlg:endDate"},
}


@lru_cache(maxsize=1)
def listing_context() -> dict[str, Any]:
    """The served context document: the hub context's terms, then the listing's."""
    return {"@context": {**hub_context().inline, **LISTING_TERMS}}


@dataclass(frozen=True)
class Page:
    """One page of a listing, with the URLs that place it in its collection."""

    collection: str
    items: list[dict[str, Any]]
    collection_url: str  # the filtered collection: the request without paging parameters
    page_url: str  # this page, as requested
    first_url: str
    next_url: str | None
    total: int | None = None

    def absolute(self, href: str) -> str:
        return urljoin(self.page_url, href)


def summary_items(
    iris: list[str], triples: list[ox.Triple], collection: str, base: str
) -> list[dict[str, Any]]:
    """One JSON object per listed IRI: the most specific collection class, one name (French,
    else untagged, else English), the listing's literals, and ``href``, the entity's API path."""
    ctx = hub_context()
    subclasses = class_iris(COLLECTIONS[collection])
    by_subject: dict[str, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(node_key(t.subject), []).append(t)
    items = []
    for iri in iris:
        values: dict[str, list[ox.NamedNode | ox.Literal]] = {}
        for t in by_subject.get(iri, []):
            values.setdefault(t.predicate.value, []).append(t.object)  # type: ignore[arg-type]
        types = [o.value for o in values.pop(RDF_TYPE, []) if o.value in subclasses]
        specific = sorted(types, key=lambda t: subclasses.index(t))[-1] if types else subclasses[0]
        item: dict[str, Any] = {"id": iri, "type": ctx.compact(specific)}
        for prop in listing.SUMMARY_PROPERTIES:
            objects = values.get(MLG + prop, [])
            literals = [o for o in objects if isinstance(o, ox.Literal)]
            if prop in ("keyword", "theme"):
                if literals:
                    item[prop] = sorted({o.value for o in literals})
            elif prop in ("latitude", "longitude"):
                try:
                    item[prop] = float(literals[0].value) if literals else None
                except ValueError:
                    item[prop] = literals[0].value
            elif prop == "url":
                if objects:
                    item[prop] = objects[0].value
            else:
                text = best_text(literals)
                if text is not None or prop in ("name", "shortDescription"):
                    item[prop] = text
        item = {k: v for k, v in item.items() if v is not None or k in ("name",)}
        item["href"] = entity_path(base, collection, iri)
        items.append(item)
    return items


def hydra_page(page: Page, context: str | dict[str, Any]) -> dict[str, Any]:
    """The page as a JSON-LD Hydra collection. ``context`` is the served context's URL, or the
    context itself for a processor that must not fetch anything (pyoxigraph's parser)."""
    view: dict[str, Any] = {
        "id": page.page_url, "type": "PartialCollectionView", "first": page.first_url,
    }
    if page.next_url:
        view["next"] = page.next_url
    document: dict[str, Any] = {
        "@context": [context, {"@base": page.page_url}],
        "id": page.collection_url,
        "type": "Collection",
    }
    if page.total is not None:
        document["count"] = page.total
    document["items"] = page.items  # a null name is ignored by JSON-LD, kept for JSON readers
    document["view"] = view
    return document


def page_triples(page: Page) -> list[ox.Triple]:
    """The page's RDF, for Turtle, N-Triples and RDF/XML listings (the context inline)."""
    text = json.dumps(hydra_page(page, listing_context()["@context"]))
    return [q.triple for q in ox.parse(text, format=ox.RdfFormat.JSON_LD, base_iri=page.page_url)]


def link_header(page: Page, media: str) -> str:
    """RFC 8288 links to the first and next pages, for formats without room for them (CSV)."""
    links = [f'<{page.first_url}>; rel="first"; type="{media}"']
    if page.next_url:
        links.append(f'<{page.next_url}>; rel="next"; type="{media}"')
    return ", ".join(links)

"""``/.well-known/void``: a VoID and DCAT description of the hub's dataset (RFC 5785 location).

License: the demo data, and most of what a territorial hub gathers, comes from public French
documents (Cerema, ANCT...). The description therefore declares Etalab's Licence Ouverte / Open
Licence (https://www.etalab.gouv.fr/licence-ouverte-open-licence), the licence of French
public-sector open data: it keeps the hub consistent with its public-sector sources, it only asks
for attribution, and it is compatible with CC-BY 4.0 and ODC-BY. A share-alike licence (CC-BY-SA,
ODbL) would add obligations the sources themselves do not impose.
"""

from __future__ import annotations

from datetime import datetime

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response

from hub.api.negotiation import NotAcceptable, choose
from hub.api.state import HubState, hub_state
from hub.iris import component
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.status import class_counts, source_counts
from hub.store.base import Store
from hub.vocab import COLLECTIONS, META_GRAPH, MLG, RDF_TYPE, XSD, class_iris, term

router = APIRouter(tags=["dataset"])

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
SD = "http://www.w3.org/ns/sparql-service-description#"
FOAF = "http://xmlns.com/foaf/0.1/"
FORMATS = "http://www.w3.org/ns/formats/"
LICENSE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
EXAMPLES = 5

OFFERED = ("text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml")
PREFIXES = {
    "void": VOID,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "sd": SD,
    "foaf": FOAF,
    "mlg": MLG,
    "xsd": XSD,
}


def _count(store: Store, query: str) -> int:
    rows = store.select(query)
    return int(rows[0]["n"].value) if rows and "n" in rows[0] else 0


def triple_count(store: Store) -> int:
    """Triples in the record graphs (the hub's own bookkeeping in the meta graph left out)."""
    return _count(
        store,
        f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(?g != <{META_GRAPH}>) }}",
    )


def _class_values() -> str:
    return " ".join(f"<{c}>" for local in COLLECTIONS.values() for c in class_iris(local))


def entity_count(store: Store) -> int:
    """Distinct entities of any hub class (an entity of two classes counts once)."""
    return _count(
        store,
        f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ GRAPH ?g {{ VALUES ?c {{ {_class_values()} }} "
        f"?s <{RDF_TYPE}> ?c }} FILTER(?g != <{META_GRAPH}>) }}",
    )


def example_resources(store: Store, limit: int = EXAMPLES) -> list[str]:
    rows = store.select(
        f"SELECT DISTINCT ?s WHERE {{ GRAPH ?g {{ VALUES ?c {{ {_class_values()} }} "
        f"?s <{RDF_TYPE}> ?c }} FILTER(?g != <{META_GRAPH}> && isIRI(?s)) }} "
        f"ORDER BY ?s LIMIT {int(limit)}"
    )
    return [row["s"].value for row in rows]


def describe(store: Store, state: HubState, root: str, changes_url: str) -> list[ox.Triple]:
    """The description's triples; ``root`` is the public base URL of the hub (ending in '/')."""
    doc = ox.NamedNode(f"{root}.well-known/void")
    dataset = ox.NamedNode(f"{root}.well-known/void#dataset")
    sparql = ox.NamedNode(f"{root}sparql")
    changes = ox.NamedNode(changes_url)
    triples: list[ox.Triple] = []

    def add(subject: ox.NamedNode, predicate: str, obj: ox.NamedNode | ox.Literal) -> None:
        triples.append(ox.Triple(subject, ox.NamedNode(predicate), obj))

    def node(value: str) -> ox.NamedNode:
        return ox.NamedNode(value)

    def integer(value: int) -> ox.Literal:
        return ox.Literal(str(value), datatype=node(XSD + "integer"))

    rdf_type = RDF_TYPE
    add(doc, rdf_type, node(VOID + "DatasetDescription"))
    add(doc, DCTERMS + "title", ox.Literal("Description of the Maillage hub dataset", language="en"))
    add(doc, FOAF + "primaryTopic", dataset)

    add(dataset, rdf_type, node(VOID + "Dataset"))
    add(dataset, rdf_type, node(DCAT + "Dataset"))
    add(dataset, DCTERMS + "title", ox.Literal("Maillage", language="fr"))
    add(dataset, DCTERMS + "title", ox.Literal("Maillage", language="en"))
    add(dataset, DCTERMS + "description", ox.Literal(
        "Acteurs, lieux, projets, communs, ressources, événements et territoires des tiers-lieux "
        "et des communs, rassemblés depuis leurs sources et publiés en données liées.", language="fr"))
    add(dataset, DCTERMS + "description", ox.Literal(
        "Actors, places, projects, commons, resources, events and territories of third places and "
        "commons, gathered from their sources and published as linked data.", language="en"))
    add(dataset, DCTERMS + "license", node(LICENSE))
    add(dataset, VOID + "sparqlEndpoint", sparql)
    add(dataset, VOID + "uriSpace", ox.Literal(state.config.base_iri))
    add(dataset, VOID + "vocabulary", node(MLG))
    add(dataset, VOID + "triples", integer(triple_count(store)))
    add(dataset, VOID + "entities", integer(entity_count(store)))
    for fmt in ("Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG", "N-Quads"):
        add(dataset, VOID + "feature", node(FORMATS + fmt))
    last = last_sequence(store)
    if last:
        newest = read_changes(store, since=last - 1, limit=1)
        if newest:
            add(dataset, DCTERMS + "modified", _datetime(newest[0].time))
    for example in example_resources(store):
        add(dataset, VOID + "exampleResource", node(example))

    for local, count in class_counts(store).items():
        partition = node(f"{root}.well-known/void#class-{local}")
        add(dataset, VOID + "classPartition", partition)
        add(partition, rdf_type, node(VOID + "Dataset"))
        add(partition, VOID + "class", node(term(local)))
        add(partition, VOID + "entities", integer(count))

    configured = {s.name: s for s in state.config.sources}
    for name, records in source_counts(store).items():
        subset = node(f"{root}.well-known/void#source-{component(name)}")
        add(dataset, VOID + "subset", subset)
        add(subset, rdf_type, node(VOID + "Dataset"))
        add(subset, DCTERMS + "title", ox.Literal(name))
        add(subset, VOID + "documents", integer(records))  # one named graph per source record
        settings = configured.get(name)
        if settings is not None:
            add(subset, DCTERMS + "source", node(settings.url))

    sparql_distribution = node(f"{root}.well-known/void#sparql")
    add(dataset, DCAT + "distribution", sparql_distribution)
    add(sparql_distribution, rdf_type, node(DCAT + "Distribution"))
    add(sparql_distribution, DCTERMS + "title", ox.Literal("SPARQL 1.1 endpoint", language="en"))
    add(sparql_distribution, DCAT + "accessURL", sparql)
    add(sparql_distribution, DCAT + "accessService", sparql)
    add(sparql, rdf_type, node(SD + "Service"))
    add(sparql, rdf_type, node(DCAT + "DataService"))
    add(sparql, SD + "endpoint", sparql)
    add(sparql, SD + "supportedLanguage", node(SD + "SPARQL11Query"))
    add(sparql, DCAT + "endpointURL", sparql)
    add(sparql, DCAT + "endpointDescription", sparql)  # GET without a query: Service Description
    add(sparql, DCAT + "servesDataset", dataset)
    add(sparql, DCTERMS + "conformsTo", node("https://www.w3.org/TR/sparql11-protocol/"))

    feed = node(f"{root}.well-known/void#changes")
    add(dataset, DCAT + "distribution", feed)
    add(feed, rdf_type, node(DCAT + "Distribution"))
    add(feed, DCTERMS + "title", ox.Literal("Change feed (LDES / ActivityStreams 2.0)", language="en"))
    add(feed, DCAT + "accessURL", changes)
    add(feed, DCAT + "mediaType", node("https://www.iana.org/assignments/media-types/application/ld+json"))
    add(feed, DCTERMS + "conformsTo", node("https://www.w3.org/TR/activitystreams-core/"))
    add(feed, DCTERMS + "conformsTo", node("https://w3id.org/ldes/specification"))
    order: dict[str, int] = {}
    for triple in triples:
        order.setdefault(str(triple.subject), len(order))
    return sorted(triples, key=lambda t: order[str(t.subject)])  # stable: one block per subject


def _datetime(value: datetime) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))


@router.get("/.well-known/void", name="void_description", summary="VoID and DCAT dataset description")
def void_description(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """The dataset as ``void:Dataset`` and ``dcat:Dataset``: counts, partitions, access points.

    Turtle by default; JSON-LD (``application/ld+json``), N-Triples and RDF/XML on request.
    Describes the triple and entity counts, one ``void:classPartition`` per hub class, one
    ``void:subset`` per source (``void:documents`` is its number of record graphs), a few
    ``void:exampleResource``, the SPARQL endpoint (also typed ``sd:Service``, whose Service
    Description ``GET /sparql`` returns) and the ``/changes`` feed as DCAT distributions.
    """
    try:
        media = choose(
            request.headers.get("accept"), OFFERED,
            extra_aliases={"application/json": "application/ld+json"},
        )
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    root = str(request.base_url)
    if not root.endswith("/"):
        root += "/"
    triples = describe(state.store, state, root, str(request.url_for("changes_feed")))
    rdf_format = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.TURTLE
    prefixes = PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.JSON_LD) else None
    body = ox.serialize(triples, format=rdf_format, prefixes=prefixes)
    return Response(body, media_type=media, headers={"Vary": "Accept"})

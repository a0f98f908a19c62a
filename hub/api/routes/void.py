"""``/.well-known/void``: a VoID and DCAT-AP 3 description of the hub's dataset (RFC 5785).

Every number it publishes is the answer of a query a reader can run on ``/sparql`` without the
token, and is computed by running that very query through the same query workers, as an
anonymous query: whatever the anonymous default graph is (:mod:`hub.meta.public` decides), the
description counts exactly it. The queries are :data:`TRIPLES` (``void:triples``),
:data:`ENTITIES` (``void:entities``), :data:`CLASSES` (one ``void:classPartition`` per class)
and :data:`PROPERTIES` (one ``void:propertyPartition`` per predicate).

Class partitions describe the **asserted** classes only. The ontology's superclasses
(``mlg:Organization rdfs:subClassOf mlg:Actor``) are not materialised at ingest: a record graph
holds what its source said, its content hash, change-log payload and the projection pushed back
to the source are computed from those triples, and storing inferred types would make every
record differ from its source and double the type triples. So ``mlg:Actor`` has no partition
unless a record states it; a reader who wants the actors asks for ``mlg:Organization`` and
``mlg:Person`` (or uses ``rdfs:subClassOf*`` against the published ontology).

The per-source subsets count record graphs (``void:documents``) from the provenance in the
bookkeeping graph, which an operator can query with the token. Licences: see
:mod:`hub.views.catalog`; each source's records keep that source's licence.
"""

from __future__ import annotations

import json
from datetime import datetime

import pyoxigraph as ox
from fastapi import APIRouter, Depends, HTTPException, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from hub.api.negotiation import NotAcceptable, choose
from hub.api.query.runner import QueryJob
from hub.api.query.statuses import run_cached
from hub.api.state import HubState, hub_state
from hub.iris import component
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.status import source_counts
from hub.store.base import Store
from hub.views.catalog import DCAT, DCTERMS, FOAF, Places, catalog_triples
from hub.vocab import COLLECTIONS, MLG, RDF_TYPE, XSD, class_iris

router = APIRouter(tags=["dataset"])

VOID = "http://rdfs.org/ns/void#"
SD = "http://www.w3.org/ns/sparql-service-description#"
FORMATS = "http://www.w3.org/ns/formats/"
EXAMPLES = 5

TRIPLES = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
ENTITIES = "SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class }"
CLASSES = "SELECT ?class (COUNT(DISTINCT ?s) AS ?n) WHERE { ?s a ?class } GROUP BY ?class"
PROPERTIES = "SELECT ?p (COUNT(*) AS ?n) WHERE { ?s ?p ?o } GROUP BY ?p"

OFFERED = ("text/turtle", "application/ld+json", "application/n-triples", "application/rdf+xml")
PREFIXES = {
    "void": VOID,
    "dcat": DCAT,
    "dcterms": DCTERMS,
    "sd": SD,
    "foaf": FOAF,
    "mlg": MLG,
    "xsd": XSD,
    "vcard": "http://www.w3.org/2006/vcard/ns#",
    "skos": "http://www.w3.org/2004/02/skos/core#",
}


async def public_select(state: HubState, query: str) -> list[dict[str, str]]:
    """Rows of ``query`` run exactly as an anonymous ``/sparql`` request would run it."""
    job = QueryJob(query=query, result_format="application/sparql-results+json")
    result = await run_cached(state.runner, state.cache, state.write_lock, job)
    if isinstance(result, bytes):
        data = json.loads(result)
    else:
        try:
            data = json.loads(result.read_bytes())
        finally:
            result.unlink(missing_ok=True)
    return [{k: v["value"] for k, v in b.items()} for b in data["results"]["bindings"]]


def _examples_query() -> str:
    classes = " ".join(f"<{c}>" for local in COLLECTIONS.values() for c in class_iris(local))
    return (
        f"SELECT DISTINCT ?s WHERE {{ VALUES ?c {{ {classes} }} ?s a ?c FILTER(isIRI(?s)) }} "
        f"ORDER BY ?s LIMIT {EXAMPLES}"
    )


def _fragment(iri: str) -> str:
    """A readable, unique fragment for a partition: the local name of a hub term, else the IRI."""
    return iri[len(MLG):] if iri.startswith(MLG) else component(iri)


async def describe(state: HubState, places: Places) -> list[ox.Triple]:
    """The description's triples, one block per subject."""
    store = state.store
    dataset = places.local("dataset")
    triples: list[ox.Triple] = []

    def add(subject: str, predicate: str, obj: ox.NamedNode | ox.Literal | str) -> None:
        value = ox.NamedNode(obj) if isinstance(obj, str) else obj
        triples.append(ox.Triple(ox.NamedNode(subject), ox.NamedNode(predicate), value))

    def integer(value: str | int) -> ox.Literal:
        return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))

    doc = f"{places.root}.well-known/void"
    add(doc, RDF_TYPE, VOID + "DatasetDescription")
    add(doc, DCTERMS + "title", ox.Literal("Description of the Maillage hub dataset", language="en"))
    add(doc, FOAF + "primaryTopic", dataset)

    add(dataset, RDF_TYPE, VOID + "Dataset")
    add(dataset, RDF_TYPE, DCAT + "Dataset")
    add(dataset, VOID + "sparqlEndpoint", places.sparql)
    add(dataset, VOID + "uriSpace", ox.Literal(state.config.base_iri))
    add(dataset, VOID + "vocabulary", MLG)
    total = await public_select(state, TRIPLES)
    add(dataset, VOID + "triples", integer(total[0]["n"] if total else 0))
    entities = await public_select(state, ENTITIES)
    add(dataset, VOID + "entities", integer(entities[0]["n"] if entities else 0))
    for fmt in ("Turtle", "N-Triples", "RDF_XML", "JSON-LD", "TriG", "N-Quads"):
        add(dataset, VOID + "feature", FORMATS + fmt)
    modified = await run_in_threadpool(_modified, store)
    if modified is not None:
        add(dataset, DCTERMS + "modified", _datetime(modified))
    for row in await public_select(state, _examples_query()):
        add(dataset, VOID + "exampleResource", row["s"])

    classes = sorted((row["class"], row["n"]) for row in await public_select(state, CLASSES))
    add(dataset, VOID + "classes", integer(len(classes)))
    for cls, count in classes:
        partition = places.local(f"class-{_fragment(cls)}")
        add(dataset, VOID + "classPartition", partition)
        add(partition, RDF_TYPE, VOID + "Dataset")
        add(partition, VOID + "class", cls)
        add(partition, VOID + "entities", integer(count))
    properties = sorted((row["p"], row["n"]) for row in await public_select(state, PROPERTIES))
    add(dataset, VOID + "properties", integer(len(properties)))
    for prop, count in properties:
        partition = places.local(f"property-{_fragment(prop)}")
        add(dataset, VOID + "propertyPartition", partition)
        add(partition, RDF_TYPE, VOID + "Dataset")
        add(partition, VOID + "property", prop)
        add(partition, VOID + "triples", integer(count))

    configured = {s.name: s for s in state.config.sources}
    records = await run_in_threadpool(source_counts, store)
    licences = {name: state.config.licence_of(name) for name in records}
    for name, documents in records.items():
        subset = places.local(f"source-{component(name)}")
        add(dataset, VOID + "subset", subset)
        add(subset, RDF_TYPE, VOID + "Dataset")
        add(subset, DCTERMS + "title", ox.Literal(name))
        add(subset, VOID + "documents", integer(documents))  # one named graph per source record
        if (iri := licences[name].iri) is not None:
            add(subset, DCTERMS + "license", iri)
        if (settings := configured.get(name)) is not None:
            add(subset, DCTERMS + "source", settings.url)
    add(places.sparql, RDF_TYPE, SD + "Service")
    add(places.sparql, SD + "endpoint", places.sparql)
    add(places.sparql, SD + "supportedLanguage", SD + "SPARQL11Query")
    triples += catalog_triples(state.config, places, list(records), licences)
    order: dict[str, int] = {}
    for triple in triples:
        order.setdefault(str(triple.subject), len(order))
    unique = list(dict.fromkeys(triples))
    return sorted(unique, key=lambda t: order[str(t.subject)])  # stable: one block per subject


def _modified(store: Store) -> datetime | None:
    """When the newest change was committed (the change log is public: ``/changes``)."""
    last = last_sequence(store)
    newest = read_changes(store, since=last - 1, limit=1) if last else []
    return newest[0].time if newest else None


def _datetime(value: datetime) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))


def places_of(request: Request) -> Places:
    root = str(request.base_url)
    if not root.endswith("/"):
        root += "/"
    return Places(root, f"{root}sparql", str(request.url_for("changes_feed")))


@router.get("/.well-known/void", name="void_description", summary="VoID and DCAT-AP description")
async def void_description(request: Request, state: HubState = Depends(hub_state)) -> Response:
    """The dataset as ``void:Dataset`` and ``dcat:Dataset`` in a DCAT-AP 3 ``dcat:Catalog``.

    Turtle by default; JSON-LD (``application/ld+json``), N-Triples and RDF/XML on request.
    Counts (triples, entities, one ``void:classPartition`` per asserted class, one
    ``void:propertyPartition`` per predicate) are those anonymous SPARQL queries return; one
    ``void:subset`` and one distribution per source, with the source's licence; the SPARQL
    endpoint and the ``/changes`` feed as ``dcat:DataService``s.
    """
    try:
        media = choose(
            request.headers.get("accept"), OFFERED,
            extra_aliases={"application/json": "application/ld+json"},
        )
    except NotAcceptable as exc:
        raise HTTPException(406, str(exc)) from exc
    triples = await describe(state, places_of(request))
    rdf_format = ox.RdfFormat.from_media_type(media) or ox.RdfFormat.TURTLE
    prefixes = PREFIXES if rdf_format in (ox.RdfFormat.TURTLE, ox.RdfFormat.JSON_LD) else None
    body = ox.serialize(triples, format=rdf_format, prefixes=prefixes)
    return Response(body, media_type=media, headers={"Vary": "Accept"})

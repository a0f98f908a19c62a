"""The DCAT-AP 3 half of ``/.well-known/void``: catalogue, publisher, contact, themes, services.

What it must satisfy is SEMIC's DCAT-AP 3 SHACL shapes (vendored in the tests), checked without
inference: every value whose class the shapes name is typed explicitly here (a licence is a
``dct:LicenseDocument``, a media type a ``dct:MediaType``, an endpoint URL an ``rdfs:Resource``,
a theme a ``skos:Concept`` with its label).

Licences are per source. Each source with records gets a distribution carrying its own licence
and attribution, because a wiki under CC BY-SA cannot be republished under the Licence Ouverte.
The dataset, the SPARQL endpoint and the change feed mix every source, so they name a licence
only when all sources share one; otherwise a description says where each record's licence is.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import pyoxigraph as ox

from hub.config import EU_THEMES, Config, Licence
from hub.iris import component
from hub.vocab import RDF_TYPE

DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
FOAF = "http://xmlns.com/foaf/0.1/"
VCARD = "http://www.w3.org/2006/vcard/ns#"
SKOS = "http://www.w3.org/2004/02/skos/core#"
RDFS = "http://www.w3.org/2000/01/rdf-schema#"
CC = "http://creativecommons.org/ns#"
IANA = "http://www.iana.org/assignments/media-types/"
THEMES = "http://publications.europa.eu/resource/authority/data-theme"
SPARQL_PROTOCOL = "https://www.w3.org/TR/sparql11-protocol/"
LDES = "https://w3id.org/ldes/specification"


@dataclass(frozen=True)
class Places:
    """The absolute URLs the description points at (``root`` ends with '/')."""

    root: str
    sparql: str
    changes: str

    def local(self, fragment: str) -> str:
        return f"{self.root}.well-known/void#{fragment}"


Add = Callable[[str, str, "ox.NamedNode | ox.Literal | str"], None]


def catalog_triples(
    config: Config, places: Places, sources: list[str], licences: dict[str, Licence]
) -> list[ox.Triple]:
    """The DCAT-AP statements about ``places.local('dataset')``; ``sources`` have records."""
    triples: list[ox.Triple] = []

    def add(subject: str, predicate: str, obj: ox.NamedNode | ox.Literal | str) -> None:
        value = ox.NamedNode(obj) if isinstance(obj, str) else obj
        triples.append(ox.Triple(ox.NamedNode(subject), ox.NamedNode(predicate), value))

    settings = config.catalog
    catalog, dataset = places.local("catalog"), places.local("dataset")
    publisher = settings.publisher_url or places.local("publisher")
    contact = places.local("contact")
    common = {licences[s].iri for s in sources} if sources else {settings.license}
    shared = next(iter(common)) if len(common) == 1 else None

    add(catalog, RDF_TYPE, DCAT + "Catalog")
    add(catalog, DCTERMS + "title", ox.Literal(settings.title))
    add(catalog, DCTERMS + "description", ox.Literal(settings.description))
    add(catalog, DCTERMS + "publisher", publisher)
    add(catalog, DCAT + "dataset", dataset)
    add(catalog, FOAF + "homepage", _typed(add, places.root, FOAF + "Document"))
    add(catalog, DCTERMS + "license", _licence(add, settings.license))
    add(catalog, DCAT + "themeTaxonomy", THEMES)
    add(THEMES, RDF_TYPE, SKOS + "ConceptScheme")
    add(THEMES, DCTERMS + "title", ox.Literal("Data theme", language="en"))

    add(publisher, RDF_TYPE, FOAF + "Agent")
    add(publisher, FOAF + "name", ox.Literal(settings.publisher))
    add(contact, RDF_TYPE, VCARD + "Kind")
    add(contact, RDF_TYPE, VCARD + "Organization")
    add(contact, VCARD + "fn", ox.Literal(settings.publisher))
    if settings.contact_email:
        add(contact, VCARD + "hasEmail", f"mailto:{settings.contact_email}")
    add(contact, VCARD + "hasURL", settings.contact_url or places.root)

    add(dataset, DCTERMS + "title", ox.Literal(settings.title))
    add(dataset, DCTERMS + "description", ox.Literal(settings.description))
    add(dataset, DCTERMS + "publisher", publisher)
    add(dataset, DCAT + "contactPoint", contact)
    add(dataset, DCAT + "landingPage", _typed(add, places.root, FOAF + "Document"))
    for keyword in settings.keywords:
        add(dataset, DCAT + "keyword", ox.Literal(keyword))
    for code in settings.themes:
        theme = f"{THEMES}/{code}"
        add(dataset, DCAT + "theme", theme)
        add(theme, RDF_TYPE, SKOS + "Concept")
        add(theme, SKOS + "prefLabel", ox.Literal(EU_THEMES[code], language="en"))
        add(theme, SKOS + "inScheme", THEMES)
    if shared is not None:
        add(dataset, DCTERMS + "license", _licence(add, shared))
    else:
        add(dataset, DCTERMS + "rights", ox.Literal(MIXED))

    sparql_service = places.sparql
    _service(add, sparql_service, "SPARQL 1.1 endpoint", places.sparql, SPARQL_PROTOCOL, dataset)
    add(sparql_service, DCAT + "endpointDescription", _typed(add, places.sparql, RDFS + "Resource"))
    changes_service = places.local("changes-service")
    _service(add, changes_service, "Change feed (Linked Data Event Stream)", places.changes, LDES,
             dataset)
    for service in (sparql_service, changes_service):
        add(catalog, DCAT + "service", service)
        add(service, DCTERMS + "publisher", publisher)
        add(service, DCAT + "contactPoint", contact)
        if shared is not None:
            add(service, DCTERMS + "license", _licence(add, shared))

    def distribution(key: str, title: str, url: str, service: str, media: str) -> str:
        node = places.local(key)
        add(dataset, DCAT + "distribution", node)
        add(node, RDF_TYPE, DCAT + "Distribution")
        add(node, DCTERMS + "title", ox.Literal(title, language="en"))
        add(node, DCAT + "accessURL", _typed(add, url, RDFS + "Resource"))
        add(node, DCAT + "accessService", service)
        add(node, DCAT + "mediaType", _typed(add, IANA + media, DCTERMS + "MediaType"))
        return node

    for node in (
        distribution("sparql", "SPARQL 1.1 endpoint", places.sparql, sparql_service,
                     "application/sparql-results+json"),
        distribution("changes", "Change feed (LDES / ActivityStreams 2.0)", places.changes,
                     changes_service, "application/ld+json"),
    ):
        if shared is not None:
            add(node, DCTERMS + "license", _licence(add, shared))
        else:
            add(node, DCTERMS + "description", ox.Literal(MIXED, language="en"))
    for name in sources:
        licence = licences[name]
        node = distribution(
            f"source-{component(name)}-distribution", f"Records read from {name}",
            places.sparql, sparql_service, "application/sparql-results+json",
        )
        add(node, DCTERMS + "description", ox.Literal(
            f"The records this hub read from the source {name!r}, queried through the SPARQL "
            "endpoint; each record's provenance names its source and licence.", language="en"))
        if licence.iri is not None:
            add(node, DCTERMS + "license", _licence(add, licence.iri))
        add(node, CC + "attributionName", ox.Literal(licence.attribution))
    return triples


MIXED = (
    "Each record keeps the licence of the source it was read from: see the per-source "
    "distributions, and mlg:license in each record's provenance."
)


def _service(add: Add, node: str, title: str, endpoint: str, standard: str, dataset: str) -> None:
    add(node, RDF_TYPE, DCAT + "DataService")
    add(node, DCTERMS + "title", ox.Literal(title, language="en"))
    add(node, DCAT + "endpointURL", _typed(add, endpoint, RDFS + "Resource"))
    add(node, DCAT + "servesDataset", dataset)
    add(node, DCTERMS + "conformsTo", _typed(add, standard, DCTERMS + "Standard"))


def _typed(add: Add, iri: str, cls: str) -> str:
    add(iri, RDF_TYPE, cls)
    return iri


def _licence(add: Add, iri: str) -> str:
    return _typed(add, iri, DCTERMS + "LicenseDocument")

"""The hub vocabulary as Python constants, so code never spells an IRI twice.

The Turtle source of truth is ``ontologies/maillage.ttl``; this module only names the terms the
code reads or writes, and the classes exposed by the REST API.
"""

from __future__ import annotations

from typing import Final

MLG: Final = "https://w3id.org/maillage/ontology#"
"""Namespace of the hub ontology (classes and properties)."""

DEFAULT_BASE_IRI: Final = "https://w3id.org/maillage/id/"
"""Default base for hub entity IRIs (configurable as ``base_iri``)."""

META_GRAPH: Final = "urn:maillage:meta"
"""Named graph that holds provenance, the change log, cursors and the quarantine."""

RDF_TYPE: Final = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
XSD: Final = "http://www.w3.org/2001/XMLSchema#"
PROV: Final = "http://www.w3.org/ns/prov#"
SCHEMA: Final = "https://schema.org/"
OWL_SAME_AS: Final = "http://www.w3.org/2002/07/owl#sameAs"

# REST collection name -> hub class local name. The order is the order of the docs and status.
COLLECTIONS: Final[dict[str, str]] = {
    "actors": "Actor",
    "places": "Place",
    "projects": "Project",
    "commons": "Commons",
    "resources": "Resource",
    "services": "Service",
    "events": "Event",
    "grants": "Grant",
    "territories": "Territory",
}

# Subclasses that count as their parent for collections and status.
SUBCLASSES: Final[dict[str, tuple[str, ...]]] = {
    "Actor": ("Organization", "Person"),
    "Territory": ("Commune", "EPCI", "Department", "Region"),
}


CLASS_NAMES: Final = frozenset(COLLECTIONS.values()) | {c for subs in SUBCLASSES.values() for c in subs}
"""Local names of every hub class, subclasses included."""


def term(local: str) -> str:
    """IRI of a hub ontology term from its local name."""
    return MLG + local


def class_iris(local: str) -> list[str]:
    """The class and its subclasses, for queries that must match both."""
    return [term(local)] + [term(sub) for sub in SUBCLASSES.get(local, ())]


def property_iri(name: str) -> str:
    """The predicate of a mapping's property name: a hub term, except ``sameAs`` (owl:sameAs),
    for a value that names the thing's record elsewhere (see hub.pipeline.match)."""
    return OWL_SAME_AS if name == "sameAs" else MLG + name

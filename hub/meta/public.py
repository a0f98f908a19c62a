"""What anonymous readers may see: the public/private split of the hub's graphs and meta graph.

Record graphs are public, and so is the part of each record's provenance that says where a triple comes from
(source, source id, revision, when it was read, its licence). The rest of the meta graph is the
hub's own working state and stays private: quarantine payloads can hold what the shapes refused
(personal data included), conflicts and match candidates are waiting for a person, sync state
and cursors describe the sources' internals, source statuses carry raw error messages.

Keeping the list here, beside the layout it describes (see the table in :mod:`hub.meta`), means
that a new kind of subject is private until someone decides otherwise in this one place.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyoxigraph as ox

from hub.vocab import MLG, PROV, RDF_TYPE, term

PRIVATE_GRAPH_PREFIX = "urn:maillage:"
"""Every graph whose IRI starts here is private: the meta graph (``urn:maillage:meta``) and the
companion graphs that hold persons' contact data (:func:`companion_graph`). Record graphs live
under the hub's base IRI, so one prefix test tells them apart, in Python and in SPARQL."""

COMPANION_PREFIX = PRIVATE_GRAPH_PREFIX + "private:"

PERSON_CONTACT_PREDICATES: frozenset[str] = frozenset(
    {
        MLG + "email",
        MLG + "streetAddress",
        MLG + "telephone",
        "http://schema.org/email",
        "http://schema.org/telephone",
        "http://schema.org/streetAddress",
        "https://schema.org/email",
        "https://schema.org/telephone",
        "https://schema.org/streetAddress",
        "http://xmlns.com/foaf/0.1/mbox",
        "http://xmlns.com/foaf/0.1/phone",
        "http://www.w3.org/2006/vcard/ns#hasEmail",
        "http://www.w3.org/2006/vcard/ns#hasTelephone",
        "http://www.w3.org/2006/vcard/ns#street-address",
    }
)
"""How a natural person (``mlg:Person``) can be reached: e-mail, telephone, street address. Kept
out of every anonymous output unless the source declared ``publish_person_contacts = true``
(consent). An organisation's contact data is public: it is how the public reaches it."""

PERSON_CLASS = MLG + "Person"
_PERSON = ox.NamedNode(PERSON_CLASS)


def split_contacts(
    triples: Iterable[ox.Triple], published: bool
) -> tuple[list[ox.Triple], list[ox.Triple]]:
    """(public, private) triples of a record: a natural person's contact data goes to the
    record's private companion graph, unless its source publishes it (consent)."""
    triples = list(triples)
    if published:
        return triples, []
    persons = {
        t.subject for t in triples if t.predicate.value == RDF_TYPE and t.object == _PERSON
    }
    if not persons:
        return triples, []
    private = [
        t for t in triples if t.subject in persons and t.predicate.value in PERSON_CONTACT_PREDICATES
    ]
    return [t for t in triples if t not in private], private


def is_public_graph(graph: str) -> bool:
    """Whether an anonymous reader may see this named graph (a record graph)."""
    return not graph.startswith(PRIVATE_GRAPH_PREFIX)


def public_graph_filter(variable: str = "g") -> str:
    """A SPARQL ``FILTER`` keeping only the public named graphs bound to ``?variable``: use it in
    any ``GRAPH ?g`` pattern whose answer reaches an anonymous reader (counts included)."""
    return f'FILTER(!STRSTARTS(STR(?{variable}), "{PRIVATE_GRAPH_PREFIX}"))'


def public_graphs(graphs: Iterable[str]) -> list[str]:
    """The public graphs among ``graphs``, in order: the anonymous dataset's default graph is
    their union, and they are its named graphs."""
    return [g for g in graphs if is_public_graph(g)]


def companion_graph(record_graph: str) -> str:
    """The private graph beside a record graph that holds its persons' contact data."""
    return COMPANION_PREFIX + record_graph


def companion_of(graph: str) -> str | None:
    """The record graph a companion graph belongs to, or None for any other graph."""
    return graph[len(COMPANION_PREFIX):] if graph.startswith(COMPANION_PREFIX) else None

RECORD_GRAPHS_PUBLIC = True
"""Every named graph but the meta graph and the companion graphs holds one source record, or the
hub's placing of one (``{base}placing/…``, :mod:`hub.pipeline.place`): all public."""

PUBLIC_KINDS: frozenset[str] = frozenset({term("Record"), term("Change")})
"""Meta-graph subjects (by ``rdf:type``) an anonymous reader may see at all: a record graph's
provenance, and change-log entries (the ``/changes`` feed is public already)."""

PRIVATE_KINDS: frozenset[str] = frozenset(
    {
        term("QuarantinedRecord"),
        term("Conflict"),
        term("SyncState"),
        term("Cursor"),
        term("MatchCandidate"),
        term("PlacementCandidate"),
        term("PlacementChoice"),
        term("SourceStatus"),
        term("Erasure"),
    }
)
"""Meta-graph subjects never shown to an anonymous reader, whatever the predicate."""

PUBLIC_PREDICATES: dict[str, frozenset[str]] = {
    term("Record"): frozenset(
        {
            RDF_TYPE,
            term("source"),
            term("sourceId"),
            term("revision"),
            term("retrievedAt"),
            term("entity"),
            PROV + "hadPrimarySource",
            MLG + "license",  # the source's licence and how to credit it (hub.meta.provenance)
            "http://creativecommons.org/ns#attributionName",
        }
    ),
    term("Change"): frozenset(
        {
            RDF_TYPE,
            term("sequence"),
            term("operation"),
            term("entity"),
            term("graph"),
            term("source"),
            term("writtenBy"),
            PROV + "atTime",
        }
    ),
}
"""Of a public kind, the predicates an anonymous reader may see; the others (content hash,
connector, origin of a peer hub's record, commit time) are bookkeeping and stay private."""


def is_public(kind: str, predicate: str) -> bool:
    """Whether a statement ``predicate`` of a meta-graph subject of type ``kind`` may be shown to
    an anonymous reader. Unknown kinds and predicates are private."""
    return predicate in PUBLIC_PREDICATES.get(kind, frozenset())

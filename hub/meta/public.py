"""What anonymous readers may see: the public/private split of the hub's graphs and meta graph.

Data only, not yet wired into the endpoints (the public-face work will read it): record graphs
are public, and so is the part of each record's provenance that says where a triple comes from
(source, source id, revision, when it was read, its licence). The rest of the meta graph is the
hub's own working state and stays private: quarantine payloads can hold what the shapes refused
(personal data included), conflicts and match candidates are waiting for a person, sync state
and cursors describe the sources' internals, source statuses carry raw error messages.

Keeping the list here, beside the layout it describes (see the table in :mod:`hub.meta`), means
that a new kind of subject is private until someone decides otherwise in this one place.
"""

from __future__ import annotations

from hub.vocab import MLG, PROV, RDF_TYPE, term

RECORD_GRAPHS_PUBLIC = True
"""Every named graph but the meta graph holds one source record: all public."""

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
        term("SourceStatus"),
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
            MLG + "license",  # not written in provenance yet; public when it is
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

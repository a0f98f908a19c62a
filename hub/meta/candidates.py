"""Match candidates: pairs of entities that may be one thing, waiting for a person.

Matching (:mod:`hub.pipeline.match`) decides what is a candidate; this module is where a
candidate is written, listed and forgotten, and where connectors learn that an entity waits for a
decision (until then, nothing creates it elsewhere: a twin would be made on a guess).
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from hub.errors import NotFound
from hub.iris import is_review_id
from hub.records import MetaUpdate, Node, now
from hub.store.base import Store
from hub.store.transaction import iri, text, timestamp
from hub.vocab import META_GRAPH, PROV, RDF_TYPE, XSD, term

MATCH_PREFIX = "urn:maillage:match:"


@dataclass(frozen=True)
class Candidate:
    """A pair waiting for a person: the new entity may be the existing one."""

    id: str
    source: str
    source_id: str
    new_entity: str
    existing: str
    confidence: float
    reason: str
    time: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "source": self.source,
            "source_id": self.source_id,
            "new_entity": self.new_entity,
            "existing_entity": self.existing,
            "confidence": self.confidence,
            "reason": self.reason,
            "time": self.time.isoformat(),
        }


def candidate_statements(
    source: str, source_id: str, new_entity: str, existing: str, confidence: float, reason: str
) -> MetaUpdate:
    """The candidate record; its id hashes the pair, so the same pair found again replaces it."""
    digest = hashlib.sha256(f"{new_entity}\n{existing}".encode()).hexdigest()[:24]
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(term("MatchCandidate"))),
        (term("source"), text(source)),
        (term("sourceId"), text(source_id)),
        (term("entity"), iri(new_entity)),
        (term("sameAsCandidate"), iri(existing)),
        (term("confidence"), ox.Literal(f"{confidence:.2f}", datatype=ox.NamedNode(XSD + "decimal"))),
        (term("reason"), text(reason)),
        (PROV + "generatedAtTime", timestamp(now())),
    ]
    return MATCH_PREFIX + digest, statements


def candidate_iri(candidate_id: str) -> str:
    """The meta-graph subject of a candidate; a malformed id is unknown (:class:`NotFound`)."""
    if not is_review_id(candidate_id):
        raise NotFound(f"no match candidate {candidate_id[:80]!r} (see `maillage matches list`)")
    return MATCH_PREFIX + candidate_id


def forget_candidate(candidate_id: str) -> MetaUpdate:
    """The update that removes a candidate (a person decided)."""
    return candidate_iri(candidate_id), []


def list_candidates(store: Store, candidate_id: str | None = None) -> list[Candidate]:
    only = f"FILTER(?c = {ox.NamedNode(candidate_iri(candidate_id))})" if candidate_id else ""
    rows = store.select(
        f"""SELECT ?c ?src ?id ?new ?old ?conf ?reason ?t WHERE {{ GRAPH <{META_GRAPH}> {{
            ?c a <{term("MatchCandidate")}> ; <{term("source")}> ?src ; <{term("sourceId")}> ?id ;
               <{term("entity")}> ?new ; <{term("sameAsCandidate")}> ?old ; <{term("confidence")}> ?conf ;
               <{term("reason")}> ?reason ; <{PROV}generatedAtTime> ?t . {only} }} }}
           ORDER BY DESC(?conf) ?c"""
    )
    return [
        Candidate(
            r["c"].value.removeprefix(MATCH_PREFIX),
            r["src"].value,
            r["id"].value,
            r["new"].value,
            r["old"].value,
            float(r["conf"].value),
            r["reason"].value,
            datetime.fromisoformat(r["t"].value),
        )
        for r in rows
    ]


def pending(store: Store, entity: str) -> bool:
    """Whether the entity is one side of a pair waiting for a person: until then, no connector
    creates it elsewhere (a twin would be made on a guess)."""
    return store.ask(
        f"""ASK {{ GRAPH <{META_GRAPH}> {{ ?c a <{term("MatchCandidate")}> .
            {{ ?c <{term("entity")}> {ox.NamedNode(entity)} }}
            UNION {{ ?c <{term("sameAsCandidate")}> {ox.NamedNode(entity)} }} }} }}"""
    )

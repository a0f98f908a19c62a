"""Placement candidates and choices: town names that name several communes, and what a person chose.

Placing (:mod:`hub.pipeline.place`) never guesses: "Montreuil" alone is four communes. Such a
name becomes a candidate here, with the communes it may be; a person's choice is kept per
(source, source id, name), so the next time the source sends the record the choice applies and no
candidate comes back. Both kinds are private (:mod:`hub.meta.public`): they are working state.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph as ox

from hub.errors import NotFound
from hub.iris import is_review_id
from hub.records import MetaUpdate, Node, now
from hub.store.base import Store
from hub.store.transaction import iri, text, timestamp
from hub.vocab import META_GRAPH, MLG, PROV, RDF_TYPE, term

PLACEMENT_PREFIX = "urn:maillage:placement:"
CHOICE_PREFIX = "urn:maillage:placement-choice:"
CANDIDATE_CLASS = term("PlacementCandidate")
CHOICE_CLASS = term("PlacementChoice")


def _digest(source: str, source_id: str, key: str) -> str:
    return hashlib.sha256(f"{source}\n{source_id}\n{key}".encode()).hexdigest()[:24]


@dataclass(frozen=True)
class PlacementCandidate:
    """A name in a record that names several communes, waiting for a person."""

    id: str
    source: str
    source_id: str
    entity: str
    graph: str
    name: str
    key: str
    communes: tuple[str, ...]
    """INSEE codes of the communes the name may be, most populous first."""
    time: datetime

    def as_dict(self) -> dict[str, object]:
        return {
            "id": self.id,
            "source": self.source,
            "source_id": self.source_id,
            "entity": self.entity,
            "graph": self.graph,
            "name": self.name,
            "communes": list(self.communes),
            "time": self.time.isoformat(),
        }


@dataclass
class Known:
    """What the meta graph holds about the placing of a batch's records: one query per batch."""

    candidates: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    """(source, source id) → candidate subjects, to forget when the record changes or goes."""
    choices: dict[tuple[str, str], dict[str, str]] = field(default_factory=dict)
    """(source, source id) → {name key → chosen INSEE code}."""


def candidate_statements(
    source: str, source_id: str, entity: str, graph: str, name: str, key: str, communes: Iterable[str]
) -> MetaUpdate:
    """The candidate; its id hashes (source, source id, name key), so the same name found again
    replaces it. ``communes`` (INSEE codes, most populous first) are numbered to keep the order."""
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(CANDIDATE_CLASS)),
        (term("source"), text(source)),
        (term("sourceId"), text(source_id)),
        (term("entity"), iri(entity)),
        (term("graph"), iri(graph)),
        (MLG + "locality", text(name)),
        (term("reason"), text(key)),
        (PROV + "generatedAtTime", timestamp(now())),
    ]
    statements += [(MLG + "inseeCode", text(f"{n:03d} {code}")) for n, code in enumerate(communes)]
    return PLACEMENT_PREFIX + _digest(source, source_id, key), statements


def choice_statements(source: str, source_id: str, key: str, insee: str) -> MetaUpdate:
    """A person's choice for one name of one record: it outlives the candidate and re-syncs."""
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(CHOICE_CLASS)),
        (term("source"), text(source)),
        (term("sourceId"), text(source_id)),
        (term("reason"), text(key)),
        (MLG + "inseeCode", text(insee)),
        (PROV + "generatedAtTime", timestamp(now())),
    ]
    return CHOICE_PREFIX + _digest(source, source_id, key), statements


def placement_iri(candidate_id: str) -> str:
    """The meta-graph subject of a candidate; a malformed id is unknown (:class:`NotFound`)."""
    if not is_review_id(candidate_id):
        raise NotFound(f"no placement candidate {candidate_id[:80]!r} (see `maillage places list`)")
    return PLACEMENT_PREFIX + candidate_id


def list_placements(store: Store, candidate_id: str | None = None) -> list[PlacementCandidate]:
    """Candidates waiting for a person, oldest first."""
    only = f"FILTER(?c = {ox.NamedNode(placement_iri(candidate_id))})" if candidate_id else ""
    rows = store.select(
        f"""SELECT ?c ?src ?id ?e ?g ?name ?key ?t ?code WHERE {{ GRAPH <{META_GRAPH}> {{
            ?c a <{CANDIDATE_CLASS}> ; <{term("source")}> ?src ; <{term("sourceId")}> ?id ;
               <{term("entity")}> ?e ; <{term("graph")}> ?g ; <{MLG}locality> ?name ;
               <{term("reason")}> ?key ; <{PROV}generatedAtTime> ?t ; <{MLG}inseeCode> ?code .
            {only} }} }} ORDER BY ?t ?c ?code"""
    )
    found: dict[str, PlacementCandidate] = {}
    codes: dict[str, list[str]] = {}
    for r in rows:
        subject = r["c"].value
        codes.setdefault(subject, []).append(r["code"].value.split(" ", 1)[-1])
        found.setdefault(subject, PlacementCandidate(
            subject.removeprefix(PLACEMENT_PREFIX), r["src"].value, r["id"].value, r["e"].value,
            r["g"].value, r["name"].value, r["key"].value, (), datetime.fromisoformat(r["t"].value),
        ))
    return [
        PlacementCandidate(**{**c.__dict__, "communes": tuple(codes[s])}) for s, c in found.items()
    ]


def known_placings(store: Store, records: Iterable[tuple[str, str]]) -> Known:
    """Candidates and choices of these (source, source id) pairs, in one query per 500.

    The pairs come first and the pattern starts from the source id, so the store looks up each
    pair's subjects; with the class list first it went over every waiting candidate of the store
    for each batch (bench/recall.py: 2.3 s a batch over 80,000 candidates, 1.7 ms now)."""
    pairs = sorted(set(records))
    known = Known()
    for start in range(0, len(pairs), 500):
        values = " ".join(
            f"({ox.Literal(s)} {ox.Literal(i)})" for s, i in pairs[start : start + 500]
        )
        rows = store.select(
            f"""SELECT ?s ?kind ?src ?id ?key ?code WHERE {{ GRAPH <{META_GRAPH}> {{
                VALUES (?src ?id) {{ {values} }}
                ?s <{term("sourceId")}> ?id ; <{term("source")}> ?src ; a ?kind ;
                   <{term("reason")}> ?key .
                FILTER(?kind IN (<{CANDIDATE_CLASS}>, <{CHOICE_CLASS}>))
                OPTIONAL {{ ?s <{MLG}inseeCode> ?code FILTER(?kind = <{CHOICE_CLASS}>) }} }} }}"""
        )
        for r in rows:
            pair = (r["src"].value, r["id"].value)
            if r["kind"].value == CANDIDATE_CLASS:
                subjects = known.candidates.setdefault(pair, [])
                if r["s"].value not in subjects:
                    subjects.append(r["s"].value)
            elif "code" in r:
                known.choices.setdefault(pair, {})[r["key"].value] = r["code"].value
    return known

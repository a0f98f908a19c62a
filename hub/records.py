"""A source record: what one source says about one thing, as triples, with where it came from.

Records are the unit of everything downstream: one named graph, one validation, one change-log
entry. Blank nodes are replaced by stable IRIs here, so that the same record read twice has the
same content hash and re-importing it logs no change.
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from functools import cached_property

import pyoxigraph as ox

from hub.iris import graph_iri as stable_graph_iri
from hub.record_checks import content_problem, provenance_problem
from hub.vocab import MLG, RDF_TYPE, XSD, class_iris

HUB_CLASSES = frozenset(
    iri
    for local in (
        "Actor", "Place", "Project", "Commons", "Resource", "Service", "Event", "Grant", "Territory"
    )
    for iri in class_iris(local)
)
MAX_LITERAL_BYTES = 1_000_000

Node = ox.NamedNode | ox.BlankNode | ox.Literal
"""An object the hub writes in a statement of its own (meta graph, transaction helpers)."""
MetaUpdate = tuple[str, list[tuple[str, Node]]]
"""(subject in the meta graph, its new statements; none to forget the subject). The currency
between the stages and :mod:`hub.meta`: matching, sync and review hand these to one commit."""
Cursor = tuple[str, str]
"""(cursor key, value) committed with a batch."""


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def moment_literal(moment: datetime, kind: str) -> ox.Literal:
    """``moment`` as an ``xsd:date`` (``kind`` "date") or an ``xsd:dateTime``: a source's time
    without a zone is read as UTC, so that two connectors store the same instant alike."""
    if kind == "date":
        day: date = moment.date()
        return ox.Literal(day.isoformat(), datatype=ox.NamedNode(XSD + "date"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return ox.Literal(moment.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))


@dataclass(frozen=True)
class Record:
    """One source record, mapped to RDF but not yet validated or stored."""

    source: str
    source_id: str
    triples: tuple[ox.Triple, ...]
    revision: str | None = None
    retrieved_at: datetime = field(default_factory=now)
    connector: str = "import"
    source_url: str | None = None
    deleted: bool = False
    graph: str | None = None
    """An explicit graph IRI, for graphs not named by the hub (SPARQL Update, Graph Store)."""
    error: str | None = None
    """Why the source could not be mapped (malformed page, bad value): the record is quarantined."""
    origin: tuple[str, str, str] | None = None
    """(hub, source, source id) where a record received from a peer hub was first read."""
    written_by: str | None = None
    """Who wrote this version when it is not the source itself (``api`` for an edit through the
    HTTP API of a record first read from a source): the change log names both."""
    license: str | None = None
    """The licence IRI the source states for this record itself (a GoGoCarto map says it in
    each answer), over the one configured for the source: a map that changes its licence must
    not keep being republished under the old one."""

    def graph_iri(self, base: str) -> str:
        """The named graph this record lives in: its explicit graph, else the hub's stable one."""
        return self.graph or stable_graph_iri(base, self.source, self.source_id)

    @cached_property
    def content_hash(self) -> str:
        """Hash of the sorted N-Triples: equal for equal content, whatever the order read. Kept
        once computed (a record is immutable; ingest asks twice per record, a harvest for 10,000)."""
        # a triple's own N-Triples form is "subject predicate object": one call, not three
        lines = sorted(f"{t} ." for t in self.triples)
        return hashlib.sha256("\n".join(lines).encode()).hexdigest()

    def subjects(self) -> list[ox.NamedNode]:
        """Subjects in first-seen order."""
        return list(self._subjects)

    @cached_property
    def _subjects(self) -> tuple[ox.NamedNode, ...]:
        # kept: ingest asks several times per record, and each read of a triple's term builds a
        # new Python object (a tenth of a file import's planning before)
        seen: dict[str, ox.NamedNode] = {}
        for t in self.triples:
            subject = t.subject
            if isinstance(subject, ox.NamedNode):
                seen.setdefault(subject.value, subject)
        return tuple(seen.values())

    def entity(self) -> ox.NamedNode | None:
        """The record's main entity: its first subject typed with a hub class."""
        return self._entity

    @cached_property
    def _entity(self) -> ox.NamedNode | None:
        for t in self.triples:
            obj = t.object
            if (
                isinstance(obj, ox.NamedNode)
                and obj.value in HUB_CLASSES
                and t.predicate.value == RDF_TYPE
                and isinstance(t.subject, ox.NamedNode)
            ):
                return t.subject
        return None

    def problem(self, stored_as_is: bool = False) -> str | None:
        """A reason to refuse the record before SHACL runs, or None. ``stored_as_is``: the hub
        holds these very triples (same content hash), which passed the checks of their content
        when stored; only what comes with this reading (error, provenance links) is checked, which
        spares a re-read of an unchanged source two passes over every literal."""
        if self.deleted:
            return None
        if self.error:
            return self.error
        if stored_as_is:
            return provenance_problem(
                self.triples, self.source_url, self.origin[0] if self.origin else None
            )
        if not self.triples:
            return "the record holds no triples"
        checked = content_problem(
            self.triples, self.source_url, self.origin[0] if self.origin else None, MAX_LITERAL_BYTES
        )
        if checked is not None:
            return checked
        if self.entity() is None:
            names = ", ".join(sorted(c.removeprefix(MLG) for c in HUB_CLASSES))
            return (
                "no subject has a hub class (one of: " + names + ") / "
                "aucun sujet n'a une classe du hub"
            )
        return None


def skolemize(triples: list[ox.Triple], namespace: str, scope: str) -> list[ox.Triple]:
    """Replace blank nodes by IRIs derived from what they hold and who points at them.

    Parsers label anonymous nodes at random; deriving the IRI from content keeps re-imports of
    the same file byte-identical, hence idempotent.
    """
    if not any(
        isinstance(t.subject, ox.BlankNode) or isinstance(t.object, ox.BlankNode) for t in triples
    ):
        return triples
    outgoing: dict[str, list[str]] = defaultdict(list)
    incoming: dict[str, list[str]] = defaultdict(list)
    for t in triples:
        if isinstance(t.subject, ox.BlankNode):
            obj = "_" if isinstance(t.object, ox.BlankNode) else str(t.object)
            outgoing[t.subject.value].append(f"{t.predicate} {obj}")
        if isinstance(t.object, ox.BlankNode):
            subj = "_" if isinstance(t.subject, ox.BlankNode) else str(t.subject)
            incoming[t.object.value].append(f"{subj} {t.predicate}")
    names: dict[str, ox.NamedNode] = {}
    used: set[str] = set()
    for label in sorted(set(outgoing) | set(incoming)):
        digest_input = "\n".join([scope, *sorted(incoming[label]), "|", *sorted(outgoing[label])])
        digest = hashlib.sha256(digest_input.encode()).hexdigest()[:20]
        while digest in used:  # two identical anonymous nodes: keep them apart
            digest = hashlib.sha256(digest.encode()).hexdigest()[:20]
        used.add(digest)
        names[label] = ox.NamedNode(f"{namespace}genid/{digest}")

    def fix(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> ox.NamedNode:
        return names[term.value] if isinstance(term, ox.BlankNode) else term  # type: ignore[return-value]

    return [ox.Triple(fix(t.subject), t.predicate, fix(t.object)) for t in triples]

"""One atomic write that commits a batch: the unit of crash safety.

Record graphs, their provenance, change-log entries, quarantine entries and the source cursor
are all written together; a kill -9 leaves either all of it or none of it. A transaction renders
two ways. :meth:`Transaction.render` is one SPARQL Update request, which both backends apply
atomically. A transaction that only adds (:attr:`Transaction.appends_only`: a batch of new
records) also renders as N-Quads (:meth:`Transaction.nquads`), which the embedded store adds in
one transaction, or with its bulk loader when large: cheaper than parsing the same statements as
SPARQL text (a third for a sync's batch, several times for a file's: bench/run.py).

Appending is possible because the bookkeeping that is overwritten at every batch (a source
cursor, the change log's last sequence, the store's commit counter) is written with
:meth:`Transaction.set_latest`: the SPARQL rendering replaces the subject's statements, the
N-Quads rendering adds them as a new *version* node (``mlg:versionOf`` the subject, with an
``mlg:versionOrder``), and readers take the version of highest order, the plain statements
counting as the oldest (:mod:`hub.meta.latest`). Any later SPARQL commit of the subject removes
the versions again, so they never pile up.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime

import pyoxigraph as ox

from hub.meta.public import is_public_graph
from hub.records import MetaUpdate
from hub.records import Node as Node
from hub.store.revisions import Difference, Revisions
from hub.vocab import META_GRAPH, XSD, term

VERSION_OF = term("versionOf")
VERSION_ORDER = term("versionOrder")


def iri(value: str) -> ox.NamedNode:
    return ox.NamedNode(value)


def text(value: str) -> ox.Literal:
    return ox.Literal(value)


def integer(value: int) -> ox.Literal:
    return ox.Literal(str(value), datatype=ox.NamedNode(XSD + "integer"))


def timestamp(value: datetime) -> ox.Literal:
    return ox.Literal(value.isoformat(), datatype=ox.NamedNode(XSD + "dateTime"))


@dataclass
class Transaction:
    """Deletions then insertions, rendered as one update request."""

    dropped_graphs: list[str] = field(default_factory=list)
    cleared_meta_subjects: list[str] = field(default_factory=list)
    inserts: dict[str, list[ox.Triple]] = field(default_factory=dict)
    # meta statements, written as N-Triples lines (without the final dot) at once: a batch makes
    # about twenty per record, and building term objects only to print them again cost a tenth
    # of a harvest's commit
    meta_lines: list[str] = field(default_factory=list)
    latest: dict[str, tuple[int, list[tuple[str, Node]]]] = field(default_factory=dict)
    """Subjects whose newest version wins: subject → (order, statements)."""
    settled: set[str] = field(default_factory=set)
    """Subjects of :attr:`latest` to write in place, their versions removed (forces SPARQL)."""
    revisions: Revisions = field(default_factory=Revisions)
    """Graphs and meta subjects replaced knowing what they held (:mod:`hub.store.revisions`)."""

    def replace_graph(self, graph: str, triples: list[ox.Triple] | tuple[ox.Triple, ...]) -> None:
        self.dropped_graphs.append(graph)
        if triples:
            self.inserts.setdefault(graph, []).extend(triples)

    def add_graph(self, graph: str, triples: list[ox.Triple] | tuple[ox.Triple, ...]) -> None:
        """Insert into a graph known not to exist yet (no DROP needed)."""
        if triples:
            self.inserts.setdefault(graph, []).extend(triples)

    def drop_graph(self, graph: str) -> None:
        self.dropped_graphs.append(graph)

    def set_meta(self, subject: str, statements: list[tuple[str, Node]]) -> None:
        """Replace every statement about ``subject`` in the meta graph."""
        self.cleared_meta_subjects.append(subject)
        self.add_meta(subject, statements)

    def revise_meta(
        self, subject: str, statements: list[tuple[str, Node]], stored: Collection[str] | None
    ) -> None:
        """:meth:`set_meta` when the caller read what the subject holds (``stored``: its
        statements as ``<p> o`` texts, :func:`hub.meta.held.held_statements`): only the
        statements that differ are removed and added (:mod:`hub.store.revisions`)."""
        if stored is None:
            self.set_meta(subject, statements)
            return
        node = str(ox.NamedNode(subject))  # checks the IRI once
        self.revisions.add(
            META_GRAPH, subject, [f"{node} {s}" for s in stored], [f"{node} <{p}> {o}" for p, o in statements]
        )

    def revise_graph(
        self, graph: str, triples: list[ox.Triple] | tuple[ox.Triple, ...], stored: Collection[str] | None
    ) -> None:
        """:meth:`replace_graph` when the caller read what the graph holds (``stored``: its
        triples as N-Triples lines without the dot, :func:`hub.meta.held.held_graphs`). A graph
        left empty is dropped (a named graph emptied statement by statement would stay listed),
        and one holding blank nodes is written whole."""
        lines = [str(t) for t in triples]  # a triple's own N-Triples form, without the dot
        if stored is None or not triples or any("_:" in line for line in (*lines, *stored)):
            self.replace_graph(graph, triples)
            return
        ox.NamedNode(graph)
        self.revisions.add(graph, None, stored, lines)

    def _difference(self) -> Difference:
        return self.revisions.difference(self.dropped_graphs, self.cleared_meta_subjects)

    def put_meta(self, updates: Iterable[MetaUpdate]) -> None:
        """Bookkeeping that commits with a batch (sync state, conflicts): each subject's
        statements replaced, or cleared when the update holds none."""
        for subject, statements in updates:
            if statements:
                self.set_meta(subject, statements)
            else:
                self.clear_meta(subject)

    def clear_meta(self, subject: str) -> None:
        self.cleared_meta_subjects.append(subject)

    def add_meta(self, subject: str, statements: list[tuple[str, Node]]) -> None:
        node = str(ox.NamedNode(subject))  # checks the IRI once
        self.meta_lines.extend(f"{node} <{p}> {o}" for p, o in statements)

    def set_latest(
        self, subject: str, statements: list[tuple[str, Node]], order: int, *, settle: bool = False
    ) -> None:
        """Bookkeeping of which the newest version wins, ordered by ``order`` (a higher one is
        newer; within a transaction the highest is kept). ``settle``: write it in place and
        remove the versions appended before (the end of an import), which needs SPARQL."""
        ox.NamedNode(subject)  # checks the IRI once
        kept = self.latest.get(subject)
        if kept is None or order >= kept[0]:
            self.latest[subject] = (order, statements)
        if settle:
            self.settled.add(subject)

    def meta_triples(self) -> list[ox.Triple]:
        """The meta statements as triples, latest versions in place (for tools that write them
        elsewhere)."""
        revised = self.revisions.new_lines(META_GRAPH)
        lines = [*self.meta_lines, *revised, *_latest_lines(self.latest, versions=False)]
        text = "".join(f"{line} .\n" for line in lines).encode()
        return [q.triple for q in ox.parse(text, ox.RdfFormat.N_TRIPLES)]

    @property
    def empty(self) -> bool:
        return not (
            self.dropped_graphs or self.cleared_meta_subjects or self.inserts or self.meta_lines
            or self.latest or any(self._difference())
        )

    @property
    def appends_only(self) -> bool:
        """Whether the transaction only adds statements, so it may be loaded as N-Quads."""
        return not (
            self.dropped_graphs or self.cleared_meta_subjects or self.settled or self._difference().removed
        )

    @property
    def size(self) -> int:
        """How many statements it adds (to choose between the two renderings)."""
        return (
            sum(map(len, self.inserts.values())) + len(self.meta_lines) + len(self.latest)
            + sum(map(len, self._difference().added.values()))
        )

    def nquads(self) -> bytes:
        """The additions as N-Quads, latest-wins subjects as new versions. Only for a
        transaction that :attr:`appends_only` (it renders no deletion)."""
        return self.nquads_and_public()[0]

    def nquads_and_public(self) -> tuple[bytes, bytes]:
        """:meth:`nquads`, and the part of it in public graphs for the public replica, built in
        the same pass: the replica's copy reuses each public graph's text."""
        if not self.appends_only:
            raise ValueError("a transaction that deletes cannot be rendered as N-Quads")
        chunks, public = [], []
        for graph, lines in self._graph_additions(quads=True):
            chunks.append("".join(lines))
            if is_public_graph(graph):
                public.append(chunks[-1])
        meta = f" <{META_GRAPH}> .\n"
        chunks.append("".join(f"{line}{meta}" for line in self._meta_additions()))
        chunks.append("".join(f"{line}{meta}" for line in _latest_lines(self.latest, versions=True)))
        return "".join(chunks).encode(), "".join(public).encode()

    def _graph_additions(self, *, quads: bool) -> Iterator[tuple[str, list[str]]]:
        """What the transaction adds to each graph, as N-Triples lines without the dot, or as
        N-Quads lines (``quads``: each line written once, in the bulk path's text); of the meta
        graph, only what :attr:`inserts` holds (its statements are :meth:`_meta_additions`)."""
        for graph, triples in self.inserts.items():
            end = f" {ox.NamedNode(graph)} .\n" if quads else ""
            yield graph, [f"{t}{end}" for t in triples]
        for graph, lines in self._difference().added.items():
            if graph != META_GRAPH:
                end = f" {ox.NamedNode(graph)} .\n"
                yield graph, [f"{line}{end}" for line in lines] if quads else lines

    def _graph_lines(self) -> dict[str, list[str]]:
        """:meth:`_graph_additions` by graph, as N-Triples lines (for the SPARQL renderings)."""
        added: dict[str, list[str]] = {}
        for graph, lines in self._graph_additions(quads=False):
            added.setdefault(graph, []).extend(lines)
        return added

    def _meta_additions(self) -> list[str]:
        return [*self.meta_lines, *self._difference().added.get(META_GRAPH, ())]

    def public_nquads(self) -> bytes:
        """The additions to public graphs as N-Quads, for the public replica."""
        return "".join(
            "".join(lines) for graph, lines in self._graph_additions(quads=True) if is_public_graph(graph)
        ).encode()

    def render(self) -> str:
        """The SPARQL Update text: drops, meta deletions, the revisions' removals, then one
        INSERT DATA. Every IRI goes through ``NamedNode``, which refuses what is not an IRI:
        nothing is pasted raw."""
        operations = [
            f"DROP SILENT GRAPH {ox.NamedNode(g)}" for g in dict.fromkeys(self.dropped_graphs)
        ]
        operations += meta_deletions(
            [str(ox.NamedNode(s)) for s in dict.fromkeys(self.cleared_meta_subjects)]
        )
        operations += latest_deletions(self.latest)
        added = self._graph_lines()
        added.setdefault(META_GRAPH, []).extend(
            [*self._meta_additions(), *_latest_lines(self.latest, versions=False)]
        )
        return _with_data(operations, self._difference().removed, added)

    def render_public(self) -> str:
        """The same graph operations kept to the public graphs, for the public replica
        (:mod:`hub.store.replica`): no meta graph, no contact graph. Empty when none is touched."""
        operations = [
            f"DROP SILENT GRAPH {ox.NamedNode(g)}"
            for g in dict.fromkeys(self.dropped_graphs)
            if is_public_graph(g)
        ]
        removed = {g: lines for g, lines in self._difference().removed.items() if is_public_graph(g)}
        added = {g: lines for g, lines in self._graph_lines().items() if is_public_graph(g)}
        return _with_data(operations, removed, added)


def _with_data(operations: list[str], removed: dict[str, list[str]], added: dict[str, list[str]]) -> str:
    """``operations``, then one DELETE DATA and one INSERT DATA of these lines by graph."""
    for keyword, lines_by_graph in (("DELETE", removed), ("INSERT", added)):
        blocks = [
            f"GRAPH {ox.NamedNode(graph)} {{\n" + " .\n".join(lines) + " .\n}"
            for graph, lines in lines_by_graph.items()
            if lines
        ]
        if blocks:
            operations.append(f"{keyword} DATA {{\n" + "\n".join(blocks) + "\n}")
    return " ;\n".join(operations)


def version_iri(subject: str, order: int) -> str:
    """The node of one appended version of ``subject`` (a subject may hold any character an
    IRI allows, so the version is named by a digest of it)."""
    digest = hashlib.sha256(subject.encode()).hexdigest()[:24]
    return f"urn:maillage:version:{digest}:{order}"


DELETION_GROUP = 500
"""Subjects named in one grouped deletion: one ``VALUES`` block instead of one operation each
(a re-import's batch replaced the provenance of its records one ``DELETE WHERE`` at a time,
each parsed and planned apart; a SPARQL server's compiler also has to hold the whole text)."""


def meta_deletions(nodes: list[str]) -> list[str]:
    """Operations removing every meta statement about these subjects (N-Triples IRIs)."""
    return [
        f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }} WHERE {{ "
        f"VALUES ?s {{ {' '.join(nodes[start : start + DELETION_GROUP])} }} "
        f"GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}"
        for start in range(0, len(nodes), DELETION_GROUP)
    ]


def latest_deletions(latest: dict[str, tuple[int, list[tuple[str, Node]]]]) -> list[str]:
    """SPARQL operations that remove the current statements and every version of each subject."""
    nodes = [f"<{subject}>" for subject in latest]
    operations = meta_deletions(nodes)
    operations += [
        f"DELETE {{ GRAPH <{META_GRAPH}> {{ ?v ?p ?o }} }} WHERE {{ "
        f"VALUES ?s {{ {' '.join(nodes[start : start + DELETION_GROUP])} }} "
        f"GRAPH <{META_GRAPH}> {{ ?v <{VERSION_OF}> ?s . ?v ?p ?o }} }}"
        for start in range(0, len(nodes), DELETION_GROUP)
    ]
    return operations


def _latest_lines(latest: dict[str, tuple[int, list[tuple[str, Node]]]], versions: bool) -> list[str]:
    lines: list[str] = []
    for subject, (order, statements) in latest.items():
        node = f"<{version_iri(subject, order)}>" if versions else f"<{subject}>"
        lines.extend(f"{node} <{p}> {o}" for p, o in statements)
        if versions:
            lines.append(f"{node} <{VERSION_OF}> <{subject}>")
            lines.append(f"{node} <{VERSION_ORDER}> {integer(order)}")
    return lines

"""What a batch's updates replace, read before they are planned.

Knowing what an updated record's graph, provenance and placing held lets the commit write only
the difference (:mod:`hub.store.revisions`). Placing is read only for records whose hints moved:
a record that says the same about where it is keeps its placing as it is.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from decimal import Decimal, InvalidOperation

from hub.meta.held import Held
from hub.meta.placements import Known
from hub.meta.public import companion_graph
from hub.pipeline.place import READ_PREDICATES, placing_graph
from hub.records import Record
from hub.store.base import Store


def read_before(store: Store, updates: list[tuple[str, Record]]) -> Held:
    """Record graphs, companions and provenance of ``updates`` (graph, record); which of them
    keep their placing (:attr:`Held.placed`)."""
    before = Held()
    before.read(store, [g for g, _ in updates], [x for g, _ in updates for x in (g, companion_graph(g))])
    for graph, record in updates:
        public, private = before.graphs.get(graph), before.graphs.get(companion_graph(graph))
        if public is not None and private is not None and same_hints(record, public | private):
            before.placed.add(graph)
    return before


def read_placings(
    store: Store, base: str, before: Held, updates: list[tuple[str, Record]], known: Known
) -> None:
    """Then the placing graphs and waiting candidates (``known``: the batch's recall) of the
    updates whose hints moved."""
    moved = [(g, r) for g, r in updates if g not in before.placed]
    before.read(
        store,
        [s for _, r in moved for s in known.candidates.get((r.source, r.source_id), ())],
        [placing_graph(base, g) for g, _ in moved],
    )


def same_hints(record: Record, stored: set[str]) -> bool:
    """Whether the stored version of a record (its lines, public graph and companion) said what
    ``record`` says about where its entity is. Its placing then stays: it was made from the same
    hints under the same reference and rules (stored placings are brought to the current ones
    before any ingest, :mod:`hub.territories.catch_up`), and a person's choice made since is
    already written in it. Numbers are compared by value: the store gives a decimal back in
    its canonical form ("41.00" is read "41")."""

    def hints(lines: Iterable[str]) -> set[str]:
        return {by_value(line) for line in lines if line.split(" ", 2)[1][1:-1] in READ_PREDICATES}

    return hints(str(t) for t in record.triples) == hints(stored)


_NUMBER = re.compile(
    r'(?P<head>.* )"(?P<lexical>[^"]*)"\^\^<http://www\.w3\.org/2001/XMLSchema#(?P<type>decimal|double|float|integer)>'
)


def by_value(line: str) -> str:
    """A statement's line with a number's lexical form replaced by its value (only compared,
    never written); any other line as it is."""
    number = _NUMBER.fullmatch(line)
    if number is None:
        return line
    try:
        value = Decimal(number["lexical"])
    except InvalidOperation:
        return line
    return f"{number['head']}{value.normalize()} {number['type']}"

"""Replacements written as their difference: what a transaction removes and adds when it knows
what the statements it replaces were.

Replacing an updated record's graph, its provenance or a placement candidate found again
removes every statement and writes them back, changed or not; in the embedded store each one
costs an index update in every order, and a re-import's commit was mostly that. When the
pipeline has read what they hold (:mod:`hub.meta.held`, one pass per batch), a revision
removes only what the new version no longer says and adds only what it newly says.

Statements are N-Triples lines without the final dot, so comparing them is comparing strings.
A statement the store gives back in another form than the one written (Oxigraph keeps a decimal
"41.00" as "41") compares different: it is removed and written again, which costs but loses
nothing; equal text is always the same statement. Blank nodes have no stable label, so a
replacement that holds any is written whole.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass, field
from typing import NamedTuple


class Difference(NamedTuple):
    """Lines to remove and to add, by graph."""

    removed: dict[str, list[str]]
    added: dict[str, list[str]]


@dataclass
class Revisions:
    """The revisions of one transaction, by (graph, subject); subject None: the whole graph."""

    _known: dict[tuple[str, str | None], tuple[set[str], list[str]]] = field(default_factory=dict)
    _resolved: tuple[tuple[int, int], Difference] | None = None

    def __bool__(self) -> bool:
        return bool(self._known)

    def add(self, graph: str, subject: str | None, stored: Collection[str], new: list[str]) -> None:
        self._known[(graph, subject)] = (set(stored), new)
        self._resolved = None

    def new_lines(self, graph: str) -> list[str]:
        """Every line the revisions of ``graph`` say, changed or not."""
        return [line for (g, _), (_, new) in self._known.items() if g == graph for line in new]

    def difference(self, dropped: list[str], cleared: list[str]) -> Difference:
        """What to remove and add. A graph the transaction also drops (``dropped``), or a meta
        subject it also clears (``cleared``), loses what it held anyway: its new lines are all
        added. A commit asks several times: the answer is kept while nothing is revised and
        the two lists (which only grow) keep their lengths."""
        state = (len(dropped), len(cleared))
        if self._resolved is None or self._resolved[0] != state:
            dropped_set, cleared_set = set(dropped), set(cleared)
            removed: dict[str, list[str]] = {}
            added: dict[str, list[str]] = {}
            for (graph, subject), (stored, new) in self._known.items():
                if graph in dropped_set or (subject is not None and subject in cleared_set):
                    added.setdefault(graph, []).extend(new)
                    continue
                kept = set(new)
                if gone := [line for line in stored if line not in kept]:
                    removed.setdefault(graph, []).extend(gone)
                if fresh := [line for line in dict.fromkeys(new) if line not in stored]:
                    added.setdefault(graph, []).extend(fresh)
            self._resolved = (state, Difference(removed, added))
        return self._resolved[1]

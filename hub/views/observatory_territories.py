"""The territories the observatory counts by, and how its queries see the dataset.

Read once per build of :mod:`hub.views.observatory_counts`: each territory node's level (region,
department, EPCI, commune), name, code and population, and the ``mlg:partOfTerritory`` links,
whose closure (``partOfTerritory*``) is what places an entity in every level above its commune.
"""

from __future__ import annotations

import itertools
from decimal import Decimal, InvalidOperation
from typing import Protocol

import pyoxigraph as ox

from hub.meta.public import public_graph_filter
from hub.store.base import Store
from hub.vocab import MLG

LEVELS = {"region": "Region", "department": "Department", "epci": "EPCI", "commune": "Commune"}
PART_OF = MLG + "partOfTerritory"


class Pattern(Protocol):
    """Writes one triple pattern of a query for the dataset counted over."""

    def __call__(self, s: str, p: str, o: str) -> str: ...


def union_pattern(s: str, p: str, o: str) -> str:
    """A triple pattern on the union of every graph (the operator's dataset)."""
    return f"{s} {p} {o} ."


_GRAPH_VARIABLES = itertools.count()


def public_pattern(s: str, p: str, o: str) -> str:
    """The same pattern on the public graphs only (an anonymous reader's dataset)."""
    g = f"g{next(_GRAPH_VARIABLES)}"
    return f"GRAPH ?{g} {{ {s} {p} {o} }} {public_graph_filter(g)}"


class Territories:
    """Levels, labels and the ``partOfTerritory*`` closure of every territory node."""

    def __init__(self, store: Store, tp: Pattern) -> None:
        classes = " ".join(f"<{MLG}{c}>" for c in LEVELS.values())
        self.level: dict[str, set[str]] = {}
        self.name: dict[str, str] = {}
        self.code: dict[str, str] = {}
        self.population: dict[str, ox.Literal] = {}
        for row in store.select(f"SELECT DISTINCT ?t ?l WHERE {{ VALUES ?l {{ {classes} }} "
                                f"{tp('?t', 'a', '?l')} }}"):
            self.level.setdefault(row["t"].value, set()).add(row["l"].value)
        for row in store.select(f"""SELECT DISTINCT ?t ?n ?k ?p WHERE {{ VALUES ?l {{ {classes} }}
                {tp('?t', 'a', '?l')} OPTIONAL {{ {tp('?t', f'<{MLG}name>', '?n')} }}
                OPTIONAL {{ {tp('?t', f'<{MLG}inseeCode>', '?k')} }}
                OPTIONAL {{ {tp('?t', f'<{MLG}population>', '?p')} }} }}"""):
            t = row["t"].value
            if "n" in row:
                self.name[t] = min(self.name.get(t, row["n"].value), row["n"].value)
            if "k" in row:
                self.code[t] = min(self.code.get(t, row["k"].value), row["k"].value)
            if "p" in row and isinstance(row["p"], ox.Literal):
                old = self.population.get(t)
                if old is None or number(row["p"]) > number(old):
                    self.population[t] = row["p"]
        self.parents: dict[str, set[str]] = {}
        for row in store.select(f"SELECT DISTINCT ?a ?b WHERE {{ {tp('?a', f'<{PART_OF}>', '?b')} }}"):
            self.parents.setdefault(row["a"].value, set()).add(row["b"].value)
        self._reach: dict[str, frozenset[str]] = {}

    def touches(self, node: str) -> bool:
        return node in self.level or node in self.parents

    def reached(self, placed: str) -> frozenset[str]:
        """Territory nodes with a level reached by ``placed partOfTerritory*`` (itself included)."""
        known = self._reach.get(placed)
        if known is None:
            seen, todo = {placed}, [placed]
            while todo:
                for parent in self.parents.get(todo.pop(), ()):
                    if parent not in seen:
                        seen.add(parent)
                        todo.append(parent)
            known = self._reach[placed] = frozenset(t for t in seen if t in self.level)
        return known




def number(term: ox.Literal) -> Decimal:
    """A numeric literal's value (0 for one that is not a number, as no population)."""
    try:
        return Decimal(term.value)
    except InvalidOperation:
        return Decimal(0)

"""Territory names as a user types them, from memory: the web filter asks at every key stroke.

Asking the store (a case- and accent-folding FILTER over the 36,000 names of the reference) took
0.35 to 0.7 s per call; the reference is already in memory (:class:`TerritoryIndex`), so its names
are folded once, sorted, and a prefix is two binary searches. Folding ignores case, accents,
hyphens and apostrophes ("saint etienne" finds "Saint-Étienne"); it does not expand "St" (typing
"St" must still find Strasbourg).
"""

from __future__ import annotations

from bisect import bisect_left
from dataclasses import dataclass
from functools import cache

from hub.territories.index import TerritoryIndex, fold, iri

CLASSES = {"region": "Region", "departement": "Department", "epci": "EPCI", "commune": "Commune"}
"""A territory kind (the IRI's prefix) and its class local name, in the order suggestions list them."""


@dataclass(frozen=True)
class Named:
    """A territory of the reference, as a suggestion shows it."""

    iri: str
    name: str
    kind: str
    """Its class local name: Region, Department, EPCI, Commune."""
    code: str
    population: int | None
    rank: tuple[int, int, str, str]
    """Where it comes among suggestions: kind (regions first), population (largest first), name."""


def _named(base_iri: str, kind: str, name: str, code: str, population: int | None, key: str) -> Named:
    order = list(CLASSES).index(kind)
    return Named(base_iri, name, CLASSES[kind], code, population, (order, -(population or 0), key, base_iri))


class NameIndex:
    """The reference's territories by folded name; build it with :func:`name_index` (cached)."""

    def __init__(self, index: TerritoryIndex, base: str) -> None:
        entries: list[tuple[str, Named]] = []
        tables = {"region": index.regions, "departement": index.departments, "epci": index.epcis}
        for kind, table in tables.items():
            for a in table.values():
                key = fold(a.name)
                entries.append((key, _named(iri(base, a.kind, a.code), kind, a.name, a.code,
                                            a.population, key)))
        for c in index.communes.values():
            key = fold(c.name)
            entries.append((key, _named(iri(base, "commune", c.insee), "commune", c.name, c.insee,
                                        c.population, key)))
        entries.sort(key=lambda e: e[0])
        self._keys = [key for key, _ in entries]
        self._items = [named for _, named in entries]

    def starting_with(self, prefix: str) -> list[Named]:
        """Every territory whose folded name starts with the folded ``prefix`` (none for "")."""
        key = fold(prefix)
        if not key:
            return []
        start = bisect_left(self._keys, key)
        end = bisect_left(self._keys, key + "\x7f", start)  # folded keys are [a-z0-9 ] only
        return self._items[start:end]


@cache
def name_index(base: str) -> NameIndex:
    return NameIndex(TerritoryIndex.load(), base)

"""The ``territory=`` filter of the listings, and territory names offered as a user types.

A filter value names one territory or one official code: an IRI, ``region-84`` (the local name
of a territory IRI: ``commune-``, ``epci-``, ``departement-``, ``region-`` then the code), or a
bare code. A bare two-digit code is both a region's and a department's in the official
geography (11 is Île-de-France and Aude), so it matches both; the prefixed form picks one.
The code is checked here so that a typo gets a 400 that says what a code looks like, while a
well-formed code the hub does not know simply matches nothing.
"""

from __future__ import annotations

import heapq
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from operator import attrgetter

import pyoxigraph as ox

from hub.store.base import Store
from hub.territories.names import name_index
from hub.vocab import MLG, RDF_TYPE

KINDS = {"commune": "Commune", "epci": "EPCI", "departement": "Department", "region": "Region"}
"""The prefix of a territory IRI's local name, and its class."""

_KIND_CODES = {
    "commune": r"\d{5}|2[AB]\d{3}",
    "epci": r"\d{9}",
    "departement": r"\d{2,3}|2[AB]",
    "region": r"\d{2}",
}
_BARE = re.compile(r"^(?:\d{2,3}|\d{5}|\d{9}|2[AB]\d{0,3})$")
_KINDED = re.compile(r"^(commune|epci|departement|region)-(.+)$")
_IRI_FORBIDDEN = re.compile(r'[\x00-\x20<>"{}|^`\\]')
MAX_SUGGESTIONS = 20

MALFORMED = (
    "territory must be an official code (commune INSEE code such as 03310, EPCI SIREN such as "
    "200041465, department such as 26 or 2A, region such as 84), the same prefixed with its kind "
    "(commune-03310, epci-200041465, departement-26, region-84), or a territory IRI"
)


@dataclass(frozen=True)
class TerritoryRef:
    """What a ``territory=`` value names: an IRI, or a code with the class it must have."""

    iri: str | None = None
    code: str | None = None
    kind: str | None = None  # a class local name of KINDS, or None for any territory


def parse_territory(text: str) -> TerritoryRef:
    """The territory a filter value names (raises ValueError with MALFORMED)."""
    value = text.strip()
    if value.startswith(("http://", "https://", "urn:")):
        if _IRI_FORBIDDEN.search(value):
            raise ValueError(MALFORMED)
        return TerritoryRef(iri=value)
    kinded = _KINDED.match(value.lower())
    if kinded:
        kind, code = kinded.group(1), kinded.group(2).upper()
        if not re.fullmatch(_KIND_CODES[kind], code):
            raise ValueError(MALFORMED)
        return TerritoryRef(code=code, kind=KINDS[kind])
    code = value.upper()
    if not _BARE.match(code):
        raise ValueError(MALFORMED)
    return TerritoryRef(code=code)


def area_pattern(ref: TerritoryRef) -> str:
    """SPARQL binding ``?area`` to the territory (or territories, for a shared code) named."""
    if ref.iri is not None:
        return f"VALUES ?area {{ {ox.NamedNode(ref.iri)} }}"
    assert ref.code is not None
    codes = {ref.code, ref.code.lower()}  # 2A is written 2a by some sources
    values = " ".join(str(ox.Literal(c)) for c in sorted(codes))
    typed = f" ?area {ox.NamedNode(RDF_TYPE)} {ox.NamedNode(MLG + ref.kind)} ." if ref.kind else ""
    return f"VALUES ?code {{ {values} }} ?area {ox.NamedNode(MLG + 'inseeCode')} ?code .{typed}"


def fold(text: str) -> str:
    """Lower case without accents, hyphens or apostrophes: what a user types matches a name."""
    plain = text.replace("œ", "oe").replace("Œ", "oe")  # NFKD leaves it whole: fold it first
    plain = unicodedata.normalize("NFKD", plain).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[\s'’\-]+", " ", plain).strip()


_FOLD_SPARQL = [
    ("[àâä]", "a"), ("[éèêë]", "e"), ("[îï]", "i"), ("[ôö]", "o"), ("[ùûü]", "u"), ("ç", "c"),
    ("ÿ", "y"), ("œ", "oe"), ("æ", "ae"), ("[\\\\s'’-]+", " "),
]


def _folded_sparql(var: str) -> str:
    expr = f"LCASE(STR({var}))"
    for pattern, replacement in _FOLD_SPARQL:
        expr = f'REPLACE({expr}, "{pattern}", "{replacement}")'
    return expr


@dataclass(frozen=True)
class Suggestion:
    iri: str
    name: str
    kind: str
    code: str | None
    population: int | None

    def as_json(self) -> dict[str, object]:
        return {"iri": self.iri, "name": self.name, "kind": self.kind, "code": self.code,
                "population": self.population, "filter": self.filter_value}

    @property
    def filter_value(self) -> str:
        """What to pass as ``territory=`` to get this one territory (a code is shorter than the
        IRI, and prefixed with its kind when a bare one could name two territories)."""
        if not self.code:
            return self.iri
        prefix = {v: k for k, v in KINDS.items()}.get(self.kind)
        return f"{prefix}-{self.code}" if prefix else self.iri


_ORDER = ["Region", "Department", "EPCI", "Commune"]


def _rank(s: Suggestion) -> tuple[int, int, str, str]:
    return (_ORDER.index(s.kind), -(s.population or 0), fold(s.name), s.iri)


def suggest(
    store: Store, prefix: str, limit: int = 10, reference_base: str | None = None,
    others: Sequence[Suggestion] | None = None,
) -> list[Suggestion]:
    """Territories whose name starts with ``prefix`` (accents, case, hyphens ignored), the
    regions first, then departments, EPCI and communes, each by population (largest first).

    With ``reference_base`` (the store holds the official reference under that base IRI), the
    reference's names come from memory (:mod:`hub.territories.names`) and the store is asked only
    for the territories it holds outside the reference (:func:`other_territories`, or ``others``
    when the caller keeps them between writes); without, the store is asked for all."""
    wanted = fold(prefix)
    if not wanted:
        return []
    limit = max(1, min(limit, MAX_SUGGESTIONS))
    if reference_base is None:
        found = _from_store(store, f"FILTER(STRSTARTS({_folded_sparql('?n')}, {ox.Literal(wanted)}))")
    else:
        named = name_index(reference_base).starting_with(prefix)  # "b": thousands of names
        found = [Suggestion(n.iri, n.name, n.kind, n.code, n.population)
                 for n in heapq.nsmallest(limit, named, key=attrgetter("rank"))]
        if others is None:
            others = other_territories(store, reference_base)
        found += [s for s in others if fold(s.name).startswith(wanted)]
    return heapq.nsmallest(limit, found, key=_rank)


def other_territories(store: Store, reference_base: str) -> list[Suggestion]:
    """The territories the store holds outside the reference (a source's own regions or
    communes, under other IRIs): few, listed with a prefix test on the IRI rather than a fold of
    every name."""
    prefix = ox.Literal(f"{reference_base}territory/")
    return _from_store(store, f"FILTER(!STRSTARTS(STR(?t), {prefix}))")


def _from_store(store: Store, condition: str) -> list[Suggestion]:
    classes = " ".join(str(ox.NamedNode(MLG + c)) for c in KINDS.values())
    rows = store.select(
        f"SELECT ?t ?kind (SAMPLE(?n) AS ?name) (SAMPLE(?c) AS ?code) (MAX(?p) AS ?population) "
        f"WHERE {{ VALUES ?kind {{ {classes} }} ?t {ox.NamedNode(RDF_TYPE)} ?kind ; "
        f"{ox.NamedNode(MLG + 'name')} ?n . {condition} "
        f"OPTIONAL {{ ?t {ox.NamedNode(MLG + 'inseeCode')} ?c }} "
        f"OPTIONAL {{ ?t {ox.NamedNode(MLG + 'population')} ?p }} }} GROUP BY ?t ?kind"
    )
    found = []
    for row in rows:
        if "t" not in row or "name" not in row or not isinstance(row["t"], ox.NamedNode):
            continue
        try:
            population = int(float(row["population"].value)) if "population" in row else None
        except ValueError:
            population = None
        kind = row["kind"].value.rsplit("#", 1)[-1]
        found.append(Suggestion(iri=row["t"].value, name=row["name"].value, kind=kind,
                                code=row["code"].value if "code" in row else None,
                                population=population))
    return found

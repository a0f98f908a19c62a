"""In-memory look-ups over the vendored territory reference: by INSEE code, postal code or name.

Placing runs on every ingested record, so every look-up is a dictionary access on an index built
once per process (`TerritoryIndex.load()` is cached). Names are compared after `normalise_name`,
which removes what people write differently for the same town (accents, case, hyphens and
apostrophes, "St"/"Ste" for "Saint"/"Sainte", "œ").
"""

from __future__ import annotations

import gzip
import json
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from pathlib import Path
from typing import Any, Literal, NamedTuple

DATA = Path(__file__).parent / "data" / "territoires.json.gz"

Kind = Literal["commune", "epci", "departement", "region"]
KINDS: tuple[Kind, ...] = ("commune", "epci", "departement", "region")


def iri(base: str, kind: Kind, code: str) -> str:
    """The stable IRI of a territory, built on its official code (INSEE, or SIREN for an EPCI)."""
    return f"{base}territory/{kind}-{code}"


_ABBREVIATIONS = {"st": "saint", "ste": "sainte", "sts": "saints", "stes": "saintes"}


def fold(text: str) -> str:
    """Lowercase ASCII words separated by single spaces: case, accents, hyphens and apostrophes
    ignored (the ligatures œ and æ, which NFKD keeps whole, spelt out first)."""
    if not text.isascii():  # ASCII text is its own NFKD form: most names skip the round trip
        text = text.replace("œ", "oe").replace("Œ", "Oe").replace("æ", "ae").replace("Æ", "Ae")
        text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return " ".join(_NOT_WORD.sub(" ", text.lower()).split())


_NOT_WORD = re.compile(r"[^a-z0-9]+")


@lru_cache(maxsize=1 << 16)
def normalise_name(name: str) -> str:
    """A town name reduced to lowercase ASCII words: "St-Étienne" and "saint etienne" compare equal.
    Cached: placing asks for the same few thousand town names record after record."""
    return " ".join(_ABBREVIATIONS.get(word, word) for word in fold(name).split())


class Commune(NamedTuple):
    """A current commune (never a commune déléguée or a municipal arrondissement: those resolve to
    the commune they belong to). A named tuple: the index builds 35,000 of them at its first use,
    in a third of the time a frozen dataclass takes."""

    insee: str
    name: str
    postal_codes: tuple[str, ...]
    population: int | None
    department: str
    region: str
    epci: str | None
    former_codes: tuple[str, ...] = ()


@dataclass(frozen=True)
class Area:
    """A territory above the commune: an EPCI, a department or a region."""

    kind: Kind
    code: str
    name: str
    population: int | None
    parent: str | None
    """The region of a department; None otherwise (an EPCI may span departments)."""


class Part(NamedTuple):
    """A commune déléguée ("d") or associée ("a"), or a municipal arrondissement ("m")."""

    code: str
    name: str
    kind: str
    commune: str
    population: int | None
    postal_codes: tuple[str, ...]


class TerritoryIndex:
    """The reference as dictionaries; build it with `TerritoryIndex.load()` (shared, cached)."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.package: str = data["package"]
        self.version: str = data["version"]
        self.regions = {code: Area("region", code, name, None, None) for code, name in data["regions"]}
        epci_of: dict[str, str] = {}
        self.epcis: dict[str, Area] = {}
        for code, name, _type, population, members in data["epci"]:
            self.epcis[code] = Area("epci", code, name, population, None)
            for member in members:
                epci_of[member] = code
        self.epci_members: dict[str, tuple[str, ...]] = {row[0]: tuple(row[4]) for row in data["epci"]}
        region_of = {code: region for code, _name, region in data["departements"]}
        self.communes: dict[str, Commune] = {}
        for code, name, dep, population, postal, former in data["communes"]:
            self.communes[code] = Commune(code, name, tuple(postal), population, dep, region_of[dep],
                                          epci_of.get(code), tuple(former))
        dep_population: dict[str, int] = {}
        for commune in self.communes.values():
            dep_population[commune.department] = dep_population.get(commune.department, 0) + (
                commune.population or 0)
        self.departments = {code: Area("departement", code, name, dep_population.get(code), region)
                            for code, name, region in data["departements"]}
        self.regions = {code: Area("region", code, area.name, sum(
            d.population or 0 for d in self.departments.values() if d.parent == code), None)
            for code, area in self.regions.items()}
        self.parts = {row[0]: Part(row[0], row[1], row[2], row[3], row[4], tuple(row[5]))
                      for row in data["parts"]}
        # Codes that name a current commune without being its code: former codes of merged
        # communes, communes déléguées/associées, municipal arrondissements.
        self._alias: dict[str, str] = {}
        for part in self.parts.values():
            if part.code not in self.communes:
                self._alias[part.code] = part.commune
        for commune in self.communes.values():
            for former in commune.former_codes:
                self._alias.setdefault(former, commune.insee)
        self._postal: dict[str, list[Commune]] = {}
        for commune in self.communes.values():
            for postal_code in commune.postal_codes:
                self._postal.setdefault(postal_code, []).append(commune)
        self._names: dict[str, list[Commune]] = {}
        for commune in self.communes.values():
            self._names.setdefault(normalise_name(commune.name), []).append(commune)
        self._part_names: dict[str, list[Commune]] = {}
        for part in self.parts.values():
            parent = self.communes.get(part.commune)
            if parent is not None:
                found = self._part_names.setdefault(normalise_name(part.name), [])
                if parent not in found:
                    found.append(parent)
        for table in (self._postal, self._names, self._part_names):
            for communes in table.values():
                communes.sort(key=_by_population)

    @classmethod
    def load(cls) -> TerritoryIndex:
        return _load()

    def commune(self, insee: str) -> Commune | None:
        """The current commune for a current code, a former code of a merged commune, or the code of
        a commune déléguée/associée or a municipal arrondissement (Paris 11e → Paris)."""
        code = insee.strip().upper()
        found = self.communes.get(code)
        if found is None and code in self._alias:
            found = self.communes.get(self._alias[code])
        return found

    def by_postal_code(self, code: str) -> list[Commune]:
        """The communes a postal code serves, most populous first (75011 → Paris, one commune)."""
        return list(self._postal.get(code.strip(), ()))

    def by_name(self, name: str, *, department: str | None = None, region: str | None = None,
                postal_code: str | None = None) -> list[Commune]:
        """The communes so named, most populous first, narrowed by the hints given. A name that no
        current commune bears is looked up among communes déléguées/associées and municipal
        arrondissements ("Cherbourg-Octeville" → Cherbourg-en-Cotentin)."""
        key = normalise_name(name)
        if not key:
            return []
        found = self._names.get(key) or self._part_names.get(key, [])
        if department is not None:
            dep = self._department_code(department)
            found = [c for c in found if c.department == dep]
        if region is not None:
            reg = self._region_code(region)
            found = [c for c in found if c.region == reg]
        if postal_code is not None:
            found = [c for c in found if postal_code.strip() in c.postal_codes]
        return list(found)

    def area(self, kind: Kind, code: str) -> Area | None:
        """An EPCI, department or region by code (a commune is `commune`)."""
        table = {"epci": self.epcis, "departement": self.departments, "region": self.regions}.get(kind)
        return None if table is None else table.get(code.strip().upper())

    def _department_code(self, hint: str) -> str:
        """A department hint is its code ("93", "2A") or its name ("Seine-Saint-Denis")."""
        code = hint.strip().upper()
        if code in self.departments:
            return code
        key = normalise_name(hint)
        return next((d.code for d in self.departments.values() if normalise_name(d.name) == key), code)

    def _region_code(self, hint: str) -> str:
        code = hint.strip().upper()
        if code in self.regions:
            return code
        key = normalise_name(hint)
        return next((r.code for r in self.regions.values() if normalise_name(r.name) == key), code)

    def all_communes(self) -> Iterable[Commune]:
        return self.communes.values()


def _by_population(commune: Commune) -> tuple[int, str]:
    return (-(commune.population or 0), commune.insee)


@cache
def _load() -> TerritoryIndex:
    return TerritoryIndex(json.loads(gzip.decompress(DATA.read_bytes())))


@cache
def reference_version() -> tuple[str, str]:
    """(package, version) of the bundled reference, read from the head of its file: a start
    that only checks its placings are current (hub/territories/catch_up.py) does not build the
    index. An :class:`OSError` when the reference is not installed."""
    with gzip.open(DATA, "rb") as data:
        head = data.read(4096)
    found = re.match(rb'\{"package":\s*"([^"]*)",\s*"version":\s*"([^"]*)"', head)
    if found is None:  # written another way: read it whole
        index = _load()
        return index.package, index.version
    return found[1].decode(), found[2].decode()

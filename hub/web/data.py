"""What the pages show, read from the store with the hub's own query helpers (no template logic)."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

import pyoxigraph as ox

from hub.config import Config
from hub.meta.candidates import list_candidates
from hub.meta.conflicts import list_conflicts
from hub.meta.placements import PlacementCandidate, list_placements
from hub.meta.provenance import ATTRIBUTION_NAME, LICENSE
from hub.meta.public import public_graph_filter
from hub.meta.quarantine import list_quarantine
from hub.meta.status import class_counts, source_counts, source_statuses
from hub.pipeline.grid import GRID_CELL, bbox_cells_values
from hub.rdf.resources import named_query
from hub.store.base import Store
from hub.territories.index import TerritoryIndex
from hub.views import listing as listing_query
from hub.views.entity import (
    Entity,
    best_text,
    collection_of,
    entity_path,
    incoming,
    load_entity,
    types_and_names,
)
from hub.views.jsonld import compact_node, document, hub_context, node_key
from hub.views.observatory_counts import ObservatoryCounts
from hub.vocab import COLLECTIONS, META_GRAPH, MLG, PROV, RDF_TYPE, class_iris

PAGE_SIZE = 25
MAP_COLLECTIONS = ("places", "actors", "projects")


def _local(iri: str) -> str:
    return iri.rsplit("#", 1)[-1].rsplit("/", 1)[-1]


def sources_overview(store: Store, config: Config) -> list[dict[str, Any]]:
    """Configured sources and those with records, each with its record count and last sync."""
    counts = source_counts(store)
    statuses = source_statuses(store)
    configured = {s.name: s for s in config.sources}
    rows = []
    for name in sorted(set(configured) | set(counts) | set(statuses)):
        status = statuses.get(name, {})
        settings = configured.get(name)
        rows.append({
            "name": name,
            "kind": settings.kind if settings else None,
            "configured": settings is not None,
            "records": counts.get(name, 0),
            "last_sync": status.get("last_sync"),
            "summary": status.get("last_summary"),
            "error": status.get("last_error"),
        })
    return rows


def home(store: Store, config: Config) -> dict[str, Any]:
    return {"classes": class_counts(store), "sources": sources_overview(store, config)}


@dataclass
class Listing:
    items: list[dict[str, Any]]
    total: int
    next_cursor: str | None
    filters: dict[str, str] = field(default_factory=dict)


def listing(store: Store, collection: str, params: dict[str, str], lang: str) -> Listing:
    """One page of a collection through the REST listing queries (raises BadParameter)."""
    filters = listing_query.Filters(
        q=params.get("q") or None, tag=params.get("tag") or None, theme=params.get("theme") or None,
        territory=params.get("territory") or None, source=params.get("source") or None,
    )
    cursor = params.get("cursor")
    after = listing_query.decode_cursor(cursor) if cursor else None
    iris, more = listing_query.list_page(store, collection, filters, after, PAGE_SIZE)
    values: dict[str, dict[str, list[ox.Literal | ox.NamedNode]]] = {}
    for t in listing_query.summary_triples(store, iris):
        if isinstance(t.object, ox.Literal | ox.NamedNode):
            values.setdefault(node_key(t.subject), {}).setdefault(t.predicate.value, []).append(t.object)
    subclasses = class_iris(COLLECTIONS[collection])
    items = []
    for iri in iris:
        props = values.get(iri, {})
        texts = {
            p: best_text([o for o in props.get(MLG + p, []) if isinstance(o, ox.Literal)], lang)
            for p in ("name", "shortDescription", "locality")
        }
        types = [o.value for o in props.get(RDF_TYPE, []) if o.value in subclasses]
        specific = max(types, key=subclasses.index) if types else subclasses[0]
        items.append({
            "iri": iri, "name": texts["name"] or iri, "description": texts["shortDescription"],
            "locality": texts["locality"], "type": _local(specific),
            "themes": sorted({o.value for o in props.get(MLG + "theme", [])}),
        })
    return Listing(
        items=items,
        total=listing_query.count(store, collection, filters),
        next_cursor=listing_query.encode_cursor(iris[-1]) if more and iris else None,
        filters={k: v for k, v in params.items() if k in ("q", "tag", "theme", "territory", "source") and v},
    )


def _cell(term: ox.NamedNode | ox.Literal | ox.BlankNode) -> dict[str, Any]:
    if isinstance(term, ox.Literal):
        return {"text": term.value, "lang": term.language, "iri": None}
    return {"text": term.value, "lang": None, "iri": term.value if isinstance(term, ox.NamedNode) else None}


@dataclass
class EntityView:
    iri: str
    title: str
    types: list[str]
    collection: str | None
    facts: list[dict[str, Any]]
    records: list[dict[str, Any]]
    outgoing: list[dict[str, Any]]
    incoming: list[dict[str, Any]]
    api_path: str | None
    jsonld: str


def entity_view(store: Store, base: str, iri: str, lang: str) -> EntityView | None:
    """Every fact about ``iri`` with its record graph, source and primary source, and its links."""
    entity = load_entity(store, base, iri)
    if entity is None:
        return None
    ctx = hub_context()
    meta, node = ox.NamedNode(META_GRAPH), ox.NamedNode(iri)
    rows = store.select(
        f"SELECT ?g ?p ?o ?src ?url ?at ?lic ?by WHERE {{ GRAPH ?g {{ {node} ?p ?o }} "
        f"{public_graph_filter()} "
        f"OPTIONAL {{ GRAPH {meta} {{ ?g <{MLG}source> ?src OPTIONAL {{ ?g <{PROV}hadPrimarySource> ?url }}"
        f" OPTIONAL {{ ?g <{PROV}generatedAtTime> ?at }} OPTIONAL {{ ?g <{LICENSE}> ?lic }}"
        f" OPTIONAL {{ ?g <{ATTRIBUTION_NAME}> ?by }} }} }} }}"
    )
    records: dict[str, dict[str, Any]] = {}
    facts = []
    for row in rows:
        graph = row["g"].value
        record = records.setdefault(graph, {
            "graph": graph,
            "source": row["src"].value if "src" in row else None,
            "url": row["url"].value if "url" in row else None,
            "at": row["at"].value if "at" in row else None,
            "license": row["lic"].value if "lic" in row else None,
            "attribution": row["by"].value if "by" in row else None,
        })
        facts.append({
            "predicate": row["p"].value, "label": ctx.compact(row["p"].value),
            "value": _cell(row["o"]),
            "source": record["source"], "url": record["url"], "graph": graph,
        })
    facts.sort(key=lambda f: (f["predicate"] != RDF_TYPE, f["label"], f["value"]["text"]))
    referrers = incoming(store, iri)
    outgoing_pairs = sorted({
        (t.predicate.value, t.object.value) for t in entity.triples
        if node_key(t.subject) == iri and isinstance(t.object, ox.NamedNode) and t.predicate.value != RDF_TYPE
    })
    labels = types_and_names(store, sorted({o for _, o in outgoing_pairs} | {s for s, _ in referrers}))
    for fact in facts:
        target = fact["value"]["iri"]
        if target and fact["predicate"] == RDF_TYPE:
            fact["value"]["text"] = ctx.compact(target)
        elif target and labels.get(target, ([], []))[1]:
            fact["value"]["text"] = best_text(labels[target][1], lang)

    def link(predicate: str, target: str) -> dict[str, Any]:
        types, names = labels.get(target, ([], []))
        return {"predicate": ctx.compact(predicate), "iri": target, "name": best_text(names, lang) or target,
                "known": collection_of(types) is not None}

    names = [o for o in entity.values(MLG + "name") if isinstance(o, ox.Literal)]
    collection = collection_of(entity.types)
    return EntityView(
        iri=iri, title=best_text(names, lang) or iri, types=[ctx.compact(t) for t in entity.types],
        collection=collection, facts=facts, records=sorted(records.values(), key=lambda r: r["graph"]),
        outgoing=[link(p, o) for p, o in outgoing_pairs], incoming=[link(p, s) for s, p in referrers],
        api_path=entity_path(base, collection, iri) if collection else None,
        jsonld=script_json(jsonld_document(entity)),
    )


def jsonld_document(entity: Entity) -> dict[str, Any]:
    return document(compact_node(entity.iri, entity.triples, entity.embedded))


def script_json(data: object) -> str:
    """JSON safe inside a ``<script>`` element (no ``</script>``, no HTML comment openers)."""
    text = json.dumps(data, ensure_ascii=False, indent=1)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def map_points(
    store: Store, lang: str, bbox: tuple[float, float, float, float] | None = None,
    grid: bool = False,
) -> list[dict[str, Any]]:
    """Entities of the mapped collections that have numeric coordinates; within ``bbox``
    (minLon, minLat, maxLon, maxLat) when given, found through the grid cells when ``grid``
    says every located entity has them (hub.pipeline.grid)."""
    classes = " ".join(
        str(ox.NamedNode(c)) for name in MAP_COLLECTIONS for c in class_iris(COLLECTIONS[name])
    )
    box = ""
    if bbox is not None:
        min_lon, min_lat, max_lon, max_lat = bbox
        cells = bbox_cells_values(bbox) if grid else ""
        box = (f"{cells} ?s <{GRID_CELL}> ?cell . " if cells else "") + (
            f"?s <{MLG}latitude> ?lat ; <{MLG}longitude> ?lon . FILTER(?lat >= {float(min_lat)!r} "
            f"&& ?lat <= {float(max_lat)!r} && ?lon >= {float(min_lon)!r} && ?lon <= {float(max_lon)!r}) "
        )
    rows = store.select(
        f"SELECT ?s ?type ?lat ?lon ?name WHERE {{ {box}VALUES ?type {{ {classes} }} ?s a ?type ; "
        f"<{MLG}latitude> ?lat ; <{MLG}longitude> ?lon . OPTIONAL {{ ?s <{MLG}name> ?name }} }}"
    )
    points: dict[str, dict[str, Any]] = {}
    names: dict[str, list[ox.Literal]] = {}
    for row in rows:
        try:
            lat, lon = float(row["lat"].value), float(row["lon"].value)
        except ValueError:
            continue
        if not (-90 <= lat <= 90 and -180 <= lon <= 180):
            continue
        iri = row["s"].value
        points.setdefault(iri, {"iri": iri, "lat": lat, "lon": lon, "type": _local(row["type"].value)})
        if "name" in row and isinstance(row["name"], ox.Literal):
            names.setdefault(iri, []).append(row["name"])
    for iri, point in points.items():
        point["name"] = best_text(names.get(iri, []), lang) or iri
    return sorted(points.values(), key=lambda p: p["iri"])


def _totals(rows: list[dict[str, Any]], key: str, value: str, label: Any = None) -> dict[str, int]:
    totals: dict[str, int] = {}
    for row in rows:
        if key not in row or value not in row:
            continue
        name = label(row[key].value) if label else row[key].value
        totals[name] = totals.get(name, 0) + int(row[value].value)
    return totals


def observatory(store: Store, counts: ObservatoryCounts | None = None) -> dict[str, dict[str, int]]:
    """The four observatory queries of ``sparql/``, summed into one series each; from the
    maintained figures when the hub keeps them (the same rows, at the cost of the last changes)."""
    if counts is not None:
        by_region, by_theme = counts.by_level("region"), counts.by_theme()
        by_type, by_month = counts.by_type(), counts.by_month()
    else:
        by_region = store.select(named_query("observatory-by-region"))
        by_theme = store.select(named_query("observatory-by-theme"))
        by_type = store.select(named_query("observatory-by-type"))
        by_month = store.select(named_query("observatory-by-month"))
    theme = _totals(by_theme, "theme", "entities")
    return {
        "region": _totals(by_region, "regionName", "entities"),
        "theme": dict(sorted(theme.items(), key=lambda kv: -kv[1])[:20]),
        "type": _totals(by_type, "type", "entities", _local),
        "month": dict(sorted(_totals(by_month, "month", "changes").items())),
    }


def territory_table(
    store: Store, level: str, counts: ObservatoryCounts | None = None
) -> list[dict[str, Any]]:
    """One row per region or department (``level``): entities of every type and source, the
    population and the density per 10,000 inhabitants, from ``sparql/observatory-by-{level}``
    (or the same rows maintained by ``counts``)."""
    if counts is not None:
        rows = counts.by_level(level)
    else:
        rows = store.select(named_query(f"observatory-by-{level}"))
    table: dict[str, dict[str, Any]] = {}
    for row in rows:
        if level not in row or "entities" not in row:
            continue
        entry = table.setdefault(row[level].value, {
            "iri": row[level].value,
            "name": row[f"{level}Name"].value if f"{level}Name" in row else row[level].value,
            "code": row["code"].value if "code" in row else "",
            "population": int(float(row["population"].value)) if "population" in row else None,
            "entities": 0,
        })
        entry["entities"] += int(row["entities"].value)
    for entry in table.values():
        population = entry["population"]
        entry["density"] = round(entry["entities"] * 10000 / population, 2) if population else None
    return sorted(table.values(), key=lambda e: (-e["entities"], e["name"]))


def operations(store: Store, config: Config, operator: bool) -> dict[str, Any]:
    """The operations page; without the token only how many entries wait: quarantine reasons,
    conflicting values and candidate pairs are private (hub.meta.public), whoever opens the page."""
    quarantine, conflicts, matches = list_quarantine(store), list_conflicts(store), list_candidates(store)
    places = list_placements(store)
    counts = {"quarantine": len(quarantine), "conflicts": len(conflicts), "matches": len(matches),
              "places": len(places)}
    if not operator:
        quarantine, conflicts, matches, places = [], [], [], []
    return {
        "sources": sources_overview(store, config),
        "operator": operator,
        "counts": counts,
        "quarantine": quarantine,
        "conflicts": conflicts,
        "matches": matches,
        "places": [_placement(c) for c in places],
    }


def _placement(candidate: PlacementCandidate) -> dict[str, Any]:
    """A town name to place, with a button label per commune it may be (most populous first)."""
    index = TerritoryIndex.load()
    choices = []
    for code in candidate.communes:
        commune = index.commune(code)
        label = f"{commune.name} ({commune.department})" if commune else code
        choices.append({"code": code, "label": label,
                        "population": commune.population if commune else None})
    return {**candidate.as_dict(), "choices": choices}

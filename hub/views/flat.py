"""A listing page in the formats map tools and spreadsheets open: GeoJSON and CSV.

Both are built from the same summary items as the JSON-LD page (:mod:`hub.views.collection`),
so what the anonymous filters remove from a listing is absent here too. They have no place for
paging links in the body a tool would follow, so the route sends ``Link`` headers as well.
"""

from __future__ import annotations

import csv
import io
import math
from typing import Any

from hub.views.collection import Page

CSV_COLUMNS = (
    "id", "type", "name", "shortDescription", "keyword", "theme", "latitude", "longitude",
    "locality", "inseeCode", "startDate", "endDate", "url", "href",
)
# A cell a spreadsheet would run as a formula (OWASP "CSV injection") is prefixed with a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _coordinate(value: Any, low: float, high: float) -> float | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    number = float(value)
    return number if math.isfinite(number) and low <= number <= high else None


def point(item: dict[str, Any]) -> tuple[float, float] | None:
    """``(lon, lat)`` of an item with usable coordinates, else None."""
    lat = _coordinate(item.get("latitude"), -90, 90)
    lon = _coordinate(item.get("longitude"), -180, 180)
    return None if lat is None or lon is None else (lon, lat)


def geojson(page: Page) -> dict[str, Any]:
    """RFC 7946 FeatureCollection of the page's items that have coordinates."""
    features = []
    for item in page.items:
        where = point(item)
        if where is None:
            continue
        properties: dict[str, Any] = {
            "id": item["id"],
            "name": item.get("name"),
            "type": item["type"],
            "url": page.absolute(item["href"]),
        }
        if item.get("url"):
            properties["website"] = item["url"]
        features.append({
            "type": "Feature",
            "id": item["id"],
            "geometry": {"type": "Point", "coordinates": [where[0], where[1]]},
            "properties": properties,
        })
    collection: dict[str, Any] = {"type": "FeatureCollection", "features": features}
    links = [{"rel": "self", "href": page.page_url, "type": "application/geo+json"}]
    if page.next_url:
        links.append({"rel": "next", "href": page.next_url, "type": "application/geo+json"})
    collection["links"] = links  # OGC API Features' foreign member, ignored by other readers
    if page.total is not None:
        collection["numberMatched"] = page.total
    return collection


def _cell(column: str, value: Any, page: Page) -> str:
    if value is None:
        return ""
    if column == "href":
        return page.absolute(str(value))
    if isinstance(value, list):
        value = "; ".join(str(v) for v in value)
    if isinstance(value, float):
        return repr(value)
    text = str(value)
    return "'" + text if text.startswith(_FORMULA_START) else text


def csv_text(page: Page) -> str:
    """RFC 4180 CSV: a header row, then one row per item (CRLF line ends, quotes as needed);
    several keywords or themes share one cell, separated by "; "."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\r\n")
    writer.writerow(CSV_COLUMNS)
    for item in page.items:
        writer.writerow([_cell(column, item.get(column), page) for column in CSV_COLUMNS])
    return out.getvalue()

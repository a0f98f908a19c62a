"""Element model of the Communecter TEST DOUBLE: /api translation, search projection, save rules.

Facts come from the research brief research/communecter.md (CTK 2018) and from the CTK sources
``models/Api.php``, ``models/Translate.php``, ``models/TranslateCommunecter.php``; "guess" marks
the rest. Used by ``tests/servers/communecter.py`` only.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable
from typing import Any

from tests.servers.communecter_php import (
    ORG_TYPES,
    iso_date,
    php_empty,
    php_int,
    strip_tags,
    to_mongo_date,
    truthy,
)

#: schema.org-ish ``@type`` of /api answers; "Place" for poi is a guess.
AT_TYPE = {"organizations": "Organization", "projects": "Project", "events": "Event", "poi": "Place",
           "citoyens": "Person"}  # fmt: skip
#: /api controller of each collection (Element::getControlerByCollection); ressources has NO /api route.
CONTROLLER = {"organizations": "organization", "projects": "project", "events": "event", "poi": "poi",
              "citoyens": "person"}  # fmt: skip
#: Link lists of the translated shape (TranslateCommunecter): link type -> (looked-up collection,
#: key holding the type label). The collection is FIXED per link type (so an organization member of
#: an organization is looked up in citoyens and comes out as {"type": "Person"} only) and
#: followers/attendees/contributors use "@type" - both quirks of the source. "organizer" (looked
#: up in the link's own collection) is a guess.
LINKS: dict[str, dict[str, tuple[str | None, str]]] = {
    "organizations": {"followers": ("citoyens", "@type"), "members": ("citoyens", "type"),
                      "projects": ("projects", "type"), "events": ("events", "type")},
    "citoyens": {"memberOf": ("organizations", "type"), "projects": ("projects", "type"),
                 "events": ("events", "type")},
    "events": {"attendees": ("citoyens", "@type"), "organizer": (None, "type")},
    "projects": {"contributors": ("citoyens", "@type")},
    "poi": {},
}  # fmt: skip
ADDRESS_FIELDS = ("streetAddress", "postalCode", "addressLocality", "codeInsee", "addressRegion",
                  "addressCountry")  # fmt: skip
SOCIAL = ("github", "twitter", "facebook", "googleplus", "linkedin", "skype")

Lookup = Callable[[str, str], dict[str, Any] | None]


def public_url(host: str, path: str) -> str:
    return path if path.startswith(("http://", "https://")) else f"http://{host}{path}"


def page_url(host: str, doc: dict[str, Any], collection: str) -> str:
    """``HOST/#@<slug>`` (brief); without a slug ``#page.type.<collection>.id.<id>`` (guess)."""
    if doc.get("slug"):
        return f"http://{host}/#@{doc['slug']}"
    return f"http://{host}/#page.type.{collection}.id.{doc['_id']['$id']}"


def _put(out: dict[str, Any], key: str, value: Any) -> None:
    if not php_empty(value):
        out[key] = value


def translate(doc: dict[str, Any], collection: str, host: str, lookup: Lookup) -> dict[str, Any]:
    """The default ("communecter") /api shape of one raw element (Translate::bindData: PHP-empty
    values are left out)."""
    oid, ctrl = doc["_id"]["$id"], CONTROLLER[collection]
    out: dict[str, Any] = {"@type": AT_TYPE[collection]}
    _put(out, "name", doc.get("name"))
    if collection != "citoyens":
        _put(out, "typeCommunecter", doc.get("type"))
    if doc.get("profilImageUrl"):  # "image" = last profile image (guess: profilImageUrl)
        out["image"] = public_url(host, doc["profilImageUrl"])
    out["url"] = {k: v for k, v in (("website", doc.get("url")), ("communecter", page_url(host, doc, collection)),
                                    ("api", f"http://{host}/api/{ctrl}/get/id/{oid}")) if not php_empty(v)}  # fmt: skip
    if collection != "citoyens":  # persons are reduced by Person::getSimpleUserById (guess: no email)
        _put(out, "email", doc.get("email"))
    for key, label, fields in (("address", "PostalAddress", ADDRESS_FIELDS),
                               ("geo", "GeoCoordinates", ("latitude", "longitude")),
                               ("geoPosition", "Point", ("coordinates",))):  # fmt: skip
        if isinstance(doc.get(key), dict):
            out[key] = {"@type": label, **{f: doc[key][f] for f in fields if not php_empty(doc[key].get(f))}}
    _put(out, "shortDescription", doc.get("shortDescription"))
    _put(out, "description", doc.get("description"))
    if collection == "events":
        _put(out, "allDay", doc.get("allDay"))
        for key in ("startDate", "endDate"):
            _put(out, key, iso_date(doc.get(key)))  # guess: ISO 8601 text
    if isinstance(doc.get("telephone"), dict) and collection != "citoyens":
        _put(out, "phone", {k: doc["telephone"][k] for k in ("fixe", "mobile", "fax") if k in doc["telephone"]})
    if isinstance(doc.get("socialNetwork"), dict):
        _put(out, "socialNetwork", {k: v for k, v in doc["socialNetwork"].items() if k in SOCIAL and v})
    _put(out, "tags", doc.get("tags"))
    _put(out, "slug", doc.get("slug"))
    _put(out, "links", _links(doc, collection, host, lookup))
    return out


def _links(doc: dict[str, Any], collection: str, host: str, lookup: Lookup) -> dict[str, Any]:
    links: dict[str, Any] = doc.get("links") or {}
    out: dict[str, Any] = {}
    for link_type, (fixed, label_key) in LINKS.get(collection, {}).items():
        items = []
        for other_id, info in (links.get(link_type) or {}).items():
            other_coll = fixed or (info or {}).get("type", "")
            other = lookup(other_coll, other_id)
            item: dict[str, Any] = {label_key: AT_TYPE.get(other_coll, "Thing")}
            if other is not None:  # unknown linked id -> only the label (bindData quirk)
                _put(item, "name", other.get("name"))
                item["url"] = {"communecter": page_url(host, other, other_coll),
                               "api": f"http://{host}/api/{CONTROLLER.get(other_coll, other_coll)}/get/id/{other_id}"}  # fmt: skip
            items.append(item)
        _put(out, link_type, items)
    return out


# ---------------------------------------------------------------- /co2/search/globalautocomplete

#: Fields of the "simple element" returned by the search (guess on the exact projection).
SEARCH_FIELDS = ("name", "slug", "type", "shortDescription", "tags", "email", "url", "address", "addresses",
                 "geo", "geoPosition", "profilImageUrl", "profilThumbImageUrl", "profilMarkerImageUrl",
                 "profilMediumImageUrl", "updated", "created", "source", "reference", "startDate",
                 "endDate", "allDay", "parentId", "parentType", "organizerId", "organizerType", "username")  # fmt: skip
#: Where the original ``type`` goes once ``type`` becomes the collection ("typeOrga": fact; others: guess).
TYPE_KEY = {"organizations": "typeOrga", "events": "typeEvent", "poi": "typePoi", "ressources": "typeRessource",
            "projects": "typeProject", "citoyens": "typePerson"}  # fmt: skip


def simple(doc: dict[str, Any], collection: str) -> dict[str, Any]:
    out = {"_id": copy.deepcopy(doc["_id"])}
    out.update({k: copy.deepcopy(doc[k]) for k in SEARCH_FIELDS if k in doc})
    if "type" in doc:
        out[TYPE_KEY[collection]] = doc["type"]
    out["type"] = out["typeSig"] = collection
    return out


def _as_list(value: Any) -> list[Any]:
    if value is None or value == "":
        return []
    return list(value.values()) if isinstance(value, dict) else value if isinstance(value, list) else [value]


def search_filter(params: dict[str, Any], collection: str) -> Callable[[dict[str, Any]], bool]:
    """The Search::globalAutoComplete query for one collection (facts from the brief; locality
    matching and case-insensitive name/tag matching are guesses)."""
    types = [t for t in _as_list(params.get("searchType")) if t in ORG_TYPES]
    name = str(params.get("name") or "").strip().lower()
    tags = {str(t).lower() for t in _as_list(params.get("searchTags")) if t}
    source_keys = {str(k) for k in _as_list(params.get("sourceKey")) if k}
    last = php_int(params.get("lastTimes")) if params.get("lastTimes") not in (None, "") else None
    latest, localities = truthy(params.get("latest")), [x for x in _as_list(params.get("locality")) if x]

    def ok(doc: dict[str, Any]) -> bool:
        prefs = doc.get("preferences") or {}
        if doc.get("state") in ("uncomplete", "deleted") or truthy(prefs.get("private")):
            return False
        if collection == "organizations" and (truthy(doc.get("disabled")) or (types and doc.get("type") not in types)):
            return False
        if name and name not in str(doc.get("name", "")).lower():
            return False
        if tags and not tags & {str(t).lower() for t in doc.get("tags") or []}:
            return False
        if source_keys and not source_keys & set((doc.get("source") or {}).get("keys") or []):
            return False
        if last is not None and not (isinstance(doc.get("updated"), int) and doc["updated"] > last):
            return False
        if latest and "updated" not in doc:
            return False
        return not localities or any(_in_locality(doc.get("address") or {}, loc) for loc in localities)

    return ok


def _in_locality(address: dict[str, Any], loc: Any) -> bool:
    if not isinstance(loc, dict):
        return False
    kind = loc.get("type")
    if kind == "cities":
        return address.get("localityId") == loc.get("id")
    if kind == "cp":
        return address.get("postalCode") == loc.get("name")
    if kind == "country":
        return address.get("addressCountry") == loc.get("countryCode")
    return str(kind).startswith("level") and address.get(str(kind)) == loc.get("id")


# ---------------------------------------------------------------- /co2/element/save

COMMON = {"name", "slug", "type", "shortDescription", "description", "tags", "email", "url", "telephone",
          "socialNetwork", "category", "role", "preferences", "state", "disabled", "address", "addresses",
          "geo", "geoPosition", "source", "created", "updated", "modified", "creator"}  # fmt: skip
#: Model $dataBinding per collection (brief §2; created/updated/modified/creator accepted and then
#: overwritten, ``links``/``image``/``reference`` NOT accepted, ressources' extras: guesses).
BINDING = {
    "organizations": COMMON,
    "projects": COMMON | {"parentId", "parentType", "parent", "startDate", "endDate", "avancement", "public"},
    "events": COMMON | {"startDate", "endDate", "allDay", "organizerId", "organizerType", "organizer",
                        "parentId", "parent"},
    "poi": COMMON | {"parentId", "parentType", "parent", "urls", "medias"},
    "ressources": COMMON | {"parentId", "parentType", "parent", "section", "subtype"},
}  # fmt: skip
CONTROL = ("collection", "key", "id", "paramsImport", "startDateInput", "endDateInput")
SOURCE_KEYS = {"id", "key", "keys", "url", "update", "insertOrign"}


class SaveError(Exception):
    """Element::save refused the data: ``str(exc)`` follows "Something went really bad : "."""


def prepare(collection: str, post: dict[str, Any], *, insert: bool) -> dict[str, Any]:
    """The fields Element::save would store (``$set`` on update), or SaveError."""
    fields = {k: v for k, v in post.items() if k not in CONTROL and v != ""}
    for key in fields:
        if key not in BINDING[collection]:
            raise SaveError(f"Contenu Invalide {key}")
    if insert and not fields.get("name"):
        raise SaveError("Contenu Invalide name")  # guess on the message of the "required" rule
    if collection == "organizations" and (insert or "type" in fields) and fields.get("type") not in ORG_TYPES:
        raise SaveError("Contenu Invalide type")  # guess on the message
    if "shortDescription" in fields:
        fields["shortDescription"] = strip_tags(str(fields["shortDescription"]))
    if isinstance(fields.get("tags"), str):
        fields["tags"] = [t.strip() for t in fields["tags"].split(",") if t.strip()]  # guess
    _check_geo(fields)
    _check_source(fields.get("source"))
    for key in ("preferences",):
        if isinstance(fields.get(key), dict):
            fields[key] = {k: truthy(v) if v in ("true", "false") else v for k, v in fields[key].items()}
    if "allDay" in fields:
        fields["allDay"] = truthy(fields["allDay"])
    if isinstance(fields.get("address"), dict):
        fields["address"] = {"@type": "PostalAddress", **fields["address"]}
    if collection in ("events", "projects"):
        _dates(fields, required=insert and collection == "events")
    if collection == "projects" and "public" in fields:
        fields.setdefault("preferences", {})["private"] = not truthy(fields.pop("public"))
    if fields.get("parentId") and fields.get("parentType") and "parent" not in fields:
        fields["parent"] = {fields["parentId"]: {"type": fields["parentType"]}}  # guess
    if collection == "events":
        organizer = fields.get("organizer")
        if not organizer and fields.get("organizerId") and fields.get("organizerType") not in (None, "dontKnow"):
            organizer = {fields["organizerId"]: {"type": fields["organizerType"]}}
        if isinstance(organizer, dict):
            fields["links.organizer"] = organizer  # guess: stored as links.organizer
    return fields


def _check_geo(fields: dict[str, Any]) -> None:
    if "geo" in fields:
        geo = fields["geo"]
        if not isinstance(geo, dict) or not all(isinstance(geo.get(k), str) for k in ("latitude", "longitude")):
            raise SaveError("Contenu Invalide geo")  # DataValidator::geoValid wants strings (fact); msg: guess
        try:
            lat, lon = float(geo["latitude"]), float(geo["longitude"])
        except ValueError as exc:
            raise SaveError("Contenu Invalide geo") from exc
        fields["geo"] = {"@type": "GeoCoordinates", **geo}
        if "geoPosition" not in fields:  # guess: derived from geo when not posted
            fields["geoPosition"] = {"type": "Point", "coordinates": [lon, lat]}
    if "geoPosition" in fields:
        pos = fields["geoPosition"]
        coords = pos.get("coordinates") if isinstance(pos, dict) else None
        try:
            fields["geoPosition"] = {**pos, "type": "Point", "coordinates": [float(c) for c in coords]}  # type: ignore[union-attr]
        except (TypeError, ValueError) as exc:
            raise SaveError("Contenu Invalide geoPosition") from exc


def _check_source(source: Any) -> None:
    if source is None:
        return
    if not isinstance(source, dict) or set(source) - SOURCE_KEYS:
        raise SaveError("Contenu Invalide source")
    if "keys" in source and not isinstance(source["keys"], list):
        raise SaveError("Contenu Invalide source")
    if any(k in source and not isinstance(source[k], str) for k in ("id", "key", "url")):
        raise SaveError("Contenu Invalide source")


def _dates(fields: dict[str, Any], *, required: bool) -> None:
    for key in ("startDate", "endDate"):
        if key in fields:
            date = to_mongo_date(fields[key])
            if date is None:
                raise SaveError(f"Contenu Invalide {key}")
            fields[key] = date
        elif required:
            raise SaveError(f"Contenu Invalide {key}")  # guess: event dates are required
    if "startDate" in fields and "endDate" in fields and fields["endDate"]["sec"] < fields["startDate"]["sec"]:
        raise SaveError("Contenu Invalide endDate")  # guess


def is_object_id(value: str) -> bool:
    return re.fullmatch(r"[0-9a-f]{24}", value) is not None

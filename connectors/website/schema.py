"""schema.org markup of a web page → hub entities (Organization, Place, Event and their subtypes).

The markup is found by ``extruct`` (JSON-LD scripts, and microdata in its JSON-LD-like "uniform"
form). JSON-LD is read as the JSON that sites write, with the schema.org vocabulary, not
expanded by a JSON-LD processor: that would fetch the remote schema.org context at every page,
and the hub contacts only the source's hosts. ``schema:name`` and full schema.org IRIs as keys
are read as the plain names.

Only top-level nodes become records (one per node, its id being its ``@id``, else its ``url``,
else the page and its position): a node nested under ``organizer`` or ``location`` is how a
page *refers* to something, usually described in full on its own page. Nested nodes give links
(by ``@id`` or ``url``) and, for an event's or organisation's location, the address and
coordinates the hub needs to place it in its commune. Persons are not read (their data is
personal; the hub reads them only from sources that declare consent).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox
from extruct.jsonld import JsonLdExtractor
from extruct.uniform import _umicrodata_microformat
from extruct.utils import parse_html
from extruct.w3cmicrodata import MicrodataExtractor

from connectors.website.fetch import PageError
from hub.vocab import MLG, OWL_SAME_AS, XSD


def _words(text: str) -> list[str]:
    return text.split()


SCHEMA_PREFIXES = ("https://schema.org/", "http://schema.org/", "schema:")
ORGANIZATION = frozenset(_words("""Organization NGO Corporation Cooperative Consortium EducationalOrganization
    GovernmentOrganization MedicalOrganization PerformingGroup SportsOrganization NewsMediaOrganization
    ResearchOrganization OnlineBusiness WorkersUnion PoliticalParty FundingScheme LibrarySystem Library
    School CollegeOrUniversity Preschool ElementarySchool MiddleSchool HighSchool LocalBusiness Store
    FoodEstablishment Restaurant CafeOrCoffeeShop Bakery BarOrPub Brewery EntertainmentBusiness
    ProfessionalService HomeAndConstructionBusiness SportsActivityLocation LodgingBusiness
    HealthAndBeautyBusiness AutomotiveBusiness ChildCare FinancialService EmploymentAgency TravelAgency
    RecyclingCenter ShoppingCenter TouristInformationCenter AnimalShelter ArchiveOrganization
    GovernmentOffice LegalService RadioStation TelevisionStation InternetCafe"""))
"""schema:Organization and the subtypes sites use (LocalBusiness is also a Place in schema.org;
the hub reads it as the organisation it is, with its address)."""
PLACE = frozenset(_words("""Place CivicStructure Landmark LandmarksOrHistoricalBuildings TouristAttraction
    TouristDestination Museum Park PlaceOfWorship EventVenue MusicVenue CommunityCenter Playground
    PublicToilet Accommodation Residence"""))
EVENT_EXTRA = frozenset({"Festival", "Hackathon", "CourseInstance", "EventSeries"})
PROJECT = frozenset({"Project", "ResearchProject"})
LINKS = {
    "Event": {"organizer": "organizedBy", "location": "locatedAt"},
    "Organization": {"location": "locatedAt", "member": "hasMember", "memberOf": "memberOf",
                     "event": "organizes", "events": "organizes"},
    "Place": {},
    "Project": {"location": "locatedAt"},
}
SHORT = 1000  # mlg:shortDescription's maximum length (shapes/*.ttl)


def hub_class(types: list[str]) -> str | None:
    """The hub class of a node of these schema.org types, None when the hub has none for it."""
    for name in types:
        if name in ORGANIZATION:
            return "Organization"
        if name in PROJECT:
            return "Project"
        if name.endswith("Event") or name in EVENT_EXTRA:
            return "Event"
        if name in PLACE:
            return "Place"
    return None


@dataclass
class Entity:
    """One top-level node of a page, mapped: what its record will say."""

    key: str
    aliases: list[str]
    cls: str
    page: str
    values: list[tuple[str, ox.NamedNode | ox.Literal]] = field(default_factory=list)
    links: list[tuple[str, str]] = field(default_factory=list)
    """(hub property, identifier of the target: its @id or url)."""
    errors: list[str] = field(default_factory=list)


# -- extraction --------------------------------------------------------------------------------
def extract(body: bytes, url: str, content_type: str, microdata: bool = True) -> tuple[list[Any], str]:
    """The page's schema.org items (JSON-LD, then microdata) and its language (``<html lang>``).
    Raises PageError when a JSON-LD script is not JSON: the page says it has data, and a person
    must fix it."""
    charset = re.search(r"charset=([\w-]+)", content_type)
    try:
        tree = parse_html(body, encoding=charset.group(1) if charset else "UTF-8")
    except (ValueError, LookupError) as exc:
        raise PageError(f"{url}: not readable as HTML ({exc})") from exc
    if tree is None:
        return [], ""
    language = re.split(r"[-_]", str(tree.xpath("string(/html/@lang)")).strip(), maxsplit=1)[0].lower()
    if not re.fullmatch(r"[a-z]{2,8}", language):  # a primary language subtag, or none (the site's)
        language = ""
    try:
        items: list[Any] = list(JsonLdExtractor().extract_items(tree, base_url=url))
    except ValueError as exc:
        raise PageError(f"{url}: a JSON-LD script is not valid JSON ({exc})") from exc
    if microdata:
        found = MicrodataExtractor().extract_items(tree, url)
        items += _umicrodata_microformat(found, schema_context="https://schema.org")
    return items, language


def top_level(items: list[Any]) -> list[dict[str, Any]]:
    """The schema.org nodes at the top of the page's items (``@graph`` members included)."""
    nodes: list[dict[str, Any]] = []
    for item in items:
        if not isinstance(item, dict) or not _schema_context(item.get("@context")):
            continue
        graph = item.get("@graph")
        if isinstance(graph, list):
            nodes += [n for n in graph if isinstance(n, dict)]
        else:
            nodes.append(item)
    return [_plain(n) for n in nodes]


def _schema_context(context: Any) -> bool:
    if isinstance(context, str):
        return "schema.org" in context
    if isinstance(context, list):
        return any(_schema_context(c) for c in context)
    if isinstance(context, dict):
        return "schema.org" in str(context.get("@vocab", ""))
    return False


def _local(name: str) -> str:
    for prefix in SCHEMA_PREFIXES:
        if name.startswith(prefix):
            return name[len(prefix) :]
    return name


def _plain(node: Any) -> Any:
    """Keys and types as plain schema.org names, at every depth."""
    if isinstance(node, list):
        return [_plain(n) for n in node]
    if not isinstance(node, dict):
        return node
    plain = {_local(k): _plain(v) for k, v in node.items()}
    if "@type" in plain:
        plain["@type"] = [_local(str(t)) for t in _many(plain["@type"])]
    return plain


def _many(value: Any) -> list[Any]:
    if value is None:
        return []
    return value if isinstance(value, list) else [value]


def _text(value: Any) -> str | None:
    if isinstance(value, dict):
        value = value.get("@value")
    if isinstance(value, bool) or value is None:
        return None
    text = str(value).strip()
    return text or None


# -- mapping -----------------------------------------------------------------------------------
def identifiers(node: dict[str, Any], page: str) -> list[str]:
    """How other nodes may refer to ``node``: its @id, then its url (absolute)."""
    found = []
    for key in ("@id", "url"):
        for value in _many(node.get(key))[:1]:
            text = _text(value) if not isinstance(value, dict) else _text(value.get("url"))
            if text:
                found.append(urljoin(page, text))
    return list(dict.fromkeys(found))


def entities(nodes: list[dict[str, Any]], page: str, language: str) -> list[Entity]:
    """The page's top-level nodes of a hub class, mapped."""
    found: list[Entity] = []
    for position, node in enumerate(nodes):
        cls = hub_class([str(t) for t in _many(node.get("@type"))])
        if cls is None:
            continue
        ids = identifiers(node, page)
        key = ids[0] if ids else f"{page}#{cls.lower()}-{position}"
        entity = Entity(key, ids, cls, page)
        _map(entity, node, language)
        found.append(entity)
    return found


def _literal(entity: Entity, prop: str, value: str, language: str | None = None) -> None:
    entity.values.append((MLG + prop, ox.Literal(value, language=language or None)))


def _map(entity: Entity, node: dict[str, Any], language: str) -> None:
    for name in _many(node.get("name"))[:1]:
        if (text := _text(name)) is not None:
            _literal(entity, "name", text, language)
    short = _text(node.get("disambiguatingDescription"))
    description = _text(node.get("description"))
    if short is None and description is not None and len(description) <= SHORT:
        short, description = description, None
    if short is not None:
        _literal(entity, "shortDescription", short, language)
    if description is not None:
        _literal(entity, "description", description, language)
    for raw in _many(node.get("keywords")):
        for word in (_text(raw) or "").split(",") if not isinstance(raw, list) else []:
            if word.strip():
                _literal(entity, "keyword", word.strip(), language)
    for prop, key in (("url", "url"), ("image", "image")):
        for value in _many(node.get(key))[:1]:
            found = value.get("url") or value.get("contentUrl") if isinstance(value, dict) else value
            target = _text(found)
            if target:
                _iri(entity, MLG + prop, urljoin(entity.page, target), key)
    for value in _many(node.get("sameAs")):
        if (target := _text(value)) is not None:
            _iri(entity, OWL_SAME_AS, target, "sameAs")
    for value in _many(node.get("email"))[:1]:
        if (text := _text(value)) is not None:
            _literal(entity, "email", text.removeprefix("mailto:"))
    if entity.cls == "Event":
        for prop in ("startDate", "endDate"):
            for value in _many(node.get(prop))[:1]:
                _date(entity, prop, _text(value))
    _address(entity, node)
    for prop, hub_prop in LINKS[entity.cls].items():
        for target in _many(node.get(prop)):
            ref = identifiers(target, entity.page) if isinstance(target, dict) else []
            if isinstance(target, str):
                ref = [urljoin(entity.page, target)]
            entity.links += [(hub_prop, r) for r in ref]
            if prop == "location" and isinstance(target, dict) and not _has_address(node):
                _address(entity, target)  # an event at a venue is placed where the venue is


def _iri(entity: Entity, predicate: str, value: str, field_name: str) -> None:
    if not re.match(r"^https?://[^\s<>\"{}|\\^`]+$", value):
        entity.errors.append(f"{field_name}: {value[:80]!r} is not an http(s) address")
        return
    entity.values.append((predicate, ox.NamedNode(value)))


def _date(entity: Entity, prop: str, text: str | None) -> None:
    if text is None:
        return
    try:
        if "T" in text:
            value, kind = datetime.fromisoformat(text.replace("Z", "+00:00")).isoformat(), "dateTime"
        else:
            value, kind = date.fromisoformat(text).isoformat(), "date"
        entity.values.append((MLG + prop, ox.Literal(value, datatype=ox.NamedNode(XSD + kind))))
    except ValueError:
        entity.errors.append(f"{prop}: {text[:40]!r} is not an ISO 8601 date")


def _has_address(node: dict[str, Any]) -> bool:
    return bool(node.get("address") or node.get("geo"))


def _address(entity: Entity, node: dict[str, Any]) -> None:
    """Address and coordinates, flattened on the entity as the hub's shapes want them; postal
    code and locality are what territory placing reads (hub/pipeline/place.py)."""
    for address in _many(node.get("address"))[:1]:
        if isinstance(address, str):
            _literal(entity, "streetAddress", address.strip())
            continue
        if not isinstance(address, dict):
            continue
        for key, prop in (("streetAddress", "streetAddress"), ("postalCode", "postalCode"),
                          ("addressLocality", "locality")):
            if (text := _text(address.get(key))) is not None:
                _literal(entity, prop, text)
    geo = next(iter(_many(node.get("geo"))), None)
    where = geo if isinstance(geo, dict) else node
    for key in ("latitude", "longitude"):
        if (text := _text(where.get(key))) is None:
            continue
        try:
            number = Decimal(text.replace(",", "."))
        except InvalidOperation:
            entity.errors.append(f"{key}: {text[:40]!r} is not a number")
            continue
        if not number.is_finite() or not -30 <= number.adjusted() <= 3:  # 1e999999 written out is not
            entity.errors.append(f"{key}: {text[:40]!r} is not a coordinate")
            continue
        written = format(number, "f")  # xsd:decimal has no exponent ("4.5E+1")
        entity.values.append((MLG + key, ox.Literal(written, datatype=ox.NamedNode(XSD + "decimal"))))

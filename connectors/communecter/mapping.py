"""The declarative mapping between a Communecter instance's elements and the hub vocabulary.

Per element type: where to read it (the open-data ``/api/<controller>/get`` or, for types it does
not serve, the search), the hub class, and per field a dotted path in the element as read
(``address.postalCode``, ``url.website``), the property, a datatype, and the form field the
platform's save endpoint expects when the hub writes it (``url``, ``address.postalCode``).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from connectors.base.mapping import check_entry
from hub.config import ConfigError, read_toml
from hub.vocab import CLASS_NAMES as HUB_CLASSES

DATATYPES = ("text", "string", "iri", "decimal", "date", "datetime", "email")


@dataclass(frozen=True)
class FieldMapping:
    path: str  # dotted path in the element as read
    property: str
    datatype: str = "text"
    is_list: bool = False
    write: str | None = None  # dotted form field for element/save; None: not written


@dataclass(frozen=True)
class LinkMapping:
    kind: str  # key under the element's "links"
    property: str
    write: str | None = None  # e.g. "organizer": sent as organizer[<id>][type]=<collection>


@dataclass(frozen=True)
class TypeMapping:
    controller: str  # organization, project, event, poi
    collection: str  # organizations, projects, events, poi, ressources
    hub_class: str
    fields: tuple[FieldMapping, ...]
    links: tuple[LinkMapping, ...] = ()
    read_via: str = "api"  # "api" (/api/<controller>/get) or "search" (globalautocomplete)
    create_defaults: tuple[tuple[str, str], ...] = ()  # e.g. (("type", "Group"),) for organisations
    writable: bool = True  # False: read only (people's accounts: the hub never creates or edits them)
    tag: str | None = None  # only elements of the collection with this tag; the hub adds it on write
    also: tuple[str, ...] = ()  # more hub classes its elements are (a tiers-lieu: a place and a collective)

    @property
    def classes(self) -> tuple[str, ...]:
        return (self.hub_class, *self.also)

    def field(self, path: str) -> FieldMapping | None:
        return next((f for f in self.fields if f.path == path), None)


@dataclass(frozen=True)
class InstanceMapping:
    types: tuple[TypeMapping, ...]
    source_key: str = "maillage"  # the marker on elements the hub creates
    read_key: str | None = None  # only elements with this source key (a costum's slug)
    insee: str | None = None  # only elements of this INSEE code
    page_size: int = 100
    language: str = "fr"

    @property
    def reads_people(self) -> bool:
        return any(t.collection == "citoyens" for t in self.types)

    def kind_of(self, collection: str, element: dict[str, Any]) -> TypeMapping | None:
        """The type of one element: a tagged type when the element carries its tag, else the
        collection's untagged type (None: the mapping does not cover it)."""
        raw = element.get("tags")
        tags = raw if isinstance(raw, list) else []
        same = [t for t in self.types if t.collection == collection]
        return next((t for t in same if t.tag and t.tag in tags), None) or next(
            (t for t in same if not t.tag), None
        )

    def read_types(self) -> list[TypeMapping]:
        """One type per collection: what a full pass pages through."""
        first: dict[str, TypeMapping] = {}
        for t in self.types:
            first.setdefault(t.collection, t)
        return list(first.values())

    def for_class(self, hub_class: str) -> TypeMapping | None:
        return next((t for t in self.types if t.hub_class == hub_class), None)


def _field(path: str, raw: Any, where: str) -> FieldMapping:
    if isinstance(raw, str):
        raw = {"property": raw}
    if not isinstance(raw, dict) or "property" not in raw:
        raise ConfigError(f"{where}: field {path!r} needs a property")
    unknown = set(raw) - {"property", "datatype", "list", "write"}
    if unknown:
        raise ConfigError(f"{where}: field {path!r}: unknown key(s) {', '.join(sorted(unknown))}")
    datatype = raw.get("datatype", "text")
    if datatype not in DATATYPES:
        raise ConfigError(f"{where}: field {path!r}: datatype must be one of {', '.join(DATATYPES)}")
    write = raw.get("write", path)
    return FieldMapping(path, raw["property"], datatype, bool(raw.get("list", False)), write or None)


def _type(raw: dict[str, Any], index: int) -> TypeMapping:
    where = f"[[types]] #{index + 1}"
    check_entry(raw, where, ("controller", "collection", "class", "fields"))
    fields = tuple(_field(p, v, where) for p, v in raw["fields"].items())
    if not any(f.property == "name" for f in fields):
        raise ConfigError(f"{where}: one field must map to 'name'")
    links = tuple(
        LinkMapping(
            kind, v["property"] if isinstance(v, dict) else v, v.get("write") if isinstance(v, dict) else None
        )
        for kind, v in raw.get("links", {}).items()
    )
    read_via = raw.get("read_via", "api")
    if read_via not in ("api", "search"):
        raise ConfigError(f"{where}: read_via must be 'api' or 'search'")
    return TypeMapping(
        controller=raw["controller"],
        collection=raw["collection"],
        hub_class=raw["class"],
        fields=fields,
        links=links,
        read_via=read_via,
        create_defaults=tuple((str(k), str(v)) for k, v in raw.get("create_defaults", {}).items()),
        writable=bool(raw.get("write", True)),
        tag=str(raw["tag"]) if raw.get("tag") else None,
        also=_also(raw.get("also", []), where),
    )


def _also(raw: Any, where: str) -> tuple[str, ...]:
    if not isinstance(raw, list) or any(c not in HUB_CLASSES for c in raw):
        raise ConfigError(f"{where}: 'also' must be a list of hub classes, not {raw!r}")
    return tuple(raw)


def load_mapping(path: Path) -> InstanceMapping:
    """Read and check a mapping. ``[instance] extends = "other.toml"`` starts from another mapping
    (a costum on top of its instance): a type given here replaces the one of the same collection
    there and comes first, so it is the one the hub writes for its class."""
    raw = read_toml(path, "mapping file")
    instance = raw.get("instance", {})
    types = tuple(_type(t, i) for i, t in enumerate(raw.get("types", [])))
    base = None
    if instance.get("extends"):
        parent = path.parent / str(instance["extends"])
        if parent.resolve() == path.resolve():
            raise ConfigError(f"{path}: a mapping cannot extend itself")
        base = load_mapping(parent)
        mine = {(t.collection, t.tag) for t in types}
        types += tuple(t for t in base.types if (t.collection, t.tag) not in mine)
    if not types:
        raise ConfigError(f"{path}: no [[types]]")
    for collection in {t.collection for t in types}:
        same = [t.tag for t in types if t.collection == collection]
        if len(same) != len(set(same)):
            raise ConfigError(f"{path}: two types read '{collection}': give each but one a distinct 'tag'")

    def setting(key: str, default: Any) -> Any:
        return instance.get(key, getattr(base, key) if base else default)

    return InstanceMapping(
        types=types,
        source_key=setting("source_key", "maillage"),
        read_key=setting("read_key", None) or None,
        insee=setting("insee", None) or None,
        page_size=int(setting("page_size", 100)),
        language=setting("language", "fr"),
    )

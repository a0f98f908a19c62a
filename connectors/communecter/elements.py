"""Communecter elements to RDF and back, through the instance mapping.

A field whose value has the wrong shape (a number where text is expected, an address given as
a string) makes the record carry the reason, and the record goes to the quarantine; the rest of
the sync goes on. Projections (one string per field) are what the writer compares and sends.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from connectors.base.protocol import Projection
from connectors.communecter.mapping import FieldMapping, InstanceMapping, TypeMapping
from hub.errors import InputError
from hub.iris import slug
from hub.records import Record, moment_literal, now
from hub.vocab import MLG, RDF_TYPE, XSD

LIST_SEPARATOR = ", "
TAGS = "tags"  # the element's tags: path as read and form field as written


class FieldError(InputError):
    """A field that cannot become RDF; the message names it and says why."""


@dataclass(frozen=True)
class ElementIdentity:
    base: str
    source: str

    def iri(self, element_id: str) -> str:
        return f"{self.base}communecter/{slug(self.source)}/{element_id}"


def element_id(element: dict[str, Any], fallback: str) -> str:
    raw = element.get("_id", fallback)
    return str(raw.get("$id") if isinstance(raw, dict) else raw)


def linked_ids(element: dict[str, Any], kind: str) -> list[str]:
    """Ids linked under ``links.<kind>``: a list of ``{url: {api: .../id/<id>}}`` in the open-data
    shape, or an object keyed by id in the raw shape."""
    links = (element.get("links") or {}).get(kind) or []
    if isinstance(links, dict):
        return [str(k) for k in links]
    ids = []
    for link in links:
        api = ((link or {}).get("url") or {}).get("api", "") if isinstance(link, dict) else ""
        if "/id/" in api:
            ids.append(api.rsplit("/id/", 1)[1].split("/")[0])
    return ids


def _at(element: dict[str, Any], path: str) -> Any:
    value: Any = element
    walked: list[str] = []
    for part in path.split("."):
        if value is None:
            return None
        if not isinstance(value, dict):
            raise FieldError(f"'{'.'.join(walked)}' is {_kind(value)}, not an object")
        walked.append(part)
        value = value.get(part)
    return value


def _kind(value: Any) -> str:
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    if isinstance(value, list):
        return "a list"
    return "an object"


class ElementMapper:
    def __init__(self, mapping: InstanceMapping, identity: ElementIdentity, base_url: str) -> None:
        self.mapping = mapping
        self.identity = identity
        self.base_url = base_url

    def record(
        self,
        kind: TypeMapping,
        element_key: str,
        element: dict[str, Any],
        entity: str,
        links: Callable[[str], str | None],
        hidden: frozenset[str] = frozenset(),
    ) -> Record:
        """``hidden``: linked ids left out (the hub's own account, member of what it creates)."""
        subject = ox.NamedNode(entity)
        triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + c)) for c in kind.classes]
        errors: list[str] = []
        for field in kind.fields:
            try:
                for value in self._values(field, _at(element, field.path)):
                    if field.path == TAGS and value.value == kind.tag:
                        continue  # the tag that says what the element is, not a keyword
                    triples.append(ox.Triple(subject, ox.NamedNode(MLG + field.property), value))
            except FieldError as exc:
                errors.append(f"{field.path}: {exc}")
        for link in kind.links:
            for target in linked_ids(element, link.kind):
                if target in hidden:
                    continue
                iri = links(target)
                if iri is not None:
                    triples.append(ox.Triple(subject, ox.NamedNode(MLG + link.property), ox.NamedNode(iri)))
                else:
                    triples.append(
                        ox.Triple(
                            subject, ox.NamedNode(MLG + "unresolvedLink"), ox.Literal(f"{link.kind}:{target}")
                        )
                    )
        page = ((element.get("url") or {}) if isinstance(element.get("url"), dict) else {}).get("communecter")
        return Record(
            source=self.identity.source,
            source_id=element_key,
            triples=tuple(dict.fromkeys(triples)),
            retrieved_at=now(),
            connector="communecter",
            source_url=page or f"{self.base_url}/api/{kind.controller}/get/id/{element_key}",
            error="; ".join(errors) or None,
        )

    def _values(self, field: FieldMapping, raw: Any) -> list[ox.Literal | ox.NamedNode]:
        if raw is None or raw == "" or raw == []:
            return []
        items = raw if isinstance(raw, list) else [raw]
        if isinstance(raw, list) and not field.is_list:
            raise FieldError(f"expected one value, got a list of {len(raw)}")
        return [self._value(field, item) for item in items if item not in (None, "")]

    def _value(self, field: FieldMapping, item: Any) -> ox.Literal | ox.NamedNode:
        kind = field.datatype
        if kind == "decimal":
            try:
                return ox.Literal(
                    str(Decimal(str(item).replace(",", "."))), datatype=ox.NamedNode(XSD + "decimal")
                )
            except InvalidOperation as exc:
                raise FieldError(f"expected a number, got {_kind(item)}") from exc
        if kind in ("date", "datetime"):
            return _temporal(item, kind)
        if not isinstance(item, str):
            raise FieldError(f"expected text, got {_kind(item)}")
        if kind == "iri":
            if not item.startswith(("http://", "https://")):
                raise FieldError(f"expected a web address, got {_kind(item)}")
            try:
                return ox.NamedNode(item.strip())
            except ValueError as exc:
                raise FieldError(f"invalid web address: {exc}") from exc
        if kind == "text":
            return ox.Literal(item.strip(), language=self.mapping.language)
        return ox.Literal(item.strip())

    def project(
        self,
        kind: TypeMapping,
        triples: list[ox.Triple],
        entity: str,
        element_of: Callable[[str], tuple[str, str] | None] = lambda _: None,
    ) -> Projection:
        """Field values (writable fields only) as the writer compares and sends them; written
        links as ``links.<kind>`` = "collection:id, ..." of the linked entities' elements here."""
        values: dict[str, list[str]] = {}
        for t in triples:
            if t.subject.value == entity and t.predicate.value.startswith(MLG):  # type: ignore[union-attr]
                values.setdefault(t.predicate.value[len(MLG) :], []).append(t.object.value)  # type: ignore[union-attr]
        projection: Projection = {}
        for field in kind.fields:
            found = values.get(field.property)
            if field.write is None or not found:
                continue
            if field.datatype == "date":
                found = [v[:10] for v in found]
            projection[field.path] = LIST_SEPARATOR.join(sorted(set(found))) if field.is_list else found[0]
        for link in kind.links:
            targets = [element_of(iri) for iri in values.get(link.property, [])] if link.write else []
            pairs = sorted(f"{found[0]}:{found[1]}" for found in targets if found)
            if pairs:
                projection[f"links.{link.kind}"] = LIST_SEPARATOR.join(pairs)
        return projection

    def form(self, kind: TypeMapping, updates: Projection) -> dict[str, str | list[str]]:
        """Projection values as ``element/save`` fields (dotted; see client.form_fields)."""
        fields: dict[str, str | list[str]] = {}
        for path, value in updates.items():
            link = next((k for k in kind.links if path == f"links.{k.kind}" and k.write), None)
            if link is not None:  # organizer[<id>][type]=<collection>
                for pair in value.split(LIST_SEPARATOR):
                    collection, key = pair.split(":", 1)
                    fields[f"{link.write}.{key}.type"] = collection
                continue
            field = kind.field(path)
            if field is None or field.write is None:
                continue
            fields[field.write] = value.split(LIST_SEPARATOR) if field.is_list else value
        return with_tag(kind, fields) if TAGS in fields else fields


def with_tag(kind: TypeMapping, fields: dict[str, str | list[str]]) -> dict[str, str | list[str]]:
    """The form with the type's tag among the tags, so a tagged element stays what it is."""
    if not kind.tag:
        return fields
    tags = fields.get(TAGS) or []
    tags = [tags] if isinstance(tags, str) else list(tags)
    return {**fields, TAGS: tags if kind.tag in tags else [*tags, kind.tag]}


def _temporal(item: Any, kind: str) -> ox.Literal:
    if isinstance(item, dict) and "sec" in item:  # MongoDate in raw documents
        moment = datetime.fromtimestamp(int(item["sec"]), UTC)
    elif isinstance(item, int | float):
        moment = datetime.fromtimestamp(item, UTC)
    elif isinstance(item, str):
        try:
            moment = datetime.fromisoformat(item.replace("Z", "+00:00").replace(" ", "T"))
        except ValueError as exc:
            raise FieldError(f"expected a date, got {_kind(item)}") from exc
    else:
        raise FieldError(f"expected a date, got {_kind(item)}")
    return moment_literal(moment, kind)

"""The hub JSON-LD context, and compact JSON-LD built straight from triples with it.

Compaction is done by hand (not with rdflib) because the hub context is flat: every property is a
term with at most a type coercion, so a triple maps to one key and one value without a JSON-LD
processor, at a fraction of the cost. The output parses back to the same triples.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from decimal import Decimal
from functools import lru_cache
from typing import Any

import pyoxigraph as ox

from hub.rdf.resources import ONTOLOGY_DIR
from hub.vocab import RDF_TYPE, XSD

XSD_STRING = XSD + "string"
JsonValue = Any
MAX_DEPTH = 64


def node_key(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> str:
    """The lexical value of a term (RDF-star triples, never stored here, by their syntax)."""
    return str(term) if isinstance(term, ox.Triple) else term.value


@dataclass(frozen=True)
class TermDef:
    name: str
    iri: str
    coerce: str | None  # "@id", a datatype IRI, or None


@dataclass(frozen=True)
class HubContext:
    document: dict[str, Any]
    prefixes: dict[str, str]
    terms: dict[str, TermDef]  # by term name
    by_iri: dict[str, TermDef]  # by expanded IRI

    @property
    def inline(self) -> dict[str, Any]:
        """The value of ``@context``, to embed in a document."""
        value: dict[str, Any] = self.document["@context"]
        return value

    def expand(self, name: str) -> str | None:
        """IRI of a term, compact IRI or absolute IRI used as a JSON key; None when unknown."""
        if name in self.terms:
            return self.terms[name].iri
        prefix, sep, local = name.partition(":")
        if not sep:
            return None
        if prefix in self.prefixes:
            return self.prefixes[prefix] + local
        return name if local.startswith("//") or prefix in ("urn", "http", "https") else None

    def compact(self, iri: str) -> str:
        """A term, else a compact IRI, else the IRI itself (for keys and ``type`` values)."""
        known = self.by_iri.get(iri)
        if known is not None:
            return known.name
        for prefix, namespace in self.prefixes.items():
            local = iri[len(namespace):]
            if iri.startswith(namespace) and local and "/" not in local and "#" not in local:
                return f"{prefix}:{local}"
        return iri


def _expand_raw(value: str, prefixes: dict[str, str]) -> str:
    prefix, sep, local = value.partition(":")
    if sep and prefix in prefixes:
        return prefixes[prefix] + local
    return value


@lru_cache(maxsize=1)
def hub_context() -> HubContext:
    document = json.loads((ONTOLOGY_DIR / "context.jsonld").read_text(encoding="utf-8"))
    entries: dict[str, Any] = document["@context"]
    prefixes = {
        key: value
        for key, value in entries.items()
        if isinstance(value, str) and not key.startswith("@") and value.endswith(("#", "/"))
    }
    terms: dict[str, TermDef] = {}
    for key, value in entries.items():
        if key.startswith("@") or key in prefixes:
            continue
        if isinstance(value, str):
            if value.startswith("@"):
                continue  # keyword aliases: id, type
            terms[key] = TermDef(key, _expand_raw(value, prefixes), None)
        elif isinstance(value, dict) and isinstance(value.get("@id"), str):
            coerce = value.get("@type")
            if isinstance(coerce, str) and coerce != "@id":
                coerce = _expand_raw(coerce, prefixes)
            terms[key] = TermDef(
                key, _expand_raw(value["@id"], prefixes), coerce if isinstance(coerce, str) else None
            )
    by_iri = {t.iri: t for t in terms.values()}
    return HubContext(document, prefixes, terms, by_iri)


def _literal_value(ctx: HubContext, literal: ox.Literal, coerce: str | None) -> JsonValue:
    if literal.language:
        return {"@value": literal.value, "@language": literal.language}
    datatype = literal.datatype.value
    if (coerce is None and datatype == XSD_STRING) or coerce == datatype:
        return literal.value
    if datatype == XSD_STRING:
        return {"@value": literal.value}
    return {"@value": literal.value, "@type": ctx.compact(datatype)}


def compact_node(
    iri: str,
    triples: list[ox.Triple],
    embeddable: set[str] | None = None,
    ctx: HubContext | None = None,
) -> dict[str, JsonValue]:
    """One node object for ``iri`` (without ``@context``); IRIs in ``embeddable`` (anonymous
    nodes of the same record) are nested in place instead of linked."""
    ctx = ctx or hub_context()
    by_subject: dict[str, list[ox.Triple]] = {}
    for t in triples:
        by_subject.setdefault(node_key(t.subject), []).append(t)
    return _node(ctx, iri, by_subject, embeddable or set(), {iri})


def _node(
    ctx: HubContext,
    iri: str,
    by_subject: dict[str, list[ox.Triple]],
    embeddable: set[str],
    visiting: set[str],
) -> dict[str, JsonValue]:
    node: dict[str, JsonValue] = {"id": iri}
    types: list[str] = []
    values: dict[str, list[JsonValue]] = {}
    for t in by_subject.get(iri, []):
        predicate = t.predicate.value
        obj = t.object
        if predicate == RDF_TYPE and isinstance(obj, ox.NamedNode):
            types.append(ctx.compact(obj.value))
            continue
        definition = ctx.by_iri.get(predicate)
        key = definition.name if definition else ctx.compact(predicate)
        coerce = definition.coerce if definition else None
        value: JsonValue
        if isinstance(obj, ox.Literal):
            value = _literal_value(ctx, obj, coerce)
        elif isinstance(obj, ox.NamedNode) and obj.value in embeddable and obj.value not in visiting:
            value = _node(ctx, obj.value, by_subject, embeddable, visiting | {obj.value})
        elif isinstance(obj, ox.NamedNode):
            value = obj.value if coerce == "@id" else {"id": obj.value}
        else:
            continue  # blank nodes are skolemised before storage; RDF-star is not exposed
        values.setdefault(key, []).append(value)
    if types:
        node["type"] = types[0] if len(types) == 1 else sorted(types)
    for key in sorted(values):
        items = values[key]
        node[key] = items[0] if len(items) == 1 else items
    return node


def document(node: dict[str, JsonValue]) -> dict[str, JsonValue]:
    """A standalone JSON-LD document: the node with the inline hub context first."""
    return {"@context": hub_context().inline, **node}


def parse_jsonld(body: bytes | str, base_iri: str) -> list[ox.Triple]:
    """Triples of a JSON-LD body; a body without ``@context`` gets the hub context.

    Raises ValueError with a message a client can act on (bad JSON, unknown keys, syntax).
    """
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ValueError(f"the body is not valid JSON: {exc}") from exc
    except RecursionError as exc:
        raise ValueError(f"the body nests deeper than {MAX_DEPTH} levels") from exc
    if _depth(data) > MAX_DEPTH:
        raise ValueError(f"the body nests deeper than {MAX_DEPTH} levels")
    if not isinstance(data, dict):
        raise ValueError("send one JSON object describing one entity")
    if "@graph" in data:
        raise ValueError("send one JSON object describing one entity (no @graph)")
    if "@context" not in data:
        unknown = sorted(_unknown_keys(data))
        if unknown:
            raise ValueError(
                "unknown properties (not in the hub context, not a compact or absolute IRI): "
                + ", ".join(unknown)
            )
        data = {"@context": hub_context().inline, **_lexical_numbers(data)}
    try:
        quads = ox.parse(json.dumps(data), format=ox.RdfFormat.JSON_LD, base_iri=base_iri)
        return [q.triple for q in quads]
    except SyntaxError as exc:
        raise ValueError(f"invalid JSON-LD: {exc.msg}") from exc
    except (ValueError, OSError) as exc:
        raise ValueError(f"invalid JSON-LD: {exc}") from exc


def _depth(data: Any) -> int:
    """Nesting depth of parsed JSON, without recursion."""
    deepest = 0
    stack: list[tuple[Any, int]] = [(data, 1)]
    while stack:
        value, level = stack.pop()
        deepest = max(deepest, level)
        if level > MAX_DEPTH:
            break
        children = value.values() if isinstance(value, dict) else value
        if isinstance(value, dict | list):
            stack.extend((child, level + 1) for child in children)
    return deepest


def _number_text(value: int | float) -> str:
    if isinstance(value, int):
        return str(value)
    return format(Decimal(repr(value)), "f")


def _lexical_numbers(data: Any, depth: int = 0) -> Any:
    """JSON numbers under a term typed xsd:decimal, xsd:integer... become their lexical form:
    JSON-LD would otherwise write 44.75 as "4.475E1"^^xsd:decimal, an ill-typed literal."""
    if depth > 20:
        return data
    if isinstance(data, list):
        return [_lexical_numbers(item, depth + 1) for item in data]
    if not isinstance(data, dict):
        return data
    terms = hub_context().terms
    result: dict[str, Any] = {}
    for key, value in data.items():
        definition = terms.get(key)
        if definition is not None and definition.coerce and definition.coerce != "@id":
            items = value if isinstance(value, list) else [value]
            fixed = [
                _number_text(v) if isinstance(v, int | float) and not isinstance(v, bool)
                and v == v and v not in (float("inf"), float("-inf")) else v
                for v in items
            ]
            result[key] = fixed if isinstance(value, list) else fixed[0]
        else:
            result[key] = _lexical_numbers(value, depth + 1)
    return result


def _unknown_keys(data: dict[str, Any], depth: int = 0) -> set[str]:
    """Keys a JSON-LD processor would silently drop: better to tell the client."""
    ctx = hub_context()
    unknown: set[str] = set()
    for key, value in data.items():
        if key.startswith("@") or key in ("id", "type"):
            continue
        if ctx.expand(key) is None:
            unknown.add(key)
        if depth < 5:
            for item in value if isinstance(value, list) else [value]:
                if isinstance(item, dict) and "@value" not in item:
                    unknown |= _unknown_keys(item, depth + 1)
    return unknown


def null_properties(body: bytes | str) -> set[str]:
    """IRIs of the top-level properties set to null or [] in a JSON body (PATCH removes them)."""
    try:
        data = json.loads(body)
    except (json.JSONDecodeError, UnicodeDecodeError, RecursionError):
        return set()
    if not isinstance(data, dict):
        return set()
    ctx = hub_context()
    removed: set[str] = set()
    for key, value in data.items():
        if value is None or value == []:
            iri = RDF_TYPE if key in ("type", "@type") else ctx.expand(key)
            if iri is not None:
                removed.add(iri)
    return removed

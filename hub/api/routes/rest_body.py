"""Request bodies of REST writes: JSON-LD or Turtle describing one entity, made into triples.

A body describes one entity, plus anonymous nodes nested in it (skolemised to hub ``genid``
IRIs); statements about other named nodes are refused, so that a write can only touch the graph
of the entity it names.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field

import pyoxigraph as ox

from hub.clipping import clip_message
from hub.errors import InputError
from hub.iris import entity_iri, slug
from hub.records import HUB_CLASSES, skolemize
from hub.views.entity import best_text
from hub.views.jsonld import node_key, null_properties, parse_jsonld
from hub.vocab import COLLECTIONS, MLG, RDF_TYPE, class_iris

JSON_TYPES = ("application/ld+json", "application/json")
RDF_TYPES = {
    "text/turtle": ox.RdfFormat.TURTLE,
    "application/x-turtle": ox.RdfFormat.TURTLE,
    "application/n-triples": ox.RdfFormat.N_TRIPLES,
}


class BodyError(InputError, ValueError):
    """The body cannot be read as one entity; ``status`` is the HTTP code to answer."""

    def __init__(self, message: str, status: int = 400) -> None:
        super().__init__(message)
        self.status = status


@dataclass
class Body:
    iri: str
    triples: list[ox.Triple]
    removed: set[str] = field(default_factory=set)  # PATCH: properties set to null


def _parse(body: bytes, content_type: str, base_iri: str) -> tuple[list[ox.Triple], set[str]]:
    media = content_type.split(";")[0].strip().lower()
    if not body.strip():
        raise BodyError("the request body is empty")
    if media in JSON_TYPES or media.endswith("+json"):
        try:
            return parse_jsonld(body, base_iri), null_properties(body)
        except ValueError as exc:
            raise BodyError(clip_message(str(exc))) from exc
    fmt = RDF_TYPES.get(media)
    if fmt is None:
        raise BodyError(
            f"unsupported Content-Type {media or '(none)'}: send application/ld+json, "
            "application/json or text/turtle",
            415,
        )
    try:
        return [q.triple for q in ox.parse(body, format=fmt, base_iri=base_iri)], set()
    except SyntaxError as exc:
        raise BodyError(clip_message(f"invalid {media}: {exc.msg}")) from exc
    except (ValueError, OSError) as exc:
        raise BodyError(clip_message(f"invalid {media}: {exc}")) from exc


def _substitute(triples: list[ox.Triple], blank: ox.BlankNode, iri: ox.NamedNode) -> list[ox.Triple]:
    def fix(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> ox.NamedNode:
        return iri if term == blank else term  # type: ignore[return-value]

    return [ox.Triple(fix(t.subject), t.predicate, fix(t.object)) for t in triples]


def _mint(triples: list[ox.Triple], root: ox.BlankNode, collection: str, base: str,
          exists: Callable[[str], bool]) -> str:
    names = [
        t.object for t in triples
        if t.subject == root and t.predicate.value == MLG + "name"
        and isinstance(t.object, ox.Literal)
    ]
    name = best_text(names)
    local = slug(name) if name else uuid.uuid4().hex
    candidate = entity_iri(base, COLLECTIONS[collection], "api", local)
    while exists(candidate):
        candidate = entity_iri(base, COLLECTIONS[collection], "api", f"{local}-{uuid.uuid4().hex[:8]}")
    return candidate


def read_body(
    body: bytes,
    content_type: str,
    *,
    collection: str,
    base: str,
    target: str | None,
    exists: Callable[[str], bool],
    patch: bool = False,
) -> Body:
    """The entity a body describes. ``target`` is the IRI named by the URL (PUT/PATCH); for a
    POST it is None and the IRI comes from ``id`` or is minted from the name."""
    base_iri = target or f"{base}{COLLECTIONS[collection].lower()}/"
    triples, removed = _parse(body, content_type, base_iri)
    if any(isinstance(t.subject, ox.Triple) or isinstance(t.object, ox.Triple) for t in triples):
        raise BodyError("quoted triples (RDF-star / RDF 1.2 reification) are not supported")
    named = {t.subject.value for t in triples if isinstance(t.subject, ox.NamedNode)}
    blank_objects = {t.object for t in triples if isinstance(t.object, ox.BlankNode)}
    roots = list(dict.fromkeys(
        t.subject for t in triples
        if isinstance(t.subject, ox.BlankNode) and t.subject not in blank_objects
    ))
    if not triples and not removed:
        raise BodyError("the body describes nothing")
    if len(named) > 1 or (named and roots):
        raise BodyError(
            "the body must describe one entity (nested anonymous nodes are allowed); "
            f"found statements about {len(named) + len(roots)} nodes"
        )
    if named:
        iri = next(iter(named))
        if target is not None and iri != target:
            raise BodyError(f"the body describes <{iri}> but the URL names <{target}>")
    elif len(roots) == 1:
        iri = target or _mint(triples, roots[0], collection, base, exists)
        triples = _substitute(triples, roots[0], ox.NamedNode(iri))
    elif target is not None and not triples:
        iri = target
    else:
        raise BodyError("the body must describe one entity")
    triples = skolemize(triples, base, f"api|{iri}")
    return Body(iri, with_type(triples, iri, collection, add=not patch), removed)


def with_type(triples: list[ox.Triple], iri: str, collection: str, add: bool = True
              ) -> list[ox.Triple]:
    """Entity triples first, its type first of all; the collection class unless a subclass is
    given. A hub class of another collection is refused."""
    allowed = class_iris(COLLECTIONS[collection])
    subject = ox.NamedNode(iri)
    types = [
        node_key(t.object) for t in triples
        if t.subject == subject and t.predicate.value == RDF_TYPE
    ]
    foreign = [t for t in types if t in HUB_CLASSES and t not in allowed]
    if foreign:
        raise BodyError(
            f"type <{foreign[0]}> does not belong in /api/{collection} "
            f"(allowed: {', '.join('<' + a + '>' for a in allowed)})",
            422,
        )
    own = [t for t in triples if t.subject == subject]
    others = [t for t in triples if t.subject != subject]
    type_triples = [t for t in own if t.predicate.value == RDF_TYPE]
    rest = [t for t in own if t.predicate.value != RDF_TYPE]
    if not any(t in allowed for t in types) and (add or type_triples):
        type_triples.insert(0, ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(allowed[0])))
    hub_first = sorted(type_triples, key=lambda t: node_key(t.object) not in allowed)
    return hub_first + rest + others


def anonymous_closure(triples: list[ox.Triple], start: set[str], base: str) -> set[str]:
    """``start`` plus the anonymous (genid) nodes reachable from it within ``triples``."""
    genid = f"{base}genid/"
    found = set(start)
    changed = True
    while changed:
        changed = False
        for t in triples:
            if node_key(t.subject) in found and isinstance(t.object, ox.NamedNode):
                value = t.object.value
                if value.startswith(genid) and value not in found:
                    found.add(value)
                    changed = True
    return found


def merge(current: list[ox.Triple], patch: Body, base: str, collection: str
          ) -> list[ox.Triple]:
    """PATCH: the patch's properties replace the stored values of those properties; properties
    sent as null or [] are removed; anonymous nodes hanging off replaced values go too."""
    subject = ox.NamedNode(patch.iri)
    replaced = {t.predicate.value for t in patch.triples if t.subject == subject}
    replaced |= patch.removed
    kept = [t for t in current if t.subject == subject and t.predicate.value not in replaced]
    genid = f"{base}genid/"
    starts = {
        t.object.value for t in kept
        if isinstance(t.object, ox.NamedNode) and t.object.value.startswith(genid)
    }
    reachable = anonymous_closure(current, starts, base)
    kept += [t for t in current if node_key(t.subject) in reachable]
    merged = list(dict.fromkeys(kept + list(patch.triples)))
    return with_type(merged, patch.iri, collection)

"""Checks on a record's terms that SHACL does not make: characters XML cannot carry, and
provenance links that are not web addresses.

A literal with U+0000 (or another character outside XML 1.0) is valid RDF, but once stored it
breaks every XML answer that includes it (SPARQL XML results, RDF/XML), for everyone: such a
record is refused at ingest. Provenance links (``prov:hadPrimarySource`` and the like) are shown
as links to follow, so only http(s) addresses are accepted there (not ``javascript:``,
``file:``, ``data:``...).
"""

from __future__ import annotations

import re
from collections.abc import Iterable

import pyoxigraph as ox

from hub.clipping import clip
from hub.iris import is_web_address
from hub.vocab import PROV

NOT_XML = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
"""Characters outside the XML 1.0 ``Char`` production."""
PROVENANCE_LINKS = frozenset(
    PROV + local
    for local in (
        "hadPrimarySource", "wasDerivedFrom", "wasQuotedFrom", "wasRevisionOf",
        "alternateOf", "specializationOf",
    )
)
"""PROV-O properties whose value is a resource a reader may follow."""


def content_problem(
    triples: Iterable[ox.Triple], source_url: str | None, origin_hub: str | None, max_literal_bytes: int
) -> str | None:
    """Why the record's terms cannot be stored, or None: a literal over ``max_literal_bytes``,
    else a character XML cannot carry, else a provenance link that is not a web address (the
    first of each kind, in that order). One pass over the triples: ingest asks it of every new
    or changed record, and each read of a triple's term builds a Python object."""
    oversized: tuple[str, int] | None = None
    character: tuple[str, str] | None = None
    links: list[tuple[str, str]] = []
    for t in triples:
        obj, predicate = t.object, t.predicate.value
        if isinstance(obj, ox.Literal):
            value = obj.value
            if (oversized is None and len(value) > max_literal_bytes // 4
                    and (size := len(value.encode())) > max_literal_bytes):
                oversized = (predicate, size)
            if character is None and (found := NOT_XML.search(value)) is not None:
                character = (predicate, found.group())
        if predicate in PROVENANCE_LINKS and isinstance(obj, ox.NamedNode | ox.Literal):
            links.append((f"<{predicate}>", obj.value))
    if oversized is not None:
        return (f"literal of {oversized[1]:,} bytes on <{oversized[0]}> is over the "
                f"1 MB limit / littéral de plus de 1 Mo")
    if character is not None:
        code = f"U+{ord(character[1]):04X}"
        return (
            f"a literal on <{clip(character[0])}> holds the character {code}, which "
            "XML cannot carry (SPARQL XML results, RDF/XML) / un littéral contient le "
            f"caractère {code}, interdit en XML"
        )
    return _link_problem(source_url, origin_hub, links)


def provenance_problem(
    triples: Iterable[ox.Triple], source_url: str | None, origin_hub: str | None
) -> str | None:
    """Why a provenance link of the record is refused (not an http(s) address), or None."""
    links = [  # an anonymous node is described in the record itself: nothing to follow
        (f"<{t.predicate.value}>", t.object.value)
        for t in triples
        if t.predicate.value in PROVENANCE_LINKS and isinstance(t.object, ox.NamedNode | ox.Literal)
    ]
    return _link_problem(source_url, origin_hub, links)


def _link_problem(
    source_url: str | None, origin_hub: str | None, links: list[tuple[str, str]]
) -> str | None:
    named = [("prov:hadPrimarySource", source_url), ("the origin hub", origin_hub), *links]
    for name, value in named:
        if value is not None and not is_web_address(value):
            return (
                f"{name} must be an http(s) address, not {clip(value, 80)!r} / "
                f"{name} doit être une adresse http(s)"
            )
    return None

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


def xml_character_problem(triples: Iterable[ox.Triple]) -> str | None:
    """Why a literal of ``triples`` cannot be stored (a character XML cannot carry), or None."""
    for t in triples:
        if isinstance(t.object, ox.Literal):
            found = NOT_XML.search(t.object.value)
            if found is not None:
                code = f"U+{ord(found.group()):04X}"
                return (
                    f"a literal on <{clip(t.predicate.value)}> holds the character {code}, which "
                    "XML cannot carry (SPARQL XML results, RDF/XML) / un littéral contient le "
                    f"caractère {code}, interdit en XML"
                )
    return None


def provenance_problem(
    triples: Iterable[ox.Triple], source_url: str | None, origin_hub: str | None
) -> str | None:
    """Why a provenance link of the record is refused (not an http(s) address), or None."""
    links = [("prov:hadPrimarySource", source_url), ("the origin hub", origin_hub)]
    links += [  # an anonymous node is described in the record itself: nothing to follow
        (f"<{t.predicate.value}>", t.object.value)
        for t in triples
        if t.predicate.value in PROVENANCE_LINKS and isinstance(t.object, ox.NamedNode | ox.Literal)
    ]
    for name, value in links:
        if value is not None and not is_web_address(value):
            return (
                f"{name} must be an http(s) address, not {clip(value, 80)!r} / "
                f"{name} doit être une adresse http(s)"
            )
    return None

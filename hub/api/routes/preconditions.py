"""Entity tags and HTTP conditional requests (RFC 9110 section 13) for REST entities and graphs.

A tag is a hash of the sorted, de-duplicated N-Triples of what the document is made of, so it
changes whenever the data changes and is the same on every hub process. Each representation (JSON-
LD, Turtle...) gets its own strong tag, ``"<hash>"`` or ``"<hash>-<variant>"``; a precondition on a
write compares only the hash, since any representation of the same state is a valid base for an
edit. Writers check preconditions while holding the write lock, so the state they compare against
is the state they change.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Mapping

import pyoxigraph as ox
from fastapi import HTTPException

HASH_CHARS = 32
_TAG = re.compile(r'\s*(W/)?"([^"]*)"\s*(?:,|$)')


def content_hash(triples: Iterable[ox.Triple]) -> str:
    """Hash of the triples as a set: equal for equal content, whatever the order or duplicates."""
    lines = sorted({f"{t.subject} {t.predicate} {t.object} ." for t in triples})
    return hashlib.sha256("\n".join(lines).encode()).hexdigest()[:HASH_CHARS]


def etag(digest: str, variant: str = "") -> str:
    """The strong ``ETag`` header value of one representation."""
    return f'"{digest}-{variant}"' if variant else f'"{digest}"'


def _tags(header: str) -> list[tuple[bool, str]] | None:
    """(weak, opaque tag) of an ``If-Match``/``If-None-Match`` list; None for ``*``."""
    if header.strip() == "*":
        return None
    found: list[tuple[bool, str]] = []
    position = 0
    while position < len(header):
        match = _TAG.match(header, position)
        if match is None:
            raise HTTPException(
                400, 'malformed entity-tag list: send "*" or quoted tags such as "abc123"'
            )
        found.append((match.group(1) is not None, match.group(2)))
        position = match.end()
    return found


def _digest_of(tag: str) -> str:
    return tag.split("-", 1)[0]


def check_write(headers: Mapping[str, str], current: str | None) -> None:
    """412 when ``If-Match``/``If-None-Match`` do not hold for ``current`` (the stored digest,
    None when nothing is stored). ``If-Match`` compares strongly: a weak tag never matches."""
    if_match = headers.get("if-match")
    if if_match is not None:
        tags = _tags(if_match)
        if current is None:
            raise HTTPException(412, "If-Match: nothing is stored here, so no tag matches")
        if tags is not None and not any(
            not weak and _digest_of(tag) == current for weak, tag in tags
        ):
            raise HTTPException(
                412,
                f"If-Match: the data changed since that version; it is now {etag(current)}. "
                "GET it again and reapply the change",
            )
    if_none_match = headers.get("if-none-match")
    if if_none_match is not None and current is not None:
        tags = _tags(if_none_match)
        if tags is None:
            raise HTTPException(412, "If-None-Match: * but this already exists")
        if any(_digest_of(tag) == current for _, tag in tags):
            raise HTTPException(412, "If-None-Match: the stored version is one of those tags")


def not_modified(headers: Mapping[str, str], tag: str) -> bool:
    """Whether a GET's ``If-None-Match`` names ``tag`` (weak comparison, as RFC 9110 asks)."""
    header = headers.get("if-none-match")
    if header is None:
        return False
    try:
        tags = _tags(header)
    except HTTPException:
        return False  # a malformed validator on a read is ignored: the full answer is correct
    return tags is None or any(f'"{opaque}"' == tag for _, opaque in tags)

"""Stable hub IRIs: where a record's graph lives and what a source's entities are called.

The same (source, source id) always gives the same IRIs, so a record seen again replaces its own
graph and updates the same entity instead of creating a twin.
"""

from __future__ import annotations

import re
import unicodedata
from urllib.parse import quote, urlsplit

import pyoxigraph as ox

REVIEW_ID = re.compile(r"[0-9a-f]{24}")
"""Conflict and match-candidate ids: the first 24 hex digits of a SHA-256 (see their makers)."""


def is_review_id(text: str) -> bool:
    """Whether ``text`` can be a conflict or match id; anything else names nothing, and is never
    put into a query."""
    return REVIEW_ID.fullmatch(text) is not None


def is_web_address(text: str) -> bool:
    """An absolute http(s) IRI with a host: the only kind of link a reader is offered to follow
    (provenance links, a record's page, a licence), never ``javascript:`` or ``file:``."""
    try:
        ox.NamedNode(text)
        parts = urlsplit(text)
    except ValueError:
        return False
    return parts.scheme.lower() in ("http", "https") and bool(parts.hostname)


def slug(text: str, max_length: int = 80) -> str:
    """Lowercase ASCII words joined by hyphens: readable in IRIs and URLs."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.sub(r"[^a-zA-Z0-9]+", "-", ascii_text).strip("-").lower()
    return words[:max_length].rstrip("-") or "x"


_UNRESERVED = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_.-~")
_ASCII_QUOTED = str.maketrans({chr(c): chr(c) if chr(c) in _UNRESERVED else f"%{c:02X}"
                               for c in range(128)})


def component(text: str) -> str:
    """Percent-encode one path component, keeping it reversible (unlike :func:`slug`). The same
    as ``quote(text, safe="")``; ASCII text (nearly every id) through one table, several times
    faster: it runs on every record ingested, and again for its derived placing graph."""
    if text.isascii():
        return text.translate(_ASCII_QUOTED)
    return quote(text, safe="")


def graph_iri(base: str, source: str, source_id: str) -> str:
    """The named graph that holds a source record."""
    return f"{base}graph/{component(source)}/{component(source_id)}"


def entity_iri(base: str, class_local: str, source: str, source_id: str) -> str:
    """A hub IRI for an entity first seen in a source that has no IRIs of its own."""
    return f"{base}{class_local.lower()}/{slug(source)}/{component(source_id)}"


def change_iri(base: str, sequence: int) -> str:
    return f"{base}change/{sequence}"


def cursor_iri(base: str, cursor_key: str) -> str:
    return f"{base}cursor/{component(cursor_key)}"


def quarantine_iri(base: str, source: str, source_id: str) -> str:
    return f"{base}quarantine/{component(source)}/{component(source_id)}"

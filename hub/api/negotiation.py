"""Content negotiation: pick a media type from an ``Accept`` header among those we can write."""

from __future__ import annotations

from hub.errors import HubError

SELECT_TYPES = (
    "application/sparql-results+json",
    "application/sparql-results+xml",
    "text/csv",
    "text/tab-separated-values",
)
GRAPH_TYPES = (
    "text/turtle",
    "application/n-triples",
    "application/rdf+xml",
    "application/ld+json",
    "application/trig",
    "application/n-quads",
)
ALIASES = {
    "application/json": "application/sparql-results+json",
    "application/xml": "application/sparql-results+xml",
    "text/xml": "application/sparql-results+xml",
    "text/plain": "application/n-triples",
    "application/x-turtle": "text/turtle",
}


# Short names some clients send as ?format= or ?output= (SPARQLWrapper, YASGUI, curl users).
SHORT_NAMES = {
    "json": "application/sparql-results+json",
    "xml": "application/sparql-results+xml",
    "csv": "text/csv",
    "tsv": "text/tab-separated-values",
    "turtle": "text/turtle",
    "ttl": "text/turtle",
    "nt": "application/n-triples",
    "ntriples": "application/n-triples",
    "rdfxml": "application/rdf+xml",
    "jsonld": "application/ld+json",
    "json-ld": "application/ld+json",
    "trig": "application/trig",
    "nquads": "application/n-quads",
}


def requested_type(format_param: str | None, accept: str | None) -> str | None:
    """What the client asks for: a known ``format=`` short name or media type, else Accept."""
    if format_param:
        name = format_param.strip().lower()
        if name in SHORT_NAMES:
            return SHORT_NAMES[name]
        if "/" in name:
            return name
    return accept


class NotAcceptable(HubError):
    """None of the client's media types can be produced."""


def _parse_accept(header: str) -> list[tuple[str, float]]:
    entries = []
    for index, part in enumerate(header.split(",")):
        fields = [f.strip() for f in part.split(";")]
        media = fields[0].lower()
        if not media:
            continue
        quality = 1.0
        for param in fields[1:]:
            key, _, value = param.partition("=")
            if key.strip() == "q":
                try:
                    quality = float(value)
                except ValueError:
                    quality = 0.0
        entries.append((media, quality - index * 1e-6))
    return sorted(entries, key=lambda e: -e[1])


def choose(
    accept: str | None, offered: tuple[str, ...], *, extra_aliases: dict[str, str] | None = None
) -> str:
    """The best offered type for ``accept`` (the first offered one when anything goes)."""
    if not accept:
        return offered[0]
    aliases = {**ALIASES, **(extra_aliases or {})}
    for media, quality in _parse_accept(accept):
        if quality <= 0:
            continue
        media = aliases.get(media, media)
        if media in offered:
            return media
        if media in ("*/*", "application/*", "text/*"):
            prefix = media.split("/")[0]
            for candidate in offered:
                if media == "*/*" or candidate.startswith(prefix + "/"):
                    return candidate
    raise NotAcceptable(f"cannot produce any of: {accept}; available: {', '.join(offered)}")

"""What pages a website lists: its sitemap (or sitemap index), each page with its ``lastmod``.

A sitemap is read with entities and network access off (lxml's parser, no DTD): it comes from a
server the hub does not control. Sitemap indexes are followed one level down, on the source's
own hosts only. ``lastmod`` lets an incremental read skip a page without even a conditional GET.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime

from lxml import etree

from connectors.website.fetch import PageError, PoliteClient, WebsiteError

NS = "{http://www.sitemaps.org/schemas/sitemap/0.9}"
MAX_CHILD_SITEMAPS = 50


@dataclass(frozen=True)
class Listed:
    url: str
    lastmod: str | None = None


def _parser() -> etree.XMLParser:
    return etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False)


def parse_sitemap(body: bytes, where: str) -> tuple[str, list[Listed]]:
    """(kind, entries): kind is ``urlset`` or ``sitemapindex``. Raises WebsiteError when the
    body is not a sitemap."""
    try:
        root = etree.fromstring(body, _parser())
    except etree.XMLSyntaxError as exc:
        raise WebsiteError(f"{where} is not a sitemap (XML: {exc})") from exc
    kind = etree.QName(root).localname
    if kind not in ("urlset", "sitemapindex"):
        raise WebsiteError(f"{where} is not a sitemap (its root element is <{kind}>)")
    child = "url" if kind == "urlset" else "sitemap"
    entries = []
    for node in root.iter(NS + child, child):
        loc = (node.findtext(NS + "loc") or node.findtext("loc") or "").strip()
        lastmod = (node.findtext(NS + "lastmod") or node.findtext("lastmod") or "").strip()
        if loc:
            entries.append(Listed(loc, lastmod or None))
    return kind, entries


def looks_like_sitemap(body: bytes) -> bool:
    head = body[:2000].lstrip().lower()
    return head.startswith(b"<?xml") and (b"<urlset" in head or b"<sitemapindex" in head)


def list_pages(client: PoliteClient, first: bytes, url: str) -> tuple[list[Listed], list[str]]:
    """The pages of the sitemap at ``url`` (already fetched: ``first``), following an index one
    level down; and the problems met (entries off the source's hosts), for the log."""
    kind, entries = parse_sitemap(first, url)
    problems: list[str] = []
    if kind == "sitemapindex":
        pages: list[Listed] = []
        for child in entries[:MAX_CHILD_SITEMAPS]:
            try:
                client.check(child.url)
                answer = client.get(child.url)
            except PageError as exc:
                raise WebsiteError(f"sitemap index {url}: {exc}; nothing was deleted") from exc
            if answer.status != 200:
                raise WebsiteError(f"sitemap index {url}: {child.url} answered HTTP {answer.status}")
            child_kind, listed = parse_sitemap(answer.body, child.url)
            if child_kind != "urlset":
                raise WebsiteError(f"{child.url}: a sitemap index inside a sitemap index is not followed")
            pages += listed
        entries = pages
    kept: list[Listed] = []
    for entry in entries:
        try:
            client.check(entry.url)
        except PageError as exc:
            problems.append(str(exc))
            continue
        kept.append(entry)
    return kept, problems



def lastmod_time(text: str | None) -> datetime | None:
    """A W3C datetime (``2026-05-01``, ``2026-05-01T10:00:00+02:00``) as an aware datetime."""
    if not text:
        return None
    try:
        parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)

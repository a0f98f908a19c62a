"""Pages to RDF and back: a page's template values become triples, an entity's triples become
template values (its *projection*), through the same mapping in both directions.

Projections are what the writer compares (base, hub, wiki): plain strings per parameter, lists
normalised to ", "-joined items, so that spacing or Page Forms re-serialisation never looks like
a change.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal, InvalidOperation
from urllib.parse import quote, unquote

import mwparserfromhell
import pyoxigraph as ox

from connectors.mediawiki.client import PageRevision
from connectors.mediawiki.mapping import ParamMapping, TemplateMapping, WikiMapping
from connectors.mediawiki.wikitext import PageData
from hub.errors import InputError
from hub.iris import component, slug
from hub.records import Record, now
from hub.vocab import MLG, RDF_TYPE, XSD, property_iri

Projection = dict[str, str]
# what may make mwparserfromhell's plain text differ from the value itself: templates, links,
# tags and comments, entities, bold/italic, headings, and any line break (list and table
# markup, collapsed blank lines); a value with none of these is its own plain text
_MARKUP = re.compile(r"[{}\[\]<>&=\n\r]|''|~~|^\s*[*#;:-]")
_LINK = re.compile(r"\[\[\s*([^\]|]+?)\s*(?:\|[^\]]*)?\]\]")


class MappingError(InputError):
    """A parameter value the mapping cannot turn into RDF; says which and why."""


def normal_title(title: str) -> str:
    """MediaWiki's canonical form: underscores as spaces, first letter upper case."""
    title = " ".join(title.replace("_", " ").split())
    return title[:1].upper() + title[1:]


@dataclass(frozen=True)
class WikiIdentity:
    """Hub IRIs for a wiki's pages: by page id, so a renamed page keeps its entity."""

    base: str
    source: str

    def page_iri(self, pageid: int) -> str:
        return f"{self.base}wiki/{slug(self.source)}/{pageid}"

    def missing_iri(self, title: str) -> str:
        """A page that does not exist (a red link): a stable IRI no record will type."""
        return f"{self.base}wiki/{slug(self.source)}/title/{component(normal_title(title))}"


def split_values(raw: str, param: ParamMapping) -> list[str]:
    items = raw.split(param.split) if param.split else [raw]
    return [item.strip() for item in items if item.strip()]


def link_titles(raw: str, param: ParamMapping) -> list[str]:
    """Page titles in a link parameter: ``[[A]], [[B|b]]`` or plain ``A, B``."""
    found = _LINK.findall(raw)
    titles = found if found else split_values(raw, param)
    return [normal_title(t) for t in titles if t.strip()]


def page_links(data: PageData) -> set[str]:
    """Titles of every page linked from the data template's page parameters."""
    titles: set[str] = set()
    for name, raw in data.values.items():
        param = data.mapping.param(name)
        if param is not None and param.datatype == "page" and param.readable:
            titles.update(link_titles(raw, param))
    return titles


class PageMapper:
    """Builds records from pages for one wiki source."""

    def __init__(
        self,
        mapping: WikiMapping,
        identity: WikiIdentity,
        page_url: Callable[[str], str],
        file_url: Callable[[str], str],
    ) -> None:
        self.mapping = mapping
        self.identity = identity
        self.page_url = page_url
        self.file_url = file_url

    def title_from_url(self, url: str) -> str:
        """Inverse of ``page_url``: the title in a page URL this mapper made."""
        prefix = self.page_url("X")[:-1]
        return normal_title(unquote(url.removeprefix(prefix)))

    def record(
        self, page: PageRevision, data: PageData, entity: str, links: Callable[[str], str | None]
    ) -> Record:
        """The page as a record; a value that cannot be mapped makes the record carry an error."""
        subject = ox.NamedNode(entity)
        triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + data.mapping.hub_class))]
        errors: list[str] = []
        for name, raw in data.values.items():
            param = data.mapping.param(name)
            if param is None or not param.readable or not raw:
                continue
            try:
                triples += [
                    ox.Triple(subject, ox.NamedNode(property_iri(param.property)), value)
                    for value in self.values(param, raw, links)
                ]
                if param.datatype == "page":
                    # links to pages that are no hub entity (red links, unmapped kinds) are kept
                    # as text, so nothing the page says is lost and the record stays valid
                    triples += [
                        ox.Triple(subject, ox.NamedNode(MLG + "unresolvedLink"), ox.Literal(title))
                        for title in link_titles(raw, param)
                        if links(title) is None
                    ]
            except MappingError as exc:
                errors.append(f"parameter {name!r}: {exc}")
        for category in data.categories:
            triples.append(ox.Triple(subject, ox.NamedNode(MLG + "category"), ox.Literal(category)))
        if data.free_text:
            triples.append(
                ox.Triple(
                    subject,
                    ox.NamedNode(MLG + "pageText"),
                    ox.Literal(data.free_text, language=self.mapping.language),
                )
            )
        return Record(
            source=self.identity.source,
            source_id=str(page.pageid),
            triples=tuple(dict.fromkeys(triples)),
            revision=str(page.revid),
            retrieved_at=now(),
            connector="mediawiki",
            source_url=self.page_url(page.title),
            error="; ".join(errors) or None,
        )

    def values(
        self, param: ParamMapping, raw: str, links: Callable[[str], str | None]
    ) -> list[ox.NamedNode | ox.Literal]:
        if param.datatype == "page":
            return [ox.NamedNode(iri) for iri in map(links, link_titles(raw, param)) if iri]
        return [self._literal(param, item) for item in split_values(raw, param)]

    def _literal(self, param: ParamMapping, item: str) -> ox.NamedNode | ox.Literal:
        kind = param.datatype
        if kind == "text":
            return ox.Literal(_plain(item), language=self.mapping.language)
        if kind in ("string", "email"):
            return ox.Literal(_plain(item))
        if kind == "date":
            return ox.Literal(_date(item, param.date_formats), datatype=ox.NamedNode(XSD + "date"))
        if kind == "decimal":
            try:
                return ox.Literal(
                    str(Decimal(item.replace(",", ".").strip())), datatype=ox.NamedNode(XSD + "decimal")
                )
            except InvalidOperation as exc:
                raise MappingError(f"{item!r} is not a number") from exc
        if kind == "file":
            return ox.NamedNode(self.file_url(item.split(":", 1)[-1] if ":" in item else item))
        url = item.strip()
        if not re.match(r"^https?://[^\s<>\"]+$", url):
            raise MappingError(f"{item!r} is not a web address (http:// or https://)")
        try:
            return ox.NamedNode(url)
        except ValueError as exc:
            raise MappingError(f"{item!r} is not a valid IRI: {exc}") from exc

    def project(
        self,
        template: TemplateMapping,
        triples: Iterable[ox.Triple],
        entity: str,
        titles: Callable[[str], str | None],
    ) -> Projection:
        """The template values these triples stand for (writable parameters only)."""
        by_property: dict[str, list[ox.NamedNode | ox.Literal]] = {}
        for t in triples:
            if t.subject.value == entity and t.predicate.value.startswith(MLG):  # type: ignore[union-attr]
                by_property.setdefault(t.predicate.value[len(MLG) :], []).append(t.object)  # type: ignore[arg-type]
        projection: Projection = {}
        for param in template.params:
            if not param.writable or param.property not in by_property:
                continue
            items = [self._text_of(param, v, titles) for v in by_property[param.property]]
            items = sorted(i for i in items if i) if param.split else [i for i in items if i][:1]
            if items:
                projection[param.param] = f"{param.split} ".join(items) if param.split else items[0]
        return projection

    def _text_of(
        self, param: ParamMapping, value: ox.NamedNode | ox.Literal, titles: Callable[[str], str | None]
    ) -> str:
        if param.datatype == "page":
            return titles(value.value) or ""
        if param.datatype == "date" and isinstance(value, ox.Literal):
            try:
                return datetime.fromisoformat(value.value).strftime(param.date_formats[0])
            except ValueError:
                return value.value
        if param.datatype == "file" and isinstance(value, ox.NamedNode):
            return unquote(value.value.rsplit("/", 1)[-1]).replace("_", " ")
        if isinstance(value, ox.Literal) and value.language and value.language != self.mapping.language:
            return ""
        return value.value


def _plain(item: str) -> str:
    """Readable text from a wikitext value: a template stands for its last positional argument
    (the label of link templates such as ``{{Lien|url|label}}``), footnotes and comments go,
    links keep their label."""
    if not _MARKUP.search(item):
        return item.strip()  # nothing the parser would change: no need to parse
    code = mwparserfromhell.parse(item)
    for tag in code.filter_tags(recursive=True):
        if str(tag.tag).lower() == "ref" and code.contains(tag):
            code.remove(tag)
    for template in code.filter_templates(recursive=False):
        positional = [p for p in template.params if not p.showkey]
        code.replace(template, str(positional[-1].value) if positional else "")
    text = code.strip_code(normalize=True, collapse=True).strip()
    return text or item.strip()


def _date(item: str, formats: tuple[str, ...]) -> str:
    for fmt in formats:
        try:
            return datetime.strptime(item.strip(), fmt).date().isoformat()
        except ValueError:
            continue
    raise MappingError(f"{item!r} is not a date in the format {' or '.join(formats)}")


def file_url_for(api_url: str) -> Callable[[str], str]:
    base = api_url[: -len("api.php")]
    return lambda name: (
        f"{base}index.php?title=Special:FilePath/{quote(normal_title(name).replace(' ', '_'))}"
    )


def page_url_for(api_url: str, pattern: str | None) -> Callable[[str], str]:
    base = api_url[: -len("api.php")]

    def url(title: str) -> str:
        encoded = quote(normal_title(title).replace(" ", "_"), safe="/:")
        return pattern.format(title=encoded) if pattern else f"{base}index.php?title={encoded}"

    return url

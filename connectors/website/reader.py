"""Reading a website: list its pages, fetch those that changed, map their markup, delete what went.

Every read lists the site (sitemap or configured URLs, less what robots.txt forbids), so a page
that leaves the sitemap, or answers 404/410, takes its records with it at once, under the
``max_deletions`` guard. An incremental read skips a page whose sitemap ``lastmod`` has not moved
and asks the others with ``If-None-Match``/``If-Modified-Since``: an unchanged site costs its
sitemap and a 304 per page, and rewrites nothing. A full read fetches every page again (the
content hash still keeps unchanged records out of the change log).

The cursor is the sync state: per page, its validators, its ``lastmod`` and the ids of the
records it gave. It commits with each batch, so a killed read resumes with 304s for the pages
already committed. A page that fails (5xx, too big, broken JSON-LD) keeps its records and is
quarantined under ``page <url>`` with the reason, until it reads again.
"""

from __future__ import annotations

import hashlib
import json
import logging
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field, replace

import pyoxigraph as ox

from connectors.base import Batch, HubView
from connectors.base.deletions import check_deletions
from connectors.website.fetch import PageError, PoliteClient, WebsiteError
from connectors.website.schema import Entity, entities, extract, top_level
from connectors.website.sitemap import Listed, lastmod_time, list_pages, looks_like_sitemap
from hub.iris import slug
from hub.records import Record, now
from hub.vocab import MLG, RDF_TYPE

log = logging.getLogger("maillage.website")
PAGES_PER_BATCH = 50
CONNECTOR = "website"


@dataclass(frozen=True)
class PageState:
    etag: str | None = None
    modified: str | None = None
    lastmod: str | None = None
    ids: list[str] = field(default_factory=list)
    aliases: dict[str, str] = field(default_factory=dict)
    """Other identifiers (an @id, a url) → the record id, for links from other pages."""
    failed: bool = False


State = dict[str, PageState]


def parse_state(cursor: str | None) -> State:
    raw = json.loads(cursor) if cursor else {}
    return {url: PageState(**page) for url, page in (raw.get("pages") or {}).items()}


def dump_state(state: State) -> str:
    return json.dumps({"pages": {url: asdict(page) for url, page in state.items()}}, sort_keys=True)


def page_error_id(url: str) -> str:
    """The id a failing page is quarantined under (a space never occurs in a URL, so it is no
    record's id)."""
    return f"page {url}"


@dataclass(frozen=True)
class Site:
    name: str
    base: str
    url: str
    urls: tuple[str, ...] = ()
    language: str = "fr"
    microdata: bool = True
    max_pages: int = 5000
    max_deletions: float = 0.5
    max_page_items: int = 1000
    """A page describing more schema.org nodes is quarantined: an association's page describes a
    few; 60,000 fit in a 2 MB page, and 5,000 such pages would be 300 million records."""

    def iri(self, key: str) -> str:
        """The hub entity of a record id: readable, and stable for the id."""
        readable = slug(key.split("://", 1)[-1], 60)
        digest = hashlib.sha1(key.encode()).hexdigest()[:10]
        return f"{self.base}website/{slug(self.name)}/{readable}-{digest}"


@dataclass
class _Pass:
    old: State
    new: State = field(default_factory=dict)
    found: dict[str, list[Entity]] = field(default_factory=dict)
    problems: list[Record] = field(default_factory=list)


class WebsiteReader:
    def __init__(self, client: PoliteClient, site: Site, view: HubView) -> None:
        self.client = client
        self.site = site
        self.view = view
        self._beyond_cap: frozenset[str] = frozenset()
        """Pages of the last listing past ``max_pages``: not read, their records kept."""

    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        self.client.new_pass()
        work = _Pass(parse_state(cursor))
        conditional = not full and cursor is not None
        for listed in self.listing():
            self._page(work, listed, conditional)
        for url, before in work.old.items():  # kept as they were: pages past max_pages
            if url not in work.new and url in self._beyond_cap:
                work.new[url] = before
        yield from self._batches(work)

    # -- listing ---------------------------------------------------------------------------
    def listing(self) -> list[Listed]:
        """The pages to read now, in the site's order: on the source's hosts, allowed by robots.txt."""
        if self.site.urls:
            entries = [Listed(u) for u in self.site.urls]
        else:
            try:
                self.client.check(self.site.url)
                if not self.client.allowed(self.site.url):
                    raise PageError(f"{self.site.url}: robots.txt forbids Maillage to read it")
                answer = self.client.get(self.site.url)
            except PageError as exc:
                raise WebsiteError(f"{self.site.name}: {exc}; nothing was read or deleted") from exc
            if answer.status != 200:
                raise WebsiteError(f"{self.site.url}: HTTP {answer.status}; nothing was read or deleted")
            if looks_like_sitemap(answer.body):
                entries, problems = list_pages(self.client, answer.body, self.site.url)
                for problem in problems:
                    log.warning("website %s: sitemap entry skipped: %s", self.site.name, problem)
            else:
                entries = [Listed(self.site.url)]
        kept: dict[str, Listed] = {}
        for entry in entries:
            try:
                self.client.check(entry.url)
            except PageError as exc:
                log.warning("website %s: %s", self.site.name, exc)
                continue
            if not self.client.allowed(entry.url):
                log.info("website %s: robots.txt forbids %s; not read", self.site.name, entry.url)
                continue
            kept.setdefault(entry.url, entry)
        pages = list(kept.values())
        self._beyond_cap = frozenset(e.url for e in pages[self.site.max_pages :])
        if self._beyond_cap:
            log.warning("website %s: %d pages past max_pages = %d are not read",
                        self.site.name, len(self._beyond_cap), self.site.max_pages)
        return pages[: self.site.max_pages]

    # -- one page --------------------------------------------------------------------------
    def _page(self, work: _Pass, listed: Listed, conditional: bool) -> None:
        url, before = listed.url, work.old.get(listed.url)
        if conditional and before is not None and not before.failed and _same_lastmod(listed, before):
            work.new[url] = before  # the sitemap says it has not changed: not even a request
            return
        use = before if conditional and before is not None and not before.failed else None
        try:
            page = self.client.get(url, use.etag if use else None, use.modified if use else None)
            if page.status == 304 and use is not None:
                work.new[url] = replace(use, lastmod=listed.lastmod)
                return
            if page.status in (404, 410):
                return  # gone: its records are deleted with the others at the end
            if page.status != 200:
                raise PageError(f"{url}: HTTP {page.status} to an unconditional request")
            found: list[Entity] = []
            if _html(page.content_type):  # a PDF or an image listed in the sitemap says nothing
                try:
                    items, language = extract(page.body, url, page.content_type, self.site.microdata)
                    found = entities(top_level(items), url, language or self.site.language)
                except RecursionError as exc:  # JSON-LD parsed, then walked, recursively
                    raise PageError(f"{url}: markup nested deeper than the hub reads") from exc
                if len(found) > self.site.max_page_items:
                    raise PageError(f"{url}: {len(found):,} schema.org items, over max_page_items = "
                                    f"{self.site.max_page_items:,}")
        except PageError as exc:
            log.warning("website %s: %s", self.site.name, exc)
            problem = Record(self.site.name, page_error_id(url), (), connector=CONNECTOR, error=str(exc))
            work.problems.append(problem)
            work.new[url] = replace(before or PageState(), failed=True)
            return
        if before is not None and before.failed:  # it reads again: its quarantine entry goes
            work.problems.append(
                Record(self.site.name, page_error_id(url), (), connector=CONNECTOR, deleted=True)
            )
        aliases = {alias: e.key for e in found for alias in e.aliases if alias != e.key}
        ids = list(dict.fromkeys(e.key for e in found))
        work.new[url] = PageState(page.etag, page.modified, listed.lastmod, ids, aliases)
        work.found[url] = found

    # -- records ---------------------------------------------------------------------------
    def _batches(self, work: _Pass) -> Iterator[Batch]:
        chosen: dict[str, Entity] = {}
        for found in work.found.values():
            for entity in found:
                chosen.setdefault(entity.key, entity)  # described on two pages: the first listed
        known_types = {self.site.iri(key): [e.cls] for key, e in chosen.items()}
        resolve = self._resolver(work, chosen, known_types)
        present = {i for page in work.new.values() for i in page.ids}
        stored = self.view.source_ids()
        gone = sorted(i for i in stored if i not in present and not i.startswith("page "))
        check_deletions(self.site.name, len(stored), len(gone), self.site.max_deletions, "records")
        progress = {url: s for url, s in work.new.items() if url not in work.found}
        urls = list(work.found)
        for start in range(0, len(urls), PAGES_PER_BATCH):
            chunk = urls[start : start + PAGES_PER_BATCH]
            records = [
                self._record(chosen[e.key], resolve)
                for url in chunk
                for e in work.found[url]
                if chosen[e.key] is e
            ]
            progress.update({url: work.new[url] for url in chunk})
            yield Batch(records, dump_state({**work.old, **progress}), known_types)
        deleted = [Record(self.site.name, i, (), connector=CONNECTOR, deleted=True) for i in gone]
        yield Batch([*deleted, *work.problems], dump_state(work.new), known_types)

    def _resolver(
        self, work: _Pass, chosen: dict[str, Entity], known: dict[str, list[str]]
    ) -> dict[str, str]:
        """Link target (an @id or url) → hub entity, for targets the hub has or this read brings."""
        aliases = {a: k for page in work.new.values() for a, k in page.aliases.items()}
        aliases.update({k: k for page in work.new.values() for k in page.ids})
        targets = {t for e in chosen.values() for _, t in e.links}
        iris = {t: self.site.iri(aliases[t]) for t in targets if t in aliases}
        unknown = [iri for iri in iris.values() if iri not in known]
        typed = set(known) | (self.view.known(unknown) if unknown else set())
        return {t: iri for t, iri in iris.items() if iri in typed}

    def _record(self, entity: Entity, resolve: dict[str, str]) -> Record:
        subject = ox.NamedNode(self.site.iri(entity.key))
        triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + entity.cls))]
        triples += [ox.Triple(subject, ox.NamedNode(p), o) for p, o in entity.values]
        triples += [
            ox.Triple(subject, ox.NamedNode(MLG + prop), ox.NamedNode(resolve[target]))
            for prop, target in entity.links
            if target in resolve and resolve[target] != subject.value
        ]
        return Record(
            source=self.site.name,
            source_id=entity.key,
            triples=tuple(dict.fromkeys(triples)),
            retrieved_at=now(),
            connector=CONNECTOR,
            source_url=entity.page,
            error="; ".join(f"{entity.page}: {e}" for e in entity.errors) or None,
        )


def _html(content_type: str) -> bool:
    kind = content_type.split(";", 1)[0].strip().lower()
    return kind in ("", "text/html", "application/xhtml+xml")


def _same_lastmod(listed: Listed, before: PageState) -> bool:
    """The sitemap's lastmod is no later than when the page was last read."""
    now_mod, then_mod = lastmod_time(listed.lastmod), lastmod_time(before.lastmod)
    return now_mod is not None and then_mod is not None and now_mod <= then_mod

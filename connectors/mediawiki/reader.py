"""Reading a wiki: a full harvest, then increments from ``recentchanges``.

The cursor is JSON: the ``recentchanges`` position (timestamp and rcid) and when the last full
harvest started. A full harvest also runs when the position is older than the wiki keeps
recent changes, or when the reconciliation period has passed: it catches what recentchanges
no longer holds, and pages deleted meanwhile.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from connectors.base import Batch, HubView
from connectors.base.deletions import DEFAULT_LIMIT, check_deletions
from connectors.base.prefetch import Prefetched
from connectors.mediawiki.client import PageRevision, WikiClient
from connectors.mediawiki.mapping import WikiMapping
from connectors.mediawiki.pagemap import PageMapper, WikiIdentity, normal_title, page_links
from connectors.mediawiki.wikitext import WikitextError, read_page
from hub.records import Record

log = logging.getLogger("maillage.mediawiki")
RC_RETENTION = timedelta(days=85)  # MediaWiki keeps 90 days by default; keep a margin


@dataclass
class Position:
    rc_timestamp: str | None = None
    rcid: int = 0
    full_at: str | None = None

    @classmethod
    def parse(cls, cursor: str | None) -> Position:
        if not cursor:
            return cls()
        raw = json.loads(cursor)
        return cls(raw.get("rc"), int(raw.get("rcid", 0)), raw.get("full_at"))

    def dump(self) -> str:
        return json.dumps({"rc": self.rc_timestamp, "rcid": self.rcid, "full_at": self.full_at})


def _age(timestamp: str | None) -> timedelta:
    if not timestamp:
        return timedelta.max
    return datetime.now(UTC) - datetime.fromisoformat(timestamp.replace("Z", "+00:00"))


class WikiReader:
    """Turns a wiki's pages into record batches for the hub."""

    def __init__(
        self,
        client: WikiClient,
        mapping: WikiMapping,
        mapper: PageMapper,
        view: HubView,
        reconcile_every: timedelta = timedelta(days=7),
        bot_user: str | None = None,
        max_deletions: float = DEFAULT_LIMIT,
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.mapper = mapper
        self.view = view
        self.identity: WikiIdentity = mapper.identity
        self.reconcile_every = reconcile_every
        self.bot_user = (bot_user or "").split("@", 1)[0] or None
        self.max_deletions = max_deletions
        self.known_types: dict[str, list[str]] = {}
        self._listed_titles: dict[str, int] = {}  # during a harvest: canonical title -> page id

    # -- entry point -------------------------------------------------------------------------
    def read(self, cursor: str | None, full: bool = False) -> Iterator[Batch]:
        self.known_types = {}  # a connector may serve several runs: nothing from the last one
        position = Position.parse(cursor)
        if (
            full
            or _age(position.rc_timestamp) > RC_RETENTION
            or _age(position.full_at) > self.reconcile_every
        ):
            yield from self.harvest()
        else:
            yield from self.increments(position)

    # -- full harvest ------------------------------------------------------------------------
    def harvest(self) -> Iterator[Batch]:
        reads = [self._read_ahead(ns) for ns in self.mapping.namespaces]  # fetching starts now
        try:
            started, listed = self._listing()
            stored = self._stored_ids()
            missing = sum(1 for sid in stored if int(sid) not in listed)
            check_deletions(self.identity.source, len(stored), missing, self.max_deletions, "data pages")
            self.known_types = {self.identity.page_iri(p): [cls] for p, (_, cls) in listed.items()}
            position = Position(started, 0, None)
            self._listed_titles = {normal_title(title): p for p, (title, _) in listed.items()}
            for read in reads:
                # every page, not only those the wiki lists as using a template: a page whose data
                # template is broken (unclosed) transcludes nothing, yet must reach the quarantine
                for pages in read:
                    yield Batch(self._records(pages), position.dump(), self.known_types)
        finally:
            self._listed_titles = {}
            for read in reads:
                read.close()
        gone = [sid for sid in self._stored_ids() if int(sid) not in listed]
        position.full_at = started
        yield Batch([self._deleted(sid) for sid in gone], position.dump(), self.known_types)

    def _read_ahead(self, namespace: int) -> Prefetched[list[PageRevision]]:
        """Every page of the namespace, the next request going out while this batch is mapped."""
        reader = self.client.for_thread()

        def fetch() -> Iterator[list[PageRevision]]:
            try:
                yield from reader.pages(generator="allpages", gapnamespace=namespace, gaplimit=50)
            finally:
                reader.close()

        return Prefetched(fetch)

    def _listing(self) -> tuple[str, dict[int, tuple[str, str]]]:
        """The wiki's clock when the listing starts, and every page that uses a mapped template:
        pageid -> (title, hub class). One listing per template and namespace, sent together."""
        namespaces = self.mapping.namespaces
        jobs = [(t.template, t.hub_class, ns) for t in self.mapping.templates for ns in namespaces]
        with ThreadPoolExecutor(max_workers=min(4, len(jobs))) as pool:
            answers = list(pool.map(lambda job: self._embedded_in(job[0], job[2]), jobs))
        listed: dict[int, tuple[str, str]] = {}
        for (_, hub_class, _), (_, pages) in zip(jobs, answers, strict=True):
            listed.update({pageid: (title, hub_class) for pageid, title in pages})
        clocks = [clock for clock, _ in answers if clock]
        return (min(clocks) if clocks else self.client.now()), listed

    def _embedded_in(self, template: str, namespace: int) -> tuple[str | None, list[tuple[int, str]]]:
        """(the wiki's clock before the first answer, [(pageid, title)]) on a session of its own."""
        client = self.client.for_thread()
        clock: str | None = None
        pages: list[tuple[int, str]] = []
        try:
            for result in client.query(
                list="embeddedin",
                eititle=_template_title(template),
                einamespace=namespace,
                eilimit="max",
                curtimestamp=1,
            ):
                clock = clock or result.get("curtimestamp")
                found = result.get("query", {}).get("embeddedin", [])
                pages += [(int(p["pageid"]), p["title"]) for p in found]
        finally:
            client.close()
        return clock, pages

    # -- increments --------------------------------------------------------------------------
    def increments(self, position: Position) -> Iterator[Batch]:
        changes = self._recent_changes(position)
        if not changes:
            return
        titles: dict[str, None] = {}
        for change in (c for c in changes if not self._own_edit(c)):
            titles[normal_title(change["title"])] = None
            target = (change.get("logparams") or {}).get("target_title")
            if target:
                titles[normal_title(target)] = None
        last = changes[-1]
        new_position = Position(last["timestamp"], int(last["rcid"]), position.full_at)
        title_list = list(titles)
        if not title_list:
            yield Batch([], new_position.dump())
        for start in range(0, len(title_list), 50):
            chunk = title_list[start : start + 50]
            pages = [p for batch in self.client.pages(titles="|".join(chunk)) for p in batch]
            order = {title: index for index, title in enumerate(chunk)}
            pages.sort(key=lambda p: order.get(normal_title(p.title), len(order)))  # the wiki's order
            records = self._records(pages)
            present = {normal_title(p.title) for p in pages}
            records += self._deleted_titles([t for t in chunk if t not in present], {p.pageid for p in pages})
            cursor = new_position.dump() if start + 50 >= len(title_list) else position.dump()
            yield Batch(records, cursor)

    def _recent_changes(self, position: Position) -> list[dict[str, Any]]:
        found: list[dict[str, Any]] = []
        for result in self.client.query(
            list="recentchanges",
            rcstart=position.rc_timestamp,
            rcdir="newer",
            rcnamespace="|".join(str(n) for n in self.mapping.namespaces),
            rctype="edit|new|log",
            rcprop="title|ids|timestamp|loginfo|user|tags",
            rclimit="max",
        ):
            for change in result.get("query", {}).get("recentchanges", []):
                if change["timestamp"] == position.rc_timestamp and int(change["rcid"]) <= position.rcid:
                    continue
                found.append(change)
        return found

    def _own_edit(self, change: dict[str, Any]) -> bool:
        """The hub's own edits come back here: already in the hub, nothing to read."""
        tag = self.mapping.change_tag
        return bool(
            tag
            and tag in change.get("tags", [])
            and self.bot_user
            and change.get("user") == self.bot_user
            and change.get("type") != "log"
        )

    # -- pages to records --------------------------------------------------------------------
    def _records(self, pages: list[PageRevision]) -> list[Record]:
        entities = self._entities([p.pageid for p in pages])
        readings: list[tuple[PageRevision, Any]] = []
        link_names: set[str] = set()
        for page in pages:
            try:
                data = read_page(page.text, self.mapping)
            except WikitextError as exc:
                readings.append((page, exc))
                continue
            readings.append((page, data))
            if data is not None:
                link_names |= page_links(data)
        in_batch = {
            p.pageid: entities.get(p.pageid) or self.identity.page_iri(p.pageid)
            for p, d in readings
            if d is not None and not isinstance(d, WikitextError)
        }
        links = self.resolve_links(link_names, in_batch)
        records: list[Record] = []
        for page, data in readings:
            entity = entities.get(page.pageid) or self.identity.page_iri(page.pageid)
            if isinstance(data, WikitextError):
                records.append(
                    Record(
                        source=self.identity.source,
                        source_id=str(page.pageid),
                        triples=(),
                        revision=str(page.revid),
                        connector="mediawiki",
                        source_url=self.mapper.page_url(page.title),
                        error=f"{page.title}: {data}",
                    )
                )
            elif data is None:
                if str(page.pageid) in self._stored_ids([str(page.pageid)]):
                    records.append(self._deleted(str(page.pageid)))  # the data template was removed
            else:
                records.append(self.mapper.record(page, data, entity, links))
        return records

    def _entities(self, pageids: Iterable[int]) -> dict[int, str]:
        """Pages the hub created for entities of other sources keep those entities' IRIs."""
        return {int(sid): entity for sid, entity in self.view.entities(str(p) for p in pageids).items()}

    def resolve_links(
        self, titles: set[str], batch: dict[int, str] | None = None
    ) -> Callable[[str], str | None]:
        """Title -> hub IRI for link targets that are hub entities (known from the harvest, the
        batch being read, or the store); None for red links and pages of unmapped kinds.

        During a harvest the listing already gives the page id of every page using a mapped
        template, under its canonical title: only the other titles (redirects, other spellings,
        red links, pages of unmapped kinds) are asked of the wiki."""
        resolved: dict[str, str | None] = {}
        title_list = sorted(titles)
        renamed: dict[str, str] = {}
        ids = {title: self._listed_titles[title] for title in title_list if title in self._listed_titles}
        asked = [title for title in title_list if title not in ids]
        for start in range(0, len(asked), 50):
            chunk = asked[start : start + 50]
            query = self.client.call("query", titles="|".join(chunk), redirects=1).get("query", {})
            renamed.update(
                (normal_title(n["from"]), normal_title(n["to"]))
                for n in query.get("normalized", []) + query.get("redirects", [])
            )
            ids.update(
                (normal_title(p["title"]), int(p["pageid"])) for p in query.get("pages", []) if "pageid" in p
            )
        finals = {t: renamed.get(renamed.get(t, t), renamed.get(t, t)) for t in title_list}
        for start in range(0, len(title_list), 50):
            chunk = title_list[start : start + 50]
            pageids = {ids[finals[t]] for t in chunk if finals[t] in ids}
            entities = self._entities(pageids)
            iris = {pageid: entities.get(pageid) or self.identity.page_iri(pageid) for pageid in pageids}
            typed = self.view.known(iris.values()) | set(self.known_types) | set((batch or {}).values())
            for title in chunk:
                pageid = ids.get(finals[title])
                iri = iris.get(pageid) if pageid else None
                resolved[title] = iri if iri in typed else None
        return lambda title: resolved.get(normal_title(title))

    # -- deletions ---------------------------------------------------------------------------
    def _stored_ids(self, only: list[str] | None = None) -> set[str]:
        return self.view.source_ids(only)

    def _deleted_titles(self, titles: list[str], alive: set[int]) -> list[Record]:
        if not titles:
            return []
        found = self.view.ids_by_url(self.mapper.page_url(t) for t in titles)
        return [self._deleted(sid) for sid in found.values() if int(sid) not in alive]

    def _deleted(self, source_id: str) -> Record:
        return Record(
            source=self.identity.source, source_id=source_id, triples=(), connector="mediawiki", deleted=True
        )


def _template_title(name: str) -> str:
    return name if ":" in name else f"Template:{name}"

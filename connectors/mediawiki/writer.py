"""Writing the hub's changes into wiki pages, one template parameter at a time.

For each entity changed by another source, four projections are compared per parameter:
what the other sources say now (*hub*), what the hub last pushed (*pushed*), what the wiki said
when the hub last read or wrote the page (*base*) and what the page says now (*wiki*). A hub
change is written only where the wiki still holds the base value; where a person changed the
same parameter, the person's text stays and a conflict is recorded. Every other byte of the
page is kept, and each edit is based on the revision just read, so MediaWiki itself refuses an
edit that raced with a human one (the writer then reads again and retries).
"""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pyoxigraph as ox
from hub.syncstate import SyncState, state_for_entity

from connectors.base import Batch
from connectors.base.hubview import deleted_from, entity_triples, hub_classes, source_id_of
from connectors.base.push import push_changes
from connectors.mediawiki.client import EditConflict, PageRevision, WikiClient
from connectors.mediawiki.mapping import TemplateMapping, WikiMapping
from connectors.mediawiki.pagemap import PageMapper, Projection, normal_title, page_links
from connectors.mediawiki.reader import WikiReader
from connectors.mediawiki.wikitext import WikitextError, new_page, read_page, set_params
from hub.meta.candidates import pending
from hub.meta.changelog import Change
from hub.pipeline.match import BASELINE
from hub.records import MetaUpdate, Record
from hub.store.base import Store
from hub.sync.merge import blocked_properties, conflict, plan, settled, split_overrides
from hub.vocab import META_GRAPH, MLG, PROV, term

log = logging.getLogger("maillage.mediawiki")
ATTEMPTS = 3


class WikiWriter:
    def __init__(
        self, client: WikiClient, mapping: WikiMapping, mapper: PageMapper, reader: WikiReader, store: Store
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.mapper = mapper
        self.reader = reader
        self.store = store
        self.source = mapper.identity.source

    def push(self, changes: list[Change]) -> Iterator[Batch]:
        return push_changes(self.store, self.source, changes, self._push_entity)

    def _push_entity(self, entity: str) -> tuple[list[Record], list[MetaUpdate]]:
        template = self._template_for(entity)
        if template is None:
            return [], []
        hub = self.mapper.project(template, self._triples(entity, other_sources=True), entity, self._title_of)
        if not hub:
            return [], []
        state = state_for_entity(self.store, self.source, entity)
        if state is not None and state.pushed.get(BASELINE):
            # a pair the hub just linked: what each side holds now is the starting point
            return [], [SyncState(self.source, entity, state.source_id, dict(hub)).update()]
        pageid = self._page_of(entity) or (int(state.source_id) if state else None)
        if pageid is None:
            if pending(self.store, entity) or deleted_from(self.store, entity, self.source):
                return [], []  # waiting for a person, or a person deleted its page here
            return self._create(entity, template, hub)
        base = self.mapper.project(
            template, self._triples(entity, other_sources=False), entity, self._title_of
        )
        pushed, chosen = split_overrides(state.pushed) if state else (base, {})
        if settled(hub, pushed, base) and not chosen and not self._withdrawn(template, hub, pushed):
            return [], [SyncState(self.source, entity, str(pageid), {**pushed, **hub}).update()]
        for _ in range(ATTEMPTS):
            page = self._read(pageid)
            if page is None:
                log.warning("page %s of %s is gone from the wiki; not recreated", pageid, entity)
                return [], []
            wiki = self._projection_of(page, template, entity)
            merge = plan(hub, pushed, base, wiki)
            merge.updates.update(self._withdrawn(template, hub, pushed))
            blocked = blocked_properties(self.store, entity)
            merge.updates = {
                p: v for p, v in merge.updates.items() if self._property(template, p) not in blocked
            }
            for prop, value in chosen.items():  # a value a person chose to settle a conflict
                param = template.by_property(prop)
                if param is not None and wiki.get(param.param) != value:
                    merge.updates[param.param] = value
            conflicts = [
                self._conflict(entity, page.title, *c, prop=self._property(template, c[0]))
                for c in merge.conflicts
            ]
            new_state = SyncState(self.source, entity, str(pageid), {**pushed, **hub, **merge.updates})
            if not merge.updates:
                return [], [new_state.update(), *conflicts]
            try:
                written = self._save(page, merge.updates)
            except EditConflict:
                log.info("edit conflict on %s: reading it again", page.title)
                continue
            return [self._record(written, entity)], [new_state.update(), *conflicts]
        return [], [
            self._conflict(entity, str(pageid), "*", "", "the page kept changing while the hub wrote")
        ]

    def _save(self, page: PageRevision, updates: dict[str, str]) -> PageRevision:
        new_text = set_params(page.text, self.mapping, updates)
        start = self.client.now()
        saved = self.client.edit(
            page.title,
            new_text,
            self._summary(updates),
            base_revid=page.revid,
            base_timestamp=page.timestamp,
            start_timestamp=start,
            create=False,
            tag=self.mapping.change_tag,
        )
        return PageRevision(
            page.pageid, page.title, saved.revid, saved.timestamp, new_text.rstrip(), page.categories
        )

    def _create(
        self, entity: str, template: TemplateMapping, hub: Projection
    ) -> tuple[list[Record], list[MetaUpdate]]:
        name = hub.get(template.title_param or "", "")
        if not name:
            return [], []
        title = normal_title(template.title_pattern.format(name=name))
        text = new_page(template, hub)
        try:
            saved = self.client.edit(
                title,
                text,
                self.mapping.edit_summary,
                base_revid=None,
                base_timestamp=None,
                start_timestamp=None,
                create=True,
                tag=self.mapping.change_tag,
            )
        except EditConflict:
            if not self.client.created_by_us(title, self.mapping.change_tag):
                return [], [
                    self._conflict(
                        entity,
                        title,
                        template.title_param or "name",
                        name,
                        "a page with this title already exists; link it by hand",
                    )
                ]
            # our own page from a run that stopped before recording it: adopt it, no twin
            page = next(iter(p for batch in self.client.pages(titles=title) for p in batch), None)
            if page is None:
                return [], []
        else:  # what the wiki saved is what was sent: no need to read it back
            page = PageRevision(saved.pageid, saved.title, saved.revid, saved.timestamp, text.rstrip())
        state = SyncState(self.source, entity, str(page.pageid), dict(hub))
        return [self._record(page, entity)], [state.update()]

    # -- helpers -----------------------------------------------------------------------------
    def _record(self, page: PageRevision, entity: str) -> Record:
        data = read_page(page.text, self.mapping)
        assert data is not None
        links = self.reader.resolve_links(page_links(data))
        return self.mapper.record(page, data, entity, links)

    def _projection_of(self, page: PageRevision, template: TemplateMapping, entity: str) -> Projection:
        try:
            record = self._record(page, entity)
        except (WikitextError, AssertionError):
            return {}
        return self.mapper.project(template, record.triples, entity, self._title_of)

    def _read(self, pageid: int) -> PageRevision | None:
        return next(iter(p for batch in self.client.pages(pageids=str(pageid)) for p in batch), None)

    def _template_for(self, entity: str) -> TemplateMapping | None:
        for cls in hub_classes(self.store, entity):
            found = self.mapping.for_class(cls)
            if found is not None:
                return found
        return None

    def _triples(self, entity: str, other_sources: bool) -> list[ox.Triple]:
        return entity_triples(self.store, entity, self.source, other_sources=other_sources)

    def _page_of(self, entity: str) -> int | None:
        found = source_id_of(self.store, entity, self.source)
        return int(found) if found else None

    def _title_of(self, entity: str) -> str | None:
        """The wiki title of a linked entity, or its name when it has no page here."""
        rows = self.store.select(
            f"""SELECT ?url ?name WHERE {{ OPTIONAL {{ GRAPH <{META_GRAPH}> {{
                ?g <{term("entity")}> <{entity}> ;
                <{term("source")}> {ox.Literal(self.source)} ; <{PROV}hadPrimarySource> ?url }} }}
                OPTIONAL {{ <{entity}> <{MLG}name> ?name }} }} LIMIT 1"""
        )
        if rows and "url" in rows[0]:
            return self.mapper.title_from_url(rows[0]["url"].value)
        return rows[0]["name"].value if rows and "name" in rows[0] else None

    @staticmethod
    def _withdrawn(template: TemplateMapping, hub: Projection, pushed: Projection) -> Projection:
        """Shown-only parameters (``direction = "out"``) the hub no longer has a value for are
        emptied: the wiki mirrors the other side there, so a member who left disappears. (The
        wiki's own projection never holds them: they are not read.)"""
        shown = [p.param for p in template.params if not p.readable]
        return {param: "" for param in shown if pushed.get(param) and param not in hub}

    def _summary(self, updates: dict[str, str]) -> str:
        return f"{self.mapping.edit_summary} ({', '.join(sorted(updates))})"

    @staticmethod
    def _property(template: TemplateMapping, param: str) -> str | None:
        found = template.param(param)
        return found.property if found else None

    def _conflict(
        self, entity: str, title: str, param: str, hub_value: str, wiki_value: str, prop: str | None = None
    ) -> MetaUpdate:
        reason = (
            f"{title}: '{param}' was changed both in the hub and on the wiki; the wiki text was kept"
            if param != "*"
            else wiki_value
        )
        return conflict(self.source, entity, param, hub_value, wiki_value, reason, prop)

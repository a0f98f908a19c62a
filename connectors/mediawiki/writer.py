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

import hashlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass

import pyoxigraph as ox

from connectors.base import Batch
from connectors.mediawiki.client import EditConflict, PageRevision, WikiClient
from connectors.mediawiki.mapping import TemplateMapping, WikiMapping
from connectors.mediawiki.pagemap import PageMapper, Projection, normal_title, page_links
from connectors.mediawiki.reader import WikiReader
from connectors.mediawiki.wikitext import WikitextError, new_page, read_page, set_params
from hub.changelog import Change
from hub.ingest import MetaUpdate
from hub.records import Record, now
from hub.store.base import Store
from hub.syncstate import SyncState, state_for_entity
from hub.transaction import iri, text, timestamp
from hub.vocab import META_GRAPH, MLG, PROV, RDF_TYPE, term

log = logging.getLogger("maillage.mediawiki")
ATTEMPTS = 3


@dataclass
class Plan:
    updates: dict[str, str]
    conflicts: list[tuple[str, str, str]]  # parameter, hub value, wiki value


def plan(hub: Projection, pushed: Projection, base: Projection, wiki: Projection) -> Plan:
    """The three-way merge per parameter (hub values that are absent never erase wiki text)."""
    result = Plan({}, [])
    for param, value in hub.items():
        if value == pushed.get(param) or value == wiki.get(param):
            continue
        if wiki.get(param) == base.get(param):
            result.updates[param] = value
        else:
            result.conflicts.append((param, value, wiki.get(param, "")))
    return result


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
        handled: set[str] = set()
        for change in changes:
            entity = change.entity
            if change.source == self.source or entity is None or entity in handled:
                yield Batch([], str(change.sequence))
                continue
            handled.add(entity)
            records, state = self._push_entity(entity)
            yield Batch(records, str(change.sequence), state)

    # -- one entity --------------------------------------------------------------------------
    def _push_entity(self, entity: str) -> tuple[list[Record], list[MetaUpdate]]:
        template = self._template_for(entity)
        if template is None:
            return [], []
        hub = self.mapper.project(template, self._triples(entity, other_sources=True), entity, self._title_of)
        if not hub:
            return [], []
        state = state_for_entity(self.store, self.source, entity)
        pageid = self._page_of(entity) or (int(state.source_id) if state else None)
        if pageid is None:
            return self._create(entity, template, hub)
        base = self.mapper.project(
            template, self._triples(entity, other_sources=False), entity, self._title_of
        )
        pushed = state.pushed if state else base
        for _ in range(ATTEMPTS):
            page = self._read(pageid)
            if page is None:
                log.warning("page %s of %s is gone from the wiki; not recreated", pageid, entity)
                return [], []
            wiki = self._projection_of(page, template, entity)
            merge = plan(hub, pushed, base, wiki)
            conflicts = [self._conflict(entity, page.title, *c) for c in merge.conflicts]
            new_state = SyncState(self.source, entity, str(pageid), {**pushed, **hub})
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
        revid, stamp = self.client.edit(
            page.title,
            new_text,
            self._summary(updates),
            base_revid=page.revid,
            base_timestamp=page.timestamp,
            start_timestamp=start,
            create=False,
            tag=self.mapping.change_tag,
        )
        return PageRevision(page.pageid, page.title, revid, stamp, new_text.rstrip(), page.categories)

    def _create(
        self, entity: str, template: TemplateMapping, hub: Projection
    ) -> tuple[list[Record], list[MetaUpdate]]:
        name = hub.get(template.title_param or "", "")
        if not name:
            return [], []
        title = normal_title(template.title_pattern.format(name=name))
        try:
            self.client.edit(
                title,
                new_page(template, hub),
                self.mapping.edit_summary,
                base_revid=None,
                base_timestamp=None,
                start_timestamp=None,
                create=True,
                tag=self.mapping.change_tag,
            )
        except EditConflict:
            return [], [
                self._conflict(
                    entity,
                    title,
                    template.title_param or "name",
                    name,
                    "a page with this title already exists; link it by hand",
                )
            ]
        page = next(iter(p for batch in self.client.pages(titles=title) for p in batch), None)
        if page is None:
            return [], []
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
        rows = self.store.select(f"SELECT DISTINCT ?t WHERE {{ <{entity}> <{RDF_TYPE}> ?t }}")
        for row in rows:
            if row["t"].value.startswith(MLG):
                found = self.mapping.for_class(row["t"].value[len(MLG) :])
                if found is not None:
                    return found
        return None

    def _triples(self, entity: str, other_sources: bool) -> list[ox.Triple]:
        op = "!=" if other_sources else "="
        rows = self.store.select(
            f"""SELECT ?p ?o WHERE {{ GRAPH ?g {{ <{entity}> ?p ?o }}
                GRAPH <{META_GRAPH}> {{ ?g <{term("source")}> ?src }}
                FILTER(?src {op} {ox.Literal(self.source)}) }}"""
        )
        subject = ox.NamedNode(entity)
        return [ox.Triple(subject, r["p"], r["o"]) for r in rows]  # type: ignore[arg-type]

    def _page_of(self, entity: str) -> int | None:
        rows = self.store.select(
            f"""SELECT ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g <{term("entity")}> <{entity}> ;
                <{term("source")}> {ox.Literal(self.source)} ; <{term("sourceId")}> ?id }} }}"""
        )
        return int(rows[0]["id"].value) if rows else None

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

    def _summary(self, updates: dict[str, str]) -> str:
        return f"{self.mapping.edit_summary} ({', '.join(sorted(updates))})"

    def _conflict(self, entity: str, title: str, param: str, hub_value: str, wiki_value: str) -> MetaUpdate:
        digest = hashlib.sha256(f"{self.source}\n{entity}\n{param}".encode()).hexdigest()[:24]
        reason = (
            f"{title}: '{param}' was changed both in the hub and on the wiki; the wiki text was kept"
            if param != "*"
            else wiki_value
        )
        return f"urn:maillage:conflict:{digest}", [
            (RDF_TYPE, iri(term("Conflict"))),
            (term("source"), text(self.source)),
            (term("entity"), iri(entity)),
            (term("parameter"), text(param)),
            (term("hubValue"), text(hub_value)),
            (term("sourceValue"), text(wiki_value)),
            (term("reason"), text(reason)),
            (PROV + "generatedAtTime", timestamp(now())),
        ]

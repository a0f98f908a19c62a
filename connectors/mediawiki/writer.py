"""Writing into wiki pages, one template parameter at a time: the MediaWiki side of the hub's
outbound sync (the policy, merge and sync state are the hub's: ``hub.sync.outbound``).

Every byte of a page outside the changed parameters is kept, and each edit is based on the
revision just read, so MediaWiki itself refuses an edit that raced with a person's (an
:class:`~connectors.base.protocol.StaleRevision` for the hub, which reads the page again).
"""

from __future__ import annotations

from collections.abc import Sequence

import pyoxigraph as ox

from connectors.base import AlreadyExists, Current, HubView, Projection, StaleRevision, Target
from connectors.mediawiki.client import EditConflict, PageRevision, WikiClient
from connectors.mediawiki.mapping import TemplateMapping, WikiMapping
from connectors.mediawiki.pagemap import PageMapper, normal_title, page_links
from connectors.mediawiki.reader import WikiReader
from connectors.mediawiki.wikitext import WikitextError, new_page, read_page, set_params
from hub.records import Record


class WikiWriter:
    def __init__(
        self, client: WikiClient, mapping: WikiMapping, mapper: PageMapper, reader: WikiReader, view: HubView
    ) -> None:
        self.client = client
        self.mapping = mapping
        self.mapper = mapper
        self.reader = reader
        self.view = view
        self._targets: dict[str, Target] = {}

    def target(self, classes: Sequence[str]) -> Target | None:
        for cls in classes:
            template = self.mapping.for_class(cls)
            if template is not None:
                return self._target(template)
        return None

    def project(self, target: Target, triples: Sequence[ox.Triple], entity: str) -> Projection:
        return self.mapper.project(target.native, triples, entity, self._title_of)

    def fetch(self, target: Target, source_id: str, entity: str) -> Current | None:
        page = next(iter(p for batch in self.client.pages(pageids=source_id) for p in batch), None)
        return self._current(page, target.native, entity) if page is not None else None

    def update(self, target: Target, current: Current, changes: Projection) -> Current:
        page: PageRevision = current.native
        new_text = set_params(page.text, self.mapping, changes)
        try:
            saved = self.client.edit(
                page.title,
                new_text,
                f"{self.mapping.edit_summary} ({', '.join(sorted(changes))})",
                base_revid=page.revid,
                base_timestamp=page.timestamp,
                start_timestamp=self.client.now(),
                create=False,
                tag=self.mapping.change_tag,
            )
        except EditConflict as exc:
            raise StaleRevision(page.title) from exc
        written = PageRevision(
            page.pageid, page.title, saved.revid, saved.timestamp, new_text.rstrip(), page.categories
        )
        return self._current(written, target.native, current.entity)

    def create(self, target: Target, fields: Projection, entity: str, *, resuming: bool) -> Current | None:
        template: TemplateMapping = target.native
        name = fields.get(template.title_param or "", "")
        if not name:
            return None
        title = normal_title(template.title_pattern.format(name=name))
        text = new_page(template, fields)
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
        except EditConflict as exc:
            if not self.client.created_by_us(title, self.mapping.change_tag):
                raise AlreadyExists(
                    template.title_param or "name", name, f"{title}: a page with this title already exists; "
                    "link it by hand"
                ) from exc
            # our own page from a run that stopped before recording it: adopt it, no twin
            page = next(iter(p for batch in self.client.pages(titles=title) for p in batch), None)
            if page is None:
                return None
        else:  # what the wiki saved is what was sent: no need to read it back
            page = PageRevision(saved.pageid, saved.title, saved.revid, saved.timestamp, text.rstrip())
        return self._current(page, template, entity)

    # -- helpers -----------------------------------------------------------------------------
    def _target(self, template: TemplateMapping) -> Target:
        found = self._targets.get(template.template)
        if found is None:
            overridable: dict[str, str] = {}
            for param in reversed(template.params):  # the first parameter of a property wins
                overridable[param.property] = param.param
            found = Target(
                name=template.template,
                native=template,
                properties={p.param: p.property for p in template.params},
                overridable=overridable,
                shown_only=frozenset(p.param for p in template.params if not p.readable),
            )
            self._targets[template.template] = found
        return found

    def _current(self, page: PageRevision, template: TemplateMapping, entity: str) -> Current:
        """The page as the hub compares it (its projection) and as a record."""
        record: Record | None = None
        fields: Projection = {}
        try:
            record = self._record(page, entity)
            fields = self.mapper.project(template, record.triples, entity, self._title_of)
        except (WikitextError, AssertionError):
            pass
        return Current(str(page.pageid), entity, fields, page, page.title, record)

    def _record(self, page: PageRevision, entity: str) -> Record:
        data = read_page(page.text, self.mapping)
        assert data is not None
        links = self.reader.resolve_links(page_links(data))
        return self.mapper.record(page, data, entity, links)

    def _title_of(self, entity: str) -> str | None:
        """The wiki title of a linked entity, or its name when it has no page here."""
        url = self.view.source_url(entity)
        return self.mapper.title_from_url(url) if url else self.view.name(entity)

"""One API record → one hub record, through its endpoint's rules.

Entities are named from (source, endpoint, id), so a record read again updates the same entity
and a link from another endpoint (a service's ``structure_id``) names it without a look-up. A
link to a record the source does not list, a field of the wrong shape, a record without an id:
the record carries the reason and is quarantined with its source id; nothing is guessed.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Callable
from typing import Any
from urllib.parse import urljoin

import pyoxigraph as ox

from connectors.jsonapi.mapping import TERRITORY_CLASSES, ApiMapping, Endpoint, Rule
from connectors.jsonapi.paths import walk
from connectors.jsonapi.rules import Converter, RuleError, describe, render
from hub.iris import component, is_web_address, slug
from hub.records import Record, now
from hub.vocab import MLG, RDF_TYPE, property_iri

CONNECTOR = "jsonapi"
MAX_ID = 500
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_RDF_TYPE = ox.NamedNode(RDF_TYPE)
Resolver = Callable[[str, str], str | None]
"""(endpoint name, record id) → the linked entity's IRI, or None when the source has no such record."""
Territories = Callable[[tuple[str, str]], str | None]
"""(territory class, name) → the territory's IRI, or None when the hub holds no single one."""


class RecordMapper:
    def __init__(self, mapping: ApiMapping, base: str, source: str, base_url: str) -> None:
        self.mapping = mapping
        self.base = base
        self.source = source
        self.base_url = base_url.rstrip("/")
        self.converter = Converter(mapping, base)
        # what every record of a harvest repeats, made once (a harvest maps thousands of records)
        self._prefixes = {
            e.name: f"{base}{e.hub_class.lower()}/{slug(source)}/{e.name}/" for e in mapping.endpoints
        }
        self._types = {e.name: [ox.NamedNode(MLG + c) for c in e.classes] for e in mapping.endpoints}
        self._predicates: dict[str, ox.NamedNode] = {}

    def entity(self, endpoint: Endpoint, record_id: str) -> str:
        return self._prefixes[endpoint.name] + component(record_id)

    def _predicate(self, name: str) -> ox.NamedNode:
        found = self._predicates.get(name)
        if found is None:
            found = self._predicates[name] = ox.NamedNode(property_iri(name))
        return found

    def source_id(self, endpoint: Endpoint, record_id: str) -> str:
        """Ids are unique per endpoint only (a structure and a service may both be "dora--42")."""
        return f"{endpoint.name}/{record_id}"

    def record_id(self, endpoint: Endpoint, item: Any) -> str | None:
        value = walk(item, endpoint.id) if isinstance(item, dict) else None
        if not isinstance(value, str | int) or isinstance(value, bool) or not usable_id(str(value)):
            return None
        if endpoint.id_pattern is None:
            return str(value).strip()
        found = endpoint.id_pattern.search(str(value))
        return found.group(1) if found and found.group(1) else None

    def territory_keys(self, rule: Rule, item: Any) -> list[tuple[str, str]]:
        """(territory class, name) of each value of a territory rule; none when the record's
        level is not one the ``levels`` table names (a country, an ad-hoc area)."""
        if rule.territory in TERRITORY_CLASSES:
            cls: str | None = rule.territory
        else:
            level = walk(item, rule.territory or "")
            cls = self.mapping.codes.get(rule.levels or "", {}).get(str(level)) if level is not None else None
        if cls not in TERRITORY_CLASSES:
            return []
        try:
            names = self.converter.raw_values(rule, item)
        except RuleError:
            return []
        return [(str(cls), name.strip()) for name in names if isinstance(name, str) and name.strip()]

    def kept(self, endpoint: Endpoint, item: Any) -> bool:
        """Whether the record passes the endpoint's ``keep_if`` filters (else it is as if absent)."""
        return all(str(walk(item, path)) in values for path, values in endpoint.keep_if)

    def record(self, endpoint: Endpoint, item: Any, resolve: Resolver,
               territory: Territories = lambda _key: None, license: str | None = None) -> Record:
        record_id = self.record_id(endpoint, item)
        if record_id is None:
            return self._without_id(endpoint, item)
        subject = ox.NamedNode(self.entity(endpoint, record_id))
        triples = [ox.Triple(subject, _RDF_TYPE, cls) for cls in self._types[endpoint.name]]
        extra: list[ox.Triple] = []
        errors: list[str] = []
        for rule in endpoint.rules:
            predicate = self._predicate(rule.property)
            try:
                if rule.link:
                    target = self.mapping.endpoint(rule.link)
                    for value in self.converter.raw_values(rule, item):
                        if not isinstance(value, str | int) or isinstance(value, bool):
                            raise RuleError(
                                f"expected the id of a record of {rule.link}, got {describe(value)}"
                            )
                        iri = resolve(rule.link, str(value))
                        if iri is None:
                            raise RuleError(
                                f"links to {target.name} {str(value)!r}, which the source does not list "
                                f"(unknown {target.hub_class.lower()})"
                            )
                        triples.append(ox.Triple(subject, predicate, ox.NamedNode(iri)))
                    continue
                if rule.territory:
                    for key in self.territory_keys(rule, item):
                        iri = territory(key)
                        if iri is not None:
                            triples.append(ox.Triple(subject, predicate, ox.NamedNode(iri)))
                    continue
                for term in self.converter.terms(rule, item, extra):
                    triples.append(ox.Triple(subject, predicate, term))
            except RuleError as exc:
                if rule.invalid != "skip":
                    errors.append(f"{rule.path}: {exc}")
        for constant in endpoint.constants:
            try:
                term = self.converter.term(constant.datatype, constant.value)
            except RuleError as exc:
                errors.append(f"constant {constant.property}: {exc}")
                continue
            triples.append(ox.Triple(subject, self._predicate(constant.property), term))
        revision = walk(item, endpoint.updated) if endpoint.updated else None
        return Record(
            source=self.source,
            source_id=self.source_id(endpoint, record_id),
            triples=tuple(dict.fromkeys([*triples, *extra])),
            revision=str(revision) if revision not in (None, "") else None,
            retrieved_at=now(),
            connector=CONNECTOR,
            source_url=self._url(endpoint, item, record_id),
            error="; ".join(errors) or None,
            license=license,
        )

    def _url(self, endpoint: Endpoint, item: Any, record_id: str) -> str:
        if endpoint.url:
            found = render(endpoint.url, item, self.base) if "{" in endpoint.url else walk(item, endpoint.url)
            path = found.strip() if isinstance(found, str) else ""
            if path.startswith("/") and not path.startswith("//"):  # a path on the source's site
                found = urljoin(self.base_url + "/", path)           # ("//host/…" names another site)
            if isinstance(found, str) and is_web_address(found.strip()):
                return found.strip()
        return f"{self.base_url}{endpoint.path.rstrip('/')}/{component(record_id)}"

    def _without_id(self, endpoint: Endpoint, item: Any) -> Record:
        digest = hashlib.sha256(json.dumps(item, sort_keys=True, default=str).encode()).hexdigest()[:16]
        return Record(
            source=self.source,
            source_id=f"{endpoint.name}/sans-id-{digest}",
            triples=(),
            connector=CONNECTOR,
            source_url=f"{self.base_url}{endpoint.path}",
            error=f"the record has no usable '{endpoint.id}' (its id: missing, blank, over {MAX_ID} "
            f"characters or holding control characters), so the hub cannot follow it: {describe(item)}",
        )


def usable_id(text: str) -> bool:
    """An id the hub can keep: it names the record in the bookkeeping and the change feed, where
    control characters (a NUL) and megabytes have no place."""
    return bool(text.strip()) and len(text) <= MAX_ID and not _CONTROL.search(text)

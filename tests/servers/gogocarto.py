"""A GoGoCarto map emulator for the connector tests - a TEST DOUBLE, not GoGoCarto.

Usage::

    with running_gogocarto(licence="https://opendatacommons.org/licenses/odbl/summary/") as gogo:
        eid = gogo.add_element("La Base", 45.76, 4.83, address={"postalCode": "69007", ...},
                               categories=["Tiers-lieu"], data={"website": "https://labase.org"})
        gogo.update_element(eid, name="La Base (Lyon 7e)")
        gogo.set_status(eid, DELETED)            # gone from /api/elements.json

FACTS it follows (GoGoCarto, ``src/`` of the Symfony 4 code base as forked in
tdokhelar/ResNatv2 at cf73ca5c, May 2024; the 2018 layout in pixelhumain/GoGoCarto
``src/Biopen/GeoDirectoryBundle`` has the same envelope without ``licence``):

- ``config/routes/gogo_api.yaml``: ``GET /api/elements.{_format}`` (json by default, so
  ``/api/elements`` too) and ``/api/elements/{id}.{_format}``; no authentication, no paging
  (``limit`` only cuts the list); ``Access-Control-Allow-Origin: *``.
- ``src/Controller/APIController.php`` ``getElementsAction``: the body is written by string
  concatenation: ``{"licence": "<Configuration::dataLicenseUrl>", "ontology":"gogofull",
  "data":[...]}`` (``licence`` unescaped: whatever the administrator typed, ODbL's summary page by
  default, ``src/Document/Configuration.php``); one element by id: ``"data"`` is the element
  object, and an unknown id answers **500** ``{ "error": "Element does not exists" }``.
- ``src/Repository/ElementRepository.php`` ``findAllPublics``/``filterVisibles``: only elements
  with ``status >= -1`` (PendingModification) and ``moderationState`` 0 are listed: a deleted
  (-4), refused (-2 admin, -3 collaborative), duplicate (-6) or aggregated (-7) element leaves the
  list; a pending addition (0) is listed. ``filterWithRequest``: ``categories`` (option ids),
  ``excludeExternal``, ``limit``. Statuses and moderation states: ``src/Document/Element.php``.
- ``src/EventListener/ElementJsonGenerator.php`` ``updateJsonRepresentation``: each element's
  ``baseJson``, in order: ``id``, ``name``, ``geo`` (``Coordinates::toJson``:
  ``{"latitude":..,"longitude":..}``, ``Coordinates::round``: ``($geo * 1000000) % (180 * 1000000) /
  1000000``, so 6 decimals, and a latitude of 123.4 stays 123.4), ``sourceKey``, ``address``
  (``PostalAddress::toJson``: streetNumber, streetAddress, addressLocality, postalCode,
  addressCountry, customFormatedAddress, each only when set), ``openHours`` - each only when
  truthy; ``createdAt``, ``updatedAt`` (ATOM; createdAt when never updated), ``status`` (an
  integer), ``moderationState`` when not 0, ``categories`` (option names),
  ``categoriesFull`` ({id, name, description, index}; ``OptionValue::toJson``), the map's custom
  fields (``data``: description, website, telephone...; private ones left out), ``images``,
  ``files``, and ``"email":"private"`` when the e-mail is a private property and the element is
  not pending. Values go through PHP ``json_encode`` (``\\/`` and ``\\uXXXX`` escapes).

GUESSES: the order of the list (MongoDB's natural order: insertion); element ids (GoGoCarto's
``ALNUM`` strategy gives short base-36 strings; here ``e1``, ``e2``...).
"""

from __future__ import annotations

import itertools
import json
import math
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from tests.servers.api_emulator import Clock, Faults, app_for
from tests.servers.common import serving

# src/Document/Element.php, ElementStatus and ModerationState
AGGREGATED, DUPLICATE, DELETED, COLLABORATIVE_REFUSED, ADMIN_REFUSED = -7, -6, -4, -3, -2
PENDING_MODIFICATION, PENDING_ADD, ADMIN_VALIDATE, IMPORTED = -1, 0, 1, 7
ODBL = "https://opendatacommons.org/licenses/odbl/summary/"
ADDRESS_KEYS = ("streetNumber", "streetAddress", "addressLocality", "postalCode", "addressCountry",
                "customFormatedAddress")


def rounded(geo: float) -> float:
    """``Coordinates::round``: PHP's ``%`` works on integers and keeps the dividend's sign."""
    return math.fmod(int(geo * 1_000_000), 180 * 1_000_000) / 1_000_000


def php_json(value: Any) -> str:
    """PHP ``json_encode`` with no flags: ``/`` escaped, non-ASCII as ``\\uXXXX``."""
    return json.dumps(value, ensure_ascii=True, separators=(",", ":")).replace("/", "\\/")


@dataclass
class Element:
    """One element of the map as GoGoCarto stores it."""

    id: str
    name: str
    latitude: float
    longitude: float
    created: datetime
    updated: datetime | None = None
    status: int = ADMIN_VALIDATE
    moderation: int = 0
    source_key: str | None = None
    address: dict[str, str] = field(default_factory=dict)
    categories: list[tuple[int, str]] = field(default_factory=list)
    """(option id, option name)."""
    data: dict[str, Any] = field(default_factory=dict)
    """The map's custom fields (description, website, telephone...)."""
    email: str | None = None
    external: bool = False


@dataclass(eq=False)
class GoGoCarto:
    """A running emulated GoGoCarto map: its base URL and the handles tests drive it with."""

    url: str = ""
    licence: str = ODBL
    private_properties: tuple[str, ...] = ("email",)
    """Configuration::api.publicApiPrivateProperties."""
    clock: Clock = field(default_factory=Clock)
    faults: Faults = field(default_factory=lambda: Faults(malformed_body=b'{\n  "licence": "https:\\/\\/open'))
    elements: dict[str, Element] = field(default_factory=dict)
    options: dict[str, int] = field(default_factory=dict)
    _ids: Iterator[int] = field(default_factory=lambda: itertools.count(1))

    @property
    def requests(self) -> list[Any]:
        return self.faults.requests

    def fail_next(self, *args: Any, **kwargs: Any) -> None:
        self.faults.fail_next(*args, **kwargs)

    # ------------------------------------------------------------ test API

    def add_element(self, name: str, latitude: float, longitude: float, *, address: dict[str, str] | None = None,
                    categories: list[str] | None = None, data: dict[str, Any] | None = None,
                    status: int = ADMIN_VALIDATE, source_key: str | None = None, email: str | None = None,
                    id: str | None = None) -> str:
        """An element as a contributor or an import adds it; returns its id."""
        with self.faults.lock:
            eid = id or f"e{next(self._ids)}"
            self.elements[eid] = Element(
                eid, name, latitude, longitude, self.clock.now, None, status, 0, source_key, dict(address or {}),
                [(self._option(c), c) for c in categories or []], dict(data or {}), email)
            return eid

    def update_element(self, eid: str, **changes: Any) -> None:
        """An edit: attributes of :class:`Element` (``categories`` as names); bumps updatedAt."""
        with self.faults.lock:
            element = self.elements[eid]
            for key, value in changes.items():
                if key == "categories":
                    value = [(self._option(c), c) for c in value]
                if not hasattr(element, key):
                    raise AttributeError(key)
                setattr(element, key, value)
            element.updated = self.clock.now

    def set_status(self, eid: str, status: int) -> None:
        """A moderator's decision (deleted, refused, validated...)."""
        self.update_element(eid, status=status)

    def remove(self, eid: str) -> None:
        """The element is gone from the database (a hard delete by an import)."""
        with self.faults.lock:
            del self.elements[eid]

    # ------------------------------------------------------------ serialisation

    def _option(self, name: str) -> int:
        return self.options.setdefault(name, 10000 + len(self.options))

    def base_json(self, e: Element) -> str:
        """``ElementJsonGenerator::updateJsonRepresentation``'s baseJson, braces included."""
        parts = [f'"id":{php_json(e.id)}', f'"name":{php_json(e.name)}',
                 f'"geo":{{"latitude":{rounded(e.latitude)},"longitude":{rounded(e.longitude)}}}']
        if e.source_key:
            parts.append(f'"sourceKey":{php_json(e.source_key)}')
        address = [f'"{k}":{php_json(e.address[k])}' for k in ADDRESS_KEYS if e.address.get(k)]
        if address:
            parts.append('"address":{' + ", ".join(address) + "}")
        parts.append(f'"createdAt":"{e.created.isoformat()}"')
        parts.append(f'"updatedAt":"{(e.updated or e.created).isoformat()}"')
        parts.append(f'"status":{e.status}')
        if e.moderation != 0:
            parts.append(f'"moderationState":{e.moderation}')
        parts.append('"categories": ' + php_json([name for _id, name in e.categories]))
        if e.categories:
            full = [f'{{"id":{oid}, "name":{php_json(name)}, "description":"", "index":{i}}}'
                    for i, (oid, name) in enumerate(e.categories)]
            parts.append('"categoriesFull": [' + ",".join(full) + "]")
        for key, value in e.data.items():
            if key not in self.private_properties:
                parts.append(f'"{key}": {php_json(value)}')
        if "email" in self.private_properties and e.email and e.status not in (PENDING_ADD, PENDING_MODIFICATION):
            parts.append('"email":"private"')
        return "{" + ",".join(parts) + "}"

    def listed(self, query: dict[str, str]) -> list[Element]:
        """``findAllPublics``: visible statuses, no moderation needed, then the request's filters."""
        shown = [e for e in self.elements.values() if e.status >= PENDING_MODIFICATION and e.moderation == 0]
        if query.get("categories"):
            wanted = {int(float(c)) for c in query["categories"].split(",")}
            shown = [e for e in shown if wanted & {oid for oid, _name in e.categories}]
        if query.get("excludeExternal"):
            shown = [e for e in shown if not e.external]
        if query.get("limit") and int(query["limit"]) > 0:
            shown = shown[: int(query["limit"])]
        return shown

    # ------------------------------------------------------------ HTTP

    async def handle(self, request: Request) -> Response:
        path, query = request.url.path, dict(request.query_params)
        ontology = (query.get("ontology") or "gogofull").lower()
        with self.faults.lock:
            if path in ("/api/elements.json", "/api/elements"):
                data = "[" + ",".join(self.base_json(e) for e in self.listed(query)) + "]"
            elif path.startswith("/api/elements/") and path.endswith(".json"):
                element = self.elements.get(path.removeprefix("/api/elements/").removesuffix(".json"))
                if element is None:
                    return _answer('{ "error": "Element does not exists" }', 500)
                data = self.base_json(element)
            else:
                return Response("<!DOCTYPE html><title>GoGoCarto</title><h1>Page introuvable</h1>", 404,
                                media_type="text/html")
        body = f'{{\n                "licence": "{self.licence}",\n                "ontology":"{ontology}",\n' \
               f'                "data":{data}}}'
        return _answer(body)


def _answer(body: str, status: int = 200) -> Response:
    return Response(body.encode(), status, headers={"Access-Control-Allow-Origin": "*"},
                    media_type="application/json")


@contextmanager
def running_gogocarto(licence: str = ODBL) -> Iterator[GoGoCarto]:
    """A fresh emulated GoGoCarto map on a free loopback port, stopped afterwards."""
    gogo = GoGoCarto(licence=licence)
    with serving(app_for(gogo.faults, gogo.handle), "gogocarto") as url:
        gogo.url = url
        yield gogo

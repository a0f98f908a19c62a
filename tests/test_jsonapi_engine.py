"""The jsonapi engine's other ways of talking to an API, each with a mapping written in the test
the way an operator writes one: a token exchange and ``next`` links (the Aides-territoires
emulator, tests/servers/aides_territoires.py), cursors, offsets, an updated-since filter, API-key
headers and the rules data·inclusion does not need (templates, split strings, date formats,
filters, constants), on a small local API served in the test."""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from starlette.requests import Request
from starlette.responses import Response

from hub.config import SourceSettings
from hub.meta.quarantine import list_quarantine
from tests.harness import HubUnderTest, Source
from tests.servers.aides_territoires import AidesTerritoires, running_aides_territoires
from tests.servers.api_emulator import Faults, app_for
from tests.servers.common import serving

AIDS_MAPPING = """
[auth]
kind = "token_exchange"
url = "/api/connexion/"
headers = { "X-AUTH-TOKEN" = "api_key_env" }
token_field = "token"

[[endpoints]]
name = "aids"
path = "/api/aids/"
class = "Grant"
records = "results"
id = "id"
updated = "date_updated"
url = "https://aides-territoires.beta.gouv.fr{url}"
params = { itemsPerPage = "2" }
paging = { kind = "next", next = "next", total = "count" }
[endpoints.fields]
name = "name"
description = "description"
submission_deadline = { property = "applicationDeadline", datatype = "date" }
"""


def source(tmp_path: Path, url: str, mapping: str, env: dict[str, str] | None = None,
           credentials: dict[str, str] | None = None, **options: object) -> Source:
    path = tmp_path / "mapping.toml"
    path.write_text(mapping, encoding="utf-8")
    settings = SourceSettings(name="api", kind="jsonapi", url=url, mapping=str(path), direction="read",
                              credentials=credentials or {}, options={"retry_wait": 0.05, "timeout": 2, **options})
    return Source(settings, env or {})


@pytest.fixture
def aides() -> Iterator[AidesTerritoires]:
    with running_aides_territoires() as at:
        yield at


def test_a_token_exchange_then_next_links(aides: AidesTerritoires, tmp_path: Path,
                                          monkeypatch: pytest.MonkeyPatch) -> None:
    key = aides.add_user("agent@collectivite.fr")
    ids = [aides.add_aid(f"Aide aux tiers-lieux {i}", description=f"Aide numéro {i}.") for i in range(5)]
    hub = HubUnderTest(source(tmp_path, aides.url, AIDS_MAPPING, {"AT_KEY": key}, {"api_key_env": "AT_KEY"}),
                       monkeypatch=monkeypatch)
    assert hub.sync().read.created == 5
    listing = [r for r in aides.requests if r.path == "/api/aids/"]
    assert len(listing) == 3, "five aids, two a page, followed through `next`"
    exchanges = [r for r in aides.requests if r.path == "/api/connexion/"]
    assert len(exchanges) == 1 and all("x-auth-token" not in r.headers for r in listing), \
        "the API key goes to the exchange only; pages get the bearer token"
    assert hub.values(hub.entity(f"aids/{ids[0]}"), "name") == {"Aide aux tiers-lieux 0"}
    aides.expire_jwts()
    assert hub.sync().error is None, "an expired token is exchanged again"
    assert len([r for r in aides.requests if r.path == "/api/connexion/"]) == 2
    aides.revoke(key)
    aides.expire_jwts()
    refused = hub.sync(ok=False)
    assert refused.error is not None and "refused the credentials" in refused.error and "api_key_env" in refused.error
    assert hub.holds(hub.entity(f"aids/{ids[0]}")), "nothing lost"


@dataclass
class SmallApi:
    """A small API of the shapes data·inclusion does not use: an envelope ``{"data", "next_cursor"}``
    for /cursor, ``{"rows", "total"}`` with offset/limit for /offset, an ``updated_after`` filter,
    and an ``X-Api-Key`` header."""

    key: str = "cle-api"
    rows: dict[str, dict[str, Any]] = field(default_factory=dict)
    faults: Faults = field(default_factory=Faults)
    url: str = ""

    def put(self, key: str, **values: Any) -> None:
        self.rows[key] = {"uid": key, **values}

    async def handle(self, request: Request) -> Response:
        if request.headers.get("x-api-key") != self.key:
            return Response('{"error": "invalid key"}', 403, media_type="application/json")
        query = dict(request.query_params)
        rows = sorted(self.rows.values(), key=lambda r: r["uid"])
        if "updated_after" in query:
            rows = [r for r in rows if r["modifie"] > query["updated_after"]]
        if request.url.path == "/cursor":
            after, limit = query.get("cursor", ""), int(query.get("limit", 2))
            page = [r for r in rows if r["uid"] > after][:limit]
            more = len([r for r in rows if r["uid"] > after]) > limit
            body = {"data": page, "next_cursor": page[-1]["uid"] if more else None}
        else:
            offset, limit = int(query.get("offset", 0)), int(query.get("limit", 2))
            body = {"rows": rows[offset: offset + limit], "total": len(rows)}
        return Response(json.dumps(body), media_type="application/json")


@pytest.fixture
def small() -> Iterator[SmallApi]:
    api = SmallApi()
    with serving(app_for(api.faults, api.handle), "small-api") as url:
        api.url = url
        yield api


SMALL_MAPPING = """
[auth]
kind = "header"
header = "X-Api-Key"
token = "key_env"

[[endpoints]]
name = "lieux"
path = "/cursor"
class = "Place"
records = "data"
id = "uid"
updated = "modifie"
updated_since = { param = "updated_after", format = "%Y-%m-%dT%H:%M:%S" }
url = "https://lieux.example.org/lieu/{uid}"
keep_if = { "statut" = ["publie"] }
paging = { kind = "cursor", cursor = "cursor", next = "next_cursor", size = "limit", size_value = 2 }
[endpoints.constants]
placeKind = "tiers-lieu"
[endpoints.fields]
"titre" = "name"
"infos.resume" = "shortDescription"
"infos.mots" = { property = "keyword", datatype = "string", split = ";" }
"ouverture" = { property = "dateCreated", datatype = "date", format = "%d/%m/%Y" }
"liens.*.href" = { property = "url", datatype = "iri", list = true }
"""


def test_cursors_api_keys_updated_since_and_the_other_rules(small: SmallApi, tmp_path: Path,
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for i in range(5):
        small.put(f"lieu-{i}", titre=f"La Fabrique {i}", statut="publie", modifie="2026-11-01T10:00:00",
                  infos={"resume": "Un tiers-lieu.", "mots": "atelier; café ;numérique"},
                  ouverture="14/07/2019", liens=[{"href": f"https://fabrique{i}.example.org/"}])
    small.put("lieu-brouillon", titre="Brouillon", statut="brouillon", modifie="2026-11-01T10:00:00")
    hub = HubUnderTest(source(tmp_path, small.url, SMALL_MAPPING, {"KEY": small.key}, {"key_env": "KEY"}),
                       monkeypatch=monkeypatch)
    assert hub.sync().read.created == 5, "the draft is filtered out by keep_if"
    entity = hub.entity("lieux/lieu-0")
    assert hub.values(entity, "keyword") == {"atelier", "café", "numérique"}
    assert hub.values(entity, "dateCreated") == {"2019-07-14"}
    assert hub.values(entity, "url") == {"https://fabrique0.example.org/"}
    assert hub.values(entity, "placeKind") == {"tiers-lieu"}
    pages = [r.query.get("cursor") for r in small.faults.requests if r.path == "/cursor"]
    assert pages == [None, "lieu-1", "lieu-3"]
    small.rows["lieu-2"].update(titre="La Fabrique deux", modifie="2099-01-01T00:00:00")
    small.faults.requests.clear()
    changed = hub.sync()
    assert (changed.read.created, changed.read.updated, changed.read.unchanged) == (0, 1, 0), \
        "an increment asks only for what changed"
    assert all("updated_after" in r.query for r in small.faults.requests)
    assert hub.values(hub.entity("lieux/lieu-2"), "name") == {"La Fabrique deux"}
    small.rows["lieu-3"]["statut"] = "refuse"
    assert hub.sync(full=True).read.deleted == 1, "a full pass drops what keep_if no longer keeps"
    small.rows["lieu-4"]["ouverture"] = "2019-07-14"
    full = hub.sync(full=True)
    assert full.read.quarantined == 1
    [entry] = list_quarantine(hub.store, "api")
    assert entry.source_id == "lieux/lieu-4" and "%d/%m/%Y" in entry.reason


OFFSET_MAPPING = """
[auth]
kind = "header"
header = "X-Api-Key"
token = "key_env"

[[endpoints]]
name = "orgs"
path = "/offset"
class = "Organization"
records = "rows"
id = "uid"
paging = { kind = "offset", offset = "offset", size = "limit", size_value = 2, total = "total" }
[endpoints.fields]
titre = "name"
parent = { property = "memberOf", link = "orgs" }
"""


def test_offsets_links_within_an_endpoint_and_a_wrong_key(small: SmallApi, tmp_path: Path,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    small.put("a-reseau", titre="Réseau des tiers-lieux", modifie="")
    for i in range(4):
        small.put(f"b-membre-{i}", titre=f"Membre {i}", parent="a-reseau", modifie="")
    hub = HubUnderTest(source(tmp_path, small.url, OFFSET_MAPPING, {"KEY": small.key}, {"key_env": "KEY"}),
                       monkeypatch=monkeypatch)
    assert hub.sync().read.created == 5
    assert [r.query["offset"] for r in small.faults.requests] == ["0", "2", "4"]
    assert hub.values(hub.entity("orgs/b-membre-3"), "memberOf") == {hub.entity("orgs/a-reseau")}
    monkeypatch.setenv("KEY", "mauvaise-cle")
    refused = hub.sync(ok=False)
    assert refused.error is not None and "HTTP 403" in refused.error

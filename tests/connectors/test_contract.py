"""Every connector against the same contract (connectors.base.testing): one class per connector,
each declaring only how a person drives its source. The real servers are the session's (MediaWiki)
or one emulator per test (Communecter starts in a fraction of a second)."""

from __future__ import annotations

import dataclasses
import itertools
from collections.abc import Iterator
from typing import Any

import httpx
import mwparserfromhell
import pytest

from connectors.base.memory import MemorySource
from connectors.base.testing import ConnectorContract
from hub.config import SourceSettings
from hub.sync import registry
from hub.vocab import MLG
from tests.harness import (
    BOT_EMAIL,
    BOT_PASSWORD,
    HubUnderTest,
    Source,
    communecter_source,
    jsonapi_source,
    mediawiki_source,
    website_source,
)
from tests.servers import aides_territoires, gogocarto
from tests.servers.aides_territoires import AidesTerritoires
from tests.servers.communecter import Communecter, running_communecter
from tests.servers.data_inclusion import DataInclusion, running_data_inclusion
from tests.servers.gogocarto import GoGoCarto
from tests.servers.hub import ServedHub, serving
from tests.servers.mediawiki import Wiki
from tests.servers.website import Site, html_page, organization, running_site


class MemoryDriver:
    """A person at the in-memory source: the reference every real connector is held to."""

    hub_class = "Organization"
    text = "shortDescription"

    def __init__(self, key: str) -> None:
        self.source = MemorySource(key)

    def create_item(self, name: str, text: str) -> str:
        return self.source.create_item(self.hub_class, name=name, shortDescription=text)

    def edit_item(self, key: str, text: str) -> None:
        self.source.edit_item(key, shortDescription=text)

    def delete_item(self, key: str) -> None:
        self.source.delete_item(key)

    def items(self) -> dict[str, dict[str, str]]:
        return {key: dict(item.fields) for key, item in self.source.items.items() if item.cls == self.hub_class}


def _hub_reading(source: Source, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
    """The ``hub`` fixture of every contract run: a test hub reading ``source``, closed after."""
    hub = HubUnderTest(source, monkeypatch=monkeypatch)
    yield hub
    hub.close()


class TestMemory(ConnectorContract):
    @pytest.fixture
    def driver(self, request: pytest.FixtureRequest) -> MemoryDriver:
        return MemoryDriver(request.node.name)

    @pytest.fixture
    def hub(self, driver: MemoryDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        monkeypatch.setitem(registry.BUILTIN, "memory", "connectors.base.memory")
        settings = SourceSettings(name="memoire", kind="memory", url=driver.source.url, direction="both")
        yield from _hub_reading(Source(settings), monkeypatch)


class CommunecterDriver:
    """A person on the platform (the emulator), editing organisations."""

    hub_class = "Organization"
    text = "shortDescription"

    def __init__(self, platform: Communecter) -> None:
        self.platform = platform

    def create_item(self, name: str, text: str) -> str:
        return self.platform.add_element("organizations", {"name": name, "type": "NGO", "shortDescription": text})

    def edit_item(self, key: str, text: str) -> None:
        self.platform.clock.advance(60)  # the platform's dates say what changed since when
        self.platform.update_element("organizations", key, {"shortDescription": text})

    def delete_item(self, key: str) -> None:
        self.platform.clock.advance(60)
        self.platform.delete_element("organizations", key)

    def items(self) -> dict[str, dict[str, str]]:
        def key(element: dict[str, Any]) -> str:
            raw = element["_id"]
            return str(raw["$id"] if isinstance(raw, dict) else raw)

        return {key(e): {"name": str(e.get("name")), "shortDescription": str(e.get("shortDescription", ""))}
                for e in self.platform.elements("organizations") if e.get("state") != "deleted"}


class TestCommunecter(ConnectorContract):
    @pytest.fixture
    def driver(self) -> Iterator[CommunecterDriver]:
        with running_communecter() as platform:
            platform.add_user(BOT_EMAIL, BOT_PASSWORD, "maillage-bot")
            yield CommunecterDriver(platform)

    @pytest.fixture
    def hub(self, driver: CommunecterDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        yield from _hub_reading(communecter_source(driver.platform, max_retries=3, timeout=2), monkeypatch)


class WikiDriver:
    """A person on the session's MediaWiki, editing {{Ressource}} pages whose titles start with
    "Contrat" (the other test modules' pages are left alone, and the suite lists only its own)."""

    hub_class = "Commons"
    text = "shortDescription"

    def __init__(self, wiki: Wiki) -> None:
        self.wiki = wiki

    def create_item(self, name: str, text: str) -> str:
        self.wiki.edit_as_human(name, f"{{{{Ressource\n|Title={name}\n|shortDescription={text}\n}}}}\nTexte.")
        return name

    def edit_item(self, key: str, text: str) -> None:
        code = mwparserfromhell.parse(self.wiki.page_text(key))
        [template] = code.filter_templates(matches=lambda t: t.name.matches("Ressource"))
        template.add("shortDescription", text)
        self.wiki.edit_as_human(key, str(code), "edit")

    def delete_item(self, key: str) -> None:
        self.wiki.delete(key, "contract")

    def items(self) -> dict[str, dict[str, str]]:
        pages = self.wiki.api(action="query", list="allpages", apprefix="Contrat", aplimit="max")
        found: dict[str, dict[str, str]] = {}
        for page in pages["query"]["allpages"]:
            code = mwparserfromhell.parse(self.wiki.page_text(page["title"]))
            for template in code.filter_templates(matches=lambda t: t.name.matches("Ressource")):
                found[page["title"]] = {
                    str(p.name).strip(): str(p.value).strip() for p in template.params}
                found[page["title"]]["name"] = found[page["title"]].pop("Title", page["title"])
        return found


class TestMediaWiki(ConnectorContract):
    @pytest.fixture
    def driver(self, wiki: Wiki) -> WikiDriver:
        return WikiDriver(wiki)

    @pytest.fixture
    def hub(self, driver: WikiDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        yield from _hub_reading(mediawiki_source(driver.wiki, max_retries=3, timeout=5), monkeypatch)


class PeerDriver:
    """A person writing to a peer hub through its Graph Store API: one graph per place. The
    peer-hub connector only reads, so it runs the read half of the contract."""

    hub_class = "Place"
    text = "shortDescription"
    numbers = itertools.count()

    def __init__(self, peer: ServedHub) -> None:
        self.peer = peer
        self.names: dict[str, str] = {}

    def _put(self, key: str, name: str, text: str) -> None:
        subject = key.replace("/graph/", "/place/")
        turtle = (f'<{subject}> a <{MLG}Place> ; <{MLG}name> "{name}"@fr ; '
                  f'<{MLG}shortDescription> "{text}"@fr .')
        response = httpx.put(f"{self.peer.url}/store", params={"graph": key}, content=turtle,
                             headers={"Content-Type": "text/turtle", **self.peer.auth})
        assert response.status_code in (200, 201, 204), response.text

    def create_item(self, name: str, text: str) -> str:
        key = f"https://example.org/graph/contrat/{next(self.numbers)}"
        self.names[key] = name
        self._put(key, name, text)
        return key

    def edit_item(self, key: str, text: str) -> None:
        self._put(key, self.names[key], text)

    def delete_item(self, key: str) -> None:
        response = httpx.delete(f"{self.peer.url}/store", params={"graph": key}, headers=self.peer.auth)
        assert response.status_code in (200, 204), response.text
        del self.names[key]

    def items(self) -> dict[str, dict[str, str]]:
        raise NotImplementedError("the peer hub is only read")


@pytest.fixture(scope="module")
def peer(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """One served peer hub for the module: each test makes its own graphs on it."""
    data = tmp_path_factory.mktemp("peer") / "data"
    with serving(data, '[hub]\nbase_iri = "https://peer.example.org/id/"\n', demo=False) as served:
        yield served


class TestPeerHub(ConnectorContract):
    writes = False
    guards_deletions = False

    @pytest.fixture
    def driver(self, peer: ServedHub) -> PeerDriver:
        return PeerDriver(peer)

    @pytest.fixture
    def hub(self, driver: PeerDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        settings = SourceSettings(name="pair", kind="hub", url=driver.peer.url, direction="read")
        yield from _hub_reading(Source(settings), monkeypatch)


class WebsiteDriver:
    """A person publishing an organisation's page, with schema.org JSON-LD, on a static site
    (tests/servers/website.py); the page's URL is its key. A website is only read: the read half."""

    hub_class = "Organization"
    text = "shortDescription"
    numbers = itertools.count()

    def __init__(self, site: Site) -> None:
        self.site = site
        self.pages: dict[str, tuple[str, str]] = {}

    def _publish(self, path: str, name: str, text: str) -> str:
        return self.site.put(path, html_page(organization(name, description=text)))

    def create_item(self, name: str, text: str) -> str:
        path = f"/associations/{next(self.numbers)}.html"
        key = self._publish(path, name, text)
        self.pages[key] = (path, name)
        return key

    def edit_item(self, key: str, text: str) -> None:
        path, name = self.pages[key]
        self._publish(path, name, text)

    def delete_item(self, key: str) -> None:
        self.site.remove(self.pages.pop(key)[0])

    def items(self) -> dict[str, dict[str, str]]:
        raise NotImplementedError("the hub only reads a website")


class TestWebsite(ConnectorContract):
    writes = False

    @pytest.fixture
    def driver(self) -> Iterator[WebsiteDriver]:
        with running_site() as site:
            yield WebsiteDriver(site)

    @pytest.fixture
    def hub(self, driver: WebsiteDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        yield from _hub_reading(website_source(driver.site), monkeypatch)


class DataInclusionDriver:
    """A producer publishing structures through data·inclusion (the emulator); the hub reads
    them with the declarative jsonapi connector and the shipped mapping, and never writes."""

    hub_class = "Organization"
    text = "description"

    def __init__(self, api: DataInclusion) -> None:
        self.api = api

    def create_item(self, name: str, text: str) -> str:
        return "structures/" + self.api.add_structure(nom=name, description=text)

    def edit_item(self, key: str, text: str) -> None:
        self.api.update(key.removeprefix("structures/"), description=text)

    def delete_item(self, key: str) -> None:
        self.api.delete(key.removeprefix("structures/"))

    def items(self) -> dict[str, dict[str, str]]:
        return {f"structures/{key}": {"name": s["nom"], "description": s["description"] or ""}
                for key, s in self.api.structures.items()}


class TestJsonApi(ConnectorContract):
    writes = False

    @pytest.fixture
    def driver(self) -> Iterator[DataInclusionDriver]:
        with running_data_inclusion() as api:
            yield DataInclusionDriver(api)

    @pytest.fixture
    def hub(self, driver: DataInclusionDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        yield from _hub_reading(jsonapi_source(driver.api, retry_wait=0.05, timeout=2), monkeypatch)


class GoGoCartoDriver:
    """A contributor on a GoGoCarto map (the emulator); the hub reads the map's elements with the
    shipped mapping, and never writes. A deletion is the moderators' status, as on the map."""

    hub_class = "Place"
    text = "description"

    def __init__(self, gogo: GoGoCarto) -> None:
        self.gogo = gogo

    def create_item(self, name: str, text: str) -> str:
        return "elements/" + self.gogo.add_element(name, 45.75, 4.85, data={"description": text})

    def edit_item(self, key: str, text: str) -> None:
        self.gogo.clock.advance(60)
        self.gogo.update_element(key.removeprefix("elements/"), data={"description": text})

    def delete_item(self, key: str) -> None:
        self.gogo.set_status(key.removeprefix("elements/"), gogocarto.DELETED)

    def items(self) -> dict[str, dict[str, str]]:
        return {f"elements/{e.id}": {"name": e.name, "description": str(e.data.get("description", ""))}
                for e in self.gogo.listed({})}


class TestGoGoCarto(ConnectorContract):
    writes = False

    @pytest.fixture
    def driver(self) -> Iterator[GoGoCartoDriver]:
        with gogocarto.running_gogocarto() as gogo:
            yield GoGoCartoDriver(gogo)

    @pytest.fixture
    def hub(self, driver: GoGoCartoDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        source = jsonapi_source(driver.gogo, name="carte", mapping="mappings/gogocarto.toml", token="",
                                retry_wait=0.05, timeout=2)
        yield from _hub_reading(Source(dataclasses.replace(source.settings, credentials={}), {}), monkeypatch)


class AidesTerritoiresDriver:
    """An editor publishing aids on Aides-territoires (the emulator); the hub reads them with the
    shipped mapping, and never writes. The platform caches its listing for the day: an edit is
    seen once its search-cache cron ran (``clear_cache``)."""

    hub_class = "Grant"
    text = "description"

    def __init__(self, at: AidesTerritoires) -> None:
        self.at = at
        self.key = at.add_user("agent@collectivite.example.fr")

    def create_item(self, name: str, text: str) -> str:
        key = self.at.add_aid(name, description=text)
        self.at.clear_cache()
        return f"aids/{key}"

    def edit_item(self, key: str, text: str) -> None:
        self.at.update_aid(int(key.removeprefix("aids/")), description=text)
        self.at.clear_cache()

    def delete_item(self, key: str) -> None:
        self.at.update_aid(int(key.removeprefix("aids/")), status="deleted")
        self.at.clear_cache()

    def items(self) -> dict[str, dict[str, str]]:
        return {f"aids/{a.id}": {"name": a.name, "description": str(a.values.get("description") or "")}
                for a in self.at.aids.values() if a.status == "published"}


class TestAidesTerritoires(ConnectorContract):
    writes = False

    @pytest.fixture
    def driver(self) -> Iterator[AidesTerritoiresDriver]:
        with aides_territoires.running_aides_territoires() as at:
            yield AidesTerritoiresDriver(at)

    @pytest.fixture
    def hub(self, driver: AidesTerritoiresDriver, monkeypatch: pytest.MonkeyPatch) -> Iterator[HubUnderTest]:
        source = jsonapi_source(driver.at, name="at", mapping="mappings/aides-territoires.toml",
                                token=driver.key, retry_wait=0.05, timeout=2)
        yield from _hub_reading(source, monkeypatch)

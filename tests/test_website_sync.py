"""The website connector against a real HTTP server holding a small static site
(tests/servers/website.py): schema.org JSON-LD and microdata mapped to the hub's classes, robots.txt
obeyed, only the source's hosts contacted, conditional GETs, changes and removals, broken pages
reported without stopping the sync, identity with another source, and a served hub syncing it.
What every connector must do is checked by tests/connectors/test_contract.py."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.meta.changelog import last_sequence, read_changes
from hub.meta.quarantine import list_quarantine
from hub.pipeline.ingest import Ingestor
from hub.records import Record
from hub.vocab import MLG, OWL_SAME_AS, RDF_TYPE
from tests.harness import HubUnderTest, website_source
from tests.servers.common import free_port
from tests.servers.hub import serving
from tests.servers.website import Site, html_page, organization, running_site

HOME = "https://lafabrique.example.org/"
MICRODATA = """<div itemscope itemtype="https://schema.org/LocalBusiness">
  <span itemprop="name">Café-atelier du Canal</span>
  <span itemprop="description">Un café associatif où l'on répare.</span>
  <div itemprop="address" itemscope itemtype="https://schema.org/PostalAddress">
    <span itemprop="postalCode">69003</span> <span itemprop="addressLocality">Lyon</span></div></div>"""


def fabrique(site: Site, **extra: object) -> dict[str, object]:
    return organization(
        "La Fabrique", **{"@id": f"{site.url}/association.html#org"}, url=HOME,
        description="Tiers-lieu associatif de la Croix-Rousse.", email="mailto:contact@lafabrique.example.org",
        sameAs=["https://www.wikidata.org/wiki/Q90"],
        address={"@type": "PostalAddress", "streetAddress": "12 rue des Tables", "postalCode": "69001",
                 "addressLocality": "Lyon"},
        geo={"@type": "GeoCoordinates", "latitude": 45.7676, "longitude": "4.8344"}, **extra)


def repair_cafe(site: Site, start: str = "2026-12-12T14:00:00+01:00") -> dict[str, object]:
    return {"@context": "https://schema.org", "@type": "SocialEvent", "name": "Repair café",
            "description": "On répare ensemble.", "startDate": start,
            "organizer": {"@type": "Organization", "@id": f"{site.url}/association.html#org", "name": "La Fabrique"},
            "location": {"@type": "Place", "name": "La Fabrique",
                         "address": {"@type": "PostalAddress", "postalCode": "69004", "addressLocality": "Lyon"}}}


def build(site: Site) -> dict[str, str]:
    """The little site every test starts from; name → page URL."""
    pages = {
        "association": site.put("/association.html", html_page(fabrique(site))),
        "lieu": site.put("/lieu.html", html_page({
            "@context": "https://schema.org", "@graph": [{
                "@type": "Place", "@id": f"{site.url}/lieu.html#lieu", "name": "Atelier du bas",
                "description": "L'atelier bois et métal.", "latitude": "45.77", "longitude": "4.83"}]})),
        "agenda": site.put("/agenda/repair-cafe.html", html_page(repair_cafe(site))),
        "microdata": site.put("/canal.html", html_page(body=MICRODATA)),
        "prive": site.put("/prive/membres.html", html_page(organization("Liste des membres"))),
        "casse": site.put("/casse.html", html_page('{"@context": "https://schema.org", "@type": "Event", "name": ')),
        "erreur": site.fail("/erreur.html", 500),
        "texte": site.put("/texte.html", html_page(body="<p>Pas de données ici.</p>")),
        "invalide": site.put("/invalide.html", html_page(
            organization("", description="Sans nom."),
            {"@context": "https://schema.org", "@type": "Place", "@id": "#perdu", "name": "Lieu perdu",
             "description": "Quelque part.", "geo": {"latitude": 123.4, "longitude": 4.8}})),
    }
    port = site.url.rsplit(":", 1)[1]
    site.extra_sitemap.append(f"http://localhost:{port}/ailleurs.html")  # same server, another host name
    return pages


@pytest.fixture
def site() -> Iterator[Site]:
    with running_site() as server:
        yield server


def _is(hub: HubUnderTest, entity: str, cls: str) -> bool:
    return hub.store.ask(f"ASK {{ <{entity}> <{RDF_TYPE}> <{MLG}{cls}> }}")


def test_a_site_is_read_politely_and_mapped(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    hub = HubUnderTest(website_source(site), monkeypatch=monkeypatch)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (4, 4), report.summary()

    org = hub.entity(pages["association"])
    assert _is(hub, org, "Organization")
    assert hub.values(org, "name") == {"La Fabrique"}
    assert hub.values(org, "shortDescription") == {"Tiers-lieu associatif de la Croix-Rousse."}
    assert hub.values(org, "url") == {HOME}
    assert hub.values(org, "email") == {"contact@lafabrique.example.org"}
    assert (hub.values(org, "postalCode"), hub.values(org, "locality")) == ({"69001"}, {"Lyon"})
    assert (hub.values(org, "latitude"), hub.values(org, "longitude")) == ({"45.7676"}, {"4.8344"})
    assert hub.store.ask(f"ASK {{ <{org}> <{OWL_SAME_AS}> <https://www.wikidata.org/wiki/Q90> }}")

    event = hub.entity(pages["agenda"])
    assert _is(hub, event, "Event"), "a schema.org Event subtype is an event"
    assert hub.values(event, "organizedBy") == {org}, "the organizer, referred to by its @id, is linked"
    assert hub.values(event, "startDate") == {"2026-12-12T14:00:00+01:00"}
    assert hub.values(event, "postalCode") == {"69004"}, "an event is placed where its venue is"
    place = hub.entity(pages["lieu"])
    assert _is(hub, place, "Place") and hub.values(place, "latitude") == {"45.77"}
    cafe = hub.entity(pages["microdata"])
    assert _is(hub, cafe, "Organization"), "microdata LocalBusiness is read as an organisation"
    assert hub.values(cafe, "postalCode") == {"69003"}

    assert site.requested("/prive/membres.html") == [], "robots.txt forbids it"
    assert not [h for h in site.hits if h.host.startswith("localhost")], "another host is never contacted"
    assert all("Maillage" in h.user_agent for h in site.hits)
    assert len(site.requested("/erreur.html")) == 3, "a 5xx is asked again twice, then reported"
    reasons = {e.source_id: e.reason for e in list_quarantine(hub.store, "site")}
    assert "JSON-LD script is not valid JSON" in reasons[f"page {pages['casse']}"]
    assert "HTTP 500" in reasons[f"page {pages['erreur']}"]
    refused = [r for sid, r in reasons.items() if sid.startswith(pages["invalide"])]
    assert any("name is required" in r for r in refused), reasons
    assert any("latitude" in r.lower() for r in refused), reasons


def test_an_unchanged_site_costs_304s_and_rewrites_nothing(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    listed = [pages[k] for k in ("association", "lieu", "agenda", "texte")]
    by_sitemap = HubUnderTest(website_source(site), monkeypatch=monkeypatch)
    by_list = HubUnderTest(website_source(site, name="liste", urls=listed), monkeypatch=monkeypatch)
    by_sitemap.sync()
    by_list.sync()
    logged = (last_sequence(by_sitemap.store), last_sequence(by_list.store))
    site.hits.clear()
    again = by_sitemap.sync()
    assert (again.read.created, again.read.updated, again.read.deleted) == (0, 0, 0)
    read_again = {h.path for h in site.hits} - {"/sitemap.xml", "/robots.txt", "/casse.html", "/erreur.html",
                                                 "/invalide.html"}
    assert read_again == set(), "pages whose sitemap lastmod did not move are not even asked for"
    site.hits.clear()
    listed_again = by_list.sync()
    assert (listed_again.read.created, listed_again.read.updated, listed_again.read.deleted) == (0, 0, 0)
    assert sorted(h.path for h in site.hits if h.path.endswith(".html")) == sorted(
        ["/association.html", "/lieu.html", "/agenda/repair-cafe.html", "/texte.html"])
    assert all(h.if_none_match for h in site.hits if h.path.endswith(".html")), "conditional GETs"
    assert (last_sequence(by_sitemap.store), last_sequence(by_list.store)) == logged, "nothing rewritten"


def test_a_changed_page_updates_and_a_removed_one_deletes(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    hub = HubUnderTest(website_source(site), monkeypatch=monkeypatch)
    hub.sync()
    org, event, place = (hub.entity(pages[k]) for k in ("association", "agenda", "lieu"))
    before = last_sequence(hub.store)
    site.put("/agenda/repair-cafe.html", html_page(repair_cafe(site, start="2026-12-19T14:00:00+01:00")))
    report = hub.sync()
    assert (report.read.created, report.read.updated, report.read.deleted) == (0, 1, 0)
    assert [c.entity for c in read_changes(hub.store, since=before)] == [event]
    assert hub.values(event, "startDate") == {"2026-12-19T14:00:00+01:00"}
    site.remove("/lieu.html")
    report = hub.sync()
    assert report.read.deleted == 1 and not hub.holds(place)
    assert hub.holds(org)


def test_a_page_that_answers_404_or_410_deletes_its_records(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    hub = HubUnderTest(website_source(site, urls=[pages["association"], pages["lieu"]]), monkeypatch=monkeypatch)
    assert hub.sync().read.created == 2
    place = hub.entity(pages["lieu"])
    site.remove("/lieu.html")  # listed in the configuration still, answers 404
    assert hub.sync().read.deleted == 1 and not hub.holds(place)


def test_a_page_that_fails_then_recovers_leaves_the_quarantine(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    hub = HubUnderTest(website_source(site, urls=[pages["association"], pages["lieu"]]), monkeypatch=monkeypatch)
    hub.sync()
    place = hub.entity(pages["lieu"])
    site.fail("/lieu.html", 503)
    report = hub.sync()
    assert report.error is None and report.read.deleted == 0 and hub.holds(place), "a failing page keeps its records"
    assert [e.source_id for e in list_quarantine(hub.store, "site")] == [f"page {pages['lieu']}"]
    site.put("/lieu.html", html_page({"@context": "https://schema.org", "@type": "Place",
                                      "@id": f"{site.url}/lieu.html#lieu", "name": "Atelier du bas",
                                      "description": "L'atelier bois et métal.", "latitude": "45.77",
                                      "longitude": "4.83"}))
    hub.sync()
    assert list_quarantine(hub.store, "site") == []


def test_requests_to_the_site_are_paced(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    build(site)
    hub = HubUnderTest(website_source(site, delay=0.2, max_retries=0), monkeypatch=monkeypatch)
    hub.sync()
    times = [h.at for h in site.hits]
    assert len(times) == 10, [h.path for h in site.hits]  # robots, sitemap, 8 readable pages, each once
    gaps = [b - a for a, b in itertools.pairwise(times)]
    assert min(gaps) >= 0.1, gaps  # 0.2 s asked; the server's clock sees them at least about that far apart


def test_a_dead_sitemap_fails_the_sync_and_deletes_nothing(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    hub = HubUnderTest(website_source(site), monkeypatch=monkeypatch)
    hub.sync()
    org = hub.entity(pages["association"])
    hub.sources["site"].settings.url = f"{site.url}/plan-du-site.xml"
    report = hub.sync(ok=False)
    assert report.error is not None and "HTTP 404" in report.error and "nothing was read or deleted" in report.error
    assert hub.holds(org)


def test_the_site_organisation_is_the_entity_another_source_knows(site: Site,
                                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    hub = HubUnderTest(website_source(site), monkeypatch=monkeypatch)
    known = "https://example.org/wiki/la-fabrique"
    subject = ox.NamedNode(known)
    hub.ingestor.ingest([Record(source="plateforme", source_id=known, triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Organization")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal("La Fabrique Croix-Rousse", language="fr")),
        ox.Triple(subject, ox.NamedNode(MLG + "url"), ox.NamedNode(HOME))))])
    wiki_page, wiki_entity = "https://wiki.example.org/wiki/Atelier_du_Canal", "https://example.org/wiki/atelier"
    node = ox.NamedNode(wiki_entity)
    hub.ingestor.ingest([Record(source="wiki", source_id="Atelier du Canal", source_url=wiki_page, triples=(
        ox.Triple(node, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
        ox.Triple(node, ox.NamedNode(MLG + "name"), ox.Literal("Atelier (wiki)", language="fr")),
        ox.Triple(node, ox.NamedNode(MLG + "shortDescription"), ox.Literal("Un atelier.", language="fr"))))])
    canal = site.put("/canal-atelier.html", html_page({
        "@context": "https://schema.org", "@type": "Place", "name": "Atelier du Canal",
        "description": "Atelier partagé.", "sameAs": wiki_page}))
    hub.sync()
    assert hub.entity(pages["association"]) == known, "same web address: one entity, not two"
    assert hub.entity(canal) == wiki_entity, "sameAs the wiki page's address: the wiki's entity"


def test_a_served_hub_syncs_a_website(site: Site, tmp_path: Path) -> None:
    pages = build(site)
    config = (f'[hub]\nterritories = false\n\n[[sources]]\nname = "fabrique"\nkind = "website"\n'
              f'url = "{site.url}/sitemap.xml"\noptions = {{ delay = 0, retry_wait = 0.01 }}\n')
    with serving(tmp_path / "data", config, demo=False) as served:
        answer = httpx.post(f"{served.url}/sources/fabrique/sync", headers=served.auth, timeout=120)
        assert answer.status_code == 200 and answer.json()["error"] is None, answer.text
        assert "4 new" in answer.json()["summary"] and "4 quarantined" in answer.json()["summary"]
        events = httpx.get(f"{served.url}/api/events", headers={"Accept": "application/ld+json"}).json()
        assert [e["name"] for e in events["items"]] in (["Repair café"], [{"@value": "Repair café", "@language": "fr"}])
        quarantine = httpx.get(f"{served.url}/quarantine", headers=served.auth).json()
        assert f"page {pages['casse']}" in {q["source_id"] for q in quarantine}


def test_a_website_is_only_read(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    source = website_source(site)
    source.settings.direction = "both"
    report = HubUnderTest(source, monkeypatch=monkeypatch).sync(ok=False)
    assert report.error is not None and 'direction = "read"' in report.error
    assert site.hits == [], "nothing asked of the site"


def test_a_sitemap_index_is_followed_on_the_site_only(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    port = site.url.rsplit(":", 1)[1]
    site.index = [f"{site.url}/sitemap.xml", f"http://localhost:{port}/sitemap.xml"]
    hub = HubUnderTest(website_source(site, url=f"{site.url}/sitemap-index.xml"), monkeypatch=monkeypatch)
    report = hub.sync(ok=False)
    assert report.error is not None and "localhost" in report.error, "an off-site child sitemap is refused"
    site.index = [f"{site.url}/sitemap.xml"]
    assert hub.sync().read.created == 4
    assert _is(hub, hub.entity(pages["agenda"]), "Event")
    assert not [h for h in site.hits if h.host.startswith("localhost")]


def test_no_redirect_off_the_site_and_no_page_past_the_size_cap(site: Site,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    build(site)
    port = site.url.rsplit(":", 1)[1]
    site.redirects["/ancienne.html"] = f"http://localhost:{port}/association.html"
    site.redirects["/nouvelle.html"] = "/association.html"
    site.redirects["/service.html"] = f"http://127.0.0.1:{free_port()}/admin"  # another port: another service
    moved, kept = f"{site.url}/ancienne.html", f"{site.url}/nouvelle.html"
    other_port = f"{site.url}/service.html"
    big = site.put("/grande.html", html_page(organization("Grande page"), body="<p>texte</p>" * 500))
    hub = HubUnderTest(website_source(site, urls=[moved, kept, other_port, big], max_page_bytes=2000),
                       monkeypatch=monkeypatch)
    report = hub.sync()
    reasons = {e.source_id: e.reason for e in list_quarantine(hub.store, "site")}
    assert "not one of this source's hosts" in reasons[f"page {moved}"]
    assert "not one of this source's hosts" in reasons[f"page {other_port}"]
    assert "over max_page_bytes" in reasons[f"page {big}"]
    assert report.read.created == 1, "a redirect within the site is followed"
    assert not [h for h in site.hits if h.host.startswith("localhost")]


def test_records_are_placed_in_their_commune(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    hub = HubUnderTest(website_source(site), monkeypatch=monkeypatch)
    hub.sync()
    org, event = hub.entity(pages["association"]), hub.entity(pages["agenda"])
    assert hub.values(org, "territory") and hub.values(event, "territory")
    assert all("69" in t.rsplit("/", 1)[-1] for t in hub.values(org, "territory")), hub.values(org, "territory")


def test_a_read_killed_between_batches_resumes_without_reading_again(site: Site,
                                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    monkeypatch.setattr("connectors.website.reader.PAGES_PER_BATCH", 1)
    hub = HubUnderTest(website_source(site), monkeypatch=monkeypatch)
    real, calls = Ingestor.ingest_batch, []

    def dies_at_the_second(ingestor: Ingestor, records: list[Record], *args: object, **kwargs: object) -> object:
        calls.append(len(records))
        if len(calls) == 2:
            raise KeyboardInterrupt("killed after the first batch")
        return real(ingestor, records, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ingestor, "ingest_batch", dies_at_the_second)
    with pytest.raises(KeyboardInterrupt):
        hub.sync(ok=False)
    monkeypatch.setattr(Ingestor, "ingest_batch", real)
    event = hub.entity(pages["agenda"])  # the first page's records, committed with their cursor
    site.hits.clear()
    report = hub.sync()
    assert report.read.created == 3, report.summary()  # the organisation, the place, the café
    assert site.requested("/agenda/repair-cafe.html") == [], "a committed page is not read again"
    assert hub.values(event, "organizedBy") == {hub.entity(pages["association"])}


def test_pages_past_max_pages_keep_their_records(site: Site, monkeypatch: pytest.MonkeyPatch) -> None:
    pages = build(site)
    urls = [pages["association"], pages["lieu"], pages["agenda"]]
    hub = HubUnderTest(website_source(site, urls=urls), monkeypatch=monkeypatch)
    assert hub.sync().read.created == 3
    hub.sources["site"].settings.options["max_pages"] = 2
    site.hits.clear()
    report = hub.sync(full=True)
    assert (report.read.deleted, report.read.unchanged) == (0, 2), report.summary()
    assert site.requested("/agenda/repair-cafe.html") == [] and hub.holds(hub.entity(pages["agenda"]))

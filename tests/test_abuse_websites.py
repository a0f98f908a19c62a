"""A hostile website (the ``website`` source kind): pages, sitemaps and robots.txt written to make
the hub reach other machines, read local files, wait forever, fill its memory, or stop reading the
rest of the site. The hostile server is a real HTTP server scripted byte by byte
(tests/servers/hostile.py); an internal listener stands for what the attacker wants to reach and
must receive nothing. One bad page costs its own records only: it is quarantined with its reason
and the others are read (docs/security.md, "Sources")."""

from __future__ import annotations

import json
from collections.abc import Iterator

import pytest

from hub.config import SourceSettings
from hub.meta.quarantine import list_quarantine
from tests.harness import HubUnderTest, Source
from tests.servers.hostile import HostileServer, Writer, hostile_server
from tests.servers.website import html_page, organization


@pytest.fixture
def site() -> Iterator[HostileServer]:
    with hostile_server() as server:
        server.route("/good.html", lambda w: html(w, html_page(organization("La Fabrique", url="https://fab.example.org/"))))
        yield server


@pytest.fixture
def internal() -> Iterator[HostileServer]:
    with hostile_server() as server:
        server.route("/", lambda w: w.send(200, b"internal secret", {"Content-Type": "text/plain"}))
        server.route("/context.jsonld", lambda w: w.json({"@context": {"name": "http://evil.example/n"}}))
        yield server


def html(w: Writer, text: str) -> None:
    w.send(200, text.encode(), {"Content-Type": "text/html; charset=utf-8"})


def sitemap(site: HostileServer, *paths: str, extra: tuple[str, ...] = ()) -> None:
    """The site's sitemap lists ``paths`` (and ``extra`` URLs as they are) after /good.html."""
    locs = [f"{site.url}{p}" for p in ("/good.html", *paths)] + list(extra)
    body = ('<?xml version="1.0" encoding="UTF-8"?><urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            + "".join(f"<url><loc>{loc}</loc></url>" for loc in locs) + "</urlset>").encode()
    site.route("/sitemap.xml", lambda w: w.send(200, body, {"Content-Type": "application/xml"}))


def site_hub(site: HostileServer, monkeypatch: pytest.MonkeyPatch, url: str | None = None,
             **options: object) -> HubUnderTest:
    settings = SourceSettings(name="site", kind="website", url=url or f"{site.url}/sitemap.xml",
                              options={"delay": 0, "retry_wait": 0.01, "max_retries": 0, "timeout": 10, **options})
    return HubUnderTest(Source(settings, url_of=lambda key: key), monkeypatch=monkeypatch)


def reasons(hub: HubUnderTest) -> dict[str, str]:
    return {e.source_id: e.reason for e in list_quarantine(hub.store, "site")}


def good_page_read(hub: HubUnderTest, site: HostileServer) -> bool:
    """Whether the good page's organisation is in the hub (an item is named by its page's URL)."""
    return hub.values(hub.entity(f"{site.url}/good.html"), "name") == {"La Fabrique"}


def jsonld(value: str) -> str:
    return f'<!DOCTYPE html><html lang="fr"><head><script type="application/ld+json">{value}</script></head></html>'


# -- a page that harms only itself ---------------------------------------------------------------------
def test_json_ld_nested_100000_deep_quarantines_its_page_only(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    site.route("/deep.html", lambda w: html(w, jsonld("[" * 100_000 + "]" * 100_000)))
    sitemap(site, "/deep.html")
    hub = site_hub(site, monkeypatch)
    report = hub.sync()
    assert good_page_read(hub, site)
    assert "nested" in reasons(hub)[f"page {site.url}/deep.html"]
    assert report.read.quarantined == 1


def test_json_ld_nested_just_below_the_parser_limit_quarantines_its_page_only(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    node = '{"@context": "https://schema.org", "@type": "Organization", "name": "X", "member": ' \
           + '{"member": ' * 900 + "1" + "}" * 901
    site.route("/deep.html", lambda w: html(w, jsonld(node)))
    sitemap(site, "/deep.html")
    hub = site_hub(site, monkeypatch)
    hub.sync()
    assert good_page_read(hub, site)


def test_an_invalid_language_tag_does_not_stop_the_site(site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``lang="fr_FR"`` is a common mistake; ``lang="<script>"`` a hostile one."""
    for path, lang in (("/fr_FR.html", "fr_FR"), ("/hostile.html", "a b\"<>"), ("/long.html", "x" * 500)):
        site.route(path, lambda w, lang=lang, path=path: html(
            w, html_page(organization(f"Lieu {path}", url=f"https://lieu.example.org{path}"), lang=lang)))
    sitemap(site, "/fr_FR.html", "/hostile.html", "/long.html")
    hub = site_hub(site, monkeypatch)
    hub.sync()
    assert good_page_read(hub, site)
    assert hub.values(hub.entity(f"{site.url}/fr_FR.html"), "name") == {"Lieu /fr_FR.html"}


def test_deeply_nested_html_is_read_or_refused_not_a_crash(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    site.route("/divs.html", lambda w: html(w, "<html><body>" + "<div>" * 100_000 + "x"))
    sitemap(site, "/divs.html")
    hub = site_hub(site, monkeypatch)
    hub.sync()
    assert good_page_read(hub, site)


def test_a_page_sent_a_byte_at_a_time_is_quarantined_at_the_timeout(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    site.route("/slow.html", lambda w: w.drip(html_page(organization("Lent")).encode(), 0.05))
    sitemap(site, "/slow.html")
    hub = site_hub(site, monkeypatch, timeout=1)
    hub.sync()
    assert good_page_read(hub, site)
    assert "timeout" in reasons(hub)[f"page {site.url}/slow.html"].lower() or \
        "within 1 s" in reasons(hub)[f"page {site.url}/slow.html"]
    assert "/slow.html" not in site.finished


def test_a_gzip_bomb_page_is_quarantined_at_max_page_bytes(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    site.route("/bomb.html", lambda w: w.gzip_bomb(b"<html><body>", 8_000_000, b"</body></html>"))
    sitemap(site, "/bomb.html")
    hub = site_hub(site, monkeypatch)
    hub.sync()
    assert good_page_read(hub, site)
    assert "max_page_bytes" in reasons(hub)[f"page {site.url}/bomb.html"]


def test_an_endless_robots_txt_reads_nothing_and_deletes_nothing(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sitemap(site)
    hub = site_hub(site, monkeypatch)
    hub.sync()
    site.route("/robots.txt", lambda w: w.endless(b"User-agent: *\n", b"Disallow: /x\n" * 5000))
    report = hub.sync(ok=False)
    assert report.error is not None and "robots.txt" in report.error and "max_page_bytes" in report.error
    assert good_page_read(hub, site), "nothing deleted"


# -- where the hub connects -----------------------------------------------------------------------------
def test_sitemap_entries_elsewhere_are_never_contacted(
        site: HostileServer, internal: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    port = internal.port
    elsewhere = (f"http://127.0.0.1:{port}/", f"http://localhost:{port}/", f"http://2130706433:{port}/",
                 f"http://0x7f000001:{port}/", f"http://[::ffff:127.0.0.1]:{port}/", "file:///etc/passwd",
                 f"gopher://127.0.0.1:{port}/", f"http://{site.url[7:]}@127.0.0.1:{port}/",
                 "http://169.254.169.254/latest/meta-data/")
    sitemap(site, extra=elsewhere)
    hub = site_hub(site, monkeypatch)
    hub.sync()
    assert good_page_read(hub, site)
    assert internal.hits == []


def test_a_sitemap_index_child_elsewhere_is_refused(
        site: HostileServer, internal: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    body = ('<?xml version="1.0"?><sitemapindex xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<sitemap><loc>http://localhost:{internal.port}/</loc></sitemap></sitemapindex>").encode()
    site.route("/sitemap.xml", lambda w: w.send(200, body, {"Content-Type": "application/xml"}))
    report = site_hub(site, monkeypatch).sync(ok=False)
    assert report.error is not None and "not one of this source's hosts" in report.error
    assert internal.hits == []


def test_a_site_whose_name_resolves_to_loopback_is_refused(
        internal: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """``vm`` resolves to 127.0.0.1 on the test machine, as any name can for its DNS owner."""
    hub = site_hub(internal, monkeypatch, url=f"http://vm:{internal.port}/sitemap.xml")
    report = hub.sync(ok=False)
    assert report.error is not None and "127.0.0.1" in report.error, report.error
    assert internal.hits == []


@pytest.mark.parametrize("doctype", [
    '<!DOCTYPE urlset [<!ENTITY x SYSTEM "file:///etc/hostname">]>',
    '<!DOCTYPE urlset [<!ENTITY x SYSTEM "http://127.0.0.1:{port}/">]>',
    '<!DOCTYPE urlset SYSTEM "http://127.0.0.1:{port}/dtd">',
    '<!DOCTYPE urlset [<!ENTITY a "aaaaaaaaaa"><!ENTITY b "&a;&a;&a;&a;&a;&a;&a;&a;&a;&a;">'
    '<!ENTITY c "&b;&b;&b;&b;&b;&b;&b;&b;&b;&b;"><!ENTITY d "&c;&c;&c;&c;&c;&c;&c;&c;&c;&c;">'
    '<!ENTITY e "&d;&d;&d;&d;&d;&d;&d;&d;&d;&d;"><!ENTITY x "&e;&e;&e;&e;&e;&e;&e;&e;&e;&e;">]>',
])
def test_sitemap_entities_are_never_expanded_or_fetched(
        site: HostileServer, internal: HostileServer, monkeypatch: pytest.MonkeyPatch, doctype: str) -> None:
    body = ('<?xml version="1.0"?>' + doctype.format(port=internal.port)
            + '<urlset xmlns="http://www.sitemaps.org/schemas/sitemap/0.9">'
            f"<url><loc>{site.url}/good.html</loc><lastmod>&x;</lastmod></url></urlset>").encode()
    site.route("/sitemap.xml", lambda w: w.send(200, body, {"Content-Type": "application/xml"}))
    hub = site_hub(site, monkeypatch)
    report = hub.sync(ok=False)
    assert internal.hits == []
    assert report.error is None or "sitemap" in report.error
    cursor = hub.store.select("SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } }")
    assert not any("aaaaaaaaaa" in row["o"].value for row in cursor), "an entity was expanded"


def test_a_remote_json_ld_context_is_never_fetched(
        site: HostileServer, internal: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    node = {"@context": ["https://schema.org", f"{internal.url}/context.jsonld"], "@type": "Organization",
            "name": "Contexte", "url": "https://ctx.example.org/"}
    site.route("/ctx.html", lambda w: html(w, jsonld(json.dumps(node))))
    sitemap(site, "/ctx.html")
    hub = site_hub(site, monkeypatch)
    hub.sync()
    assert internal.hits == []
    assert hub.values(hub.entity(f"{site.url}/ctx.html"), "name") == {"Contexte"}


def test_coordinates_with_huge_exponents_are_refused_and_others_written_as_decimals(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """xsd:decimal has no exponent: "4.5E+1" is not one, and "1e999999999999" written out is 10^12 zeros."""
    for path, lat in (("/huge.html", "1e999999999999"), ("/tiny.html", "1e-999999999999"), ("/exp.html", "4.5e1")):
        site.route(path, lambda w, lat=lat, path=path: html(w, html_page(organization(
            f"Lieu {path}", url=f"https://lieu.example.org{path}", geo={"latitude": lat, "longitude": "0.0005"}))))
    sitemap(site, "/huge.html", "/tiny.html", "/exp.html")
    hub = site_hub(site, monkeypatch)
    report = hub.sync()
    assert good_page_read(hub, site)
    quarantined = {e.source_id: e.reason for e in list_quarantine(hub.store, "site")}
    assert report.read.quarantined == 2 and all(
        "is not a coordinate" in quarantined[f"https://lieu.example.org{p}"] for p in ("/huge.html", "/tiny.html"))
    exp = hub.entity(f"{site.url}/exp.html")
    assert hub.values(exp, "latitude") == {"45"} and hub.values(exp, "longitude") == {"0.0005"}


def test_a_crawl_delay_of_a_billion_seconds_reads_nothing_and_deletes_nothing(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    sitemap(site)
    hub = site_hub(site, monkeypatch)
    hub.sync()
    site.route("/robots.txt", lambda w: w.send(200, b"User-agent: *\nCrawl-delay: 1000000000\n",
                                               {"Content-Type": "text/plain"}))
    report = hub.sync(ok=False)
    assert report.error is not None and "Crawl-delay" in report.error and "max_crawl_delay" in report.error
    assert good_page_read(hub, site), "nothing deleted"


def test_a_page_describing_thousands_of_items_is_quarantined(
        site: HostileServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """60,000 nodes fit in a 2 MB page; an association's page describes a few."""
    graph = {"@context": "https://schema.org",
             "@graph": [{"@type": "Place", "@id": f"#p{i}", "name": f"P{i}"} for i in range(5000)]}
    site.route("/many.html", lambda w: html(w, jsonld(json.dumps(graph))))
    sitemap(site, "/many.html")
    hub = site_hub(site, monkeypatch)
    report = hub.sync()
    assert good_page_read(hub, site) and report.read.created == 1
    assert "max_page_items" in reasons(hub)[f"page {site.url}/many.html"]

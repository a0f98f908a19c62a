"""The shipped GoGoCarto mapping (mappings/gogocarto.toml) against the emulator
(tests/servers/gogocarto.py), through a hub run as ``maillage sync`` runs it: a map's elements
become places with coordinates, address and categories, republished under the licence the map
states; an element deleted or refused by the map's moderators leaves the hub; a failing answer
loses nothing; and a tiers-lieu the hub already knows from data·inclusion or from a wiki page
(the real MediaWiki) becomes one entity (or a review entry), never two silent copies."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator

import pytest

from hub.iris import graph_iri
from hub.meta.candidates import list_candidates
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.provenance import stored_records
from hub.meta.quarantine import list_quarantine
from hub.vocab import DEFAULT_BASE_IRI
from tests.harness import HubUnderTest, Source, jsonapi_source, mediawiki_source
from tests.servers.data_inclusion import running_data_inclusion
from tests.servers.gogocarto import (
    ADMIN_REFUSED,
    COLLABORATIVE_REFUSED,
    DELETED,
    ODBL,
    PENDING_ADD,
    GoGoCarto,
    running_gogocarto,
)
from tests.servers.mediawiki import Wiki

BASE = DEFAULT_BASE_IRI
MAPPING = "mappings/gogocarto.toml"
CC_BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
LA_BASE = {"streetAddress": "12 rue des Tiers-Lieux", "postalCode": "69007", "addressLocality": "Lyon",
           "addressCountry": "FR"}


@pytest.fixture
def gogo() -> Iterator[GoGoCarto]:
    with running_gogocarto() as server:
        yield server


def map_source(gogo: GoGoCarto, **options: object) -> Source:
    """The map as the source "carte", with no licence configured: the map states its own."""
    source = jsonapi_source(gogo, name="carte", mapping=MAPPING, token="",
                            **{"retry_wait": 0.05, "max_retries": 2, "timeout": 2, **options})
    return Source(dataclasses.replace(source.settings, license=None, credentials={}), {})


def map_hub(gogo: GoGoCarto, monkeypatch: pytest.MonkeyPatch, *more: Source, **options: object) -> HubUnderTest:
    hub = HubUnderTest(map_source(gogo, **options), *more, monkeypatch=monkeypatch)
    hub.ingestor.licences = hub.config.licence_of
    return hub


def element(key: str) -> str:
    return f"elements/{key}"


def test_elements_become_places_under_the_licence_the_map_states(gogo: GoGoCarto,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    base = gogo.add_element("La Base", 45.7485, 4.8467, address=LA_BASE, categories=["Tiers-lieu", "Fablab"],
                            data={"description": "<p>Un tiers-lieu au bord du <b>Rhône</b>.</p><p>Café, ateliers.</p>",
                                  "website": "https://labase.example.org/", "telephone": "04 78 00 00 00"},
                            email="contact@labase.example.org")
    sans_site = gogo.add_element("Atelier partagé", 45.1, 5.7, data={"website": "www.atelier-sans-schema"},
                                 address={"streetNumber": "3", "streetAddress": "place Grenette"})
    hub = map_hub(gogo, monkeypatch)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (2, 0), report
    place = hub.entity(element(base))
    assert hub.values(place, "name") == {"La Base"}
    assert hub.values(place, "latitude") == {"45.7485"} and hub.values(place, "longitude") == {"4.8467"}
    assert hub.values(place, "streetAddress") == {"12 rue des Tiers-Lieux"}
    assert hub.values(place, "postalCode") == {"69007"} and hub.values(place, "locality") == {"Lyon"}
    assert hub.values(place, "theme") == {"Tiers-lieu", "Fablab"}
    assert hub.values(place, "url") == {"https://labase.example.org/"}
    assert hub.values(place, "email") == set(), "the map says only that an e-mail is private"
    assert hub.values(hub.entity(element(sans_site)), "url") == set(), "a website that is no address is left out"
    assert hub.values(hub.entity(element(sans_site)), "streetAddress") == {"3 place Grenette"}
    assert hub.values(place, "description") == {"Un tiers-lieu au bord du Rhône.\nCafé, ateliers."}
    graph = graph_iri(BASE, "carte", element(base))
    stored = stored_records(hub.store, [graph])[graph]
    assert stored.license == ODBL, "the licence the map's answer gives"
    assert stored.source_url == f"{gogo.url}/api/elements/{base}.json"


def test_a_changed_element_and_a_new_licence_reach_the_hub(gogo: GoGoCarto,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    first = gogo.add_element("La Base", 45.7485, 4.8467, address=LA_BASE)
    second = gogo.add_element("Le Bocal", 45.76, 4.83)
    hub = map_hub(gogo, monkeypatch)
    hub.sync()
    before = last_sequence(hub.store)
    again = hub.sync()
    assert (again.read.updated, again.read.unchanged) == (0, 2), "nothing rewritten when nothing changed"
    gogo.clock.advance(60)
    gogo.update_element(first, name="La Base (Lyon 7e)")
    changed = hub.sync()
    assert (changed.read.updated, changed.read.unchanged) == (1, 1)
    assert [c.entity for c in read_changes(hub.store, since=before)] == [hub.entity(element(first))]
    assert hub.values(hub.entity(element(first)), "name") == {"La Base (Lyon 7e)"}
    gogo.licence = CC_BY_SA
    relicensed = hub.sync()
    assert relicensed.read.updated == 0, "a licence is provenance, not a change of the data"
    graphs = [graph_iri(BASE, "carte", element(k)) for k in (first, second)]
    assert {s.license for s in stored_records(hub.store, graphs).values()} == {CC_BY_SA}


@pytest.mark.parametrize("status", [DELETED, ADMIN_REFUSED, COLLABORATIVE_REFUSED])
def test_an_element_deleted_or_refused_on_the_map_leaves_the_hub(
        gogo: GoGoCarto, monkeypatch: pytest.MonkeyPatch, status: int) -> None:
    keep = gogo.add_element("La Base", 45.7485, 4.8467)
    pending = gogo.add_element("Proposition en attente", 45.75, 4.85, status=PENDING_ADD)
    refused = gogo.add_element("Fiche signalée", 45.74, 4.84)
    hub = map_hub(gogo, monkeypatch)
    hub.sync()
    gone = hub.entity(element(refused))
    gogo.set_status(refused, status)
    report = hub.sync()
    assert report.read.deleted == 1
    assert not hub.holds(gone)
    assert hub.holds(hub.entity(element(keep))) and hub.holds(hub.entity(element(pending))), \
        "the map shows pending additions: so does the hub"


def test_an_element_removed_from_the_map_leaves_the_hub(gogo: GoGoCarto, monkeypatch: pytest.MonkeyPatch) -> None:
    keep = gogo.add_element("La Base", 45.7485, 4.8467)
    removed = gogo.add_element("Doublon importé", 45.74, 4.84)
    hub = map_hub(gogo, monkeypatch)
    hub.sync()
    gone = hub.entity(element(removed))
    gogo.remove(removed)
    assert hub.sync().read.deleted == 1
    assert not hub.holds(gone) and hub.holds(hub.entity(element(keep)))


@pytest.mark.parametrize(("fault", "said"), [("5xx", "HTTP 503"), ("html", "an HTML page instead of JSON"),
                                              ("malformed", "malformed JSON"), ("timeout", "no answer before the timeout")])
def test_a_map_that_keeps_failing_ends_the_sync_with_a_reason_and_deletes_nothing(
        gogo: GoGoCarto, monkeypatch: pytest.MonkeyPatch, fault: str, said: str) -> None:
    keys = [gogo.add_element(f"Lieu {n}", 45.7 + n / 100, 4.8) for n in range(3)]
    hub = map_hub(gogo, monkeypatch)
    hub.sync()
    gogo.fail_next(fault, count=5, delay=3)
    report = hub.sync(ok=False)
    assert report.error is not None and said in report.error
    assert report.read.deleted == 0
    assert all(hub.holds(hub.entity(element(k))) for k in keys), "what was stored stays"
    assert hub.sync().read.unchanged == 3, "the next sync, with the map back, reads it again"


def test_bad_elements_are_quarantined_with_their_source_id_and_the_reason(
        gogo: GoGoCarto, monkeypatch: pytest.MonkeyPatch) -> None:
    good = gogo.add_element("La Base", 45.7485, 4.8467)
    north = gogo.add_element("Mauvais géocodage", 123.4, 4.8)
    nameless = gogo.add_element("", 45.7, 4.8)
    hub = map_hub(gogo, monkeypatch)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (1, 2)
    reasons = {e.source_id: e.reason for e in list_quarantine(hub.store, "carte")}
    assert set(reasons) == {element(north), element(nameless)}
    assert "latitude" in reasons[element(north)].lower()
    assert "name" in reasons[element(nameless)].lower()
    assert hub.holds(hub.entity(element(good)))


def test_a_tiers_lieu_on_the_map_and_in_data_inclusion_is_one_entity_or_a_review_entry(
        gogo: GoGoCarto, monkeypatch: pytest.MonkeyPatch) -> None:
    same_site = gogo.add_element("La Base", 45.7485, 4.8467, address=LA_BASE,
                                 data={"website": "https://labase.example.org/"})
    same_name = gogo.add_element("Le Bocal", 45.76, 4.83,
                                 address={"postalCode": "69001", "addressLocality": "Lyon"})
    alone = gogo.add_element("La Cabane", 45.77, 4.82)
    with running_data_inclusion() as di:
        structure = di.add_structure(nom="La Base, tiers-lieu", site_web="https://labase.example.org",
                                     code_postal="69007", commune="Lyon")
        namesake = di.add_structure(nom="Le Bocal", code_postal="69001", commune="Lyon")
        di_source = jsonapi_source(di, name="di", **{"retry_wait": 0.05, "max_retries": 2, "timeout": 2})
        hub = map_hub(gogo, monkeypatch, di_source)
        hub.sync_all()
        assert hub.entity(element(same_site), "carte") == hub.entity(f"structures/{structure}", "di"), \
            "the same website: one entity, described by both sources"
        bocal = hub.entity(element(same_name), "carte")
        other = hub.entity(f"structures/{namesake}", "di")
        assert bocal != other, "a name alone merges nothing"
        [candidate] = [c for c in list_candidates(hub.store) if {c.new_entity, c.existing} == {bocal, other}]
        assert "same name" in candidate.reason, "a person decides"
        assert not [c for c in list_candidates(hub.store) if hub.entity(element(alone), "carte") in
                    (c.new_entity, c.existing)]


def test_a_licence_that_is_no_address_leaves_the_configured_one(gogo: GoGoCarto,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    key = gogo.add_element("La Base", 45.7485, 4.8467)
    gogo.licence = "ODbL"  # what an administrator may type in the map's configuration
    source = map_source(gogo)
    source = Source(dataclasses.replace(source.settings, license=CC_BY_SA), {})
    hub = HubUnderTest(source, monkeypatch=monkeypatch)
    hub.ingestor.licences = hub.config.licence_of
    hub.sync()
    graph = graph_iri(BASE, "carte", element(key))
    assert stored_records(hub.store, [graph])[graph].license == CC_BY_SA


def test_a_tiers_lieu_on_the_map_and_on_the_wiki_is_one_entity(gogo: GoGoCarto, wiki: Wiki,
                                                                 monkeypatch: pytest.MonkeyPatch) -> None:
    title = "Le Hangar partagé de la carte"
    wiki.edit_as_human(title, "{{Tiers-lieu\n|nom=Le Hangar partagé\n|site web=https://hangar.example.org\n"
                              "|code postal=38000\n|ville=Grenoble\n|thème=Fablab\n}}\n[[Catégorie:Tiers-lieux]]", "new")
    key = gogo.add_element("Le Hangar partagé", 45.19, 5.72, categories=["Tiers-lieu"],
                           address={"postalCode": "38000", "addressLocality": "Grenoble"},
                           data={"website": "https://hangar.example.org/"})
    movilab = mediawiki_source(wiki, "movilab", "mappings/movilab.toml", direction="read")
    hub = map_hub(gogo, monkeypatch, movilab)
    hub.sync_all()
    place = hub.entity(element(key), "carte")
    assert hub.entity(title, "movilab") == place, "the page and the element are one place"
    assert hub.values(place, "theme") == {"Tiers-lieu", "Fablab"}, "what each source says, on the one entity"

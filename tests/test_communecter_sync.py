"""The Communecter connector against the emulator (tests/servers/communecter.py): what is specific
to the platform (paging and links, lastTimes increments, the source marker, only changed fields
sent, faults, malformed elements, lost and slow creates, sessions). What every connector must do
is checked by tests/connectors/test_contract.py."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pyoxigraph as ox
import pytest

from hub.meta.changelog import last_sequence, read_changes
from hub.meta.conflicts import list_conflicts
from hub.meta.quarantine import list_quarantine
from hub.records import Record
from hub.sync.engine import sync_source
from hub.vocab import MLG, RDF_TYPE
from tests.harness import BOT_EMAIL, BOT_PASSWORD, HubUnderTest, communecter_source
from tests.servers.communecter import Communecter, running_communecter


def org(name: str, **extra: object) -> dict[str, object]:
    return {"name": name, "type": "NGO", "shortDescription": f"{name}, association.", "tags": ["tiers-lieu"],
            "address": {"@type": "PostalAddress", "postalCode": "69001", "addressLocality": "Lyon",
                        "codeInsee": "69381"},
            "geo": {"@type": "GeoCoordinates", "latitude": "45.76", "longitude": "4.83"}, **extra}


def co_hub(platform: Communecter, monkeypatch: pytest.MonkeyPatch, **options: object) -> HubUnderTest:
    """A hub in memory with the emulator as its one source "co", as `maillage sync` runs it."""
    return HubUnderTest(communecter_source(platform, max_retries=3, timeout=2, **options), monkeypatch=monkeypatch)


@pytest.fixture
def platform() -> Iterator[Communecter]:
    with running_communecter() as server:
        server.add_user(BOT_EMAIL, BOT_PASSWORD, "maillage-bot")
        yield server


def test_full_read_follows_pages_and_links(platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [platform.add_element("organizations", org(f"Asso {i:03d}")) for i in range(120)]
    event = platform.add_element("events", {"name": "Fête des communs", "type": "meeting",
                                            "startDate": "2024-05-01T18:00:00+00:00",
                                            "links": {"organizer": {ids[0]: {"type": "organizations"}}}})
    poi = platform.add_element("poi", {"name": "La Raffinerie", "type": "place"})
    resource = platform.add_element("ressources", {"name": "Guide du tiers-lieu", "type": "documentation",
                                                   "shortDescription": "Un guide."})
    hub = co_hub(platform, monkeypatch)
    report = hub.sync()
    assert report.read.created == 123 and report.read.quarantined == 0
    first = hub.entity(ids[0])
    assert hub.values(first, "postalCode") == {"69001"} and hub.values(first, "latitude") == {"45.76"}
    assert hub.values(hub.entity(event), "organizedBy") == {first}, "links become hub relations"
    assert hub.values(hub.entity(event), "startDate") == {"2024-05-01"}
    assert hub.store.ask(f"ASK {{ <{hub.entity(poi)}> a <{MLG}Place> }}")
    assert hub.values(hub.entity(resource), "name") == {"Guide du tiers-lieu"}
    api_pages = [s for s in platform.requests if s.path.startswith("/api/organization/get")]
    assert len(api_pages) >= 2, "120 organisations come in pages of 100"
    again = hub.sync(full=True)
    assert (again.read.created, again.read.updated, again.read.deleted) == (0, 0, 0)


def test_incremental_read_sees_only_what_changed(platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    a = platform.add_element("organizations", org("Atelier A"))
    platform.add_element("organizations", org("Atelier B"))
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    before = last_sequence(hub.store)
    platform.clock.advance(60)
    platform.update_element("organizations", a, {"shortDescription": "Nouvelle description."})
    platform.requests.clear()
    report = hub.sync()
    assert (report.read.updated, report.read.created) == (1, 0)
    assert [c.entity for c in read_changes(hub.store, since=before)] == [hub.entity(a)]
    assert not [s for s in platform.requests if s.path.startswith("/api/organization/get/limit")], \
        "an increment does not page through everything"
    assert hub.sync().read.updated == 0



def test_hub_changes_are_written_and_not_echoed(platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    key = platform.add_element("organizations", org("La Myne"))
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    entity = hub.entity(key)
    hub.other_source_says(entity, "Organization", name="La Myne", shortDescription="Tiers-lieu de Villeurbanne.")
    platform.requests.clear()
    report = hub.sync()
    assert report.pushed.updated == 1
    assert platform.element("organizations", key)["shortDescription"] == "Tiers-lieu de Villeurbanne."
    [save] = [s for s in platform.requests if s.path == "/co2/element/save"]
    assert save.params["id"] == key and "shortDescription" in save.params and "name" not in save.params, \
        "only the changed field is sent"
    sequence = last_sequence(hub.store)
    platform.clock.advance(5)
    echo = hub.sync()
    assert last_sequence(hub.store) == sequence and (echo.read.updated, echo.pushed.updated) == (0, 0)


def test_a_hub_entity_becomes_an_element_with_the_source_marker(platform: Communecter,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    entity = "https://example.org/acteur/la-fabrique"
    hub.other_source_says(entity, "Organization", name="La Fabrique des Mobilités",
                          shortDescription="Accélérateur de communs.", keyword="mobilité")
    assert hub.sync().pushed.created == 1
    [created] = [e for e in platform.elements("organizations") if e["name"] == "La Fabrique des Mobilités"]
    assert created["source"]["key"] == "maillage" and created["source"]["keys"] == ["maillage"]
    assert created["tags"] == ["mobilité"]
    key = created["_id"]["$id"] if isinstance(created["_id"], dict) else created["_id"]
    platform.clock.advance(5)
    hub.sync(full=True)
    assert hub.entity(str(key)) == entity, "read back as the same entity, not a twin"


def test_faults_are_survived_and_reported(platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    key = platform.add_element("organizations", org("Résiliente"))
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    platform.clock.advance(60)
    platform.update_element("organizations", key, {"shortDescription": "Après la panne."})
    for kind in ("5xx", "malformed", "html", "slow"):
        platform.fail_next(kind)  # type: ignore[arg-type]
    platform.fail_next("timeout", delay=3)
    report = hub.sync()
    assert report.read.updated == 1
    hub.other_source_says(hub.entity(key), "Organization", name="Résiliente", shortDescription="Par le hub.")
    platform.expire_sessions()
    assert hub.sync().pushed.updated == 1, "an expired session means logging in again"
    platform.fail_next("html", count=50)
    failed = hub.sync(ok=False)
    assert failed.error is not None and "HTML" in failed.error


def test_malformed_elements_are_quarantined_and_the_rest_goes_on(platform: Communecter,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    good = platform.add_element("organizations", org("Bien formée"))
    # the open-data API drops an address that is not an object; the search (raw) shows it as is
    platform.add_element("ressources", {"name": "Adresse en texte", "address": "12 rue des Lilas, Lyon"})
    platform.add_element("organizations", {"name": 404, "type": "NGO"})
    platform.add_element("organizations", {"type": "NGO", "shortDescription": "Sans nom."})
    hub = co_hub(platform, monkeypatch)
    report = hub.sync()
    assert report.read.created == 1 and report.read.quarantined == 3
    assert hub.values(hub.entity(good), "name") == {"Bien formée"}
    reasons = " | ".join(q.reason for q in list_quarantine(hub.store, "co"))
    assert "address" in reasons and "not an object" in reasons
    assert "a number (404)" in reasons
    assert "name" in reasons


def test_an_event_written_from_the_hub_keeps_its_organiser(platform: Communecter,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    organiser = platform.add_element("organizations", org("Tiers-lieu organisateur"))
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    event = "https://example.org/evenement/portes-ouvertes"
    subject = ox.NamedNode(event)
    hub.ingestor.ingest([Record(source="wiki", source_id=event, triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Event")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal("Portes ouvertes", language="fr")),
        ox.Triple(subject, ox.NamedNode(MLG + "startDate"),
                  ox.Literal("2025-06-21", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))),
        ox.Triple(subject, ox.NamedNode(MLG + "endDate"),
                  ox.Literal("2025-06-22", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))),
        ox.Triple(subject, ox.NamedNode(MLG + "organizedBy"), ox.NamedNode(hub.entity(organiser))),
    ))])
    assert hub.sync().pushed.created == 1
    [created] = [e for e in platform.elements("events") if e["name"] == "Portes ouvertes"]
    assert organiser in created["links"]["organizer"], "the organiser link is written back"
    platform.clock.advance(5)
    hub.sync(full=True)
    key = created["_id"]["$id"] if isinstance(created["_id"], dict) else created["_id"]
    assert hub.entity(str(key)) == event
    assert hub.values(event, "organizedBy") == {hub.entity(organiser)}


def test_a_refused_write_is_recorded_not_fatal(platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    event = "https://example.org/evenement/sans-fin"
    subject = ox.NamedNode(event)
    hub.ingestor.ingest([Record(source="wiki", source_id=event, triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Event")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal("Sans date de fin", language="fr")),
        ox.Triple(subject, ox.NamedNode(MLG + "startDate"),
                  ox.Literal("2025-06-21", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date"))),
    ))])
    report = hub.sync()
    assert report.error is None and report.pushed.created == 0
    [refusal] = list_conflicts(hub.store, "co")
    assert refusal.entity == event and "Contenu Invalide" in refusal.reason


def test_reads_can_be_narrowed_to_a_source_key(platform: Communecter, monkeypatch: pytest.MonkeyPatch,
                                               tmp_path: Path) -> None:
    mapping = Path("mappings/communecter.toml").read_text().replace(
        '# read_key = "mon-costum"', 'read_key = "mon-costum"')
    path = tmp_path / "costum.toml"
    path.write_text(mapping)
    mine = platform.add_element("organizations", org("Du costum", source={"key": "mon-costum",
                                                                          "keys": ["mon-costum"]}))
    platform.add_element("organizations", org("Hors costum"))
    hub = co_hub(platform, monkeypatch)
    hub.config.sources[0].mapping = str(path)
    assert hub.sync().read.created == 1
    assert hub.values(hub.entity(mine), "name") == {"Du costum"}



def test_a_create_whose_answer_was_lost_is_not_sent_twice(platform: Communecter,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform saved the element but the answer never came (the client timed out): the hub
    looks for its element before sending the create again, instead of making a twin."""
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    entity = "https://example.org/acteur/sans-reponse"
    hub.other_source_says(entity, "Organization", name="Collectif sans réponse", shortDescription="Test.")
    platform.fail_next("lost", when=lambda method, path, params: path == "/co2/element/save", delay=3)
    report = hub.sync()
    assert report.pushed.created == 1
    [element] = [e for e in platform.elements("organizations") if e["name"] == "Collectif sans réponse"]
    assert hub.entity(element["_id"]["$id"]) == entity, "the element is recorded as the entity's"
    saves = [r for r in platform.requests if r.path == "/co2/element/save"]
    assert len(saves) == 1, "the create went out once"


def test_a_full_pass_that_would_delete_most_elements_is_refused(platform: Communecter,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [platform.add_element("organizations", org(f"Asso {i:02}")) for i in range(12)]
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    for key in ids[:9]:
        platform.delete_element("organizations", key)
    report = hub.sync(full=True, ok=False)
    assert "only 3 of the 12 elements" in str(report.error)
    assert all(hub.entity(key) for key in ids), "nothing deleted"
    allowed = co_hub(platform, monkeypatch, max_deletions=1)
    allowed.store, allowed.ingestor = hub.store, hub.ingestor
    assert allowed.sync(full=True).read.deleted == 9, "a person who says the deletions are real gets them"


def test_a_pooled_connector_logs_in_once_and_a_failed_run_starts_afresh(
        platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    from hub.sync.pool import ConnectorPool

    hub = co_hub(platform, monkeypatch)
    hub.sync()  # first contact: read only
    pool = ConnectorPool(hub.config, hub.ingestor)
    logins = lambda: len([r for r in platform.requests if r.path == "/co2/person/authenticate"])  # noqa: E731
    for name in ("Collectif A", "Collectif B"):
        hub.other_source_says(f"https://example.org/acteur/{name[-1]}", "Organization", name=name)
        assert sync_source(hub.config, hub.ingestor, "co", pool=pool).error is None
    assert logins() == 1, "the second run reused the session of the first"
    platform.fail_next("5xx", count=100)
    assert sync_source(hub.config, hub.ingestor, "co", pool=pool).error is not None
    platform._faults.clear()
    hub.other_source_says("https://example.org/acteur/C", "Organization", name="Collectif C")
    assert sync_source(hub.config, hub.ingestor, "co", pool=pool).error is None
    assert logins() == 2, "after a failed run, a new connector (and session)"
    assert {"Collectif A", "Collectif B", "Collectif C"} <= {e["name"] for e in platform.elements("organizations")}
    pool.close()


def test_what_the_hub_held_before_a_source_was_connected_is_sent_only_on_backfill(
        platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = co_hub(platform, monkeypatch)
    hub.other_source_says("https://example.org/acteur/ancien", "Organization", name="Collectif ancien")
    hub.sync()
    hub.sync()
    assert "Collectif ancien" not in {e["name"] for e in platform.elements("organizations")}, \
        "a newly connected source receives what changes from its first run on"
    report = sync_source(hub.config, hub.ingestor, "co", backfill=True)
    assert report.error is None and report.pushed.created == 1
    assert "Collectif ancien" in {e["name"] for e in platform.elements("organizations")}
    assert sync_source(hub.config, hub.ingestor, "co", backfill=True).pushed.created == 0, "never twice"


def test_a_create_the_platform_finishes_after_the_client_gave_up_is_not_made_twice(
        platform: Communecter, monkeypatch: pytest.MonkeyPatch) -> None:
    """The platform is slow: it saves after the client's timeout. The hub keeps looking for its
    element for one more timeout before sending the create again."""
    hub = co_hub(platform, monkeypatch)
    hub.sync()
    entity = "https://example.org/projet/lent"  # a project: the platform has no unique-name rule for them
    hub.other_source_says(entity, "Project", name="Projet lent", shortDescription="Test.")
    platform.fail_next("timeout", when=lambda method, path, params: path == "/co2/element/save", delay=2.6)
    started = time.monotonic()
    assert hub.sync().pushed.created == 1
    time.sleep(max(0.0, started + 3.0 - time.monotonic()))  # the slow save has landed by now
    assert len([e for e in platform.elements("projects") if e["name"] == "Projet lent"]) == 1

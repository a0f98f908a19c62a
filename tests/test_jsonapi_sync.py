"""The jsonapi connector with the shipped data·inclusion mapping, against the emulator
(tests/servers/data_inclusion.py), through a hub run as ``maillage sync`` runs it: what a person
harvesting data·inclusion sees (records, links, placing, licence), what a failing API does to a
sync (a message, nothing lost), and what the quarantine says of bad records. The contract every
connector keeps is checked by tests/connectors/test_contract.py."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.config import LICENCE_OUVERTE, ConfigError
from hub.iris import graph_iri
from hub.meta.candidates import list_candidates
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.provenance import stored_records
from hub.meta.quarantine import list_quarantine
from hub.pipeline.ingest import Ingestor
from hub.records import Record
from hub.vocab import MLG, RDF_TYPE
from tests.harness import HubUnderTest, jsonapi_config, jsonapi_source
from tests.servers.data_inclusion import DataInclusion, running_data_inclusion
from tests.servers.hub import serving

BASE = "https://w3id.org/maillage/id/"
SKOS_LABEL = "http://www.w3.org/2004/02/skos/core#prefLabel"


@pytest.fixture
def api() -> Iterator[DataInclusion]:
    with running_data_inclusion() as server:
        yield server


def di_hub(api: DataInclusion, monkeypatch: pytest.MonkeyPatch, **options: object) -> HubUnderTest:
    """A hub in memory with the emulator as its source "di" (Licence Ouverte declared)."""
    source = jsonapi_source(api, **{"retry_wait": 0.05, "max_retries": 2, "timeout": 2, **options})
    hub = HubUnderTest(source, monkeypatch=monkeypatch)
    hub.ingestor.licences = hub.config.licence_of
    return hub


def structure(key: str) -> str:
    return f"structures/{key}"


def service(key: str) -> str:
    return f"services/{key}"


def test_full_read_pages_structures_and_services_into_linked_entities(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    ids = [api.add_structure() for _ in range(25)]
    tournesol = api.add_structure(nom="Centre social Le Tournesol", siret="13003013300016",
                                  adresse="3 rue des Fleurs", code_postal="69001", commune="Lyon",
                                  code_insee="69381", latitude=45.7676, longitude=4.8344,
                                  courriel="accueil@tournesol.example.org", telephone="+33478000001")
    atelier = api.add_service(tournesol, nom="Atelier numérique",
                              thematiques=["numerique--acceder-a-des-services-en-ligne", "famille--garde-denfants"],
                              publics=["seniors", "jeunes"], frais="payant", type="atelier",
                              zone_eligibilite=["69", "200046977", "69123"],
                              contact_nom_prenom="Dominique Intime", courriel="atelier@tournesol.example.org")
    hub = di_hub(api, monkeypatch, page_size=10)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (27, 0)
    pages = [params for path, params in api.requests if path == "/api/v1/structures"]
    assert [p["page"] for p in pages] == ["1", "2", "3"], "26 structures come in pages of 10"
    org = hub.entity(structure(tournesol))
    assert hub.values(org, "name") == {"Centre social Le Tournesol"}
    assert hub.values(org, "siret") == {"13003013300016"}
    assert hub.values(org, "inseeCode") == {"69381"} and hub.values(org, "latitude") == {"45.7676"}
    assert hub.values(org, "email") == {"accueil@tournesol.example.org"}, "an organisation's contact is public"
    assert hub.values(org, "territory") == {f"{BASE}territory/commune-69123"}, "placed in Lyon by its INSEE code"
    offer = hub.entity(service(atelier))
    assert hub.values(offer, "providedBy") == {org}, "a service links to its structure"
    assert hub.values(offer, "theme") == {"Accéder à des services en ligne", "Garde d’enfants"}
    assert hub.values(offer, "fees") == {"Payant"}
    audiences = hub.values(offer, "audience")
    assert audiences == {"https://w3id.org/maillage/id/concept/data-inclusion/publics/seniors",
                         "https://w3id.org/maillage/id/concept/data-inclusion/publics/jeunes"}
    labels = {r["l"].value for r in hub.store.select(
        f"SELECT ?l WHERE {{ <{sorted(audiences)[0]}> <{SKOS_LABEL}> ?l }}")}
    assert labels == {"Jeunes"}, "a code becomes a SKOS concept with data·inclusion's label"
    assert hub.values(offer, "eligibilityArea") == {
        f"{BASE}territory/departement-69", f"{BASE}territory/epci-200046977", f"{BASE}territory/commune-69123"}
    assert not hub.store.ask('ASK { GRAPH ?g { ?s ?p "Dominique Intime" } }'), "a person's name is not read"
    graph = graph_iri(BASE, "di", structure(tournesol))
    assert stored_records(hub.store, [graph])[graph].license == LICENCE_OUVERTE, "provenance names the licence"
    assert len(ids) == 25


def test_reading_again_rewrites_nothing_and_a_change_updates_one_entity(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    first = api.add_structure(nom="Maison France Services")
    api.add_structure(nom="Épicerie solidaire")
    api.add_service(first, nom="Aide aux démarches")
    hub = di_hub(api, monkeypatch)
    hub.sync()
    before = last_sequence(hub.store)
    again = hub.sync()
    assert (again.read.created, again.read.updated, again.read.unchanged) == (0, 0, 3)
    assert last_sequence(hub.store) == before, "nothing logged when nothing changed"
    api.update(first, nom="Maison France Services de Lyon")
    changed = hub.sync()
    assert (changed.read.created, changed.read.updated, changed.read.deleted) == (0, 1, 0)
    assert [c.entity for c in read_changes(hub.store, since=before)] == [hub.entity(structure(first))]
    assert hub.values(hub.entity(structure(first)), "name") == {"Maison France Services de Lyon"}


def test_a_record_removed_upstream_is_deleted(api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    keep = api.add_structure()
    gone = api.add_structure()
    offer = api.add_service(gone)
    hub = di_hub(api, monkeypatch)
    hub.sync()
    entities = hub.entity(structure(gone)), hub.entity(service(offer))
    api.delete(offer)
    api.delete(gone)
    report = hub.sync()
    assert report.read.deleted == 2
    assert not any(hub.holds(e) for e in entities)
    assert hub.holds(hub.entity(structure(keep)))


def test_a_pass_that_would_delete_most_records_is_refused(api: DataInclusion,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [api.add_structure() for _ in range(12)]
    hub = di_hub(api, monkeypatch)
    hub.sync()
    for key in keys[1:]:
        api.delete(key)
    report = hub.sync(ok=False)
    assert report.error is not None and "max_deletions" in report.error
    assert all(hub.holds(hub.entity(structure(k))) for k in keys), "nothing deleted"


def test_refused_credentials_stop_the_sync_with_a_message_and_keep_the_data(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    key = api.add_structure(nom="Point conseil budget")
    hub = di_hub(api, monkeypatch)
    hub.sync()
    monkeypatch.setenv("MAILLAGE_TEST_DI_TOKEN", "jeton-perime")
    report = hub.sync(ok=False)
    assert report.error is not None and "refused the credentials" in report.error and "401" in report.error
    assert hub.values(hub.entity(structure(key)), "name") == {"Point conseil budget"}
    monkeypatch.setenv("MAILLAGE_TEST_DI_TOKEN", api.widget_token)
    assert "403" in (hub.sync(ok=False).error or "")
    statuses = [path for path, _ in api.requests if path == "/api/v1/structures"]
    assert len(statuses) == 3, "a refusal is not retried"


def test_a_missing_token_variable_is_named(api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = di_hub(api, monkeypatch)
    monkeypatch.delenv("MAILLAGE_TEST_DI_TOKEN")
    report = hub.sync(ok=False)
    assert report.error is not None and "MAILLAGE_TEST_DI_TOKEN" in report.error


@pytest.mark.parametrize("fault", ["5xx", "429", "timeout", "html", "malformed"])
def test_a_page_that_fails_once_is_asked_again(api: DataInclusion, monkeypatch: pytest.MonkeyPatch,
                                                fault: str) -> None:
    for _ in range(3):
        api.add_structure()
    api.fail_next(fault, delay=3, when=lambda path, params: path == "/api/v1/structures" and params.get("page") == "2")
    hub = di_hub(api, monkeypatch, page_size=2)
    report = hub.sync()
    assert report.read.created == 3
    asked = [p["page"] for path, p in api.requests if path == "/api/v1/structures"]
    assert asked == ["1", "2", "2"]


@pytest.mark.parametrize(("fault", "said"), [("5xx", "HTTP 503"), ("html", "an HTML page instead of JSON"),
                                              ("malformed", "malformed JSON"), ("timeout", "no answer before the timeout")])
def test_a_page_that_keeps_failing_ends_the_sync_with_a_reason_and_loses_nothing(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch, fault: str, said: str) -> None:
    keys = [api.add_structure() for _ in range(4)]
    hub = di_hub(api, monkeypatch, page_size=2)
    hub.sync()
    api.update(keys[0], nom="Nom changé en page 1")
    api.fail_next(fault, count=5, delay=3,
                  when=lambda path, params: path == "/api/v1/structures" and params.get("page") == "2")
    report = hub.sync(ok=False)
    assert report.error is not None and said in report.error and "page=2" in report.error
    assert report.read.deleted == 0
    assert all(hub.holds(hub.entity(structure(k))) for k in keys), "what was stored stays"
    assert hub.values(hub.entity(structure(keys[0])), "name") == {"Nom changé en page 1"}, \
        "the pages read before the failure are kept"


def test_a_service_of_an_unknown_structure_is_quarantined_with_the_reason(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    known = api.add_structure()
    api.add_service(known, nom="Service rattaché")
    orphan = api.add_service("dora--structure-fantome", nom="Service orphelin")
    hub = di_hub(api, monkeypatch)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (2, 1)
    [entry] = list_quarantine(hub.store, "di")
    assert entry.source_id == service(orphan)
    assert "dora--structure-fantome" in entry.reason and "does not list" in entry.reason


def test_bad_records_are_quarantined_with_their_source_id(api: DataInclusion,
                                                          monkeypatch: pytest.MonkeyPatch) -> None:
    good = api.add_structure(nom="Structure correcte")
    blank = api.add_structure(nom="   ")  # three characters: data·inclusion's min_length is met
    north = api.add_structure(latitude=123.4)  # the schema bounds no coordinate
    mail = api.add_structure(courriel="accueil-at-structure.example.org")
    hub = di_hub(api, monkeypatch)
    report = hub.sync()
    assert (report.read.created, report.read.quarantined) == (1, 3)
    reasons = {e.source_id: e.reason for e in list_quarantine(hub.store, "di")}
    assert set(reasons) == {structure(blank), structure(north), structure(mail)}
    assert "name" in reasons[structure(blank)].lower() or "nom" in reasons[structure(blank)].lower()
    assert "latitude" in reasons[structure(north)].lower()
    assert "mail" in reasons[structure(mail)].lower()
    assert hub.holds(hub.entity(structure(good)))


def test_a_jsonapi_source_is_read_only(api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    source = jsonapi_source(api)
    source.settings.direction = "both"
    hub = HubUnderTest(source, monkeypatch=monkeypatch)
    report = hub.sync(ok=False)
    assert report.error is not None and "read-only" in report.error
    with pytest.raises(ConfigError):
        from connectors.jsonapi.mapping import parse_mapping
        parse_mapping({"endpoints": [{"name": "x", "path": "/x", "class": "Organization", "id": "id",
                                      "fields": {"nom": "name", "s": {"property": "p", "link": "nulle-part"}}}]})


def test_a_retry_after_longer_than_allowed_ends_the_sync_with_the_reason(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    api.add_structure()
    api.fail_next("429", count=3)
    report = di_hub(api, monkeypatch, max_retry_after=0.5).sync(ok=False)
    assert report.error is not None and "HTTP 429" in report.error and "asks to wait 1 s" in report.error
    assert len(api.requests) == 1, "not asked again before the wait the API asks for"


def test_a_structure_another_source_knows_becomes_that_entity_or_a_review_entry(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    hub = di_hub(api, monkeypatch)
    wiki = "https://wiki.example.org/entite/"
    org, place, name = (ox.NamedNode(MLG + c) for c in ("Organization", "Place", "name"))
    hub.ingestor.ingest([
        Record("wiki", "La Raffinerie", (
            ox.Triple(ox.NamedNode(wiki + "raffinerie"), ox.NamedNode(RDF_TYPE), org),
            ox.Triple(ox.NamedNode(wiki + "raffinerie"), name, ox.Literal("La Raffinerie", language="fr")),
            ox.Triple(ox.NamedNode(wiki + "raffinerie"), ox.NamedNode(MLG + "url"),
                      ox.NamedNode("https://laraffinerie.example.org/")))),
        Record("wiki", "Le Tournesol", (
            ox.Triple(ox.NamedNode(wiki + "tournesol"), ox.NamedNode(RDF_TYPE), place),
            ox.Triple(ox.NamedNode(wiki + "tournesol"), name, ox.Literal("Le Tournesol", language="fr")),
            ox.Triple(ox.NamedNode(wiki + "tournesol"), ox.NamedNode(MLG + "postalCode"), ox.Literal("69001")))),
    ])
    same_site = api.add_structure(nom="La Raffinerie", site_web="https://laraffinerie.example.org/")
    same_name = api.add_structure(nom="Le Tournesol", code_postal="69001", site_web=None)
    assert hub.sync().read.created == 2
    assert hub.entity(structure(same_site)) == wiki + "raffinerie", "the same web address: one entity, two records"
    [candidate] = list_candidates(hub.store)
    assert (candidate.source_id, candidate.existing) == (structure(same_name), wiki + "tournesol"), \
        "the same name in the same postal code waits for a person's decision"


def test_records_that_move_between_pages_during_a_read_delete_nothing(
        api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [api.add_structure() for _ in range(5)]
    hub = di_hub(api, monkeypatch, page_size=2)
    hub.sync()
    api.on_request = lambda path, query: api.delete(keys[0]) if query.get("page") == "2" else None
    report = hub.sync(ok=False)  # page 1 lists keys 0-1; then key 0 goes and key 2 slides onto page 1
    assert report.error is not None and "changed while it was read" in report.error
    assert report.read.deleted == 0 and hub.holds(hub.entity(structure(keys[2]))), "key 2 was not listed, not deleted"
    api.on_request = None
    assert hub.sync().read.deleted == 1, "the next read lists everything and deletes what is gone"


def test_a_served_hub_lists_the_services_with_their_structure(api: DataInclusion, tmp_path: Path,
                                                              monkeypatch: pytest.MonkeyPatch) -> None:
    tournesol = api.add_structure(nom="Centre social Le Tournesol", courriel="accueil@tournesol.example.org")
    atelier = api.add_service(tournesol, nom="Atelier numérique", publics=["seniors"], frais="gratuit",
                              contact_nom_prenom="Dominique Intime")
    monkeypatch.setenv("MAILLAGE_TEST_DI_SERVED_TOKEN", api.token)
    config = jsonapi_config(api.url, "MAILLAGE_TEST_DI_SERVED_TOKEN")
    with serving(tmp_path / "data", config, demo=False) as hub:
        done = httpx.post(f"{hub.url}/sources/di/sync", headers=hub.auth, timeout=60).json()
        assert done["error"] is None, done
        [item] = httpx.get(f"{hub.url}/api/services").json()["items"]
        assert item["name"] == "Atelier numérique" and item["type"] == "Service"
        assert item["id"] == f"{BASE}service/di/services/{atelier}"
        offer = httpx.get(hub.url + item["href"], headers={"Accept": "application/ld+json"}).json()
        assert offer["providedBy"] == f"{BASE}organization/di/structures/{tournesol}"
        assert offer["fees"] == {"@value": "Gratuit", "@language": "fr"}
        assert offer["audience"] == "https://w3id.org/maillage/id/concept/data-inclusion/publics/seniors"
        [org] = httpx.get(f"{hub.url}/api/actors").json()["items"]
        actor = httpx.get(hub.url + org["href"], headers={"Accept": "application/ld+json"}).json()
        assert actor["email"] == "accueil@tournesol.example.org", "an organisation's contact is public"
        anonymous = httpx.get(f"{hub.url}/sparql", params={"query": 'ASK { ?s ?p "Dominique Intime" }'},
                              headers={"Accept": "application/sparql-results+json"}).json()
        assert anonymous["boolean"] is False


def test_a_harvest_killed_midway_resumes_without_loss_or_twins(api: DataInclusion,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    keys = [api.add_structure() for _ in range(9)]
    hub = di_hub(api, monkeypatch, page_size=2, batch_size=2)
    real = Ingestor.ingest_batch
    calls = iter(range(100))

    def dies_at_the_third_commit(ingestor: Ingestor, *args: object, **kwargs: object) -> object:
        if next(calls) == 2:
            raise KeyboardInterrupt("killed between two batches")
        return real(ingestor, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(Ingestor, "ingest_batch", dies_at_the_third_commit)
    with pytest.raises(KeyboardInterrupt):
        hub.sync(ok=False)
    monkeypatch.setattr(Ingestor, "ingest_batch", real)
    assert sum(hub.holds(f"{BASE}organization/di/structures/{k}") for k in keys) == 4, "two batches committed"
    report = hub.sync()
    assert (report.read.created, report.read.unchanged, report.read.deleted) == (5, 4, 0)
    assert all(hub.holds(hub.entity(structure(k))) for k in keys)

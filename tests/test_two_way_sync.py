"""The Movilab ↔ Communecter scenario end to end: a real MediaWiki, the Communecter emulator."""

from __future__ import annotations

import difflib
from collections.abc import Iterator
from pathlib import Path

import pytest

from hub.config import SourceSettings
from hub.errors import NotFound
from hub.meta.conflicts import list_conflicts
from hub.sync.engine import sync_all
from tests.harness import BOT_EMAIL, BOT_PASSWORD, HubUnderTest, communecter_source, mediawiki_source
from tests.servers.communecter import Communecter, running_communecter
from tests.servers.mediawiki import Wiki, running_wiki

TIERS_LIEU = """{{{{Tiers-lieu
|nom={name}
|description courte={description}
|adresse=3 rue de la Paix
|code postal=35000
|ville=Rennes
|thème=Numérique
}}}}
Texte libre écrit par l'équipe du lieu."""


class TwoWayHub(HubUnderTest):
    """Movilab's wiki ("movilab") and the platform ("co"), both ways."""

    def __init__(self, wiki: Wiki, platform: Communecter, monkeypatch: pytest.MonkeyPatch,
                 platform_mapping: str | None = None) -> None:
        super().__init__(mediawiki_source(wiki, "movilab", "mappings/movilab.toml", retry_wait=0.1),
                         communecter_source(platform, mapping=platform_mapping, timeout=3),
                         monkeypatch=monkeypatch)
        self.platform = platform

    def poi(self, name: str) -> dict[str, object]:
        found = [e for e in self.platform.elements("poi") if e.get("name") == name]
        assert len(found) == 1, f"{len(found)} POI named {name!r}"
        return found[0]


@pytest.fixture
def sides(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TwoWayHub, Wiki, Communecter]]:
    with running_wiki() as wiki, running_communecter() as platform:
        platform.add_user(BOT_EMAIL, BOT_PASSWORD, "maillage-bot")
        hub = TwoWayHub(wiki, platform, monkeypatch)
        hub.sync_all()  # first contact: both sides read
        yield hub, wiki, platform
        hub.store.close()


def test_a_tiers_lieu_created_on_the_wiki_reaches_the_platform_and_back(
        sides: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = sides
    wiki.edit_as_human("La Cantine numérique", TIERS_LIEU.format(name="La Cantine numérique",
                                                                   description="Lieu du numérique."))
    hub.sync_all()
    poi = hub.poi("La Cantine numérique")
    assert poi["shortDescription"] == "Lieu du numérique."
    assert poi["address"]["postalCode"] == "35000" and poi["address"]["addressLocality"] == "Rennes"  # type: ignore[index]
    before = wiki.page_text("La Cantine numérique")
    platform.clock.advance(60)
    key = poi["_id"]["$id"] if isinstance(poi["_id"], dict) else poi["_id"]  # type: ignore[index]
    platform.update_element("poi", str(key), {"shortDescription": "Lieu du numérique et du faire."})
    hub.sync_all()
    after = wiki.page_text("La Cantine numérique")
    changed = [d for d in difflib.ndiff(before.splitlines(), after.splitlines()) if d.startswith(("+ ", "- "))]
    assert changed == ["- |description courte=Lieu du numérique.",
                       "+ |description courte=Lieu du numérique et du faire."]
    edits = wiki.api(action="query", prop="revisions", titles="La Cantine numérique", rvlimit=50)
    assert len(edits["query"]["pages"][0]["revisions"]) == 2, "one human edit, one hub edit: no echo"
    hub.sync_all()
    assert len([e for e in platform.elements("poi") if e.get("name") == "La Cantine numérique"]) == 1


def test_the_first_sync_brings_each_side_what_the_other_holds(
        before_first_sync: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = before_first_sync
    platform.add_element("poi", {"name": "La Grange", "type": "place", "shortDescription": "Tiers-lieu rural."})
    hub.sync_all()
    assert "|description courte=Tiers-lieu rural." in wiki.page_text("La Grange")
    assert {"La Raffinerie", "Le WIP"} <= {str(e.get("name")) for e in platform.elements("poi")}, \
        "the wiki's tiers-lieux reach the platform in the same first run"


def test_a_place_created_on_the_platform_gets_a_wiki_page(sides: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = sides
    platform.clock.advance(30)
    platform.add_element("poi", {"name": "Le Bocal", "type": "place", "shortDescription": "Atelier partagé.",
                                 "address": {"@type": "PostalAddress", "postalCode": "44000",
                                             "addressLocality": "Nantes"}})
    hub.sync_all()
    text = wiki.page_text("Le Bocal")
    assert text.startswith("{{Tiers-lieu") and "|description courte=Atelier partagé." in text
    assert "|code postal=44000" in text and "|ville=Nantes" in text
    hub.sync_all()
    assert len([e for e in platform.elements("poi") if e.get("name") == "Le Bocal"]) == 1


def test_concurrent_edits_merge_and_the_same_field_is_one_conflict(
        sides: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = sides
    wiki.edit_as_human("Le Hangar", TIERS_LIEU.format(name="Le Hangar", description="Un hangar."))
    hub.sync_all()
    key = str(hub.poi("Le Hangar")["_id"]["$id"])  # type: ignore[index]
    # both sides edit: the wiki the town and the description, the platform the description too
    text = wiki.page_text("Le Hangar")
    wiki.edit_as_human("Le Hangar", text.replace("|ville=Rennes", "|ville=Saint-Malo")
                       .replace("|description courte=Un hangar.", "|description courte=Version du wiki."))
    platform.clock.advance(60)
    platform.update_element("poi", key, {"shortDescription": "Version de la plateforme."})
    hub.sync_all()
    hub.sync_all()
    assert hub.poi("Le Hangar")["address"]["addressLocality"] == "Saint-Malo"  # type: ignore[index]
    page = wiki.page_text("Le Hangar")
    assert "|description courte=Version du wiki." in page, "the wiki's edit is not lost"
    assert hub.poi("Le Hangar")["shortDescription"] == "Version de la plateforme.", "nor the platform's"
    conflicts = list_conflicts(hub.store)
    assert len(conflicts) == 1 and "Version" in conflicts[0].hub_value + conflicts[0].source_value


@pytest.fixture
def before_first_sync(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[TwoWayHub, Wiki, Communecter]]:
    with running_wiki() as wiki, running_communecter() as platform:
        platform.add_user(BOT_EMAIL, BOT_PASSWORD, "maillage-bot")
        yield TwoWayHub(wiki, platform, monkeypatch), wiki, platform


def test_a_place_known_on_both_sides_is_one_entity(before_first_sync: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = before_first_sync
    wiki.edit_as_human("La Serre", TIERS_LIEU.format(name="La Serre", description="Version du wiki.")
                       .replace("|thème=", "|site web=https://la-serre.example.org\n|thème="))
    platform.add_element("poi", {"name": "La Serre (Rennes)", "type": "place", "url": "https://la-serre.example.org",
                                 "shortDescription": "Version de la plateforme."})
    hub.sync_all()
    hub.sync_all()
    assert len([e for e in platform.elements("poi") if "Serre" in str(e.get("name"))]) == 1, "no twin element"
    assert "Version du wiki." in wiki.page_text("La Serre"), "nothing copied over at the first link"
    assert hub.poi("La Serre (Rennes)")["shortDescription"] == "Version de la plateforme."
    rows = hub.store.select("SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE { ?e <https://w3id.org/maillage/ontology#url> "
                            "<https://la-serre.example.org> }")
    assert int(rows[0]["n"].value) == 1, "one entity with two source records"
    text = wiki.page_text("La Serre")
    wiki.edit_as_human("La Serre", text.replace("Version du wiki.", "Version commune."))
    hub.sync_all()
    assert hub.poi("La Serre (Rennes)")["shortDescription"] == "Version commune.", "later edits flow"


def test_a_likely_match_waits_for_a_person(before_first_sync: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    from hub.meta.candidates import list_candidates
    from hub.pipeline.match import accept

    hub, wiki, platform = before_first_sync
    wiki.edit_as_human("Le Moulin", TIERS_LIEU.format(name="Le Moulin", description="Du wiki."))
    platform.add_element("poi", {"name": "Le  moulin", "type": "place",
                                 "address": {"@type": "PostalAddress", "postalCode": "35000"}})
    hub.sync_all()
    assert [e["name"] for e in platform.elements("poi") if "oulin" in str(e.get("name"))] == ["Le  moulin"], \
        "nothing is created on either side while the pair waits"
    [candidate] = list_candidates(hub.store)
    assert candidate.confidence == 0.8 and "postal code" in candidate.reason
    accept(hub.ingestor, candidate.id)
    rows = hub.store.select("SELECT DISTINCT ?e WHERE { ?e <https://w3id.org/maillage/ontology#name> ?n "
                            "FILTER(LCASE(STR(?n)) = 'le moulin' || STR(?n) = 'Le  moulin') }")
    assert [r["e"].value for r in rows] == [candidate.existing], "merged into the existing entity"
    assert list_candidates(hub.store) == []
    hub.sync_all()
    assert len([e for e in platform.elements("poi") if "oulin" in str(e.get("name"))]) == 1
    assert wiki.page_text("Le  moulin") == ""


def test_a_second_wiki_receives_only_what_its_mapping_covers(monkeypatch: pytest.MonkeyPatch) -> None:
    with running_wiki() as movilab, running_wiki() as fabmob, running_communecter() as platform:
        platform.add_user(BOT_EMAIL, BOT_PASSWORD, "maillage-bot")
        hub = TwoWayHub(movilab, platform, monkeypatch)
        hub.add(mediawiki_source(fabmob, "fabmob", retry_wait=0.1))
        hub.sync_all()
        platform.clock.advance(30)
        platform.add_element("organizations", {"name": "Collectif Vélo Rennes", "type": "NGO",
                                               "shortDescription": "Atelier et plaidoyer vélo."})
        platform.add_element("poi", {"name": "La Vélorution", "type": "place", "shortDescription": "Atelier."})
        hub.sync_all()
        assert fabmob.page_text("Collectif Vélo Rennes").startswith("{{Acteur"), "an actor: FabMob maps it"
        assert movilab.page_text("Collectif Vélo Rennes") == "", "Movilab's mapping has no actors"
        assert movilab.page_text("La Vélorution").startswith("{{Tiers-lieu")
        assert fabmob.page_text("La Vélorution") == "", "FabMob's mapping has no places"


def test_a_conflict_settled_with_a_new_value_reaches_both_sides(
        sides: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    from hub.sync.resolve import resolve

    hub, wiki, platform = sides
    wiki.edit_as_human("L'Arrosoir", TIERS_LIEU.format(name="L'Arrosoir", description="Départ."))
    hub.sync_all()
    key = str(hub.poi("L'Arrosoir")["_id"]["$id"])  # type: ignore[index]
    text = wiki.page_text("L'Arrosoir")
    wiki.edit_as_human("L'Arrosoir", text.replace("|description courte=Départ.", "|description courte=Wiki."))
    platform.clock.advance(60)
    platform.update_element("poi", key, {"shortDescription": "Plateforme."})
    hub.sync_all()
    [conflict] = list_conflicts(hub.store)
    resolve(hub.ingestor, conflict.id, "value", "Texte convenu.")
    hub.sync_all()
    hub.sync_all()
    assert "|description courte=Texte convenu." in wiki.page_text("L'Arrosoir")
    assert hub.poi("L'Arrosoir")["shortDescription"] == "Texte convenu."
    assert list_conflicts(hub.store) == []


def test_members_who_join_the_tiers_lieu_on_the_platform_show_on_its_wiki_page(
        monkeypatch: pytest.MonkeyPatch) -> None:
    """In a tiers-lieux costum a tiers-lieu is an organisation: people join it on the platform,
    events are organised there, and the wiki page lists both (parameters the wiki shows and the
    hub never reads back)."""
    with running_wiki() as wiki, running_communecter() as platform:
        bot = platform.add_user(BOT_EMAIL, BOT_PASSWORD, "maillage-bot")
        hub = TwoWayHub(wiki, platform, monkeypatch, platform_mapping="mappings/communecter-tierslieux.toml")
        hub.sync_all()
        wiki.edit_as_human("La Cantine", TIERS_LIEU.format(name="La Cantine", description="Lieu du numérique."))
        hub.sync_all()
        [org] = [e for e in platform.elements("organizations") if e.get("name") == "La Cantine"]
        assert org["shortDescription"] == "Lieu du numérique." and org["address"]["postalCode"] == "35000"
        assert "|membres=" not in wiki.page_text("La Cantine"), "the hub's own account is no member"
        platform.clock.advance(60)
        alice = platform.add_user("alice@example.org", "secret-alice", "alice", name="Alice Martin")
        bob = platform.add_user("bob@example.org", "secret-bob", "bob", name="Bob Durand")
        key = str(org["_id"]["$id"])
        platform.add_member(key, alice)
        platform.add_member(key, bob)
        event = platform.add_element("events", {"name": "Fête de la Cantine", "type": "festival",
                                                "startDate": "2027-06-12T10:00:00Z", "endDate": "2027-06-12T18:00:00Z",
                                                "links": {"organizer": {key: {"type": "organizations"}}}})
        platform.update_element("organizations", key, {f"links.events.{event}": {"type": "events"}})
        hub.sync_all()
        page = wiki.page_text("La Cantine")
        assert "|membres=Alice Martin, Bob Durand" in page
        assert "|événements=Fête de la Cantine" in page, "the platform's events are listed too"
        assert wiki.page_text("Fête de la Cantine").startswith("{{Événement"), "and get their own page"
        assert "Texte libre écrit par l'équipe du lieu." in page, "the rest of the page is kept"
        hub.sync_all()
        revisions = wiki.api(action="query", prop="revisions", titles="La Cantine", rvlimit=50)
        assert len(revisions["query"]["pages"][0]["revisions"]) == 2, "one human edit, one hub edit: no echo"
        platform.clock.advance(60)
        platform.update_element("organizations", key, {"links.members": {bot: {"type": "citoyens"},
                                                                         alice: {"type": "citoyens"}}})
        hub.sync_all()
        assert "|membres=Alice Martin\n" in wiki.page_text("La Cantine"), "a member who left goes away"
        assert len(platform.elements("citoyens")) == 3, "the hub never creates accounts for people"


def test_events_projects_and_commons_documented_on_the_wiki_reach_the_platform(
        sides: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = sides
    wiki.edit_as_human("Fête des tiers-lieux", "{{Événement\n|nom=Fête des tiers-lieux\n"
                       "|description courte=Portes ouvertes.\n|date de début=12/06/2027\n"
                       "|date de fin=13/06/2027\n|ville=Rennes\n}}")
    wiki.edit_as_human("Jardin partagé", "{{Projet\n|nom=Jardin partagé\n|description courte=Potager.\n}}")
    wiki.edit_as_human("Outils partagés", "{{Commun\n|nom=Outils partagés\n|description courte=Outilthèque.\n"
                       "|mots-clés=outils, prêt\n}}")
    hub.sync_all()
    [event] = [e for e in platform.elements("events") if e.get("name") == "Fête des tiers-lieux"]
    assert event["shortDescription"] == "Portes ouvertes." and event["address"]["addressLocality"] == "Rennes"
    projects = {str(e.get("name")): e for e in platform.elements("projects")}
    assert "commun" not in (projects["Jardin partagé"].get("tags") or [])
    assert sorted(projects["Outils partagés"]["tags"]) == ["commun", "outils", "prêt"], \
        "a commons is a project tagged as one on the platform"
    hub.sync_all()
    page = wiki.page_text("Outils partagés")
    assert "|mots-clés=outils, prêt" in page, "the tag that marks a commons is no keyword on the wiki"
    rows = hub.store.select("SELECT ?c WHERE { ?e <https://w3id.org/maillage/ontology#name> 'Outils partagés'@fr ; a ?c }")
    assert {r["c"].value.rsplit("#", 1)[1] for r in rows} == {"Commons"}, "read back as a commons, not a project"
    assert len(platform.elements("projects")) == 2, "no twin"


def test_a_resource_created_on_the_platform_gets_a_page_from_the_wikis_template(
        sides: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = sides
    platform.clock.advance(30)
    platform.add_element("ressources", {"name": "Monter une cantine associative", "type": "ressource",
                                        "shortDescription": "Retour d'expérience.",
                                        "tags": ["cantine", "alimentation"]})
    hub.sync_all()
    text = wiki.page_text("Monter une cantine associative")
    assert text.startswith("{{Fiche recette\n") and "== Étapes ==" in text
    assert "|description courte=Retour d'expérience." in text and "|mots-clés=alimentation, cantine" in text
    hub.sync_all()
    revisions = wiki.api(action="query", prop="revisions", titles="Monter une cantine associative", rvlimit=50)
    assert len(revisions["query"]["pages"][0]["revisions"]) == 1, "created once, no echo"


def test_a_page_that_names_its_platform_element_is_linked_to_it(
        before_first_sync: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    """An explicit link beats every guess: the names differ, no web address is shared."""
    hub, wiki, platform = before_first_sync
    platform.add_element("poi", {"name": "Forge (Lyon 7e)", "type": "place", "slug": "forgelyon",
                                 "shortDescription": "Version de la plateforme."})
    wiki.edit_as_human("La Forge", TIERS_LIEU.format(name="La Forge", description="Version du wiki.")
                       .replace("|thème=", f"|communecter={platform.url}/#@forgelyon\n|thème="))
    wiki.edit_as_human("Le Phare", TIERS_LIEU.format(name="Le Phare", description="Un phare.")
                       .replace("|thème=", "|communecter=https://www.wikidata.org/wiki/Q1\n|thème="))
    hub.sync_all()
    hub.sync_all()
    assert [e["name"] for e in platform.elements("poi") if "Forge" in str(e.get("name"))] == ["Forge (Lyon 7e)"]
    rows = hub.store.select("SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE { GRAPH ?g { ?e "
                            "<https://w3id.org/maillage/ontology#name> ?name } FILTER(CONTAINS(?name, 'Forge')) }")
    assert int(rows[0]["n"].value) == 2, "two records of one entity"
    assert len({r["e"].value for r in hub.store.select(
        "SELECT ?e WHERE { ?e <https://w3id.org/maillage/ontology#name> ?n FILTER(CONTAINS(?n, 'Forge')) }")}) == 1
    assert "Version du wiki." in wiki.page_text("La Forge"), "nothing copied over at the link"
    assert [e["name"] for e in platform.elements("poi") if e.get("name") == "Le Phare"] == ["Le Phare"], \
        "an address the hub does not know (Wikidata) links nothing: the place is created"


def test_a_failing_source_or_a_stale_mapping_stops_only_that_source(
        sides: tuple[TwoWayHub, Wiki, Communecter], tmp_path: Path) -> None:
    from hub.meta.status import source_statuses

    hub, wiki, platform = sides
    for i in range(12):
        wiki.edit_as_human(f"Lieu {i:02}", TIERS_LIEU.format(name=f"Lieu {i:02}", description="Un lieu."))
    wiki.edit_as_human("Lieu faux", TIERS_LIEU.format(name="Lieu faux", description="x")
                       .replace("|thème=", "|site web=pas une adresse\n|thème="))
    hub.sync_all()
    assert not [e for e in platform.elements("poi") if e.get("name") == "Lieu faux"], "quarantined, not sent"
    assert len([e for e in platform.elements("poi") if str(e.get("name")).startswith("Lieu ")]) == 12

    # the platform answers nothing but errors for a whole run: the wiki still syncs
    platform.fail_next("5xx", count=1000)
    wiki.edit_as_human("Lieu 00", wiki.page_text("Lieu 00").replace("Un lieu.", "Un lieu rénové."))
    reports = {r.source: r for r in sync_all(hub.config, hub.ingestor)}
    assert reports["movilab"].error is None and reports["movilab"].read.updated == 1
    assert "did not answer usably" in str(reports["co"].error)
    assert "did not answer usably" in str(source_statuses(hub.store)["co"]["last_error"])
    platform._faults.clear()
    hub.sync_all()
    [poi] = [e for e in platform.elements("poi") if e.get("name") == "Lieu 00"]
    assert poi["shortDescription"] == "Un lieu rénové.", "what waited is delivered once the platform is back"

    # the wiki's template was renamed and the mapping not updated: nothing is deleted anywhere
    stale = tmp_path / "movilab.toml"
    stale.write_text(Path("mappings/movilab.toml").read_text().replace('template = "Tiers-lieu"', 'template = "Lieu"'))
    movilab = hub.config.sources[0]
    hub.config.sources[0] = SourceSettings(**{**movilab.__dict__, "mapping": str(stale)})
    data = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } FILTER(?g != <urn:maillage:meta>) }"
    before = hub.store.select(data)[0]["n"].value
    reports = {r.source: r for r in sync_all(hub.config, hub.ingestor, full=True)}
    assert "max_deletions" in str(reports["movilab"].error) and "nothing was deleted" in str(reports["movilab"].error)
    assert reports["co"].error is None
    assert hub.store.select(data)[0]["n"].value == before, "no record of the wiki deleted"
    hub.config.sources[0] = movilab
    reports = {r.source: r for r in sync_all(hub.config, hub.ingestor, full=True)}
    assert reports["movilab"].error is None and reports["movilab"].read.deleted == 0


def test_a_page_deleted_on_the_wiki_is_not_recreated_and_leaves_the_platform_element(
        sides: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    hub, wiki, platform = sides
    wiki.edit_as_human("La Ruche", TIERS_LIEU.format(name="La Ruche", description="Un lieu."))
    hub.sync_all()
    [poi] = [e for e in platform.elements("poi") if e.get("name") == "La Ruche"]
    wiki.delete("La Ruche")
    hub.sync_all()
    hub.sync_all()
    assert next(e for e in platform.elements("poi") if e.get("name") == "La Ruche").get("state") != "deleted"
    rows = hub.store.select("SELECT ?e WHERE { ?e <https://w3id.org/maillage/ontology#name> ?n "
                            "FILTER(STR(?n) = 'La Ruche') }")
    assert len(rows) == 1, "the entity lives on through the platform's record"
    assert wiki.page_text("La Ruche") == "", "and the hub does not recreate the page"
    platform.clock.advance(60)
    platform.update_element("poi", str(poi["_id"]["$id"]), {"shortDescription": "Toujours là."})  # type: ignore[index]
    hub.sync_all()
    assert wiki.page_text("La Ruche") == "", "not even when the platform's element changes"


def test_a_rejected_match_lets_each_thing_reach_the_other_side(
        before_first_sync: tuple[TwoWayHub, Wiki, Communecter]) -> None:
    from hub.meta.candidates import list_candidates
    from hub.pipeline.match import reject

    hub, wiki, platform = before_first_sync
    wiki.edit_as_human("Le Moulin", TIERS_LIEU.format(name="Le Moulin", description="Du wiki."))
    platform.add_element("poi", {"name": "Le  moulin", "type": "place",
                                 "address": {"@type": "PostalAddress", "postalCode": "35000"}})
    hub.sync_all()
    [candidate] = list_candidates(hub.store)
    reject(hub.ingestor, candidate.id)
    assert list_candidates(hub.store) == []
    with pytest.raises(NotFound, match="no match candidate"):
        reject(hub.ingestor, candidate.id)
    hub.sync_all()
    hub.sync_all()
    names = sorted(str(e["name"]) for e in platform.elements("poi") if "oulin" in str(e.get("name")))
    assert names == ["Le  moulin", "Le Moulin"], "two different places: the wiki's reaches the platform"
    assert wiki.page_text("Le  moulin").startswith("{{Tiers-lieu"), "and the platform's gets its page"

"""Placing on real sources: a MediaWiki page naming its town in a free parameter and a platform
element with a merged commune's former INSEE code are both counted under their region by the
observatory query; an ambiguous town name makes a review entry and no link."""

from __future__ import annotations

import gzip
import json

import pytest

from hub.meta.placements import list_placements
from hub.pipeline.place_again import choice_plan
from hub.rdf.resources import ROOT
from hub.territories.index import DATA, TerritoryIndex
from hub.territories.index import iri as territory_iri
from hub.territories.reference import ensure_loaded
from hub.vocab import DEFAULT_BASE_IRI, MLG
from tests.harness import BOT_EMAIL, BOT_PASSWORD, HubUnderTest, communecter_source, mediawiki_source
from tests.servers.communecter import running_communecter
from tests.servers.mediawiki import Wiki


def reference(departments: tuple[str, ...]) -> TerritoryIndex:
    """The vendored reference kept to a few departments (and every EPCI, department and region):
    loaded by the same code as a real hub's first start, in seconds instead of a minute."""
    data = json.loads(gzip.decompress(DATA.read_bytes()))
    data["communes"] = [c for c in data["communes"] if c[2] in departments]
    return TerritoryIndex(data)


def test_wiki_towns_and_a_platform_insee_code_land_in_their_region(
    wiki: Wiki, monkeypatch: pytest.MonkeyPatch
) -> None:
    wiki.edit_as_human("Atelier vélo du Tonkin", "{{Acteur\n|name=Atelier vélo du Tonkin\n"
                       "|villes d'implantation=Villeurbanne\n}}\n[[Catégorie:Acteur]]", "new")
    wiki.edit_as_human("Collectif des Murs", "{{Acteur\n|name=Collectif des Murs\n"
                       "|villes d'implantation=Montreuil\n}}\n[[Catégorie:Acteur]]", "new")
    with running_communecter() as platform:
        platform.add_user(BOT_EMAIL, BOT_PASSWORD, "maillage-bot")
        platform.add_element("organizations", {
            "name": "Tiers-lieu de Banville", "type": "NGO", "shortDescription": "Un tiers-lieu.",
            "address": {"@type": "PostalAddress", "codeInsee": "14114"},  # Banville, now Troarn
        })
        hub = HubUnderTest(mediawiki_source(wiki), communecter_source(platform),
                           monkeypatch=monkeypatch)
        try:
            hub.sync_all()
            ensure_loaded(hub.store, DEFAULT_BASE_IRI, index=reference(("69", "14")))
            query = (ROOT / "sparql" / "observatory-by-region.rq").read_text()
            counts = {
                (r["regionName"].value, r["type"].value.removeprefix(MLG)): int(r["entities"].value)
                for r in hub.store.select(query)
            }
            assert counts == {  # only departments 69 and 14 are loaded: Paris counts nowhere here
                # the new page (Villeurbanne) and the fixture's FabMob page ("Paris, Lyon")
                ("Auvergne-Rhône-Alpes", "Organization"): 2,
                ("Auvergne-Rhône-Alpes", "Event"): 1,  # fixture pages with Lieu=Lyon
                ("Auvergne-Rhône-Alpes", "Project"): 1,
                ("Normandie", "Organization"): 1,  # former code 14114 → Troarn, from the platform
            }
            montreuil = hub.entity("Collectif des Murs", "fabmob")
            assert not hub.store.ask(f"ASK {{ <{montreuil}> <{MLG}territory> ?t }}")
            # the page, pushed to the platform and read back, asks twice: one answer settles both
            found = [c for c in list_placements(hub.store) if c.name == "Montreuil"]
            assert {c.source for c in found} == {"fabmob", "co"}
            assert all(c.communes[0] == "93048" for c in found), "most populous first"
            _, tx = choice_plan(hub.store, hub.ingestor.placer, found[0].id, "93048")
            hub.store.commit(tx)
            assert not [c for c in list_placements(hub.store) if c.name == "Montreuil"]
            hub.sync_all()
            assert not [c for c in list_placements(hub.store) if c.name == "Montreuil"]
            assert {r["t"].value for r in hub.store.select(
                f"SELECT DISTINCT ?t WHERE {{ <{montreuil}> <{MLG}territory> ?t }}")} == {
                territory_iri(DEFAULT_BASE_IRI, "commune", "93048")}
            assert "Villeurbanne" in wiki.page_text("Atelier vélo du Tonkin")
            assert "territory" not in wiki.page_text("Atelier vélo du Tonkin"), "never written back"
        finally:
            hub.close()

"""Placing on real sources: a MediaWiki page naming its town in a free parameter and a platform
element with a merged commune's former INSEE code are both counted under their region by the
observatory query; an ambiguous town name makes a review entry and no link."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from hub.meta.placements import list_placements
from hub.pipeline.place import choice_plan
from hub.rdf.resources import ROOT
from hub.territories.index import TerritoryIndex
from hub.territories.index import iri as territory_iri
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.harness import BOT_EMAIL, BOT_PASSWORD, HubUnderTest, communecter_source, mediawiki_source
from tests.servers.communecter import running_communecter
from tests.servers.mediawiki import Wiki


def hierarchy(codes: list[str]) -> list[ox.Quad]:
    """The reference's commune → department → region chain for these communes (what the
    "territoires" source loads in a real hub), kept to what the query reads."""
    index, quads = TerritoryIndex.load(), []
    graph = ox.NamedNode(DEFAULT_BASE_IRI + "graph/territoires/test")

    def say(s: str, p: str, o: ox.NamedNode | ox.Literal) -> None:
        quads.append(ox.Quad(ox.NamedNode(s), ox.NamedNode(p), o, graph))

    for code in codes:
        commune = index.communes[code]
        c = territory_iri(DEFAULT_BASE_IRI, "commune", code)
        d = territory_iri(DEFAULT_BASE_IRI, "departement", commune.department)
        r = territory_iri(DEFAULT_BASE_IRI, "region", commune.region)
        say(c, RDF_TYPE, ox.NamedNode(MLG + "Commune"))
        say(c, MLG + "partOfTerritory", ox.NamedNode(d))
        say(d, RDF_TYPE, ox.NamedNode(MLG + "Department"))
        say(d, MLG + "partOfTerritory", ox.NamedNode(r))
        say(r, RDF_TYPE, ox.NamedNode(MLG + "Region"))
        say(r, MLG + "name", ox.Literal(index.regions[commune.region].name))
    return quads


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
            hub.store.update("INSERT DATA { " + " ".join(
                f"GRAPH {q.graph_name} {{ {q.subject} {q.predicate} {q.object} }}"
                for q in hierarchy(["69266", "14712"])) + " }")
            query = (ROOT / "sparql" / "observatory-by-region.rq").read_text()
            counts = {
                (r["regionName"].value, r["type"].value.removeprefix(MLG)): int(r["entities"].value)
                for r in hub.store.select(query)
            }
            assert counts == {
                ("Auvergne-Rhône-Alpes", "Organization"): 1,  # Villeurbanne, from the wiki
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

"""Wikitext and mapping rules, without a wiki: exact round trips and the three-way merge."""

from __future__ import annotations

from pathlib import Path

import pyoxigraph as ox
import pytest

from connectors.mediawiki.client import PageRevision
from connectors.mediawiki.mapping import load_mapping
from connectors.mediawiki.pagemap import PageMapper, WikiIdentity, file_url_for, link_titles, page_url_for
from connectors.mediawiki.wikitext import WikitextError, read_page, set_params
from hub.config import ConfigError
from hub.sync.merge import plan
from hub.vocab import DEFAULT_BASE_IRI, MLG

MAPPING = load_mapping(Path("mappings/fabmob.toml"))
API = "http://wiki.test/api.php"
PAGE = """<!-- fiche importée en 2021 -->
{{Ressource
|Title=Registre de preuve de covoiturage
|Main_Picture=Logo RPC.png
|shortDescription=Outil public pour certifier les trajets {{Lien|Covoiturage|covoiturés}}.
|description=Le registre permet aux territoires
de vérifier les trajets déclarés.<ref>Source : beta.gouv.fr</ref>
|Tags=covoiturage, preuve,API
|Theme=Covoiturage
|Acteurs=[[La Fabrique des Mobilités]], [[L'Établi/Atelier vélo|l’Établi]]
}}
{{Navbox Mobilité}}
== Contexte ==
{| class="wikitable"
! Année !! Trajets
|-
| 2021 || 1 000
|}
Texte libre rédigé par la communauté.
[[Catégorie:Covoiturage]]
"""


def mapper() -> PageMapper:
    return PageMapper(MAPPING, WikiIdentity(DEFAULT_BASE_IRI, "fabmob"), page_url_for(API, None),
                      file_url_for(API))


def test_reading_a_page_keeps_values_text_and_categories() -> None:
    data = read_page(PAGE, MAPPING)
    assert data is not None
    assert data.mapping.hub_class == "Commons"
    assert data.values["Tags"] == "covoiturage, preuve,API"
    assert data.values["description"].startswith("Le registre permet aux territoires\nde vérifier")
    assert data.categories == ["Covoiturage"]
    assert "Texte libre rédigé" in data.free_text and "{{Navbox Mobilité}}" in data.free_text
    assert "Registre de preuve" not in data.free_text


def test_changing_one_parameter_changes_only_that_line() -> None:
    changed = set_params(PAGE, MAPPING, {"Theme": "Covoiturage, Données ouvertes"})
    before, after = PAGE.splitlines(), changed.splitlines()
    assert len(before) == len(after)
    assert [(b, a) for b, a in zip(before, after, strict=True) if b != a] == [
        ("|Theme=Covoiturage", "|Theme=Covoiturage, Données ouvertes")]
    assert set_params(PAGE, MAPPING, {"Tags": "covoiturage, preuve,API"}) == PAGE
    added = set_params(PAGE, MAPPING, {"Lieu": "Paris"})
    assert added.replace("|Lieu=Paris\n", "") == PAGE


def test_malformed_pages_are_refused_with_a_reason() -> None:
    with pytest.raises(WikitextError, match="not closed"):
        read_page("{{Ressource\n|Title=Sans fin\n|Tags=a\n== Suite ==\n", MAPPING)
    with pytest.raises(WikitextError, match="broken table"):
        read_page("{{Ressource|Title=T}}\n{| class=wikitable\n| a\n", MAPPING)
    assert read_page("Une page sans modèle de données.", MAPPING) is None


def test_page_to_triples_and_back() -> None:
    m = mapper()
    data = read_page(PAGE, MAPPING)
    assert data is not None
    page = PageRevision(42, "Registre de preuve de covoiturage", 7, "2024-01-01T00:00:00Z", PAGE)
    entity = m.identity.page_iri(42)
    known = {"La Fabrique des Mobilités": m.identity.page_iri(7)}
    record = m.record(page, data, entity, known.get)
    assert record.error is None
    values = {(t.predicate.value.removeprefix(MLG), t.object.value) for t in record.triples}
    assert ("keyword", "API") in values and ("keyword", "preuve") in values
    assert ("shortDescription", "Outil public pour certifier les trajets covoiturés.") in values
    users = [t.object.value for t in record.triples if t.predicate.value == MLG + "usedBy"]
    assert users == [m.identity.page_iri(7)]
    assert ("unresolvedLink", "L'Établi/Atelier vélo") in values, "a link to no entity is kept as text"
    assert record.source_url == "http://wiki.test/index.php?title=Registre_de_preuve_de_covoiturage"
    assert m.title_from_url(record.source_url) == "Registre de preuve de covoiturage"
    projection = m.project(MAPPING.templates[0], record.triples, entity, lambda iri: None)
    assert projection["Tags"] == "API, covoiturage, preuve"
    assert projection["Main_Picture"] == "Logo RPC.png"


def test_values_that_cannot_be_mapped_make_the_record_carry_the_reason() -> None:
    m = mapper()
    text = "{{Evénement\n|Titre=Rencontre\n|startDate=demain\n|endDate=15/06/2021\n}}"
    data = read_page(text, MAPPING)
    assert data is not None
    record = m.record(PageRevision(1, "Rencontre", 1, "t", text), data, m.identity.page_iri(1), {}.get)
    assert record.error is not None and "startDate" in record.error and "demain" in record.error
    assert ox.Literal("2021-06-15", datatype=ox.NamedNode("http://www.w3.org/2001/XMLSchema#date")) in {
        t.object for t in record.triples}


def test_link_titles_accept_links_and_plain_titles() -> None:
    param = MAPPING.templates[0].param("Acteurs")
    assert param is not None
    assert link_titles("[[a_b]], [[C|label]]", param) == ["A b", "C"]
    assert link_titles("Fabmob, La Rochelle", param) == ["Fabmob", "La Rochelle"]


@pytest.mark.parametrize("hub,pushed,base,wiki,updates,conflicts", [
    ({"Tags": "a"}, {"Tags": "x"}, {"Tags": "x"}, {"Tags": "x"}, {"Tags": "a"}, []),       # hub change
    ({"Tags": "x"}, {"Tags": "x"}, {"Tags": "x"}, {"Tags": "y"}, {}, []),                  # wiki change only
    ({"Tags": "a"}, {"Tags": "x"}, {"Tags": "x"}, {"Tags": "y"}, {}, ["Tags"]),            # both: conflict
    ({"Tags": "a"}, {"Tags": "x"}, {"Tags": "x"}, {"Tags": "a"}, {}, []),                  # same change
    ({"Tags": "a", "Theme": "t"}, {"Tags": "x", "Theme": "s"}, {"Tags": "x", "Theme": "s"},
     {"Tags": "x", "Theme": "w"}, {"Tags": "a"}, ["Theme"]),                               # merged + conflict
    ({}, {"Tags": "x"}, {"Tags": "x"}, {"Tags": "x"}, {}, []),                             # hub silent: no erase
    ({"Tags": "d1"}, {"Tags": "d0"}, {"Tags": "d1"}, {"Tags": "d2"}, {}, []),              # own value echoed
])
def test_three_way_merge(hub: dict[str, str], pushed: dict[str, str], base: dict[str, str],
                         wiki: dict[str, str], updates: dict[str, str], conflicts: list[str]) -> None:
    result = plan(hub, pushed, base, wiki)
    assert result.updates == updates
    assert [c[0] for c in result.conflicts] == conflicts


def test_mapping_mistakes_are_named(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[templates]]\ntemplate = "X"\nclass = "Truc"\n[templates.params]\nnom = "name"\n')
    with pytest.raises(ConfigError, match="Truc"):
        load_mapping(bad)
    bad.write_text('[[templates]]\ntemplate = "X"\nclass = "Place"\n[templates.params]\nnom = "keyword"\n')
    with pytest.raises(ConfigError, match="name"):
        load_mapping(bad)
    bad.write_text('[[templates]]\ntemplate = "X"\nclass = "Place"\n[templates.params]\n'
                   'nom = "name"\nmembres = { property = "hasMember", direction = "sideways" }\n')
    with pytest.raises(ConfigError, match="'membres': direction must be"):
        load_mapping(bad)


def test_a_shown_only_parameter_is_written_but_never_read() -> None:
    """``direction = "out"``: the wiki shows what the platform holds; what a person types there
    does not become hub data (and so cannot overwrite the platform's list)."""
    mapping = load_mapping(Path("mappings/movilab.toml"))
    template = mapping.template("Tiers-lieu")
    assert template is not None
    movilab = PageMapper(mapping, WikiIdentity(DEFAULT_BASE_IRI, "movilab"), page_url_for(API, None),
                         file_url_for(API))
    entity = f"{DEFAULT_BASE_IRI}e/1"
    text = "{{Tiers-lieu\n|nom=La Cantine\n|membres=Quelqu'un d'autre\n}}"
    page = PageRevision(7, "La Cantine", 3, "2026-01-01T00:00:00Z", text, ())
    data = read_page(text, mapping)
    assert data is not None
    record = movilab.record(page, data, entity, lambda title: None)
    assert not [t for t in record.triples if "hasMember" in t.predicate.value or "Quelqu" in t.object.value]
    member = f"{DEFAULT_BASE_IRI}e/2"
    triples = [ox.Triple(ox.NamedNode(entity), ox.NamedNode(MLG + "hasMember"), ox.NamedNode(member))]
    assert movilab.project(template, triples, entity, {member: "Alice Martin"}.get) == {"membres": "Alice Martin"}

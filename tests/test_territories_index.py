"""The territory index answers what placing asks: codes (current and former), postal codes, names."""

from __future__ import annotations

from hub.territories.index import TerritoryIndex, iri, normalise_name, reference_version


def test_the_reference_has_every_current_commune_department_and_region() -> None:
    index = TerritoryIndex.load()
    assert 34_000 < len(index.communes) < 36_000
    assert len(index.departments) >= 101 and len(index.regions) >= 18
    assert index.version == "6.0.0"
    assert TerritoryIndex.load() is index


def test_montreuil_names_several_communes_most_populous_first() -> None:
    found = TerritoryIndex.load().by_name("Montreuil")
    assert len(found) >= 3
    assert found[0].insee == "93048" and found[0].department == "93" and found[0].region == "11"
    assert [c.insee for c in TerritoryIndex.load().by_name("montreuil", department="85")] == ["85148"]
    assert [c.insee for c in TerritoryIndex.load().by_name("Montreuil", postal_code="28500")] == ["28267"]
    assert [c.insee for c in TerritoryIndex.load().by_name("Montreuil", region="Île-de-France")] == ["93048"]


def test_a_former_code_of_a_merged_commune_resolves_to_the_current_commune() -> None:
    index = TerritoryIndex.load()
    current = index.commune("01340")
    assert current is not None and current.insee == "01015" and current.name == "Arboys en Bugey"
    assert "01340" in current.former_codes
    assert index.commune("99999") is None


def test_paris_postal_codes_and_arrondissements_resolve_to_paris() -> None:
    index = TerritoryIndex.load()
    assert [c.insee for c in index.by_postal_code("75011")] == ["75056"]
    arrondissement = index.commune("75111")
    assert arrondissement is not None and arrondissement.insee == "75056"
    assert index.by_postal_code("7501") == []


def test_names_compare_without_accents_case_hyphens_or_saint_abbreviations() -> None:
    index = TerritoryIndex.load()
    assert normalise_name("St-Étienne") == normalise_name("saint etienne") == "saint etienne"
    assert [c.insee for c in index.by_name("ST ETIENNE")] == ["42218"]
    assert [c.insee for c in index.by_name("Ste-Foy-lès-Lyon")] == ["69202"]
    assert index.by_name("Cherbourg-Octeville")[0].name == "Cherbourg-en-Cotentin"
    assert index.by_name("") == [] and index.by_name("Nowhere-sur-Rien") == []


def test_territory_iris_are_built_on_the_codes() -> None:
    assert iri("https://w3id.org/maillage/id/", "commune", "93048") == (
        "https://w3id.org/maillage/id/territory/commune-93048")
    assert iri("https://example.org/", "epci", "200054781") == "https://example.org/territory/epci-200054781"


def test_the_reference_version_read_from_the_file_head_is_the_index_version() -> None:
    """A start checks that placings are current from the file's head, without building the
    index: it must name the version the index would (else every start would place again)."""
    index = TerritoryIndex.load()
    assert reference_version() == (index.package, index.version) and index.version

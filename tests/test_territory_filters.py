"""The observatory by territory and the territory filter, on a served demo hub, read anonymously.

The figures of ``sparql/observatory-by-*.rq`` are checked against counts written another way
(explicit hops up the hierarchy, no property path), the ``territory=`` filter of the listings
against what an entity added to a commune should be found under, and the names offered as a
user types against the territories the hub holds. A place and a population are added through
the Graph Store, as any client would.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from hub.rdf.resources import SPARQL_DIR
from hub.vocab import DEFAULT_BASE_IRI, MLG
from tests.servers.common import unavailable
from tests.servers.hub import ServedHub, serving

T = DEFAULT_BASE_IRI + "territory/"
PLACE = "https://example.org/territory-test/place/vichy-fablab"
POPULATION = 1_000_000  # a round figure given to a demo region, so the density is easy to check
ADDED = f"""@prefix mlg: <https://w3id.org/maillage/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<{PLACE}> a mlg:Place ; mlg:name "Fablab des sources"@fr ; mlg:territory <{T}commune-03310> .
<{T}region-53> mlg:population "{POPULATION}"^^xsd:integer .
"""
TYPES = ("Organization", "Person", "Place", "Project", "Commons", "Resource", "Event")
LEVELS = {"region": "Region", "department": "Department", "epci": "EPCI", "commune": "Commune"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    with serving(tmp_path_factory.mktemp("territories") / "data") as served:
        answer = httpx.post(f"{served.url}/store", content=ADDED, timeout=60,
                            headers={**served.auth, "Content-Type": "text/turtle"})
        assert answer.status_code in (200, 201), answer.text
        yield served


def select(hub: ServedHub, query: str) -> list[dict[str, str]]:
    """An anonymous SPARQL query (no token): what any reader of the observatory gets."""
    answer = httpx.get(f"{hub.url}/sparql", params={"query": query}, timeout=120,
                       headers={"Accept": "application/sparql-results+json"})
    assert answer.status_code == 200, answer.text
    return [{k: v["value"] for k, v in b.items()} for b in answer.json()["results"]["bindings"]]


def listing(hub: ServedHub, collection: str, **params: Any) -> set[str]:
    answer = httpx.get(f"{hub.url}/api/{collection}", params={"limit": 500, **params}, timeout=60)
    assert answer.status_code == 200, answer.text
    body = answer.json()
    assert "next" not in body.get("view", {}), "more than one page: raise the limit"
    return {item["id"] for item in body["items"]}


def direct_counts(hub: ServedHub, cls: str) -> dict[tuple[str, str], int]:
    """Entities per (territory of class ``cls``, type), computed here: each entity's territories,
    then their ancestors one partOfTerritory hop at a time (no property path in the queries)."""
    types = " ".join(f"<{MLG}{t}>" for t in TYPES)
    placed = select(hub, f"SELECT DISTINCT ?e ?type ?t WHERE {{ VALUES ?type {{ {types} }} ?e a ?type ; "
                         f"<{MLG}territory>|<{MLG}concernsTerritory> ?t }}")
    parents: dict[str, set[str]] = {}
    frontier = {r["t"] for r in placed}
    while frontier:
        values = " ".join(f"<{t}>" for t in frontier)
        edges = select(hub, f"SELECT ?a ?b WHERE {{ VALUES ?a {{ {values} }} ?a <{MLG}partOfTerritory> ?b }}")
        for t in frontier:
            parents.setdefault(t, set())
        for edge in edges:
            parents[edge["a"]].add(edge["b"])
        frontier = {e["b"] for e in edges} - set(parents)
    values = " ".join(f"<{t}>" for t in parents)
    of_class = {r["t"] for r in select(hub, f"SELECT ?t WHERE {{ VALUES ?t {{ {values} }} ?t a <{MLG}{cls}> }}")}
    found: dict[tuple[str, str], set[str]] = {}
    for row in placed:
        seen, todo = set(), [row["t"]]
        while todo:
            node = todo.pop()
            if node not in seen:
                seen.add(node)
                todo += parents.get(node, ())
        for territory in seen & of_class:
            found.setdefault((territory, row["type"].rsplit("#", 1)[-1]), set()).add(row["e"])
    return {key: len(entities) for key, entities in found.items()}


@pytest.mark.parametrize("level", ["region", "department", "epci", "commune"])
def test_observatory_counts_equal_direct_counts(hub: ServedHub, level: str) -> None:
    query = (SPARQL_DIR / f"observatory-by-{level}.rq").read_text()
    assert "urn:maillage:meta" not in query  # public graphs only: anyone may run it
    rows = select(hub, query)
    assert len({r[level] for r in rows}) > 5, "the demo places entities in many territories"
    counted = {(r[level], r["type"].rsplit("#", 1)[-1]): int(r["entities"]) for r in rows}
    assert len(counted) == len(rows)
    assert counted == direct_counts(hub, LEVELS[level])


def test_every_level_and_theme_answers_anonymously(hub: ServedHub) -> None:
    for level, cls in LEVELS.items():
        rows = select(hub, (SPARQL_DIR / f"observatory-by-{level}.rq").read_text())
        assert rows and all(r[level].startswith(T) for r in rows), level
        kinds = select(hub, f"SELECT DISTINCT ?k WHERE {{ VALUES ?t {{ {' '.join(f'<{r[level]}>' for r in rows)} }}"
                            f" ?t a ?k }}")
        assert MLG + cls in {k["k"] for k in kinds}, level
    themes = select(hub, (SPARQL_DIR / "observatory-by-territory-theme.rq").read_text())
    assert {r["level"].rsplit("#", 1)[-1] for r in themes} == set(LEVELS.values())
    one = next(r for r in themes if r["level"] == MLG + "Region")
    expected = select(hub, f"""SELECT (COUNT(DISTINCT ?e) AS ?n) WHERE {{ ?e <{MLG}theme> ?th ;
        (<{MLG}territory>|<{MLG}concernsTerritory>)/<{MLG}partOfTerritory>* <{one['territory']}> .
        FILTER(STR(?th) = "{one['theme']}") }}""")
    assert int(one["entities"]) == int(expected[0]["n"])


def test_density_per_ten_thousand_inhabitants(hub: ServedHub) -> None:
    rows = [r for r in select(hub, (SPARQL_DIR / "observatory-by-region.rq").read_text())
            if r["region"] == T + "region-53"]
    assert rows, "Brittany has demo entities"
    own = select(hub, f"SELECT (MAX(?p) AS ?p) WHERE {{ <{T}region-53> <{MLG}population> ?p }}")
    population = int(own[0]["p"])
    assert population >= POPULATION
    for row in rows:
        assert int(row["population"]) == population
        assert float(row["density"]) == pytest.approx(int(row["entities"]) * 10_000 / population, abs=1e-4)
    # a commune's own population gives its density too, where the hub has one
    communes = [r for r in select(hub, (SPARQL_DIR / "observatory-by-commune.rq").read_text()) if "population" in r]
    for row in communes:
        assert float(row["density"]) == pytest.approx(int(row["entities"]) * 10_000 / int(row["population"]),
                                                      abs=1e-4)


def test_territory_filter_follows_the_hierarchy(hub: ServedHub) -> None:
    for value in ("03310", "commune-03310", "departement-03", "region-84", "84", T + "region-84"):
        assert PLACE in listing(hub, "places", territory=value), value
    assert PLACE not in listing(hub, "places", territory="region-11")
    # every entity placed in a commune of the region is found by the region's code
    in_communes = {r["e"] for r in select(hub, f"""SELECT DISTINCT ?e WHERE {{
        ?e a <{MLG}Project> ; <{MLG}territory>|<{MLG}concernsTerritory> ?c . ?c a <{MLG}Commune> ;
        <{MLG}partOfTerritory> ?d . ?d a <{MLG}Department> ; <{MLG}partOfTerritory> <{T}region-11> }}""")}
    assert in_communes, "the demo has projects in communes of Île-de-France"
    assert in_communes <= listing(hub, "projects", territory="region-11")
    # an EPCI's code finds what is placed in its member communes
    assert listing(hub, "projects", territory="200055655") >= {
        r["e"] for r in select(hub, f"SELECT ?e WHERE {{ ?e <{MLG}concernsTerritory>|<{MLG}territory> ?c . "
                                    f"?c <{MLG}partOfTerritory> <{T}epci-200055655> }}")}


@pytest.mark.parametrize("value", ["no-such-code", "8", "1234", "region-123", "commune-84", "75 001",
                                   "https://exa mple.org/x", "epci-12345"])
def test_malformed_territory_is_a_400(hub: ServedHub, value: str) -> None:
    answer = httpx.get(f"{hub.url}/api/projects", params={"territory": value})
    assert answer.status_code == 400 and "territory must be" in answer.text, value
    page = httpx.get(f"{hub.url}/ui/projects", params={"territory": value})
    assert page.status_code == 400 and "territory must be" in page.text


@pytest.mark.parametrize("value", ["99999", "region-99", "epci-999999999", "https://example.org/nowhere"])
def test_unknown_territory_is_an_empty_list(hub: ServedHub, value: str) -> None:
    assert listing(hub, "projects", territory=value) == set()


def test_names_offered_by_prefix(hub: ServedHub) -> None:
    def names(q: str, **params: Any) -> list[dict[str, Any]]:
        answer = httpx.get(f"{hub.url}/api/territory-names", params={"q": q, **params})
        assert answer.status_code == 200, answer.text
        return list(answer.json())

    vichy = names("vich")
    assert any(t["name"] == "Vichy" and t["filter"] == "commune-03310" and t["kind"] == "Commune" for t in vichy)
    assert all(t["name"].lower().startswith("vich") for t in vichy)
    assert any(t["name"] == "Épinal" for t in names("EPIN"))  # accents and case ignored
    assert any(t["name"] == "Auvergne-Rhône-Alpes" and t["filter"] == "region-84" for t in names("auvergne rh"))
    assert next(t for t in names("Seine-Saint") if t["kind"] == "Department")["filter"] == "departement-93"
    assert len(names("sa", limit=3)) <= 3
    assert names("") == [] and names("zzzqqq") == []
    assert httpx.get(f"{hub.url}/api/territory-names", params={"q": "x" * 101}).status_code == 400
    assert httpx.get(f"{hub.url}/api/territory-names", params={"q": "a", "limit": 0}).status_code == 400
    # what is offered is what the filter takes
    for offered in names("Roissy") + names("Bretagne"):
        assert httpx.get(f"{hub.url}/api/projects", params={"territory": offered["filter"]}).status_code == 200


def test_observatory_page_shows_regions_with_density(hub: ServedHub) -> None:
    page = httpx.get(f"{hub.url}/ui/observatory", params={"lang": "en"}, timeout=60)
    assert page.status_code == 200
    assert 'id="table-region"' in page.text and "Bretagne" in page.text and "Per 10,000 inhabitants" in page.text
    assert "<script>" not in page.text  # scripts come from the hub's files only (CSP)


CHROMIUM = "/usr/bin/chromium"


def test_web_filter_offers_names_as_you_type(hub: ServedHub, tmp_path: Path) -> None:
    playwright_api = pytest.importorskip("playwright.sync_api")
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--disable-gpu"])
        tab = browser.new_page()
        errors: list[str] = []
        tab.on("pageerror", lambda exc: errors.append(str(exc)))
        tab.on("console", lambda msg: errors.append(msg.text) if "Content Security Policy" in msg.text else None)
        tab.goto(f"{hub.url}/ui/places")
        tab.locator("#f-territory").press_sequentially("Vich")
        tab.wait_for_selector("#territory-options option[value='commune-03310']", state="attached")
        label = tab.locator("#territory-options option[value='commune-03310']").get_attribute("label")
        assert label and label.startswith("Vichy (commune")
        tab.fill("#f-territory", "commune-03310")
        tab.click(".filters button[type=submit]")
        tab.wait_for_url("**territory=*")
        assert "Fablab des sources" in tab.locator("#items").inner_text()
        if os.environ.get("MAILLAGE_SHOTS"):
            tab.screenshot(path=str(tmp_path / "territory-filter.png"), full_page=True)
        browser.close()
        assert not errors, errors


def test_names_come_from_memory_when_the_hub_holds_the_reference(tmp_path: Path) -> None:
    """With the reference (`[hub] territories`), the names offered are the reference's, from its
    in-memory index (accents and case ignored, each kind by population), and the territories the
    store holds outside it still come too."""
    from hub.store.oxigraph import OxigraphStore
    from hub.territories.reference import ensure_loaded
    from tests.test_placing_scenario import reference

    data = tmp_path / "data"
    with OxigraphStore(data / "store") as store:  # stands for the whole reference: a first start
        ensure_loaded(store, DEFAULT_BASE_IRI, index=reference(("03", "93")))
    os.environ["MAILLAGE_TERRITORIES"] = "1"
    try:
        with serving(data, demo=False) as served:
            before = httpx.get(f"{served.url}/api/territory-names", params={"q": "vichy-th"}).json()
            own = (f'<https://example.org/quartier> a <{MLG}Commune> ; <{MLG}name> "Vichy-Thermal"@fr ; '
                   f'<{MLG}inseeCode> "03399" .')
            added = httpx.put(f"{served.url}/store", params={"graph": "https://example.org/g/quartier"},
                              content=own, headers={**served.auth, "Content-Type": "text/turtle"})
            assert added.status_code == 201, added.text

            def names(q: str, limit: int = 20) -> list[dict[str, Any]]:
                answer = httpx.get(f"{served.url}/api/territory-names", params={"q": q, "limit": limit})
                assert answer.status_code == 200, answer.text
                return list(answer.json())

            vichy = names("VICH")
            assert [t["filter"] for t in vichy][:1] == ["commune-03310"]  # 25,000 inhabitants
            assert before == [] and "https://example.org/quartier" in [t["iri"] for t in vichy]
            montreuil = [t for t in names("montreuil") if t["kind"] == "Commune"]
            assert montreuil[0]["filter"] == "commune-93048"  # Montreuil (93), largest first
            populations = [t["population"] for t in montreuil]
            assert len(montreuil) == 20 and populations == sorted(populations, reverse=True)
            assert any(t["name"] == "Épinal" for t in names("epin"))
            assert [t["filter"] for t in names("ile de fr")] == ["region-11"]
            assert any(t["name"] == "Strasbourg" for t in names("stras"))  # "st" stays "st"
            assert names("zzzqqq") == [] and names("  ") == []
            kinds = [t["kind"] for t in names("sa")]
            assert kinds == sorted(kinds, key=["Region", "Department", "EPCI", "Commune"].index)
            assert httpx.get(f"{served.url}/api/projects", params={
                "territory": vichy[0]["filter"]}).status_code == 200
    finally:
        os.environ["MAILLAGE_TERRITORIES"] = "0"

"""The web interface in a real browser: Playwright driving Debian's Chromium over a served hub.

The hub serves the demo data plus, written before it starts, one conflict, and, written through
the Graph Store Protocol once it runs, two places with coordinates (beside the demo's own).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.pipeline.ingest import Ingestor
from hub.pipeline.match import Match, candidate_update
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.sync.merge import conflict
from hub.vocab import COLLECTIONS, DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.servers.common import unavailable
from tests.servers.hub import TOKEN, ServedHub, serving

playwright_api = pytest.importorskip("playwright.sync_api")

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", "--no-first-run"]
PROJECT = DEFAULT_BASE_IRI + "project/action-coeur-de-ville"
PLACES_GRAPH = "https://example.org/web-test/places"
POPULATION_GRAPH = "https://example.org/web-test/population"
PLACES = """@prefix mlg: <https://w3id.org/maillage/ontology#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> .
<https://example.org/web-test/place/lyon> a mlg:Place ; mlg:name "Tiers-lieu de Lyon"@fr ;
    mlg:latitude "45.76"^^xsd:decimal ; mlg:longitude "4.84"^^xsd:decimal .
<https://example.org/web-test/place/rennes> a mlg:Place ; mlg:name "Fablab de Rennes"@fr ;
    mlg:latitude "48.11"^^xsd:decimal ; mlg:longitude "-1.68"^^xsd:decimal .
"""


def place(source: str, key: str, name: str) -> Record:
    subject = ox.NamedNode(f"https://example.org/web-test/{source}/{key}")
    return Record(source=source, source_id=key, triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name, language="fr")),
    ))


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    data = tmp_path_factory.mktemp("web") / "data"
    env = {**os.environ, "MAILLAGE_TOKEN": TOKEN}
    subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(data), "demo", "--no-serve"],
                   check=True, env=env, capture_output=True)
    with OxigraphStore(data / "store") as store:
        clash = conflict("wiki", PROJECT, "nom", "Cœur de ville (hub)", "Cœur de ville (wiki)",
                         "changed in the hub and in the wiki", "name")
        ingestor = Ingestor(store, DEFAULT_BASE_IRI)
        wiki, platform = place("wiki", "1", "Le Moulin"), place("plateforme", "a", "Le moulin")
        ingestor.ingest([wiki, platform])
        match = candidate_update(platform, str(platform.entity().value), Match(str(wiki.entity().value), 0.5, "same name"))
        ingestor.ingest_batch([], None, [clash, match])
    with serving(data, demo=False) as hub:
        put = httpx.put(f"{hub.url}/store", params={"graph": PLACES_GRAPH}, content=PLACES,
                        headers={**hub.auth, "Content-Type": "text/turtle"})
        assert put.status_code in (200, 201), put.text
        yield hub


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    if not Path(CHROMIUM).exists():
        unavailable(f"{CHROMIUM} is missing (apt-get install chromium)")
    with playwright_api.sync_playwright() as p:
        launched = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield launched
        launched.close()


@pytest.fixture(scope="module")
def shots(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("web-screenshots")


@pytest.fixture
def page(browser: object, shots: Path, request: pytest.FixtureRequest) -> Iterator[object]:
    context = browser.new_context(locale="fr-FR", viewport={"width": 1280, "height": 900})  # type: ignore[attr-defined]
    errors: list[str] = []
    tab = context.new_page()
    tab.on("pageerror", lambda exc: errors.append(str(exc)))
    yield tab
    tab.screenshot(path=str(shots / f"{request.node.name}.png"), full_page=True)
    context.close()
    assert not errors, f"JavaScript errors: {errors}"


def _accessible(page: object) -> None:
    assert page.locator("h1").count() == 1  # type: ignore[attr-defined]
    assert page.locator("html").get_attribute("lang") in ("fr", "en")  # type: ignore[attr-defined]
    for field in page.locator("input:not([type=hidden]), select, textarea").all():  # type: ignore[attr-defined]
        if field.get_attribute("aria-label"):
            continue  # e.g. the editor's own input, labelled like the textarea it replaces
        ident = field.get_attribute("id")
        assert ident and page.locator(f"label[for='{ident}']").count() == 1, ident  # type: ignore[attr-defined]


def test_home_counts_match_the_api(served: ServedHub, page: object) -> None:
    response = page.goto(served.url + "/")  # type: ignore[attr-defined]
    assert response.status == 200 and "text/html" in response.headers["content-type"]
    _accessible(page)
    for collection, local in COLLECTIONS.items():
        expected = httpx.get(f"{served.url}/api/{collection}", params={"count": "true", "limit": 1}).json()["count"]
        shown = page.locator(f"#class-counts tr[data-class='{local}'] td").inner_text()  # type: ignore[attr-defined]
        assert int(shown) == expected, collection
    assert sum(httpx.get(f"{served.url}/api/projects", params={"count": "true"}).json()["count"] for _ in [0]) > 0
    sources = {s["name"]: s["records"] for s in httpx.get(f"{served.url}/sources").json()}
    for name, records in sources.items():
        assert int(page.locator(f"#sources tr[data-source='{name}'] td").first.inner_text()) == records  # type: ignore[attr-defined]


def test_list_search_and_filter_narrow_the_rows(served: ServedHub, page: object) -> None:
    page.goto(served.url + "/ui/projects")  # type: ignore[attr-defined]
    _accessible(page)
    total = int(page.locator("#total .num").inner_text())  # type: ignore[attr-defined]
    assert total > 1 and page.locator("#items tbody tr").count() == min(total, 25)  # type: ignore[attr-defined]
    page.fill("#f-q", "cœur de ville")  # type: ignore[attr-defined]
    page.click(".filters button[type=submit]")  # type: ignore[attr-defined]
    page.wait_for_url("**q=*")  # type: ignore[attr-defined]
    found = int(page.locator("#total .num").inner_text())  # type: ignore[attr-defined]
    assert 1 <= found < total
    assert "Action Cœur de Ville" in page.locator("#items").inner_text()  # type: ignore[attr-defined]
    page.goto(served.url + "/ui/projects")  # type: ignore[attr-defined]
    page.locator("#items a.chip").first.click()  # type: ignore[attr-defined]
    page.wait_for_url("**theme=*")  # type: ignore[attr-defined]
    theme = page.input_value("#f-theme")  # type: ignore[attr-defined]
    expected = httpx.get(f"{served.url}/api/projects", params={"theme": theme, "count": "true"}).json()["count"]
    assert int(page.locator("#total .num").inner_text()) == expected < total  # type: ignore[attr-defined]


def test_entity_page_shows_provenance_and_json_ld(served: ServedHub, page: object) -> None:
    response = page.goto(f"{served.url}/ui/entity?iri={PROJECT}")  # type: ignore[attr-defined]
    assert response.status == 200
    _accessible(page)
    assert page.locator("h1").inner_text() == "Action Cœur de Ville"  # type: ignore[attr-defined]
    assert "demo" in page.locator("#provenance tbody").inner_text()  # type: ignore[attr-defined]
    sources = {cell.strip() for cell in page.locator("#facts td.src").all_inner_texts()}  # type: ignore[attr-defined]
    assert sources == {"demo"}
    document = json.loads(page.locator("#entity-jsonld").text_content())  # type: ignore[attr-defined]
    assert document["id"] == PROJECT and "@context" in document
    assert page.locator("#outgoing li, #incoming li").count() > 0  # type: ignore[attr-defined]
    turtle = page.locator("#downloads a", has_text="Turtle").get_attribute("href")  # type: ignore[attr-defined]
    assert PROJECT in httpx.get(served.url + turtle).text
    page.locator("#outgoing a, #incoming a").first.click()  # type: ignore[attr-defined]
    page.wait_for_load_state()  # type: ignore[attr-defined]
    assert page.locator("#provenance").count() == 1  # type: ignore[attr-defined]


def test_map_shows_markers_for_places_with_coordinates(served: ServedHub, page: object) -> None:
    page.goto(served.url + "/ui/map")  # type: ignore[attr-defined]
    _accessible(page)
    page.wait_for_selector(".leaflet-marker-icon")  # type: ignore[attr-defined]
    located = sum(len(httpx.get(f"{served.url}/api/{collection}", params={"format": "geojson", "limit": 500})
                      .json()["features"]) for collection in ("places", "actors", "projects"))
    assert located > 2  # the demo's places have positions too
    assert page.locator(".leaflet-marker-icon").count() == located  # type: ignore[attr-defined]
    assert page.locator(".leaflet-marker-icon[title='Tiers-lieu de Lyon']").count() == 1  # type: ignore[attr-defined]
    page.wait_for_selector("path.leaflet-interactive")  # type: ignore[attr-defined]  # the shipped outline
    page.locator(".leaflet-marker-icon[title='Fablab de Rennes']").click()  # type: ignore[attr-defined]
    assert page.locator(".leaflet-popup-content a").inner_text() == "Fablab de Rennes"  # type: ignore[attr-defined]


def _observatory(served: ServedHub, level: str) -> dict[str, tuple[int, int | None]]:
    """Entities and population per region or department code, from the observatory's own query
    run on the SPARQL endpoint (one row per type: the entities add up)."""
    query = (Path(__file__).parents[1] / "sparql" / f"observatory-by-{level}.rq").read_text(encoding="utf-8")
    answer = httpx.get(f"{served.url}/sparql", params={"query": query},
                       headers={"Accept": "application/sparql-results+json"}, timeout=60)
    assert answer.status_code == 200, answer.text
    totals: dict[str, tuple[int, int | None]] = {}
    for row in answer.json()["results"]["bindings"]:
        entities, population = totals.get(row["code"]["value"], (0, None))
        if "population" in row:
            population = int(float(row["population"]["value"]))
        totals[row["code"]["value"]] = (entities + int(row["entities"]["value"]), population)
    return totals


def test_shaded_map_counts_match_the_observatory_query(served: ServedHub, page: object) -> None:
    # the tests' hubs leave the territory reference (and its populations) out: one region gets a
    # population from a graph of its own, so that a density is shown and checked
    counts = _observatory(served, "region")
    top_region = max(counts, key=lambda c: counts[c][0])
    name = httpx.get(f"{served.url}/sparql", headers={"Accept": "application/sparql-results+json"}, params={
        "query": f"SELECT ?n WHERE {{ <{DEFAULT_BASE_IRI}territory/region-{top_region}> <{MLG}name> ?n }}"
    }).json()["results"]["bindings"][0]["n"]["value"]
    population = (f"<{DEFAULT_BASE_IRI}territory/region-{top_region}> a <{MLG}Region> ; "
                  f"<{MLG}name> {json.dumps(name)}@fr ; <{MLG}inseeCode> \"{top_region}\" ; "
                  f"<{MLG}population> 1234567 .")
    put = httpx.put(f"{served.url}/store", params={"graph": POPULATION_GRAPH}, content=population,
                    headers={**served.auth, "Content-Type": "text/turtle"})
    assert put.status_code in (200, 201, 204), put.text
    try:
        _shaded_map_counts(served, page)
    finally:
        httpx.delete(f"{served.url}/store", params={"graph": POPULATION_GRAPH}, headers=served.auth)


def _shaded_map_counts(served: ServedHub, page: object) -> None:
    page.goto(served.url + "/ui/map")  # type: ignore[attr-defined]
    _accessible(page)
    page.wait_for_selector("#shaded-map[data-ready=true] path")  # type: ignore[attr-defined]
    assert page.locator("#shaded-map path").count() == 96  # type: ignore[attr-defined]  # metropolitan departments
    assert "CC BY 4.0" in page.locator("#shaded .credit").inner_text()  # type: ignore[attr-defined]
    densities = 0
    for level in ("region", "department"):
        page.select_option("#shaded-level", level)  # type: ignore[attr-defined]
        expected = _observatory(served, level)
        assert expected and any(n for n, _ in expected.values()), level  # the demo is placed
        shown = page.evaluate(  # type: ignore[attr-defined]
            "Array.from(document.querySelectorAll('#shaded-map path, #shaded-overseas button'))"
            ".map(e => [e.dataset.area, Number(e.dataset.count), e.getAttribute('class')])"
        )
        seen: dict[str, set[int]] = {}
        for code, count, classes in shown:
            seen.setdefault(code, set()).add(count)
            assert ("shade-0" in classes.split()) == (count == 0), (level, code, classes)
        for code, (entities, _) in expected.items():
            assert seen.get(code) == {entities}, (level, code, seen.get(code), entities)
        assert all(counts == {0} for code, counts in seen.items() if code not in expected), level
        # the most counted territory tells its count and density when hovered
        top = max(expected, key=lambda c: expected[c][0])
        entities, population = expected[top]
        target = page.locator(f"#shaded-map path[data-area='{top}'], #shaded-overseas button[data-area='{top}']")  # type: ignore[attr-defined]
        target.first.hover()
        said = page.locator("#shaded-info").inner_text()  # type: ignore[attr-defined]
        assert f"({top})" in said and f"— {entities} entités" in said, said
        if population:
            density = f"{round(entities * 10000 / population, 2):g}".replace(".", ",")
            assert f"{density} pour 10 000 habitants" in said.replace("\u202f", " ").replace("\xa0", " "), said
            densities += 1
        legend = page.locator("#shaded-legend li").all_inner_texts()  # type: ignore[attr-defined]
        assert legend[0].strip().startswith("0") and str(entities) in legend[-1], legend
    assert densities, "no hovered territory had a population: the density went untested"


def test_sparql_editor_runs_an_example_and_reports_errors(served: ServedHub, page: object) -> None:
    page.goto(served.url + "/ui/sparql")  # type: ignore[attr-defined]
    _accessible(page)
    assert "urn:maillage:" not in page.evaluate("window.maillageEditor.getValue()")  # type: ignore[attr-defined]
    page.select_option("#example", "observatory-by-theme")  # type: ignore[attr-defined]
    assert "observatory" in page.evaluate("window.maillageEditor.getValue()").lower()  # type: ignore[attr-defined]
    page.click("#run")  # type: ignore[attr-defined]
    page.wait_for_selector("#result-table tbody tr")  # type: ignore[attr-defined]
    assert page.locator("#result-table thead th").all_inner_texts() == ["theme", "type", "entities"]  # type: ignore[attr-defined]
    csv = httpx.get(served.url + page.get_attribute("#csv", "href"))  # type: ignore[attr-defined]
    assert csv.status_code == 200 and csv.text.startswith("theme,type,entities")
    # an operator query reads the bookkeeping graph: rows only with the token
    assert "opérateur" in page.locator("option[value=observatory-by-type]").inner_text()  # type: ignore[attr-defined]
    page.select_option("#example", "observatory-by-type")  # type: ignore[attr-defined]
    page.fill("#token", served.token)  # type: ignore[attr-defined]
    page.click("#run")  # type: ignore[attr-defined]
    page.wait_for_selector("#result-table tbody tr")  # type: ignore[attr-defined]
    assert page.locator("#result-table thead th").all_inner_texts() == ["type", "source", "entities"]  # type: ignore[attr-defined]
    page.fill("#token", "")  # type: ignore[attr-defined]
    page.evaluate("window.maillageEditor.setValue('SELEC ?s WHERE { nonsense')")  # type: ignore[attr-defined]
    page.click("#run")  # type: ignore[attr-defined]
    page.wait_for_selector("#error:not([hidden])")  # type: ignore[attr-defined]
    assert "400" in page.locator("#error").inner_text()  # type: ignore[attr-defined]
    assert page.locator("#result-table").count() == 0  # type: ignore[attr-defined]


def test_observatory_draws_its_charts(served: ServedHub, page: object) -> None:
    page.goto(served.url + "/ui/observatory")  # type: ignore[attr-defined]
    _accessible(page)
    drawn = page.evaluate(  # type: ignore[attr-defined]
        "Object.fromEntries(Object.entries(window.maillageCharts).map(([k, c]) => "
        "[k, c.data.datasets[0].data.reduce((a, b) => a + b, 0)]))"
    )
    assert {"type", "month", "theme", "region"} <= set(drawn) and all(v > 0 for v in drawn.values()), drawn
    assert page.locator(".chart canvas").count() == len(drawn)  # type: ignore[attr-defined]


def test_a_conflict_is_resolved_from_the_operations_page(served: ServedHub, page: object) -> None:
    [before] = httpx.get(f"{served.url}/conflicts", headers=served.auth).json()
    page.goto(served.url + "/ui/operations")  # type: ignore[attr-defined]
    _accessible(page)
    # anonymous: how many entries wait, never their values (the page asks for the token)
    assert "Cœur de ville (wiki)" not in page.content()  # type: ignore[attr-defined]
    assert page.locator("tr[data-conflict]").count() == 0  # type: ignore[attr-defined]
    assert page.locator("#operator-only").is_visible()  # type: ignore[attr-defined]
    assert page.locator("[data-count=conflicts]").inner_text().endswith("1")  # type: ignore[attr-defined]
    page.fill("#token", "not-the-token")  # type: ignore[attr-defined]
    page.wait_for_selector("#op-status.err")  # type: ignore[attr-defined]  # a wrong token shows nothing
    assert page.locator("tr[data-conflict]").count() == 0  # type: ignore[attr-defined]
    page.fill("#token", served.token)  # type: ignore[attr-defined]
    row = page.locator(f"tr[data-conflict='{before['id']}']")  # type: ignore[attr-defined]
    assert "Cœur de ville (wiki)" in row.inner_text()
    row.get_by_role("button", name="Garder la valeur de la source").click()
    row.wait_for(state="detached")
    assert httpx.get(f"{served.url}/conflicts", headers=served.auth).json() == []
    page.reload()  # type: ignore[attr-defined]
    assert page.evaluate("sessionStorage.getItem('maillage-token')") == served.token  # type: ignore[attr-defined]
    assert page.locator("#token").input_value() == served.token  # type: ignore[attr-defined]
    assert page.locator("tr[data-conflict]").count() == 0  # type: ignore[attr-defined]
    [candidate] = httpx.get(f"{served.url}/matches", headers=served.auth).json()
    pair = page.locator(f"tr[data-match='{candidate['id']}']")  # type: ignore[attr-defined]
    assert "same name" in pair.inner_text()
    pair.get_by_role("button", name="Choses différentes").click()
    pair.wait_for(state="detached")
    assert httpx.get(f"{served.url}/matches", headers=served.auth).json() == []


def test_english_by_parameter_and_by_accept_language(served: ServedHub, page: object, browser: object) -> None:
    page.goto(served.url + "/ui/projects")  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == "Projets"  # type: ignore[attr-defined]
    page.click("a.lang")  # type: ignore[attr-defined]
    page.wait_for_url("**lang=en*")  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == "Projects"  # type: ignore[attr-defined]
    assert page.locator("html").get_attribute("lang") == "en"  # type: ignore[attr-defined]
    assert "lang=en" in page.locator("nav a", has_text="Observatory").get_attribute("href")  # type: ignore[attr-defined]
    english = browser.new_context(locale="en-GB")  # type: ignore[attr-defined]
    try:
        tab = english.new_page()
        tab.goto(served.url + "/ui/operations")
        assert tab.locator("h1").inner_text() == "Operations"
        assert tab.locator("label[for=token]").inner_text() == "Access token"
    finally:
        english.close()


def test_unknown_pages_and_entities_are_friendly_404s(served: ServedHub, page: object) -> None:
    for path in ("/ui/nowhere", "/ui/nowhere/deeper", f"/ui/entity?iri={DEFAULT_BASE_IRI}project/none",
                 "/ui/entity?iri=not%20an%20iri"):
        response = page.goto(served.url + path)  # type: ignore[attr-defined]
        assert response.status == 404, path
        assert "text/html" in response.headers["content-type"]
        assert page.locator("h1").inner_text() == "Page introuvable"  # type: ignore[attr-defined]
        assert "Traceback" not in page.content()  # type: ignore[attr-defined]
    response = page.goto(served.url + "/ui/actors?cursor=%%%")  # type: ignore[attr-defined]
    assert response.status == 400 and page.locator("h1").inner_text() == "Requête invalide"  # type: ignore[attr-defined]
    page.goto(served.url + "/ui/nowhere?lang=en")  # type: ignore[attr-defined]
    assert page.locator("h1").inner_text() == "Page not found"  # type: ignore[attr-defined]

"""The official territory reference is in a fresh hub without any extra step, as its own source,
with a complete hierarchy, and loading it again (or a newer package version) changes only what
changed."""

from __future__ import annotations

import gzip
import json
import os
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.config import TERRITORIES_ENV
from hub.store.oxigraph import OxigraphStore
from hub.territories.index import DATA, TerritoryIndex
from hub.territories.reference import SOURCE, ensure_loaded
from hub.vocab import DEFAULT_BASE_IRI, MLG
from tests.servers.hub import ServedHub, serving

OWL_SAME_AS = "http://www.w3.org/2002/07/owl#sameAs"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """A fresh hub started the way a new user does (`maillage demo`), the reference turned on."""
    before = os.environ.get(TERRITORIES_ENV)
    os.environ[TERRITORIES_ENV] = "1"
    try:
        # counting over 36,000 territories on a busy 2-core machine can take more than the
        # default 10 s: the completeness of the data is what is tested here, not query speed
        with serving(tmp_path_factory.mktemp("territories") / "data",
                     "[api]\nquery_timeout = 120\n") as served:
            yield served
    finally:
        os.environ[TERRITORIES_ENV] = before if before is not None else "0"


def _select(hub: ServedHub, query: str) -> list[dict[str, str]]:
    answer = httpx.post(f"{hub.url}/sparql", data={"query": query}, headers={
        **hub.auth, "Accept": "application/sparql-results+json"}, timeout=120)
    assert answer.status_code == 200, answer.text[:500]
    return [{k: v["value"] for k, v in row.items()} for row in answer.json()["results"]["bindings"]]


def _count(hub: ServedHub, pattern: str) -> int:
    return int(_select(hub, f"SELECT (COUNT(DISTINCT ?t) AS ?n) WHERE {{ {pattern} }}")[0]["n"])


def test_a_fresh_hub_has_every_region_department_and_commune(hub: ServedHub) -> None:
    assert _count(hub, f"?t a <{MLG}Region>") >= 18
    assert _count(hub, f"?t a <{MLG}Department>") >= 101
    assert 34_800 < _count(hub, f"?t a <{MLG}Commune>") < 35_100
    assert _count(hub, f"?t a <{MLG}EPCI>") > 1_200


def test_the_hierarchy_commune_department_region_is_complete(hub: ServedHub) -> None:
    communes = _count(hub, f"?t a <{MLG}Commune>")
    placed = _count(hub, f"""?t a <{MLG}Commune> ; <{MLG}partOfTerritory> ?d .
        ?d a <{MLG}Department> ; <{MLG}partOfTerritory> ?r . ?r a <{MLG}Region>""")
    assert placed == communes
    rows = _select(hub, f"""SELECT ?name ?region ?cp ?pop ?insee WHERE {{
        <{DEFAULT_BASE_IRI}territory/commune-93048> <{MLG}name> ?name ; <{MLG}postalCode> ?cp ;
            <{MLG}population> ?pop ; <{OWL_SAME_AS}> ?insee ;
            <{MLG}partOfTerritory>/<{MLG}partOfTerritory> ?r . ?r a <{MLG}Region> ; <{MLG}name> ?region }}""")
    assert rows and rows[0]["name"] == "Montreuil" and rows[0]["region"] == "Île-de-France"
    assert rows[0]["cp"] == "93100" and int(rows[0]["pop"]) > 100_000
    assert rows[0]["insee"] == "http://id.insee.fr/geo/commune/93048"


def test_the_reference_is_its_own_source_with_version_and_licence(hub: ServedHub) -> None:
    rows = _select(hub, f"""SELECT ?revision ?licence WHERE {{ GRAPH <urn:maillage:meta> {{
        ?g <{MLG}source> "{SOURCE}" ; <{MLG}sourceId> "commune-93048" ; <{MLG}revision> ?revision ;
           <{MLG}license> ?licence }} }}""")
    assert rows == [{"revision": "@etalab/decoupage-administratif@6.0.0",
                     "licence": "https://www.etalab.gouv.fr/licence-ouverte-open-licence"}]


def test_the_demo_territories_are_the_reference_ones_not_twins(hub: ServedHub) -> None:
    """The demo describes some territories too: same IRIs, so one entity per code."""
    rows = _select(hub, f"""SELECT ?code (COUNT(DISTINCT ?t) AS ?n) WHERE {{
        ?t a <{MLG}Region> ; <{MLG}inseeCode> ?code }} GROUP BY ?code HAVING (COUNT(DISTINCT ?t) > 1)""")
    assert rows == []
    rows = _select(hub, f"""SELECT ?code WHERE {{ ?t a <{MLG}Commune> ; <{MLG}inseeCode> ?code }}
        GROUP BY ?code HAVING (COUNT(DISTINCT ?t) > 1)""")
    assert rows == []


def test_loading_again_logs_nothing_and_a_new_version_only_what_changed(tmp_path: Path) -> None:
    """An older package (fewer communes, a renamed one) then the current one: only the
    differences are written; the same version a second time is not even read."""
    current = TerritoryIndex.load()
    data = json.loads(gzip.decompress(DATA.read_bytes()))
    data["version"] = "5.9.0"
    data["communes"] = [c for c in data["communes"] if c[2] in ("01", "02")]
    data["communes"][0][1] = "Ancien nom"
    data["communes"].append(["01999", "Commune fusionnée depuis", "01", 10, ["01000"], []])
    data["epci"], data["parts"] = [], []
    old = TerritoryIndex(data)
    new_data = json.loads(gzip.decompress(DATA.read_bytes()))
    new_data["communes"] = [c for c in new_data["communes"] if c[2] in ("01", "02")]
    new_data["epci"], new_data["parts"] = [], []
    new = TerritoryIndex(new_data)
    assert new.version == current.version
    with OxigraphStore(None) as store:
        first = ensure_loaded(store, DEFAULT_BASE_IRI, index=old)
        assert first.result is not None and first.result.created == first.stored
        upgrade = ensure_loaded(store, DEFAULT_BASE_IRI, index=new)
        assert upgrade.result is not None
        assert upgrade.result.deleted == 1  # the commune the newer package merged away
        # the renamed commune, and the department and region whose population the merged
        # commune no longer adds to: nothing else is written
        assert sorted(c.source_id or "" for c in upgrade.result.changes) == [
            "commune-01001", "commune-01999", "departement-01", "region-84"]
        assert upgrade.result.updated == 3 and upgrade.result.unchanged == first.stored - 4
        assert upgrade.result.created == 0
        again = ensure_loaded(store, DEFAULT_BASE_IRI, index=new)
        assert again.result is None


def _demo_territory_names() -> dict[str, str]:
    """Territory IRI → name, as demo/demo.ttl states them."""
    import pyoxigraph as ox

    from hub.rdf.resources import DEMO_DIR

    prefix = DEFAULT_BASE_IRI + "territory/"
    return {q.subject.value: q.object.value
            for q in ox.parse(path=DEMO_DIR / "demo.ttl", format=ox.RdfFormat.TURTLE)
            if q.predicate.value == MLG + "name" and q.subject.value.startswith(prefix)}


def test_the_demo_names_its_territories_as_the_reference_does() -> None:
    """The demo's territories are the reference's (same IRI, same name), so a hub that holds both
    shows one name per territory."""
    reference = TerritoryIndex.load()
    demo = _demo_territory_names()
    assert len(demo) > 50
    for territory, name in demo.items():
        kind, code = territory.rsplit("/", 1)[-1].split("-", 1)
        known = reference.communes.get(code) if kind == "commune" else reference.area(kind, code)  # type: ignore[arg-type]
        assert known is not None and known.name == name, (territory, name, known)


def test_a_new_user_sees_one_name_per_territory(hub: ServedHub) -> None:
    demo = _demo_territory_names()
    values = " ".join(f"<{t}>" for t in demo)
    rows = _select(hub, f"SELECT ?t ?n WHERE {{ VALUES ?t {{ {values} }} ?t <{MLG}name> ?n }}")
    names: dict[str, set[str]] = {}
    for row in rows:
        names.setdefault(row["t"], set()).add(row["n"])
    assert names == {t: {n} for t, n in demo.items()}

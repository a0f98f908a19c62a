"""VoID and DCAT-AP on a served hub: every number is what an anonymous query answers, the
description passes SEMIC's DCAT-AP 3 shapes, and each source's licence reaches its records."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pyshacl
import pytest
import rdflib

from tests.servers.hub import TOKEN, ServedHub, serving

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"
SD = "http://www.w3.org/ns/sparql-service-description#"
MLG = "https://w3id.org/maillage/ontology#"
SHAPES = Path(__file__).parent / "fixtures" / "dcat-ap" / "dcat-ap-SHACL.ttl"
BY_SA = "https://creativecommons.org/licenses/by-sa/4.0/"
ODBL = "https://opendatacommons.org/licenses/odbl/1-0/"
OUVERTE = "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
WIKI_PLACE = "https://w3id.org/maillage/id/place/tiers-lieu-du-wiki"
PLATFORM_ORG = "https://w3id.org/maillage/id/actor/association-de-la-plateforme"

CONFIG = f"""
[catalog]
publisher = "Réseau test"
contact_email = "contact@example.org"
keywords = ["tiers-lieux", "test"]
themes = ["REGI", "SOCI"]

[[sources]]
name = "wiki"
kind = "mediawiki"
url = "https://wiki.example.org/"
license = "{BY_SA}"
attribution = "Les contributeurs du wiki"

[[sources]]
name = "platform"
kind = "communecter"
url = "https://platform.example.org/"
license = "{ODBL}"
"""

WIKI_TTL = f"""@prefix mlg: <{MLG}> .
<{WIKI_PLACE}> a mlg:Place ; mlg:name "Tiers-lieu du wiki"@fr .
"""
PLATFORM_TTL = f"""@prefix mlg: <{MLG}> .
<{PLATFORM_ORG}> a mlg:Organization ; mlg:name "Association de la plateforme"@fr .
"""


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    """Demo data plus one record from each of two sources under different licences, fed with
    ``maillage import --source`` before the hub is served."""
    root = tmp_path_factory.mktemp("void-dcat")
    data_dir = root / "hub"
    config_path = root / "hub.toml"
    config_path.write_text(CONFIG)
    base = [sys.executable, "-m", "hub", "--data-dir", str(data_dir), "--config", str(config_path)]
    env = {**os.environ, "MAILLAGE_TOKEN": TOKEN}
    for name, text in (("wiki", WIKI_TTL), ("platform", PLATFORM_TTL)):
        path = root / f"{name}.ttl"
        path.write_text(text)
        done = subprocess.run(
            [*base, "import", str(path), "--source", name], env=env, capture_output=True, text=True
        )
        assert done.returncode == 0, done.stdout + done.stderr
    with serving(data_dir, config=CONFIG) as served:
        yield served


def void_graph(url: str) -> ox.Store:
    response = httpx.get(f"{url}/.well-known/void", timeout=60)
    assert response.status_code == 200, response.text
    store = ox.Store()
    store.load(response.content, format=ox.RdfFormat.TURTLE)
    return store


def rows(store: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]


def live(url: str, query: str, headers: dict[str, str] | None = None) -> list[dict[str, str]]:
    """The rows an anonymous reader (or, with ``headers``, the operator) gets from /sparql."""
    response = httpx.get(
        f"{url}/sparql", params={"query": query},
        headers={"Accept": "application/sparql-results+json", **(headers or {})}, timeout=60,
    )
    assert response.status_code == 200, response.text
    return [{k: v["value"] for k, v in b.items()} for b in response.json()["results"]["bindings"]]


def test_triples_and_entities_equal_anonymous_counts(hub: ServedHub) -> None:
    store = void_graph(hub.url)
    (dataset,) = rows(store, f"SELECT ?t ?e WHERE {{ ?d a <{DCAT}Dataset> ; <{VOID}triples> ?t ;"
                             f" <{VOID}entities> ?e }}")
    total = live(hub.url, "SELECT (COUNT(*) AS ?n) { ?s ?p ?o }")[0]["n"]
    assert int(dataset["t"]) == int(total) > 0
    entities = live(hub.url, "SELECT (COUNT(DISTINCT ?s) AS ?n) { ?s a ?c }")[0]["n"]
    assert int(dataset["e"]) == int(entities) > 0
    # the bookkeeping graph is not part of what is counted: the operator sees more
    everything = live(hub.url, "SELECT (COUNT(*) AS ?n) { GRAPH ?g { ?s ?p ?o } }", hub.auth)
    assert int(everything[0]["n"]) > int(total)


def test_every_class_partition_equals_its_query(hub: ServedHub) -> None:
    store = void_graph(hub.url)
    partitions = {
        r["c"]: int(r["n"])
        for r in rows(store, f"SELECT ?c ?n WHERE {{ ?d <{VOID}classPartition> ?p . "
                             f"?p <{VOID}class> ?c ; <{VOID}entities> ?n }}")
    }
    asserted = {r["c"] for r in live(hub.url, "SELECT DISTINCT ?c { ?s a ?c }")}
    assert set(partitions) == asserted
    for cls, count in partitions.items():
        found = live(hub.url, f"SELECT (COUNT(DISTINCT ?s) AS ?n) {{ ?s a <{cls}> }}")[0]["n"]
        assert count == int(found), cls
    assert partitions[MLG + "Organization"] >= 1 and partitions[MLG + "Place"] >= 1
    assert MLG + "Actor" not in partitions  # superclasses are not stored, so not claimed


def test_every_property_partition_equals_its_query(hub: ServedHub) -> None:
    store = void_graph(hub.url)
    partitions = rows(store, f"SELECT ?p ?n WHERE {{ ?d <{VOID}propertyPartition> ?x . "
                             f"?x <{VOID}property> ?p ; <{VOID}triples> ?n }}")
    live_counts = {r["p"]: int(r["n"]) for r in live(
        hub.url, "SELECT ?p (COUNT(*) AS ?n) { ?s ?p ?o } GROUP BY ?p")}
    assert {r["p"]: int(r["n"]) for r in partitions} == live_counts
    assert MLG + "email" not in live_counts or live_counts[MLG + "email"] == sum(
        1 for _ in live(hub.url, f"SELECT ?o {{ ?s <{MLG}email> ?o }}"))


def test_source_subsets_count_record_graphs_the_operator_can_see(hub: ServedHub) -> None:
    store = void_graph(hub.url)
    subsets = {r["t"]: int(r["n"]) for r in rows(
        store, f"SELECT ?t ?n WHERE {{ ?d <{VOID}subset> ?s . ?s <{DCTERMS}title> ?t ;"
               f" <{VOID}documents> ?n }}")}
    assert subsets.keys() == {"demo", "wiki", "platform"}
    for name, count in subsets.items():
        found = live(hub.url, f'SELECT (COUNT(?g) AS ?n) {{ GRAPH <urn:maillage:meta> {{ '
                              f'?g a <{MLG}Record> ; <{MLG}source> "{name}" }} }}', hub.auth)
        assert count == int(found[0]["n"]), name


def test_service_description_names_the_dataset_void_counts(hub: ServedHub) -> None:
    response = httpx.get(f"{hub.url}/sparql", headers={"Accept": "text/turtle"}, timeout=30)
    assert response.status_code == 200
    sd = ox.Store()
    sd.load(response.content, format=ox.RdfFormat.TURTLE)
    (row,) = rows(sd, f"SELECT ?d WHERE {{ <{hub.url}/sparql> <{SD}defaultDataset> ?d . "
                      f"?d <{SD}defaultGraph> ?g }}")
    assert row["d"] == f"{hub.url}/.well-known/void#dataset"
    assert sd.query(f"ASK {{ <{hub.url}/sparql> <{SD}feature> <{SD}UnionDefaultGraph> }}")
    store = void_graph(hub.url)
    assert store.query(f"ASK {{ <{row['d']}> a <{VOID}Dataset> ; <{VOID}triples> ?n ;"
                       f" <{VOID}sparqlEndpoint> <{hub.url}/sparql> }}")


def test_void_conforms_to_the_dcat_ap_3_shapes(hub: ServedHub) -> None:
    text = httpx.get(f"{hub.url}/.well-known/void", timeout=60).text
    data = rdflib.Graph().parse(data=text, format="turtle")
    shapes = rdflib.Graph().parse(SHAPES)
    conforms, report, message = pyshacl.validate(data, shacl_graph=shapes, allow_warnings=True)
    violations = list(report.subjects(
        rdflib.URIRef("http://www.w3.org/ns/shacl#resultSeverity"),
        rdflib.URIRef("http://www.w3.org/ns/shacl#Violation"),
    ))
    assert conforms and violations == [], message


def test_dcat_ap_catalogue_publisher_contact_themes_and_services(hub: ServedHub) -> None:
    store = void_graph(hub.url)
    assert store.query(
        f"ASK {{ ?c a <{DCAT}Catalog> ; <{DCAT}dataset> ?d ; <{DCTERMS}publisher> ?p . "
        f"?p a <http://xmlns.com/foaf/0.1/Agent> ; <http://xmlns.com/foaf/0.1/name> \"Réseau test\" . "
        f"?d <{DCAT}contactPoint> ?k . ?k <http://www.w3.org/2006/vcard/ns#hasEmail> "
        f"<mailto:contact@example.org> ; <http://www.w3.org/2006/vcard/ns#fn> ?fn }}"
    )
    themes = {r["t"] for r in rows(store, f"SELECT ?t WHERE {{ ?d <{DCAT}theme> ?t }}")}
    assert themes == {
        "http://publications.europa.eu/resource/authority/data-theme/REGI",
        "http://publications.europa.eu/resource/authority/data-theme/SOCI",
    }
    keywords = {r["k"] for r in rows(store, f"SELECT ?k WHERE {{ ?d <{DCAT}keyword> ?k }}")}
    assert keywords == {"tiers-lieux", "test"}
    services = {r["u"]: r["t"] for r in rows(
        store, f"SELECT ?u ?t WHERE {{ ?s a <{DCAT}DataService> ; <{DCAT}endpointURL> ?u ;"
               f" <{DCTERMS}title> ?t }}")}
    assert set(services) == {f"{hub.url}/sparql", f"{hub.url}/changes"}
    media = {r["m"] for r in rows(store, f"SELECT ?m WHERE {{ ?x <{DCAT}mediaType> ?m }}")}
    assert media and all(m.startswith("http://www.iana.org/assignments/media-types/") for m in media)


def test_each_source_is_a_distribution_under_its_own_licence(hub: ServedHub) -> None:
    store = void_graph(hub.url)
    found = {r["t"]: r.get("l") for r in rows(
        store, f"SELECT ?t ?l WHERE {{ ?d <{DCAT}distribution> ?x . ?x <{DCTERMS}title> ?t "
               f"OPTIONAL {{ ?x <{DCTERMS}license> ?l }} FILTER(STRSTARTS(?t, \"Records read\")) }}")}
    assert found == {
        "Records read from demo": OUVERTE,
        "Records read from wiki": BY_SA,
        "Records read from platform": ODBL,
    }
    # three licences: the dataset claims none of them for the whole
    assert not store.query(f"ASK {{ <{hub.url}/.well-known/void#dataset> <{DCTERMS}license> ?l }}")


def provenance_licences(hub: ServedHub, entity: str) -> dict[str, tuple[str, str]]:
    found = live(hub.url, (
        f"SELECT ?src ?lic ?by {{ GRAPH <urn:maillage:meta> {{ ?g <{MLG}entity> <{entity}> ; "
        f"<{MLG}source> ?src ; <{MLG}license> ?lic ; <http://creativecommons.org/ns#attributionName> ?by }} }}"
    ), hub.auth)
    return {r["src"]: (r["lic"], r["by"]) for r in found}


def test_provenance_carries_each_source_licence_and_attribution(hub: ServedHub) -> None:
    assert provenance_licences(hub, WIKI_PLACE) == {"wiki": (BY_SA, "Les contributeurs du wiki")}
    assert provenance_licences(hub, PLATFORM_ORG) == {"platform": (ODBL, "platform")}
    demo = live(hub.url, f"SELECT DISTINCT ?lic {{ GRAPH <urn:maillage:meta> {{ ?g <{MLG}source> "
                         f"\"demo\" ; <{MLG}license> ?lic }} }}", hub.auth)
    assert [r["lic"] for r in demo] == [OUVERTE]


def test_entity_pages_show_licence_and_attribution(hub: ServedHub) -> None:
    page = httpx.get(f"{hub.url}/ui/entity", params={"iri": WIKI_PLACE}, timeout=30)
    assert page.status_code == 200, page.text
    assert f'rel="license" href="{BY_SA}"' in page.text
    assert "Les contributeurs du wiki" in page.text
    assert OUVERTE not in page.text
    api = httpx.get(f"{hub.url}/api/places/tiers-lieu-du-wiki", headers={"Accept": "text/html"},
                    timeout=30)
    assert api.status_code == 200, api.text
    assert f'rel="license" href="{BY_SA}"' in api.text and "Les contributeurs du wiki" in api.text
    other = httpx.get(f"{hub.url}/ui/entity", params={"iri": PLATFORM_ORG}, timeout=30)
    assert f'rel="license" href="{ODBL}"' in other.text and BY_SA not in other.text

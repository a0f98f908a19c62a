"""Operations and dataset description over real HTTP: VoID, metrics, sources, quarantine, conflicts."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest
from prometheus_client.parser import text_string_to_metric_families

from hub.meta.cursors import write_cursor
from hub.store.oxigraph import OxigraphStore
from hub.store.transaction import Transaction
from hub.vocab import COLLECTIONS, DEFAULT_BASE_IRI, META_GRAPH, MLG, PROV, XSD, class_iris
from tests.servers.hub import ServedHub, serving

VOID = "http://rdfs.org/ns/void#"
DCAT = "http://www.w3.org/ns/dcat#"
DCTERMS = "http://purl.org/dc/terms/"


# --- helpers -----------------------------------------------------------------------------------


def sparql_count(url: str, where: str, auth: dict[str, str] | None = None) -> int:
    """With ``auth`` (the operator's token) the bookkeeping graph is queryable too."""
    response = httpx.get(
        f"{url}/sparql",
        params={"query": f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ {where} }}"},
        headers={"Accept": "application/sparql-results+json", **(auth or {})},
        timeout=30,
    )
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def void_store(url: str, accept: str | None = None) -> tuple[ox.Store, httpx.Response]:
    headers = {"Accept": accept} if accept else {}
    response = httpx.get(f"{url}/.well-known/void", headers=headers, timeout=30)
    assert response.status_code == 200, response.text
    media = response.headers["content-type"].split(";")[0]
    fmt = ox.RdfFormat.from_media_type(media)
    assert fmt is not None, media
    store = ox.Store()
    store.load(response.content, format=fmt)
    return store, response


def select(store: ox.Store, query: str) -> list[dict[str, str]]:
    solutions = store.query(query)
    assert isinstance(solutions, ox.QuerySolutions)
    names = [v.value for v in solutions.variables]
    return [{n: s[n].value for n in names if s[n] is not None} for s in solutions]


def void_class_counts(store: ox.Store) -> dict[str, int]:
    rows = select(
        store,
        f"SELECT ?class ?n WHERE {{ ?d a <{VOID}Dataset> ; <{VOID}classPartition> ?p . "
        f"?p <{VOID}class> ?class ; <{VOID}entities> ?n }}",
    )
    return {row["class"].removeprefix(MLG): int(row["n"]) for row in rows}


def metrics(url: str) -> dict[str, dict[tuple[tuple[str, str], ...], float]]:
    """Samples by name, then by sorted labels."""
    response = httpx.get(f"{url}/metrics", timeout=30)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/plain; version=0.0.4")
    samples: dict[str, dict[tuple[tuple[str, str], ...], float]] = {}
    for family in text_string_to_metric_families(response.text):
        for sample in family.samples:
            samples.setdefault(sample.name, {})[tuple(sorted(sample.labels.items()))] = sample.value
    return samples


def health_requests(samples: dict[str, dict[tuple[tuple[str, str], ...], float]]) -> float:
    key = (("method", "GET"), ("route", "/health"), ("status", "200"))
    return samples.get("maillage_http_requests_total", {}).get(key, 0.0)


# --- VoID ---------------------------------------------------------------------------------------


def test_health(hub_server: ServedHub) -> None:
    body = httpx.get(f"{hub_server.url}/health").json()
    assert body["status"] == "ok" and body["last_sequence"] > 0


def test_void_counts_match_the_data(hub_server: ServedHub) -> None:
    store, response = void_store(hub_server.url)
    assert response.headers["content-type"].startswith("text/turtle")
    counts = void_class_counts(store)  # asserted classes only (see hub.api.routes.void)
    assert set(counts) <= set(COLLECTIONS.values()) | {"Organization", "Person", "Region",
                                                        "Department", "EPCI", "Commune"}
    for local, count in counts.items():
        assert count == sparql_count(hub_server.url, f"?s a <{MLG}{local}>"), local
    assert sum(counts.values()) > 0
    dataset = select(
        store,
        f"SELECT ?d ?triples ?entities ?endpoint ?license WHERE {{ ?d a <{VOID}Dataset>, <{DCAT}Dataset> ;"
        f" <{VOID}triples> ?triples ; <{VOID}entities> ?entities ; <{VOID}sparqlEndpoint> ?endpoint ;"
        f" <{DCTERMS}license> ?license }}",
    )
    assert len(dataset) == 1
    assert dataset[0]["endpoint"] == f"{hub_server.url}/sparql"
    assert dataset[0]["license"] == "https://www.etalab.gouv.fr/licence-ouverte-open-licence"
    triples = httpx.get(
        f"{hub_server.url}/sparql",
        params={"query": "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"},
        headers={"Accept": "application/sparql-results+json"},
    ).json()["results"]["bindings"][0]["n"]["value"]
    assert int(dataset[0]["triples"]) == int(triples)
    assert int(dataset[0]["entities"]) == sparql_count(hub_server.url, "?s a ?c")


def test_void_describes_subsets_examples_and_distributions(hub_server: ServedHub) -> None:
    store, _ = void_store(hub_server.url)
    subsets = select(
        store,
        f"SELECT ?title ?docs WHERE {{ ?d <{VOID}subset> ?s . ?s <{DCTERMS}title> ?title ;"
        f" <{VOID}documents> ?docs }}",
    )
    demo_records = sparql_count(
        hub_server.url,
        f"GRAPH <{META_GRAPH}> {{ ?s a <{MLG}Record> ; <{MLG}source> \"demo\" }}",
        hub_server.auth,
    )
    assert subsets == [{"title": "demo", "docs": str(demo_records)}]
    examples = select(store, f"SELECT ?e WHERE {{ ?d <{VOID}exampleResource> ?e }}")
    assert 1 <= len(examples) <= 10
    for row in examples:
        assert sparql_count(hub_server.url, f"BIND(<{row['e']}> AS ?s) ?s a ?c") == 1
    vocab = select(store, f"SELECT ?v WHERE {{ ?d <{VOID}vocabulary> ?v }}")
    assert vocab == [{"v": MLG}]
    urls = {
        row["u"]
        for row in select(
            store, f"SELECT ?u WHERE {{ ?d <{DCAT}distribution> ?x . ?x <{DCAT}accessURL> ?u }}"
        )
    }
    assert urls == {f"{hub_server.url}/sparql", f"{hub_server.url}/changes"}
    assert store.query(
        f"ASK {{ <{hub_server.url}/sparql> a <http://www.w3.org/ns/sparql-service-description#Service> }}"
    )


def test_void_json_ld_is_the_same_graph(hub_server: ServedHub) -> None:
    turtle, _ = void_store(hub_server.url)
    json_ld, response = void_store(hub_server.url, "application/ld+json")
    assert response.headers["content-type"].startswith("application/ld+json")
    assert set(json_ld) == set(turtle)
    assert void_class_counts(json_ld) == void_class_counts(turtle)


def test_void_unacceptable_type(hub_server: ServedHub) -> None:
    response = httpx.get(f"{hub_server.url}/.well-known/void", headers={"Accept": "image/png"})
    assert response.status_code == 406


# --- metrics ------------------------------------------------------------------------------------


def test_metrics_request_counters_increase(hub_server: ServedHub) -> None:
    before = health_requests(metrics(hub_server.url))
    for _ in range(3):
        assert httpx.get(f"{hub_server.url}/health").status_code == 200
    after = health_requests(metrics(hub_server.url))
    assert after >= before + 3


def test_metrics_gauges_match_the_store(hub_server: ServedHub) -> None:
    samples = metrics(hub_server.url)
    store, _ = void_store(hub_server.url)
    entities = {dict(k)["class"]: v for k, v in samples["maillage_entities"].items()}
    for local, count in entities.items():  # per collection, subclasses included
        values = " ".join(f"<{c}>" for c in class_iris(local))
        assert count == sparql_count(
            hub_server.url, f"GRAPH ?g {{ VALUES ?c {{ {values} }} ?s a ?c }}"
        ), local
    records = {dict(k)["source"]: v for k, v in samples["maillage_records"].items()}
    subsets = select(
        store,
        f"SELECT ?title ?docs WHERE {{ ?d <{VOID}subset> ?s . ?s <{DCTERMS}title> ?title ;"
        f" <{VOID}documents> ?docs }}",
    )
    assert records == {row["title"]: float(row["docs"]) for row in subsets}
    last = httpx.get(f"{hub_server.url}/health").json()["last_sequence"]
    assert samples["maillage_change_log_sequence"][()] == last
    assert samples["maillage_quarantined_records"][()] == 0
    if hub_server.backend == "oxigraph":  # a remote store's size is the remote server's business
        assert samples["maillage_store_bytes"][()] > 0
    else:
        assert "maillage_store_bytes" not in samples
    assert "maillage_http_request_seconds_count" in samples


# --- sources, quarantine, conflicts: a hub with a configured source and prepared state ----------

CONFIG = """
[[sources]]
name = "wiki"
kind = "mediawiki"
url = "http://127.0.0.1:1/w/api.php"
direction = "both"
schedule = "*/15 * * * *"
"""
GOOD = """@prefix mlg: <https://w3id.org/maillage/ontology#> .
<https://example.org/lieu-du-wiki> a mlg:Place ; mlg:name "Lieu du wiki"@fr .
"""
BAD = """@prefix mlg: <https://w3id.org/maillage/ontology#> .
<https://example.org/lieu-sans-nom> a mlg:Place .
"""
CONFLICT = "urn:maillage:conflict:test-1"
CONFLICT_ENTITY = "https://example.org/lieu-du-wiki"


@pytest.fixture(scope="module")
def prepared_hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    root = tmp_path_factory.mktemp("ops")
    data_dir = root / "data"
    cli = [sys.executable, "-m", "hub", "--data-dir", str(data_dir)]
    subprocess.run([*cli, "demo", "--no-serve"], check=True, capture_output=True)
    for name, text in (("good.ttl", GOOD), ("bad.ttl", BAD)):
        path = root / name
        path.write_text(text, encoding="utf-8")
        subprocess.run([*cli, "import", str(path), "--source", "wiki"], capture_output=True)
    with OxigraphStore(data_dir / "store") as store:
        tx = Transaction()
        write_cursor(tx, DEFAULT_BASE_IRI, "wiki", "rc-42")
        store.update(tx.render())
        store.update(
            f"""INSERT DATA {{ GRAPH <{META_GRAPH}> {{
                <{CONFLICT}> a <{MLG}Conflict> ; <{MLG}entity> <{CONFLICT_ENTITY}> ;
                    <{MLG}source> "wiki" ; <{MLG}reason> "edited on both sides" ;
                    <{MLG}parameter> "nom" ; <{MLG}hubValue> "Nom du hub" ; <{MLG}sourceValue> "Nom du wiki" ;
                    <{PROV}generatedAtTime> "2025-01-02T03:04:05+00:00"^^<{XSD}dateTime> }} }}"""
        )
    with serving(data_dir, config=CONFIG, demo=False) as served:
        yield served


def test_sources_lists_the_configured_sources(prepared_hub: ServedHub) -> None:
    response = httpx.get(f"{prepared_hub.url}/sources")
    assert response.status_code == 200
    sources = response.json()
    assert len(sources) == 1
    wiki = sources[0]
    assert {k: wiki[k] for k in ("name", "kind", "url", "direction", "schedule")} == {
        "name": "wiki",
        "kind": "mediawiki",
        "url": "http://127.0.0.1:1/w/api.php",
        "direction": "both",
        "schedule": "*/15 * * * *",
    }
    assert wiki["records"] == 1
    assert wiki["last_cursor_update"] is not None
    assert "credentials" not in wiki


def test_quarantine_lists_the_invalid_record(prepared_hub: ServedHub) -> None:
    entries = httpx.get(f"{prepared_hub.url}/quarantine", headers=prepared_hub.auth).json()
    assert len(entries) == 1
    entry = entries[0]
    assert entry["source"] == "wiki"
    assert "lieu-sans-nom" in entry["source_id"]
    assert entry["reason"]
    report = ox.Store()
    report.load(entry["report"].encode(), format=ox.RdfFormat.TURTLE)
    assert report.query("ASK { ?r a <http://www.w3.org/ns/shacl#ValidationReport> }")
    assert httpx.get(f"{prepared_hub.url}/quarantine", headers=prepared_hub.auth, params={"source": "wiki"}).json() == entries
    assert httpx.get(f"{prepared_hub.url}/quarantine", headers=prepared_hub.auth, params={"source": "demo"}).json() == []
    samples = metrics(prepared_hub.url)
    assert samples["maillage_quarantined_records"][()] == 1


def test_conflicts_lists_stored_conflicts(prepared_hub: ServedHub) -> None:
    conflicts = httpx.get(f"{prepared_hub.url}/conflicts", headers=prepared_hub.auth).json()
    assert conflicts == [
        {
            "id": "test-1",
            "entity": CONFLICT_ENTITY,
            "source": "wiki",
            "parameter": "nom",
            "hub_value": "Nom du hub",
            "source_value": "Nom du wiki",
            "reason": "edited on both sides",
            "time": "2025-01-02T03:04:05+00:00",
        }
    ]
    assert httpx.get(f"{prepared_hub.url}/conflicts", headers=prepared_hub.auth, params={"source": "other"}).json() == []


def test_conflicts_empty_without_conflicts(hub_server: ServedHub) -> None:
    assert httpx.get(f"{hub_server.url}/conflicts").status_code == 401  # private: the token
    assert httpx.get(f"{hub_server.url}/conflicts", headers=hub_server.auth).json() == []
    assert httpx.get(f"{hub_server.url}/sources").json() == []


@pytest.mark.parametrize(
    "path",
    [
        "/quarantine?source=%22%20%7D%20%7D%20DROP%20ALL%20%23",
        "/conflicts?source=%00",
        "/conflicts?source=a&source=b",
        "/changes?source=%5C",
        "/changes?since=%00",
        "/metrics?x=1",
        "/.well-known/void?format=nope",
    ],
)
def test_odd_input_is_never_a_server_error(prepared_hub: ServedHub, path: str) -> None:
    response = httpx.get(f"{prepared_hub.url}{path}", timeout=30, headers=prepared_hub.auth)
    assert response.status_code < 500, response.text


def test_data_dir_is_used(prepared_hub: ServedHub) -> None:
    assert Path(prepared_hub.data_dir, "store").is_dir()

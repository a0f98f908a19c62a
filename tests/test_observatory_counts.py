"""The maintained observatory figures equal the ``sparql/observatory-*.rq`` queries after any
sequence of writes, on a served hub: REST creates, Graph Store replacements (type, theme,
territory and date changes), deletions, connector syncs (data·inclusion emulator: creates, a
territory and a theme change, deletions), an identity merge, a town name placed by a person, a command-line import and restarts,
for the operator and for anonymous readers."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.pipeline.ingest import Ingestor
from hub.pipeline.match import Match, candidate_update
from hub.rdf.resources import named_query
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.harness import jsonapi_config
from tests.servers.common import wait_until
from tests.servers.data_inclusion import DataInclusion, running_data_inclusion
from tests.servers.hub import TOKEN, ServedHub, serving

NAMES = [f"observatory-by-{n}" for n in ("region", "department", "epci", "commune", "territory-theme",
                                         "theme", "type", "month")]
TYPES = ["Organization", "Project", "Place", "Event", "Commons", "Resource"]
THEMES = ["mobilité", "énergie", "alimentation"]
NUMERIC = {"density", "population", "entities", "changes"}


def _rows(answer: httpx.Response) -> list[tuple[tuple[str, str], ...]]:
    assert answer.status_code == 200, answer.text
    rows = []
    for binding in answer.json()["results"]["bindings"]:
        rows.append(tuple(sorted(
            (name, str(Decimal(term["value"]).normalize()) if name in NUMERIC else term["value"])
            for name, term in binding.items())))
    return sorted(rows)


def ask(hub: ServedHub, query: str, token: bool = True) -> list[tuple[tuple[str, str], ...]]:
    return _rows(httpx.post(f"{hub.url}/sparql", content=query.encode(), timeout=120,
                            headers={**(hub.auth if token else {}),
                                     "Content-Type": "application/sparql-query",
                                     "Accept": "application/sparql-results+json"}))


def wait_until_built(hub: ServedHub) -> None:
    """Until built (in the background from the start) the hub runs the queries themselves."""
    log = hub.data_dir.parent / f"{hub.data_dir.name}-server.log"
    wait_until(lambda: log.read_text(errors="replace").count("observatory figures (") >= 2, 120,
               "the observatory figures' build")


def assert_figures_match(hub: ServedHub) -> None:
    """Maintained (the exact query text) against the query run (the same text with a comment,
    which the hub does not recognise, so the engine evaluates it)."""
    wait_until_built(hub)
    for name in NAMES:
        text = named_query(name)
        assert ask(hub, text) == ask(hub, text + "\n# run by the engine\n"), name
        # anonymous requests see only the public graphs: never answered from every graph's counts
        assert ask(hub, text, token=False) == ask(hub, text + "\n# anonymous\n", token=False), name


def communes(hub: ServedHub) -> list[str]:
    found = httpx.get(f"{hub.url}/sparql", params={
        "query": f"SELECT ?c WHERE {{ ?c a <{MLG}Commune> ; <{MLG}partOfTerritory> ?p }} ORDER BY ?c LIMIT 40"})
    return [b["c"]["value"] for b in found.json()["results"]["bindings"]]


def turtle(iri: str, rng: random.Random, places: list[str]) -> str:
    kind = rng.choice(TYPES)
    lines = [f"<{iri}> a <{MLG}{kind}> ; <{MLG}name> \"Fiche {rng.randrange(10**6)}\"@fr"]
    for theme in rng.sample(THEMES, rng.randrange(3)):
        lines.append(f"<{MLG}theme> \"{theme}\"")
    for place in rng.sample(places, rng.randrange(3)):
        lines.append(f"<{MLG}{rng.choice(['territory', 'concernsTerritory'])}> <{place}>")
    lines.append(f"<{MLG}startDate> \"2026-{rng.randrange(1, 13):02d}-01\"^^<http://www.w3.org/2001/XMLSchema#date>")
    return " ;\n  ".join(lines) + " .\n"


def random_writes(hub: ServedHub, rng: random.Random, places: list[str], steps: int) -> None:
    live: list[str] = []
    for step in range(steps):
        action = rng.choice(["create", "create", "edit", "edit", "delete", "rest"])
        if action == "rest":
            created = httpx.post(f"{hub.url}/api/projects", headers=hub.auth, timeout=60, json={
                "name": f"Projet {step}", "theme": [rng.choice(THEMES)],
                "concernsTerritory": [rng.choice(places)]})
            assert created.status_code == 201, created.text
            continue
        if action in ("edit", "delete") and live:
            graph = rng.choice(live)
        else:
            graph = f"https://example.org/graphs/obs-{step}"
            live.append(graph)
            action = "create"
        iri = graph.replace("/graphs/", "/fiche/")
        if action == "delete":
            live.remove(graph)
            gone = httpx.delete(f"{hub.url}/store", params={"graph": graph}, headers=hub.auth, timeout=60)
            assert gone.status_code in (200, 204), gone.text
            continue
        put = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=turtle(iri, rng, places),
                        headers={**hub.auth, "Content-Type": "text/turtle"}, timeout=60)
        assert put.status_code in (200, 201, 204), put.text


def di_config(api: DataInclusion) -> str:
    return jsonapi_config(api.url, "MAILLAGE_TEST_DI_OBS_TOKEN")


def sync(hub: ServedHub) -> None:
    done = httpx.post(f"{hub.url}/sources/di/sync", headers=hub.auth, timeout=120).json()
    assert done["error"] is None, done


def place(source: str, key: str, iri: str, theme: str, territory: str) -> Record:
    subject = ox.NamedNode(iri)
    return Record(source=source, source_id=key, triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal("Le Moulin", language="fr")),
        ox.Triple(subject, ox.NamedNode(MLG + "theme"), ox.Literal(theme)),
        ox.Triple(subject, ox.NamedNode(MLG + "territory"), ox.NamedNode(territory)),
    ))


def add_match_candidate(data: Path, places: list[str]) -> None:
    """Two records of one place from two sources, and the candidate pair a person will accept."""
    with OxigraphStore(data / "store") as store:
        ingestor = Ingestor(store, DEFAULT_BASE_IRI)
        wiki = place("wiki", "1", "https://example.org/wiki/1", "mobilité", places[0])
        other = place("plateforme", "a", "https://example.org/co/a", "énergie", places[-1])
        montreuil = ox.NamedNode("https://example.org/lieu/montreuil")  # a town name to choose
        ambiguous = Record(source="wiki", source_id="montreuil", triples=(
            ox.Triple(montreuil, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
            ox.Triple(montreuil, ox.NamedNode(MLG + "name"), ox.Literal("Lieu à Montreuil", language="fr")),
            ox.Triple(montreuil, ox.NamedNode(MLG + "theme"), ox.Literal("mobilité")),
            ox.Triple(montreuil, ox.NamedNode(MLG + "locality"), ox.Literal("Montreuil"))))
        ingestor.ingest([wiki, other, ambiguous])
        match = candidate_update(other, "https://example.org/co/a",
                                 Match("https://example.org/wiki/1", 0.5, "same name 'Le Moulin'"))
        ingestor.ingest_batch([], None, [match])


@pytest.fixture
def api() -> Iterator[DataInclusion]:
    with running_data_inclusion() as server:
        yield server


def test_maintained_figures_equal_the_queries_after_random_writes_syncs_merges_and_restarts(
        tmp_path: Path, api: DataInclusion, monkeypatch: pytest.MonkeyPatch) -> None:
    rng = random.Random(int(os.environ.get("MAILLAGE_TEST_SEED", "19")))
    data = tmp_path / "data"
    codes = ["69381", "75056", "33063", "13055"]
    structures = [api.add_structure(code_insee=rng.choice(codes)) for _ in range(4)]
    services = [api.add_service(rng.choice(structures), code_insee=rng.choice(codes)) for _ in range(4)]
    monkeypatch.setenv("MAILLAGE_TEST_DI_OBS_TOKEN", api.token)
    with serving(data, di_config(api)) as hub:
        assert_figures_match(hub)  # the first build
        sync(hub)
        assert_figures_match(hub)
        api.update(structures[0], code_insee=codes[1])  # a territory change at the source
        api.update(services[0], thematiques=["mobilite--comprendre-et-utiliser-les-transports-en-commun"])
        api.delete(services[1])
        sync(hub)
        assert_figures_match(hub)
        places = communes(hub)
        assert places
        random_writes(hub, rng, places, 25)
        assert_figures_match(hub)  # caught up from the change log
        random_writes(hub, rng, places, 10)
        assert_figures_match(hub)
    file = tmp_path / "import.ttl"
    file.write_text("".join(turtle(f"https://example.org/fiche/import-{i}", rng, places) for i in range(5)))
    imported = subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(data), "import", str(file)],
                              capture_output=True, text=True, timeout=120,
                              env={**os.environ, "MAILLAGE_TOKEN": TOKEN})
    assert imported.returncode == 0, imported.stderr
    add_match_candidate(data, places)
    with serving(data, di_config(api), demo=False) as hub:  # a restart: built again, with the import
        assert_figures_match(hub)
        [candidate] = httpx.get(f"{hub.url}/matches", headers=hub.auth).json()
        accepted = httpx.post(f"{hub.url}/matches/{candidate['id']}/accept", headers=hub.auth)
        assert accepted.status_code == 200, accepted.text
        assert_figures_match(hub)  # the merge: one place now, with both themes and territories
        [town] = [c for c in httpx.get(f"{hub.url}/places", headers=hub.auth).json() if c["name"] == "Montreuil"]
        known = [code for code in town["communes"] if httpx.get(f"{hub.url}/sparql", params={"query": (
            f'ASK {{ ?c a <{MLG}Commune> ; <{MLG}inseeCode> "{code}" ; <{MLG}partOfTerritory> ?up }}')}
        ).json()["boolean"]]
        assert known, town  # a commune of the reference: the choice moves the counts
        chosen = httpx.post(f"{hub.url}/places/{town['id']}/choose", params={"insee": known[-1]}, headers=hub.auth)
        assert chosen.status_code == 200, chosen.text
        assert_figures_match(hub)  # a person's choice of commune: written without a change-log entry
        api.delete(structures[2])
        sync(hub)
        random_writes(hub, rng, places, 10)
        assert_figures_match(hub)

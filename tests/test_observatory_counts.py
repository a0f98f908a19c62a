"""The maintained observatory figures equal the ``sparql/observatory-*.rq`` queries after any
sequence of writes, on a served hub: REST creates, Graph Store replacements (type, theme,
territory and date changes), deletions, a command-line import and restarts."""

from __future__ import annotations

import os
import random
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import httpx

from hub.rdf.resources import named_query
from hub.vocab import MLG
from tests.servers.hub import TOKEN, ServedHub, serving

NAMES = [f"observatory-by-{n}" for n in ("region", "department", "epci", "commune", "theme", "type", "month")]
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


def assert_figures_match(hub: ServedHub) -> None:
    """Maintained (the exact query text) against the query run (the same text with a comment,
    which the hub does not recognise, so the engine evaluates it)."""
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


def test_maintained_figures_equal_the_queries_after_random_writes_imports_and_restarts(tmp_path: Path) -> None:
    rng = random.Random(int(os.environ.get("MAILLAGE_TEST_SEED", "19")))
    data = tmp_path / "data"
    with serving(data) as hub:
        assert_figures_match(hub)  # the first build
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
    with serving(data, demo=False) as hub:  # a restart: built again, with the import
        assert_figures_match(hub)
        random_writes(hub, rng, places, 10)
        assert_figures_match(hub)

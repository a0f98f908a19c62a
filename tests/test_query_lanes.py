"""Fair scheduling: a small query answers while slow queries hold every general query worker."""

from __future__ import annotations

import contextlib
import re
import threading
import time
from pathlib import Path

import httpx

from hub.api.query.cache import normalise
from hub.api.query.lanes import cost_text
from tests.servers.hub import serving

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs to the timeout
SLOW_CLIENTS = 3
CONFIG = (
    "[api]\nquery_workers = 2\nquery_fast_workers = 1\nquery_fast_seconds = 0.5\n"
    "query_timeout = 30\n"
)


def run_slow(url: str, answers: list[int], n: int) -> None:
    with contextlib.suppress(httpx.HTTPError):  # the server stopped under it at the end
        answers.append(httpx.get(f"{url}/sparql", params={"query": f"{SLOW} # client {n}"},
                                 timeout=90).status_code)


def lane_load(client: httpx.Client, url: str) -> dict[str, float]:
    text = client.get(f"{url}/metrics").text
    return {f"{kind}:{lane}": float(value) for kind, lane, value in re.findall(
        r'^maillage_query_(running|waiting)\{lane="(\w+)"\} (\S+)$', text, re.MULTILINE)}


def test_small_queries_answer_while_slow_ones_hold_the_general_workers(tmp_path: Path) -> None:
    with serving(tmp_path / "data", config=CONFIG) as hub, httpx.Client(timeout=60) as client:
        answers: list[int] = []
        slow = [threading.Thread(target=run_slow, args=(hub.url, answers, n), daemon=True)
                for n in range(SLOW_CLIENTS)]
        for thread in slow:
            thread.start()
        # until the slow queries hold both general workers and the third waits for one (it
        # left the fast lane after query_fast_seconds)
        deadline = time.monotonic() + 60
        while lane_load(client, hub.url) != {"running:general": 2, "waiting:general": 1,
                                             "running:fast": 0, "waiting:fast": 0}:
            assert time.monotonic() < deadline, lane_load(client, hub.url)
            assert answers == [], "a slow query ended early"
            time.sleep(0.05)
        for n in range(5):  # each text new, so none comes from the result cache
            small = client.get(
                f"{hub.url}/sparql",
                params={"query": f"SELECT ?s WHERE {{ ?s a ?t }} LIMIT {n + 1}"},
                headers={"Accept": "application/sparql-results+json"},
            )
            assert small.status_code == 200, small.text
            assert len(small.json()["results"]["bindings"]) == n + 1
        assert lane_load(client, hub.url)["running:general"] == 2, "the slow ones still run"
        assert answers == []


def test_a_numbering_comment_does_not_hide_a_known_slow_query() -> None:
    assert cost_text(normalise(f"{SLOW}\n# client 3 request 7")) == cost_text(normalise(SLOW))
    iri = "SELECT ?s WHERE { ?s a <https://w3id.org/maillage/ontology#Place> }"
    assert cost_text(normalise(iri)) == iri  # a # inside an IRI is no comment

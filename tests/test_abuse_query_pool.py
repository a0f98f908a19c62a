"""Attacks on the SPARQL query pool, against a real served hub with 2 general workers and one for
the fast lane (hub.api.query.lanes), and small limits.

Crashing or killing workers must cost one query its answer, never the pool; a storm of slow
queries must be turned away with 503 + Retry-After while health checks and writes go on; a
runaway sort must hit the memory cap, not the machine.
"""

from __future__ import annotations

import os
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from hub.vocab import MLG
from tests.servers.hub import ServedHub, serving

CONFIG = (
    "[api]\nquery_timeout = 4\nquery_workers = 2\nquery_fast_workers = 1\nquery_queue = 4\n"
    "query_memory_mb = 256\nquery_cache_mb = 0\n"  # the pool itself answers every query
)
POOL = 3  # worker processes: the general ones and the fast lane's
COUNT = "SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }"
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs past 4 s
RUNAWAY_SORT = "SELECT * WHERE { ?a ?b ?c . ?d ?e ?f } ORDER BY ?c ?f ?a ?d LIMIT 1"
JSON = "application/sparql-results+json"
PYTHON_NAMES = ("Error", "Exception", "Traceback", "File \"", "pyoxigraph")


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    with serving(tmp_path_factory.mktemp("query-pool") / "data", CONFIG) as served:
        yield served


def query(hub: ServedHub, text: str, timeout: float = 60) -> httpx.Response:
    return httpx.post(f"{hub.url}/sparql", content=text.encode(), timeout=timeout,
                      headers={"Content-Type": "application/sparql-query", "Accept": JSON})


def assert_pool_answers(hub: ServedHub) -> None:
    """More queries than workers, one after the other: every worker of the pool gets one."""
    for _ in range(4):
        response = query(hub, COUNT)
        assert response.status_code == 200, response.text
        assert int(response.json()["results"]["bindings"][0]["n"]["value"]) > 0


def assert_clean_error(response: httpx.Response) -> str:
    message = response.json()["error"]
    assert isinstance(message, str)
    assert not any(name in message for name in PYTHON_NAMES), message
    return message


# --- /proc: the server's query workers ---------------------------------------------------------


def cmdline(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def parent(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("PPid:"):
                return int(line.split()[1])
    except OSError:
        pass
    return None


def server_pid(hub: ServedHub) -> int:
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    found = [p for p in pids if str(hub.data_dir) in cmdline(p) and " serve " in cmdline(p)]
    assert len(found) == 1, found
    return found[0]


def query_workers(hub: ServedHub) -> list[int]:
    """The server's multiprocessing children (not the resource tracker)."""
    root = server_pid(hub)
    pids = [int(p) for p in os.listdir("/proc") if p.isdigit()]
    return [p for p in pids if parent(p) == root and "spawn_main" in cmdline(p)]


def gone(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return True
    return state in ("Z", "X")


def kill_and_wait(pids: list[int]) -> None:
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    deadline = time.monotonic() + 10
    while not all(gone(pid) for pid in pids):
        assert time.monotonic() < deadline, "SIGKILLed workers did not die"
        time.sleep(0.05)


# --- crashes -------------------------------------------------------------------------------------


def test_fifty_thousand_nested_braces_are_refused_and_the_next_query_works(hub: ServedHub) -> None:
    nested = "SELECT * WHERE " + "{" * 50_000 + " ?s ?p ?o " + "}" * 50_000
    for _ in range(POOL + 1):  # more than the pool's workers
        response = query(hub, nested)
        assert response.status_code == 400
        assert "nest" in assert_clean_error(response)
    assert_pool_answers(hub)


def test_a_query_that_crashes_the_parser_costs_only_its_own_answer(hub: ServedHub) -> None:
    # No bracket at all: the nesting check lets it through and the parser's recursion kills the
    # worker, each time; the pool stays whole.
    crashing = "SELECT * WHERE { FILTER(" + "!" * 50_000 + "true) }"
    before = set(query_workers(hub))
    for _ in range(4):
        response = query(hub, crashing)
        assert response.status_code == 400, response.text
        assert "too deeply nested or too complex" in assert_clean_error(response)
    assert_pool_answers(hub)
    after = set(query_workers(hub))
    assert before - after and len(after) == len(before), "the crashed workers were replaced"


def test_killed_workers_are_replaced(hub: ServedHub) -> None:
    assert_pool_answers(hub)
    workers = query_workers(hub)
    assert len(workers) == POOL, workers
    kill_and_wait(workers)
    assert_pool_answers(hub)
    assert len(query_workers(hub)) == POOL


def test_a_worker_killed_during_a_query_is_a_503_for_that_query_only(hub: ServedHub) -> None:
    assert_pool_answers(hub)
    answers: list[httpx.Response] = []
    slow = threading.Thread(target=lambda: answers.append(query(hub, SLOW)))
    slow.start()
    time.sleep(1)  # the slow query is running on one worker, the others are idle
    kill_and_wait(query_workers(hub))
    slow.join()
    assert answers[0].status_code == 503
    assert answers[0].headers.get("Retry-After", "").isdigit()
    assert "stopped" in assert_clean_error(answers[0])
    assert_pool_answers(hub)


def test_invalid_sparql_keeps_the_engine_message_without_python_names(hub: ServedHub) -> None:
    response = query(hub, "SELECT * WHERE { ?s ?p ")
    assert response.status_code == 400
    message = assert_clean_error(response)
    assert message.startswith("invalid SPARQL query: error at 1:")
    bad_graph = httpx.get(f"{hub.url}/sparql", headers={"Accept": JSON}, params={
        "query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": "not an iri"})
    assert bad_graph.status_code == 400
    assert "IRI" in assert_clean_error(bad_graph)


# --- memory --------------------------------------------------------------------------------------


def test_a_runaway_sort_hits_the_memory_cap_and_the_next_query_works(hub: ServedHub) -> None:
    for _ in range(POOL + 1):  # more than the pool's workers
        response = query(hub, RUNAWAY_SORT)
        assert response.status_code == 503, response.text
        assert response.headers.get("Retry-After", "").isdigit()
        message = assert_clean_error(response)
        assert "256 MB" in message and "memory" in message
    assert_pool_answers(hub)


# --- load ------------------------------------------------------------------------------------------


def test_a_storm_of_slow_queries_is_turned_away_while_health_and_writes_go_on(
    hub: ServedHub,
) -> None:
    storm: list[httpx.Response] = []
    lock = threading.Lock()

    def slow() -> None:
        response = query(hub, SLOW, timeout=120)
        with lock:
            storm.append(response)

    threads = [threading.Thread(target=slow) for _ in range(40)]
    for thread in threads:
        thread.start()
    time.sleep(0.5)  # the storm has filled both workers and the queue
    health: list[int] = []
    writes: list[int] = []
    graph = {"graph": "https://example.org/graph/written-during-the-storm"}
    for n in range(2):
        health.append(httpx.get(f"{hub.url}/health", timeout=60).status_code)
        changes = httpx.get(f"{hub.url}/changes", timeout=60)
        assert changes.status_code == 200, changes.text
        turtle = f'<https://example.org/storm> a <{MLG}Place> ; <{MLG}name> "Tempête {n}"@fr .'
        put = httpx.put(f"{hub.url}/store", params=graph, content=turtle.encode(),
                        headers={"Content-Type": "text/turtle", **hub.auth}, timeout=60)
        writes.append(put.status_code)
    still_running = sum(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join()
    assert health == [200, 200]
    assert writes[0] == 201 and all(code in (200, 204) for code in writes[1:]), writes
    assert still_running > 0, "the checks above ran while the storm was going on"
    assert len(storm) == 40
    for response in storm:
        assert response.status_code in (200, 503), response.text
        if response.status_code == 503:
            assert response.headers.get("Retry-After", "").isdigit(), response.headers
            assert_clean_error(response)
    busy = [r for r in storm if r.status_code == 503 and "busy" in r.json()["error"]]
    assert len(busy) >= 40 - 2 - 4 - 1, "a full queue refuses at once"
    written = query(hub, f"SELECT ?n WHERE {{ <https://example.org/storm> <{MLG}name> ?n }}")
    assert [b["n"]["value"] for b in written.json()["results"]["bindings"]] == ["Tempête 1"]
    assert_pool_answers(hub)

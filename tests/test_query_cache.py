"""The SPARQL result cache: repeated queries are answered from it, a write shows at once, and an
anonymous client never gets what was computed for the operator."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from hub.api.query.cache import CacheKey, ResultCache, normalise
from hub.vocab import MLG
from tests.servers.hub import serving

SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # runs to the timeout
COUNT = f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{MLG}Place> }}"
META = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH <urn:maillage:meta> { ?s ?p ?o } }"
JSON = {"Accept": "application/sparql-results+json"}


def key(query: str, version: int = 1, public: bool = True) -> CacheKey:
    return CacheKey(normalise(query), "application/json", (), (), public, None, version)


def test_normalise_collapses_layout_only_where_it_cannot_change_the_query() -> None:
    assert normalise("SELECT *\n  WHERE {  ?s ?p ?o }  ") == "SELECT *\nWHERE { ?s ?p ?o }"
    # a comment still ends at its line break: the next line is not swallowed
    assert normalise("# c\n\n SELECT ?s") == "# c\nSELECT ?s"
    # with a literal, spaces inside it matter: the text is kept as sent
    assert normalise('SELECT * { ?s ?p "a  b" }') != normalise('SELECT * { ?s ?p "a b" }')


def test_cache_drops_least_recent_past_its_size_and_older_versions_at_a_write() -> None:
    cache = ResultCache(max_bytes=3_000, max_entry_bytes=1_000)
    for n in range(4):
        assert cache.put(key(f"q{n}"), b"x" * 700)
    assert cache.get(key("q0")) is None  # the oldest went past 3,000 bytes
    assert cache.get(key("q3")) == b"x" * 700
    assert not cache.put(key("big"), b"x" * 2_000)  # larger than an entry may be
    assert cache.put(key("q3", version=2), b"new")
    assert cache.get(key("q2")) is None  # a write made every version-1 entry unreachable
    assert not cache.put(key("late", version=1), b"old")  # computed before the known write
    assert cache.get(key("q3", version=2)) == b"new"


def count(client: httpx.Client, url: str, query: str = COUNT) -> tuple[int, bytes]:
    response = client.get(f"{url}/sparql", params={"query": query}, headers=JSON)
    assert response.status_code == 200, response.text
    return int(response.json()["results"]["bindings"][0]["n"]["value"]), response.content


def run_slow(url: str) -> None:
    """Send the slow query until it gets the worker (a probe may hold it when it first comes)."""
    try:
        while httpx.get(f"{url}/sparql", params={"query": SLOW}, timeout=60).status_code == 503:
            pass
    except httpx.HTTPError:
        pass  # the server stopped under it at the end of the test


def test_repeated_queries_come_from_the_cache_and_a_write_shows_at_once(tmp_path: Path) -> None:
    # one worker, no fast lane, no queue: a query that needs a worker while the slow one holds it
    # is refused (503), so an answer then can only come from the cache
    config = "[api]\nquery_workers = 1\nquery_fast_workers = 0\nquery_queue = 0\nquery_timeout = 15\n"
    with serving(tmp_path / "data", config=config) as hub, httpx.Client(timeout=60) as client:
        places, first = count(client, hub.url)
        assert places > 0
        slow = threading.Thread(target=run_slow, args=(hub.url,), daemon=True)
        slow.start()
        busy = None
        for n in range(2000):  # until the slow query holds the worker (each text new: no cache)
            busy = client.get(f"{hub.url}/sparql", params={"query": f"{COUNT} LIMIT {n + 1}"},
                              headers=JSON)
            if busy.status_code == 503:
                break
        assert busy is not None and busy.status_code == 503, "the slow query never held the worker"
        again = client.get(f"{hub.url}/sparql", params={"query": "  " + COUNT + "\n"}, headers=JSON)
        assert again.status_code == 200 and again.content == first  # the cache, same bytes
        assert slow.is_alive()

    with serving(tmp_path / "data2", config="[api]\nquery_workers = 1\n") as hub, \
            httpx.Client(timeout=60) as client:
        before, _ = count(client, hub.url)
        count(client, hub.url)  # now cached
        update = (
            f"INSERT DATA {{ GRAPH <https://example.org/g/new> {{ <https://example.org/p/new> "
            f'a <{MLG}Place> ; <{MLG}name> "Nouveau lieu"@fr }} }}'
        )
        response = client.post(f"{hub.url}/sparql/update", data={"update": update}, headers=hub.auth)
        assert response.status_code == 200, response.text
        after, _ = count(client, hub.url)
        assert after == before + 1  # the write is seen by the very next answer

        private = client.get(f"{hub.url}/sparql", params={"query": META}, headers={**JSON, **hub.auth})
        assert private.status_code == 200
        assert int(private.json()["results"]["bindings"][0]["n"]["value"]) > 0
        anonymous, _ = count(client, hub.url, META)
        assert anonymous == 0  # not the operator's cached answer: the bookkeeping graph is private
        again = client.get(f"{hub.url}/sparql", params={"query": META}, headers={**JSON, **hub.auth})
        assert again.content == private.content


def test_identical_queries_at_once_share_one_run(tmp_path: Path) -> None:
    # one worker and no queue: without sharing, the copies that find the worker busy get 503
    config = "[api]\nquery_workers = 1\nquery_fast_workers = 0\nquery_queue = 0\nquery_timeout = 60\n"
    medium = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f }"  # seconds on the demo data
    with serving(tmp_path / "data", config=config) as hub:
        answers: list[httpx.Response] = []
        start = threading.Barrier(4)

        def ask() -> None:
            start.wait()
            answers.append(httpx.get(f"{hub.url}/sparql", params={"query": medium},
                                     headers=JSON, timeout=90))

        threads = [threading.Thread(target=ask) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert [a.status_code for a in answers] == [200] * 4, [a.text for a in answers]
        assert len({a.content for a in answers}) == 1
        # the control: a query needing the worker while another holds it is refused, so the four
        # above could only all be answered by sharing one run (or by running one after another,
        # which the refusal rules out)
        slow = threading.Thread(target=run_slow, args=(hub.url,), daemon=True)
        slow.start()
        refused = None
        for n in range(2000):
            refused = httpx.get(f"{hub.url}/sparql", params={"query": f"{COUNT} LIMIT {n + 1}"},
                                timeout=60)
            if refused.status_code == 503:
                break
        assert refused is not None and refused.status_code == 503

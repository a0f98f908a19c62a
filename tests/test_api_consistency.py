"""Readers get complete, consistent answers while writes stream in through the API."""

from __future__ import annotations

import threading
from pathlib import Path

import httpx

from hub.vocab import MLG
from tests.servers.hub import serving

WRITES = 60
PER_WRITE = 20
COUNT = f"SELECT (COUNT(?s) AS ?n) WHERE {{ ?s a <{MLG}Place> ; <{MLG}name> ?name }}"


def batch_update(index: int) -> str:
    body = " ".join(
        f'GRAPH <https://example.org/g/{index}-{i}> {{ <https://example.org/p/{index}-{i}> '
        f'a <{MLG}Place> ; <{MLG}name> "Lieu {index}-{i}"@fr }}'
        for i in range(PER_WRITE)
    )
    return f"INSERT DATA {{ {body} }}"


def test_counts_never_go_backwards_and_batches_appear_whole(tmp_path: Path) -> None:
    with serving(tmp_path / "data", demo=False) as hub:
        errors: list[str] = []

        def writer() -> None:
            with httpx.Client(headers=hub.auth, timeout=60) as client:
                for index in range(WRITES):
                    response = client.post(f"{hub.url}/sparql/update",
                                           data={"update": batch_update(index)})
                    if response.status_code != 200:
                        errors.append(response.text)

        thread = threading.Thread(target=writer)
        thread.start()
        seen: list[int] = []
        with httpx.Client(timeout=60) as client:
            while thread.is_alive():
                response = client.get(f"{hub.url}/sparql", params={"query": COUNT},
                                      headers={"Accept": "application/sparql-results+json"})
                assert response.status_code == 200, response.text
                seen.append(int(response.json()["results"]["bindings"][0]["n"]["value"]))
        thread.join()
        assert errors == []
        assert seen == sorted(seen), "a reader saw the count go backwards"
        assert all(n % PER_WRITE == 0 for n in seen), f"a half-committed batch was visible: {seen}"
        assert len(set(seen)) > 2, "the reads should overlap the writes"
        final = httpx.get(f"{hub.url}/sparql", params={"query": COUNT}).json()
        assert int(final["results"]["bindings"][0]["n"]["value"]) == WRITES * PER_WRITE

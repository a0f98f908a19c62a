"""The change feed over real HTTP: ``/changes`` paging and ``/changes/stream`` (Server-Sent Events)."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from tests.servers.hub import ServedHub, serving

CHANGE_TYPES = {"Create", "Update", "Delete"}


def get(url: str, **params: str | int) -> httpx.Response:
    return httpx.get(url, params=params, timeout=30)


def walk(start: str) -> list[dict[str, object]]:
    """Every item of the feed, following ``next`` until it disappears."""
    items: list[dict[str, object]] = []
    url: str | None = start
    pages = 0
    while url is not None:
        response = httpx.get(url, timeout=30)
        assert response.status_code == 200, response.text
        page = response.json()
        assert page["type"] == "OrderedCollectionPage"
        assert page["id"] == url
        items += page["orderedItems"]
        url = page.get("next")
        pages += 1
        assert pages < 10_000
    return items


def test_paging_visits_every_change_once(hub_server: ServedHub) -> None:
    last = get(f"{hub_server.url}/health").json()["last_sequence"]
    assert last > 0
    items = walk(f"{hub_server.url}/changes?since=0&limit=37")
    sequences = [item["sequence"] for item in items]
    assert sequences == list(range(1, last + 1))
    for item in items:
        assert item["type"] in CHANGE_TYPES
        assert item["id"] == f"https://w3id.org/maillage/id/change/{item['sequence']}"
        assert isinstance(item["object"], str) and item["object"].startswith("http")
        assert isinstance(item["graph"], str) and item["graph"].startswith("http")
        assert item["source"] == "demo"
        assert "published" in item


def test_page_shape(hub_server: ServedHub) -> None:
    response = get(f"{hub_server.url}/changes", limit=5)
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/ld+json")
    page = response.json()
    assert isinstance(page["@context"], dict)  # inline: nothing to fetch from the network
    assert page["partOf"] == f"{hub_server.url}/changes"
    assert [i["sequence"] for i in page["orderedItems"]] == [1, 2, 3, 4, 5]
    assert page["next"] == f"{hub_server.url}/changes?since=5&limit=5"
    assert "last_sequence" not in page  # a full page never changes; the open page says it
    last = get(f"{hub_server.url}/health").json()["last_sequence"]
    default = get(f"{hub_server.url}/changes").json()
    assert len(default["orderedItems"]) == min(100, last)


def test_last_page_has_no_next(hub_server: ServedHub) -> None:
    last = get(f"{hub_server.url}/health").json()["last_sequence"]
    page = get(f"{hub_server.url}/changes", since=last - 3, limit=3).json()
    assert [i["sequence"] for i in page["orderedItems"]] == [last - 2, last - 1, last]
    assert page["next"] == f"{hub_server.url}/changes?since={last}&limit=3"  # full: links on
    open_page = get(f"{hub_server.url}/changes", since=last - 2, limit=3).json()
    assert [i["sequence"] for i in open_page["orderedItems"]] == [last - 1, last]
    assert "next" not in open_page and open_page["last_sequence"] == last
    beyond = get(f"{hub_server.url}/changes", since=last + 1000).json()
    assert beyond["orderedItems"] == []
    assert "next" not in beyond
    assert beyond["last_sequence"] == last


def test_source_filter(hub_server: ServedHub) -> None:
    page = get(f"{hub_server.url}/changes", source="demo", limit=10).json()
    assert len(page["orderedItems"]) == 10
    assert "source=demo" in page["next"]
    assert get(f"{hub_server.url}/changes", source="nobody").json()["orderedItems"] == []
    odd = get(f"{hub_server.url}/changes", source='x" } } DROP ALL #')
    assert odd.status_code == 200 and odd.json()["orderedItems"] == []


@pytest.mark.parametrize(
    "params",
    [
        {"since": "-1"}, {"since": "abc"}, {"since": "1.5"}, {"since": "9" * 40},
        {"limit": "0"}, {"limit": "1001"}, {"limit": "ten"}, {"limit": "-5"},
        {"since": "١٢"},  # Unicode digits are not sequence numbers
    ],
)
def test_bad_parameters_are_400(hub_server: ServedHub, params: dict[str, str]) -> None:
    response = get(f"{hub_server.url}/changes", **params)
    assert response.status_code == 400, response.text
    assert "error" in response.json()
    stream = get(f"{hub_server.url}/changes/stream", **params) if "since" in params else None
    if stream is not None:
        assert stream.status_code == 400


def test_limit_bounds_are_accepted(hub_server: ServedHub) -> None:
    assert get(f"{hub_server.url}/changes", limit=1000).status_code == 200
    assert len(get(f"{hub_server.url}/changes", limit=1).json()["orderedItems"]) == 1


NEW_PLACE = """@prefix mlg: <https://w3id.org/maillage/ontology#> .
<https://example.org/tiers-lieu-du-flux> a mlg:Place ;
    mlg:name "Tiers-lieu du flux"@fr .
"""


def test_feed_grows_after_an_import(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    with serving(data_dir) as hub:
        before = get(f"{hub.url}/health").json()["last_sequence"]
        tail = walk(f"{hub.url}/changes?since=0&limit=1000")
    assert [i["sequence"] for i in tail] == list(range(1, before + 1))
    new_file = tmp_path / "new.ttl"
    new_file.write_text(NEW_PLACE, encoding="utf-8")
    subprocess.run(
        [sys.executable, "-m", "hub", "--data-dir", str(data_dir), "import", str(new_file),
         "--source", "extra"],
        check=True, capture_output=True,
    )
    with serving(data_dir, demo=False) as hub:
        page = get(f"{hub.url}/changes", since=before).json()
        items = page["orderedItems"]
        assert [i["sequence"] for i in items] == [before + 1]
        assert items[0]["type"] == "Create"
        assert items[0]["object"] == "https://example.org/tiers-lieu-du-flux"
        assert items[0]["source"] == "extra"
        assert page["last_sequence"] == before + 1
        assert "next" not in page
        assert [i["sequence"] for i in get(f"{hub.url}/changes", source="extra").json()["orderedItems"]] == [
            before + 1
        ]
        stream = read_events(hub.url, {"since": str(before)}, {}, 1)
        assert [e["id"] for e in stream] == [str(before + 1)]


def read_events(
    url: str, params: dict[str, str], headers: dict[str, str], count: int
) -> list[dict[str, str]]:
    """The first ``count`` events of ``/changes/stream`` (comments and retry-only blocks skipped)."""
    events: list[dict[str, str]] = []
    with httpx.stream(
        "GET", f"{url}/changes/stream", params=params, headers=headers, timeout=15
    ) as response:
        assert response.status_code == 200
        assert response.headers["content-type"].startswith("text/event-stream")
        current: dict[str, str] = {}
        for line in response.iter_lines():
            if line == "":
                if "data" in current or "id" in current:
                    events.append(current)
                    if len(events) >= count:
                        break
                current = {}
                continue
            if line.startswith(":"):
                continue
            field, _, value = line.partition(":")
            value = value[1:] if value.startswith(" ") else value
            current[field] = current[field] + "\n" + value if field == "data" and field in current else value
    return events


def test_stream_sends_entries_with_sequence_ids(hub_server: ServedHub) -> None:
    events = read_events(hub_server.url, {"since": "0"}, {}, 5)
    assert [e["id"] for e in events] == ["1", "2", "3", "4", "5"]
    feed = get(f"{hub_server.url}/changes", limit=5).json()["orderedItems"]
    assert [json.loads(e["data"]) for e in events] == feed


def test_stream_resumes_from_last_event_id(hub_server: ServedHub) -> None:
    events = read_events(hub_server.url, {"since": "0"}, {"Last-Event-ID": "7"}, 3)
    assert [e["id"] for e in events] == ["8", "9", "10"]
    assert [json.loads(e["data"])["sequence"] for e in events] == [8, 9, 10]
    last = get(f"{hub_server.url}/health").json()["last_sequence"]
    tail = read_events(hub_server.url, {"since": str(last - 2)}, {}, 2)
    assert [e["id"] for e in tail] == [str(last - 1), str(last)]


def test_stream_stays_open_at_the_end(hub_server: ServedHub) -> None:
    """At the end of the log the stream waits (polling) instead of closing."""
    last = get(f"{hub_server.url}/health").json()["last_sequence"]
    with pytest.raises(httpx.ReadTimeout), httpx.stream(
        "GET", f"{hub_server.url}/changes/stream", params={"since": str(last)},
        timeout=httpx.Timeout(10, read=2),
    ) as response:
        assert response.status_code == 200
        for line in response.iter_lines():
            assert not line.startswith(("id:", "data:")), line


def test_stream_rejects_a_bad_last_event_id(hub_server: ServedHub) -> None:
    response = httpx.get(
        f"{hub_server.url}/changes/stream", headers={"Last-Event-ID": "nope"}, timeout=10
    )
    assert response.status_code == 400

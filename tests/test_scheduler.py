"""Scheduled syncs inside `maillage serve`, and syncs on demand through the API."""

from __future__ import annotations

import time
from pathlib import Path

import httpx
import pytest

from hub.config import ConfigError
from hub.sync.scheduler import trigger_for
from hub.vocab import MLG
from tests.servers.hub import serving
from tests.servers.mediawiki import Wiki

PAGE = """{{Tiers-lieu
|nom=La Fabrique de Rennes
|description courte=Lieu planifié.
|code postal=35000
|ville=Rennes
}}"""


def test_schedules_are_understood_or_refused_clearly() -> None:
    assert "interval" in str(trigger_for("every 30 seconds")).lower()
    assert "cron" in str(trigger_for("*/15 * * * *")).lower()
    assert "cron" in str(trigger_for("@hourly")).lower()
    with pytest.raises(ConfigError, match="invalid schedule"):
        trigger_for("tous les jours")


def test_a_wiki_edit_reaches_the_served_hub_on_schedule(wiki: Wiki, tmp_path: Path,
                                                        monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SCHED_WIKI_USER", wiki.bot_user)
    monkeypatch.setenv("SCHED_WIKI_PASSWORD", wiki.bot_password)
    config = f"""
[[sources]]
name = "movilab"
kind = "mediawiki"
url = "{wiki.api_url}"
mapping = "{Path('mappings/movilab.toml').resolve()}"
direction = "read"
schedule = "every 2 seconds"
credentials = {{ user_env = "SCHED_WIKI_USER", password_env = "SCHED_WIKI_PASSWORD" }}
options = {{ retry_wait = 0.1 }}
"""
    wiki.edit_as_human("La Fabrique de Rennes", PAGE, "nouveau lieu")
    query = f'ASK {{ ?s <{MLG}name> "La Fabrique de Rennes"@fr }}'
    with serving(tmp_path / "data", config, demo=False) as hub:
        deadline = time.monotonic() + 60
        found = False
        while time.monotonic() < deadline and not found:
            found = httpx.get(f"{hub.url}/sparql", params={"query": query}).json()["boolean"]
            time.sleep(0.5)
        assert found, "the scheduler synced the wiki without anyone running `maillage sync`"
        [source] = httpx.get(f"{hub.url}/sources").json()
        assert source["last_sync"] and source["last_error"] is None and "read" in source["last_summary"]
        assert httpx.post(f"{hub.url}/sources/movilab/sync").status_code == 401
        for _ in range(20):  # the scheduled run may hold the source: then 409, try again
            now = httpx.post(f"{hub.url}/sources/movilab/sync", headers=hub.auth, timeout=60)
            if now.status_code != 409:
                break
            time.sleep(0.3)
        assert now.status_code == 200 and now.json()["error"] is None
        assert httpx.post(f"{hub.url}/sources/nope/sync", headers=hub.auth).status_code == 404


def test_stopping_lets_a_run_in_progress_finish_with_its_connector(monkeypatch: pytest.MonkeyPatch) -> None:
    import threading

    from hub.config import Config, SourceSettings
    from hub.pipeline.ingest import Ingestor
    from hub.store.oxigraph import OxigraphStore
    from hub.sync.scheduler import SyncRunner
    from hub.vocab import DEFAULT_BASE_IRI
    from tests.servers.communecter import running_communecter

    with running_communecter() as platform:
        for i in range(3):
            platform.add_element("poi", {"name": f"Lieu {i}", "type": "place"})
        config = Config(in_memory=True, sources=[SourceSettings(name="co", kind="communecter", url=platform.url,
                                                                direction="read")])
        store = OxigraphStore(None)
        runner = SyncRunner(config, Ingestor(store, DEFAULT_BASE_IRI), threading.Lock(), lambda: None)
        platform.fail_next("slow", count=20)  # each request takes 0.5 s: the run is still going at stop()
        reports = []
        worker = threading.Thread(target=lambda: reports.append(runner.run("co")))
        worker.start()
        time.sleep(0.3)
        runner.stop()
        worker.join()
        assert reports[0] is not None and reports[0].error is None, reports[0]
        assert reports[0].read.created == 3
        assert runner.run("co") is None, "no run after stop"
        store.close()


def test_an_api_write_does_not_wait_behind_a_slow_sync(tmp_path: Path) -> None:
    """The scheduler holds the API's write lock per commit, not for a whole sync: a write sent
    while a slow source is being read lands at once, and the sync still ends well."""
    import threading

    from tests.servers.communecter import running_communecter

    with running_communecter() as platform:
        for i in range(4):
            platform.add_element("poi", {"name": f"Lieu lent {i}", "type": "place"})
        config = f"""
[[sources]]
name = "co"
kind = "communecter"
url = "{platform.url}"
direction = "read"
"""
        with serving(tmp_path / "data", config, demo=False) as hub:
            platform.fail_next("slow", count=40)  # every request to the platform takes 0.5 s
            outcome: list[httpx.Response] = []
            sync = threading.Thread(target=lambda: outcome.append(
                httpx.post(f"{hub.url}/sources/co/sync", headers=hub.auth, timeout=120)))
            sync.start()
            deadline = time.monotonic() + 30
            while not httpx.get(f"{hub.url}/sources").json()[0]["running"]:
                assert time.monotonic() < deadline, "the sync never started"
                time.sleep(0.05)
            body = f'<https://example.org/pendant-la-synchro> a <{MLG}Place> ; <{MLG}name> "Pendant la synchro" .'
            started = time.monotonic()
            response = httpx.put(f"{hub.url}/store", params={"graph": "https://example.org/graphs/pendant"},
                                 content=body.encode(), timeout=60,
                                 headers={**hub.auth, "Content-Type": "text/turtle"})
            took = time.monotonic() - started
            still_syncing = sync.is_alive()
            sync.join()
        assert response.status_code == 201, response.text
        assert still_syncing, "the sync was over before the write: the test proves nothing"
        assert took < 1.5, f"the write waited {took:.1f} s behind the sync"
        assert outcome[0].status_code == 200 and outcome[0].json()["error"] is None, outcome[0].text
        assert "read 4 new" in outcome[0].json()["summary"]

"""kill -9 in the middle of a two-way sync, then again: every change lands once on each side."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.servers.communecter import Communecter, running_communecter
from tests.servers.mediawiki import Wiki, running_wiki

PLACES = 24
EMAIL, PASSWORD = "bot@maillage.test", "mot-de-passe-du-bot"
PAGE = "{{{{Tiers-lieu\n|nom=Lieu {i}\n|description courte=Lieu numéro {i}.\n|code postal=35000\n|ville=Rennes\n}}}}"


def config(tmp_path: Path, wiki: Wiki, platform: Communecter) -> Path:
    path = tmp_path / "maillage.toml"
    path.write_text(f"""
[[sources]]
name = "movilab"
kind = "mediawiki"
url = "{wiki.api_url}"
mapping = "{Path('mappings/movilab.toml').resolve()}"
direction = "both"
credentials = {{ user_env = "W_USER", password_env = "W_PASSWORD" }}
options = {{ retry_wait = 0.1, edit_interval = 0.15 }}

[[sources]]
name = "co"
kind = "communecter"
url = "{platform.url}"
direction = "both"
credentials = {{ user_env = "C_USER", password_env = "C_PASSWORD" }}
options = {{ retry_wait = 0.05 }}
""")
    return path


def sync(tmp_path: Path, wiki: Wiki, platform: Communecter, kill_when: Callable[[], bool] | None = None) -> int:
    env = {**os.environ, "W_USER": wiki.bot_user, "W_PASSWORD": wiki.bot_password,
           "C_USER": EMAIL, "C_PASSWORD": PASSWORD}
    command = [sys.executable, "-m", "hub", "--config", str(config(tmp_path, wiki, platform)),
               "--data-dir", str(tmp_path / "data"), "sync"]
    proc = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_when is not None:
        deadline = time.monotonic() + 120
        while proc.poll() is None and not kill_when() and time.monotonic() < deadline:
            time.sleep(0.02)
        assert proc.poll() is None, "the sync ended before the kill: make it longer"
        os.kill(proc.pid, signal.SIGKILL)
    return proc.wait(timeout=300)


def saves(platform: Communecter) -> int:
    return len([s for s in platform.requests if s.path == "/co2/element/save"])


def bot_edits(wiki: Wiki, title: str) -> int:
    pages = wiki.api(action="query", prop="revisions", titles=title, rvlimit=50, rvprop="user")["query"]["pages"]
    return sum(1 for r in pages[0].get("revisions", []) if r["user"] == wiki.bot_user.split("@")[0])


@pytest.mark.slow
def test_sigkill_in_a_two_way_sync_applies_every_change_once(tmp_path: Path) -> None:
    with running_wiki() as wiki, running_communecter() as platform:
        platform.add_user(EMAIL, PASSWORD, "maillage-bot")
        assert sync(tmp_path, wiki, platform) == 0  # first contact
        for i in range(PLACES):
            wiki.edit_as_human(f"Lieu {i}", PAGE.format(i=i), "nouveau lieu")
        # killed while creating the places on the platform
        assert sync(tmp_path, wiki, platform, kill_when=lambda: saves(platform) >= PLACES // 3) == -signal.SIGKILL
        assert 0 < saves(platform) < PLACES + 1
        assert sync(tmp_path, wiki, platform) == 0
        names = [str(e.get("name")) for e in platform.elements("poi")]
        assert sorted(n for n in names if n.startswith("Lieu ")) == sorted(f"Lieu {i}" for i in range(PLACES)), \
            "each place exactly once on the platform"
        # the platform edits every place; killed while writing them into the wiki
        platform.clock.advance(60)
        for element in platform.elements("poi"):
            if str(element.get("name")).startswith("Lieu "):
                key = element["_id"]["$id"] if isinstance(element["_id"], dict) else element["_id"]
                platform.update_element("poi", str(key), {"shortDescription": f"{element['name']}, revu."})
        written = lambda: sum(bot_edits(wiki, f"Lieu {i}") for i in range(PLACES))  # noqa: E731
        assert sync(tmp_path, wiki, platform, kill_when=lambda: written() >= PLACES // 3) == -signal.SIGKILL
        assert sync(tmp_path, wiki, platform) == 0
        assert sync(tmp_path, wiki, platform) == 0
        for i in range(PLACES):
            assert f"|description courte=Lieu {i}, revu." in wiki.page_text(f"Lieu {i}")
            assert bot_edits(wiki, f"Lieu {i}") == 1, f"Lieu {i}: exactly one hub edit"
        assert len([n for n in (str(e.get("name")) for e in platform.elements("poi")) if n.startswith("Lieu ")]) \
            == PLACES

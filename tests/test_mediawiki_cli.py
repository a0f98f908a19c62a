"""`maillage sync`, `status`, `discover` and `conflicts` with a real wiki, as an operator runs them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from tests.servers.mediawiki import Wiki

MAPPING = Path("mappings/fabmob.toml").resolve()


def config(tmp_path: Path, wiki: Wiki) -> Path:
    path = tmp_path / "maillage.toml"
    path.write_text(f"""
[[sources]]
name = "fabmob"
kind = "mediawiki"
url = "{wiki.api_url}"
mapping = "{MAPPING}"
direction = "both"
credentials = {{ user_env = "FABMOB_BOT_USER", password_env = "FABMOB_BOT_PASSWORD" }}
options = {{ retry_wait = 0.2, max_retries = 2, edit_interval = 0 }}
""")
    return path


def run(tmp_path: Path, wiki: Wiki, *args: str, password: str | None = None) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "FABMOB_BOT_USER": wiki.bot_user,
           "FABMOB_BOT_PASSWORD": password or wiki.bot_password}
    result = subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(config(tmp_path, wiki)),
         "--data-dir", str(tmp_path / "data"), *args],
        capture_output=True, text=True, env=env, timeout=300,
    )
    assert "Traceback" not in result.stderr + result.stdout, result.stderr
    return result


def test_sync_status_conflicts_and_discover(tmp_path: Path, wiki: Wiki) -> None:
    synced = run(tmp_path, wiki, "sync")
    assert synced.returncode == 0, synced.stderr + synced.stdout
    assert "fabmob: read" in synced.stdout
    status = json.loads(run(tmp_path, wiki, "status", "--format", "json").stdout)
    assert status["sources"]["fabmob"] > 5
    assert status["syncs"]["fabmob"]["last_error"] is None
    assert any("not closed" in q["reason"] for q in status["quarantine"])
    listed = run(tmp_path, wiki, "conflicts", "list", "--format", "json")
    assert listed.returncode == 0 and json.loads(listed.stdout) == []
    draft = tmp_path / "draft.toml"
    assert run(tmp_path, wiki, "discover", "fabmob", "-o", str(draft)).returncode == 0
    assert "[[templates]]" in draft.read_text()


def test_a_wrong_password_is_a_clear_error_kept_in_status(tmp_path: Path, wiki: Wiki) -> None:
    failed = run(tmp_path, wiki, "sync", password="not-the-password")
    assert failed.returncode == 1
    assert "refused the login" in failed.stdout
    status = json.loads(run(tmp_path, wiki, "status", "--format", "json").stdout)
    assert "refused the login" in status["syncs"]["fabmob"]["last_error"]
    unknown = run(tmp_path, wiki, "sync", "nope")
    assert unknown.returncode == 1 and "no source named 'nope'" in unknown.stderr

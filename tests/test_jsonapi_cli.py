"""`maillage discover` and `maillage sync` on a JSON API, as an operator runs them: a drafted
mapping, left as drafted, already reads the API's records into the hub."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from connectors.jsonapi.mapping import load_mapping
from tests.servers.data_inclusion import DataInclusion, running_data_inclusion


def maillage(tmp_path: Path, *args: str, token: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "MAILLAGE_DATA": str(tmp_path / "data"), "MAILLAGE_TERRITORIES": "0",
           "DI_TOKEN": token}
    env.pop("MAILLAGE_CONFIG", None)
    return subprocess.run([sys.executable, "-m", "hub", *args], cwd=tmp_path, env=env, capture_output=True,
                          text=True, timeout=120)


def fill(api: DataInclusion) -> None:
    for number in range(3):
        key = api.add_structure(nom=f"Centre social numéro {number}")
        api.add_service(key, nom=f"Permanence {number}")


def test_discover_drafts_a_mapping_that_reads_the_api(tmp_path: Path) -> None:
    with running_data_inclusion() as api:
        fill(api)
        draft = tmp_path / "draft.toml"
        done = maillage(tmp_path, "discover", api.url, "--path", "/api/v1/structures", "--path", "/api/v1/services",
                        "--token-env", "DI_TOKEN", "-o", str(draft), token=api.token)
        assert done.returncode == 0, done.stderr + done.stdout
        text = draft.read_text(encoding="utf-8")
        mapping = load_mapping(draft)
        structures, services = mapping.endpoints
        assert (structures.hub_class, structures.records, structures.id, structures.updated) == (
            "Organization", "items", "id", "date_maj")
        assert (structures.paging.kind, structures.paging.pages, structures.paging.total) == ("page", "pages", "total")
        assert services.hub_class == "Service"
        rules = {r.path: r.property for r in structures.rules}
        assert rules["nom"] == "name" and rules["code_postal"] == "postalCode" and rules["courriel"] == "email"
        assert '# "structure_id" = { property = "TODO" }' in text, "what it cannot guess is left to a person"
        (tmp_path / "maillage.toml").write_text(
            '[[sources]]\nname = "di"\nkind = "jsonapi"\n'
            f'url = "{api.url}"\nmapping = "draft.toml"\ncredentials = {{ token_env = "DI_TOKEN" }}\n',
            encoding="utf-8")
        synced = maillage(tmp_path, "sync", "di", token=api.token)
        assert synced.returncode == 0, synced.stdout + synced.stderr
        # the structures are read as drafted; the services wait for a person to map structure_id
        assert "di: read 3 new, 0 updated, 0 deleted, 0 unchanged, 3 quarantined" in synced.stdout
        status = maillage(tmp_path, "status", "--format", "json", token=api.token)
        assert json.loads(status.stdout)["sources"]["di"] == 3, "three records of the source are stored"
        again = maillage(tmp_path, "discover", "di", token=api.token)  # a configured source: its mapping's
        assert again.returncode == 0, again.stderr                     # endpoints and auth are sampled
        assert '[auth]\nkind = "bearer"' in again.stdout and 'path = "/api/v1/services"' in again.stdout


def test_discover_with_a_refused_token_says_so(tmp_path: Path) -> None:
    with running_data_inclusion() as api:
        fill(api)
        done = maillage(tmp_path, "discover", api.url, "--path", "/api/v1/structures", "--token-env", "DI_TOKEN",
                        token="jeton-faux")
        assert done.returncode == 1
        assert "refused the credentials" in done.stderr + done.stdout
        no_path = maillage(tmp_path, "discover", api.url, token=api.token)
        assert no_path.returncode != 0 and "--path" in no_path.stderr + no_path.stdout

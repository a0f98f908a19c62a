"""Start a real ``maillage serve`` process for HTTP tests."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers.common import free_port, stop, wait_until

TOKEN = "test-token-not-a-secret"


@dataclass(frozen=True)
class ServedHub:
    url: str
    token: str
    data_dir: Path
    backend: str = "oxigraph"

    @property
    def auth(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}


@contextmanager
def serving(data_dir: Path, config: str = "", demo: bool = True) -> Iterator[ServedHub]:
    """Load the demo data into ``data_dir`` (unless told not to), then serve it on loopback."""
    env = {**os.environ, "MAILLAGE_TOKEN": TOKEN}
    data_dir.parent.mkdir(parents=True, exist_ok=True)
    base = [sys.executable, "-m", "hub", "--data-dir", str(data_dir)]
    if config:
        config_path = data_dir.parent / f"{data_dir.name}.toml"
        config_path.write_text(config)
        base += ["--config", str(config_path)]
    if demo:
        subprocess.run([*base, "demo", "--no-serve"], check=True, env=env, capture_output=True)
    port = free_port()
    log_path = data_dir.parent / f"{data_dir.name}-server.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            [*base, "serve", "--host", "127.0.0.1", "--port", str(port)],
            env=env, stdout=log, stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            try:
                wait_until(lambda: httpx.get(f"{url}/health").status_code == 200, 60, "maillage serve")
            except TimeoutError as exc:
                raise RuntimeError(f"{exc}:\n{log_path.read_text()[-3000:]}") from exc
            backend = "sparql" if 'backend = "sparql"' in config else "oxigraph"
            yield ServedHub(url=url, token=TOKEN, data_dir=data_dir, backend=backend)
        finally:
            stop(proc)

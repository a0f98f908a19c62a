"""Schemathesis over the OpenAPI description of a served hub: no 5xx, responses match the schema.

The schemathesis CLI runs against the real server (its pytest plugin does not load under pytest
9); the exit code and its report decide.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.servers.hub import serving

SCHEMATHESIS = Path(sys.executable).with_name("schemathesis")


def test_openapi_fuzzing_finds_no_server_error(tmp_path: Path) -> None:
    with serving(tmp_path / "data") as hub:  # its own hub: the fuzzer writes, with the token
        result = _fuzz(hub.url, hub.token)
    report = result.stdout[-6000:] + result.stderr[-2000:]
    assert result.returncode == 0, report
    assert "generated" in result.stdout and "Server error" not in result.stdout, report


def _fuzz(url: str, token: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(SCHEMATHESIS), "run", f"{url}/openapi.json",
         "--checks", "not_a_server_error,response_schema_conformance",
         "--max-examples", "20", "--request-timeout", "30",
         "--phases", "examples,coverage,fuzzing",
         "--generation-deterministic", "--suppress-health-check", "all",
         "-H", f"Authorization: Bearer {token}"],
        capture_output=True, text=True, timeout=600,
    )

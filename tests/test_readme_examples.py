"""Every shell example of README.md runs as written: curl against a served demo hub, ``maillage``
commands against a data dir.

The examples are read from the README's ```bash blocks, one command per line. A block may be
preceded by ``<!-- readme-examples: skip WORD (why) -->``: its lines starting with WORD are not
run (``make demo`` serves until stopped, ``make test`` is what CI runs, ``open`` opens a
browser); nothing else is left out. The only change made to a command is the demo's address,
``http://127.0.0.1:8000``, replaced by the served hub's.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
import rdflib

from tests.servers.hub import ServedHub, serving

ROOT = Path(__file__).resolve().parent.parent
DEMO_URL = "http://127.0.0.1:8000"
_BLOCK = re.compile(r"((?:<!-- readme-examples: skip [^\n]*-->\n)*)```(?:bash|sh|shell)\n(.*?)```", re.S)
_SKIP = re.compile(r"<!-- readme-examples: skip (\S+)")


@dataclass(frozen=True)
class Example:
    command: str
    line: int


def examples() -> tuple[list[Example], list[str]]:
    """The commands to run, and the ones skipped by a marker."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    run: list[Example] = []
    skipped: list[str] = []
    for block in _BLOCK.finditer(text):
        skips = _SKIP.findall(block.group(1))
        first = text[: block.start(2)].count("\n") + 1
        for offset, raw in enumerate(block.group(2).splitlines()):
            command = raw.strip()
            if not command or command.startswith("#"):
                continue
            if any(command.split()[0] == word for word in skips):
                skipped.append(command)
            else:
                run.append(Example(command, first + offset))
    return run, skipped


RUN, SKIPPED = examples()


def test_the_readme_has_examples_and_says_which_are_not_run() -> None:
    assert any(e.command.startswith("curl") for e in RUN)
    assert any(e.command.startswith("maillage") for e in RUN)
    assert {c.split()[0] for c in SKIPPED} == {"make", "open"}


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    with serving(tmp_path_factory.mktemp("readme") / "hub") as served:
        yield served


def run(command: str, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["bash", "-o", "pipefail", "-c", command], cwd=ROOT, env=env, capture_output=True,
        text=True, timeout=120,
    )


def sensible(output: str) -> None:
    """JSON without an error, or RDF with triples, or (a table, a report) some text."""
    assert output.strip()
    try:
        parsed = json.loads(output)
    except ValueError:
        if output.lstrip().startswith("@prefix"):
            assert len(rdflib.Graph().parse(data=output, format="turtle")) > 0
        return
    assert not (isinstance(parsed, dict) and "error" in parsed), output


@pytest.mark.parametrize("example", [e for e in RUN if e.command.startswith("curl")],
                         ids=lambda e: f"line{e.line}")
def test_curl_example(hub: ServedHub, example: Example) -> None:
    if shutil.which("curl") is None:
        pytest.fail("curl is needed by the README's examples")
    done = run(example.command.replace(DEMO_URL, hub.url), dict(os.environ))
    assert done.returncode == 0, done.stderr
    sensible(done.stdout)


def test_maillage_examples_in_order(tmp_path: Path) -> None:
    """The ``maillage`` lines, in README order, on one fresh data dir (``MAILLAGE_DATA``)."""
    env = {
        **os.environ,
        "MAILLAGE_DATA": str(tmp_path / "data"),
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    env.pop("MAILLAGE_CONFIG", None)
    commands = [e for e in RUN if e.command.startswith("maillage")]
    for example in commands:
        done = run(example.command, env)
        assert done.returncode == 0, f"README line {example.line}: {done.stderr}"
        if "query" in example.command:
            assert re.search(r"\b[1-9]\d*\b", done.stdout), done.stdout
        elif "validate" not in example.command and "demo" not in example.command:
            sensible(done.stdout)


def test_every_example_is_a_curl_or_maillage_command() -> None:
    others = [e.command for e in RUN if not e.command.startswith(("curl", "maillage"))]
    assert others == []

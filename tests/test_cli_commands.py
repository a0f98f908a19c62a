"""The command table and the error contract of ``maillage``, checked against what users read.

The README's command table and ``maillage --help`` must name the same commands (a new command
that the README forgets fails here, like datasette's docs test), and a failure the user can act
on (any :class:`~hub.errors.HubError`) ends a real process with exit code 1 and one line.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from hub.cli import app

README = Path(__file__).resolve().parent.parent / "README.md"


def readme_commands() -> set[str]:
    """``maillage X`` and ``maillage X Y`` from the README's command table (``X list`` / ``Y ID``
    cells name the subcommands of group X)."""
    text = README.read_text(encoding="utf-8")
    table = text[text.index("| command | what it does |") :].split("\n\n", 1)[0]
    found: set[str] = set()
    for row in table.splitlines()[2:]:
        cell = row.split("|")[1]
        group = re.match(r"\s*`maillage ([a-z]+)", cell)
        assert group, f"a README command row without `maillage NAME`: {row}"
        parts = [re.match(r"\s*`(?:maillage [a-z]+ )?([a-z]+)", p) for p in cell.split(" / ")]
        subcommands = [m.group(1) for m in parts[1:] if m]
        first = re.match(r"\s*`maillage [a-z]+ ([a-z]+)(?:[` ]|$)", parts[0].string if parts[0] else "")
        if subcommands and first:
            found.update(f"{group.group(1)} {name}" for name in [first.group(1), *subcommands])
        else:
            found.add(group.group(1))
    return found


def app_commands() -> set[str]:
    root = typer.main.get_command(app)  # typer.core.TyperGroup
    found: set[str] = set()
    for name, command in root.commands.items():
        if hasattr(command, "commands"):  # a group: conflicts, matches
            found.update(f"{name} {sub}" for sub in command.commands)
        else:
            found.add(name)
    return found


def test_readme_table_and_help_name_the_same_commands() -> None:
    documented, registered = readme_commands(), app_commands()
    assert documented == registered, (
        f"in the README only: {sorted(documented - registered)}; "
        f"in maillage --help only: {sorted(registered - documented)}"
    )
    shown = CliRunner().invoke(app, ["--help"], terminal_width=200)
    assert shown.exit_code == 0, shown.output
    for name in {c.split()[0] for c in registered}:
        assert re.search(rf"│ {name}\s", shown.output), f"{name} is not in maillage --help"


CONFIG = """
[[sources]]
name = "peer"
kind = "hub"
url = "http://127.0.0.1:9/"
"""


def maillage(hub: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "hub", "--config", str(hub / "maillage.toml"), "--data-dir",
         str(hub / "data"), *args],
        capture_output=True, text=True, timeout=120,
    )


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A configured hub whose store exists (read-only commands do not create one)."""
    path = tmp_path_factory.mktemp("hub")
    (path / "maillage.toml").write_text(CONFIG, encoding="utf-8")
    assert maillage(path, "retry").returncode == 0
    return path


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["import", "{hub}/nope.ttl"], "no such file"),  # NotFound
        (["sync", "nosuch"], "no source named 'nosuch'"),  # ConfigError
        (["discover", "peer"], "discover reads wikis"),  # UsageError
        (["matches", "accept", "0123456789abcdef"], "no match candidate"),  # NotFound
        (["conflicts", "resolve", "0123456789abcdef", "--keep", "hub"], "no conflict"),  # ConflictError
        (["query", "SELEC nothing"], "invalid SPARQL"),  # StoreError
        (["export", "--format", "xml"], "--format must be nquads or trig"),  # UsageError
        (["import", "{hub}/maillage.toml"], "cannot tell the RDF format"),  # RdfInputError
    ],
)
def test_a_hub_error_is_one_line_and_exit_1(hub: Path, args: list[str], message: str) -> None:
    result = maillage(hub, *(a.format(hub=hub) for a in args))
    assert result.returncode == 1, result.stderr + result.stdout
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert message in lines[0]

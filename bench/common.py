"""What every bench script shares, so that their figures are taken and printed the same way.

A bench script is run as ``python bench/<name>.py [--quick]``: Python then puts ``bench/`` on
``sys.path``, not the repository root, so each script first adds the root (two lines, before any
other import) and then imports this module as ``bench.common``. What lives here:

- ``parse`` — the ``--quick`` switch and the choice between a script's FULL and QUICK sizes;
- ``header`` — the run's first lines: date, library versions, machine, load, code revision;
- ``use_tmpfs`` — scratch files (wiki SQLite, data dirs) on tmpfs when there is one;
- ``warm_up`` — the validator's first call (and a parser's first parse) kept out of the timings;
- ``serving`` — ``maillage serve`` as a subprocess, with its Popen for RSS and PID figures;
- ``Row`` / ``print_summary`` — the closing table of ratios, which bench/README.md quotes.
"""

from __future__ import annotations

import argparse
import os
import platform
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TypeVar

import httpx
import pyoxigraph as ox

from hub.pipeline.validate import Validator
from hub.records import Record
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.servers.common import free_port, stop

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "bench-token-not-a-secret"

# The hubs the benchmarks start (serve, import) measure their own synthetic data: they leave the
# territory reference out, whose first load alone takes about a minute (bench/territories.py
# measures that load).
os.environ.setdefault("MAILLAGE_TERRITORIES", "0")

S = TypeVar("S")


def parse(doc: str | None, full: S, quick: S, quick_help: str,
          extra: Callable[[argparse.ArgumentParser], None] | None = None) -> tuple[argparse.Namespace, S]:
    """The script's arguments and the sizes they select: QUICK with ``--quick``, else FULL."""
    parser = argparse.ArgumentParser(description=(doc or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help=quick_help)
    if extra is not None:
        extra(parser)
    args = parser.parse_args()
    return args, quick if args.quick else full


def code_revision() -> str:
    """The commit measured, and which files of hub/ and connectors/ differ from it: a figure
    taken on uncommitted code must say so, or the README log will pin it on the wrong commit."""
    head = subprocess.run(["git", "-C", str(ROOT), "rev-parse", "--short", "HEAD"], capture_output=True,
                          text=True).stdout.strip()
    dirty = subprocess.run(["git", "-C", str(ROOT), "status", "--porcelain", "--untracked-files=no", "hub",
                            "connectors"], capture_output=True, text=True).stdout.splitlines()
    changed = [line[3:] for line in dirty if line.strip()]
    return head + (f" + uncommitted changes to {', '.join(changed)}" if changed else "")


def header(title: str, quick: bool, versions: str = "", quick_line: str = "") -> None:
    """Print the run's first lines. ``versions``: the script's own libraries ("pyshacl 0.26, …")."""
    when = datetime.now(UTC).isoformat(timespec="seconds")
    print(f"maillage {title}, {'QUICK' if quick else 'full'} run, {when}")
    libraries = ", ".join(part for part in (f"pyoxigraph {ox.__version__}", versions) if part)
    print(f"python {platform.python_version()}, {libraries}, {platform.machine()}, {os.cpu_count()} CPUs, "
          f"1-min load average {os.getloadavg()[0]:.2f}; code: {code_revision()}")
    if quick and quick_line:
        print(f"QUICK: {quick_line}")


def use_tmpfs() -> None:
    """Scratch files on tmpfs when there is one: loading a wiki's SQLite is then faster, and the
    reads come from the page cache either way, so the ratios do not depend on the disk."""
    if Path("/dev/shm").is_dir() and os.access("/dev/shm", os.W_OK):
        tempfile.tempdir = "/dev/shm"


def warm_up(validator: Validator | None = None, cls: str = "Place",
            parse_once: Callable[[], object] | None = None) -> None:
    """The validator's first call (imports, shapes compile, pyshacl's first run) and a parser's
    first parse are slower than every later one: run them once before anything is measured."""
    checker = validator or Validator()
    subject = ox.NamedNode(DEFAULT_BASE_IRI + "bench/warm-up")
    triples = (
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + cls)),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal("Échauffement", language="fr")),
    )
    checker.validate([Record(source="bench", source_id="warm-up", triples=triples)])
    if parse_once is not None:
        parse_once()


# --------------------------------------------------------------------------------------------
# A served hub (tests/servers/hub.py starts one too; here we keep the Popen for PID and RSS).


@dataclass
class Server:
    url: str
    proc: subprocess.Popen[bytes]
    log: Path


def wait_answering(proc: subprocess.Popen[bytes], url: str, timeout: float,
                   why_not: Callable[[], str], headers: dict[str, str] | None = None) -> None:
    """Wait until ``url`` answers 200; end the bench with ``why_not()`` if the server process
    exits or ``timeout`` seconds pass first (a bench has no figure without its server)."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            if httpx.get(url, headers=headers, trust_env=False).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        if proc.poll() is not None or time.monotonic() > deadline:
            sys.exit(why_not())
        time.sleep(0.1)


@contextmanager
def serving(data_dir: Path, config_text: str, config_name: str = "bench.toml") -> Iterator[Server]:
    """``maillage serve`` on ``data_dir`` with this configuration, until /health answers."""
    config = data_dir.parent / config_name
    config.write_text(config_text)
    port = free_port()
    log_path = data_dir.parent / "server.log"
    env = {**os.environ, "MAILLAGE_TOKEN": TOKEN}
    command = [sys.executable, "-m", "hub", "--data-dir", str(data_dir), "--config", str(config),
               "serve", "--host", "127.0.0.1", "--port", str(port)]
    with log_path.open("wb") as log:
        # cwd: `-m` puts the working directory first on the server's sys.path.
        proc = subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT)
        url = f"http://127.0.0.1:{port}"
        try:
            wait_answering(proc, f"{url}/health", 60,
                           lambda: f"maillage serve did not start:\n{log_path.read_text()[-3000:]}")
            yield Server(url=url, proc=proc, log=log_path)
        finally:
            stop(proc)


# --------------------------------------------------------------------------------------------
# The summary table


@dataclass(frozen=True)
class Row:
    """One figure of the summary: ``goal`` "-" when the figure has none."""

    name: str
    value: str
    goal: str = "-"
    met: bool | None = None

    @property
    def verdict(self) -> str:
        return "-" if self.met is None else "yes" if self.met else "NO"


def print_summary(rows: Sequence[Row], quick: bool, started: float, value_title: str = "ratio",
            load: bool = True) -> None:
    """The closing table every script prints; its lines are what bench/README.md quotes."""
    label = "QUICK, " if quick else ""
    tail = f"; 1-min load average at the end, this run included: {os.getloadavg()[0]:.2f}" if load else ""
    print(f"\nSummary ({label}ratios from this run; {time.perf_counter() - started:.0f} s in all{tail})")
    width = max([58, *(len(r.name) for r in rows)])
    print(f"{'figure':<{width}} {value_title:>7} {'goal':>8}  met")
    for r in rows:
        print(f"{r.name:<{width}} {r.value:>7} {r.goal:>8}  {r.verdict}")

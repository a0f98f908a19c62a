"""Start a real Virtuoso 7 (Debian ``virtuoso-opensource-7-bin``) on loopback for the tests."""

from __future__ import annotations

import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

from tests.servers.common import free_port, stop, wait_until

VIRTUOSO = "virtuoso-t"
ISQL = "isql-vt"
VAD_DIR = "/usr/share/virtuoso-opensource-7/vad"
VSP_DIR = "/var/lib/virtuoso-opensource-7/vsp"

INI = """[Database]
DatabaseFile = {d}/virtuoso.db
ErrorLogFile = {d}/virtuoso.log
TransactionFile = {d}/virtuoso.trx
xa_persistent_file = {d}/virtuoso.pxa
[TempDatabase]
DatabaseFile = {d}/virtuoso-temp.db
TransactionFile = {d}/virtuoso-temp.trx
[Parameters]
ServerPort = 127.0.0.1:{isql_port}
DirsAllowed = ., {d}, {vad}
NumberOfBuffers = 10000
MaxDirtyBuffers = 6000
[HTTPServer]
ServerPort = 127.0.0.1:{http_port}
ServerRoot = {vsp}
[SPARQL]
ResultSetMaxRows = 1000000
MaxQueryExecutionTime = 60
"""


@dataclass(frozen=True)
class Virtuoso:
    """A running Virtuoso: its SPARQL endpoint and Graph Store URL."""

    sparql_url: str
    gsp_url: str
    workdir: Path | None = None
    """Its directory, where ``bulk_load`` finds the files it loads (the ini's DirsAllowed)."""
    isql_port: int = 0

    def bulk_load(self, path: Path, graph: str = "urn:maillage:default", timeout: float = 1800) -> None:
        """Load an N-Quads (or Turtle) file with Virtuoso's own bulk loader (``ld_dir`` and
        ``rdf_loader_run``), much faster than the Graph Store for a million triples; the file
        is copied into the server's directory first."""
        assert self.workdir is not None
        target = self.workdir / path.name
        if target != path:
            shutil.copyfile(path, target)
        script = (
            f"ld_dir('{self.workdir}', '{path.name}', '{graph}');\n"
            "rdf_loader_run();\ncheckpoint;\n"
        )
        subprocess.run([ISQL, str(self.isql_port), "dba", "dba"], input=script.encode(),
                       check=True, capture_output=True, timeout=timeout)


def available() -> str | None:
    """None when Virtuoso can run here, else why not."""
    if shutil.which(VIRTUOSO) is None or shutil.which(ISQL) is None:
        return "virtuoso-opensource-7-bin is not installed (make test installs it)"
    return None


@contextmanager
def running_virtuoso() -> Iterator[Virtuoso]:
    """A fresh Virtuoso in a temporary directory, stopped and removed afterwards."""
    workdir = Path(tempfile.mkdtemp(prefix="maillage-virtuoso-"))
    isql_port, http_port = free_port(), free_port()
    (workdir / "virtuoso.ini").write_text(
        INI.format(d=workdir, isql_port=isql_port, http_port=http_port, vad=VAD_DIR, vsp=VSP_DIR)
    )
    log = (workdir / "stdout.log").open("wb")
    proc = subprocess.Popen(
        [VIRTUOSO, "-f", "-c", str(workdir / "virtuoso.ini")],
        cwd=workdir,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{http_port}"
    try:
        wait_until(
            lambda: httpx.get(f"{base}/sparql", params={"query": "ASK {}"}).status_code == 200,
            60,
            "Virtuoso",
        )
        subprocess.run(
            [ISQL, str(isql_port), "dba", "dba", 'exec=GRANT SPARQL_UPDATE TO "SPARQL";'],
            check=True,
            capture_output=True,
            timeout=30,
        )
        yield Virtuoso(sparql_url=f"{base}/sparql", gsp_url=f"{base}/sparql-graph-crud",
                       workdir=workdir, isql_port=isql_port)
    finally:
        stop(proc)
        log.close()
        shutil.rmtree(workdir, ignore_errors=True)

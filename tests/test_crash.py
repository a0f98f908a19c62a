"""kill -9 in the middle of a big import, then the same import again: nothing lost or doubled."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from hub.iris import cursor_iri
from hub.meta.changelog import last_sequence, read_changes, read_states
from hub.meta.cursors import read_cursor
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, META_GRAPH, MLG

RECORDS = 10_000
MAILLAGE = [sys.executable, "-m", "hub"]


def write_places(path: Path, count: int) -> None:
    lines = []
    for i in range(count):
        s = f"<https://example.org/place/{i}>"
        lines.append(f"{s} <http://www.w3.org/1999/02/22-rdf-syntax-ns#type> <{MLG}Place> .")
        lines.append(f'{s} <{MLG}name> "Lieu {i}"@fr .')
        lines.append(f'{s} <{MLG}shortDescription> "Un tiers-lieu numéro {i}"@fr .')
        lines.append(f'{s} <{MLG}postalCode> "{10000 + i % 80000:05d}" .')
    path.write_text("\n".join(lines) + "\n")


def committed(data_dir: Path) -> int:
    try:
        store = OxigraphStore(data_dir / "store", read_only=True)
    except Exception:
        return 0
    try:
        return last_sequence(store)
    finally:
        store.close()


def test_sigkill_mid_import_then_resume(tmp_path: Path) -> None:
    source = tmp_path / "places.nt"
    write_places(source, RECORDS)
    data_dir = tmp_path / "data"
    command = [*MAILLAGE, "--data-dir", str(data_dir), "import", str(source)]
    proc = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 240
    while committed(data_dir) < 1_000 and time.monotonic() < deadline and proc.poll() is None:
        time.sleep(0.1)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    before = committed(data_dir)
    assert proc.returncode == -signal.SIGKILL
    assert 0 < before < RECORDS, f"the kill must land mid-import (had {before} changes)"

    rerun = subprocess.run(command, capture_output=True, text=True, timeout=600)
    assert rerun.returncode == 0, rerun.stderr
    assert "resumed after" in rerun.stderr

    store = OxigraphStore(data_dir / "store", read_only=True)
    try:
        changes = read_changes(store, limit=RECORDS * 2)
        assert [c.sequence for c in changes] == list(range(1, RECORDS + 1))
        assert {c.operation for c in changes} == {"create"}
        assert len({c.entity for c in changes}) == RECORDS
        rows = store.select(
            f"SELECT (COUNT(DISTINCT ?s) AS ?n) (COUNT(?g) AS ?graphs) WHERE {{ GRAPH ?g {{ ?s a <{MLG}Place> }} "
            f"FILTER(?g != <{META_GRAPH}>) }}"
        )
        assert int(rows[0]["n"].value) == RECORDS
        assert int(rows[0]["graphs"].value) == RECORDS, "every place in exactly one graph"
        provenance = store.select(
            f"SELECT (COUNT(?g) AS ?n) WHERE {{ GRAPH <{META_GRAPH}> {{ ?g <{MLG}contentHash> ?h }} }}"
        )
        assert int(provenance[0]["n"].value) == RECORDS
        # log = store: each entry's copy of its record is the record graph as stored
        sample = changes[:: RECORDS // 50]
        states = read_states(store, [c.sequence for c in sample])
        for change in sample:
            assert set(states[change.sequence]) == set(store.graph_triples(change.graph)), change
        assert last_sequence(store) == RECORDS
        assert import_cursor_keys(store) != []
    finally:
        store.close()
    # the public replica holds every record graph once (batches of new records are appended
    # to it too, and a kill between the two stores is repaired at the next start)
    replica = OxigraphStore(data_dir / "store-public", read_only=True)
    try:
        rows = replica.select(f"SELECT (COUNT(DISTINCT ?g) AS ?n) WHERE {{ GRAPH ?g {{ ?s a <{MLG}Place> }} }}")
        assert int(rows[0]["n"].value) == RECORDS
    finally:
        replica.close()


def import_cursor_keys(store: OxigraphStore) -> list[str]:
    rows = store.select(f"SELECT DISTINCT ?k WHERE {{ GRAPH <{META_GRAPH}> {{ ?c a <{MLG}Cursor> ; <{MLG}source> ?k }} }}")
    keys = [r["k"].value for r in rows if r["k"].value.startswith("import:")]
    for key in keys:  # the import settled its cursor in place: the whole file, no version left
        assert read_cursor(store, DEFAULT_BASE_IRI, key) == str(RECORDS)
        assert not store.ask(f"ASK {{ GRAPH <{META_GRAPH}> {{ ?v <{MLG}versionOf> <{cursor_iri(DEFAULT_BASE_IRI, key)}> }} }}")
    return keys

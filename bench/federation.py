"""Federation benchmark: propagation of changes from a local hub to an aggregator vs a local import.

    .venv/bin/python bench/federation.py               # full run: 10,000 changes, under a minute
    .venv/bin/python bench/federation.py --quick       # 1,000 changes, about 10 seconds
    .venv/bin/python bench/federation.py --changes N   # another size

A local hub holds N valid places imported with `python -m hub --data-dir D import places.nt` (N
changes in its log); it is served as its own process, with its own `[hub] base_iri`, as in
tests/test_federation.py. An aggregator, served the same way with the local hub as a `kind = "hub"`
source, syncs it once (`POST /sources/a/sync` with the bearer token): that sync reads the N changes,
their provenance and their graphs over HTTP and commits the N records. The baseline is a local bulk
import of the same file into a fresh data dir, in this process, through `hub.cli.data.import_file` (what
`maillage import` runs, without the interpreter start-up); the local hub's own import, timed as a
subprocess, is printed too. The breakdown of the sync is measured inside the served aggregator: the
script starts it with a `sitecustomize` on its PYTHONPATH that wraps the connector's and the ingest
pipeline's functions, and writes what they measured to a file when the sync ends.

Machines are noisy: read the ratios, not the absolute times. Nothing here asserts a figure; the
script stops only when the records do not arrive as valid new records (all created, none
quarantined, the aggregator counts N places), because the figures would then measure something
else. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, tests.servers

import gc
import json
import os
import re
import statistics
import subprocess
import tempfile
import threading
import time
from collections import defaultdict
from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx

import hub.cli.data
import hub.pipeline.ingest
import hub.pipeline.match
import hub.sync.inbound
import hub.sync.scheduler
from bench.common import ROOT, Row, header, parse, print_summary, warm_up
from connectors.peerhub import PAGE, PeerHubConnector
from hub.config import Config
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.pipeline.validate import Validator
from hub.store import open_store
from hub.store.oxigraph import OxigraphStore
from hub.store.transaction import Transaction
from hub.vocab import MLG, RDF_TYPE
from tests.servers.hub import ServedHub, serving

PEER = "a"  # the local hub's source name in the aggregator's config
DATA = "https://example.org/bench/place/"
PLACES = f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s a <{MLG}Place> }}"


@dataclass(frozen=True)
class Sizes:
    changes: int
    pings: int = 50


FULL = Sizes(changes=10_000)
QUICK = Sizes(changes=1_000)


# --------------------------------------------------------------------------------------------
# The data: N-Triples of valid mlg:Place entities (4 triples each).


def write_places(path: Path, count: int) -> int:
    """``count`` places: rdf:type, mlg:name@fr, mlg:shortDescription@fr, mlg:postalCode "35000"."""
    lines = []
    for i in range(count):
        s = f"<{DATA}{i}>"
        lines.append(f"{s} <{RDF_TYPE}> <{MLG}Place> .\n")
        lines.append(f'{s} <{MLG}name> "Lieu fédéré {i}"@fr .\n')
        lines.append(f'{s} <{MLG}shortDescription> "Tiers-lieu de test numéro {i}, à Rennes"@fr .\n')
        lines.append(f'{s} <{MLG}postalCode> "35000" .\n')
    path.write_text("".join(lines), encoding="utf-8")
    return 4 * count


def hub_config(name: str, peers: dict[str, str]) -> str:
    """As tests/test_federation.py writes it: one base IRI per hub, peers as read-only sources."""
    text = f'[hub]\nbase_iri = "https://{name}.example.org/id/"\n'
    for peer, url in peers.items():
        text += f'\n[[sources]]\nname = "{peer}"\nkind = "hub"\nurl = "{url}"\ndirection = "read"\n'
    return text


# --------------------------------------------------------------------------------------------
# Instrumentation: wrap functions in one process (this one for the import, the served aggregator for
# the sync). Wrappers nest: an HTTP request (httpx.Client.send) counts under the stage that made it.


@dataclass
class Probe:
    seconds: dict[str, float] = field(default_factory=lambda: defaultdict(float))
    calls: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    samples: dict[str, list[float]] = field(default_factory=lambda: defaultdict(list))
    local: threading.local = field(default_factory=threading.local)

    def wrap(self, name: str | Callable[..., str], fn: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            stage = name(*args, **kwargs) if callable(name) else name
            stack = self.local.__dict__.setdefault("stack", [])
            stack.append(stage)
            start = time.perf_counter()
            try:
                return fn(*args, **kwargs)
            finally:
                elapsed = time.perf_counter() - start
                stack.pop()
                self.seconds[stage] += elapsed
                self.calls[stage] += 1
                self.samples[stage].append(elapsed)

        return timed

    def http_stage(self, *args: Any, **kwargs: Any) -> str:
        stack = self.local.__dict__.get("stack")
        return f"{stack[-1] if stack else 'other'}.http"

    def dump(self, path: Path) -> None:
        data = {"seconds": self.seconds, "calls": self.calls, "samples": self.samples}
        path.write_text(json.dumps(data))

    @classmethod
    def load(cls, path: Path) -> Probe:
        data = json.loads(path.read_text())
        probe = cls()
        probe.seconds.update(data["seconds"])
        probe.calls.update(data["calls"])
        probe.samples.update(data["samples"])
        return probe


def json_stage(_self: Any, path: str, **_params: Any) -> str:
    return "changes" if path == "/changes" else "health"


def targets(probe: Probe) -> list[tuple[Any, str, str | Callable[..., str]]]:
    return [
        (httpx.Client, "send", probe.http_stage),
        (PeerHubConnector, "_json", json_stage),
        (PeerHubConnector, "_records", "records"),
        (hub.sync.inbound, "reconcile", "reconcile"),
        (hub.pipeline.match, "_known", "known"),
        (hub.pipeline.match, "find_matches", "find_matches"),
        (hub.cli.data, "read_records", "read_records"),
        (Ingestor, "ingest_batch", "ingest_batch"),
        (hub.pipeline.ingest, "stored_records", "stored"),
        (Ingestor, "_neighbour_types", "neighbours"),
        (Validator, "validate", "validate"),
        (Transaction, "render", "render"),
        (OxigraphStore, "update", "update"),
    ]


@contextmanager
def instrumented() -> Iterator[Probe]:
    probe = Probe()
    wrapped = targets(probe)
    saved = [(obj, attr, obj.__dict__[attr]) for obj, attr, _ in wrapped if attr in obj.__dict__]
    try:
        for obj, attr, name in wrapped:
            if attr in obj.__dict__:  # a function the hub no longer has is not measured
                setattr(obj, attr, probe.wrap(name, obj.__dict__[attr]))
        yield probe
    finally:
        for obj, attr, original in saved:
            setattr(obj, attr, original)


SITECUSTOMIZE = """import os
if os.environ.get("{var}"):  # set for the served aggregator only, by bench/federation.py
    import importlib.util
    import sys
    _spec = importlib.util.spec_from_file_location("bench_federation", {path!r})
    _module = importlib.util.module_from_spec(_spec)
    sys.modules["bench_federation"] = _module
    _spec.loader.exec_module(_module)
    _module.probe_this_process(os.environ.pop("{var}"))
"""
PROBE_VAR = "MAILLAGE_BENCH_PROBE"


def probe_this_process(out: str) -> None:
    """In the served aggregator (loaded by the sitecustomize above): wrap the same functions for
    the life of the process, and write what they measured each time a sync of a source ends."""
    probe = Probe()
    for obj, attr, name in targets(probe):
        if attr in obj.__dict__:
            setattr(obj, attr, probe.wrap(name, obj.__dict__[attr]))
    sync = hub.sync.scheduler.__dict__["sync_source"]

    def sync_and_dump(*args: Any, **kwargs: Any) -> Any:
        start = time.perf_counter()
        try:
            return sync(*args, **kwargs)
        finally:
            probe.seconds["sync_source"] += time.perf_counter() - start
            probe.dump(Path(out))

    hub.sync.scheduler.sync_source = sync_and_dump  # type: ignore[attr-defined]


def ms(seconds: float) -> str:
    return f"{1e3 * seconds:,.1f}"


def row(label: str, seconds: float, total: float, per: int, calls: int | None = None) -> str:
    count = f"{calls:>6,} calls" if calls is not None else " " * 12
    return (f"    {label:<60} {seconds:7.2f} s {count} {1e6 * seconds / per:9,.1f} µs/record "
            f"{100 * seconds / total:5.1f} %")


def ingest_rows(probe: Probe, total: float, per: int) -> tuple[list[str], float]:
    """The stages of ``Ingestor.ingest_batch``; returns the lines and the time they account for."""
    s, c = probe.seconds, probe.calls
    batch = s["ingest_batch"]
    parts = [("stored", "stored records lookup (content hashes)"),
             ("neighbours", "neighbour types lookup"),
             ("validate", "validation (Validator.validate)"),
             ("render", "Transaction.render (SPARQL Update text)"),
             ("update", "commit (store.update, one SPARQL Update)")]
    lines = [row("Ingestor.ingest_batch", batch, total, per, c["ingest_batch"])]
    lines += [row(f"  {label}", s[key], total, per, c[key]) for key, label in parts]
    rest = batch - sum(s[key] for key, _ in parts)
    lines.append(row("  planning, provenance, change log (the rest)", max(rest, 0.0), total, per))
    return lines, batch


def spread(samples: list[float]) -> str:
    if not samples:
        return "none"
    ordered = sorted(samples)
    p90 = ordered[min(len(ordered) - 1, int(0.9 * len(ordered)))]
    return (f"median {ms(statistics.median(ordered))} ms, p90 {ms(p90)} ms, max {ms(ordered[-1])} ms")


# --------------------------------------------------------------------------------------------
# The measurements


def timed(fn: Callable[[], Any]) -> tuple[float, Any]:
    gc.collect()
    start = time.perf_counter()
    value = fn()
    return time.perf_counter() - start, value


def check(result: IngestResult, expected: int, what: str) -> None:
    if result.created != expected or result.quarantined or result.updated:
        first = next(iter(result.reports.values()), None)
        sys.exit(f"{what}: expected {expected} valid new records, got created={result.created} "
                 f"updated={result.updated} quarantined={result.quarantined}\n"
                 f"{first.summary() if first is not None else ''}")


def count_places(served: ServedHub) -> int:
    response = httpx.get(f"{served.url}/sparql", params={"query": PLACES}, timeout=120, trust_env=False)
    return int(response.json()["results"]["bindings"][0]["n"]["value"])


def import_subprocess(data_dir: Path, nt: Path) -> float:
    """The local hub's own import: `python -m hub --data-dir D import places.nt`, wall clock."""
    command = [sys.executable, "-m", "hub", "--data-dir", str(data_dir), "import", str(nt)]
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    seconds = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"maillage import failed:\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return seconds


def import_in_process(data_dir: Path, nt: Path, count: int) -> tuple[float, Probe]:
    """``hub.cli.data.import_file`` (what `maillage import` runs) into a fresh data dir."""
    config = Config(data_dir=data_dir)
    store = open_store(config)
    try:
        with instrumented() as probe:
            seconds, result = timed(lambda: hub.cli.data.import_file(config, store, nt, None, "import", None))
    finally:
        store.close()
    check(result, count, "local import")
    return seconds, probe


@contextmanager
def probed_env(work: Path, out: Path) -> Iterator[None]:
    """While the aggregator starts: PYTHONPATH holds a sitecustomize that wraps its functions."""
    site = work / "probe-site"
    site.mkdir()
    script = str(Path(__file__).resolve())
    (site / "sitecustomize.py").write_text(SITECUSTOMIZE.format(var=PROBE_VAR, path=script))
    saved = {k: os.environ.get(k) for k in ("PYTHONPATH", PROBE_VAR)}
    os.environ["PYTHONPATH"] = os.pathsep.join(p for p in (str(site), saved["PYTHONPATH"]) if p)
    os.environ[PROBE_VAR] = str(out)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def sync_served(aggregator: ServedHub, out: Path, count: int) -> tuple[float, str, Probe]:
    """One `POST /sources/a/sync`, timed here; the aggregator's own probe is read back after it."""

    def post() -> httpx.Response:
        return httpx.post(f"{aggregator.url}/sources/{PEER}/sync", headers=aggregator.auth, timeout=1800,
                          trust_env=False)

    seconds, response = timed(post)
    if response.status_code != 200:
        sys.exit(f"POST /sources/{PEER}/sync answered HTTP {response.status_code}: {response.text[:2000]}")
    outcome = dict(response.json())
    summary = str(outcome.get("summary"))
    created = re.search(r"read (\d+) new, (\d+) updated", summary)
    valid = created is not None and created.groups() == (str(count), "0") and "0 quarantined" in summary
    if outcome.get("error") or not valid:
        sys.exit(f"the aggregator's sync did not bring {count} valid new records: {outcome}")
    if (held := count_places(aggregator)) != count:
        sys.exit(f"the aggregator holds {held} places after its sync, expected {count}")
    if not out.exists():
        sys.exit(f"the served aggregator wrote no probe to {out} (its sitecustomize did not run?)")
    return seconds, summary, Probe.load(out)


def empty_round_trip(served: ServedHub, pings: int) -> float:
    """GET /store of a graph the hub does not hold (404), on one keep-alive connection: the route the
    connector calls per graph, with an empty lookup and nothing to serialise or parse behind it.
    (GET /health would not do: it reads MAX over the change log, which grows with the hub.)"""
    params = {"graph": "urn:maillage-bench:no-such-graph"}
    headers = {"Accept": "application/n-triples"}
    with httpx.Client(trust_env=False) as client:
        times = []
        for i in range(pings + 5):
            start = time.perf_counter()
            response = client.get(f"{served.url}/store", params=params, headers=headers)
            if i >= 5:  # the first few warm the connection up
                times.append(time.perf_counter() - start)
            if response.status_code != 404:
                sys.exit(f"GET /store of a missing graph answered HTTP {response.status_code}")
    return statistics.median(times)


# --------------------------------------------------------------------------------------------


def import_breakdown(probe: Probe, total: float, n: int) -> list[str]:
    lines = [row("read_records (parse + group + skolemize)", probe.seconds["read_records"], total, n)]
    ingest, accounted = ingest_rows(probe, total, n)
    lines += ingest
    rest = total - probe.seconds["read_records"] - accounted
    lines.append(row("other (file hash, cursor, Ingestor and Validator set-up)", max(rest, 0.0), total, n))
    return lines


def sync_breakdown(probe: Probe, total: float, n: int) -> list[str]:
    s, c = probe.seconds, probe.calls
    lines = [row("peer GET /health (base IRI check)", s["health"], total, n, c["health"])]
    lines.append(row(f"peer GET /changes, pages of {PAGE}", s["changes"], total, n, c["changes"]))
    lines.append(row("  of which HTTP (request + response body)", s["changes.http"], total, n))
    lines.append(row("  of which JSON decoding", s["changes"] - s["changes.http"], total, n))
    lines.append(row("peer POST /sparql, provenance (one query per page)", s["origins"], total, n,
                     c["origins"]))
    lines.append(row("  of which HTTP (request + response body)", s["origins.http"], total, n))
    lines.append(row("  of which building the query, reading the JSON", s["origins"] - s["origins.http"],
                     total, n))
    lines.append(row("peer POST /sparql, graph contents (100 graphs each)", s["triples"], total, n,
                     c["triples"]))
    lines.append(row("  of which HTTP (request + response body)", s["triples.http"], total, n))
    lines.append(row("  of which reading the JSON into triples", s["triples"] - s["triples.http"], total, n))
    connector_rest = s["records"] - s["origins"] - s["triples"]
    lines.append(row("connector: building the Records (the rest of _records)", max(connector_rest, 0.0),
                     total, n))
    lines.append(row("reconcile (hub.pipeline.match, before each commit)", s["reconcile"], total, n))
    lines.append(row("  of which _known (one SELECT of candidates per page)", s["known"], total, n,
                     c["known"]))
    lines.append(row("  of which find_matches (per new record)", s["find_matches"], total, n,
                     c["find_matches"]))
    lines.append(row("  of which the rest (its stored records lookup)",
                     max(s["reconcile"] - s["known"] - s["find_matches"], 0.0), total, n))
    ingest, accounted = ingest_rows(probe, total, n)
    lines += ingest
    known = s["health"] + s["changes"] + s["records"] + s["reconcile"] + accounted
    lines.append(row("other (cursor, sync status, generator glue)", max(total - known, 0.0), total, n))
    return lines


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK, f"{QUICK.changes:,} changes instead of {FULL.changes:,}",
                        lambda p: p.add_argument("--changes", type=int, metavar="N",
                                                 help="another number of changes"))
    if args.changes:
        sizes = Sizes(changes=args.changes)
    n = sizes.changes
    os.chdir(ROOT)  # `python -m hub` (servers, import) puts the working directory on sys.path
    started = time.perf_counter()
    header("federation bench", args.quick, f"httpx {httpx.__version__}",
           f"{n:,} changes (full run: {FULL.changes:,})")
    if args.changes:
        print(f"--changes: {n:,} changes (full run: {FULL.changes:,}, quick: {QUICK.changes:,})")
    warm_up()

    with tempfile.TemporaryDirectory(prefix="maillage-federation-") as tmp, ExitStack() as stack:
        work = Path(tmp)
        nt = work / "places.nt"
        triples = write_places(nt, n)
        print(f"data: {n:,} mlg:Place entities (rdf:type, mlg:name@fr, mlg:shortDescription@fr, "
              f'mlg:postalCode "35000"), {triples:,} triples, {nt.stat().st_size / 1e6:.1f} MB of N-Triples')

        # The local hub, imported by the CLI as a subprocess (a second baseline: start-up included).
        local_dir = work / "local" / "data"
        local_dir.parent.mkdir()
        subprocess_s = import_subprocess(local_dir, nt)
        # The baseline: the same import, in this process, into a fresh data dir.
        import_s, import_probe = import_in_process(work / "import" / "data", nt, n)

        local = stack.enter_context(serving(local_dir, hub_config(PEER, {}), demo=False))
        if (held := count_places(local)) != n:
            sys.exit(f"the local hub holds {held} places, expected {n}")
        feed = httpx.get(f"{local.url}/changes", params={"since": 0, "limit": 1}, trust_env=False).json()
        empty = empty_round_trip(local, sizes.pings)
        out = work / "aggregator-probe.json"
        with probed_env(work, out):
            aggregator = stack.enter_context(
                serving(work / "region" / "data", hub_config("region", {PEER: local.url}), demo=False))
        served_s, summary, probe = sync_served(aggregator, out, n)

    inside_s = probe.seconds["sync_source"]
    served_rate, import_rate, subprocess_rate = n / served_s, n / import_s, n / subprocess_s
    print(f"local hub: {held:,} places, change log up to {feed.get('last_sequence', '?')}, served as its own "
          f"process with base IRI https://{PEER}.example.org/id/")
    print(f"aggregator: served as its own process, base IRI https://region.example.org/id/, the local hub "
          f'as source "{PEER}" (kind "hub", direction "read"), fresh data dir')
    print(f"GET /store of a missing graph (404) from the local hub, one keep-alive connection: "
          f"{ms(empty)} ms (median of {sizes.pings}): the cost of a request with nothing behind it")

    print(f"\n1. Propagation of {n:,} changes, local hub -> aggregator, vs a local import of the same file")
    print(f"   aggregator sync, POST /sources/{PEER}/sync timed here: {served_s:7.1f} s "
          f"{served_rate:7,.0f} records/s")
    print(f"     ({summary})")
    print(f"   local import, hub.cli.data.import_file in this process:{import_s:7.1f} s "
          f"{import_rate:7,.0f} records/s")
    print(f"   local import, `python -m hub import` as a subprocess: {subprocess_s:7.1f} s "
          f"{subprocess_rate:7,.0f} records/s (interpreter start-up included)")
    print(f"   propagation ratio (sync records/s / import records/s): {served_rate / import_rate:.3f} "
          f"(no goal); against the subprocess import: {served_rate / subprocess_rate:.3f}")

    print("\n2. Where the aggregator's time goes, measured inside the served aggregator (a sitecustomize")
    print("   on its PYTHONPATH wraps the connector's and the pipeline's functions; the sync above)")
    print(f"   sync_source inside the aggregator: {inside_s:.1f} s ({served_s - inside_s:.1f} s more seen by "
          f"the POST: write lock, after-write hook, HTTP)")
    print("\n".join(sync_breakdown(probe, inside_s, n)))
    samples = probe.samples
    pages = samples["changes"]
    print(f"   per call: graph contents {spread(samples['triples'])} (a missing graph, 404: {ms(empty)} ms)")
    print(f"             GET /changes {spread(pages)}; first page {ms(pages[0])} ms, last full page "
          f"{ms(pages[-2] if len(pages) > 1 else pages[-1])} ms")
    print(f"             POST /sparql (provenance) {spread(samples['origins'])}")
    known = samples["known"]
    if known:
        print(f"             _known (candidates of a page) {spread(known)}; first page {ms(known[0])} ms, "
              f"last {ms(known[-1])} ms")
    matches = samples["find_matches"]
    if matches:
        tenth = max(len(matches) // 10, 1)
        first, last = 1e6 * statistics.mean(matches[:tenth]), 1e6 * statistics.mean(matches[-tenth:])
        print(f"             find_matches: {first:,.1f} µs each over the first {tenth:,} records, "
              f"{last:,.1f} µs each over the last {tenth:,}")
    s = probe.seconds
    requests = s["health"] + s["changes"] + s["origins"] + s["triples"]
    rest_s = inside_s - s["reconcile"]
    print(f"   without reconcile the sync would take about {rest_s:.1f} s: {n / rest_s:,.0f} records/s, "
          f"{n / rest_s / import_rate:.2f} of the import rate;\n     reading the graph contents would be "
          f"{100 * s['triples'] / rest_s:.0f} % of it, all requests to the peer "
          f"{100 * requests / rest_s:.0f} %")

    print("\n3. The local import (hub.cli.data.import_file, in this process, fresh data dir), for comparison")
    print("\n".join(import_breakdown(import_probe, import_s, n)))

    print_summary([
        Row(f"1. propagation / local import, records/s ({n:,})", f"{served_rate / import_rate:.3f}"),
        Row("1b. same, against the import as a subprocess", f"{served_rate / subprocess_rate:.3f}"),
        Row("2. share of the sync: requests to the peer", f"{requests / inside_s:.2f}"),
        Row("2a.   of which the graph contents", f"{s['triples'] / inside_s:.2f}"),
        Row("2b. share of the sync: reconcile (matching)", f"{s['reconcile'] / inside_s:.2f}"),
        Row("2c. share of the sync: validation", f"{s['validate'] / inside_s:.2f}"),
        Row("2d. share of the sync: commit (store.update)", f"{s['update'] / inside_s:.2f}"),
        Row("3. sync without reconcile / local import, records/s", f"{n / rest_s / import_rate:.2f}"),
        Row("3a.   share of the graph contents in it", f"{s['triples'] / rest_s:.2f}"),
    ], args.quick, started, value_title="value")
    print("absolute figures (noisy, for orientation only):")
    print(f"  aggregator sync (POST)         {served_s:.1f} s, {served_rate:,.0f} records/s")
    print(f"  local import (in-process)      {import_s:.1f} s, {import_rate:,.0f} records/s")
    print(f"  local import (subprocess)      {subprocess_s:.1f} s, {subprocess_rate:,.0f} records/s")
    if samples["triples"]:
        print(f"  graph contents, median call    {ms(statistics.median(samples['triples']))} ms")
    if known:
        print(f"  _known, first / last page      {ms(known[0])} / {ms(known[-1])} ms")


if __name__ == "__main__":
    main()

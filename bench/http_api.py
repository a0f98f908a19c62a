"""HTTP benchmarks against a real `maillage serve`, printing ratios measured in one run.

    .venv/bin/python bench/http_api.py            # full run: 100k places (1.1M triples), about 75 s
    .venv/bin/python bench/http_api.py --quick    # 10k places, same figures, about 30 s

The server runs as its own process on loopback, over an on-disk store this script fills first.
Machines are noisy: read the ratios, not the absolute times. Nothing here asserts a figure; the
script only stops when the server does not answer with the data it was given, because the
figures would then measure something else. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import io
import os
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass, field
from typing import Any

import httpx
import pyoxigraph as ox

from bench.common import Row, Server, header, parse, print_summary
from bench.common import serving as serve_hub
from hub.iris import graph_iri
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE, XSD

BASE = DEFAULT_BASE_IRI
SOURCE = "bench"
DATA = "https://example.org/bench/"
COMMUNES = 100
TRIPLES_PER_PLACE = 11
JSON = "application/sparql-results+json"
HEADERS = {"content-type": "application/sparql-query", "accept": JSON}
CONFIG = "[api]\nmax_result_bytes = 2000000000\nquery_timeout = 120\n"
QUERY_WORKERS = 2  # the [api] query_workers default; the config above leaves it alone

GOAL_LARGE = 1.3  # HTTP / in-process time for the 100k-row SELECT: at most (the brief)
GOAL_THROUGHPUT = 1.0  # throughput with 32 clients / with 1 client: at least (ours, see README)
GOAL_MEMORY = 2.0  # peak RSS delta, big result / small result (10x the rows): at most (ours)


@dataclass(frozen=True)
class Sizes:
    places: int
    small_reps: int
    large_reps: int
    large_rows: int
    clients: int
    seconds: float
    memory_rows: tuple[int, int]  # (small, big): the big one is 10x the small one
    memory_rounds: int


FULL = Sizes(places=100_000, small_reps=9, large_reps=9, large_rows=100_000, clients=32,
             seconds=10.0, memory_rows=(100_000, 1_000_000), memory_rounds=2)
QUICK = Sizes(places=10_000, small_reps=7, large_reps=5, large_rows=100_000, clients=32,
              seconds=3.0, memory_rows=(10_000, 100_000), memory_rounds=2)


def select_all(rows: int) -> str:
    return f"SELECT ?s ?p ?o WHERE {{ ?s ?p ?o }} LIMIT {rows}"


# --------------------------------------------------------------------------------------------
# The store: N-Quads of synthetic places (11 triples each, one named graph per record, the
# graph IRI the hub gives a record of source "bench"), loaded with bulk_load into D/store.


def place_nquads(i: int) -> str:
    s = f"<{DATA}place/{i}>"
    g = f"<{graph_iri(BASE, SOURCE, f'{DATA}place/{i}')}>"
    return (
        f"{s} <{RDF_TYPE}> <{MLG}Place> {g} .\n"
        f'{s} <{MLG}name> "Lieu {i}"@fr {g} .\n'
        f'{s} <{MLG}shortDescription> "Tiers-lieu de test {i}"@fr {g} .\n'
        f'{s} <{MLG}postalCode> "{(i * 7919) % 100_000:05d}" {g} .\n'
        f'{s} <{MLG}latitude> "{41 + (i % 900) / 100:.2f}"^^<{XSD}decimal> {g} .\n'
        f'{s} <{MLG}longitude> "{-4 + (i % 1200) / 100:.2f}"^^<{XSD}decimal> {g} .\n'
        f'{s} <{MLG}keyword> "atelier {i % 37}" {g} .\n'
        f'{s} <{MLG}keyword> "réemploi {i % 41}" {g} .\n'
        f'{s} <{MLG}keyword> "mobilité {i % 43}" {g} .\n'
        f'{s} <{MLG}dateModified> "2025-06-01"^^<{XSD}date> {g} .\n'
        f"{s} <{MLG}territory> <{DATA}commune/{i % COMMUNES}> {g} .\n"
    )


def commune_nquads(k: int) -> str:
    s = f"<{DATA}commune/{k}>"
    g = f"<{graph_iri(BASE, SOURCE, f'{DATA}commune/{k}')}>"
    return (
        f"{s} <{RDF_TYPE}> <{MLG}Commune> {g} .\n"
        f'{s} <{MLG}name> "Commune {k}"@fr {g} .\n'
        f'{s} <{MLG}inseeCode> "01{k:03d}" {g} .\n'
    )


def fill_store(data_dir: Path, places: int) -> tuple[int, float]:
    """Write the N-Quads, bulk_load and compact them into ``data_dir/store``; (quads, seconds)."""
    start = time.perf_counter()
    nq = data_dir / "prefill.nq"
    with nq.open("w", encoding="utf-8") as out:
        out.write("".join(commune_nquads(k) for k in range(COMMUNES)))
        for first in range(0, places, 5_000):
            out.write("".join(place_nquads(i) for i in range(first, min(first + 5_000, places))))
    store = ox.Store(str(data_dir / "store"))
    store.bulk_load(path=str(nq), format=ox.RdfFormat.N_QUADS)
    quads = len(store)
    # Compact now: otherwise the server's writer compacts the fresh L0 files soon after it opens,
    # and a read-only view opened before that (ours, or a query worker's) loses files under it.
    store.optimize()
    del store
    nq.unlink()
    expected = COMMUNES * 3 + places * TRIPLES_PER_PLACE
    if quads != expected:
        sys.exit(f"bulk_load stored {quads} quads, expected {expected}")
    return quads, time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# The server: `python -m hub --data-dir D --config C serve` on a free loopback port (bench.common).


def serving(data_dir: Path) -> AbstractContextManager[Server]:
    return serve_hub(data_dir, CONFIG, "bench-http.toml")


def client() -> httpx.Client:
    # trust_env=False: no HTTP(S)_PROXY between us and loopback.
    return httpx.Client(timeout=300, trust_env=False)


@dataclass
class Fetched:
    seconds: float
    first_byte: float  # headers received: the server sends them once the worker is done
    size: int


def fetch(http: httpx.Client, url: str, query: str) -> Fetched:
    """POST a query, read the whole body as bytes (not parsed, like the in-process side)."""
    start = time.perf_counter()
    with http.stream("POST", f"{url}/sparql", content=query, headers=HEADERS) as response:
        first_byte = time.perf_counter() - start
        if response.status_code != 200:
            sys.exit(f"/sparql answered {response.status_code}: {response.read()[:500]!r}")
        size = sum(len(chunk) for chunk in response.iter_raw())
    return Fetched(time.perf_counter() - start, first_byte, size)


# --------------------------------------------------------------------------------------------
# Process-tree accounting from /proc: the server and its query workers (spawned children).


def process_tree(root: int) -> list[int]:
    parents: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            stat = Path(f"/proc/{entry}/stat").read_text()
        except OSError:
            continue
        ppid = int(stat.rpartition(")")[2].split()[1])
        parents.setdefault(ppid, []).append(int(entry))
    tree, todo = [], [root]
    while todo:
        pid = todo.pop()
        tree.append(pid)
        todo.extend(parents.get(pid, []))
    return tree


def vm_rss_kb(pid: int) -> int:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def role(pid: int, root: int) -> str:
    if pid == root:
        return "server"
    try:
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return "other"
    if "resource_tracker" in cmdline:
        return "resource tracker"
    return "query worker" if "multiprocessing" in cmdline else "other"


@dataclass
class Sampler:
    """VmRSS of every process in the server's tree, every 10 ms, in a background thread."""

    root: int
    samples: list[int] = field(default_factory=list)  # the sum over the tree
    by_pid: dict[int, list[int]] = field(default_factory=dict)
    _stop: threading.Event = field(default_factory=threading.Event)

    def _run(self) -> None:
        pids = process_tree(self.root)
        count = 0
        while not self._stop.is_set():
            if count % 25 == 0:
                pids = process_tree(self.root)
            count += 1
            total = 0
            for pid in pids:
                kb = vm_rss_kb(pid)
                total += kb
                self.by_pid.setdefault(pid, []).append(kb)
            self.samples.append(total)
            self._stop.wait(0.01)

    @contextmanager
    def running(self) -> Iterator[Sampler]:
        thread = threading.Thread(target=self._run, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self._stop.set()
            thread.join()


# --------------------------------------------------------------------------------------------
# Helpers


def ms(seconds: float) -> str:
    return f"{1e3 * seconds:,.1f} ms"


def mb(kb: float) -> str:
    return f"{kb / 1024:,.1f} MB"


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def median_of(times: list[float]) -> str:
    return f"{ms(statistics.median(times))} (runs: {', '.join(f'{1e3 * t:,.1f}' for t in times)})"


# --------------------------------------------------------------------------------------------
# 1. SPARQL over HTTP vs the same query in-process


def in_process(store: ox.Store, query: str) -> tuple[float, int]:
    """The query and its SPARQL JSON serialisation, as a query worker runs it, into a BytesIO."""
    start = time.perf_counter()
    out = io.BytesIO()
    store.query(query, use_default_graph_as_union=True).serialize(out, ox.QueryResultsFormat.JSON)
    return time.perf_counter() - start, out.getbuffer().nbytes


def worker_like(store_path: str, query: str, spool: Path) -> float:
    """What a query worker does for one job: open a read-only view, serialise into a file."""
    start = time.perf_counter()
    store = ox.Store.read_only(store_path)
    target = spool / "bench-query"
    with target.open("wb") as out:
        store.query(query, use_default_graph_as_union=True).serialize(out, ox.QueryResultsFormat.JSON)
    seconds = time.perf_counter() - start
    del store
    target.unlink()
    return seconds


def bench_sparql(sizes: Sizes, server: Server, store_path: Path, spool: Path) -> dict[str, float]:
    print("\n1. SPARQL over HTTP vs in-process pyoxigraph (Store.read_only opened once, "
          "use_default_graph_as_union=True, SPARQL JSON into a BytesIO)")
    print("   HTTP: POST application/sparql-query, one keep-alive httpx connection, whole body "
          "read as bytes; each run is a pair (HTTP, in-process), the pairs alternate which side "
          "goes first")
    store = ox.Store.read_only(str(store_path))
    results: dict[str, float] = {}
    with client() as http:
        for name, rows, reps in (("small", 10, sizes.small_reps),
                                 ("large", sizes.large_rows, sizes.large_reps)):
            query = select_all(rows)
            # warm-up, not measured: the store's caches, the worker, the connection
            fetch(http, server.url, query)
            in_process(store, query)
            http_runs: list[Fetched] = []
            local_runs: list[float] = []
            worker_runs: list[float] = []
            size = in_process(store, query)[1]
            for rep in range(reps):
                for side in ("http", "local") if rep % 2 == 0 else ("local", "http"):
                    if side == "http":
                        http_runs.append(fetch(http, server.url, query))
                    else:
                        local_runs.append(in_process(store, query)[0])
                worker_runs.append(worker_like(str(store_path), query, spool))
            if any(f.size != size for f in http_runs):
                sys.exit(f"HTTP bodies of {[f.size for f in http_runs]} bytes, in-process {size}")
            http_s = statistics.median(f.seconds for f in http_runs)
            local_s = statistics.median(local_runs)
            worker_s = statistics.median(worker_runs)
            first_s = statistics.median(f.first_byte for f in http_runs)
            # Each HTTP run is paired with the in-process run next to it: a burst of load from
            # other jobs then hits both sides of a pair, and the median of the pair ratios
            # moves less than the ratio of the two medians.
            pairs = [f.seconds / t for f, t in zip(http_runs, local_runs, strict=True)]
            ratio = statistics.median(pairs)
            print(f"   {rows:,}-row SELECT ?s ?p ?o ({size / 1e6:,.2f} MB of JSON), median of {reps}:")
            print(f"     in-process:           {median_of(local_runs)}")
            print(f"     HTTP:                 {median_of([f.seconds for f in http_runs])}")
            print(f"     ratio HTTP / in-process, median of the {reps} pairs: {ratio:.2f}"
                  + (f" (goal <= {GOAL_LARGE})" if name == "large" else " (no goal)")
                  + f"; pairs: {', '.join(f'{r:.2f}' for r in pairs)}; ratio of the medians: "
                  f"{http_s / local_s:.2f}")
            print(f"     where the HTTP time goes: first byte after {ms(first_s)} (the server "
                  f"sends headers once the worker is done), body {ms(http_s - first_s)}")
            print(f"     what a worker does for it here (open read-only + query + JSON into a "
                  f"file): {ms(worker_s)}, i.e. {worker_s / local_s:.2f}x in-process; HTTP "
                  f"beyond that: {ms(http_s - worker_s)}")
            results[f"{name}_ratio"] = ratio
            results[f"{name}_http"] = http_s
            results[f"{name}_local"] = local_s
            results[f"{name}_first"] = first_s
            results[f"{name}_worker"] = worker_s
        health = []
        for _ in range(20):
            start = time.perf_counter()
            http.get(f"{server.url}/health")
            health.append(time.perf_counter() - start)
    results["health"] = statistics.median(health)
    print(f"   GET /health on the same connection (the HTTP stack without a query): "
          f"{ms(results['health'])} (median of 20)")
    opens = []
    for _ in range(10):
        start = time.perf_counter()
        view = ox.Store.read_only(str(store_path))
        opens.append(time.perf_counter() - start)
        del view
    results["open"] = statistics.median(opens)
    print(f"   opening a read-only view of this store (each query worker does it for every "
          f"job): {ms(results['open'])} (median of 10)")
    del store
    return results


# --------------------------------------------------------------------------------------------
# 2. Concurrent clients running a mix of small SELECTs


def small_query(rng: random.Random, places: int) -> str:
    kind = rng.randrange(4)
    i = rng.randrange(places)
    if kind == 0:
        return f"SELECT ?name WHERE {{ <{DATA}place/{i}> <{MLG}name> ?name }}"
    if kind == 1:
        return f"SELECT ?p ?o WHERE {{ <{DATA}place/{i}> ?p ?o }}"
    if kind == 2:
        return (f"SELECT ?s WHERE {{ ?s <{MLG}territory> <{DATA}commune/{i % COMMUNES}> }} "
                "LIMIT 10")
    return (f'SELECT ?s ?name WHERE {{ ?s <{MLG}keyword> "atelier {i % 37}" ; <{MLG}name> ?name }} '
            "LIMIT 10")


@dataclass
class LoadResult:
    clients: int
    seconds: float
    latencies: list[float]
    errors: int
    cpu: dict[str, float]  # role -> CPU seconds per wall second

    @property
    def throughput(self) -> float:
        return len(self.latencies) / self.seconds


def run_clients(server: Server, clients: int, seconds: float, places: int) -> LoadResult:
    barrier = threading.Barrier(clients + 1)
    latencies: list[list[float]] = [[] for _ in range(clients)]
    errors = [0] * clients
    deadline = [0.0]

    def work(n: int) -> None:
        rng = random.Random(n)
        with client() as http:
            for _ in range(2):  # warm-up: the connection, not measured
                http.post(f"{server.url}/sparql", content=small_query(rng, places), headers=HEADERS)
            barrier.wait()
            while time.perf_counter() < deadline[0]:
                query = small_query(rng, places)
                start = time.perf_counter()
                response = http.post(f"{server.url}/sparql", content=query, headers=HEADERS)
                latencies[n].append(time.perf_counter() - start)
                if response.status_code != 200:
                    errors[n] += 1

    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    pids = process_tree(server.proc.pid)
    deadline[0] = time.perf_counter() + 1e9
    barrier.wait()
    start = time.perf_counter()
    deadline[0] = start + seconds
    cpu_before = {pid: cpu_seconds(pid) for pid in pids}
    own_before = sum(os.times()[:2])
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - start
    cpu: dict[str, float] = {"client (this process)": (sum(os.times()[:2]) - own_before) / wall}
    for pid in pids:
        label = role(pid, server.proc.pid)
        cpu[label] = cpu.get(label, 0.0) + (cpu_seconds(pid) - cpu_before[pid]) / wall
    every = [t for per_client in latencies for t in per_client]
    return LoadResult(clients, wall, every, sum(errors), cpu)


def bench_concurrency(sizes: Sizes, server: Server) -> dict[str, float]:
    print(f"\n2. {sizes.clients} concurrent clients vs 1, mix of small SELECTs (1-11 rows: a name "
          f"by IRI, a place's triples, 10 places of a commune, 10 places by keyword)")
    print(f"   threads with one keep-alive httpx.Client each, {sizes.seconds:g} s per run; the "
          f"server has {QUERY_WORKERS} query workers ([api] query_workers default)")
    runs = [run_clients(server, n, sizes.seconds, sizes.places) for n in (1, sizes.clients)]
    for run in runs:
        p50 = percentile(run.latencies, 50)
        p99 = percentile(run.latencies, 99)
        cpu = ", ".join(f"{name} {value:.2f}" for name, value in run.cpu.items() if value >= 0.005)
        print(f"   {run.clients:>2} client{'s' if run.clients > 1 else ' '}: "
              f"{run.throughput:7,.1f} queries/s ({len(run.latencies):,} in {run.seconds:.1f} s, "
              f"{run.errors} errors), p50 {ms(p50)}, p99 {ms(p99)}")
        print(f"      CPU in cores: {cpu}")
    one, many = runs
    throughput_ratio = many.throughput / one.throughput
    p50_ratio = percentile(many.latencies, 50) / percentile(one.latencies, 50)
    print(f"   ratio throughput {sizes.clients} / 1 client: {throughput_ratio:.2f} "
          f"(goal >= {GOAL_THROUGHPUT}); ratio p50 {sizes.clients} / 1 client: {p50_ratio:.2f} "
          f"(no goal; {sizes.clients} / throughput ratio = {sizes.clients / throughput_ratio:.1f} "
          f"is what queueing alone gives)")
    return {"throughput_ratio": throughput_ratio, "p50_ratio": p50_ratio,
            "errors": float(many.errors + one.errors), "one_qps": one.throughput,
            "many_qps": many.throughput, "one_p50": percentile(one.latencies, 50),
            "many_p50": percentile(many.latencies, 50), "many_p99": percentile(many.latencies, 99)}


# --------------------------------------------------------------------------------------------
# 3. Peak memory of the server and its workers while streaming a large result


@dataclass
class MemoryRun:
    rows: int
    idle_kb: float
    peak_kb: int
    after_kb: float  # half a second after the response ended
    seconds: float
    size: int
    delta_by_role: dict[str, float]  # peak minus idle of each process, summed by role

    @property
    def delta_kb(self) -> float:
        return self.peak_kb - self.idle_kb


def idle_rss(root: int) -> Sampler:
    sampler = Sampler(root)
    with sampler.running():
        time.sleep(0.5)
    return sampler


def memory_run(data_dir: Path, rows: int) -> MemoryRun:
    """One large SELECT on a server started for it: the idle state is the same every time."""
    with serving(data_dir) as server, client() as http:
        root = server.proc.pid
        fetch(http, server.url, select_all(10))  # warm-up: the worker opens the store once
        idle = idle_rss(root)
        busy = Sampler(root)
        with busy.running():
            fetched = fetch(http, server.url, select_all(rows))
        after = idle_rss(root)
        roles = {pid: role(pid, root) for pid in busy.by_pid}
    delta_by_role: dict[str, float] = {}
    for pid, values in busy.by_pid.items():
        label = roles[pid]
        before = statistics.median(idle.by_pid.get(pid) or values[:1])
        delta_by_role[label] = delta_by_role.get(label, 0.0) + max(values) - before
    return MemoryRun(rows, statistics.median(idle.samples), max(busy.samples),
                     statistics.median(after.samples), fetched.seconds, fetched.size, delta_by_role)


def bench_memory(sizes: Sizes, data_dir: Path) -> dict[str, float]:
    small_rows, big_rows = sizes.memory_rows
    print(f"\n3. Peak RSS of the server process tree (server + query workers + resource tracker, "
          f"VmRSS summed, sampled every 10 ms) while streaming SELECT ?s ?p ?o LIMIT {big_rows:,} "
          f"vs {small_rows:,}")
    print(f"   each measurement on a server started for it; idle = after one 10-row query; "
          f"{sizes.memory_rounds} rounds, the largest delta of each size counts")
    runs: dict[int, list[MemoryRun]] = {small_rows: [], big_rows: []}
    for _ in range(sizes.memory_rounds):
        for rows in (small_rows, big_rows):
            runs[rows].append(memory_run(data_dir, rows))
    worst: dict[int, MemoryRun] = {}
    for rows, measured in runs.items():
        worst[rows] = max(measured, key=lambda run: run.delta_kb)
        for run in measured:
            roles = ", ".join(f"{name} {mb(kb)}" for name, kb in sorted(run.delta_by_role.items()))
            print(f"   {rows:>9,} rows ({run.size / 1e6:,.0f} MB of JSON in {run.seconds:.1f} s): "
                  f"idle {mb(run.idle_kb)}, peak {mb(run.peak_kb)}, delta {mb(run.delta_kb)}, "
                  f"{mb(run.after_kb - run.idle_kb)} still held after")
            print(f"{'':14}peak - idle by role: {roles}")
    small, big = worst[small_rows], worst[big_rows]
    ratio = big.delta_kb / max(small.delta_kb, 1.0)
    per_100k = big.delta_kb / (big_rows / 100_000)
    print(f"   delta: {mb(big.delta_kb)} at {big_rows:,} rows ({mb(per_100k)} per 100k rows), "
          f"{mb(small.delta_kb)} at {small_rows:,} rows ({mb(small.delta_kb / (small_rows / 100_000))} "
          f"per 100k rows)")
    print(f"   ratio of deltas {big_rows:,} / {small_rows:,} rows: {ratio:.2f} (goal <= {GOAL_MEMORY}; "
          f"memory that grew with the result would give about {big_rows / small_rows:.0f})")
    return {"memory_ratio": ratio, "per_100k_mb": per_100k / 1024, "big_delta_mb": big.delta_kb / 1024,
            "small_delta_mb": small.delta_kb / 1024, "idle_mb": big.idle_kb / 1024}


# --------------------------------------------------------------------------------------------


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK, f"{QUICK.places:,} places instead of {FULL.places:,}, "
                        f"{QUICK.seconds:g} s load runs instead of {FULL.seconds:g} s")
    started = time.perf_counter()
    header("HTTP bench", args.quick, f"httpx {httpx.__version__}",
           f"{sizes.places:,} places (full run: {FULL.places:,}), {sizes.seconds:g} s per load run (full "
           f"run: {FULL.seconds:g} s), memory at {sizes.memory_rows[1]:,} rows (full run: "
           f"{FULL.memory_rows[1]:,})")

    with tempfile.TemporaryDirectory(prefix="maillage-bench-http-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        quads, fill_seconds = fill_store(data_dir, sizes.places)
        print(f"store: {sizes.places:,} places + {COMMUNES} communes, one named graph each, "
              f"{quads:,} quads, bulk_load into {data_dir.name}/store in {fill_seconds:.1f} s")
        spool = Path(tmp) / "spool"
        spool.mkdir()
        with serving(data_dir) as server:
            with client() as http:
                start = time.perf_counter()
                answer = http.post(f"{server.url}/sparql", headers=HEADERS,
                                   content="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").json()
                count_seconds = time.perf_counter() - start
            served = int(answer["results"]["bindings"][0]["n"]["value"])
            if served != quads:
                sys.exit(f"the server counts {served} triples in the union graph, expected {quads}")
            print(f"server: pid {server.proc.pid}, {server.url}, {served:,} triples in the union "
                  f"default graph (COUNT over HTTP in {count_seconds:.1f} s)")
            sparql = bench_sparql(sizes, server, data_dir / "store", spool)
            concurrency = bench_concurrency(sizes, server)
        memory = bench_memory(sizes, data_dir)

    small_rows, big_rows = sizes.memory_rows
    print_summary([
        Row(f"1. SPARQL {sizes.large_rows // 1000}k rows, HTTP / in-process", f"{sparql['large_ratio']:.2f}",
            f"<= {GOAL_LARGE}", sparql["large_ratio"] <= GOAL_LARGE),
        Row("1b. SPARQL 10 rows, HTTP / in-process", f"{sparql['small_ratio']:.0f}"),
        Row(f"2. throughput, {sizes.clients} clients / 1 client", f"{concurrency['throughput_ratio']:.2f}",
            f">= {GOAL_THROUGHPUT}", concurrency["throughput_ratio"] >= GOAL_THROUGHPUT),
        Row(f"2b. p50 latency, {sizes.clients} clients / 1 client", f"{concurrency['p50_ratio']:.1f}"),
        Row(f"2c. failed requests ({sizes.clients} clients and 1)", f"{concurrency['errors']:.0f}", "0",
            concurrency["errors"] == 0),
        Row(f"3. peak RSS delta, {big_rows // 1000}k / {small_rows // 1000}k rows",
            f"{memory['memory_ratio']:.2f}", f"<= {GOAL_MEMORY}", memory["memory_ratio"] <= GOAL_MEMORY),
        Row(f"3b. MB per 100k rows at {big_rows // 1000}k rows", f"{memory['per_100k_mb']:.1f}"),
    ], args.quick, started, value_title="value")
    figures: dict[str, Any] = {
        "10-row HTTP": ms(sparql["small_http"]), "10-row in-process": ms(sparql["small_local"]),
        f"{sizes.large_rows // 1000}k-row HTTP": ms(sparql["large_http"]),
        f"{sizes.large_rows // 1000}k-row in-process": ms(sparql["large_local"]),
        "1 client": f"{concurrency['one_qps']:,.0f} q/s, p50 {ms(concurrency['one_p50'])}",
        f"{sizes.clients} clients": f"{concurrency['many_qps']:,.0f} q/s, p50 "
                                    f"{ms(concurrency['many_p50'])}, p99 {ms(concurrency['many_p99'])}",
        "idle RSS (server + workers)": f"{memory['idle_mb']:,.0f} MB",
        f"peak delta at {big_rows // 1000}k / {small_rows // 1000}k rows":
            f"{memory['big_delta_mb']:,.1f} / {memory['small_delta_mb']:,.1f} MB",
    }
    print("absolute figures (noisy, for orientation only):")
    for name, value in figures.items():
        print(f"  {name:<30} {value}")


if __name__ == "__main__":
    main()

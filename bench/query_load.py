"""Query admission under load: /health and small queries while slow queries flood `maillage serve`.

    .venv/bin/python bench/query_load.py            # full run: 10k places, 12 s per load level
    .venv/bin/python bench/query_load.py --quick    # 2k places, 6 s per load level

A real server (2 query workers, query_timeout 3 s, the default queue of 32) answers probes —
`GET /health` and small SELECTs, one at a time — while 0, 10, 60 and 200 clients keep sending a
query that always runs past the timeout. It prints p50/p99 of each probe at each load level and
their ratio to the idle level, the answers the slow clients got (200, 503 at the deadline, 503
busy), and the throughput of small queries, 1 client vs 32, through the admission queue. Nothing
is asserted; the script stops only if the server does not serve the data it was given. See
bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import os
import random
import tempfile
import threading
import time
from collections import Counter
from dataclasses import dataclass, field

import bench.http_api as base
from bench.common import header, parse, serving

TIMEOUT = 3.0
CONFIG = f"[api]\nquery_timeout = {TIMEOUT:g}\nquery_workers = 2\n"  # query_queue: default (32)
SLOW = "SELECT (COUNT(*) AS ?n) WHERE { ?a ?b ?c . ?d ?e ?f . ?g ?h ?i }"  # never ends in 3 s
LEVELS = (0, 10, 60, 200)
PAUSE_AFTER_REFUSAL = 0.25  # after "queue full", a slow client tries again this soon (not Retry-After)


@dataclass(frozen=True)
class Sizes:
    places: int
    seconds: float  # probing time per load level
    throughput_seconds: float


FULL = Sizes(places=10_000, seconds=12.0, throughput_seconds=8.0)
QUICK = Sizes(places=2_000, seconds=6.0, throughput_seconds=3.0)


@dataclass
class Probe:
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[int] = field(default_factory=Counter)

    def line(self) -> str:
        if not self.latencies:
            return "no answer"
        ok = self.statuses[200] / sum(self.statuses.values())
        return (f"p50 {base.ms(base.percentile(self.latencies, 50)):>10}, p99 "
                f"{base.ms(base.percentile(self.latencies, 99)):>10}, {len(self.latencies):>4} probes, "
                f"{100 * ok:5.1f} % answered 200 ({dict(sorted(self.statuses.items()))})")


def probe(url: str, stop: threading.Event, probes: Probe, send: str, places: int) -> None:
    """One request at a time, 20 ms apart: what a monitor or a visitor sees."""
    rng = random.Random(7)
    with base.client() as http:
        while not stop.is_set():
            start = time.perf_counter()
            if send == "health":
                status = http.get(f"{url}/health").status_code
            else:
                status = http.post(f"{url}/sparql", content=base.small_query(rng, places),
                                   headers=base.HEADERS).status_code
            probes.latencies.append(time.perf_counter() - start)
            probes.statuses[status] += 1
            stop.wait(0.02)


def flood(url: str, stop: threading.Event, answers: Counter[str], lock: threading.Lock) -> None:
    """A client sending the slow query again as soon as it has an answer."""
    with base.client() as http:
        while not stop.is_set():
            response = http.post(f"{url}/sparql", content=SLOW, headers=base.HEADERS)
            error = response.json().get("error", "") if response.status_code != 200 else ""
            why = ("queue full" if "are waiting" in error else "waited past the timeout"
                   if "waited" in error else "ran past the timeout" if "ran for" in error else "")
            with lock:
                answers[f"{response.status_code} {why}".strip()] += 1
            if why == "queue full":
                stop.wait(PAUSE_AFTER_REFUSAL)


@dataclass
class Level:
    slow_clients: int
    health: Probe
    small: Probe
    answers: Counter[str]


def run_level(url: str, slow_clients: int, sizes: Sizes) -> Level:
    stop_flood, stop_probe = threading.Event(), threading.Event()
    answers: Counter[str] = Counter()
    lock = threading.Lock()
    flooders = [threading.Thread(target=flood, args=(url, stop_flood, answers, lock))
                for _ in range(slow_clients)]
    for thread in flooders:
        thread.start()
    time.sleep(1.0 if slow_clients else 0)  # the flood fills the workers and the queue first
    health, small = Probe(), Probe()
    probers = [threading.Thread(target=probe, args=(url, stop_probe, health, "health", sizes.places)),
               threading.Thread(target=probe, args=(url, stop_probe, small, "small", sizes.places))]
    for thread in probers:
        thread.start()
    time.sleep(sizes.seconds)
    stop_probe.set()
    for thread in probers:
        thread.join()
    stop_flood.set()
    for thread in flooders:
        thread.join()
    return Level(slow_clients, health, small, answers)


def throughput(url: str, clients: int, seconds: float, places: int) -> tuple[float, Counter[int]]:
    statuses: Counter[int] = Counter()
    lock = threading.Lock()
    deadline = time.perf_counter() + seconds

    def work(n: int) -> None:
        rng = random.Random(n)
        with base.client() as http:
            while time.perf_counter() < deadline:
                status = http.post(f"{url}/sparql", content=base.small_query(rng, places),
                                   headers=base.HEADERS).status_code
                with lock:
                    statuses[status] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=work, args=(n,)) for n in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return statuses[200] / (time.perf_counter() - start), statuses


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK,
                        f"{QUICK.places:,} places and {QUICK.seconds:g} s per load level")
    started = time.perf_counter()
    header("query-load bench", args.quick)
    with tempfile.TemporaryDirectory(prefix="maillage-bench-load-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        quads, _ = base.fill_store(data_dir, sizes.places)
        print(f"store: {sizes.places:,} places, {quads:,} quads; server: 2 query workers, "
              f"query_timeout {TIMEOUT:g} s, query_queue 32 (default)")
        with serving(data_dir, CONFIG, "query-load.toml") as server:
            url = server.url
            with base.client() as http:
                count = http.post(f"{url}/sparql", headers=base.HEADERS,
                                  content="SELECT (COUNT(*) AS ?n) WHERE { ?s ?p ?o }").json()
            if int(count["results"]["bindings"][0]["n"]["value"]) != quads:
                sys.exit(f"the server does not count {quads} triples: {count}")
            print(f"\n1. Probes (one request at a time, 20 ms apart, {sizes.seconds:g} s) while N "
                  f"clients keep sending a query that runs past the timeout ({SLOW})")
            print(f"   a slow client sends again at once after an answer, {PAUSE_AFTER_REFUSAL:g} s "
                  "after a 503 queue full")
            levels = [run_level(url, n, sizes) for n in LEVELS]
            for level in levels:
                print(f"   {level.slow_clients:>3} slow clients:")
                print(f"      GET /health    {level.health.line()}")
                print(f"      small SELECT   {level.small.line()}")
                if level.answers:
                    print(f"      slow queries answered: {dict(sorted(level.answers.items()))}")
            print("\n2. Small SELECTs, 1 client vs 32 (no slow query), through the admission queue")
            one, one_statuses = throughput(url, 1, sizes.throughput_seconds, sizes.places)
            many, many_statuses = throughput(url, 32, sizes.throughput_seconds, sizes.places)
            print(f"    1 client : {one:6.1f} answered queries/s {dict(one_statuses)}")
            print(f"   32 clients: {many:6.1f} answered queries/s {dict(many_statuses)}")
    idle = levels[0]
    print(f"\nSummary ({'QUICK, ' if args.quick else ''}from this run; "
          f"{time.perf_counter() - started:.0f} s in all; 1-min load average at the end: "
          f"{os.getloadavg()[0]:.2f})")
    print(f"{'figure':<52} {'value':>9}")
    for level in levels[1:]:
        n = level.slow_clients
        for name, probes, still in (("/health", level.health, idle.health),
                                    ("small SELECT", level.small, idle.small)):
            if probes.latencies and still.latencies:
                ratio = base.percentile(probes.latencies, 99) / base.percentile(still.latencies, 99)
                print(f"{f'p99 {name}, {n} slow clients / idle':<52} {ratio:>9.1f}")
        print(f"{f'/health p99 with {n} slow clients':<52} "
              f"{base.ms(base.percentile(level.health.latencies, 99)):>9}")
        worst = max(level.small.latencies, default=0.0)
        print(f"{f'slowest small SELECT with {n} slow clients':<52} {base.ms(worst):>9}")
    print(f"{'throughput, 32 clients / 1 client':<52} {many / one:>9.2f}")


if __name__ == "__main__":
    main()

"""JSON API harvest benchmark: a data·inclusion dump read through the hub vs read raw, in one run.

    .venv/bin/python bench/jsonapi.py            # 5,000 structures + 5,000 services
    .venv/bin/python bench/jsonapi.py --quick    # 500 + 500

The API is the data·inclusion emulator (tests/servers/data_inclusion.py) serving the dump from
its own process, so its work does not share this process's interpreter with the hub's. The
"raw read" asks the same pages (1,000 records each, as the shipped mapping does) with httpx and
decodes the JSON, nothing more. The hub reads them as ``maillage sync`` does (in this process,
an in-memory store, the shipped mapping: records, SHACL, identity, placing, provenance, one
commit per 200 records). A second figure is the daily case: the same dump read again, unchanged
(every record compared by content hash, nothing rewritten). The CPU time of this process is
printed too: on a shared machine it moves far less than the clock. Read the ratios, not the times; the
script stops only when the dump does not go through as valid records, since the figures would
then measure the quarantine. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, tests.servers

import gc
import os
import statistics
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from types import SimpleNamespace

import httpx

from bench.common import ROOT, Row, header, parse, print_summary, wait_answering, warm_up
from hub.sync.engine import sync_source
from hub.territories.index import TerritoryIndex
from tests.harness import HubUnderTest, jsonapi_source
from tests.servers.common import free_port, stop
from tests.servers.data_inclusion import DataInclusion

GOAL = 1.5  # hub time / raw read time for the same pages: at most (the brief)
PAGE = 1_000
ENDPOINTS = ("/api/v1/structures", "/api/v1/services")


@dataclass(frozen=True)
class Sizes:
    structures: int
    services: int
    raw_rounds: int = 3
    hub_rounds: int = 2


FULL = Sizes(5_000, 5_000)
QUICK = Sizes(500, 500)


@contextmanager
def serving(sizes: Sizes) -> Iterator[SimpleNamespace]:
    port = free_port()
    command = [sys.executable, "-m", "tests.servers.data_inclusion", "--port", str(port),
               "--structures", str(sizes.structures), "--services", str(sizes.services)]
    proc = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    api = SimpleNamespace(url=f"http://127.0.0.1:{port}", token=DataInclusion(url="").token)
    try:
        def why_not() -> str:
            return f"the emulator did not start: {proc.stderr.read().decode() if proc.stderr else ''}"

        wait_answering(proc, f"{api.url}/api/v1/sources", 120, why_not, headers=auth(api))
        yield api
    finally:
        stop(proc)


def auth(api: SimpleNamespace) -> dict[str, str]:
    return {"Authorization": f"Bearer {api.token}"}


def raw_read(api: SimpleNamespace) -> int:
    """Every page of both endpoints, decoded: what any client must do to have the records."""
    count = 0
    with httpx.Client(base_url=api.url, headers=auth(api), timeout=120, trust_env=False) as client:
        for path in ENDPOINTS:
            page = 1
            while True:
                body = client.get(path, params={"page": page, "size": PAGE}).json()
                count += len(body["items"])
                if page >= body["pages"] or not body["items"]:
                    break
                page += 1
    return count


def hub_read(api: SimpleNamespace, hub: HubUnderTest | None = None) -> tuple[float, float, HubUnderTest, str]:
    """(wall seconds, this process's CPU seconds, the hub, the sync's summary)."""
    hub = hub or HubUnderTest(jsonapi_source(api, page_size=PAGE), batch_size=200)
    gc.collect()
    start, cpu = time.perf_counter(), time.process_time()
    report = sync_source(hub.config, hub.ingestor, "di")
    seconds, cpu = time.perf_counter() - start, time.process_time() - cpu
    if report.error is not None:
        sys.exit(f"the sync failed: {report.error}")
    return seconds, cpu, hub, report.summary()


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK, "500 structures + 500 services")
    total = sizes.structures + sizes.services
    header("jsonapi harvest benchmark", args.quick, f"httpx {httpx.__version__}",
           "a tenth of the dump; the ratio moves with size less than the times do")
    os.environ.setdefault("MAILLAGE_TERRITORIES", "0")
    warm_up(cls="Organization")
    # placing's territory reference is read once per process (about a second): a served hub has
    # it already; left in, it would weigh on the first round only
    TerritoryIndex.load()
    started = time.perf_counter()
    with serving(sizes) as api:
        raw_read(api)  # the emulator's first answers (imports, caches) stay out of the timings
        raw_times, raw_cpu = [], []
        for _ in range(sizes.raw_rounds):
            start, cpu = time.perf_counter(), time.process_time()
            read = raw_read(api)
            raw_times.append(time.perf_counter() - start)
            raw_cpu.append(time.process_time() - cpu)
            if read != total:
                sys.exit(f"the raw read found {read} records, not {total}")
        raw = statistics.median(raw_times)
        hub_times, again_times, hub_cpu, again_cpu = [], [], [], []
        for _ in range(sizes.hub_rounds):
            seconds, cpu, hub, summary = hub_read(api)
            if f"read {total} new" not in summary or " 0 quarantined" not in summary:
                sys.exit(f"the dump did not go through as valid records: {summary}")
            hub_times.append(seconds)
            hub_cpu.append(cpu)
            seconds, cpu, hub, summary = hub_read(api, hub)
            if f"{total} unchanged" not in summary:
                sys.exit(f"reading the dump again changed something: {summary}")
            again_times.append(seconds)
            again_cpu.append(cpu)
            hub.close()
        full, again = statistics.median(hub_times), statistics.median(again_times)
    print(f"\nraw read: {total} records in {raw:.2f} s ({total / raw:,.0f} records/s), "
          f"rounds {', '.join(f'{t:.2f}' for t in raw_times)}")
    print(f"hub, first harvest: {total / full:,.0f} records/s ({full:.2f} s), "
          f"rounds {', '.join(f'{t:.2f}' for t in hub_times)}")
    print(f"hub, unchanged dump read again: {total / again:,.0f} records/s ({again:.2f} s), "
          f"rounds {', '.join(f'{t:.2f}' for t in again_times)}")
    cpu = [statistics.median(c) for c in (raw_cpu, hub_cpu, again_cpu)]
    print(f"CPU time of this process (the emulator's left out; steadier than the clock on a shared "
          f"machine): raw read {cpu[0]:.2f} s, first harvest {cpu[1]:.2f} s "
          f"({cpu[1] / total * 1e6:,.0f} µs a record), re-read {cpu[2]:.2f} s "
          f"({cpu[2] / total * 1e6:,.0f} µs)")
    print_summary([
        Row(f"first harvest / raw read ({total:,} records)", f"{full / raw:.2f}", f"≤ {GOAL}",
            full / raw <= GOAL),
        Row(f"unchanged re-read / raw read ({total:,} records)", f"{again / raw:.2f}", f"≤ {GOAL}",
            again / raw <= GOAL),
        Row("first harvest / raw read, CPU time of this process", f"{cpu[1] / cpu[0]:.1f}"),
        Row("unchanged re-read / raw read, CPU time of this process", f"{cpu[2] / cpu[0]:.1f}"),
    ], args.quick, started)


if __name__ == "__main__":
    main()

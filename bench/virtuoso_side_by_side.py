"""The hub's SPARQL and bounding-box answers side by side with Virtuoso 7, on the same data.

    .venv/bin/python bench/virtuoso_side_by_side.py            # 100k entities, 3 rounds
    .venv/bin/python bench/virtuoso_side_by_side.py --quick    # 10k entities, 3 rounds

Virtuoso is started as the tests start it (tests/servers/virtuoso.py, Debian's
virtuoso-opensource-7) and loads the generated N-Quads with its own bulk loader; the hub's store
gets the same file with ``bulk_load`` and is served by ``maillage serve`` (2 general query
workers, 1 fast-lane worker, the result cache on: the defaults). The data: 1,113 territories
(13 regions, 100 departments, 1,000 communes, linked by ``mlg:partOfTerritory``), entities of
six classes with names, themes, coordinates (places and organisations), a commune or a concerned
territory, projects carried by organisations, commons used by organisations, and the bookkeeping
graph a hub keeps (a record entry and a change-log entry per entity).

Each round first writes one small graph to both servers (so the hub's result cache is emptied
and its workers reopen their views: the "first run after a change"), then sends every query of
the issue to both, alternating which goes first: a *cold* run, then the same text again (*warm*:
the hub answers it from its cache). It prints medians and the ratios hub / Virtuoso, then 8
concurrent clients on each server (p50 ratio), with repeated texts (dashboards: the cache
serves) and with a unique comment per request (no cache), and the latency of a small CONSTRUCT
sent while the 8 clients run slow queries. Nothing is asserted. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import math
import random
import statistics
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import httpx
import pyoxigraph as ox

from bench.common import TOKEN, Row, header, parse, print_summary, serving, use_tmpfs
from hub.config import EU_THEMES
from hub.iris import graph_iri
from hub.pipeline.grid import bbox_cells_values, grid_triples
from hub.pipeline.place import placing_graph
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, MLG, PROV, RDF_TYPE, XSD
from tests.servers.virtuoso import available, running_virtuoso

DATA = "https://example.org/bench/"
META = "urn:maillage:meta"
JSON = "application/sparql-results+json"
TURTLE = "text/turtle"
CONFIG = "[api]\nmax_result_bytes = 2000000000\nquery_timeout = 120\n"
KINDS = ("Place",) * 10 + ("Organization",) * 4 + ("Project",) * 3 + ("Commons", "Resource", "Event")
SOURCES = ("movilab", "communecter", "fabmob")
THEMES = sorted(EU_THEMES)
BBOX = (4.0, 45.0, 5.5, 46.0)  # minLon, minLat, maxLon, maxLat: around Lyon
CLIENTS = 8
GOAL_WARM = 1.0  # geometric mean, warm, hub / Virtuoso: at most (issue 19)
GOAL_OBSERVATORY = 2.0  # each observatory query, cold: at most
GOAL_BBOX = 3.0
GOAL_P50 = 1.2


@dataclass(frozen=True)
class Sizes:
    entities: int
    rounds: int
    seconds: float  # per concurrent run and server


FULL = Sizes(entities=100_000, rounds=3, seconds=20.0)
QUICK = Sizes(entities=10_000, rounds=3, seconds=6.0)
REGIONS, DEPARTMENTS, COMMUNES = 13, 100, 1_000


# --------------------------------------------------------------------------------------------
# The data, as N-Quads (one named graph per record, as the hub stores them)


def _graph(iri: str, source: str) -> str:
    return f"<{graph_iri(DEFAULT_BASE_IRI, source, iri)}>"


def territory_quads() -> Iterator[str]:
    levels = (("region", "Region", REGIONS, None), ("departement", "Department", DEPARTMENTS,
              ("region", REGIONS)), ("commune", "Commune", COMMUNES, ("departement", DEPARTMENTS)))
    for key, cls, count, parent in levels:
        for k in range(count):
            s = f"{DATA}{key}/{k}"
            g = _graph(s, "territoires")
            yield (f"<{s}> <{RDF_TYPE}> <{MLG}{cls}> {g} .\n"
                   f'<{s}> <{MLG}name> "{cls} {k}"@fr {g} .\n'
                   f'<{s}> <{MLG}inseeCode> "{key[:1]}{k:05d}" {g} .\n'
                   f'<{s}> <{MLG}population> "{1000 + k * 37}"^^<{XSD}integer> {g} .\n')
            if parent is not None:
                yield f"<{s}> <{MLG}partOfTerritory> <{DATA}{parent[0]}/{k % parent[1]}> {g} .\n"


def coordinates(i: int) -> tuple[float, float]:
    """(latitude, longitude) spread over mainland France, deterministic."""
    return 42.0 + (i * 7919 % 9000) / 1000, -4.5 + (i * 104729 % 12500) / 1000


def entity_quads(i: int) -> str:
    kind = KINDS[i % len(KINDS)]
    s = f"{DATA}{kind.lower()}/{i}"
    source = SOURCES[i % len(SOURCES)]
    g = _graph(s, source)
    theme = THEMES[i % len(THEMES)]
    lines = [f"<{s}> <{RDF_TYPE}> <{MLG}{kind}> {g} .",
             f'<{s}> <{MLG}name> "Nom {i}"@fr {g} .',
             f'<{s}> <{MLG}theme> "{theme}" {g} .']
    commune = f"<{DATA}commune/{i * 31 % COMMUNES}>"
    if kind == "Project":
        lines.append(f"<{s}> <{MLG}concernsTerritory> {commune} {g} .")
        carrier = i - i % len(KINDS) + 10  # an organisation of the same block of 20
        lines.append(f"<{s}> <{MLG}carriedBy> <{DATA}organization/{carrier}> {g} .")
    else:
        lines.append(f"<{s}> <{MLG}territory> {commune} {g} .")
    if kind == "Organization":
        lines.append(f"<{s}> <{MLG}usesCommons> <{DATA}commons/{i - i % len(KINDS) + 17}> {g} .")
    if kind in ("Place", "Organization"):
        lat, lon = coordinates(i)
        lines.append(f'<{s}> <{MLG}latitude> "{lat:.4f}"^^<{XSD}decimal> {g} .')
        lines.append(f'<{s}> <{MLG}longitude> "{lon:.4f}"^^<{XSD}decimal> {g} .')
        # what the hub derives at commit (hub.pipeline.grid), in the record's derived graph
        derived = f"<{placing_graph(DEFAULT_BASE_IRI, graph_iri(DEFAULT_BASE_IRI, source, s))}>"
        lines += [f"{t.subject} {t.predicate} {t.object} {derived} ." for t in
                  grid_triples(ox.NamedNode(s), lat, lon)]
    month = 1 + i % 24
    when = f"{2024 + (month - 1) // 12}-{(month - 1) % 12 + 1:02d}-{1 + i % 28:02d}T10:00:00+00:00"
    change, meta = f"<urn:maillage:change:{i}>", f"<{META}>"
    lines += [f"{g} <{RDF_TYPE}> <{MLG}Record> {meta} .",
              f'{g} <{MLG}source> "{source}" {meta} .',
              f"{g} <{MLG}entity> <{s}> {meta} .",
              f"{change} <{RDF_TYPE}> <{MLG}Change> {meta} .",
              f'{change} <{MLG}sequence> "{i + 1}"^^<{XSD}integer> {meta} .',
              f'{change} <{PROV}atTime> "{when}"^^<{XSD}dateTime> {meta} .',
              f'{change} <{MLG}source> "{source}" {meta} .',
              f'{change} <{MLG}operation> "create" {meta} .']
    return "\n".join(lines) + "\n"


def write_data(path: Path, entities: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.writelines(territory_quads())
        for first in range(0, entities, 5_000):
            out.write("".join(entity_quads(i) for i in range(first, min(first + 5_000, entities))))


# --------------------------------------------------------------------------------------------
# The queries of issue 19


def sparql_file(name: str) -> str:
    return (Path(__file__).resolve().parents[1] / "sparql" / name).read_text(encoding="utf-8")


PREFIX = f"PREFIX mlg: <{MLG}>\n"
MIN_LON, MIN_LAT, MAX_LON, MAX_LAT = BBOX
BBOX_FILTER = (f"FILTER(?lat >= {MIN_LAT} && ?lat <= {MAX_LAT} && ?lon >= {MIN_LON} && "
               f"?lon <= {MAX_LON})")
BBOX_PLAIN = (PREFIX + "SELECT ?s ?name ?lat ?lon WHERE { ?s mlg:latitude ?lat ; mlg:longitude ?lon "
              f"; mlg:name ?name {BBOX_FILTER} }}")
BBOX_GRID = (PREFIX + f"SELECT ?s ?name ?lat ?lon WHERE {{ {bbox_cells_values(BBOX)} ?s mlg:gridCell ?cell ; "
             f"mlg:latitude ?lat ; mlg:longitude ?lon ; mlg:name ?name {BBOX_FILTER} }}")


@dataclass(frozen=True)
class Query:
    name: str
    hub_text: str
    virtuoso_text: str
    operator: bool = False  # reads the bookkeeping graph: the hub needs the token
    observatory: bool = False
    graph: bool = False  # CONSTRUCT


def queries() -> list[Query]:
    entity = f"{DATA}place/120"
    construct = f"CONSTRUCT {{ <{entity}> ?p ?o }} WHERE {{ <{entity}> ?p ?o }}"
    regex = (PREFIX + 'SELECT ?s ?name WHERE { ?s mlg:name ?name '
             'FILTER(REGEX(STR(?name), "^Nom 12[0-9]*5$")) }')
    count = "SELECT ?c (COUNT(?s) AS ?n) WHERE { ?s a ?c } GROUP BY ?c"
    rows = "SELECT ?s ?p ?o WHERE { ?s ?p ?o } LIMIT 100000"
    observatory = [("observatory by month", "observatory-by-month.rq", True),
                   ("observatory by theme", "observatory-by-theme.rq", False),
                   ("observatory by type", "observatory-by-type.rq", True),
                   ("observatory by region", "observatory-by-region.rq", False)]
    found = [Query("bounding box (SPARQL, grid cells on the hub)", BBOX_GRID, BBOX_PLAIN)]
    found += [Query(name, sparql_file(f), sparql_file(f), operator, True)
              for name, f, operator in observatory]
    found += [Query("name regex", regex, regex),
              Query("projects per region", sparql_file("projects-per-region.rq"),
                    sparql_file("projects-per-region.rq")),
              Query("one entity as CONSTRUCT", construct, construct, graph=True),
              Query("count per class", count, count),
              Query("100,000 rows as JSON", rows, rows)]
    return found


# --------------------------------------------------------------------------------------------
# Clients


class Side:
    """One server: how to send a query to it and how to change its data."""

    def __init__(self, name: str, url: str, touch: Callable[[httpx.Client, int], None],
                 auth: dict[str, str] | None = None) -> None:
        self.name, self.url, self.touch, self.auth = name, url, touch, auth or {}

    def send(self, client: httpx.Client, query: Query, suffix: str = "") -> tuple[float, int]:
        text = (query.hub_text if self.name == "hub" else query.virtuoso_text) + suffix
        headers = {"Accept": TURTLE if query.graph else JSON}
        if query.operator:
            headers.update(self.auth)
        start = time.perf_counter()
        response = client.post(self.url, data={"query": text}, headers=headers)
        elapsed = time.perf_counter() - start
        if response.status_code != 200:
            raise RuntimeError(f"{self.name}: {query.name}: {response.status_code} {response.text[:300]}")
        if query.graph:
            return elapsed, response.text.count(" .\n")
        return elapsed, len(response.json()["results"]["bindings"])


def hub_touch(url: str) -> Callable[[httpx.Client, int], None]:
    def touch(client: httpx.Client, n: int) -> None:
        turtle = f'<{DATA}touch> a <{MLG}Place> ; <{MLG}name> "Touche {n}"@fr .'
        response = client.put(f"{url}/store", params={"graph": f"{DATA}graph/touch"},
                              content=turtle.encode(), headers={"Content-Type": TURTLE,
                                                                "Authorization": f"Bearer {TOKEN}"})
        response.raise_for_status()
    return touch


def virtuoso_touch(gsp_url: str) -> Callable[[httpx.Client, int], None]:
    def touch(client: httpx.Client, n: int) -> None:
        turtle = f'<{DATA}touch> a <{MLG}Place> ; <{MLG}name> "Touche {n}"@fr .'
        response = client.put(gsp_url, params={"graph": f"{DATA}graph/touch"},
                              content=turtle.encode(), headers={"Content-Type": TURTLE})
        response.raise_for_status()
    return touch


def median(values: list[float]) -> float:
    return statistics.median(values) if values else math.nan


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.1f} ms"


def side_by_side(hub: Side, virtuoso: Side, rounds: int) -> dict[str, dict[str, list[float]]]:
    """{query: {"hub cold", "hub warm", "virtuoso cold", "virtuoso warm": [seconds]}}."""
    times: dict[str, dict[str, list[float]]] = {}
    counts: dict[str, dict[str, int]] = {}
    with httpx.Client(timeout=300, trust_env=False) as client:
        for r in range(rounds):
            for side in (hub, virtuoso):
                side.touch(client, r)
            order = (hub, virtuoso) if r % 2 == 0 else (virtuoso, hub)
            for query in queries():
                for side in order:
                    for phase in ("cold", "warm"):
                        seconds, rows = side.send(client, query)
                        by_phase = times.setdefault(query.name, {})
                        by_phase.setdefault(f"{side.name} {phase}", []).append(seconds)
                        counts.setdefault(query.name, {})[side.name] = rows
    for name, by_side in counts.items():
        print(f"  rows: {name}: hub {by_side['hub']:,}, virtuoso {by_side['virtuoso']:,}")
    return times


def rest_bbox(hub_url: str, rounds: int) -> tuple[list[float], list[float], int]:
    """(cold, warm) seconds of /api/places?bbox= (all pages of 500), and the places found."""
    cold: list[float] = []
    warm: list[float] = []
    found = 0
    bbox = ",".join(str(v) for v in BBOX)
    touch = hub_touch(hub_url)
    with httpx.Client(timeout=300, trust_env=False) as client:
        for r in range(rounds):
            touch(client, 1000 + r)
            for phase in (cold, warm):
                start = time.perf_counter()
                url: str | None = f"{hub_url}/api/places?bbox={bbox}&limit=500"
                found = 0
                while url:
                    page = client.get(url, headers={"Accept": "application/ld+json"})
                    page.raise_for_status()
                    body = page.json()
                    found += len(body.get("items", []))
                    view = body.get("view") or {}
                    url = view.get("next") if isinstance(view, dict) else None
                phase.append(time.perf_counter() - start)
    return cold, warm, found


# --------------------------------------------------------------------------------------------
# Concurrency


def concurrent(side: Side, mix: list[Query], seconds: float, unique: bool,
               probe: Query | None = None) -> tuple[list[float], list[float]]:
    """(latencies of the clients' queries, latencies of the probe) over ``seconds``."""
    latencies: list[float] = []
    probes: list[float] = []
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds

    def client_loop(c: int) -> None:
        rng = random.Random(c)
        n = 0
        with httpx.Client(timeout=300, trust_env=False) as client:
            while time.monotonic() < stop_at:
                query = rng.choice(mix)
                n += 1
                elapsed, _ = side.send(client, query, f"\n# client {c} request {n}" if unique else "")
                with lock:
                    latencies.append(elapsed)

    def probe_loop() -> None:
        assert probe is not None
        rng = random.Random(99)
        with httpx.Client(timeout=300, trust_env=False) as client:
            while time.monotonic() < stop_at:
                entity = f"{DATA}place/{rng.randrange(0, 10_000, 20)}"
                query = Query("probe", probe.hub_text.replace("ENTITY", entity),
                              probe.virtuoso_text.replace("ENTITY", entity), graph=True)
                elapsed, _ = side.send(client, query, f"\n# probe {time.monotonic()}")
                probes.append(elapsed)
                time.sleep(0.2)

    threads = [threading.Thread(target=client_loop, args=(c,)) for c in range(CLIENTS)]
    if probe is not None:
        threads.append(threading.Thread(target=probe_loop))
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return latencies, probes


def percentile(values: list[float], q: float) -> float:
    if not values:
        return math.nan
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(len(ordered) * q / 100))]


# --------------------------------------------------------------------------------------------


def ratio(a: float, b: float) -> str:
    return f"{a / b:.2f}" if b > 0 else "n/a"


def main() -> None:
    sys.stdout.reconfigure(line_buffering=True)  # type: ignore[union-attr]  # progress, in a log too
    args, sizes = parse(__doc__, FULL, QUICK, "10k entities, 3 rounds, 6 s per concurrent run")
    started = time.perf_counter()
    header("Virtuoso side by side", args.quick, quick_line=f"{sizes.entities:,} entities")
    why = available()
    if why is not None:
        sys.exit(f"Virtuoso is not available: {why}")
    use_tmpfs()
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="maillage-vs-") as tmp:
        work = Path(tmp)
        data = work / "data.nq"
        t0 = time.perf_counter()
        write_data(data, sizes.entities)
        (work / "hub").mkdir()
        store = ox.Store(str(work / "hub" / "store"))
        store.bulk_load(path=str(data), format=ox.RdfFormat.N_QUADS)
        quads = len(store)
        store.optimize()
        del store
        OxigraphStore(work / "hub" / "store").close()  # builds the public replica before serve
        print(f"data: {quads:,} quads, {sizes.entities:,} entities and 1,113 territories, "
              f"written and loaded into the hub's store in {time.perf_counter() - t0:.0f} s")
        with running_virtuoso() as virtuoso:
            t0 = time.perf_counter()
            virtuoso.bulk_load(data)
            print(f"Virtuoso bulk load: {time.perf_counter() - t0:.0f} s")
            with serving(work / "hub", CONFIG) as server:
                hub = Side("hub", f"{server.url}/sparql", hub_touch(server.url),
                           {"Authorization": f"Bearer {TOKEN}"})
                other = Side("virtuoso", virtuoso.sparql_url, virtuoso_touch(virtuoso.gsp_url))
                rows.append(build_observatory(server.log))
                rows += report_queries(side_by_side(hub, other, sizes.rounds), other, sizes.rounds,
                                       server.url)
                rows += report_concurrency(hub, other, sizes.seconds)
    print_summary(rows, args.quick, started)


def build_observatory(server_log: Path) -> Row:
    """The hub keeps the observatory's figures from the change log (hub/views/observatory_counts.py),
    built in the background from its start (until then the queries run as before): wait for both
    builds (their log lines), so the "cold" runs below are what a dashboard sees after a write."""
    t0 = time.perf_counter()
    while True:
        text = server_log.read_text(encoding="utf-8", errors="replace")
        lines = [line.strip() for line in text.splitlines() if "observatory figures" in line]
        if len([line for line in lines if " built in " in line]) >= 2 or time.perf_counter() - t0 > 1800:
            break
        time.sleep(0.5)
    for line in lines:
        print(f"hub log: {line}")
    seconds = time.perf_counter() - t0
    return Row("observatory figures built after a start (both visibilities, waited)", f"{seconds:.0f} s")


def report_queries(times: dict[str, dict[str, list[float]]], virtuoso: Side, rounds: int,
                   hub_url: str) -> list[Row]:
    print(f"\n{'query':<48} {'hub cold':>10} {'hub warm':>10} {'Virtuoso':>10} {'cold':>6} {'warm':>6}")
    warm_ratios: list[float] = []
    rows: list[Row] = []
    observatory = {q.name for q in queries() if q.observatory}
    for name, by in times.items():
        v = median(by["virtuoso cold"] + by["virtuoso warm"])
        cold, warm = median(by["hub cold"]), median(by["hub warm"])
        warm_ratios.append(warm / v)
        print(f"{name:<48} {ms(cold):>10} {ms(warm):>10} {ms(v):>10} {ratio(cold, v):>6} {ratio(warm, v):>6}")
        if name in observatory:
            rows.append(Row(f"{name}, cold (first run after a write), hub / Virtuoso",
                            ratio(cold, v), f"<= {GOAL_OBSERVATORY:g}", cold / v <= GOAL_OBSERVATORY))
        if name.startswith("bounding box"):
            rows.append(Row("bounding box, SPARQL, cold, hub / Virtuoso", ratio(cold, v),
                            f"<= {GOAL_BBOX:g}", cold / v <= GOAL_BBOX))
    cold_ratios = [median(by["hub cold"]) / median(by["virtuoso cold"] + by["virtuoso warm"])
                   for by in times.values()]
    geo_cold = math.exp(statistics.mean(math.log(r) for r in cold_ratios))
    geo_warm = math.exp(statistics.mean(math.log(r) for r in warm_ratios))
    print(f"geometric mean hub / Virtuoso: cold {geo_cold:.2f}, warm (repeated) {geo_warm:.2f}")
    rows.append(Row("geometric mean, repeated queries (warm), hub / Virtuoso", f"{geo_warm:.2f}",
                    f"<= {GOAL_WARM:g}", geo_warm <= GOAL_WARM))
    rows.append(Row("geometric mean, first run after a write (cold), hub / Virtuoso", f"{geo_cold:.2f}"))
    rest_cold, rest_warm, found = rest_bbox(hub_url, rounds)
    v = median(times[next(n for n in times if n.startswith("bounding box"))]["virtuoso cold"])
    print(f"/api/places?bbox= ({found} places, pages of 500): cold {ms(median(rest_cold))}, warm "
          f"{ms(median(rest_warm))}; Virtuoso's SPARQL bounding box {ms(v)}")
    rows.append(Row("bounding box, /api/places?bbox=, cold, hub / Virtuoso SPARQL",
                    ratio(median(rest_cold), v), f"<= {GOAL_BBOX:g}", median(rest_cold) / v <= GOAL_BBOX))
    return rows


def report_concurrency(hub: Side, virtuoso: Side, seconds: float) -> list[Row]:
    mix = [q for q in queries() if not q.name.startswith("100,000")]
    slow = [q for q in mix if q.observatory or q.name in ("name regex", "projects per region")]
    probe = Query("probe", "CONSTRUCT { <ENTITY> ?p ?o } WHERE { <ENTITY> ?p ?o }",
                  "CONSTRUCT { <ENTITY> ?p ?o } WHERE { <ENTITY> ?p ?o }", graph=True)
    rows: list[Row] = []
    print(f"\n{CLIENTS} concurrent clients, {seconds:g} s per server and run")
    for label, queries_, unique in (("repeated texts (cache serves)", mix, False),
                                    ("a unique text per request (no cache)", mix, True)):
        results = {}
        for side in (hub, virtuoso):
            latencies, _ = concurrent(side, queries_, seconds, unique)
            results[side.name] = latencies
            print(f"  {label}, {side.name}: {len(latencies)} answers, p50 {ms(percentile(latencies, 50))}, "
                  f"p90 {ms(percentile(latencies, 90))}")
        p50 = percentile(results["hub"], 50) / percentile(results["virtuoso"], 50)
        rows.append(Row(f"{CLIENTS} clients, {label}, p50 hub / Virtuoso", f"{p50:.2f}",
                        f"<= {GOAL_P50:g}", p50 <= GOAL_P50))
    probes = {}
    for side in (hub, virtuoso):
        _, found = concurrent(side, slow, seconds, True, probe)
        probes[side.name] = found
        print(f"  small CONSTRUCT behind {CLIENTS} clients of slow queries (no cache), {side.name}: "
              f"p50 {ms(percentile(found, 50))}, p90 {ms(percentile(found, 90))} ({len(found)} probes)")
    rows.append(Row("small query behind slow ones, p50 hub / Virtuoso",
                    ratio(percentile(probes["hub"], 50), percentile(probes["virtuoso"], 50))))
    return rows


if __name__ == "__main__":
    main()

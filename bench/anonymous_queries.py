"""Anonymous SPARQL: the public replica's union default graph vs the explicit list of public graphs.

    .venv/bin/python bench/anonymous_queries.py            # 200 and 2,000 record graphs
    .venv/bin/python bench/anonymous_queries.py --quick    # 200 and 1,000

An on-disk store (with its public replica, hub/store/replica.py) receives N places, one record
graph each, every place linked to one of 50 communes, plus a person with an e-mail (a private
contact graph) and the bookkeeping the ingest writes. A join query and a selective query then run
the two ways an anonymous query can run, with the arguments the query workers build
(hub.api.query.dataset.public_options), on read-only views as the workers open them:

- replica: the replica store, union default graph;
- list: the main store, the public graphs listed as default graph and named graphs (what every
  anonymous query did before the replica, and what a store without one still does).

Each line prints the median of a few runs and the ratio list / replica measured in this run; both
answers must be equal (the script stops otherwise). Also printed: the cost the replica adds to
the writer, a rebuild of the replica from the main store. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import shutil
import statistics
import tempfile
import time
from dataclasses import dataclass

import pyoxigraph as ox

from bench.common import Row, header, parse, print_summary, use_tmpfs
from hub.api.query.dataset import public_options
from hub.meta.public import is_public_graph
from hub.pipeline.ingest import Ingestor
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.store.replica import replica_path
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE

JOIN = f"SELECT (COUNT(*) AS ?c) WHERE {{ ?s <{MLG}territory> ?o . ?o <{MLG}name> ?n }}"
SELECTIVE = f'SELECT ?s WHERE {{ ?s <{MLG}name> "Lieu 7"@fr }}'
RUNS = 5


@dataclass(frozen=True)
class Sizes:
    graphs: tuple[int, ...]


FULL = Sizes(graphs=(200, 2_000))
QUICK = Sizes(graphs=(200, 1_000))


def records(places: int) -> list[Record]:
    def node(key: str) -> ox.NamedNode:
        return ox.NamedNode(f"https://example.org/bench/{key}")

    def name(value: str) -> ox.Literal:
        return ox.Literal(value, language="fr")

    out = [
        Record("bench", f"commune/{i}", (
            ox.Triple(node(f"commune/{i}"), ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Commune")),
            ox.Triple(node(f"commune/{i}"), ox.NamedNode(MLG + "name"), name(f"Commune {i}")),
        ))
        for i in range(50)
    ]
    out += [
        Record("bench", f"place/{i}", (
            ox.Triple(node(f"place/{i}"), ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
            ox.Triple(node(f"place/{i}"), ox.NamedNode(MLG + "name"), name(f"Lieu {i}")),
            ox.Triple(node(f"place/{i}"), ox.NamedNode(MLG + "territory"), node(f"commune/{i % 50}")),
        ))
        for i in range(places - 50)
    ]
    person = node("person/0")
    out.append(Record("bench", "person/0", (
        ox.Triple(person, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Person")),
        ox.Triple(person, ox.NamedNode(MLG + "name"), name("Personne")),
        ox.Triple(person, ox.NamedNode(MLG + "email"), ox.Literal("personne@example.org")),
    )))
    return out


def timed(store: ox.Store, query: str, options: dict[str, object]) -> tuple[float, str]:
    times, answer = [], ""
    for _ in range(RUNS):
        start = time.perf_counter()
        result = store.query(query, **options)  # type: ignore[arg-type]
        answer = " ".join(sorted(str(s) for s in result))  # type: ignore[union-attr]
        times.append(time.perf_counter() - start)
    return statistics.median(times), answer


def quad_by_quad_copy(main: ox.Store, path: Path) -> float:
    """Seconds of the rebuild as it was before 2026-12-05: every quad of the main store through
    Python, its graph name tested, the public ones bulk-extended into a fresh store."""
    start = time.perf_counter()
    copy = ox.Store(str(path))
    copy.bulk_extend(
        q for q in main.quads_for_pattern(None, None, None, None)
        if isinstance(q.graph_name, ox.NamedNode) and is_public_graph(q.graph_name.value)
    )
    copy.flush()
    seconds = time.perf_counter() - start
    del copy
    return seconds


def measure(places: int, workdir: Path) -> list[Row]:
    directory = Path(tempfile.mkdtemp(dir=workdir, prefix=f"anon-{places}-"))
    start = time.perf_counter()
    with OxigraphStore(directory / "store") as store:
        Ingestor(store, DEFAULT_BASE_IRI, batch_size=500).ingest(records(places))
        ingest = time.perf_counter() - start
        start = time.perf_counter()
        store.rebuild_replica()
        rebuild = time.perf_counter() - start
    main = ox.Store.read_only(str(directory / "store"))
    former = quad_by_quad_copy(main, directory / "former-copy")
    replica = ox.Store.read_only(str(replica_path(directory / "store")))
    graphs = [g.value for g in main.named_graphs() if isinstance(g, ox.NamedNode)]
    public = len(list(replica.named_graphs()))
    print(f"\n{places:,} places: {len(graphs):,} graphs in the main store, {public:,} public in the "
          f"replica; ingest {ingest:.1f} s (replica included), replica rebuild {rebuild:.2f} s "
          f"(the former quad-by-quad copy: {former:.2f} s, {former / rebuild:.1f} x)")
    rows = [Row(f"replica rebuild, {public:,} public graphs: former quad-by-quad copy / native",
                f"{former / rebuild:.1f}")]
    for label, query in (("join", JOIN), ("selective", SELECTIVE)):
        fast, fast_answer = timed(replica, query, public_options(query, (), (), None))
        slow, slow_answer = timed(main, query, public_options(query, (), (), graphs))
        if fast_answer != slow_answer:
            raise SystemExit(f"{label}: the replica answers {fast_answer[:200]!r}, the list "
                             f"{slow_answer[:200]!r}")
        print(f"   {label:<9} replica {fast * 1000:9.2f} ms   list {slow * 1000:9.2f} ms   "
              f"list / replica {slow / fast:8.1f}")
        rows.append(Row(f"anonymous {label}, {public:,} public graphs: list / replica",
                        f"{slow / fast:.1f}"))
    del main, replica
    shutil.rmtree(directory, ignore_errors=True)
    return rows


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK, "200 and 1,000 record graphs")
    started = time.perf_counter()
    header("anonymous queries: public replica vs explicit graph list", args.quick)
    print(f"median of {RUNS} runs per query; join: {JOIN}")
    use_tmpfs()
    workdir = Path(tempfile.mkdtemp(prefix="maillage-bench-anon-"))
    try:
        rows = [row for places in sizes.graphs for row in measure(places, workdir)]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    print_summary(rows, args.quick, started)


if __name__ == "__main__":
    main()

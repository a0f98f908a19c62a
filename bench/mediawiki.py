"""MediaWiki harvest benchmarks against a real local wiki, printing ratios measured in one run.

    .venv/bin/python bench/mediawiki.py            # full run: 2,000 resource pages, under 2 minutes
    .venv/bin/python bench/mediawiki.py --quick    # 300 resource pages, under a minute

The wiki is the test MediaWiki 1.39 (SQLite behind `php -S`, tests/servers/mediawiki.py), loaded
by this script. The hub runs in this process, as `maillage sync` runs it. Machines are noisy: read
the ratios, not the absolute times. Nothing here asserts a figure; the script only stops when the
pages do not go through the hub as valid records, because the figures would then measure the
quarantine instead of the harvest. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, tests.servers

import gc
import json
import statistics
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import mwclient
import mwparserfromhell
import pyshacl
import rdflib

import connectors.mediawiki.pagemap
import connectors.mediawiki.reader
import hub.pipeline.ingest
import hub.pipeline.validate
import hub.sync.engine
import hub.sync.inbound
from bench.common import ROOT, Row, header, parse, print_summary, use_tmpfs, warm_up
from bench.probe import Probe, Target, patched
from connectors.base.prefetch import Prefetched
from connectors.mediawiki.client import WikiClient
from connectors.mediawiki.pagemap import PageMapper
from connectors.mediawiki.reader import WikiReader
from hub.pipeline.ingest import Ingestor
from hub.pipeline.validate import Validator, load_shapes
from hub.store.oxigraph import OxigraphStore
from hub.store.transaction import Transaction
from hub.sync.engine import SyncReport, sync_source
from hub.sync.view import StoreView
from hub.vocab import MLG, RDF_TYPE
from tests.harness import HubUnderTest, mediawiki_source
from tests.servers import mediawiki as mw

SOURCE = "fabmob"
MAPPING = ROOT / "mappings" / "fabmob.toml"
ACTORS = 20  # {{Acteur}} pages; every LINK_EVERY-th resource links to two of them
LINK_EVERY = 10
LOAD_CHUNK = 250  # pages per run of the PHP loader (its subprocess has a 120 s timeout)
SMALL_EDITS, LARGE_EDITS = 10, 50

GOAL_HARVEST = 1.5  # full harvest time / raw API read time: at most (the brief)
GOAL_INCREMENTAL_SHARE = 0.1  # incremental sync of 10 edits / full harvest: at most (ours, see README)
GOAL_PER_EDIT = 1.5  # incremental time / (10 x per-page harvest time): at most (ours, see README)
GOAL_SCALING = (5 / 1.5, 5 * 1.5)  # sync of 50 edits / sync of 10 edits: within 1.5x of 5 (ours)


@dataclass(frozen=True)
class Sizes:
    pages: int
    hub_rounds: int = 2
    raw_rounds: int = 3
    incremental_rounds: int = 3


FULL = Sizes(pages=2_000)
QUICK = Sizes(pages=300)


# --------------------------------------------------------------------------------------------
# The wiki's pages: {{Ressource}} pages built like the Fabrique des Mobilités' commons (Title,
# Main_Picture, shortDescription, a description of about 400 characters, Tags, Theme; every
# tenth one lists two {{Acteur}} pages in Acteurs), and the {{Acteur}} pages they link to.

THEMES = ("Vélo", "Covoiturage", "Données ouvertes", "Transport public", "Marche", "Logistique urbaine",
          "Autopartage", "Mobilité rurale")
TAGS = ("vélo", "atelier", "API", "open data", "covoiturage", "réparation", "cartographie", "formation",
        "logiciel libre", "territoire", "GTFS", "capteurs", "comptage", "stationnement")
SENTENCES = (
    "Ce commun rassemble les outils et les retours d'expérience de plusieurs collectivités.",
    "La documentation est rédigée par la communauté et relue à chaque nouvelle version.",
    "Les données sont publiées sous licence ouverte et mises à jour chaque semaine.",
    "Un atelier mensuel permet aux nouveaux contributeurs de prendre le projet en main.",
    "Le code source est disponible sur une forge publique, avec un guide d'installation.",
    "Plusieurs territoires ruraux l'utilisent déjà pour organiser des trajets partagés.",
    "Les retours des usagers ont conduit à simplifier le parcours d'inscription.",
    "Une API permet de récupérer les informations depuis d'autres services.",
    "Le projet cherche des partenaires pour financer la prochaine étape de développement.",
    "Les indicateurs de suivi sont calculés à partir de comptages anonymisés.",
    "Une carte interactive présente les lieux où le dispositif est proposé.",
    "Des fiches pratiques expliquent comment reproduire la démarche ailleurs.",
)


def resource_title(i: int) -> str:
    return f"Commun de test {i:04d}"


def actor_title(k: int) -> str:
    return f"Acteur de test {k:02d}"


def description(i: int) -> str:
    text = ""
    k = i
    while len(text) < 400:
        text += SENTENCES[k % len(SENTENCES)] + " "
        k += 5
    return text.strip()


def resource_text(i: int, edit: int = 0) -> str:
    """The wikitext of resource ``i``; ``edit`` > 0 changes its short description and Tags."""
    short = f"Un commun des mobilités, fiche numéro {i}."
    tags = [TAGS[i % len(TAGS)], TAGS[(i * 3 + 1) % len(TAGS)], TAGS[(i * 7 + 2) % len(TAGS)]]
    if edit:
        short += f" Mise à jour {edit}."
        tags.append(f"révision {edit}")
    lines = [
        "{{Ressource",
        f"|Title={resource_title(i)}",
        f"|Main_Picture=Illustration commun {i % 50}.png",
        f"|shortDescription={short}",
        f"|description={description(i)}",
        f"|Tags={', '.join(dict.fromkeys(tags))}",
        f"|Theme={THEMES[i % len(THEMES)]}, {THEMES[(i + 3) % len(THEMES)]}",
    ]
    if i % LINK_EVERY == 0:
        lines.append(f"|Acteurs=[[{actor_title(i % ACTORS)}]], [[{actor_title((i * 7 + 3) % ACTORS)}]]")
    lines.append("}}")
    return "\n".join(lines) + "\n"


def actor_text(k: int) -> str:
    return (
        "{{Acteur\n"
        f"|name={actor_title(k)}\n"
        f"|shortDescription=Association de test numéro {k} qui anime des communs.\n"
        f"|villes d'implantation={('Paris', 'Lyon', 'Nantes', 'Lille')[k % 4]}, Grenoble\n"
        f"|site=https://example.org/acteurs/{k:02d}\n"
        "}}\n"
    )


def load_wiki(wiki: mw.Wiki, pages: int) -> float:
    """Templates, actors and resources through the PHP loader of tests/servers/mediawiki.py, in
    two processes at once; then the job queue. Returns the seconds it took."""
    start = time.perf_counter()
    # The edits of figure 2 (180 in a minute) would hit MediaWiki's edit rate limit for users. This
    # copy of the wiki only: Humain stays a normal user (no bot flag, no sysop), just not throttled.
    with (wiki.dir / "LocalSettings.php").open("a", encoding="utf-8") as settings:
        settings.write("$wgGroupPermissions['user']['noratelimit'] = true;\n")
    loader = wiki.dir / "load_pages.php"
    loader.write_text(mw.LOAD_PAGES_PHP, encoding="utf-8")

    def load(chunk: list[tuple[str, str]]) -> None:
        wiki.maintenance(str(loader), f"--user={mw.ADMIN_USER}", "--summary=bench", stdin=json.dumps(chunk))

    templates = [(t, mw.FIXTURE_PAGES[t]) for t in ("Modèle:Ressource", "Modèle:Acteur")]
    load(templates + [(actor_title(k), actor_text(k)) for k in range(ACTORS)])
    content = [(resource_title(i), resource_text(i)) for i in range(pages)]
    chunks = [content[i : i + LOAD_CHUNK] for i in range(0, len(content), LOAD_CHUNK)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(load, chunks))
    loader.unlink()
    wiki.run_jobs()
    return time.perf_counter() - start


# --------------------------------------------------------------------------------------------
# Instrumentation: wrap the connector's and the hub's stages (in this process only). Each stage
# gets its *own* time, without the wrapped stages it calls, so the stages add up to the total.

API_KINDS = {
    "api_pages": "wiki API: page contents (prop=revisions|categories)",
    "api_links": "wiki API: link targets (titles=...&redirects=1)",
    "api_listing": "wiki API: template users (list=embeddedin)",
    "api_rc": "wiki API: recentchanges",
    "api_other": "wiki API: other calls (clock, ...)",
}
STAGES: dict[str, str] = {
    "setup": "connector set-up (mapping file, login, siteinfo)",
    **API_KINDS,
    "ahead_wait": "waiting for the read-ahead thread's next page batch",
    "read_page": "parse wikitext (read_page, mwparserfromhell)",
    "plain": "plain text of values (_plain, mwparserfromhell)",
    "record": "values to RDF (PageMapper.record, rest)",
    "lookups": "reader's store lookups (_entities, _typed, _stored_ids)",
    "reader": "reader, rest (resolve_links, _records)",
    "matching": "identity matching (hub.pipeline.match.reconcile)",
    "stored": "ingest: stored_records lookup",
    "neighbours": "ingest: neighbour types lookup",
    "graph_of": "validation: rdflib conversion",
    "pyshacl": "validation: pyshacl.validate",
    "validate": "validation: rest (results to reports)",
    "render": "commit: Transaction.render (SPARQL text)",
    "update": "commit: store.update",
    "ingest": "commit: ingest_batch, rest (plan, hashes, provenance, log)",
    "push": "push phase (change log walk, one commit per change)",
    "status": "source status record",
}
GROUPS = {
    "wiki API (HTTP + JSON) and connector set-up": ("setup", "ahead_wait", *API_KINDS),
    "read and map (parse, map, links, reader lookups)": ("read_page", "plain", "record", "lookups",
                                                         "reader"),
    "identity matching": ("matching",),
    "validation (neighbour types, rdflib conversion, pyshacl)": ("neighbours", "graph_of", "pyshacl",
                                                                 "validate"),
    "commit (stored records lookup, SPARQL text, update, rest)": ("stored", "render", "update", "ingest"),
    "push phase and status record": ("push", "status"),
}


def api_kind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    action = args[1] if len(args) > 1 else kwargs.get("action")
    if action != "query":
        return "api_other"
    if "revisions" in str(kwargs.get("prop", "")):
        return "api_pages"
    if "redirects" in kwargs:
        return "api_links"
    if kwargs.get("list") == "embeddedin":
        return "api_listing"
    if kwargs.get("list") == "recentchanges":
        return "api_rc"
    return "api_other"


@contextmanager
def instrumented() -> Iterator[Probe]:
    reader_module = connectors.mediawiki.reader
    targets: list[Target] = [
        (hub.sync.engine, "load_connector", "setup", False),
        (hub.sync.inbound, "reconcile", "matching", False),
        (Prefetched, "__next__", "ahead_wait", False),
        (WikiClient, "call", api_kind, False),
        (reader_module, "read_page", "read_page", False),
        (connectors.mediawiki.pagemap, "_plain", "plain", False),
        (PageMapper, "record", "record", False),
        (WikiReader, "_entities", "lookups", False),
        (StoreView, "known", "lookups", False),
        (WikiReader, "_stored_ids", "lookups", False),
        (WikiReader, "_deleted_titles", "lookups", False),
        (WikiReader, "resolve_links", "reader", False),
        (WikiReader, "_records", "reader", False),
        (hub.pipeline.ingest, "stored_records", "stored", False),
        (Ingestor, "_neighbour_types", "neighbours", False),
        (hub.pipeline.validate, "graph_of", "graph_of", False),
        (hub.pipeline.validate, "shacl_validate", "pyshacl", False),
        (Validator, "validate", "validate", False),
        (Transaction, "render", "render", False),
        (OxigraphStore, "update", "update", False),
        (Ingestor, "ingest_batch", "ingest", False),
        (hub.sync.engine, "_push", "push", True),
        (hub.sync.engine, "_record_status", "status", True),
    ]
    with patched(targets) as probe:
        yield probe


def breakdown_lines(probe: Probe, total: float, pages: int, indent: str = "    ") -> list[str]:
    """Own time of each stage (ms, µs per page read, share of ``total``), then the groups."""
    lines = [f"{indent}{'stage':<60} {'ms':>8} {'µs/page':>9} {'share':>7}"]
    accounted = 0.0
    for key, label in STAGES.items():
        seconds = probe.own.get(key, 0.0)
        accounted += seconds
        if key in API_KINDS and probe.calls.get(key):
            label = f"{label}, {probe.calls[key]} req."
        elif key == "pyshacl" and probe.calls.get(key):
            label = f"{label}, {probe.calls[key]} calls"
        if seconds:
            lines.append(f"{indent}{label:<60} {1e3 * seconds:8,.1f} {1e6 * seconds / pages:9,.1f} "
                         f"{100 * seconds / total:6.1f} %")
    rest = max(total - accounted, 0.0)
    lines.append(f"{indent}{'other (generators, merging API batches, sync loop)':<60} {1e3 * rest:8,.1f} "
                 f"{1e6 * rest / pages:9,.1f} {100 * rest / total:6.1f} %")
    lines.append(f"{indent}grouped:")
    for label, keys in GROUPS.items():
        seconds = sum(probe.own.get(k, 0.0) for k in keys)
        lines.append(f"{indent}  {label:<58} {1e3 * seconds:8,.1f} {1e6 * seconds / pages:9,.1f} "
                     f"{100 * seconds / total:6.1f} %")
    return lines


# --------------------------------------------------------------------------------------------
# The hub, as `maillage sync` runs it (in memory, one wiki source: tests/harness.py)


class Hub(HubUnderTest):
    def __init__(self, wiki: mw.Wiki, validator: Validator) -> None:
        super().__init__(mediawiki_source(wiki, SOURCE, str(MAPPING)), validator=validator, batch_size=200)

    def timed_sync(self, full: bool = False) -> tuple[float, SyncReport, Probe]:
        gc.collect()
        with instrumented() as probe:
            start = time.perf_counter()
            report = sync_source(self.config, self.ingestor, SOURCE, full)
            seconds = time.perf_counter() - start
        if report.error is not None:
            sys.exit(f"the sync failed: {report.error}")
        return seconds, report, probe

    def count(self, query: str) -> int:
        return int(self.store.select(query)[0]["n"].value)


def check_read(report: SyncReport, what: str, created: int = 0, updated: int = 0) -> None:
    r = report.read
    if (r.created, r.updated, r.quarantined) != (created, updated, 0):
        first = next(iter(r.reports.values()), None)
        sys.exit(f"the wiki pages did not go through the hub as expected ({what}): expected "
                 f"created={created} updated={updated}, got {report.summary()}\n"
                 f"{first.summary() if first is not None else ''}")


# --------------------------------------------------------------------------------------------
# The floor: the same pages read raw through the API, only decoding JSON


def raw_read(api_url: str, prop: str = "revisions", extra: dict[str, str] | None = None) -> int:
    params: dict[str, str] = {
        "action": "query", "format": "json", "formatversion": "2", "generator": "allpages",
        "gapnamespace": "0", "gaplimit": "50", "prop": prop, "rvprop": "content|ids|timestamp",
        "rvslots": "main", **(extra or {}),
    }
    pages: set[int] = set()
    with httpx.Client(timeout=60) as client:
        while True:
            data = client.get(api_url, params=params).json()
            pages.update(p["pageid"] for p in data["query"]["pages"] if "revisions" in p)
            if "continue" not in data:
                return len(pages)
            params.update(data["continue"])


def timed_raw(api_url: str, **kwargs: Any) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    count = raw_read(api_url, **kwargs)
    return time.perf_counter() - start, count


# --------------------------------------------------------------------------------------------
# 1. Full harvest vs raw read


def bench_harvest(sizes: Sizes, wiki: mw.Wiki, validator: Validator,
                  pages_in_ns0: int) -> tuple[dict[str, float], Hub]:
    data_pages = sizes.pages + ACTORS
    print(f"\n1. Full harvest of {pages_in_ns0:,} pages ({sizes.pages:,} {{{{Ressource}}}}, {ACTORS} "
          f"{{{{Acteur}}}}, the main page) vs reading them raw through the API")
    print("   hub: sync_source(full=True) into a fresh in-memory OxigraphStore (login, listing, read, "
          "parse, map, validate, commit), as `maillage sync --full` runs it")
    print("   raw: generator=allpages&gaplimit=50&prop=revisions&rvprop=content|ids|timestamp&rvslots=main "
          "with continuation, httpx, JSON decoded and nothing else")
    print(f"   {sizes.hub_rounds} hub rounds and {sizes.raw_rounds} raw reads of each query, "
          "interleaved; medians")

    raw_times: list[float] = []
    categories_times: list[float] = []
    hub_runs: list[tuple[float, Probe, Hub]] = []
    hub_obj: Hub | None = None
    for round_ in range(max(sizes.hub_rounds, sizes.raw_rounds)):
        if round_ < sizes.raw_rounds:
            seconds, count = timed_raw(wiki.api_url)
            if count != pages_in_ns0:
                sys.exit(f"the raw read saw {count} pages, expected {pages_in_ns0}")
            raw_times.append(seconds)
            categories_times.append(timed_raw(wiki.api_url, prop="revisions|categories",
                                              extra={"cllimit": "max", "clshow": "!hidden"})[0])
        if round_ < sizes.hub_rounds:
            if hub_obj is not None:
                hub_obj.store.close()
            hub_obj = Hub(wiki, validator)
            seconds, report, probe = hub_obj.timed_sync(full=True)
            check_read(report, "full harvest", created=data_pages)
            hub_runs.append((seconds, probe, hub_obj))
    assert hub_obj is not None
    categories_s = statistics.median(categories_times)

    linked = hub_obj.count(f"SELECT (COUNT(*) AS ?n) WHERE {{ ?s <{MLG}usedBy> ?o . "
                           f"?o <{RDF_TYPE}> <{MLG}Organization> }}")
    commons = hub_obj.count(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{RDF_TYPE}> <{MLG}Commons> }}")
    triples = hub_obj.count("SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } }")

    raw_s = statistics.median(raw_times)
    hub_times = [t for t, _, _ in hub_runs]
    hub_s = statistics.median(hub_times)
    seconds, probe, _ = sorted(hub_runs, key=lambda run: run[0])[len(hub_runs) // 2]
    n = pages_in_ns0
    ratio = hub_s / raw_s
    print(f"   store after the harvest: {commons:,} mlg:Commons, {data_pages:,} records, {linked} usedBy "
          f"links to typed organisations, {triples:,} quads in all graphs")
    print(f"   hub full harvest: {n / hub_s:8,.0f} pages/s ({hub_s:.2f} s, {1e3 * hub_s / n:.2f} ms/page; "
          f"rounds: {', '.join(f'{t:.2f}' for t in hub_times)} s)")
    print(f"   raw API read:     {n / raw_s:8,.0f} pages/s ({raw_s:.2f} s; "
          f"reads: {', '.join(f'{t:.2f}' for t in raw_times)} s)")
    print(f"   raw API read with the hub's page query (prop=revisions|categories, cllimit=max, "
          f"clshow=!hidden): {n / categories_s:,.0f} pages/s ({categories_s:.2f} s, median of "
          f"{len(categories_times)})")
    print(f"   ratio hub / raw: {ratio:.1f} (goal <= {GOAL_HARVEST})")
    api_pages = probe.own.get("api_pages", 0.0) + probe.own.get("ahead:api_pages", 0.0)
    api_all = api_pages + sum(probe.own.get(k, 0.0) for k in ("setup", *API_KINDS) if k != "api_pages")
    print(f"   the hub's page-content requests (mwclient, in the read-ahead thread: they overlap the "
          f"stages below) took {api_pages:.2f} s, {api_pages / categories_s:.2f} x the raw read with "
          f"the same query; all its wiki traffic (set-up included) {api_all:.2f} s, "
          f"{api_all / raw_s:.1f} x the raw read")
    print("   breakdown of the hub harvest (median round; each stage's own time, callees excluded):")
    print("\n".join(breakdown_lines(probe, seconds, n)))
    validation = sum(probe.own.get(k, 0.0) for k in ("graph_of", "pyshacl", "validate"))
    without = seconds - validation
    print(f"   without validation the harvest would take about {without:.2f} s: {n / without:,.0f} pages/s, "
          f"{without / raw_s:.1f} x the raw read")
    return {"ratio": ratio, "hub_s": hub_s, "raw_s": raw_s, "per_page_s": hub_s / n}, hub_obj


# --------------------------------------------------------------------------------------------
# 2. Incremental syncs


def edit(wiki: mw.Wiki, indexes: range, revision: int) -> float:
    start = time.perf_counter()
    for i in indexes:
        wiki.edit_as_human(resource_title(i), resource_text(i, revision), "bench: mise à jour")
    return time.perf_counter() - start


def pyshacl_fixed_cost(validator: Validator) -> float:
    """One pyshacl call on an empty data graph: what every validated batch pays before any record."""
    times = []
    for _ in range(5):
        start = time.perf_counter()
        hub.pipeline.validate.shacl_validate(rdflib.Graph(), shacl_graph=validator.shapes, inference="none",
                                      allow_warnings=True)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def bench_incremental(sizes: Sizes, wiki: mw.Wiki, hub_obj: Hub, validator: Validator,
                      harvest: dict[str, float]) -> dict[str, float]:
    print(f"\n2. Incremental syncs after the full harvest: {SMALL_EDITS} or {LARGE_EDITS} pages edited "
          "as a normal user (Humain) through the API, then a normal sync")
    print("   each sync: sync_source(full=False) on the store of the last harvest round, as `maillage "
          "sync` runs it (push, then read from recentchanges)")
    print(f"   {sizes.incremental_rounds} rounds of: sync with no edit, {SMALL_EDITS} edits + sync, "
          f"{LARGE_EDITS} edits + sync (other pages each time); medians")

    def run(edits: int = 0) -> tuple[float, Probe]:
        seconds, report, probe = hub_obj.timed_sync()
        check_read(report, f"sync of {edits} edits", updated=edits)
        return seconds, probe

    after_harvest, after_probe = run()
    print(f"   sync right after the harvest, no edit: {after_harvest:.2f} s, of which the push phase "
          f"{after_probe.own.get('push', 0.0):.2f} s: it walks the {harvest['records']:,.0f} change-log "
          f"entries of the harvest (all from this wiki, so nothing to write) and commits the outbound "
          f"cursor once per entry ({after_probe.collapsed_calls.get('update', 0):,} store.update calls)")
    runs: dict[int, list[tuple[float, Probe]]] = {0: [], SMALL_EDITS: [], LARGE_EDITS: []}
    edit_seconds: dict[int, list[float]] = {SMALL_EDITS: [], LARGE_EDITS: []}
    for round_ in range(sizes.incremental_rounds):
        runs[0].append(run())
        first = {SMALL_EDITS: 1 + SMALL_EDITS * round_, LARGE_EDITS: 100 + LARGE_EDITS * round_}
        for edits in (SMALL_EDITS, LARGE_EDITS):
            edit_seconds[edits].append(edit(wiki, range(first[edits], first[edits] + edits), round_ + 1))
            runs[edits].append(run(edits))

    def median_run(edits: int) -> tuple[float, Probe]:
        ordered = sorted(runs[edits], key=lambda item: item[0])
        return ordered[len(ordered) // 2]

    idle, _ = median_run(0)
    small, small_probe = median_run(SMALL_EDITS)
    large, large_probe = median_run(LARGE_EDITS)
    for edits, label in ((0, "no edit"), (SMALL_EDITS, f"{SMALL_EDITS} edits"),
                         (LARGE_EDITS, f"{LARGE_EDITS} edits")):
        seconds = median_run(edits)[0]
        rounds = ", ".join(f"{t:.3f}" for t, _ in runs[edits])
        made = (f"; the edits took {statistics.median(edit_seconds[edits]):.2f} s through the API"
                if edits else "")
        print(f"   sync with {label + ':':<10} {seconds:7.3f} s (rounds: {rounds} s{made})")

    per_page = harvest["per_page_s"]
    share = small / harvest["hub_s"]
    per_edit = small / (SMALL_EDITS * per_page)
    scaling = large / small
    marginal = (large - small) / (LARGE_EDITS - SMALL_EDITS)
    fixed_shacl = pyshacl_fixed_cost(validator)
    print(f"   full harvest: {harvest['hub_s']:.2f} s, {1e3 * per_page:.2f} ms per page")
    print(f"   sync of {SMALL_EDITS} edits / full harvest: {share:.3f} (goal <= {GOAL_INCREMENTAL_SHARE})")
    print(f"   sync of {SMALL_EDITS} edits / ({SMALL_EDITS} x per-page harvest time): {per_edit:.1f} "
          f"(goal <= {GOAL_PER_EDIT}); sync of {LARGE_EDITS} edits / ({LARGE_EDITS} x per-page harvest "
          f"time): {large / (LARGE_EDITS * per_page):.1f}")
    print(f"   sync of {LARGE_EDITS} edits / sync of {SMALL_EDITS} edits: {scaling:.2f} (proportional: "
          f"{LARGE_EDITS // SMALL_EDITS}); both net of the sync with no edit: "
          f"{(large - idle) / (small - idle):.2f}")
    idle_probe = median_run(0)[1]
    setup_ms = 1e3 * (idle_probe.own.get("setup", 0.0) + idle_probe.own.get("api_rc", 0.0))
    batch_api_ms = 1e3 * (small_probe.own.get("api_pages", 0.0) + small_probe.own.get("api_links", 0.0))
    print(f"   cost model: a sync with no edit costs {1e3 * idle:.0f} ms (the harvest time of "
          f"{idle / per_page:.0f} pages), of which {setup_ms:.0f} ms for the login, siteinfo and "
          f"recentchanges requests; edits add one batch per 50 pages: a page request and a link "
          f"request ({batch_api_ms:.0f} ms in the sync of {SMALL_EDITS} edits) and one pyshacl call "
          f"(fixed cost {1e3 * fixed_shacl:.0f} ms, on an empty graph); beyond that one more edit costs "
          f"{1e3 * marginal:.1f} ms ({marginal / per_page:.2f} x the per-page harvest time; from "
          f"{SMALL_EDITS} to {LARGE_EDITS} edits)")
    for edits, seconds, probe in ((SMALL_EDITS, small, small_probe), (LARGE_EDITS, large, large_probe)):
        print(f"   breakdown, sync of {edits} edits (median round; µs per edited page):")
        print("\n".join(breakdown_lines(probe, seconds, edits)))
    return {"share": share, "per_edit": per_edit, "scaling": scaling, "small_s": small,
            "large_s": large, "idle_s": idle, "after_harvest_s": after_harvest}


# --------------------------------------------------------------------------------------------


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK, f"{QUICK.pages:,} resource pages instead of {FULL.pages:,}")
    reason = mw.available()
    if reason:
        sys.exit(f"no test MediaWiki here: {reason}")
    started = time.perf_counter()
    header("MediaWiki bench", args.quick, f"pyshacl {pyshacl.__version__}, mwclient {mwclient.__version__}, "
           f"mwparserfromhell {mwparserfromhell.__version__}",
           f"{sizes.pages:,} resource pages (full run: {FULL.pages:,})")
    use_tmpfs()
    validator = Validator(load_shapes())
    warm_up(validator, "Commons", lambda: mwparserfromhell.parse(resource_text(0)).filter_templates())

    start = time.perf_counter()
    with mw.running_wiki(fixtures=False) as wiki:
        up = time.perf_counter() - start
        loaded = load_wiki(wiki, sizes.pages)
        general = wiki.api(action="query", meta="siteinfo", siprop="general")["query"]["general"]
        pages_in_ns0 = raw_read(wiki.api_url)  # also warms the wiki up
        print(f"wiki: MediaWiki {general['generator'].split()[-1]} on SQLite behind php -S, installed "
              f"and started in {up:.1f} s; {pages_in_ns0:,} pages in the main namespace, loaded in "
              f"{loaded:.1f} s")
        harvest, hub_obj = bench_harvest(sizes, wiki, validator, pages_in_ns0)
        harvest["records"] = sizes.pages + ACTORS
        incremental = bench_incremental(sizes, wiki, hub_obj, validator, harvest)
        hub_obj.store.close()

    low, high = GOAL_SCALING
    print_summary([
        Row(f"1. full harvest time / raw API read ({sizes.pages / 1000:g}k pages)",
            f"{harvest['ratio']:.1f}", f"<= {GOAL_HARVEST}", harvest["ratio"] <= GOAL_HARVEST),
        Row(f"2. sync of {SMALL_EDITS} edits / full harvest time", f"{incremental['share']:.3f}",
            f"<= {GOAL_INCREMENTAL_SHARE}", incremental["share"] <= GOAL_INCREMENTAL_SHARE),
        Row(f"2b. sync of {SMALL_EDITS} edits / ({SMALL_EDITS} x per-page harvest)",
            f"{incremental['per_edit']:.1f}", f"<= {GOAL_PER_EDIT}",
            incremental["per_edit"] <= GOAL_PER_EDIT),
        Row(f"2c. sync of {LARGE_EDITS} edits / sync of {SMALL_EDITS} edits", f"{incremental['scaling']:.2f}",
            f"{low:.1f}-{high:.1f}", low <= incremental["scaling"] <= high),
    ], args.quick, started)


if __name__ == "__main__":
    main()

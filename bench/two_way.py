"""Two-way sync benchmarks, MediaWiki ⇄ Communecter emulator, printing ratios measured in one run.

    .venv/bin/python bench/two_way.py            # full run: 1,000 + 1,000 entities, 10 latency repeats
    .venv/bin/python bench/two_way.py --quick    # 150 + 150 entities, 5 latency repeats

The wiki is the test MediaWiki 1.39 (SQLite behind `php -S`, tests/servers/mediawiki.py) with the
Movilab-like mapping (mappings/movilab.toml, {{Tiers-lieu}} → Place); the platform is the
Communecter emulator (tests/servers/communecter.py, POIs → Place), as in tests/test_two_way_sync.py.
The hub runs in this process, as `maillage sync` (sync_all) and `maillage serve` (SyncRunner) run
it; the emulator runs in this process too, in its uvicorn thread. Machines are noisy: read the
ratios, not the absolute times. Nothing here asserts a figure; the script stops only when the
sync does not do what it must (records created, none quarantined, every entity on both sides),
because the figures would then measure something else. See bench/README.md.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, tests.servers

import gc
import json
import logging
import random
import statistics
import threading
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from typing import Any

import httpx
import mwclient
import mwparserfromhell

import connectors.communecter.writer
import connectors.mediawiki.pagemap
import connectors.mediawiki.reader
import connectors.mediawiki.writer
import hub.pipeline.ingest
import hub.pipeline.match
import hub.pipeline.validate
import hub.sync.engine
import hub.sync.inbound
import hub.sync.outbound
import hub.sync.pool
import hub.sync.scheduler
from bench.common import ROOT, Row, header, parse, print_summary, use_tmpfs, warm_up
from bench.probe import Probe, Target, patched
from connectors.communecter.client import CommunecterClient
from connectors.communecter.elements import ElementMapper
from connectors.communecter.reader import CommunecterReader
from connectors.communecter.writer import CommunecterWriter
from connectors.mediawiki.client import WikiClient
from connectors.mediawiki.pagemap import PageMapper
from connectors.mediawiki.reader import WikiReader
from connectors.mediawiki.writer import WikiWriter
from hub.config import Config
from hub.meta.conflicts import list_conflicts
from hub.pipeline.ingest import Ingestor
from hub.pipeline.validate import Validator, load_shapes
from hub.store.oxigraph import OxigraphStore
from hub.store.transaction import Transaction
from hub.sync.engine import SyncReport, sync_all
from hub.sync.scheduler import SyncRunner
from hub.sync.view import StoreView
from hub.vocab import MLG, RDF_TYPE
from tests.harness import HubUnderTest, communecter_source, mediawiki_source
from tests.servers import mediawiki as mw
from tests.servers.communecter import Communecter, running_communecter

WIKI, PLATFORM = "movilab", "co"  # source names, as in tests/test_two_way_sync.py
MAPPING = ROOT / "mappings" / "movilab.toml"
EMAIL, PASSWORD = "bot@maillage.test", "mot-de-passe-du-bot"
PERIOD = 1  # seconds: both sources scheduled "every 1 seconds" for figure 1
LOAD_CHUNK = 250  # pages per run of the PHP loader (its subprocess has a 120 s timeout)
POLL = 0.01  # seconds between two looks at the platform's element (figure 1)
LATENCY_TIMEOUT = 60.0
PAGE_SIZE = 100  # POIs per /api/poi/get page, as mappings/communecter.toml reads them

GOAL_INITIAL = 1.5  # initial two-way sync / sum of the raw reads and writes: at most (the brief)


@dataclass(frozen=True)
class Sizes:
    entities: int  # per side: Tiers-lieu pages on the wiki, POIs on the platform
    repeats: int  # latency measurements
    raw_read_rounds: int = 3


FULL = Sizes(entities=1_000, repeats=10)
QUICK = Sizes(entities=150, repeats=5)


# --------------------------------------------------------------------------------------------
# The data: {{Tiers-lieu}} pages on the wiki, POIs on the platform, no name, web address or
# (name, postal code) pair in common, so that hub.pipeline.match finds nothing and every entity is
# new to the other side. Names are zero-padded: the platform's search matches names as
# substrings, so "… 12" would also find "… 120" when the hub looks for elements it created.

TOWNS = (("Rennes", "35000"), ("Nantes", "44000"), ("Lyon", "69001"), ("Lille", "59000"),
         ("Grenoble", "38000"), ("Marseille", "13001"), ("Bordeaux", "33000"))
THEMES = ("Numérique", "Fabrication", "Alimentation", "Mobilité", "Culture", "Agriculture urbaine")
TAGS = ("atelier", "coworking", "fablab", "café associatif", "jardin partagé", "recyclerie", "formation")
SHORT = ("Ateliers ouverts, bureaux partagés et café associatif au cœur du quartier.",
         "Un lieu de fabrication numérique et de réparation ouvert aux habitants.",
         "Espace de travail partagé, jardin et cuisine collective pour les associations.",
         "Tiers-lieu rural : marché de producteurs, ateliers et accueil d'artistes.")


def wiki_title(i: int) -> str:
    return f"Tiers-lieu du wiki {i:04d}"


def poi_name(i: int) -> str:
    return f"Lieu de la plateforme {i:04d}"


def wiki_text(i: int, short: str | None = None) -> str:
    town, code = TOWNS[i % len(TOWNS)]
    return (
        "{{Tiers-lieu\n"
        f"|nom={wiki_title(i)}\n"
        f"|description courte={short or SHORT[i % len(SHORT)] + f' Fiche {i}.'}\n"
        f"|adresse={i % 90 + 1} rue de la Paix\n"
        f"|code postal={code}\n"
        f"|ville={town}\n"
        f"|thème={THEMES[i % len(THEMES)]}, {THEMES[(i + 2) % len(THEMES)]}\n"
        "}}\n"
        f"Texte libre écrit par l'équipe du lieu numéro {i}.\n"
    )


def poi_fields(i: int) -> dict[str, Any]:
    town, code = TOWNS[(i + 3) % len(TOWNS)]
    return {
        "name": poi_name(i), "shortDescription": SHORT[(i + 1) % len(SHORT)] + f" Élément {i}.",
        "streetAddress": f"{i % 70 + 2} avenue des Tilleuls", "postalCode": code, "addressLocality": town,
        "tags": [TAGS[i % len(TAGS)], TAGS[(i * 3 + 1) % len(TAGS)]],
    }


def poi_doc(i: int) -> dict[str, Any]:
    f = poi_fields(i)
    return {"name": f["name"], "type": "place", "shortDescription": f["shortDescription"],
            "tags": list(dict.fromkeys(f["tags"])),
            "address": {"@type": "PostalAddress", "streetAddress": f["streetAddress"],
                        "postalCode": f["postalCode"], "addressLocality": f["addressLocality"]}}


def poi_page_text(i: int) -> str:
    """A {{Tiers-lieu}} page for POI ``i``, with the parameters the hub writes for it (raw (d))."""
    f = poi_fields(i)
    return ("{{Tiers-lieu\n"
            f"|nom={f['name']}\n|description courte={f['shortDescription']}\n"
            f"|adresse={f['streetAddress']}\n|code postal={f['postalCode']}\n|ville={f['addressLocality']}\n"
            "}}\n")


def poi_form(i: int) -> dict[str, Any]:
    """The element/save form the hub sends for a new Place (raw (c)): fields, source marker."""
    f = poi_fields(i)
    return {"collection": "poi", "key": "poi", "name": f["name"], "shortDescription": f["shortDescription"],
            "address[streetAddress]": f["streetAddress"], "address[postalCode]": f["postalCode"],
            "address[addressLocality]": f["addressLocality"], "source[id]": f"urn:bench:raw:{i}",
            "source[key]": "maillage", "source[keys][]": ["maillage"], "source[insertOrign]": "import"}


def load_wiki(wiki: mw.Wiki, pages: int) -> float:
    """The {{Tiers-lieu}} template and ``pages`` pages, saved as Admin (a person, not the hub's
    bot) through the PHP loader of tests/servers/mediawiki.py, two processes at once; then the
    job queue. Returns the seconds it took."""
    start = time.perf_counter()
    # Stock MediaWiki gives `noratelimit` to sysops and bureaucrats only, so the bot may save at
    # most 90 pages a minute ($wgRateLimits edit/user): the creations of figure 2 would measure
    # that limit (see README). This copy of the wiki only: the bot group is not throttled.
    with (wiki.dir / "LocalSettings.php").open("a", encoding="utf-8") as settings:
        settings.write("$wgGroupPermissions['bot']['noratelimit'] = true;\n")
    loader = wiki.dir / "load_pages.php"
    loader.write_text(mw.LOAD_PAGES_PHP, encoding="utf-8")

    def load(chunk: list[tuple[str, str]]) -> None:
        wiki.maintenance(str(loader), f"--user={mw.ADMIN_USER}", "--summary=bench", stdin=json.dumps(chunk))

    load([("Modèle:Tiers-lieu", mw.FIXTURE_PAGES["Modèle:Tiers-lieu"])])
    content = [(wiki_title(i), wiki_text(i)) for i in range(pages)]
    with ThreadPoolExecutor(2) as pool:
        list(pool.map(load, [content[i : i + LOAD_CHUNK] for i in range(0, len(content), LOAD_CHUNK)]))
    loader.unlink()
    wiki.run_jobs()
    return time.perf_counter() - start


def load_platform(platform_: Communecter, pois: int) -> None:
    platform_.add_user(EMAIL, PASSWORD, "maillage-bot")
    for i in range(pois):
        platform_.add_element("poi", poi_doc(i))


def wiki_requests(wiki: mw.Wiki) -> int:
    """api.php requests the wiki's `php -S` has logged so far (one "[200]: GET /api.php…" line each)."""
    text = (wiki.dir / "php-server.log").read_text(errors="replace")
    return sum(1 for line in text.splitlines() if "]: GET /api.php" in line or "]: POST /api.php" in line)


# --------------------------------------------------------------------------------------------
# The hub: tests/test_two_way_sync.py's TwoWayHub (tests/harness.py), with a schedule for figure 1


class Hub(HubUnderTest):
    def __init__(self, wiki: mw.Wiki, platform_: Communecter, validator: Validator) -> None:
        schedule = f"every {PERIOD} seconds"
        super().__init__(mediawiki_source(wiki, WIKI, str(MAPPING), schedule=schedule, retry_wait=0.1),
                         communecter_source(platform_, PLATFORM, schedule=schedule), validator=validator)

    def timed_sync(self) -> tuple[float, list[SyncReport]]:
        gc.collect()
        start = time.perf_counter()
        reports = sync_all(self.config, self.ingestor)
        seconds = time.perf_counter() - start
        for report in reports:
            if report.error is not None:
                sys.exit(f"the sync failed: {report.summary()}")
        return seconds, reports

    def count(self, query: str) -> int:
        return int(self.store.select(query)[0]["n"].value)


# --------------------------------------------------------------------------------------------
# Instrumentation: wrap the connectors' and the hub's stages (in this process only). Each stage
# gets its *own* time, without the wrapped stages it calls, so the stages add up to the total;
# each is also split by the phase it ran in (a source's read or push).

STAGES: dict[str, str] = {
    "setup": "set-up (load_connector: mapping, wiki login, siteinfo)",
    "w_pages": "wiki API: page contents (prop=revisions)",
    "w_links": "wiki API: link targets (titles=…&redirects=1)",
    "w_listing": "wiki API: template users (list=embeddedin)",
    "w_rc": "wiki API: recentchanges",
    "w_edit": "wiki API: page saves (csrf token + action=edit)",
    "w_clock": "wiki API: clock (curtimestamp)",
    "w_other": "wiki API: other calls (created_by_us, …)",
    "c_pages": "emulator API: /api/<type>/get pages",
    "c_fetch": "emulator API: /api/poi/get/id/<id> (one element)",
    "c_search": "emulator API: globalautocomplete search",
    "c_element": "emulator API: element/get",
    "c_save": "emulator API: element/save",
    "c_login": "emulator API: login",
    "c_other": "emulator API: other POSTs",
    "w_parse": "mapping: wikitext parse/edit (mwparserfromhell)",
    "w_map": "mapping: wiki values ⇄ RDF (PageMapper)",
    "c_map": "mapping: elements ⇄ RDF (ElementMapper)",
    "lookups": "connectors' store lookups (hubview, syncstate, …)",
    "matching": "matching (hub.pipeline.match.reconcile)",
    "find_matches": "matching: find_matches (one query per new record)",
    "neighbours": "validation: neighbour types lookup",
    "validate": "validation: Validator.validate",
    "pyshacl": "validation: rdflib conversion + pyshacl (fallback)",
    "stored": "commit: stored_records lookup",
    "render": "commit: Transaction.render (SPARQL text)",
    "update": "commit: store.update",
    "ingest": "commit: ingest_batch, rest (plan, hashes, provenance, log)",
    "changes": "push loop: read_changes (change log pages)",
    "status": "source status record",
}
GROUPS = {
    "wiki API (HTTP + MediaWiki) and set-up": ("setup", "w_pages", "w_links", "w_listing", "w_rc", "w_edit",
                                               "w_clock", "w_other"),
    "emulator API (HTTP + emulator, same process)": ("c_pages", "c_fetch", "c_search", "c_element", "c_save",
                                                     "c_login", "c_other"),
    "mapping (wikitext, RDF both ways)": ("w_parse", "w_map", "c_map"),
    "connectors' store lookups": ("lookups",),
    "matching": ("matching", "find_matches"),
    "validation": ("neighbours", "validate", "pyshacl"),
    "commit (lookup, SPARQL text, update, rest) and status": ("stored", "render", "update", "ingest",
                                                              "status"),
    "push loop (change log)": ("changes",),
}


def wiki_kind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    action = args[1] if len(args) > 1 else kwargs.get("action")
    if action == "edit":
        return "w_edit"
    if action != "query":
        return "w_other"
    if "content" in str(kwargs.get("rvprop", "")):
        return "w_pages"
    if "redirects" in kwargs:
        return "w_links"
    if kwargs.get("list") == "embeddedin":
        return "w_listing"
    if kwargs.get("list") == "recentchanges":
        return "w_rc"
    if "curtimestamp" in kwargs:
        return "w_clock"
    return "w_other"


def co_get_kind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    path = str(args[1] if len(args) > 1 else kwargs.get("path", ""))
    return "c_fetch" if "/id/" in path else "c_pages"


def co_post_kind(args: tuple[Any, ...], kwargs: dict[str, Any]) -> str:
    path = str(args[1] if len(args) > 1 else kwargs.get("path", ""))
    if "element/save" in path:
        return "c_save"
    if "globalautocomplete" in path:
        return "c_search"
    if "element/get" in path:
        return "c_element"
    return "c_other"


@contextmanager
def instrumented() -> Iterator[Probe]:
    mw_writer = connectors.mediawiki.writer
    targets: list[Target] = [
        (hub.sync.engine, "load_connector", "setup", False),
        (hub.sync.pool, "load_connector", "setup", False),
        (WikiClient, "call", wiki_kind, False),
        (WikiClient, "edit", "w_edit", True),
        (CommunecterClient, "get", co_get_kind, False),
        (CommunecterClient, "post", co_post_kind, False),
        (CommunecterClient, "login", "c_login", False),
        (connectors.mediawiki.reader, "read_page", "w_parse", False),
        (mw_writer, "read_page", "w_parse", False),
        (mw_writer, "set_params", "w_parse", False),
        (mw_writer, "new_page", "w_parse", False),
        (connectors.mediawiki.pagemap, "_plain", "w_parse", False),
        (PageMapper, "record", "w_map", False),
        (PageMapper, "project", "w_map", False),
        (ElementMapper, "record", "c_map", False),
        (ElementMapper, "project", "c_map", False),
        (ElementMapper, "form", "c_map", False),
        (WikiReader, "_entities", "lookups", False),
        (StoreView, "known", "lookups", False),
        (WikiReader, "_stored_ids", "lookups", False),
        (WikiReader, "_deleted_titles", "lookups", False),
        (WikiWriter, "_title_of", "lookups", False),
        (CommunecterReader, "_entities", "lookups", False),
        (CommunecterReader, "_stored_ids", "lookups", False),
        (CommunecterWriter, "_element_of", "lookups", False),
        *[(hub.sync.outbound, attr, "lookups", False)
          for attr in ("entity_triples", "hub_classes", "source_id_of", "state_for_entity", "pending",
                       "blocked_properties", "deleted_from")],
        (hub.sync.inbound, "reconcile", "matching", False),
        (hub.pipeline.match, "find_matches", "find_matches", False),
        (hub.pipeline.match, "stored_records", "matching", False),
        (Ingestor, "_neighbour_types", "neighbours", False),
        (Validator, "validate", "validate", False),
        (hub.pipeline.validate, "graph_of", "pyshacl", False),
        (hub.pipeline.validate, "shacl_validate", "pyshacl", False),
        (hub.pipeline.ingest, "stored_records", "stored", False),
        (Transaction, "render", "render", False),
        (OxigraphStore, "update", "update", False),
        (Ingestor, "ingest_batch", "ingest", False),
        (hub.sync.engine, "read_changes", "changes", False),
        (hub.sync.engine, "_record_status", "status", True),
    ]
    phases = [(hub.sync.engine, "read_source", "read"), (hub.sync.engine, "_push", "push")]
    with patched(targets, phases) as probe:
        yield probe


def breakdown_lines(probe: Probe, total: float, phases: list[str], indent: str = "    ") -> list[str]:
    """Own time of each stage (s, share of ``total``, and seconds per phase), then the groups."""
    head = "".join(f" {p:>13}" for p in phases)
    lines = [f"{indent}{'stage':<62} {'s':>7} {'share':>7}{head}"]

    def row(label: str, keys: tuple[str, ...], prefix: str = "") -> str:
        seconds = sum(probe.own.get(k, 0.0) for k in keys)
        split = "".join(f" {sum(probe.by_phase.get((p, k), 0.0) for k in keys):13.2f}" for p in phases)
        return f"{indent}{prefix + label:<62} {seconds:7.2f} {100 * seconds / total:6.1f} %{split}"

    accounted = 0.0
    for key, label in STAGES.items():
        seconds = probe.own.get(key, 0.0)
        accounted += seconds
        calls = probe.calls.get(key, 0)
        if calls and (key == "find_matches" or (key.startswith(("w_", "c_")) and not key.endswith(("_parse",
                                                                                               "_map")))):
            label = f"{label}, {calls:,} calls"
        if seconds >= 0.0005:
            lines.append(row(label, (key,)))
    rest = max(total - accounted, 0.0)
    lines.append(f"{indent}{'other (sync loop, generators, connectors glue, gc)':<62} {rest:7.2f} "
                 f"{100 * rest / total:6.1f} %")
    lines.append(f"{indent}grouped:")
    for label, keys in GROUPS.items():
        lines.append(row(label, keys, prefix="  "))
    return lines


# --------------------------------------------------------------------------------------------
# The floor: the same reads and writes done raw, httpx and JSON only, on fresh copies


def raw_read_pages(api_url: str) -> int:
    """(a) generator=allpages with content, 50 a request, with continuation."""
    params: dict[str, str] = {
        "action": "query", "format": "json", "formatversion": "2", "generator": "allpages",
        "gapnamespace": "0", "gaplimit": "50", "prop": "revisions", "rvprop": "content|ids|timestamp",
        "rvslots": "main",
    }
    pages: set[int] = set()
    with httpx.Client(timeout=60) as client:
        while True:
            data = client.get(api_url, params=params).json()
            pages.update(p["pageid"] for p in data["query"]["pages"] if "revisions" in p)
            if "continue" not in data:
                return len(pages)
            params.update(data["continue"])


def raw_read_pois(url: str) -> int:
    """(b) /api/poi/get, 100 a page, until a page is not full."""
    seen: set[str] = set()
    with httpx.Client(base_url=url, timeout=60) as client:
        index = 0
        while True:
            entities = client.get(f"/api/poi/get/limit/{PAGE_SIZE}/index/{index}",
                                  params={"format": "communecter"}).json().get("entities") or {}
            seen.update(entities)
            if len(entities) < PAGE_SIZE:
                return len(seen)
            index += PAGE_SIZE


def raw_create_pois(url: str, count: int) -> int:
    """(c) log in, then one POST /co2/element/save per new POI."""
    with httpx.Client(base_url=url, timeout=60) as client:
        login = client.post("/co2/person/authenticate", data={"email": EMAIL, "pwd": PASSWORD}).json()
        if not login.get("result"):
            sys.exit("raw: the emulator refused the login")
        for i in range(count):
            answer = client.post("/co2/element/save", data=poi_form(i)).json()
            if not answer.get("result"):
                sys.exit(f"raw: element/save refused POI {i}: {answer}")
    return count


def raw_create_pages(wiki: mw.Wiki, count: int, tag: str) -> int:
    """(d) log in as the bot (bot password), one csrf token, then one action=edit per new page
    with the parameters the hub's WikiClient.edit sends (createonly, bot, tag, assert=user)."""
    api = wiki.api_url
    with httpx.Client(timeout=60) as client:
        token = client.get(api, params={"action": "query", "meta": "tokens", "type": "login",
                                        "format": "json"}).json()["query"]["tokens"]["logintoken"]
        login = client.post(api, data={"action": "login", "lgname": wiki.bot_user,
                                       "lgpassword": wiki.bot_password, "lgtoken": token,
                                       "format": "json"}).json()
        if login.get("login", {}).get("result") != "Success":
            sys.exit(f"raw: the wiki refused the bot's login: {login}")
        csrf = client.get(api, params={"action": "query", "meta": "tokens",
                                       "format": "json"}).json()["query"]["tokens"]["csrftoken"]
        for i in range(count):
            answer = client.post(api, data={
                "action": "edit", "title": poi_name(i), "text": poi_page_text(i), "summary": "bench",
                "createonly": "1", "bot": "1", "tags": tag, "assert": "user", "watchlist": "nochange",
                "token": csrf, "format": "json", "formatversion": "2"}).json()
            if answer.get("edit", {}).get("result") != "Success":
                sys.exit(f"raw: the wiki refused page {i}: {answer}")
    return count


def route(path: str) -> str:
    """An emulator request path without its Yii parameters: /co2/element/save, /api/poi/get/id…"""
    parts = path.split("/")
    if path.startswith("/api/"):
        return "/".join(parts[:4]) + ("/id/…" if "/id/" in path else "/limit/…")
    return "/".join(parts[:4])


def timed(fn: Callable[[], int]) -> tuple[float, int]:
    gc.collect()
    start = time.perf_counter()
    count = fn()
    return time.perf_counter() - start, count


# --------------------------------------------------------------------------------------------
# 2. Initial two-way sync vs raw reads and writes


def bench_initial(sizes: Sizes, hub_obj: Hub, wiki: mw.Wiki, platform_: Communecter, raw_wiki: mw.Wiki,
                  raw_platform: Communecter) -> dict[str, float]:
    n = sizes.entities
    print(f"\n2. Initial two-way sync: {n:,} {{{{Tiers-lieu}}}} pages on the wiki, {n:,} POIs on the "
          "platform, none known to the other side, hub never synced")
    print("   hub: one sync_all(config, ingestor) into a fresh in-memory OxigraphStore, as `maillage sync` "
          "runs it the first time: read both sides, create the POIs on the platform and the pages on "
          "the wiki")
    print(f"   raw, on fresh copies loaded the same way: (a) generator=allpages&gaplimit=50&prop=revisions "
          f"(content) with continuation; (b) /api/poi/get/limit/{PAGE_SIZE}/index/… pages; (c) login + "
          f"one POST /co2/element/save per POI; (d) bot login + one action=edit (createonly) per page; "
          f"httpx, JSON decoded and nothing else; reads: median of {sizes.raw_read_rounds}, writes: once")

    expected_pages = n + 1  # the wiki's main page is in the main namespace too
    reads_a: list[float] = []
    reads_b: list[float] = []
    raw_calls = {"wiki": -wiki_requests(raw_wiki), "co": -len(raw_platform.requests)}
    for round_ in range(sizes.raw_read_rounds):
        if round_ == 1:  # requests of one read of each side
            raw_calls = {"wiki": raw_calls["wiki"] + wiki_requests(raw_wiki),
                         "co": raw_calls["co"] + len(raw_platform.requests)}
        seconds, count = timed(lambda: raw_read_pages(raw_wiki.api_url))
        if count != expected_pages:
            sys.exit(f"raw (a) read {count} pages, expected {expected_pages}")
        reads_a.append(seconds)
        seconds, count = timed(lambda: raw_read_pois(raw_platform.url))
        if count != n:
            sys.exit(f"raw (b) read {count} POIs, expected {n}")
        reads_b.append(seconds)
    raw_a, raw_b = statistics.median(reads_a), statistics.median(reads_b)
    if sizes.raw_read_rounds == 1:
        raw_calls = {"wiki": raw_calls["wiki"] + wiki_requests(raw_wiki),
                     "co": raw_calls["co"] + len(raw_platform.requests)}
    before = {"wiki": wiki_requests(raw_wiki), "co": len(raw_platform.requests)}
    raw_c, _ = timed(lambda: raw_create_pois(raw_platform.url, n))
    raw_d, _ = timed(lambda: raw_create_pages(raw_wiki, n, mw.CHANGE_TAG))
    raw_calls["wiki"] += wiki_requests(raw_wiki) - before["wiki"]
    raw_calls["co"] += len(raw_platform.requests) - before["co"]
    raw_s = raw_a + raw_b + raw_c + raw_d

    wiki_before, co_before = wiki_requests(wiki), len(platform_.requests)
    with instrumented() as probe:
        hub_s, reports = hub_obj.timed_sync()
    wiki_calls, co_calls = wiki_requests(wiki) - wiki_before, len(platform_.requests) - co_before
    by_name = {r.source: r for r in reports}
    check_initial(by_name, hub_obj, wiki, platform_, n)
    ratio = hub_s / raw_s

    print(f"   raw (a) read {expected_pages:,} pages:  {raw_a:7.2f} s ({expected_pages / raw_a:6,.0f} /s; "
          f"reads: {', '.join(f'{t:.2f}' for t in reads_a)} s)")
    print(f"   raw (b) read {n:,} POIs:   {raw_b:7.2f} s ({n / raw_b:6,.0f} /s; "
          f"reads: {', '.join(f'{t:.2f}' for t in reads_b)} s)")
    for name, what, seconds in (("c", "POIs: ", raw_c), ("d", "pages:", raw_d)):
        print(f"   raw ({name}) create {n:,} {what}{seconds:7.2f} s ({n / seconds:6,.0f} /s, "
              f"{1e3 * seconds / n:.1f} ms each)")
    print(f"   raw total (a+b+c+d):       {raw_s:7.2f} s")
    print(f"   hub sync_all:              {hub_s:7.2f} s ({2 * n / hub_s:,.0f} entities/s)")
    print(f"   ratio hub / raw: {ratio:.2f} (goal <= {GOAL_INITIAL})")
    for report in reports:
        print(f"   report {report.summary()}")
    routes = Counter(route(seen.path) for seen in platform_.requests[co_before:])
    print(f"   HTTP requests: hub to the wiki {wiki_calls:,}, raw {raw_calls['wiki']:,} ((a) + (d)); hub to "
          f"the emulator {co_calls:,}, raw {raw_calls['co']:,} ((b) + (c)); the hub's emulator requests: "
          f"{', '.join(f'{k} {v:,}' for k, v in routes.most_common())}")

    print("   phases (in the order they ran):")
    for label, seconds in probe.phases:
        print(f"     {label:<14} {seconds:7.2f} s  {100 * seconds / hub_s:5.1f} %")
    outside = hub_s - sum(s for _, s in probe.phases)
    print(f"     {'outside':<14} {outside:7.2f} s  {100 * outside / hub_s:5.1f} %  (set-up of the "
          "connectors, status records)")
    phase_names = list(dict.fromkeys(p for p, _ in probe.phases))
    print("   breakdown of the hub time (each stage's own time, callees excluded; columns: seconds per "
          "phase):")
    print("\n".join(breakdown_lines(probe, hub_s, phase_names)))
    matching = probe.own.get("find_matches", 0.0) + probe.own.get("matching", 0.0)
    print(f"   without matching (find_matches) the sync would take about {hub_s - matching:.1f} s, "
          f"{(hub_s - matching) / raw_s:.2f} x raw")
    creations = {
        f"{WIKI} push": (raw_d, "page"),
        f"{PLATFORM} push": (raw_c, "POI"),
    }
    for label, (raw_seconds, what) in creations.items():
        seconds = sum(s for p, s in probe.phases if p == label)
        print(f"   {label}: {1e3 * seconds / n:.1f} ms per {what} created, {seconds / raw_seconds:.1f} x raw "
              f"({1e3 * raw_seconds / n:.1f} ms)")
    reads = {f"{WIKI} read": (raw_a, "page"), f"{PLATFORM} read": (raw_b, "POI")}
    for label, (raw_seconds, what) in reads.items():
        seconds = sum(s for p, s in probe.phases if p == label)
        print(f"   {label}: {1e3 * seconds / n:.2f} ms per {what} read, {seconds / raw_seconds:.1f} x raw "
              f"({1e3 * raw_seconds / n:.2f} ms)")
    return {"ratio": ratio, "hub_s": hub_s, "raw_s": raw_s}


def check_initial(reports: dict[str, SyncReport], hub_obj: Hub, wiki: mw.Wiki, platform_: Communecter,
                  n: int) -> None:
    problems = []
    for name in (WIKI, PLATFORM):
        r = reports[name].read
        if (r.created, r.quarantined) != (n, 0):
            problems.append(f"{name}: read {r.created} new, {r.quarantined} quarantined (expected {n}, 0)")
    pois = [str(e.get("name")) for e in platform_.elements("poi")]
    missing_pois = [wiki_title(i) for i in range(n) if wiki_title(i) not in set(pois)]
    if missing_pois or len(pois) != 2 * n or len(set(pois)) != len(pois):
        problems.append(f"platform: {len(pois)} POIs ({len(set(pois))} names), expected {2 * n}; "
                        f"{len(missing_pois)} wiki places missing (e.g. {missing_pois[:2]})")
    pages = raw_read_pages(wiki.api_url)
    if pages != 2 * n + 1:
        problems.append(f"wiki: {pages} pages in the main namespace, expected {2 * n + 1}")
    sample = wiki.page_text(poi_name(n - 1))
    if f"|description courte={poi_fields(n - 1)['shortDescription']}" not in sample:
        problems.append(f"wiki: page {poi_name(n - 1)!r} lacks the POI's description: {sample[:200]!r}")
    places = hub_obj.count(f"SELECT (COUNT(DISTINCT ?s) AS ?n) WHERE {{ ?s <{RDF_TYPE}> <{MLG}Place> }}")
    if places != 2 * n:
        problems.append(f"hub: {places} mlg:Place entities, expected {2 * n}")
    if problems:
        sys.exit("the initial sync did not bring every entity to both sides:\n  " + "\n  ".join(problems))


# --------------------------------------------------------------------------------------------
# 1. Latency of one wiki edit to the platform under the scheduler


@dataclass
class Run:
    source: str
    start: float  # the job fired (before the write lock)
    end: float
    report: SyncReport | None
    sync: float = 0.0  # seconds in sync_source (without waiting for the write lock)


def bench_latency(sizes: Sizes, hub_obj: Hub, wiki: mw.Wiki, platform_: Communecter) -> dict[str, float]:
    print(f"\n1. Latency of one wiki edit to the platform under the scheduler: SyncRunner in this process, "
          f"both sources scheduled \"every {PERIOD} seconds\" (APScheduler), on the hub figure 2 left")
    print(f"   {sizes.repeats} times, a different page each time: Humain changes `description courte` of one "
          f"Tiers-lieu page through the API, then this process looks at its POI in the emulator every "
          f"{1e3 * POLL:.0f} ms until its shortDescription is the new text; delay = from the edit's answer "
          f"to the first look that sees it; a random pause of 0-{PERIOD} s before each edit spreads the "
          f"edits over the schedule")
    for k in (2, 3):  # what the initial sync leaves to do: not timed in figure 2
        with instrumented() as probe:
            seconds, reports = hub_obj.timed_sync()
        phases = ", ".join(f"{label} {s:.2f} s" for label, s in probe.phases)
        print(f"   sync_all #{k} (after the initial one): {seconds:.2f} s ({phases}; wiki page reads "
              f"{probe.calls.get('w_pages', 0):,}, platform element reads "
              f"{probe.calls.get('c_fetch', 0):,}); "
              + "; ".join(r.summary() for r in reports))
    keys = {str(e.get("name")): str(e["_id"]["$id"]) for e in platform_.elements("poi")}

    runs: list[Run] = []
    runner = SyncRunner(hub_obj.config, hub_obj.ingestor, threading.Lock(), lambda: None)
    original = runner.run

    def recorded(name: str) -> SyncReport | None:
        start = time.perf_counter()
        report = original(name)
        runs.append(Run(name, start, time.perf_counter(), report))
        return report

    runner.run = recorded  # type: ignore[method-assign]
    syncs: dict[str, list[float]] = defaultdict(list)
    original_sync = hub.sync.scheduler.sync_source

    def sync_timed(config: Config, ingestor: Ingestor, name: str, *args: Any, **kwargs: Any) -> SyncReport:
        start = time.perf_counter()
        try:
            return original_sync(config, ingestor, name, *args, **kwargs)
        finally:
            syncs[name].append(time.perf_counter() - start)

    hub.sync.scheduler.sync_source = sync_timed
    logging.getLogger("apscheduler").setLevel(logging.ERROR)
    rng = random.Random(20261128)
    edits: list[tuple[float, float, float]] = []  # edit sent, edit saved, change seen on the platform
    runner.start()
    try:
        deadline = time.perf_counter() + 30  # first scheduled run of each source: not measured
        while {r.source for r in runs if r.report is not None} != {WIKI, PLATFORM}:
            if time.perf_counter() > deadline:
                sys.exit("the scheduler ran no sync of both sources within 30 s")
            time.sleep(0.05)
        first = len(runs)
        for k in range(sizes.repeats):
            time.sleep(rng.uniform(0, PERIOD))
            text = f"Mesure de latence numéro {k} : le lieu a changé de description."
            title, key = wiki_title(k), keys[wiki_title(k)]
            sent = time.perf_counter()
            wiki.edit_as_human(title, wiki_text(k, text), "bench: latence")
            saved = time.perf_counter()
            while platform_.element("poi", key).get("shortDescription") != text:
                if time.perf_counter() - saved > LATENCY_TIMEOUT:
                    since = [f"{r.source} {r.start - saved:+.2f} s: "
                             f"{r.report.summary() if r.report else 'skipped'}"
                             for r in runs if r.end > saved]
                    sys.exit(f"edit {k} did not reach the platform within {LATENCY_TIMEOUT:.0f} s; runs "
                             f"since the edit:\n  " + "\n  ".join(since[:12]))
                time.sleep(POLL)
            edits.append((sent, saved, time.perf_counter()))
    finally:
        runner.stop()
        with runner.write_lock:  # a run still going ends before the store is closed
            pass
        hub.sync.scheduler.sync_source = original_sync
    for source in (WIKI, PLATFORM):  # the n-th sync of a source is its n-th run that was not skipped
        for run, seconds in zip([r for r in runs if r.source == source and r.report], syncs[source],
                                strict=True):
            run.sync = seconds
    measured = runs[first:]
    failed = [r.report for r in measured if r.report is not None and r.report.error is not None]
    if failed:
        sys.exit(f"a scheduled sync failed: {failed[0].summary()}")

    delays = [seen - saved for _, saved, seen in edits]
    # the wiki's run that read each edit: the first that ended after the edit and read a page
    readers = [next(r for r in measured if r.source == WIKI and r.end > saved and r.report
                    and r.report.read.updated) for _, saved, _ in edits]
    in_hub = [run.end - saved for run, (_, saved, _) in zip(readers, edits, strict=True)]
    # the platform's run that pushed it: the first after the reader with a record written; it fired
    # at the same tick as the reader when it had started (waiting for the write lock) before
    pushers = [next(r for r in measured if r.source == PLATFORM and r.end > run.end and r.report
                    and r.report.pushed.seen) for run in readers]
    same_tick = sum(1 for run, pusher in zip(readers, pushers, strict=True) if pusher.start < run.end)
    median = statistics.median(delays)
    p90 = statistics.quantiles(delays, n=10, method="inclusive")[8]
    print(f"   delays: {', '.join(f'{d:.2f}' for d in delays)} s")
    print(f"   median {median:.2f} s, p90 {p90:.2f} s, min {min(delays):.2f} s, max {max(delays):.2f} s; the "
          f"edits themselves took {1e3 * statistics.median(saved - sent for sent, saved, _ in edits):.0f} ms "
          f"(median, not counted)")
    print(f"   median / period: {median / PERIOD:.2f}; p90 / period: {p90 / PERIOD:.2f}")
    hub_s = statistics.median(in_hub)
    print(f"   the edit was in the hub (end of the wiki's run that read it) after {hub_s:.2f} s (median); "
          f"the rest, {median - hub_s:.2f} s, is the platform's run that pushed it: {same_tick} of "
          f"{len(edits)} times it had fired at the same tick and waited for the write lock, otherwise "
          f"it came a period later")
    for source in (WIKI, PLATFORM):
        mine = [r for r in measured if r.source == source]
        skipped = sum(1 for r in mine if r.report is None)
        busy = [r for r in mine if r.report and (r.report.read.seen or r.report.pushed.seen)]
        idle = [r for r in mine if r.report and not (r.report.read.seen or r.report.pushed.seen)]
        parts = []
        for group, what in ((busy, "with records read or written"), (idle, "idle")):
            sync_ms = 1e3 * median_or_nan([r.sync for r in group])
            whole_ms = 1e3 * median_or_nan([r.end - r.start for r in group])
            parts.append(f"{len(group)} {what}: sync_source median {sync_ms:.0f} ms, with the wait for the "
                         f"write lock {whole_ms:.0f} ms")
        print(f"   scheduled runs of {source}: {len(mine)}, {skipped} skipped (previous run still going); "
              + "; ".join(parts))
    conflicts = list_conflicts(hub_obj.store)
    print(f"   conflicts recorded: {len(conflicts)}")
    return {"median": median, "p90": p90}


# --------------------------------------------------------------------------------------------


def median_or_nan(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def main() -> None:
    args, sizes = parse(__doc__, FULL, QUICK,
                        f"{QUICK.entities:,} + {QUICK.entities:,} entities instead of {FULL.entities:,} + "
                        f"{FULL.entities:,}, {QUICK.repeats} latency repeats instead of {FULL.repeats}")
    reason = mw.available()
    if reason:
        sys.exit(f"no test MediaWiki here: {reason}")
    started = time.perf_counter()
    header("two-way sync bench", args.quick, f"mwclient {mwclient.__version__}, httpx {httpx.__version__}",
           f"{sizes.entities:,} + {sizes.entities:,} entities (full run: {FULL.entities:,} + "
           f"{FULL.entities:,}), {sizes.repeats} latency repeats (full run: {FULL.repeats})")
    use_tmpfs()
    validator = Validator(load_shapes())
    warm_up(validator, "Place", lambda: mwparserfromhell.parse(wiki_text(0)).filter_templates())

    with ExitStack() as stack:
        start = time.perf_counter()
        wiki = stack.enter_context(mw.running_wiki(fixtures=False))
        raw_wiki = stack.enter_context(mw.running_wiki(fixtures=False))
        platform_ = stack.enter_context(running_communecter())
        raw_platform = stack.enter_context(running_communecter())
        up = time.perf_counter() - start
        start = time.perf_counter()
        with ThreadPoolExecutor(2) as pool:
            loads = list(pool.map(lambda w: load_wiki(w, sizes.entities), (wiki, raw_wiki)))
        for target in (platform_, raw_platform):
            load_platform(target, sizes.entities)
        print(f"two wikis (MediaWiki on SQLite behind php -S, 4 workers each) and two emulators up in "
              f"{up:.1f} s; each loaded with {sizes.entities:,} pages / POIs in "
              f"{time.perf_counter() - start:.1f} s "
              f"(wikis: {', '.join(f'{s:.1f}' for s in loads)} s)")
        raw_read_pages(wiki.api_url)  # warms both wikis up
        raw_read_pages(raw_wiki.api_url)
        hub_obj = Hub(wiki, platform_, validator)
        stack.callback(hub_obj.store.close)
        print(f"validator engine: {validator.engine}; hub options as tests/test_two_way_sync.py's TwoWayHub "
              "(wiki edit_interval 0)")

        initial = bench_initial(sizes, hub_obj, wiki, platform_, raw_wiki, raw_platform)
        latency = bench_latency(sizes, hub_obj, wiki, platform_)

    n = sizes.entities
    print_summary([
        Row(f"1. latency wiki → platform, median / period ({PERIOD} s)", f"{latency['median'] / PERIOD:.2f}"),
        Row("1b. latency wiki → platform, p90 / period", f"{latency['p90'] / PERIOD:.2f}"),
        Row(f"2. initial sync {n:,}+{n:,}, hub / raw (a+b+c+d)", f"{initial['ratio']:.2f}",
            f"<= {GOAL_INITIAL}", initial["ratio"] <= GOAL_INITIAL),
    ], args.quick, started)
    print("absolute figures (noisy, for orientation only):")
    print(f"  latency median / p90           {latency['median']:.2f} / {latency['p90']:.2f} s")
    print(f"  initial sync, hub / raw        {initial['hub_s']:.1f} / {initial['raw_s']:.1f} s")


if __name__ == "__main__":
    main()

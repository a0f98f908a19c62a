"""What placing records in their commune costs at ingest, and what the territory reference costs a hub.

    .venv/bin/python bench/placing.py            # 6,000 places, 5 rounds each way, whole reference
    .venv/bin/python bench/placing.py --quick    # 1,500 places, 4 rounds, the reference's regions,
                                                 # departments, EPCI and the communes of 5 departments

Each record is a place of 12 triples (name, descriptions, keywords, web address, street address)
with a postal code and a town name taken from the reference (the common case: a wiki page or a
platform element with an address). Two comparisons, each measured side by side in this run
(alternating rounds, fresh record ids each round, best round kept; the ingest is timed in CPU
time of this process, which the other processes of a shared machine do not inflate):

- placing alone: the same records ingested into a fresh in-memory store with placing on (the
  default) and off (``Placer(enabled=False)``); the difference is the placing cost per record;
- the reference: ingest into a hub that holds the territory reference (loaded first with
  ``hub.territories.reference.ensure_loaded``, as a first ``serve``/``demo``/``import`` does)
  with placing on, against a hub without it and without placing — what a user pays for the
  territories at every import (issue 16's goal: at most 1.1); a third hub, without the
  reference but placing, splits that ratio between the stored reference and placing.

Also printed: the placing decision alone (look-ups in memory) and the time the reference took to
load into the fresh in-memory hub (bench/territories.py measures it on disk, with the replica).
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import gzip
import json
import time

import pyoxigraph as ox

from bench.common import Row, header, parse, print_summary
from hub.pipeline.ingest import Ingestor
from hub.pipeline.place import Placer, hints_of
from hub.pipeline.validate import Validator
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.territories.index import DATA, TerritoryIndex
from hub.territories.reference import ensure_loaded
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE

QUICK_DEPARTMENTS = ("01", "29", "75", "93", "974")


def places(count: int, tag: str) -> list[Record]:
    communes = [c for c in TerritoryIndex.load().all_communes() if c.postal_codes][:count]
    out = []
    for i in range(count):
        commune = communes[i % len(communes)]
        s = ox.NamedNode(f"https://example.org/{tag}/{i}")
        out.append(Record("bench", f"{tag}{i}", (
            ox.Triple(s, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
            ox.Triple(s, ox.NamedNode(MLG + "name"), ox.Literal(f"Lieu {i}", language="fr")),
            ox.Triple(s, ox.NamedNode(MLG + "postalCode"), ox.Literal(commune.postal_codes[0])),
            ox.Triple(s, ox.NamedNode(MLG + "locality"), ox.Literal(commune.name)),
            ox.Triple(s, ox.NamedNode(MLG + "streetAddress"), ox.Literal(f"{i} rue de la Gare")),
            ox.Triple(s, ox.NamedNode(MLG + "shortDescription"), ox.Literal(
                f"Tiers-lieu numéro {i} à {commune.name}.", language="fr")),
            ox.Triple(s, ox.NamedNode(MLG + "description"), ox.Literal(
                "Atelier partagé, café associatif et espace de travail. " * 4, language="fr")),
            *(ox.Triple(s, ox.NamedNode(MLG + "keyword"), ox.Literal(k, language="fr"))
              for k in ("tiers-lieu", "atelier", "numérique")),
            ox.Triple(s, ox.NamedNode(MLG + "url"), ox.NamedNode(f"https://example.org/lieu/{i}")),
        )))
    return out


def reference(quick: bool) -> TerritoryIndex:
    """The reference stored in the hub (quick: the communes of 5 departments only; placing itself
    always uses the whole index in memory)."""
    if not quick:
        return TerritoryIndex.load()
    data = json.loads(gzip.decompress(DATA.read_bytes()))
    data["communes"] = [c for c in data["communes"] if c[2] in QUICK_DEPARTMENTS]
    return TerritoryIndex(data)


def timed_ingest(store: OxigraphStore, validator: Validator, placing: bool, records: list[Record]) -> float:
    ingestor = Ingestor(store, DEFAULT_BASE_IRI, validator, batch_size=200,
                        placer=Placer(DEFAULT_BASE_IRI, enabled=placing))
    began = time.process_time()
    result = ingestor.ingest(records)
    seconds = time.process_time() - began
    assert result.created == len(records), result
    return seconds / len(records)


def main() -> None:
    started = time.perf_counter()
    args, (count, rounds) = parse(__doc__, (6000, 5), (1500, 4),
                                  "1,500 places, 4 rounds, part of the reference")
    header("placing at ingest", args.quick,
           quick_line="the stored reference holds the communes of 5 departments only")
    validator = Validator()
    placer = Placer(DEFAULT_BASE_IRI)
    sample = places(count, "d")
    began = time.process_time()
    for record in sample:
        entity = record.entity()
        assert entity is not None
        hints = hints_of(record, entity)
        assert hints is not None
        placer.decide(hints, {})
    decide = (time.process_time() - began) / count

    best = {"on": float("inf"), "off": float("inf")}
    for round_ in range(rounds):
        for mode in ("off", "on") if round_ % 2 == 0 else ("on", "off"):
            with OxigraphStore(None) as store:
                best[mode] = min(best[mode], timed_ingest(
                    store, validator, mode == "on", places(count, f"{mode}{round_}")))

    stored = reference(args.quick)
    territories = (len(stored.regions) + len(stored.departments) + len(stored.epcis)
                   + len(stored.communes))
    # "placed": no reference in the store, placing on; it tells the stored reference's own
    # share (with / placed) from placing's (placed / without)
    hubs = {"with": OxigraphStore(None), "placed": OxigraphStore(None), "without": OxigraphStore(None)}
    began = time.perf_counter()
    ensure_loaded(hubs["with"], DEFAULT_BASE_IRI, index=stored)
    load = time.perf_counter() - began
    hub_best = dict.fromkeys(hubs, float("inf"))
    for round_ in range(rounds):
        modes = list(hubs) if round_ % 2 == 0 else list(reversed(hubs))
        for mode in modes:
            hub_best[mode] = min(hub_best[mode], timed_ingest(
                hubs[mode], validator, mode != "without", places(count, f"h{mode}{round_}")))
    for store in hubs.values():
        store.close()

    ratio = best["on"] / best["off"]
    hub_ratio = hub_best["with"] / hub_best["without"]
    print(f"decision alone: {decide * 1e6:.0f} µs per record")
    print(f"ingest per record, fresh store: {best['on'] * 1000:.3f} ms placed, "
          f"{best['off'] * 1000:.3f} ms not placed: placing costs "
          f"{(best['on'] - best['off']) * 1e6:.0f} µs per record")
    print(f"reference ({territories:,} territories) loaded into a fresh in-memory hub in {load:.1f} s")
    print(f"ingest per record: {hub_best['with'] * 1000:.3f} ms into a hub with the reference "
          f"(placed), {hub_best['without'] * 1000:.3f} ms without (not placed), "
          f"{hub_best['placed'] * 1000:.3f} ms without the reference but placed")
    print_summary([
        Row("placing decision per record (µs)", f"{decide * 1e6:.0f}"),
        Row("placing cost per record at ingest (µs)", f"{(best['on'] - best['off']) * 1e6:.0f}"),
        Row("ingest, placed / not placed (fresh stores)", f"{ratio:.2f}"),
        Row(f"reference load, {territories:,} territories, fresh in-memory hub (s)", f"{load:.1f}"),
        Row("ingest, hub with the reference / without", f"{hub_ratio:.2f}", "≤ 1.1",
            hub_ratio <= 1.1),
        Row("  of which the stored reference (with / placed without it)",
            f"{hub_best['with'] / hub_best['placed']:.2f}"),
        Row("  of which placing (placed without it / without)",
            f"{hub_best['placed'] / hub_best['without']:.2f}"),
    ], args.quick, started, value_title="value")


if __name__ == "__main__":
    main()

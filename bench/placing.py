"""What placing records in their commune costs at ingest (hub/pipeline/place.py).

    .venv/bin/python bench/placing.py            # 6,000 places, 3 rounds each way
    .venv/bin/python bench/placing.py --quick    # 1,500 places, 2 rounds

Each record is a place of 12 triples (name, descriptions, keywords, web address, street address)
with a postal code and a town name taken from the reference (the common case: a wiki page or a
platform element with an address). The same records are ingested into a
fresh in-memory store with placing on (the default) and off (``Placer(enabled=False)``),
alternately, and the best round of each is kept. Printed: the decision alone per record
(look-ups in memory), the ingest per record both ways and their ratio.
"""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # the repository: hub, bench.common

import time

import pyoxigraph as ox

from bench.common import Row, header, parse, print_summary
from hub.pipeline.ingest import Ingestor
from hub.pipeline.place import Placer, hints_of
from hub.pipeline.validate import Validator
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.territories.index import TerritoryIndex
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE


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


def main() -> None:
    started = time.perf_counter()
    args, (count, rounds) = parse(__doc__, (6000, 3), (1500, 2), "1,500 places, 2 rounds")
    header("placing at ingest", args.quick)
    validator = Validator()
    placer = Placer(DEFAULT_BASE_IRI)
    sample = places(count, "d")
    began = time.perf_counter()
    for record in sample:
        entity = record.entity()
        assert entity is not None
        hints = hints_of(record, entity)
        assert hints is not None
        placer.decide(hints, {})
    decide = (time.perf_counter() - began) / count
    best = {"on": float("inf"), "off": float("inf")}
    for round_ in range(rounds):
        for mode in ("off", "on"):
            records = places(count, f"{mode}{round_}")
            with OxigraphStore(None) as store:
                chosen = Placer(DEFAULT_BASE_IRI, enabled=mode == "on")
                ingestor = Ingestor(store, DEFAULT_BASE_IRI, validator, batch_size=200, placer=chosen)
                began = time.perf_counter()
                ingestor.ingest(records)
                best[mode] = min(best[mode], (time.perf_counter() - began) / count)
    ratio = best["on"] / best["off"]
    print(f"decision alone: {decide * 1e6:.0f} µs per record")
    print(f"ingest per record: {best['on'] * 1000:.3f} ms placed, {best['off'] * 1000:.3f} ms not placed")
    print_summary([
        Row("placing decision per record (µs)", f"{decide * 1e6:.0f}"),
        Row("ingest per record, placed (ms)", f"{best['on'] * 1000:.2f}"),
        Row("ingest per record, not placed (ms)", f"{best['off'] * 1000:.2f}"),
        Row("ingest placed / not placed", f"{ratio:.2f}"),
    ], args.quick, started, value_title="value")


if __name__ == "__main__":
    main()

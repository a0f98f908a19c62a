"""Placing stored records again: after a person chose a commune for an ambiguous name
(:func:`choice_plan`), and for records stored before placing existed or under other rules
(:func:`refresh_plans`, run by :mod:`hub.territories.catch_up` and ``maillage places refresh``).

Ingest places a record as it arrives (:mod:`hub.pipeline.place`); an unchanged record is not read
again there, so what changes the answer for a stored one re-reads it from the store here, a batch
per transaction, through the same :class:`~hub.pipeline.place.Placer`.
"""

from __future__ import annotations

from collections.abc import Iterator

import pyoxigraph as ox

from hub.errors import NotFound, UsageError
from hub.meta.placements import PlacementCandidate, choice_statements, list_placements, placement_iri
from hub.pipeline.place import Placer
from hub.records import Record
from hub.store.base import Store
from hub.store.transaction import Transaction
from hub.vocab import META_GRAPH, term


class PlacingError(UsageError):
    """A choice that names no candidate commune (the API answers 400)."""


def choice_plan(
    store: Store, placer: Placer, candidate_id: str, insee: str
) -> tuple[PlacementCandidate, Transaction]:
    """The transaction that records a person's choice and re-places the stored record now (the
    choice also applies at every later ingest of the record), and the other records of the same
    entity waiting on the same name. Unknown id: NotFound; a commune
    that is not among the candidates: :class:`PlacingError`."""
    found = list_placements(store, candidate_id)
    if not found:
        placement_iri(candidate_id)  # a malformed id says so
        raise NotFound(f"no placement candidate {candidate_id!r} (see `maillage places list`)")
    candidate = found[0]
    code = insee.strip().upper()
    if code not in candidate.communes:
        raise PlacingError(
            f"{insee[:20]!r} is not one of the communes {candidate.name!r} may be: "
            + ", ".join(candidate.communes)
        )
    # the same entity read from several sources (a wiki page pushed to a platform and read
    # back) asks the same question once per record: one answer settles them all
    same = [c for c in list_placements(store)
            if c.entity == candidate.entity and c.key == candidate.key and code in c.communes]
    tx = Transaction()
    records = {(c.source, c.source_id): c for c in [candidate, *same]}
    stored = [Record(c.source, c.source_id, tuple(store.graph_triples(c.graph)), graph=c.graph)
              for c in records.values()]
    known = placer.recall(store, stored)
    for c, record in zip(records.values(), stored, strict=True):
        tx.set_meta(*choice_statements(c.source, c.source_id, c.key, code))
        known.choices.setdefault((c.source, c.source_id), {})[c.key] = code
        placer.write(tx, record, c.graph, known, existed=True)
        tx.clear_meta(placement_iri(c.id))
    return candidate, tx


def refresh_plans(
    store: Store, placer: Placer, batch: int = 500, skip: tuple[str, ...] = ()
) -> Iterator[tuple[int, Transaction]]:
    """Place every stored record again (but those of the sources in ``skip``), a batch per
    transaction: for records stored before placing existed (an unchanged record is not re-read at
    ingest) or after a new reference version. Yields (records placed or re-placed, transaction)."""
    unless = "".join(f" FILTER(?src != {ox.Literal(s)})" for s in skip)
    rows = store.select(
        f"""SELECT ?g ?src ?id WHERE {{ GRAPH <{META_GRAPH}> {{ ?g a <{term("Record")}> ;
            <{term("source")}> ?src ; <{term("sourceId")}> ?id {unless} }} }} ORDER BY ?g"""
    )
    for start in range(0, len(rows), batch):
        chunk = rows[start : start + batch]
        values = " ".join(str(r["g"]) for r in chunk)
        triples: dict[str, list[ox.Triple]] = {}
        query = f"SELECT ?g ?s ?p ?o WHERE {{ VALUES ?g {{ {values} }} GRAPH ?g {{ ?s ?p ?o }} }}"
        for row in store.select(query):
            triples.setdefault(row["g"].value, []).append(
                ox.Triple(row["s"], row["p"], row["o"])  # type: ignore[arg-type]
            )
        records = [
            Record(r["src"].value, r["id"].value, tuple(triples.get(r["g"].value, ())), graph=r["g"].value)
            for r in chunk
        ]
        wanted = [r for r in records if r.triples and placer.wanted(r)]  # a territory is not
        known = placer.recall(store, wanted)
        chosen = {id(r) for r in wanted}
        located = [r for r in records if r.triples and id(r) not in chosen and placer.located(r)]
        tx = Transaction()
        for record in wanted + located:  # a located record gets its grid cells
            placer.write(tx, record, record.graph or "", known, existed=True)
        yield len(wanted), tx

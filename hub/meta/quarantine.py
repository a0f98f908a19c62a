"""The quarantine: records the shapes refused, kept with their report until they are fixed.

A quarantined record never replaces the last valid version of its graph; it waits here, with the
N-Triples it carried, so that ``maillage retry`` can validate it again after a fix.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

import pyoxigraph as ox

from hub.clipping import MAX_REPORT_CHARS, clip
from hub.iris import quarantine_iri
from hub.records import Record, now
from hub.store.base import Store
from hub.store.transaction import Node, Transaction, iri, text, timestamp
from hub.vocab import META_GRAPH, RDF_TYPE, term

MAX_PAYLOAD_CHARS = 2_000_000


@dataclass(frozen=True)
class QuarantineEntry:
    source: str
    source_id: str
    reason: str
    report: str
    quarantined_at: datetime
    revision: str | None = None

    def as_dict(self) -> dict[str, object]:
        return {
            "source": self.source,
            "source_id": self.source_id,
            "revision": self.revision,
            "reason": self.reason,
            "quarantined_at": self.quarantined_at.isoformat(),
            "report": self.report,
        }


def quarantine_record(
    tx: Transaction, base: str, record: Record, reason: str, report: str, *, new: bool = False
) -> None:
    """Keep ``record`` in the quarantine, replacing its earlier entry; ``new``: the caller knows
    it has none (:func:`quarantined`), so the entry is only added, and a batch of new records
    with a few refused ones still commits as an append (in bulk, :mod:`hub.store.transaction`)."""
    payload = "\n".join(f"{t.subject} {t.predicate} {t.object} ." for t in record.triples)
    if len(payload) > MAX_PAYLOAD_CHARS or record.error:
        # Too big to keep, or not a faithful copy of the source (a mapping error): the reason
        # says why, and the next sync reads the source again.
        payload = ""
    if len(report) > MAX_REPORT_CHARS:  # /quarantine lists it: a huge refused value stays out
        report = f"(the SHACL report was over {MAX_REPORT_CHARS:,} characters and was not kept)"
    reason = clip(reason, MAX_REPORT_CHARS)
    statements: list[tuple[str, Node]] = [
        (RDF_TYPE, iri(term("QuarantinedRecord"))),
        (term("source"), text(record.source)),
        (term("sourceId"), text(record.source_id)),
        (term("connector"), text(record.connector)),
        (term("reason"), text(reason)),
        (term("report"), text(report)),
        (term("payload"), text(payload)),
        (term("quarantinedAt"), timestamp(now())),
    ]
    if record.revision is not None:
        statements.append((term("revision"), text(record.revision)))
    subject = quarantine_iri(base, record.source, record.source_id)
    if new:
        tx.add_meta(subject, statements)
    else:
        tx.set_meta(subject, statements)


def release(tx: Transaction, base: str, record: Record) -> None:
    """Forget a quarantine entry once a valid version (or a deletion) of the record commits."""
    tx.clear_meta(quarantine_iri(base, record.source, record.source_id))


def quarantined(store: Store, base: str, records: Iterable[Record]) -> set[tuple[str, str]]:
    """(source, source id) of the given records that wait in the quarantine. A small quarantine
    (most often an empty one) is read whole in one query; a larger one is asked an index
    look-up per record (:meth:`Store.holds`)."""
    keys = {quarantine_iri(base, r.source, r.source_id): (r.source, r.source_id) for r in records}
    entry = term("QuarantinedRecord")
    small = min(len(keys), 200)
    rows = store.select(
        f"SELECT ?q WHERE {{ GRAPH <{META_GRAPH}> {{ ?q a <{entry}> }} }} LIMIT {small + 1}"
    )
    if len(rows) <= small:
        return {keys[r["q"].value] for r in rows if r["q"].value in keys}
    kind, waiting, meta = ox.NamedNode(RDF_TYPE), ox.NamedNode(entry), ox.NamedNode(META_GRAPH)
    held = store.holds([ox.Quad(ox.NamedNode(q), kind, waiting, meta) for q in keys])
    return {pair for pair, waits in zip(keys.values(), held, strict=True) if waits}


def _select(store: Store, source: str | None, extra: str = "") -> list[dict[str, ox.Literal]]:
    source_filter = f"FILTER(?source = {ox.Literal(source)})" if source else ""
    return store.select(  # type: ignore[return-value]
        f"""SELECT ?source ?id ?reason ?report ?at ?rev {extra} WHERE {{ GRAPH <{META_GRAPH}> {{
            ?q a <{term('QuarantinedRecord')}> ; <{term('source')}> ?source ;
               <{term('sourceId')}> ?id ; <{term('reason')}> ?reason ;
               <{term('report')}> ?report ; <{term('quarantinedAt')}> ?at .
            OPTIONAL {{ ?q <{term('revision')}> ?rev }}
            {"?q <" + term('payload') + "> ?payload ; <" + term('connector') + "> ?conn ." if extra else ""}
            {source_filter} }} }} ORDER BY ?source ?id"""
    )


def list_quarantine(store: Store, source: str | None = None) -> list[QuarantineEntry]:
    return [
        QuarantineEntry(
            source=row["source"].value,
            source_id=row["id"].value,
            reason=row["reason"].value,
            report=row["report"].value,
            quarantined_at=datetime.fromisoformat(row["at"].value),
            revision=row["rev"].value if "rev" in row else None,
        )
        for row in _select(store, source)
    ]


def quarantined_records(store: Store, source: str | None = None) -> list[Record]:
    """The quarantined records themselves, ready to go through the pipeline again."""
    records = []
    for row in _select(store, source, "?payload ?conn"):
        if not row["payload"].value:
            continue  # only the source can provide it again (see quarantine_record)
        triples = tuple(
            q.triple
            for q in ox.parse(io.BytesIO(row["payload"].value.encode()), ox.RdfFormat.N_TRIPLES)
        )
        records.append(
            Record(
                source=row["source"].value,
                source_id=row["id"].value,
                triples=triples,
                revision=row["rev"].value if "rev" in row else None,
                connector=row["conn"].value,
            )
        )
    return records

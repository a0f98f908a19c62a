"""The ingest pipeline: records → checks → SHACL → identity → one atomic commit per batch.

Each batch becomes a single :class:`~hub.store.transaction.Transaction`: the graphs of the valid
records, their provenance, one change-log entry per real change, the quarantine entries of the
invalid ones and the source cursor. Identical records are recognised by their content hash and
log nothing, which makes every import idempotent and every restart after a crash safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from itertools import islice
from typing import NamedTuple

import pyoxigraph as ox

from hub.config import Licence
from hub.meta.changelog import Change, append_change, last_sequence
from hub.meta.cursors import write_cursor
from hub.meta.provenance import provenance_statements, record_entity, stored_records, unchanged_provenance
from hub.meta.public import companion_graph, split_contacts
from hub.meta.quarantine import quarantine_record, quarantined, release
from hub.pipeline.before import read_before, read_placings
from hub.pipeline.ingest_result import IngestResult as IngestResult
from hub.pipeline.neighbours import neighbour_types
from hub.pipeline.place import Placer
from hub.pipeline.validate import Report, Validator, Violation
from hub.records import Cursor, MetaUpdate, Record, now
from hub.store.base import Store
from hub.store.transaction import Transaction
from hub.vocab import MLG


class _Flight(NamedTuple):
    """A batch of a file run whose commit is under way on the writer thread."""

    commit: Future[None]
    result: IngestResult
    following: int  # the sequence after its change-log entries
    graphs: set[str]


class Ingestor:
    """Commits records into a store. One per writer process: sequences are allocated here."""

    def __init__(
        self,
        store: Store,
        base_iri: str,
        validator: Validator | None = None,
        batch_size: int = 200,
        licences: Callable[[str], Licence] | None = None,
        contact_sources: frozenset[str] = frozenset(),
        placer: Placer | None = None,
    ) -> None:
        """``licences`` (``Config.licence_of``) gives each source's licence for its records'
        provenance; without it (tests, tools) provenance names none. ``placer`` places records
        in their commune (:mod:`hub.pipeline.place`); by default one on the bundled reference."""
        self.placer = placer or Placer(base_iri)
        self.store = store
        self.licences = licences
        self.contact_sources = contact_sources  # sources that publish persons' contact data
        self.base = base_iri
        self.validator = validator or Validator()
        self.batch_size = batch_size
        self._lock = threading.Lock()
        self._next_sequence: int | None = None

    @property
    def next_sequence(self) -> int | None:
        """The sequence of this ingestor's next change-log entry (None before its first commit).
        One writer per store: when it has not moved, no record was created or changed."""
        return self._next_sequence

    def ingest(
        self,
        records: Iterable[Record],
        cursor_key: str | None = None,
        cursor_value: Callable[[int], str] = str,
        on_batch: Callable[[IngestResult], None] | None = None,
        known_types: Mapping[str, list[ox.NamedNode]] | None = None,
    ) -> IngestResult:
        """Ingest records in batches; after each batch the cursor becomes ``cursor_value(n)``,
        n being the number of records consumed so far.

        ``known_types`` gives the classes of nodes that arrive in the same run (a whole file, a
        whole harvest), so a link to a record of a later batch is not refused for want of a type.
        """
        if known_types is not None and self.store.bulk_appends:
            return self._ingest_run(records, cursor_key, cursor_value, on_batch, known_types)
        total = IngestResult()
        consumed = 0
        for batch in _batches(records, self.batch_size):
            consumed += len(batch)
            cursor = (cursor_key, cursor_value(consumed)) if cursor_key else None
            result = self.ingest_batch(batch, cursor, known_types=known_types)
            total.add(result)
            if on_batch is not None:
                on_batch(result)
        if cursor_key and consumed:
            with self._lock:
                self._settle_cursor(cursor_key, cursor_value(consumed))
        return total

    def _settle_cursor(self, key: str, value: str) -> None:
        """Batches that appended left versions of the cursor: one in place now."""
        tx = Transaction()
        write_cursor(tx, self.base, key, value, settle=True)
        self.store.commit(tx)

    def _ingest_run(
        self,
        records: Iterable[Record],
        cursor_key: str | None,
        cursor_value: Callable[[int], str],
        on_batch: Callable[[IngestResult], None] | None,
        known_types: Mapping[str, list[ox.NamedNode]],
    ) -> IngestResult:
        """:meth:`ingest` of a whole run (a file) into the embedded store: batch n+1 is planned
        and validated while batch n is written on a second thread (the store leaves Python's
        lock while it writes), which hides most of the planning (bench/run.py, figure 2).

        Planning ahead reads what the store holds of the batch's own records (graphs, quarantine,
        placing), which the batch in flight cannot change when the two hold different graphs
        (checked; else it waits), and the types of what the records link to, which the run
        gives (``known_types``). Commits stay in order, one at a time, and a batch is reported
        (``on_batch``) once its commit has landed."""
        total = IngestResult()
        consumed = 0
        flight: _Flight | None = None

        def land() -> None:
            nonlocal flight
            if flight is not None:
                landing, flight = flight, None
                landing.commit.result()  # its failure ends the run: nothing after it was written
                self._next_sequence = landing.following
                total.add(landing.result)
                if on_batch is not None:
                    on_batch(landing.result)

        with self._lock, ThreadPoolExecutor(1, thread_name_prefix="maillage-commit") as writer:
            try:
                for batch in _batches(records, self.batch_size):
                    consumed += len(batch)
                    planned = _latest_per_graph(batch, self.base)
                    if flight is not None and not flight.graphs.isdisjoint(planned):
                        land()
                    tx, result = Transaction(), IngestResult()
                    first = flight.following if flight is not None else self._first_sequence()
                    following = self._plan(planned, tx, result, known_types, first)
                    if cursor_key:
                        write_cursor(tx, self.base, cursor_key, cursor_value(consumed))
                    land()
                    flight = _Flight(writer.submit(self.store.commit, tx), result, following, set(planned))
                land()
            except BaseException:
                if flight is not None:
                    flight.commit.exception()  # waits for the batch in flight, whatever it did
                self._next_sequence = None  # read again from the log's mark: no gap, no reuse
                raise
            if cursor_key and consumed:
                self._settle_cursor(cursor_key, cursor_value(consumed))
        return total

    def ingest_batch(
        self,
        records: list[Record],
        cursor: Cursor | None = None,
        state: Iterable[MetaUpdate] = (),
        *,
        known_types: Mapping[str, list[ox.NamedNode]] | None = None,
    ) -> IngestResult:
        """Commit one batch; ``state`` (sync state, conflicts) commits in the same transaction.
        ``known_types``: classes of nodes the same run delivers (see :meth:`ingest`); an argument,
        not state of the ingestor, which serves the API and every source's sync at once."""
        with self._lock:
            tx = Transaction()
            result = IngestResult()
            sequence = self._plan(
                _latest_per_graph(records, self.base), tx, result, known_types or {},
                self._first_sequence(),
            )
            if cursor is not None:
                write_cursor(tx, self.base, *cursor)
            tx.put_meta(state)
            if not tx.empty:
                self.store.commit(tx)
            self._next_sequence = sequence
            return result

    def _first_sequence(self) -> int:
        """The next free sequence (read from the change log's mark the first time)."""
        if self._next_sequence is None:
            self._next_sequence = last_sequence(self.store) + 1
        return self._next_sequence

    def _plan(
        self,
        records: dict[str, Record],
        tx: Transaction,
        result: IngestResult,
        known_types: Mapping[str, list[ox.NamedNode]],
        sequence: int,
    ) -> int:
        """Fill ``tx`` for the batch, its change-log entries numbered from ``sequence``; returns
        the next free sequence number."""
        stored = stored_records(self.store, records, {
            g: expected for g, r in records.items()
            if (expected := unchanged_provenance(r, self._licence(r))) is not None
        })
        waiting = quarantined(self.store, self.base, records.values())

        def waits_not(record: Record) -> bool:  # then its quarantine entry is only added
            return (record.source, record.source_id) not in waiting

        def release_if_waiting(record: Record) -> None:  # a DELETE per record costs; ask once
            if not waits_not(record):
                release(tx, self.base, record)

        gone: list[tuple[str, Record]] = []  # deletions: their placing goes once recalled
        to_validate: dict[str, Record] = {}
        for graph, record in records.items():
            same = graph in stored and stored[graph].content_hash == record.content_hash
            problem = record.problem(stored_as_is=same)
            if problem is not None:
                quarantine_record(tx, self.base, record, problem, "", new=waits_not(record))
                result.quarantined += 1
            elif record.deleted:
                release_if_waiting(record)
                if graph in stored:
                    tx.drop_graph(graph)
                    tx.drop_graph(companion_graph(graph))
                    gone.append((graph, record))
                    tx.clear_meta(graph)
                    sequence = self._log(tx, result, sequence, record, graph, "delete", None)
                    result.deleted += 1
                else:
                    result.unchanged += 1
            elif graph in stored and stored[graph].content_hash == record.content_hash:
                release_if_waiting(record)
                result.unchanged += 1
                licence = self._licence(record)
                if (record.source_url and stored[graph].source_url != record.source_url) or (
                    licence is not None
                    and (stored[graph].license, stored[graph].attribution)
                    != (licence.iri, licence.attribution)
                ):
                    # same content at a new address (a renamed page) or under a licence the
                    # operator corrected: provenance follows, no change is logged
                    entity = record.entity()
                    tx.set_meta(
                        graph, provenance_statements(record, entity.value if entity else None, licence)
                    )
            else:
                to_validate[graph] = record
        reports = self._validate(list(to_validate.values()), known_types)
        updates = [(g, r) for g, r in to_validate.items() if g in stored]
        before = read_before(self.store, updates)  # what they replace: only the difference is written
        placing = self.placer.recall(self.store, [  # choices and candidates: one query, if any
            *(r for _, r in gone), *(r for g, r in updates if g not in before.placed),
            *(r for g, r in to_validate.items() if g not in stored and self.placer.wanted(r)),
        ])
        read_placings(self.store, self.base, before, updates, placing)
        for graph, record in gone:
            self.placer.forget(tx, record, graph, placing)
        for (graph, record), report in zip(to_validate.items(), reports, strict=True):
            if not report.conforms:
                quarantine_record(
                    tx, self.base, record, report.summary(), report.turtle(), new=waits_not(record)
                )
                result.quarantined += 1
                result.reports[graph] = report
                continue
            entity = record.entity()
            entity_iri = entity.value if entity is not None else None
            operation = "update" if graph in stored else "create"
            public, private = split_contacts(record.triples, record.source in self.contact_sources)
            if operation == "update":
                tx.revise_graph(graph, public, before.graphs.get(graph))
                tx.revise_graph(companion_graph(graph), private, before.graphs.get(companion_graph(graph)))
                statements = provenance_statements(record, entity_iri, self._licence(record))
                tx.revise_meta(graph, statements, before.statements.get(graph))
            else:  # nothing to delete first: a plain insert, much cheaper than DROP + DELETE WHERE
                tx.add_graph(graph, public)
                tx.add_graph(companion_graph(graph), private)
                tx.add_meta(graph, provenance_statements(record, entity_iri, self._licence(record)))
            warnings = self.placer.write(
                tx, record, graph, placing, existed=operation == "update", held=before
            ) if graph not in before.placed else []  # placed as stored: it said its warnings then
            report.violations.extend(
                Violation(entity_iri or graph, MLG + "territory", None, "Warning", {"en": w})
                for w in warnings
            )
            if report.violations:  # warnings only (the shapes' and placing's): stored, reported
                result.reports[graph] = report
            release_if_waiting(record)
            sequence = self._log(
                tx, result, sequence, record, graph, operation, entity_iri, state=public
            )
            if operation == "create":
                result.created += 1
            else:
                result.updated += 1
        return sequence

    def _licence(self, record: Record) -> Licence | None:
        configured = self.licences(record.source) if self.licences is not None else None
        if record.license is None:
            return configured
        return Licence(record.license, configured.attribution if configured is not None else record.source)

    def _log(
        self,
        tx: Transaction,
        result: IngestResult,
        sequence: int,
        record: Record,
        graph: str,
        operation: str,
        entity: str | None,
        state: list[ox.Triple] | None = None,
    ) -> int:
        """Log one change; ``state`` is what the record graph holds after it (the public part of
        the record: persons' contact data never reaches the change log)."""
        if entity is None and operation == "delete":
            entity = record_entity(self.store, graph)
        change = Change(
            sequence, now(), entity, graph, operation, record.source, record.written_by,
            source_id=record.source_id, origin=record.origin,
        )
        append_change(tx, self.base, change, None if operation == "delete" else state)
        result.changes.append(change)
        return sequence + 1

    def touch(
        self, targets: Iterable[tuple[str, str]], source: str, state: Iterable[MetaUpdate] = ()
    ) -> list[Change]:
        """Log an "update" of each (entity, graph) whose data did not change here (a conflict
        resolved, a match rejected), so that outbound connectors consider them again; ``state``
        commits with them, in one transaction."""
        with self._lock:
            sequence = self._first_sequence()
            tx = Transaction()
            changes = []
            for entity, graph in targets:
                changes.append(Change(sequence, now(), entity, graph, "update", source))
                append_change(tx, self.base, changes[-1])
                sequence += 1
            tx.put_meta(state)
            self.store.commit(tx)
            self._next_sequence = sequence
            return changes

    def commit_planned(self, plan: Callable[[Transaction, int], int]) -> None:
        """Commit the one transaction ``plan`` fills, under the lock that numbers the change log:
        ``plan`` gets the next free sequence and returns the one after its own entries (an
        erasure, :mod:`hub.pipeline.forget`, logs its tombstones this way)."""
        with self._lock:
            tx = Transaction()
            following = plan(tx, self._first_sequence())
            if not tx.empty:
                self.store.commit(tx)
            self._next_sequence = following

    def check(self, records: list[Record]) -> list[Report]:
        """Validate without committing: a report per record (deletions always conform)."""
        reports = [Report() for _ in records]
        live = [(i, r) for i, r in enumerate(records) if not r.deleted]
        for (index, record), report in zip(
            live, self._validate([r for _, r in live]), strict=True
        ):
            problem = record.problem()
            reports[index] = report
            if problem is not None:
                report.violations.append(
                    Violation(record.source_id, None, None, "Violation", {"en": problem})
                )
        return reports

    def _validate(
        self, records: list[Record], known_types: Mapping[str, list[ox.NamedNode]] | None = None
    ) -> list[Report]:
        if not records:
            return []
        return self.validator.validate(records, self._neighbour_types(records, known_types or {}))

    def _neighbour_types(
        self, records: list[Record], known_types: Mapping[str, list[ox.NamedNode]]
    ) -> list[ox.Triple]:
        return neighbour_types(self.store, records, known_types)


def _latest_per_graph(records: list[Record], base: str) -> dict[str, Record]:
    """Key records by graph; when a batch holds a record twice, the later one wins."""
    return {r.graph_iri(base): r for r in records}


def _batches(records: Iterable[Record], size: int) -> Iterator[list[Record]]:
    iterator = iter(records)
    while batch := list(islice(iterator, size)):
        yield batch

"""The ingest pipeline: records → checks → SHACL → identity → one atomic commit per batch.

Each batch becomes a single :class:`~hub.store.transaction.Transaction`: the graphs of the valid
records, their provenance, one change-log entry per real change, the quarantine entries of the
invalid ones and the source cursor. Identical records are recognised by their content hash and
log nothing, which makes every import idempotent and every restart after a crash safe.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from concurrent.futures import ThreadPoolExecutor
from functools import partial
from itertools import islice

import pyoxigraph as ox

from hub.config import Licence
from hub.meta.changelog import Change, append_change, last_sequence
from hub.meta.cursors import write_cursor
from hub.meta.provenance import provenance_statements, record_entity, stored_records
from hub.meta.public import companion_graph, split_contacts
from hub.meta.quarantine import quarantine_record, quarantined, release
from hub.pipeline.ingest_result import IngestResult as IngestResult
from hub.pipeline.neighbours import neighbour_types
from hub.pipeline.place import Placer
from hub.pipeline.validate import Report, Validator, Violation
from hub.records import Cursor, MetaUpdate, Record, now
from hub.store.base import Store
from hub.store.transaction import Transaction
from hub.vocab import MLG

Checked = dict[int, tuple[Record, Report]]
"""Reports made ahead of a batch's turn, by the ``id`` of each record (checked to be the same)."""


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
        total = IngestResult()
        consumed = 0
        batches = _batches(records, self.batch_size)
        batch = next(batches, None)
        checked: Checked = {}
        while batch is not None:
            # a whole run (a file: ``known_types``) is read ahead by one batch, validated while
            # this one commits
            following = next(batches, None) if known_types is not None else None
            consumed += len(batch)
            cursor = (cursor_key, cursor_value(consumed)) if cursor_key else None
            ahead: Checked = {}
            result = self.ingest_batch(
                batch, cursor, known_types=known_types, checked=checked,
                meanwhile=None if following is None else partial(
                    self._check_ahead, following, known_types or {}, ahead
                ),
            )
            total.add(result)
            if on_batch is not None:
                on_batch(result)
            batch = following if known_types is not None else next(batches, None)
            checked = ahead
        if cursor_key and consumed:  # batches that appended left versions: one in place now
            with self._lock:
                tx = Transaction()
                write_cursor(tx, self.base, cursor_key, cursor_value(consumed), settle=True)
                self.store.commit(tx)
        return total

    def ingest_batch(
        self,
        records: list[Record],
        cursor: Cursor | None = None,
        state: Iterable[MetaUpdate] = (),
        *,
        known_types: Mapping[str, list[ox.NamedNode]] | None = None,
        checked: Checked | None = None,
        meanwhile: Callable[[], None] | None = None,
    ) -> IngestResult:
        """Commit one batch; ``state`` (sync state, conflicts) commits in the same transaction.
        ``known_types``: classes of nodes the same run delivers (see :meth:`ingest`); an argument,
        not state of the ingestor, which serves the API and every source's sync at once.
        ``checked``: reports made ahead for some of these records (:meth:`_check_ahead`);
        ``meanwhile``: work to do while the store writes the batch, if it writes it in bulk."""
        with self._lock:
            if self._next_sequence is None:
                self._next_sequence = last_sequence(self.store) + 1
            tx = Transaction()
            result = IngestResult()
            sequence = self._plan(
                _latest_per_graph(records, self.base), tx, result, known_types or {}, checked or {}
            )
            if cursor is not None:
                write_cursor(tx, self.base, *cursor)
            for subject, statements in state:
                if statements:
                    tx.set_meta(subject, statements)
                else:
                    tx.clear_meta(subject)
            if not tx.empty:
                self._commit(tx, meanwhile)
            self._next_sequence = sequence
            return result

    def _commit(self, tx: Transaction, meanwhile: Callable[[], None] | None) -> None:
        """Commit ``tx``; a batch of new records that the store appends in bulk is written on a
        second thread while ``meanwhile`` runs here: the store leaves Python's lock while it
        writes, so the next batch's validation costs no time of its own (bench/run.py, figure 2).
        Otherwise ``meanwhile`` is skipped: a batch that changes records is most likely followed
        by one that changes few, and checking all of it ahead would cost more than it saves."""
        if meanwhile is None or not (self.store.bulk_appends and tx.appends_only):
            self.store.commit(tx)
            return
        with ThreadPoolExecutor(1, thread_name_prefix="maillage-commit") as writer:
            committed = writer.submit(self.store.commit, tx)
            try:
                meanwhile()
            finally:
                committed.result()

    def _check_ahead(
        self, records: list[Record], known_types: Mapping[str, list[ox.NamedNode]], into: Checked
    ) -> None:
        """Validate a coming batch before its turn: its reports stand as long as the batch's
        neighbours are the run's own records (``known_types``) or were stored before the run,
        which is what a whole-file run gives."""
        live = [r for r in _latest_per_graph(records, self.base).values() if not r.deleted]
        into.update(
            (id(r), (r, report)) for r, report in zip(live, self._validate(live, known_types), strict=True)
        )

    def _plan(
        self,
        records: dict[str, Record],
        tx: Transaction,
        result: IngestResult,
        known_types: Mapping[str, list[ox.NamedNode]],
        checked: Checked,
    ) -> int:
        """Fill ``tx`` for the batch; returns the next free sequence number."""
        sequence = self._next_sequence or 1
        stored = stored_records(self.store, records)
        waiting = quarantined(self.store, self.base, records.values())

        def release_if_waiting(record: Record) -> None:  # a DELETE per record costs; ask once
            if (record.source, record.source_id) in waiting:
                release(tx, self.base, record)

        def waits_not(record: Record) -> bool:  # then its entry is only added
            return (record.source, record.source_id) not in waiting

        placing = self.placer.recall(self.store, [  # choices and candidates: one query, if any
            r for g, r in records.items()
            if (g in stored and stored[g].content_hash != r.content_hash)
            or (g not in stored and self.placer.wanted(r))
        ])
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
                    self.placer.forget(tx, record, graph, placing)
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
        reports = self._reports(list(to_validate.values()), known_types, checked)
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
                tx.replace_graph(graph, public)
                tx.replace_graph(companion_graph(graph), private)
                tx.set_meta(graph, provenance_statements(record, entity_iri, self._licence(record)))
            else:  # nothing to delete first: a plain insert, much cheaper than DROP + DELETE WHERE
                tx.add_graph(graph, public)
                tx.add_graph(companion_graph(graph), private)
                tx.add_meta(graph, provenance_statements(record, entity_iri, self._licence(record)))
            warnings = self.placer.write(tx, record, graph, placing, existed=operation == "update")
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

    def _reports(
        self, records: list[Record], known_types: Mapping[str, list[ox.NamedNode]], checked: Checked
    ) -> list[Report]:
        """A report per record: the one made ahead, else validated now."""
        def ahead(record: Record) -> Report | None:
            found = checked.get(id(record))
            return found[1] if found is not None and found[0] is record else None

        fresh = iter(self._validate([r for r in records if ahead(r) is None], known_types))
        return [ahead(r) or next(fresh) for r in records]

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
            if self._next_sequence is None:
                self._next_sequence = last_sequence(self.store) + 1
            tx = Transaction()
            changes = []
            for entity, graph in targets:
                changes.append(Change(self._next_sequence, now(), entity, graph, "update", source))
                append_change(tx, self.base, changes[-1])
                self._next_sequence += 1
            for subject, statements in state:
                if statements:
                    tx.set_meta(subject, statements)
                else:
                    tx.clear_meta(subject)
            self.store.commit(tx)
            return changes

    def commit_planned(self, plan: Callable[[Transaction, int], int]) -> None:
        """Commit the one transaction ``plan`` fills, under the lock that numbers the change log:
        ``plan`` gets the next free sequence and returns the one after its own entries (an
        erasure, :mod:`hub.pipeline.forget`, logs its tombstones this way)."""
        with self._lock:
            if self._next_sequence is None:
                self._next_sequence = last_sequence(self.store) + 1
            tx = Transaction()
            following = plan(tx, self._next_sequence)
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

"""The ingest pipeline on both backends: what a user sees in the store after an import."""

from __future__ import annotations

import pyoxigraph as ox
import pytest

from hub.iris import graph_iri
from hub.meta.changelog import last_sequence, read_changes
from hub.meta.quarantine import list_quarantine, quarantined_records
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.pipeline.validate import Validator
from hub.records import Record
from hub.store import Store
from hub.vocab import META_GRAPH, MLG
from tests.conftest import BASE, RecordFactory, iri, lit, mlg


def names(store: Store) -> dict[str, str]:
    rows = store.select(f"SELECT ?s ?n WHERE {{ GRAPH ?g {{ ?s <{MLG}name> ?n }} }}")
    return {r["s"].value: r["n"].value for r in rows}


def test_new_records_are_stored_with_provenance_and_logged(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    result = ingestor.ingest([place_record("a", "La Raffinerie", revision="r1"), place_record("b")])
    assert (result.created, result.quarantined) == (2, 0)
    assert names(store)[iri("a").value] == "La Raffinerie"
    graph = graph_iri(BASE, "test", "a")
    rows = store.select(
        f"SELECT ?src ?rev ?h ?e WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> <{MLG}source> ?src ;"
        f" <{MLG}revision> ?rev ; <{MLG}contentHash> ?h ; <{MLG}entity> ?e }} }}"
    )
    assert [(r["src"].value, r["rev"].value, r["e"].value) for r in rows] == [
        ("test", "r1", iri("a").value)
    ]
    changes = read_changes(store)
    assert [(c.sequence, c.operation, c.entity) for c in changes] == [
        (1, "create", iri("a").value),
        (2, "create", iri("b").value),
    ]


def test_reimporting_identical_data_logs_nothing(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    ingestor.ingest([place_record("a"), place_record("b")])
    again = Ingestor(store, BASE, ingestor.validator).ingest([place_record("b"), place_record("a")])
    assert (again.created, again.updated, again.unchanged) == (0, 0, 2)
    assert last_sequence(store) == 2


def test_a_changed_record_replaces_its_graph_and_keeps_the_entity(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    ingestor.ingest([place_record("a", "Ancien nom", postalCode=lit("75011", None))])
    result = ingestor.ingest([place_record("a", "Nouveau nom")])
    assert result.updated == 1
    assert names(store) == {iri("a").value: "Nouveau nom"}
    assert not store.ask(f"ASK {{ ?s <{MLG}postalCode> ?c }}")
    assert [c.operation for c in read_changes(store)] == ["create", "update"]


def test_sequences_continue_across_ingestors(
    store: Store, validator: object, place_record: RecordFactory
) -> None:
    Ingestor(store, BASE, validator).ingest([place_record("a")])  # type: ignore[arg-type]
    Ingestor(store, BASE, validator).ingest([place_record("b")])  # type: ignore[arg-type]
    assert [c.sequence for c in read_changes(store)] == [1, 2]


def test_invalid_record_is_quarantined_with_report_and_old_version_kept(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    ingestor.ingest([place_record("a", "Valide")])
    bad = place_record("a", None, latitude=ox.Literal("123", datatype=ox.NamedNode(
        "http://www.w3.org/2001/XMLSchema#decimal")))
    result = ingestor.ingest([bad])
    assert result.quarantined == 1
    assert names(store) == {iri("a").value: "Valide"}, "the last valid version must stay"
    [entry] = list_quarantine(store)
    assert entry.source_id == "a"
    assert "name" in entry.reason and "latitude" in entry.reason
    assert "sh:ValidationResult" in entry.report or "ValidationResult" in entry.report
    assert last_sequence(store) == 1, "a refused record is not a change"


def test_retry_accepts_a_quarantined_record_once_it_is_fixed(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    # memberOf must point at an actor: the organisation arrives later, in another batch.
    place = place_record("p", "Lieu")
    org_link = Record(
        source="test",
        source_id="o",
        triples=(
            ox.Triple(iri("o"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      mlg("Organization")),
            ox.Triple(iri("o"), mlg("name"), lit("Asso")),
            ox.Triple(iri("o"), mlg("memberOf"), iri("network")),
        ),
    )
    assert ingestor.ingest([place, org_link]).quarantined == 1
    network = Record(
        source="test",
        source_id="network",
        triples=(
            ox.Triple(iri("network"), ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type"),
                      mlg("Organization")),
            ox.Triple(iri("network"), mlg("name"), lit("Réseau")),
        ),
    )
    ingestor.ingest([network])
    retried = ingestor.ingest(quarantined_records(store))
    assert retried.created == 1
    assert list_quarantine(store) == []
    assert iri("o").value in names(store)


def test_a_valid_new_version_releases_the_quarantine(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    ingestor.ingest([place_record("a", None)])
    assert len(list_quarantine(store)) == 1
    ingestor.ingest([place_record("a", "Corrigé")])
    assert list_quarantine(store) == []
    # a quarantine larger than the batch is asked record by record (the store's index)
    ingestor.ingest([place_record(key, None) for key in ("b", "c", "d")])
    ingestor.ingest([place_record("c", "Corrigé")])
    assert {e.source_id for e in list_quarantine(store)} == {"b", "d"}


def test_deletion_drops_the_graph_and_is_logged(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    ingestor.ingest([place_record("a"), place_record("b")])
    result = ingestor.ingest([place_record("a", deleted=True)])
    assert result.deleted == 1
    assert set(names(store)) == {iri("b").value}
    last = read_changes(store)[-1]
    assert (last.operation, last.entity) == ("delete", iri("a").value)
    assert ingestor.ingest([place_record("a", deleted=True)]).deleted == 0


def test_oversized_literal_is_quarantined_not_stored(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    huge = place_record("big", "Gros", description=lit("x" * 1_100_000))
    result = ingestor.ingest([huge, place_record("small")])
    assert (result.created, result.quarantined) == (1, 1)
    [entry] = list_quarantine(store)
    assert "1 MB" in entry.reason


def test_record_without_hub_class_is_quarantined_with_a_reason(
    store: Store, ingestor: Ingestor
) -> None:
    record = Record(source="test", source_id="x", triples=(
        ox.Triple(iri("x"), ox.NamedNode("http://xmlns.com/foaf/0.1/name"), lit("X")),))
    assert ingestor.ingest([record]).quarantined == 1
    assert "hub class" in list_quarantine(store)[0].reason


def test_cursor_commits_with_the_batch(store: Store, ingestor: Ingestor,
                                       place_record: RecordFactory) -> None:
    from hub.meta.cursors import read_cursor

    ingestor.ingest([place_record(str(i)) for i in range(120)], cursor_key="src",
                    cursor_value=lambda n: f"page-{n}")
    assert read_cursor(store, BASE, "src") == "page-120"
    assert last_sequence(store) == 120


def test_links_to_records_of_a_later_batch_in_the_same_run_are_accepted(
    store: Store, ingestor: Ingestor
) -> None:
    from hub.pipeline.neighbours import types_of

    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")
    members = [
        Record(source="test", source_id=f"m{i}", triples=(
            ox.Triple(iri(f"m{i}"), rdf_type, mlg("Organization")),
            ox.Triple(iri(f"m{i}"), mlg("name"), lit(f"Membre {i}")),
            ox.Triple(iri(f"m{i}"), mlg("memberOf"), iri("network")),
        ))
        for i in range(60)
    ]
    network = Record(source="test", source_id="network", triples=(
        ox.Triple(iri("network"), rdf_type, mlg("Organization")),
        ox.Triple(iri("network"), mlg("name"), lit("Réseau")),
    ))
    records = [*members, network]  # the network comes in the second batch of 50
    result = ingestor.ingest(records, known_types=types_of(records))
    assert (result.created, result.quarantined) == (61, 0)


@pytest.mark.parametrize("source_id", [
    "Page:Tiers-lieu/Le Bon Coin?x=1&y=2#top", "a b%2Fc~d_e.f", "Montréal 🙂", "", "\x00\x7f",
])
def test_graph_iris_encode_ids_reversibly(source_id: str) -> None:
    """The fast encoding of ids (one table for ASCII) is percent-encoding: an id comes back."""
    from urllib.parse import quote, unquote

    from hub.iris import component

    assert component(source_id) == quote(source_id, safe="")
    assert unquote(graph_iri(BASE, "wiki", source_id).rsplit("/", 1)[-1]) == source_id



def test_a_file_run_planned_ahead_while_batches_commit_gives_what_a_run_batch_by_batch_gives(
    tmp_path: object, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A whole-file run plans and validates batch n+1 while batch n is written on another
    thread: every record must still get its own verdict, a link to a record of another batch is
    accepted, a record found again in the next batch waits for the first to land, and the store,
    log and quarantine are those of a run batch by batch. A commit that fails ends the run with
    the log numbered on, without a gap or a number used twice."""
    import threading
    from pathlib import Path

    from hub.pipeline.neighbours import types_of
    from hub.store import oxigraph as oxigraph_store
    from hub.store.oxigraph import OxigraphStore

    monkeypatch.setattr(oxigraph_store, "BULK_MIN_STATEMENTS", 10)  # each batch of 40 in bulk
    rdf_type = ox.NamedNode("http://www.w3.org/1999/02/22-rdf-syntax-ns#type")

    def organisation(i: int, name: str = "Organisation") -> Record:
        key = f"o{i}"
        triples = [ox.Triple(iri(key), rdf_type, mlg("Organization"))]
        if i % 17 != 5:  # a few have no name: the shapes refuse them
            triples.append(ox.Triple(iri(key), mlg("name"), lit(f"{name} {i}")))
        triples.append(ox.Triple(iri(key), mlg("memberOf"), iri(f"o{(i + 53) % 160}")))
        return Record(source="test", source_id=key, triples=tuple(triples))

    # o41 comes again, renamed, in the third batch: its first version is in flight then
    records = [organisation(i) for i in range(160)]
    records.insert(85, organisation(41, "Renommée"))
    refused = {f"o{i}" for i in range(160) if i % 17 == 5}
    views = {}
    for name in ("ahead", "one by one"):
        store = OxigraphStore(Path(str(tmp_path)) / name)
        threads: list[str] = []
        commit = store.commit
        monkeypatch.setattr(store, "commit", lambda tx, commit=commit, threads=threads: (
            threads.append(threading.current_thread().name), commit(tx))[1])
        ingestor = Ingestor(store, BASE, batch_size=40)
        if name == "ahead":
            result = ingestor.ingest(records, known_types=types_of(records))
            assert all(t.startswith("maillage-commit") for t in threads[:5]), threads
        else:
            result = IngestResult()
            for start in range(0, len(records), 40):
                result.add(ingestor.ingest_batch(records[start:start + 40], known_types=types_of(records)))
        assert (result.created, result.updated, result.quarantined) == (160 - len(refused), 1, len(refused))
        assert {e.source_id for e in list_quarantine(store)} == refused
        assert all("name" in result.reports[graph_iri(BASE, "test", k)].summary() for k in refused)
        assert names(store)[iri("o41").value] == "Renommée 41"
        log = [(c.sequence, c.entity, c.operation) for c in read_changes(store, limit=500)]
        views[name] = (sorted(names(store).items()), log)
        store.close()
    assert views["ahead"] == views["one by one"]

    store = OxigraphStore(Path(str(tmp_path)) / "failing")
    commit, calls = store.commit, []

    def failing(tx: object) -> None:
        calls.append(1)
        if len(calls) == 3:
            raise oxigraph_store.StoreError("the disk is full")
        commit(tx)  # type: ignore[arg-type]

    monkeypatch.setattr(store, "commit", failing)
    ingestor = Ingestor(store, BASE, batch_size=40)
    with pytest.raises(oxigraph_store.StoreError):
        ingestor.ingest(records, known_types=types_of(records))
    assert ingestor.ingest([organisation(437)]).created == 1  # a member of o10, of batch 1
    sequences = [c.sequence for c in read_changes(store, limit=500)]
    landed = sum(1 for r in records[:80] if r.source_id not in refused)  # batches 1 and 2
    assert sequences == list(range(1, landed + 2))
    store.close()


def test_batches_of_new_records_append_their_bookkeeping_and_settle_it_now_and_then(
    tmp_path: object, place_record: RecordFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A sync's batches of new records are appended in one transaction each, their cursor and
    the log's mark as new versions; every ``SETTLE_EVERY``-th commit goes through SPARQL and
    writes them in place, so versions never pile up and readers see the newest."""
    from pathlib import Path

    from hub.meta.cursors import read_cursor
    from hub.store import oxigraph as oxigraph_store
    from hub.store.oxigraph import OxigraphStore
    from hub.store.transaction import VERSION_OF

    monkeypatch.setattr(oxigraph_store, "SETTLE_EVERY", 5)
    store = OxigraphStore(Path(str(tmp_path)) / "store")
    ingestor = Ingestor(store, BASE)
    most = 0
    for n in range(1, 24):
        result = ingestor.ingest_batch([place_record(f"p{n}-{i}") for i in range(3)], ("src", f"page-{n}"))
        assert result.created == 3
        assert read_cursor(store, BASE, "src") == f"page-{n}"
        versions = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{META_GRAPH}> {{ ?v <{VERSION_OF}> ?s }} }}")
        most = max(most, int(versions[0]["n"].value))
    assert 0 < most <= 3 * 5  # cursor, log mark, commit counter: at most 5 versions each
    assert last_sequence(store) == 23 * 3
    store.close()
    with OxigraphStore(Path(str(tmp_path)) / "store") as again:  # read back after a restart
        assert read_cursor(again, BASE, "src") == "page-23" and last_sequence(again) == 69


def test_a_new_sources_record_naming_a_stored_graph_replaces_it(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    """A record of a source seen for the first time that names its graph (the Graph Store,
    SPARQL Update) may land on a graph another source wrote: it is an update that replaces it,
    not a second copy."""
    from dataclasses import replace

    first = place_record("shared", "Le Lieu")
    assert ingestor.ingest([first]).created == 1
    graph = graph_iri(BASE, "test", "shared")
    written = replace(place_record("shared", "Le Lieu renommé"), source="gsp", graph=graph)
    result = ingestor.ingest([written])
    assert (result.created, result.updated) == (0, 1)
    assert names(store)[iri("shared").value] == "Le Lieu renommé"
    rows = store.select(f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{graph}> {{ ?s <{MLG}name> ?o }} }}")
    assert int(rows[0]["n"].value) == 1


def test_an_update_leaves_only_the_new_versions_provenance(
    store: Store, ingestor: Ingestor, place_record: RecordFactory
) -> None:
    """An update writes only the provenance statements that changed: what the former version
    said and the new one does not (here its revision) must go, and nothing be there twice."""
    ingestor.ingest([place_record("a", "Ancien nom", revision="r1")])
    newer = place_record("a", "Nouveau nom")
    assert ingestor.ingest([newer]).updated == 1
    graph = graph_iri(BASE, "test", "a")
    rows = store.select(f"SELECT ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> ?p ?o }} }}")
    said: dict[str, list[str]] = {}
    for row in rows:
        said.setdefault(row["p"].value.rsplit("#", 1)[-1], []).append(row["o"].value)
    assert "revision" not in said
    assert said["contentHash"] == [newer.content_hash]
    assert len(said["retrievedAt"]) == 1 and len(said["generatedAtTime"]) == 1
    assert (said["source"], said["sourceId"], said["entity"]) == (["test"], ["a"], [iri("a").value])


def test_the_same_content_at_a_new_address_or_under_a_corrected_licence_updates_provenance(
    store: Store, validator: Validator, place_record: RecordFactory
) -> None:
    """A record read again unchanged is recognised from the store's index; its address (a
    renamed page) and its source's licence are looked at too, and provenance follows them
    without a change being logged."""
    from dataclasses import replace

    from hub.config import Licence

    def ingest(url: str, licence: Licence) -> IngestResult:
        hub = Ingestor(store, BASE, validator, licences=lambda _source: licence)
        return hub.ingest([replace(place_record("a"), source_url=url)])

    etalab = Licence("https://www.etalab.gouv.fr/licence-ouverte-open-licence", "Movilab")
    by_sa = Licence("https://creativecommons.org/licenses/by-sa/4.0/", "Movilab et al.")
    graph = graph_iri(BASE, "test", "a")

    def provenance() -> tuple[str, str, str]:
        row, = store.select(
            f"SELECT ?url ?lic ?by WHERE {{ GRAPH <{META_GRAPH}> {{ <{graph}> "
            f"<http://www.w3.org/ns/prov#hadPrimarySource> ?url ; <{MLG}license> ?lic ; "
            f"<http://creativecommons.org/ns#attributionName> ?by }} }}"
        )
        return row["url"].value, row["lic"].value, row["by"].value

    assert ingest("https://example.org/wiki/Ancien", etalab).created == 1
    assert ingest("https://example.org/wiki/Nouveau", etalab).unchanged == 1
    assert provenance() == ("https://example.org/wiki/Nouveau", etalab.iri, "Movilab")
    assert ingest("https://example.org/wiki/Nouveau", by_sa).unchanged == 1
    assert provenance() == ("https://example.org/wiki/Nouveau", by_sa.iri, "Movilab et al.")
    assert ingest("https://example.org/wiki/Nouveau", Licence(by_sa.iri, "Collectif")).unchanged == 1
    assert provenance() == ("https://example.org/wiki/Nouveau", by_sa.iri, "Collectif")
    assert last_sequence(store) == 1


def test_a_revision_writes_the_difference_and_a_cleared_subject_whole(store: Store) -> None:
    """A replacement that knows what its subject held removes what the new statements no
    longer say and adds what they newly say; if the same transaction also clears the subject
    (or drops the graph), every new statement is written: nothing is lost either way."""
    from hub.store.transaction import Transaction

    subject, graph = f"{BASE}revised", f"{BASE}graph/test/revised"
    first = Transaction()
    first.add_meta(subject, [(MLG + "a", '"1"'), (MLG + "b", '"2"')])
    first.add_graph(graph, [ox.Triple(iri("x"), mlg("name"), lit("old", None))])
    store.commit(first)
    held = {f"<{MLG}a> \"1\"", f"<{MLG}b> \"2\""}
    second = Transaction()
    second.revise_meta(subject, [(MLG + "a", '"1"'), (MLG + "c", '"3"')], held)
    second.revise_graph(graph, [ox.Triple(iri("x"), mlg("name"), lit("new", None))],
                        {f"{iri('x')} {mlg('name')} \"old\""})
    store.commit(second)
    third = Transaction()
    third.clear_meta(subject)
    third.revise_meta(subject, [(MLG + "d", '"4"'), (MLG + "a", '"1"')], {f"<{MLG}a> \"1\"", f"<{MLG}c> \"3\""})
    store.commit(third)

    def said(pattern: str) -> set[str]:
        return {r["o"].value for r in store.select(f"SELECT ?o WHERE {{ {pattern} }}")}

    assert said(f"GRAPH <{META_GRAPH}> {{ <{subject}> ?p ?o }}") == {"1", "4"}
    assert said(f"GRAPH <{graph}> {{ ?s ?p ?o }}") == {"new"}


def test_terms_the_store_cannot_keep_are_quarantined_with_the_first_reason_by_kind(
    ingestor: Ingestor, store: Store, place_record: RecordFactory
) -> None:
    """A literal over 1 MB, then a character XML cannot carry, then a provenance link that is
    not a web address: a record with several is quarantined for the first kind, whatever the
    order of its triples; a record with one of them for that one; nothing of them is stored."""
    from dataclasses import replace

    derived = ox.NamedNode("http://www.w3.org/ns/prov#wasDerivedFrom")

    def with_terms(local: str, *objects: tuple[str, ox.Literal | ox.NamedNode]) -> Record:
        base = place_record(local)
        extra = tuple(ox.Triple(iri(local), mlg(p) if p != "derived" else derived, o) for p, o in objects)
        return replace(base, triples=(*extra, *base.triples))

    huge, nul = ox.Literal("x" * 1_000_001), ox.Literal("a\x00b")
    link = ox.NamedNode("file:///etc/passwd")
    result = ingestor.ingest([
        with_terms("all", ("derived", link), ("shortDescription", nul), ("description", huge)),
        with_terms("char-and-link", ("derived", link), ("shortDescription", nul)),
        with_terms("link", ("derived", link)),
    ])
    assert result.quarantined == 3 and result.created == 0
    reasons = {e.source_id: e.reason for e in list_quarantine(store)}
    assert reasons["all"].startswith(f"literal of 1,000,001 bytes on <{MLG}description> is over the 1 MB limit")
    assert "holds the character U+0000" in reasons["char-and-link"]
    assert reasons["link"].startswith(f"<{derived.value}> must be an http(s) address, not 'file:///etc/passwd'")
    assert names(store) == {}

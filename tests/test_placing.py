"""Placing at ingest: records land in their commune from an INSEE code, a postal code or a name,
as a statement the hub derives beside the record graph, never in it; ambiguous names wait for a
person, whose choice sticks when the source sends the record again."""

from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import replace

import pyoxigraph as ox
import pytest

from hub.iris import graph_iri
from hub.meta.placements import PLACEMENT_PREFIX, known_placings, list_placements
from hub.pipeline.ingest import Ingestor
from hub.pipeline.place import Placer, placing_graph
from hub.pipeline.place_again import PlacingError, choice_plan, refresh_plans
from hub.records import Record
from hub.store import Store
from hub.store.oxigraph import OxigraphStore
from hub.store.transaction import Transaction
from hub.territories.index import iri as territory_iri
from hub.vocab import META_GRAPH, MLG, PROV, RDF_TYPE, XSD
from tests.conftest import BASE, iri, lit, mlg


@pytest.fixture
def memory() -> Store:
    return OxigraphStore(None)


@pytest.fixture
def hub(memory: Store) -> Ingestor:
    return Ingestor(memory, BASE, batch_size=50)


def record(local: str, revision: str = "1", **fields: str | list[str]) -> Record:
    subject = iri(local)
    triples = [
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), mlg("Place")),
        ox.Triple(subject, mlg("name"), lit(f"Lieu {local} {revision}")),
    ]
    for key, values in fields.items():
        for value in [values] if isinstance(values, str) else values:
            triples.append(ox.Triple(subject, mlg(key), ox.Literal(value)))
    return Record("test", local, tuple(triples), revision=revision)


def communes_of(store: Store, local: str) -> set[str]:
    rows = store.select(f"SELECT ?t WHERE {{ GRAPH ?g {{ {iri(local)} <{MLG}territory> ?t }} }}")
    return {r["t"].value.rsplit("-", 1)[-1] for r in rows}


def commune(code: str) -> str:
    return territory_iri(BASE, "commune", code)


def test_insee_code_places_exactly_outside_the_record_graph(memory: Store, hub: Ingestor) -> None:
    hub.ingest([record("a", inseeCode="69123")])
    assert communes_of(memory, "a") == {"69123"}
    graph = graph_iri(BASE, "test", "a")
    assert not any(t.predicate.value == MLG + "territory" for t in memory.graph_triples(graph))
    derived = placing_graph(BASE, graph)
    assert not derived.startswith("urn:maillage:")  # public, like the record
    # how it was made, said once on the graph; the graph's name says which record it comes from
    rows = memory.select(
        f"""SELECT ?m ?c ?from WHERE {{ GRAPH ?from {{ ?e <{MLG}name> ?n }}
            BIND(IRI(CONCAT("{BASE}placing/", ENCODE_FOR_URI(STR(?from)))) AS ?derived)
            GRAPH ?derived {{ ?derived <{MLG}placingMethod> ?m ; <{MLG}confidence> ?c }} }}"""
    )
    assert [(r["m"].value, float(r["c"].value), r["from"].value) for r in rows] == [
        ("insee", 1.0, graph)
    ]
    assert len(memory.graph_triples(derived)) == 3  # the link, its method, its confidence


def test_a_link_made_another_way_says_its_own_method(memory: Store, hub: Ingestor) -> None:
    hub.ingest([record("a", locality=["Villeurbanne", "Valence"])])
    [candidate] = list_placements(memory)
    memory.commit(choice_plan(memory, Placer(BASE), candidate.id, "26362")[1])
    derived = placing_graph(BASE, graph_iri(BASE, "test", "a"))
    # each link's method: its own node's (<derived#INSEE>) if it has one, else the graph's
    rows = memory.select(f"""SELECT ?t ?m ?c WHERE {{ GRAPH <{derived}> {{ ?e <{MLG}territory> ?t .
        BIND(IRI(CONCAT("{derived}#", STRAFTER(STR(?t), "commune-"))) AS ?own)
        OPTIONAL {{ ?own <{MLG}placingMethod> ?m1 ; <{MLG}confidence> ?c1 }}
        <{derived}> <{MLG}placingMethod> ?m0 ; <{MLG}confidence> ?c0 .
        BIND(COALESCE(?m1, ?m0) AS ?m) BIND(COALESCE(?c1, ?c0) AS ?c) }} }}""")
    assert {(r["t"].value.rsplit("-", 1)[-1], r["m"].value, float(r["c"].value)) for r in rows} == {
        ("69266", "name", 0.8), ("26362", "choice", 1.0)}
    assert len(memory.graph_triples(derived)) == 6  # 2 links, the graph's method and the other's


def test_former_code_of_a_merged_commune_lands_on_the_current_one(memory: Store, hub: Ingestor) -> None:
    hub.ingest([record("a", inseeCode="14114")])  # Banville merged into Troarn
    assert communes_of(memory, "a") == {"14712"}


def test_postal_code_with_the_town_name_picks_the_commune(memory: Store, hub: Ingestor) -> None:
    hub.ingest([
        record("one", postalCode="93100"),  # Montreuil only
        record("several", postalCode="14670", locality="Troarn"),  # a code shared by communes
    ])
    assert communes_of(memory, "one") == {"93048"}
    assert communes_of(memory, "several") == {"14712"}


def test_a_unique_name_alone_places_and_a_list_places_each(memory: Store, hub: Ingestor) -> None:
    hub.ingest([record("a", locality=["Villeurbanne", "Saint-Étienne"])])
    assert communes_of(memory, "a") == {"69266", "42218"}


def test_ambiguous_name_waits_for_a_person_and_the_choice_sticks(memory: Store, hub: Ingestor) -> None:
    hub.ingest([record("a", locality="Montreuil")])
    assert communes_of(memory, "a") == set()
    [candidate] = list_placements(memory)
    assert candidate.name == "Montreuil" and candidate.communes[0] == "93048"  # most populous first
    assert len(candidate.communes) >= 3
    with pytest.raises(PlacingError):
        choice_plan(memory, hub.placer, candidate.id, "69123")
    _, tx = choice_plan(memory, hub.placer, candidate.id, "85148")
    memory.commit(tx)
    assert communes_of(memory, "a") == {"85148"}
    assert list_placements(memory) == []
    hub.ingest([record("a", revision="2", locality="Montreuil")])  # the source changed the page
    assert communes_of(memory, "a") == {"85148"}
    assert list_placements(memory) == []


def test_a_candidate_found_again_says_what_the_new_version_says(memory: Store, hub: Ingestor) -> None:
    """The same name found again in a changed record keeps its candidate (same id, same
    communes), now with the new spelling and one time: revised, never doubled."""
    hub.ingest([record("a", locality="Montreuil")])
    [before] = list_placements(memory)
    hub.ingest([record("a", revision="2", locality="MONTREUIL")])  # the same name, spelt otherwise
    [after] = list_placements(memory)
    assert (after.id, after.communes, after.name) == (before.id, before.communes, "MONTREUIL")
    rows = memory.select(
        f"SELECT ?p WHERE {{ GRAPH <{META_GRAPH}> {{ <{PLACEMENT_PREFIX}{after.id}> ?p ?o }} }}"
    )
    predicates = [r["p"].value for r in rows]
    assert predicates.count(MLG + "locality") == 1
    assert predicates.count(PROV + "generatedAtTime") == 1
    assert predicates.count(MLG + "inseeCode") == len(before.communes)


def test_a_record_changed_elsewhere_keeps_its_placing_and_waiting_candidate(
    memory: Store, hub: Ingestor
) -> None:
    """A new version that says the same about where it is (only its name changed; a number
    written as the source writes it, not as the store gives it back) keeps its placing as it
    was: the candidate waiting for a person still says when it was raised."""
    def located(version: Record) -> Record:  # a decimal the store gives back as "48.86"
        latitude = ox.Literal("48.8600", datatype=ox.NamedNode(XSD + "decimal"))
        return replace(version, triples=(*version.triples, ox.Triple(iri("a"), mlg("latitude"), latitude)))

    hub.ingest([located(record("a", locality="Montreuil")), record("b", postalCode="75011")])
    [before] = list_placements(memory)
    placed = communes_of(memory, "b")
    time.sleep(1.1)  # a candidate written again would say a later second
    result = hub.ingest([located(record("a", revision="2", locality="Montreuil")),
                         record("b", revision="2", postalCode="75011")])
    assert result.updated == 2
    assert list_placements(memory) == [before]  # its time too
    assert placed and communes_of(memory, "b") == placed


def test_a_department_hint_resolves_a_name(memory: Store, hub: Ingestor) -> None:
    r = record("a", locality="Saint-Denis")
    hinted = Record(r.source, r.source_id, (*r.triples, ox.Triple(
        iri("a"), mlg("concernsTerritory"), ox.NamedNode(territory_iri(BASE, "departement", "974")))))
    hub.ingest([hinted])
    assert communes_of(memory, "a") == {"97411"}


def test_bad_codes_warn_and_keep_the_record(memory: Store, hub: Ingestor) -> None:
    result = hub.ingest([
        record("a", postalCode="00000"), record("b", inseeCode="99999"), record("c", inseeCode="7505"),
    ])
    assert result.created == 3 and result.quarantined == 0
    summary = {local: result.reports[graph_iri(BASE, "test", local)].summary() for local in "abc"}
    assert "unknown postal code" in summary["a"]
    assert "unknown INSEE code" in summary["b"]
    assert "malformed INSEE code" in summary["c"]
    assert communes_of(memory, "a") == communes_of(memory, "b") == communes_of(memory, "c") == set()


def test_a_malformed_postal_code_is_a_warning_of_the_shapes_and_of_placing(
    memory: Store, hub: Ingestor
) -> None:
    """Issue 16: kept, said twice (the shapes' format rule, and that placing skipped it), unplaced;
    a value no postal code could be (over 20 characters) is still refused."""
    result = hub.ingest([record("a", postalCode="9310"), record("b", postalCode="9" * 21)])
    assert result.created == 1 and result.quarantined == 1
    report = result.reports[graph_iri(BASE, "test", "a")]
    assert report.conforms and {v.severity for v in report.violations} == {"Warning"}
    assert "exactly 5 digits" in report.summary() and "malformed postal code '9310'" in report.summary()
    assert "exactement 5 chiffres" in report.summary("fr")
    assert communes_of(memory, "a") == set()
    assert not result.reports[graph_iri(BASE, "test", "b")].conforms


def test_deleting_a_record_drops_its_placing_and_candidates(memory: Store, hub: Ingestor) -> None:
    hub.ingest([record("a", inseeCode="69123"), record("b", locality="Valence")])
    assert list_placements(memory)
    hub.ingest([
        Record("test", "a", (), deleted=True), Record("test", "b", (), deleted=True),
    ])
    assert communes_of(memory, "a") == set()
    assert list_placements(memory) == []
    assert not memory.graph_triples(placing_graph(BASE, graph_iri(BASE, "test", "a")))


def test_a_record_that_no_longer_names_a_town_loses_its_placing(memory: Store, hub: Ingestor) -> None:
    hub.ingest([record("a", locality="Montreuil"), record("b", inseeCode="69123")])
    hub.ingest([record("a", revision="2"), record("b", revision="2")])
    assert communes_of(memory, "b") == set()
    assert list_placements(memory) == []


def test_refresh_places_records_stored_before_placing(memory: Store) -> None:
    Ingestor(memory, BASE, placer=Placer(BASE, enabled=False)).ingest([record("a", inseeCode="69123"),
                                                     record("b", locality="Valence")])
    assert communes_of(memory, "a") == set() and list_placements(memory) == []
    placer = Placer(BASE)
    assert sum(count for count, tx in _committed(memory, refresh_plans(memory, placer))) == 2
    assert communes_of(memory, "a") == {"69123"}
    assert [c.name for c in list_placements(memory)] == ["Valence"]


def _committed(store: Store, plans: Iterator[tuple[int, Transaction]]) -> Iterator[tuple[int, Transaction]]:
    for count, tx in plans:
        store.commit(tx)
        yield count, tx


def test_placing_catches_up_once_per_reference_and_rules(memory: Store) -> None:
    """Records stored before placing (or under older rules) are placed by the next start, once:
    the bookkeeping graph says what the store's placings were made with."""
    from hub.meta.cursors import read_cursor
    from hub.store.transaction import Transaction
    from hub.territories.catch_up import CURSOR, ensure_placed, stamp

    Ingestor(memory, BASE, placer=Placer(BASE, enabled=False)).ingest([record("a", inseeCode="69123")])
    seen: list[int] = []
    assert ensure_placed(memory, BASE, progress=seen.append) == 1 and seen == [1]
    assert communes_of(memory, "a") == {"69123"}
    assert read_cursor(memory, BASE, CURSOR) == stamp(Placer(BASE))
    Ingestor(memory, BASE, placer=Placer(BASE, enabled=False)).ingest([record("b", inseeCode="75056")])
    assert ensure_placed(memory, BASE) is None  # up to date: one query, nothing read again
    assert communes_of(memory, "b") == set()
    older = Transaction()  # placings made under older rules
    from hub.meta.cursors import write_cursor

    write_cursor(older, BASE, CURSOR, "@etalab/decoupage-administratif@6.0.0 rules 1")
    memory.commit(older)
    assert ensure_placed(memory, BASE) == 2
    assert communes_of(memory, "b") == {"75056"}


def test_a_batch_recalls_only_its_own_candidates_and_choices(memory: Store, hub: Ingestor) -> None:
    """The recall is keyed on the batch's (source, source id) pairs: waiting candidates of other
    records, and a same source id from another source, are neither returned nor forgotten."""
    hub.ingest([record(f"r{n}", locality="Montreuil") for n in range(30)])
    other = Record("other", "r1", record("r1", locality="Valence").triples)
    hub.ingest([other])
    waiting = {c.source_id: c for c in list_placements(memory) if c.source == "test"}
    _, tx = choice_plan(memory, hub.placer, waiting["r2"].id, "85148")
    memory.commit(tx)
    known = known_placings(memory, [("test", "r1"), ("test", "r2"), ("test", "absent")])
    assert set(known.candidates) == {("test", "r1")}
    assert known.candidates[("test", "r1")] == [PLACEMENT_PREFIX + waiting["r1"].id]
    assert known.choices == {("test", "r2"): {waiting["r2"].key: "85148"}}
    hub.ingest([record("r1", revision="2", locality="Montreuil"), record("r2", revision="2", locality="Montreuil")])
    assert communes_of(memory, "r2") == {"85148"}
    left = {(c.source, c.source_id) for c in list_placements(memory)}
    assert left == {("test", f"r{n}") for n in range(30) if n != 2} | {("other", "r1")}

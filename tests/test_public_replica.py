"""Anonymous SPARQL runs on the public replica: no bookkeeping, no contacts, every write at once,
and a replica left behind by a crash is rebuilt at the next start.

The hub serves the demo data plus a person with an e-mail and a street address (kept in a private
companion graph) and an organisation. Anonymous queries of every shape must find neither the meta
graph nor the contacts, and must see a write (Graph Store, REST) as soon as it is acknowledged.
Then the server stops, the replica is damaged the way a kill -9 between the main store's commit
and the replica's would leave it (or deleted), and a new server must answer anonymous queries
exactly as the operator's queries of the public graphs answer them.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.meta.public import COMPANION_PREFIX, PRIVATE_GRAPH_PREFIX, is_public_graph
from hub.pipeline.ingest import Ingestor
from hub.records import Record
from hub.store import oxigraph as oxigraph_store
from hub.store.oxigraph import OxigraphStore
from hub.store.replica import GENERATION_SUBJECT, generation_counter, main_generation
from hub.store.transaction import Transaction
from hub.vocab import DEFAULT_BASE_IRI, META_GRAPH, MLG, RDF_TYPE
from tests.servers.hub import ServedHub, serving

PERSON_MAIL = "replica.person@example.org"
PERSON_STREET = "7 impasse du Registre"
PERSON = "https://example.org/replica/person/lea"
BULK_PERSONS = 120
"""Persons with contact data ingested in one batch of new records, through the store's bulk path
(its threshold lowered for the test), whose replica part must leave them out too."""
PUBLIC_GRAPHS = f'FILTER(!STRSTARTS(STR(?g), "{PRIVATE_GRAPH_PREFIX}"))'


def actor(key: str, cls: str, name: str, **props: str) -> Record:
    subject = ox.NamedNode(f"https://example.org/replica/{key}")
    triples = [
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + cls)),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name, language="fr")),
    ]
    triples += [ox.Triple(subject, ox.NamedNode(MLG + p), ox.Literal(v)) for p, v in props.items()]
    return Record(source="wiki", source_id=key, triples=tuple(triples))


def prepare(data: Path) -> None:
    subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(data), "demo", "--no-serve"],
                   check=True, env=dict(os.environ), capture_output=True)
    with OxigraphStore(data / "store") as store:
        result = Ingestor(store, DEFAULT_BASE_IRI).ingest([
            actor("person/lea", "Person", "Léa", email=PERSON_MAIL, streetAddress=PERSON_STREET),
            actor("org/atelier", "Organization", "Atelier"),
        ])
        assert result.created == 2, result
        threshold = oxigraph_store.BULK_MIN_STATEMENTS
        oxigraph_store.BULK_MIN_STATEMENTS = 1_000
        try:
            result = Ingestor(store, DEFAULT_BASE_IRI, batch_size=BULK_PERSONS).ingest(
                actor(f"person/bulk-{i}", "Person", f"Personne {i}", email=f"bulk.{i}@example.org",
                      streetAddress=f"{i} rue du Lot")
                for i in range(BULK_PERSONS)
            )
        finally:
            oxigraph_store.BULK_MIN_STATEMENTS = threshold
        assert result.created == BULK_PERSONS, result
        appended = f"ASK {{ GRAPH <{META_GRAPH}> {{ ?v <{MLG}versionOf> <{GENERATION_SUBJECT}> }} }}"
        assert store.ask(appended), "the batch went through the bulk path"


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    data = tmp_path_factory.mktemp("replica") / "data"
    prepare(data)
    with serving(data, demo=False) as served:
        yield served


def sparql(hub: ServedHub, query: str, operator: bool = False, **params: str) -> httpx.Response:
    response = httpx.get(f"{hub.url}/sparql", params={"query": query, **params},
                         headers=hub.auth if operator else {}, timeout=60)
    assert response.status_code == 200, response.text
    return response


def count(hub: ServedHub, query: str, operator: bool = False) -> int:
    rows = sparql(hub, query, operator).json()["results"]["bindings"]
    return int(rows[0]["n"]["value"])


def test_anonymous_queries_see_neither_bookkeeping_nor_contacts(hub: ServedHub) -> None:
    companion = COMPANION_PREFIX + "x"
    answers = {
        "default graph": sparql(hub, "SELECT * WHERE { ?s ?p ?o }").text,
        "GRAPH ?g": sparql(hub, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }").text,
        "graph list": sparql(hub, "SELECT DISTINCT ?g WHERE { GRAPH ?g { } }").text,
        "FROM meta": sparql(hub, f"SELECT * FROM <{META_GRAPH}> WHERE {{ ?s ?p ?o }}").text,
        "FROM NAMED meta": sparql(
            hub, f"SELECT * FROM NAMED <{META_GRAPH}> WHERE {{ GRAPH ?g {{ ?s ?p ?o }} }}").text,
        "default-graph-uri meta": sparql(
            hub, "SELECT * WHERE { ?s ?p ?o }", **{"default-graph-uri": META_GRAPH}).text,
        "named-graph-uri companion": sparql(
            hub, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", **{"named-graph-uri": companion}).text,
        "CONSTRUCT": sparql(hub, "CONSTRUCT { ?s ?p ?o } WHERE { ?s ?p ?o }").text,
    }
    leaks = {name: value for name, text in answers.items()
             for value in (PERSON_MAIL, PERSON_STREET, PRIVATE_GRAPH_PREFIX, "bulk.7@example.org", "7 rue du Lot")
             if value in text}
    assert leaks == {}
    assert "Léa" in answers["default graph"] and "Atelier" in answers["GRAPH ?g"]
    assert f"Personne {BULK_PERSONS - 1}" in answers["default graph"]  # the bulk batch's public part
    # the operator still reads both, from the main store
    private = sparql(hub, "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }", operator=True).text
    assert PERSON_MAIL in private and META_GRAPH in private


def test_a_public_write_is_seen_as_soon_as_it_is_acknowledged(hub: ServedHub) -> None:
    graph = f"{DEFAULT_BASE_IRI}replica-test/graph"
    subject = "https://example.org/replica/written"
    body = (f'<{subject}> a <{MLG}Person> ; <{MLG}name> "Écrit"@fr ; '
            f'<{MLG}email> "written.person@example.org" .')
    ask = f'ASK {{ <{subject}> <{MLG}name> "Écrit"@fr }}'
    for round_ in range(3):  # each acknowledged write is read back at once, with no pause
        response = httpx.put(f"{hub.url}/store", params={"graph": graph}, content=body,
                             headers={"Content-Type": "text/turtle", **hub.auth}, timeout=60)
        assert response.status_code in (200, 201, 204), response.text
        assert sparql(hub, ask).json()["boolean"] is True, f"round {round_}: PUT not seen"
        assert "written.person@example.org" not in sparql(hub, "SELECT * { ?s ?p ?o }").text
        assert httpx.delete(f"{hub.url}/store", params={"graph": graph}, headers=hub.auth,
                            timeout=60).status_code in (200, 204)
        assert sparql(hub, ask).json()["boolean"] is False, f"round {round_}: DELETE not seen"
    created = httpx.post(f"{hub.url}/api/projects", json={"name": "Projet répliqué"},
                         headers=hub.auth, timeout=60)
    assert created.status_code == 201, created.text
    assert "Projet répliqué" in sparql(hub, f"SELECT ?n WHERE {{ ?s <{MLG}name> ?n }}").text


def public_view(hub: ServedHub) -> dict[str, int]:
    """The public data counted twice: anonymously, and by the operator over the public graphs."""
    triples = "SELECT (COUNT(*) AS ?n) WHERE { GRAPH ?g { ?s ?p ?o } %s }"
    distinct = "SELECT (COUNT(*) AS ?n) WHERE { SELECT DISTINCT ?s ?p ?o WHERE { %s } }"
    return {
        "anonymous quads": count(hub, triples % ""),
        "operator quads": count(hub, triples % PUBLIC_GRAPHS, operator=True),
        "anonymous triples": count(hub, distinct % "?s ?p ?o"),
        "operator triples": count(
            hub, distinct % f"GRAPH ?g {{ ?s ?p ?o }} {PUBLIC_GRAPHS}", operator=True),
        "anonymous graphs": count(hub, "SELECT (COUNT(DISTINCT ?g) AS ?n) { GRAPH ?g { } }"),
        "operator graphs": count(
            hub, f"SELECT (COUNT(DISTINCT ?g) AS ?n) {{ GRAPH ?g {{ }} {PUBLIC_GRAPHS} }}",
            operator=True),
    }


def assert_same(view: dict[str, int]) -> None:
    for what in ("quads", "triples", "graphs"):
        assert view[f"anonymous {what}"] == view[f"operator {what}"], view


def commit_to_main_only(data: Path, graph: str, name: str, *, bulk: bool = False) -> None:
    """What a kill -9 between the two updates leaves: the main store has the commit (and its
    counter), the replica has not. ``bulk``: the commit appended with the bulk loader, as a
    batch of new records does."""
    main = ox.Store(str(data / "store"))
    subject = ox.NamedNode(f"https://example.org/replica/{name}")
    tx = Transaction()
    tx.add_graph(graph, [ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name))])
    counter = generation_counter(main_generation(main) + 1)
    if bulk:
        main.bulk_load(input=tx.nquads() + counter.nquads(), format=ox.RdfFormat.N_QUADS)
    else:
        main.update(tx.render() + " ;\n" + counter.render())
    main.flush()
    del main


def test_a_replica_left_behind_or_lost_is_rebuilt_at_start(tmp_path: Path) -> None:
    data = tmp_path / "data"
    prepare(data)
    with serving(data, demo=False) as hub:
        before = public_view(hub)
        assert_same(before)
    graph = f"{DEFAULT_BASE_IRI}replica-test/after-crash"
    commit_to_main_only(data, graph, "Survivant")
    with serving(data, demo=False) as hub:
        after = public_view(hub)
        assert_same(after)
        assert after["anonymous graphs"] == before["anonymous graphs"] + 1
        assert "Survivant" in sparql(hub, "SELECT ?o WHERE { ?s ?p ?o }").text
    commit_to_main_only(data, graph + "-bulk", "Rescapé", bulk=True)  # its counter, appended
    with serving(data, demo=False) as hub:
        after = public_view(hub)
        assert_same(after)
        assert "Rescapé" in sparql(hub, "SELECT ?o WHERE { ?s ?p ?o }").text
        assert PERSON_MAIL not in sparql(hub, "SELECT ?o WHERE { ?s ?p ?o }").text
    shutil.rmtree(data / "store-public")
    with serving(data, demo=False) as hub:
        assert (data / "store-public").is_dir()  # made again, not left to the slow fallback
        assert public_view(hub) == after
        assert PERSON_MAIL not in sparql(hub, "SELECT ?o WHERE { ?s ?p ?o }").text


def test_a_rebuild_copies_exactly_the_public_graphs_whatever_their_terms_hold(tmp_path: Path) -> None:
    """The rebuild copies each public graph as the store writes it (native N-Triples, named by
    a byte replacement): literals holding " .", line breaks, quotes and languages, typed numbers,
    blank nodes shared by two statements come back equal; private graphs and the default graph
    do not come at all."""
    public = f"{DEFAULT_BASE_IRI}graph/rebuild/a"
    store = OxigraphStore(tmp_path / "store")
    store.native.update(f"""INSERT DATA {{
        GRAPH <{public}> {{
            <https://example.org/s> <https://example.org/p> "fin .\\nsuite . <x> .", 1, 2.5, true,
                "guillemets \\" ." @fr, "x"^^<https://example.org/dt>, _:b .
            _:b <https://example.org/p> "2020-01-01"^^<http://www.w3.org/2001/XMLSchema#date> }}
        GRAPH <{public}-2> {{ <https://example.org/t> <https://example.org/p> "deux" }}
        GRAPH <{PRIVATE_GRAPH_PREFIX}contact:x> {{ <https://example.org/s> <https://example.org/mail> "{PERSON_MAIL}" }}
        GRAPH <{META_GRAPH}> {{ <https://example.org/s> <https://example.org/p> "meta" }}
        <https://example.org/d> <https://example.org/p> "défaut" }}""")
    store.rebuild_replica("test")
    expected = {
        q for q in store.native.quads_for_pattern(None, None, None, None)
        if isinstance(q.graph_name, ox.NamedNode) and q.graph_name.value.startswith(public)
    }
    replica = oxigraph_store.replica_path(tmp_path / "store")
    store.close()
    copied = set(ox.Store.read_only(str(replica)).quads_for_pattern(None, None, None, None))
    assert len(expected) == 9 and unnamed(copied) == unnamed(expected)


def unnamed(quads: set[ox.Quad]) -> set[ox.Quad]:
    """The quads with their one blank node named: a store may label a copied blank node anew
    (the incremental path's INSERT DATA does too), what must hold is the same shape."""
    [blank] = {q.subject for q in quads if isinstance(q.subject, ox.BlankNode)}
    named = ox.NamedNode("urn:test:the-blank-node")
    return {
        ox.Quad(named if q.subject == blank else q.subject, q.predicate,
                named if q.object == blank else q.object, q.graph_name)
        for q in quads
    }


def test_the_public_nquads_built_with_the_main_ones_leave_private_graphs_out() -> None:
    """A bulk commit builds the replica's N-Quads in the same pass as the main store's: the same
    text as the public part alone, no contact graph, no meta graph."""
    tx = Transaction()
    person = ox.NamedNode(PERSON)
    tx.add_graph(f"{DEFAULT_BASE_IRI}graph/p", [ox.Triple(person, ox.NamedNode(MLG + "name"), ox.Literal("Léa"))])
    tx.add_graph(f"{COMPANION_PREFIX}p", [ox.Triple(person, ox.NamedNode(MLG + "email"), ox.Literal(PERSON_MAIL))])
    tx.add_meta("urn:maillage:x", [(MLG + "note", '"meta"')])
    everything, public = tx.nquads_and_public()
    assert public == tx.public_nquads() and "Léa".encode() in public
    assert PERSON_MAIL.encode() in everything and PERSON_MAIL.encode() not in public
    assert META_GRAPH.encode() not in public and everything == tx.nquads()


def test_a_replica_ahead_of_the_main_store_is_rebuilt_at_start(tmp_path: Path) -> None:
    """The replica's part of a commit runs beside the main store's: a kill -9 may leave it
    holding a batch the main store never committed, its writer still marked pending. The next
    start must not serve that batch to anonymous queries."""
    data = tmp_path / "data"
    prepare(data)
    replica = ox.Store(str(data / "store-public"))
    ghost = ox.NamedNode("https://example.org/replica/ghost")
    replica.add(ox.Quad(ghost, ox.NamedNode(MLG + "name"), ox.Literal("Fantôme"),
                        ox.NamedNode(f"{DEFAULT_BASE_IRI}graph/replica-test/never-committed")))
    replica.flush()
    del replica
    (data / "store-public.pending").touch()  # what a commit in flight leaves
    with serving(data, demo=False) as hub:
        assert "Fantôme" not in sparql(hub, "SELECT ?o WHERE { ?s ?p ?o }").text
        assert_same(public_view(hub))
    assert not (data / "store-public.pending").exists()


def test_a_commit_the_main_store_refuses_leaves_nothing_in_the_replica(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The replica's part ran while the main store refused the commit: the replica is copied
    again at once, so anonymous queries never see what the operator's cannot."""
    with OxigraphStore(tmp_path / "store") as store:
        assert Ingestor(store, DEFAULT_BASE_IRI).ingest([actor("org/kept", "Organization", "Gardée")]).created == 1

        def refuse(*args: object) -> None:
            raise oxigraph_store.StoreError("the disk is full")

        monkeypatch.setattr(store, "_apply", refuse)  # whichever way the commit goes
        monkeypatch.setattr(store, "_append", refuse)
        with pytest.raises(oxigraph_store.StoreError):
            Ingestor(store, DEFAULT_BASE_IRI).ingest([actor("org/refused", "Organization", "Refusée")])
        monkeypatch.undo()
        names = {q.object.value for q in store._replica.store.quads_for_pattern(None, ox.NamedNode(MLG + "name"), None, None)}  # type: ignore[union-attr]
        assert names == {"Gardée"}
        assert Ingestor(store, DEFAULT_BASE_IRI).ingest([actor("org/next", "Organization", "Suivante")]).created == 1
    replica = ox.Store.read_only(str(tmp_path / "store-public"))
    assert {q.object.value for q in replica.quads_for_pattern(None, ox.NamedNode(MLG + "name"), None, None)} == {"Gardée", "Suivante"}


def test_an_update_written_as_its_difference_leaves_the_replica_equal_to_the_main_store(
    tmp_path: Path,
) -> None:
    """An updated record is written as what changed (its name, a postal code gone, another
    keyword, so its placing gone too): anonymous readers see exactly the main store's public
    graphs, the old statements removed from both."""
    store = OxigraphStore(tmp_path / "store")
    hub = Ingestor(store, DEFAULT_BASE_IRI)
    hub.ingest([actor("org/a", "Organization", "Atelier", postalCode="75011", keyword="bois")])
    result = hub.ingest([actor("org/a", "Organization", "Atelier du Canal", keyword="métal")])
    assert result.updated == 1
    main = {
        q for q in store.native.quads_for_pattern(None, None, None, None)
        if isinstance(q.graph_name, ox.NamedNode) and is_public_graph(q.graph_name.value)
    }
    replica = oxigraph_store.replica_path(tmp_path / "store")
    store.close()
    copied = set(ox.Store.read_only(str(replica)).quads_for_pattern(None, None, None, None))
    assert copied == main
    said = {str(q.object) for q in copied}
    assert '"Atelier du Canal"@fr' in said and '"métal"' in said
    assert not said & {'"Atelier"@fr', '"75011"', '"bois"'}
    assert not any(q.predicate.value == MLG + "territory" for q in copied)

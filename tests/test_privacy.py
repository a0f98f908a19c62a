"""What anonymous readers see: the data, never the bookkeeping nor a person's contact data.

The hub serves the demo data plus a quarantined person (an invalid record carrying an e-mail),
a valid person with an e-mail and a street address, an organisation with an e-mail, and a
person from a source that publishes its persons' contact data (``publish_person_contacts``).
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator

import httpx
import pyoxigraph as ox
import pytest

from hub.iris import graph_iri
from hub.meta.public import COMPANION_PREFIX as COMPANIONS
from hub.pipeline.ingest import Ingestor
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, META_GRAPH, MLG, RDF_TYPE
from tests.servers.hub import ServedHub, serving

QUARANTINED_MAIL = "quarantined.person@example.org"
PERSON_MAIL = "jeanne.private@example.org"
PERSON_STREET = "12 rue des Secrets"
ORG_MAIL = "contact@association.example.org"
CONSENTED_MAIL = "consented@example.org"
PRIVATE_VALUES = (QUARANTINED_MAIL, PERSON_MAIL, PERSON_STREET)
PERSON = "https://example.org/privacy/person/jeanne"


def actor(source: str, key: str, cls: str, name: str, **props: str) -> Record:
    subject = ox.NamedNode(f"https://example.org/privacy/{key}")
    triples = [
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + cls)),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name, language="fr")),
    ]
    triples += [ox.Triple(subject, ox.NamedNode(MLG + p), ox.Literal(v)) for p, v in props.items()]
    return Record(source=source, source_id=key, triples=tuple(triples))


@pytest.fixture(scope="module")
def hub(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServedHub]:
    data = tmp_path_factory.mktemp("privacy") / "data"
    subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(data), "demo", "--no-serve"],
                   check=True, env=dict(os.environ), capture_output=True)
    with OxigraphStore(data / "store") as store:
        ingestor = Ingestor(store, DEFAULT_BASE_IRI, contact_sources=frozenset({"annuaire"}))
        result = ingestor.ingest([
            actor("wiki", "person/jeanne", "Person", "Jeanne", email=PERSON_MAIL,
                  streetAddress=PERSON_STREET),
            actor("wiki", "org/asso", "Organization", "Asso", email=ORG_MAIL),
            actor("wiki", "person/bad", "Person", "", email=QUARANTINED_MAIL),  # no name: refused
            actor("annuaire", "person/paul", "Person", "Paul", email=CONSENTED_MAIL),
        ])
        assert result.quarantined == 1 and result.created == 3, result
    with serving(data, demo=False) as served:
        yield served


def anonymous_outputs(hub: ServedHub) -> dict[str, str]:
    """Every anonymous read a person or a crawler can make of the test entities."""
    sparql = f"{hub.url}/sparql"
    queries = {
        "default graph": "SELECT * WHERE { ?s ?p ?o }",
        "GRAPH ?g": "SELECT * WHERE { GRAPH ?g { ?s ?p ?o } }",
        "FROM meta": f"SELECT * FROM <{META_GRAPH}> WHERE {{ ?s ?p ?o }}",
        "CONSTRUCT": "CONSTRUCT { ?s ?p ?o } WHERE { GRAPH ?g { ?s ?p ?o } }",
    }
    outputs = {name: httpx.get(sparql, params={"query": q}, timeout=60).text
               for name, q in queries.items()}
    outputs["default-graph-uri meta"] = httpx.get(sparql, params={
        "query": "SELECT * WHERE { ?s ?p ?o }", "default-graph-uri": META_GRAPH}, timeout=60).text
    outputs["store ?default"] = httpx.get(f"{hub.url}/store?default", timeout=60).text
    outputs["store meta"] = httpx.get(f"{hub.url}/store", params={"graph": META_GRAPH}).text
    outputs["rest"] = httpx.get(f"{hub.url}/api/actors", params={"limit": 200}).text
    outputs["rest entity"] = httpx.get(f"{hub.url}/api/actors/_", params={"iri": PERSON}).text
    outputs["page"] = httpx.get(f"{hub.url}/ui/entity", params={"iri": PERSON}).text
    outputs["changes"] = httpx.get(f"{hub.url}/changes").text
    outputs["void"] = httpx.get(f"{hub.url}/.well-known/void").text
    outputs["quarantine"] = httpx.get(f"{hub.url}/quarantine").text
    return outputs


def test_no_anonymous_output_holds_private_values(hub: ServedHub) -> None:
    outputs = anonymous_outputs(hub)
    leaks = {name: value for name, text in outputs.items() for value in PRIVATE_VALUES
             if value in text}
    assert leaks == {}
    assert "Jeanne" in outputs["default graph"]  # the person is public, their contacts are not
    assert httpx.get(f"{hub.url}/store", params={"graph": META_GRAPH}).status_code == 404


def test_organisations_and_consenting_sources_stay_public(hub: ServedHub) -> None:
    text = httpx.get(f"{hub.url}/sparql",
                     params={"query": "SELECT * WHERE { ?s ?p ?o }"}, timeout=60).text
    assert ORG_MAIL in text
    assert CONSENTED_MAIL in text


def test_the_operator_queries_the_bookkeeping_and_the_contacts(hub: ServedHub) -> None:
    query = "SELECT ?o WHERE { GRAPH ?g { ?s ?p ?o } FILTER(STRSTARTS(STR(?g), \"urn:maillage:\")) }"
    text = httpx.get(f"{hub.url}/sparql", params={"query": query}, headers=hub.auth, timeout=60).text
    assert QUARANTINED_MAIL in text and PERSON_MAIL in text
    count = f"SELECT (COUNT(*) AS ?n) WHERE {{ GRAPH <{META_GRAPH}> {{ ?s ?p ?o }} }}"
    rows = httpx.get(f"{hub.url}/sparql", params={"query": count}, headers=hub.auth,
                     timeout=60).json()["results"]["bindings"]
    assert int(rows[0]["n"]["value"]) > 0
    assert httpx.get(f"{hub.url}/quarantine", headers=hub.auth).status_code == 200


def contacts(hub: ServedHub) -> str:
    """What the operator reads of the persons' companion graphs."""
    query = f'SELECT ?o WHERE {{ GRAPH ?g {{ ?s ?p ?o }} FILTER(STRSTARTS(STR(?g), "{COMPANIONS}")) }}'
    return httpx.get(f"{hub.url}/sparql", params={"query": query}, headers=hub.auth,
                     timeout=60).text


def test_writes_to_a_person_keep_their_stored_contacts(hub: ServedHub) -> None:
    graph = graph_iri(DEFAULT_BASE_IRI, "wiki", "person/jeanne")
    added = f'<{PERSON}> <{MLG}description> "Anime l\'atelier vélo"@fr .'
    response = httpx.post(f"{hub.url}/store", params={"graph": graph}, content=added,
                          headers={"Content-Type": "text/turtle", **hub.auth}, timeout=60)
    assert response.status_code == 200, response.text
    public = httpx.get(f"{hub.url}/store", params={"graph": graph}).text
    assert "atelier vélo" in public and PERSON_MAIL not in public
    assert PERSON_MAIL in contacts(hub) and PERSON_STREET in contacts(hub), "Graph Store POST"
    response = httpx.patch(f"{hub.url}/api/actors/_", params={"iri": PERSON},
                           json={"description": "Répare des vélos"}, headers=hub.auth)
    assert response.status_code == 200, response.text
    assert "Répare des vélos" in response.text and PERSON_MAIL not in response.text
    assert PERSON_MAIL in contacts(hub) and PERSON_STREET in contacts(hub), "REST PATCH"

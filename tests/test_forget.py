"""Erasing a person (``POST /forget``, ``maillage forget``): afterwards no output of the hub, the
operator's included, holds the person's name or e-mail; ``/changes`` shows tombstones; a peer
hub that followed the feed loses the person; the hub logs that an erasure happened, not whom.

Hub "a" holds a person read from two sources (one of them updated once, so the change log kept
two copies), a refused version of the person in the quarantine, a sync state and a conflict
about the person, and another person who must stay. Hub "b" follows "a" as a peer hub.
"""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path

import httpx
import pyoxigraph as ox
import pytest

from hub.meta.conflicts import conflict_update
from hub.meta.syncstate import SyncState
from hub.pipeline.ingest import Ingestor
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.servers.hub import ServedHub, serving

NAME = "Jeanne Oubliette"
MAIL = "jeanne.oubliette@example.org"
PHONE_MAIL = "j.oubliette@annuaire.example.org"
SECRETS = (NAME, MAIL, PHONE_MAIL, "Oubliette")
PERSON = "https://example.org/forget/person/jeanne"
OTHER = "https://example.org/forget/person/paul"
OTHER_NAME = "Paul Restant"


def person(source: str, iri: str, name: str, **props: str) -> Record:
    subject = ox.NamedNode(iri)
    triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Person"))]
    triples.append(ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name, language="fr")))
    triples += [ox.Triple(subject, ox.NamedNode(MLG + p), ox.Literal(v)) for p, v in props.items()]
    return Record(source=source, source_id=iri.rsplit("/", 1)[-1], triples=tuple(triples))


def fill(data: Path) -> None:
    with OxigraphStore(data / "store") as store:
        ingestor = Ingestor(store, DEFAULT_BASE_IRI)
        first = ingestor.ingest([
            person("wiki", PERSON, NAME, email=MAIL),
            person("annuaire", PERSON, NAME, email=PHONE_MAIL),
            person("wiki", OTHER, OTHER_NAME),
        ])
        # an empty name: quarantined with its payload (alone: a batch is validated as a whole)
        refused = ingestor.ingest([person("refused", PERSON, "", email=MAIL)])
        assert (first.created, refused.quarantined) == (3, 1), (first, refused)
        state = SyncState("wiki", PERSON, "jeanne", pushed={"email": MAIL}).update()
        conflict = conflict_update("wiki", PERSON, "nom", NAME, NAME + " (wiki)", "both changed")
        second = ingestor.ingest_batch(
            [person("wiki", PERSON, NAME, email=MAIL, description=f"{NAME} anime l'atelier")],
            state=[state, conflict],
        )
        assert second.updated == 1, second


def peer_config(url: str) -> str:
    return (f'[hub]\nbase_iri = "https://b.example.org/id/"\n\n[[sources]]\nname = "a"\n'
            f'kind = "hub"\nurl = "{url}"\ndirection = "read"\n')


@pytest.fixture(scope="module")
def hubs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServedHub, ServedHub]]:
    root = tmp_path_factory.mktemp("forget")
    fill(root / "a" / "data")
    with ExitStack() as stack:
        a = stack.enter_context(serving(root / "a" / "data", demo=False))
        b = stack.enter_context(serving(root / "b" / "data", peer_config(a.url), demo=False))
        yield a, b


def sync(hub: ServedHub) -> None:
    response = httpx.post(f"{hub.url}/sources/a/sync", headers=hub.auth, timeout=120)
    assert response.status_code == 200 and response.json()["error"] is None, response.text


def knows(hub: ServedHub, iri: str) -> bool:
    response = httpx.get(f"{hub.url}/sparql", params={"query": f"ASK {{ <{iri}> ?p ?o }}"},
                         headers={"Accept": "application/sparql-results+json"}, timeout=60)
    return bool(response.json()["boolean"])


def feed(hub: ServedHub) -> list[dict[str, object]]:
    """Every member of ``/changes``, following the pages."""
    items: list[dict[str, object]] = []
    url: str | None = f"{hub.url}/changes?limit=3"
    while url:
        page = httpx.get(url, timeout=60).json()
        items += page["orderedItems"]
        url = page.get("next") if page["orderedItems"] else None
    return items


def every_output(hub: ServedHub) -> dict[str, str]:
    """What anyone, the operator included, can read of the hub about the person."""
    sparql = f"{hub.url}/sparql"
    everything = "SELECT * WHERE { { ?s ?p ?o } UNION { GRAPH ?g { ?s ?p ?o } } }"
    return {
        "sparql with token": httpx.get(sparql, params={"query": everything}, headers=hub.auth,
                                       timeout=60).text,
        "sparql": httpx.get(sparql, params={"query": everything}, timeout=60).text,
        "store ?default": httpx.get(f"{hub.url}/store?default", timeout=60).text,
        "rest": httpx.get(f"{hub.url}/api/actors", params={"limit": 200}).text,
        "rest entity": httpx.get(f"{hub.url}/api/actors/_", params={"iri": PERSON}).text,
        "page": httpx.get(f"{hub.url}/ui/entity", params={"iri": PERSON}).text,
        "changes": json.dumps(feed(hub), ensure_ascii=False),
        "quarantine": httpx.get(f"{hub.url}/quarantine", headers=hub.auth).text,
        "conflicts": httpx.get(f"{hub.url}/conflicts", headers=hub.auth).text,
        "operations page": httpx.get(f"{hub.url}/ui/operations", headers=hub.auth).text,
    }


def test_forget_erases_the_person_everywhere_and_peers_follow(
    hubs: tuple[ServedHub, ServedHub],
) -> None:
    a, b = hubs
    before = every_output(a)
    assert MAIL in before["sparql with token"] and '"refused"' in before["quarantine"]
    assert NAME in before["changes"] and NAME in before["conflicts"]
    sync(b)
    assert knows(b, PERSON) and knows(b, OTHER)

    assert httpx.post(f"{a.url}/forget", params={"iri": PERSON}).status_code == 401
    response = httpx.post(f"{a.url}/forget", params={"iri": PERSON}, headers=a.auth, timeout=60)
    assert response.status_code == 200, response.text
    erasure = response.json()
    assert (erasure["records_removed"], erasure["quarantine_removed"]) == (2, 1)
    assert erasure["review_state_removed"] == 2 and erasure["change_log_states_scrubbed"] == 3
    assert not any(secret in response.text for secret in SECRETS)

    after = every_output(a)
    leaks = {name: s for name, text in after.items() for s in SECRETS if s in text}
    assert leaks == {}
    assert OTHER_NAME in after["sparql"], "only the person was erased"
    assert httpx.get(f"{a.url}/ui/entity", params={"iri": PERSON}).status_code == 404

    members = [m for m in feed(a) if m.get("object") == PERSON]
    tombstones = [m for m in members if m["type"] == "Delete"]
    assert len(tombstones) == 2 and all(m.get("by") == "forget" for m in tombstones)
    assert not any("@graph" in m for m in members), "no member keeps a copy of the person"

    sync(b)
    assert not knows(b, PERSON), "the follower hub lost the person"
    assert knows(b, OTHER)

    again = httpx.post(f"{a.url}/forget", params={"iri": PERSON}, headers=a.auth)
    assert again.status_code == 404, "nothing left about the person"
    assert httpx.post(f"{a.url}/forget", params={"iri": "not an iri"},
                      headers=a.auth).status_code == 404


def test_the_command_line_forgets_and_says_so(tmp_path: Path) -> None:
    data = tmp_path / "data"
    fill(data)

    def maillage(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(data), *args],
                              capture_output=True, text=True, timeout=120)

    public = maillage("export", "--public").stdout
    assert NAME in public and MAIL not in public and "urn:maillage:" not in public
    assert MAIL in maillage("export", "--data-only").stdout, "operator output keeps the contacts"
    done = maillage("forget", PERSON)
    assert done.returncode == 0, done.stderr
    assert "2 records" in done.stdout and "1 quarantine" in done.stdout
    unknown = maillage("forget", "https://example.org/forget/nobody")
    assert unknown.returncode == 1 and "nothing about" in unknown.stderr
    dump = maillage("export")
    assert dump.returncode == 0 and OTHER_NAME in dump.stdout
    assert not any(secret in dump.stdout for secret in SECRETS), "not even the operator's export"
    assert "Erasure" in dump.stdout, "the hub logs that an erasure happened"

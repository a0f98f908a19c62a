"""Conflicts and identity matches decided through the API, with the token."""

from __future__ import annotations

from pathlib import Path

import httpx
import pyoxigraph as ox

from hub.pipeline.ingest import Ingestor
from hub.pipeline.match import Match, candidate_update
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.sync.merge import conflict
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.servers.hub import serving


def place(source: str, key: str, iri: str, name: str) -> Record:
    subject = ox.NamedNode(iri)
    return Record(source=source, source_id=key, triples=(
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(name, language="fr")),
    ))


def test_matches_and_conflicts_are_decided_over_http(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with OxigraphStore(data / "store") as store:
        ingestor = Ingestor(store, DEFAULT_BASE_IRI)
        wiki = place("wiki", "1", "https://example.org/wiki/1", "Le Moulin")
        platform = place("plateforme", "a", "https://example.org/co/a", "Le moulin")
        ingestor.ingest([wiki, platform])
        match = candidate_update(platform, "https://example.org/co/a",
                                 Match("https://example.org/wiki/1", 0.5, "same name 'Le Moulin'"))
        clash = conflict("wiki", "https://example.org/wiki/1", "nom", "A", "B", "both changed", "name")
        ingestor.ingest_batch([], None, [match, clash])
    with serving(data, demo=False) as hub:
        [candidate] = httpx.get(f"{hub.url}/matches", headers=hub.auth).json()
        assert candidate["confidence"] == 0.5 and candidate["existing_entity"] == "https://example.org/wiki/1"
        accept = f"{hub.url}/matches/{candidate['id']}/accept"
        assert httpx.post(accept).status_code == 401
        assert httpx.post(accept, headers=hub.auth).status_code == 200
        assert httpx.get(f"{hub.url}/matches", headers=hub.auth).json() == []
        names = httpx.get(f"{hub.url}/sparql", params={
            "query": f"SELECT ?s WHERE {{ ?s <{MLG}name> ?n }}"}).json()["results"]["bindings"]
        assert {b["s"]["value"] for b in names} == {"https://example.org/wiki/1"}, "merged"
        [open_conflict] = httpx.get(f"{hub.url}/conflicts", headers=hub.auth).json()
        resolve = f"{hub.url}/conflicts/{open_conflict['id']}/resolve"
        assert httpx.post(resolve, params={"keep": "maybe"}, headers=hub.auth).status_code == 400
        assert httpx.post(f"{hub.url}/conflicts/nope/resolve", params={"keep": "source"},
                          headers=hub.auth).status_code == 404
        assert httpx.post(resolve, params={"keep": "source"}, headers=hub.auth).status_code == 200
        assert httpx.get(f"{hub.url}/conflicts", headers=hub.auth).json() == []

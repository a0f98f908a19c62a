"""Placing seen from outside: anonymous readers see the hub's derived placing, a person decides
an ambiguous town name over HTTP with the token or on the command line, and the record lands in
the commune chosen; `maillage places refresh` places a hub's records stored before placing."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import httpx
import pyoxigraph as ox

from hub.iris import graph_iri
from hub.pipeline.ingest import Ingestor
from hub.pipeline.place import Placer, placing_graph
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, MLG, RDF_TYPE
from tests.servers.hub import serving


def place(key: str, **fields: str) -> Record:
    subject = ox.NamedNode(f"https://example.org/lieu/{key}")
    triples = [
        ox.Triple(subject, ox.NamedNode(RDF_TYPE), ox.NamedNode(MLG + "Place")),
        ox.Triple(subject, ox.NamedNode(MLG + "name"), ox.Literal(f"Lieu {key}", language="fr")),
        *(ox.Triple(subject, ox.NamedNode(MLG + k), ox.Literal(v)) for k, v in fields.items()),
    ]
    return Record(source="wiki", source_id=key, triples=tuple(triples))


def territories(hub_url: str) -> dict[str, str]:
    """What an anonymous reader sees: entity → commune code."""
    rows = httpx.get(f"{hub_url}/sparql", params={
        "query": f"SELECT ?e ?t WHERE {{ ?e <{MLG}territory> ?t }}"}).json()["results"]["bindings"]
    return {b["e"]["value"].rsplit("/", 1)[-1]: b["t"]["value"].rsplit("-", 1)[-1] for b in rows}


def test_an_ambiguous_name_is_chosen_over_http_and_anonymous_readers_see_the_placing(
    tmp_path: Path,
) -> None:
    data = tmp_path / "data"
    with OxigraphStore(data / "store") as store:
        Ingestor(store, DEFAULT_BASE_IRI).ingest([
            place("lyon", inseeCode="69123"), place("montreuil", locality="Montreuil"),
        ])
    with serving(data, demo=False) as hub:
        assert territories(hub.url) == {"lyon": "69123"}
        assert httpx.get(f"{hub.url}/places").status_code in (401, 403)
        [candidate] = httpx.get(f"{hub.url}/places", headers=hub.auth).json()
        assert candidate["name"] == "Montreuil" and candidate["communes"][0] == "93048"
        choose = f"{hub.url}/places/{candidate['id']}/choose"
        anonymous = httpx.get(f"{hub.url}/ui/operations").text
        assert 'data-count="places"' in anonymous and "Montreuil (85)" not in anonymous
        page = httpx.get(f"{hub.url}/ui/operations", headers=hub.auth).text
        buttons = page[page.index(f'data-place="{candidate["id"]}"'):].split("</tr>", 1)[0]
        assert buttons.index("Montreuil (93)") < buttons.index("Montreuil (85)")  # by population
        assert f"/places/{candidate['id']}/choose?insee=85148" in buttons
        assert httpx.post(choose, params={"insee": "85148"}).status_code == 401
        assert httpx.post(choose, params={"insee": "69123"}, headers=hub.auth).status_code == 400
        assert httpx.post(choose, params={"insee": "nope"}, headers=hub.auth).status_code == 400
        assert httpx.post(f"{hub.url}/places/{'0' * 24}/choose", params={"insee": "85148"},
                          headers=hub.auth).status_code == 404
        assert httpx.post(choose, params={"insee": "85148"}, headers=hub.auth).status_code == 200
        assert httpx.get(f"{hub.url}/places", headers=hub.auth).json() == []
        assert territories(hub.url) == {"lyon": "69123", "montreuil": "85148"}
        # the placing is the hub's: written by ingest only, never through the write protocols
        derived = placing_graph(DEFAULT_BASE_IRI, graph_iri(DEFAULT_BASE_IRI, "wiki", "lyon"))
        put = httpx.put(f"{hub.url}/store", params={"graph": derived}, headers={
            **hub.auth, "Content-Type": "text/turtle"}, content=b"<https://example.org/a> a <https://example.org/B> .")
        assert put.status_code == 403
        update = httpx.post(f"{hub.url}/sparql/update", headers=hub.auth, data={
            "update": f"DROP GRAPH <{derived}>"})
        assert update.status_code == 400 and "placing" in update.text
        assert territories(hub.url)["lyon"] == "69123"


def test_a_hub_started_on_records_stored_before_placing_places_them(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with OxigraphStore(data / "store") as store:
        Ingestor(store, DEFAULT_BASE_IRI, placer=Placer(DEFAULT_BASE_IRI, enabled=False)).ingest([
            place("lyon", inseeCode="69123")])
    with serving(data, demo=False) as hub:
        assert territories(hub.url) == {"lyon": "69123"}
    log = (tmp_path / "data-server.log").read_text()
    assert "placing caught up" in log and "1 stored record(s) placed again" in log


def maillage(data: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "hub", "--data-dir", str(data), *args],
                          capture_output=True, text=True, timeout=120)


def test_the_command_line_places_an_older_hub_and_takes_a_choice(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with OxigraphStore(data / "store") as store:  # records stored before placing existed
        Ingestor(store, DEFAULT_BASE_IRI, placer=Placer(DEFAULT_BASE_IRI, enabled=False)).ingest([
            place("lyon", inseeCode="69123"), place("valence", locality="Valence"),
        ])
    refresh = maillage(data, "places", "refresh")
    assert refresh.returncode == 0 and "2 record(s)" in refresh.stdout, refresh.stderr
    [candidate] = json.loads(maillage(data, "places", "list", "--format", "json").stdout)
    assert candidate["name"] == "Valence" and candidate["communes"][0] == "26362"
    wrong = maillage(data, "places", "choose", candidate["id"], "69123")
    assert wrong.returncode == 1 and "not one of the communes" in wrong.stderr
    assert maillage(data, "places", "choose", candidate["id"], "82186").returncode == 0
    assert json.loads(maillage(data, "places", "list", "--format", "json").stdout) == []
    with OxigraphStore(data / "store") as store:
        rows = store.select(f"SELECT ?e ?t WHERE {{ GRAPH ?g {{ ?e <{MLG}territory> ?t }} }}")
    assert {(r["e"].value.rsplit("/", 1)[-1], r["t"].value.rsplit("-", 1)[-1]) for r in rows} == {
        ("lyon", "69123"), ("valence", "82186")}


def test_a_malformed_postal_code_or_unknown_code_is_a_warning_the_record_is_kept(tmp_path: Path) -> None:
    """Over REST, the Graph Store protocol and the command line: stored, said, not placed."""
    data = tmp_path / "data"
    with serving(data, demo=False) as hub:
        created = httpx.post(f"{hub.url}/api/places", headers=hub.auth, json={
            "id": "https://example.org/lieu/court", "name": "Lieu court", "postalCode": "7501"})
        assert created.status_code == 201, created.text
        assert created.json()["postalCode"] == "7501"  # kept as the person wrote it
        warning = created.headers["Warning"]
        assert warning.startswith("299 ") and "5 digits" in warning and "7501" in warning
        fine = httpx.post(f"{hub.url}/api/places", headers=hub.auth, json={
            "id": "https://example.org/lieu/bon", "name": "Lieu bon", "postalCode": "93100",
            "shortDescription": "Un lieu bien placé."})
        assert fine.status_code == 201 and "Warning" not in fine.headers
        turtle = (f'<https://example.org/lieu/nulle> a <{MLG}Place> ; <{MLG}name> "Nulle part" ; '
                  f'<{MLG}shortDescription> "Introuvable." ; <{MLG}inseeCode> "99999" .')
        put = httpx.put(f"{hub.url}/store", params={"graph": "https://example.org/graphs/nulle"},
                        content=turtle, headers={**hub.auth, "Content-Type": "text/turtle"})
        assert put.status_code == 201, put.text
        [unknown] = put.json()["warnings"]
        assert unknown["severity"] == "Warning" and "unknown INSEE code '99999'" in unknown["message"]["en"]
        assert territories(hub.url) == {"bon": "93048"}  # the others are kept, placed nowhere
        names = httpx.get(f"{hub.url}/sparql", params={"query": f"SELECT ?n WHERE {{ ?e <{MLG}name> ?n }}"})
        assert {b["n"]["value"] for b in names.json()["results"]["bindings"]} == {
            "Lieu court", "Lieu bon", "Nulle part"}
        assert httpx.get(f"{hub.url}/quarantine", headers=hub.auth).json() == []
    file = tmp_path / "lieux.ttl"
    file.write_text(f'<https://example.org/lieu/cedex> a <{MLG}Place> ; <{MLG}name> "Cedex" ; '
                    f'<{MLG}postalCode> "F-75011" .\n', encoding="utf-8")
    imported = maillage(data, "import", str(file))
    assert imported.returncode == 0, imported.stderr
    assert "stored, with warnings" in imported.stdout and "5 digits" in imported.stdout
    assert "malformed postal code 'F-75011'" in imported.stdout

"""Declared identities (owl:sameAs): what links two records at once, and what does not."""

from __future__ import annotations

import pyoxigraph as ox

from hub.pipeline.ingest import Ingestor
from hub.pipeline.match import LoneSource, reconcile
from hub.records import Record
from hub.store.oxigraph import OxigraphStore
from hub.vocab import DEFAULT_BASE_IRI, MLG, OWL_SAME_AS, RDF_TYPE

PLACE = ox.NamedNode(MLG + "Place")


def place(source: str, subject: str, name: str, *extra: tuple[str, ox.NamedNode], url: str | None = None) -> Record:
    s = ox.NamedNode(subject)
    triples = [ox.Triple(s, ox.NamedNode(RDF_TYPE), PLACE), ox.Triple(s, ox.NamedNode(MLG + "name"), ox.Literal(name))]
    triples += [ox.Triple(s, ox.NamedNode(p), o) for p, o in extra]
    return Record(source=source, source_id=subject.rsplit("/", 1)[1], triples=tuple(triples), source_url=url)


def test_same_as_links_to_an_entity_or_to_a_record_address_of_another_source() -> None:
    store = OxigraphStore(None)
    Ingestor(store, DEFAULT_BASE_IRI).ingest([
        place("platform", "https://hub.example.org/e/forge", "Forge (Lyon)", url="https://co.example.org/#@forge"),
        place("platform", "https://hub.example.org/e/phare", "Phare", url="https://co.example.org/#@phare"),
    ])
    records = [
        place("wiki", "https://hub.example.org/w/1", "La Forge",
              (OWL_SAME_AS, ox.NamedNode("https://co.example.org/#@forge"))),
        place("wiki", "https://hub.example.org/w/2", "Le Phare",
              (OWL_SAME_AS, ox.NamedNode("https://hub.example.org/e/phare"))),
        place("wiki", "https://hub.example.org/w/3", "Le Moulin",
              (OWL_SAME_AS, ox.NamedNode("http://www.wikidata.org/entity/Q42"))),
    ]
    out, _ = reconcile(store, records, DEFAULT_BASE_IRI)
    subjects = [r.entity().value for r in out]  # type: ignore[union-attr]
    assert subjects == ["https://hub.example.org/e/forge", "https://hub.example.org/e/phare",
                        "https://hub.example.org/w/3"], "an unknown address (Wikidata) renames nothing"


def test_a_record_read_after_the_page_that_names_it_joins_that_page() -> None:
    store = OxigraphStore(None)
    Ingestor(store, DEFAULT_BASE_IRI).ingest([
        place("wiki", "https://hub.example.org/w/1", "La Forge",
              (OWL_SAME_AS, ox.NamedNode("https://co.example.org/#@forge"))),
    ])
    element = place("platform", "https://hub.example.org/e/forge", "Forge (Lyon)", url="https://co.example.org/#@forge")
    out, _ = reconcile(store, [element], DEFAULT_BASE_IRI)
    assert out[0].entity().value == "https://hub.example.org/w/1"  # type: ignore[union-attr]


def test_a_page_written_between_two_batches_of_a_lone_source_still_links_the_next_batch() -> None:
    """A harvest remembers that its source is the only one in the hub (the store's answer scans
    every record); a page another writer commits meanwhile must still be matched."""
    store = OxigraphStore(None)
    ingestor = Ingestor(store, DEFAULT_BASE_IRI)
    alone = LoneSource(store, lambda: ingestor.next_sequence)
    for batch in (["forge"], ["moulin"]):  # two batches of a platform alone in the hub
        out, links = reconcile(store, [place("platform", f"https://hub.example.org/e/{n}", n.title(),
                                             url=f"https://co.example.org/#@{n}") for n in batch],
                               DEFAULT_BASE_IRI, alone)
        alone.committed(len(ingestor.ingest_batch(out, None, links).changes))
    # meanwhile, a wiki page (another sync, an API write) names the element read next
    ingestor.ingest_batch([place("wiki", "https://hub.example.org/w/1", "Le Phare",
                                 (OWL_SAME_AS, ox.NamedNode("https://co.example.org/#@phare")))])
    element = place("platform", "https://hub.example.org/e/phare", "Phare", url="https://co.example.org/#@phare")
    out, _ = reconcile(store, [element], DEFAULT_BASE_IRI, alone)
    assert out[0].entity().value == "https://hub.example.org/w/1"  # type: ignore[union-attr]

"""The ontology, the shapes, the JSON-LD context and the demo data agree with each other."""

from __future__ import annotations

import json

import pyoxigraph as ox
import rdflib
from rdflib.namespace import OWL, RDF, RDFS, SH

from hub.pipeline.ingest import Ingestor
from hub.pipeline.neighbours import types_of
from hub.pipeline.validate import Validator
from hub.rdf.io import ParseOptions, read_records
from hub.rdf.resources import DEMO_DIR, ONTOLOGY_DIR, SHAPES_DIR
from hub.store.oxigraph import OxigraphStore
from hub.vocab import COLLECTIONS, DEFAULT_BASE_IRI, MLG, SUBCLASSES

ALIGNED_NAMESPACES = ("https://schema.org/", "http://schema.org/", "http://virtual-assembly.org/",
                      "http://xmlns.com/foaf/", "http://www.w3.org/ns/org#",
                      "http://www.w3.org/ns/dcat#", "http://purl.org/dc/terms/",
                      "http://www.w3.org/ns/prov#", "http://www.w3.org/2003/01/geo/")


def ontology() -> rdflib.Graph:
    return rdflib.Graph().parse(ONTOLOGY_DIR / "maillage.ttl")


def test_every_hub_class_is_declared_labelled_and_aligned() -> None:
    graph = ontology()
    classes = list(COLLECTIONS.values()) + [c for subs in SUBCLASSES.values() for c in subs]
    for local in classes:
        cls = rdflib.URIRef(MLG + local)
        assert (cls, RDF.type, OWL.Class) in graph, local
        langs = {label.language for label in graph.objects(cls, RDFS.label)}  # type: ignore[attr-defined]
        assert {"fr", "en"} <= langs, local
    for local in COLLECTIONS.values():
        cls = rdflib.URIRef(MLG + local)
        targets = [str(o) for p in (RDFS.subClassOf, OWL.equivalentClass)
                   for o in graph.objects(cls, p)]
        assert any(t.startswith(ALIGNED_NAMESPACES) for t in targets), f"{local} is not aligned"


def test_one_shape_file_per_class_with_bilingual_messages() -> None:
    files = {p.stem for p in SHAPES_DIR.glob("*.ttl")}
    assert files == {c.lower() for c in COLLECTIONS.values()}
    shapes = rdflib.Graph()
    for path in SHAPES_DIR.glob("*.ttl"):
        shapes.parse(path)
    property_shapes = set(shapes.subjects(SH.path, None))
    assert property_shapes
    for shape in property_shapes:
        langs = {m.language for m in shapes.objects(shape, SH.message)}  # type: ignore[attr-defined]
        assert {"fr", "en"} <= langs, shape


def test_context_maps_every_ontology_property() -> None:
    context = json.loads((ONTOLOGY_DIR / "context.jsonld").read_text())["@context"]
    graph = ontology()
    properties = {str(p) for kind in (OWL.DatatypeProperty, OWL.ObjectProperty)
                  for p in graph.subjects(RDF.type, kind) if str(p).startswith(MLG)}
    assert properties
    for iri in properties:
        assert iri.removeprefix(MLG) in context, iri


def test_demo_data_loads_without_quarantine() -> None:
    records = read_records(DEMO_DIR / "demo.ttl", ParseOptions(source="demo", namespace=DEFAULT_BASE_IRI),
                           ox.RdfFormat.TURTLE)
    with OxigraphStore(None) as store:
        result = Ingestor(store, DEFAULT_BASE_IRI, Validator()).ingest(
            records, known_types=types_of(records))
        assert result.quarantined == 0, {g: r.summary() for g, r in result.reports.items()}
        assert result.created == len(records)
        # the PNI investigations reach their region through the territory hierarchy
        rows = store.select(f"""SELECT (COUNT(DISTINCT ?p) AS ?n) WHERE {{
            ?p a <{MLG}Project> ; <{MLG}concernsTerritory>/<{MLG}partOfTerritory>* ?r .
            ?r a <{MLG}Region> }}""")
        assert int(rows[0]["n"].value) > 0

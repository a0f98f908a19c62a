"""The compiled SHACL Core engine (hub.shacl) against pyshacl, result for result.

Both engines run on the same batches through ``Validator``; for every record the multiset of
(focus, path, severity, value, constraint component, source shape, messages) must be the same.
Values are compared in rdflib's normalized form, because pyshacl reports the literal rdflib
rewrote (``"01"^^xsd:integer`` becomes ``"1"``) while the compiled engine reports it as written.

Where the two disagree on purpose (the compiled engine follows the SHACL and XSD specifications,
pyshacl inherits rdflib's lenient literal parsing and Python's regex dialect), the inputs are kept
out of the differential sets and tested on their own in ``test_spec_where_pyshacl_differs``.
"""

from __future__ import annotations

import decimal
import logging
from collections import Counter
from collections.abc import Sequence
from pathlib import Path

import pyoxigraph as ox
import pytest
import rdflib
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from hub.pipeline.validate import Validator, Violation, load_shapes
from hub.rdf.bridge import to_rdflib
from hub.rdf.io import ParseOptions, read_records, records_from_quads
from hub.records import Record
from hub.shacl import LITERAL, UnsupportedShapes, compile_shapes
from hub.shacl.xsd import LEXICAL, XSD, datatype_check, xpath_regex

ROOT = Path(__file__).resolve().parent.parent
MLG = "https://w3id.org/maillage/ontology#"
ID = "https://example.org/id/"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
SH = "http://www.w3.org/ns/shacl#"
SHAPES = load_shapes()
CORE = Validator(SHAPES)
PYSHACL = Validator(SHAPES, engine="pyshacl")


def value_of(v: Violation) -> str | None:
    if v.detail is None or v.detail.value is None:
        return v.value
    kind, text, datatype, language = v.detail.value
    if kind != LITERAL:
        return text
    term = ox.Literal(text, language=language) if language else ox.Literal(text, datatype=ox.NamedNode(datatype))
    return str(to_rdflib(term))


def key(v: Violation) -> tuple[object, ...]:
    return (v.focus, v.path, v.severity, value_of(v), v.component, v.source_shape,
            frozenset(v.messages.items()))


RANGES = {SH + c for c in ("MinInclusiveConstraintComponent", "MaxInclusiveConstraintComponent",
                           "MinExclusiveConstraintComponent", "MaxExclusiveConstraintComponent")}


def ill_typed(record: Record) -> set[tuple[str, str]]:
    """(focus, path) pairs of the record that hold a literal outside its datatype's lexical space."""
    found = set()
    for t in record.triples:
        check = datatype_check(t.object.datatype.value) if isinstance(t.object, ox.Literal) else None
        if check is not None and not check(t.object.value):
            found.add((t.subject.value, t.predicate.value))  # type: ignore[union-attr]
    return found


def documented_difference(v: Violation, ill: set[tuple[str, str]]) -> bool:
    """A range result where an ill-typed literal is: not comparable, so a violation for SHACL,
    which pyshacl reports for some bounds only (pinned in SPEC below, left out of comparisons)."""
    return v.component in RANGES and (v.focus, v.path) in ill


def assert_same(records: Sequence[Record], neighbours: Sequence[ox.Triple] = (),
                core: Validator = CORE, reference: Validator = PYSHACL) -> int:
    """Both engines agree on every record; returns how many results there were."""
    assert core.engine == "core" and reference.engine == "pyshacl"
    ours, theirs = core.validate(records, neighbours), reference.validate(records, neighbours)
    total = 0
    for record, a, b in zip(records, ours, theirs, strict=True):
        ill = ill_typed(record)
        mine = Counter(key(v) for v in a.violations if not documented_difference(v, ill))
        assert mine == Counter(key(v) for v in b.violations if not documented_difference(v, ill)), record.source_id
        assert a.conforms == b.conforms
        total += len(a.violations)
    return total


# --- records -------------------------------------------------------------------------------------

def m(local: str) -> ox.NamedNode:
    return ox.NamedNode(MLG + local)


def node(local: str) -> ox.NamedNode:
    return ox.NamedNode(ID + local)


def s(text: str, lang: str | None = None) -> ox.Literal:
    return ox.Literal(text, language=lang) if lang else ox.Literal(text)


def typed(text: str, datatype: str) -> ox.Literal:
    return ox.Literal(text, datatype=ox.NamedNode(XSD + datatype))


Pairs = list[tuple[str, ox.NamedNode | ox.Literal]]
LINKED_CLASSES = ["Actor", "Organization", "Person", "Place", "Project", "Commons", "Resource", "Event",
                  "Territory", "Commune", "EPCI", "Department", "Region"]
NEIGHBOURS = [ox.Triple(node(f"linked-{c}"), ox.NamedNode(RDF_TYPE), m(c)) for c in LINKED_CLASSES]
NEIGHBOURS.append(ox.Triple(node("linked-two"), ox.NamedNode(RDF_TYPE), m("Place")))
NEIGHBOURS.append(ox.Triple(node("linked-two"), ox.NamedNode(RDF_TYPE), m("Commune")))

BASES: dict[str, Pairs] = {
    "Place": [("name", s("Le Hangar", "fr")), ("shortDescription", s("Un tiers-lieu", "fr")),
              ("postalCode", s("69001")), ("latitude", typed("45.75", "decimal")),
              ("longitude", typed("4.85", "decimal")), ("keyword", s("atelier")), ("keyword", s("fablab")),
              ("dateModified", typed("2024-05-01", "date")), ("territory", node("linked-Commune")),
              ("placeKind", s("tiers-lieu")), ("url", ox.NamedNode("https://hangar.example.org/")),
              ("email", s("contact@hangar.example.org"))],
    "Organization": [("name", s("Réseau", "fr")), ("name", s("Network", "en")),
                     ("memberOf", node("linked-Organization")), ("locatedAt", node("linked-Place")),
                     ("dateCreated", typed("2019-03-01T09:30:00", "dateTime")),
                     ("concernsTerritory", node("linked-Region"))],
    "Person": [("name", s("Camille")), ("carriesProject", node("linked-Project"))],
    "Event": [("name", s("Rencontre", "fr")), ("startDate", typed("2024-06-01T09:00:00+02:00", "dateTime")),
              ("endDate", typed("2024-06-02", "date")), ("organizedBy", node("linked-Person")),
              ("latitude", typed("43.5", "double")), ("longitude", typed("-1.0", "decimal"))],
    "Project": [("name", s("Projet", "fr")), ("carriedBy", node("linked-Actor")),
                ("startDate", typed("2023-01-01", "date")), ("license", ox.NamedNode("https://example.org/l"))],
    "Commons": [("name", s("Commun")), ("usedBy", node("linked-Organization")),
                ("locatedAt", node("linked-Place"))],
    "Resource": [("name", s("Guide", "fr")), ("resourceKind", s("outil")), ("documents", node("linked-Event"))],
    "Commune": [("name", s("Lyon", "fr")), ("inseeCode", s("69123")), ("partOfTerritory", node("linked-EPCI"))],
    "EPCI": [("name", s("Métropole", "fr")), ("inseeCode", s("200046977"))],
    "Department": [("name", s("Corse-du-Sud", "fr")), ("inseeCode", s("2A"))],
    "Region": [("name", s("Bretagne", "fr")), ("inseeCode", s("53"))],
    "Territory": [("name", s("Pays", "fr"))],
    "Service": [("name", s("Accompagnement numérique", "fr")), ("providedBy", node("linked-Organization")),
                ("audience", ox.NamedNode("https://example.org/concept/seniors")), ("fees", s("gratuit")),
                ("telephone", s("01 23 45 67 89")), ("inseeCode", s("69123")),
                ("eligibilityArea", ox.NamedNode("https://w3id.org/maillage/id/territory/departement-69"))],
    "Grant": [("name", s("Aide à l'ingénierie", "fr")), ("funder", node("linked-Organization")),
              ("concernsTerritory", node("linked-Region")), ("applicationDeadline", typed("2027-01-31", "date")),
              ("grantKind", s("Subvention")), ("areaServed", s("Bretagne"))],
}


def record(cls: str, pairs: Pairs, label: str) -> Record:
    subject = node(f"{cls}-{label}")
    triples = [ox.Triple(subject, ox.NamedNode(RDF_TYPE), m(cls))]
    triples += [ox.Triple(subject, m(p), o) for p, o in pairs]
    return Record(source="test", source_id=subject.value, triples=tuple(triples))


TEXTS = [s("x"), s("x", "fr"), s("y", "fr"), s("y", "en"), s(""), s("", "fr"), s("a" * 201), s("b" * 301, "fr"),
         s("c" * 1001), typed("12", "integer"), typed("true", "boolean"), ox.NamedNode("https://example.org/t")]
NUMBERS = [typed("45.5", "decimal"), typed("123", "integer"), typed("-90", "integer"), typed("90.0", "decimal"),
           typed("-180.5", "decimal"), typed("180", "integer"), typed("45.5", "double"), typed("INF", "double"),
           typed("-INF", "double"), s("45.5"),
           typed("45", "float"), typed("45.5", "string"), ox.NamedNode("https://example.org/n")]
DATES = [typed("2024-05-01", "date"), typed("2021-13-45", "date"), typed("2021-02-29", "date"),
         typed("2020-02-29", "date"), typed("2021-04-31", "date"), typed("hier", "date"),
         typed("2024-05-01T10:00:00", "dateTime"), typed("2024-05-01T10:00:00Z", "dateTime"),
         typed("2024-05-01T10:00:00.25+02:00", "dateTime"), typed("2024-05-01T25:00:00", "dateTime"),
         typed("2024-05-01T10:61:00", "dateTime"), s("2024-05-01"), typed("2024", "integer")]
LINKS = [node(f"linked-{c}") for c in LINKED_CLASSES] + [
    node("linked-two"), node("untyped"), s("https://example.org/x"), ox.NamedNode("ftp://example.org/f"),
    ox.NamedNode("http://example.org/h"), ox.NamedNode("https://example.org/s"), ox.NamedNode("mailto:a@b.fr"),
]
CODES = [s(c) for c in ("69123", "2A004", "2B033", "2C123", "6912", "691234", "200046977", "20004697", "2A",
                        "2a", "971", "977", "84", "8", "123", "08", "69001", "6900", "a@b.fr", "mailto:a@b.fr",
                        "a@b", "a b@c.fr", "a@b.c.fr", "x@y@z.fr", "12345678901234",
                        "1234567890123", "+33 1 23 45 67 89", "01")] + [
    typed("69001", "integer"), s("69001", "fr"), ox.NamedNode("https://example.org/c")]
KINDS = [s(k) for k in ("tiers-lieu", "site", "batiment", "autre", "outil", "documentation", "Site")] + [
    s("site", "fr"), typed("site", "string"), ox.NamedNode("https://example.org/site")]
POOLS = {
    "text": TEXTS, "number": NUMBERS, "date": DATES, "link": LINKS, "code": CODES, "kind": KINDS,
}
CATEGORY = {
    **dict.fromkeys(["name", "shortDescription", "description", "keyword", "theme", "streetAddress",
                     "locality", "serviceKind", "fees", "grantKind", "areaServed"], "text"),
    **dict.fromkeys(["latitude", "longitude"], "number"),
    **dict.fromkeys(["dateCreated", "dateModified", "startDate", "endDate", "applicationDeadline"], "date"),
    **dict.fromkeys(["url", "image", "license", "memberOf", "hasMember", "carriesProject", "locatedAt", "usesCommons",
                     "contributesTo", "organizes", "concernsTerritory", "territory", "usedBy", "organizedBy",
                     "carriedBy", "documents", "partOfTerritory", "providedBy", "funder", "audience",
                     "eligibilityArea"], "link"),
    **dict.fromkeys(["postalCode", "inseeCode", "email", "siret", "telephone"], "code"),
    **dict.fromkeys(["placeKind", "resourceKind"], "kind"),
}


def paths_of(cls: str) -> list[str]:
    """The properties the shapes targeting ``cls`` constrain."""
    g = SHAPES
    sh = rdflib.Namespace(SH)
    found: set[str] = set()
    for shape in g.subjects(sh.targetClass, rdflib.URIRef(MLG + cls)):
        for prop in g.objects(shape, sh.property):
            found.add(str(g.value(prop, sh.path)).removeprefix(MLG))
    return sorted(found)


def mutations(cls: str) -> list[Record]:
    """Every constrained property of the class: removed, given each value of its kind, or doubled."""
    base = BASES[cls]
    out = [record(cls, base, "base")]
    for path in paths_of(cls):
        kept = [(p, o) for p, o in base if p != path]
        out.append(record(cls, kept, f"{path}-none"))
        for i, value in enumerate(POOLS[CATEGORY[path]]):
            out.append(record(cls, [*kept, (path, value)], f"{path}-{i}"))
            out.append(record(cls, [*base, (path, value)], f"{path}-{i}-more"))
    return out


# --- differential tests --------------------------------------------------------------------------

def test_demo_records_agree() -> None:
    options = ParseOptions(source="demo", namespace="https://w3id.org/maillage/id/")
    records = read_records(ROOT / "demo" / "demo.ttl", options, ox.RdfFormat.TURTLE)
    assert len(records) > 300
    assert assert_same(records) == 0
    for start in range(0, len(records), 37):  # other batch boundaries: links cross batches
        batch = records[start : start + 37]
        assert_same(batch, NEIGHBOURS)


@pytest.mark.parametrize("cls", sorted(BASES))
def test_mutated_records_agree(cls: str) -> None:
    records = mutations(cls)
    assert CORE.validate(records[:1], NEIGHBOURS)[0].violations == []  # the base conforms
    assert assert_same(records, NEIGHBOURS) > 0


def _single(pairs: Pairs, cls: str = "Place", neighbours: Sequence[ox.Triple] = NEIGHBOURS) -> list[Violation]:
    rec = record(cls, pairs, "case")
    assert_same([rec], neighbours)
    return CORE.validate([rec], neighbours)[0].violations


PLACE = BASES["Place"]
CASES: dict[str, tuple[str, Pairs, str | None, str]] = {
    # name: (class, pairs, expected path, expected component)
    "missing name": ("Place", [p for p in PLACE if p[0] != "name"], "name", "MinCount"),
    "two names, one language": ("Place", [*PLACE, ("name", s("Autre", "fr"))], "name", "UniqueLang"),
    "name as integer": ("Place", [*PLACE[1:], ("name", typed("3", "integer"))], "name", "Or"),
    "ill-typed date": ("Place", [*PLACE[:-5], ("dateModified", typed("2021-13-45", "date"))], "dateModified", "Or"),
    "30 February": ("Event", [*BASES["Event"][:1], ("startDate", typed("2023-02-30", "date"))], "startDate", "Or"),
    "latitude 123": ("Place", [*[p for p in PLACE if p[0] != "latitude"], ("latitude", typed("123", "decimal"))],
                     "latitude", "MaxInclusive"),
    "two latitudes": ("Place", [*PLACE, ("latitude", typed("45.7", "decimal"))], "latitude", "MaxCount"),
    "bad postal code (warning)": ("Place", [*[p for p in PLACE if p[0] != "postalCode"], ("postalCode", s("6900"))],
                                  "postalCode", "Pattern"),
    "overlong postal code": ("Place", [*[p for p in PLACE if p[0] != "postalCode"], ("postalCode", s("9" * 21))],
                             "postalCode", "MaxLength"),
    "commune code": ("Commune", [("name", s("X")), ("inseeCode", s("2C123"))], "inseeCode", "Pattern"),
    "EPCI code": ("EPCI", [("name", s("X")), ("inseeCode", s("20004697"))], "inseeCode", "Pattern"),
    "department code": ("Department", [("name", s("X")), ("inseeCode", s("999"))], "inseeCode", "Pattern"),
    "region code": ("Region", [("name", s("X")), ("inseeCode", s("123"))], "inseeCode", "Pattern"),
    "region without code (warning)": ("Region", [("name", s("X"))], "inseeCode", "MinCount"),
    "url as a literal": ("Place", [*PLACE, ("url", s("https://example.org/"))], "url", "NodeKind"),
    "ftp url": ("Place", [*PLACE, ("url", ox.NamedNode("ftp://example.org/"))], "url", "Pattern"),
    "link to a wrong class": ("Place", [*PLACE, ("territory", node("linked-Place"))], "territory", "Or"),
    "link to an untyped node": ("Organization", [("name", s("X")), ("locatedAt", node("untyped"))],
                                "locatedAt", "Class"),
    "placeKind not in list": ("Place", [*PLACE[:-3], ("placeKind", s("autre"))], "placeKind", "In"),
    "placeKind with a language": ("Place", [*PLACE[:-3], ("placeKind", s("site", "fr"))], "placeKind", "In"),
    "overlong name": ("Place", [*PLACE[1:], ("name", s("n" * 301, "fr"))], "name", "MaxLength"),
    "empty keyword": ("Place", [*PLACE, ("keyword", s(""))], "keyword", "MinLength"),
    "overlong short description": ("Place", [*PLACE[:1], *PLACE[2:], ("shortDescription", s("d" * 1001))],
                                   "shortDescription", "MaxLength"),
    "no short description (warning)": ("Place", [*PLACE[:1], *PLACE[2:]], "shortDescription", "MinCount"),
    "email with mailto": ("Place", [*PLACE[:-1], ("email", s("mailto:a@b.fr"))], "email", "Pattern"),
    "event without start": ("Event", [("name", s("X"))], "startDate", "MinCount"),
    "resource kind": ("Resource", [("name", s("X")), ("resourceKind", s("livre"))], "resourceKind", "In"),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_broken_records(name: str) -> None:
    cls, pairs, path, component = CASES[name]
    found = {(v.path, v.component): v.severity for v in _single(pairs, cls)}
    key = (MLG + path if path else None, f"{SH}{component}ConstraintComponent")
    assert key in found
    # a warning keeps the record (a malformed postal code: stored, not placed); the rest refuse it
    assert found[key] == ("Warning" if name.endswith("(warning)") else "Violation")


def test_messages_are_the_shapes_own() -> None:
    (violation,) = _single([*PLACE[1:], ("name", typed("3", "integer"))])
    assert violation.messages["fr"].startswith("Le nom doit être un texte")
    assert violation.messages["en"].startswith("The name must be a text")
    assert violation.source_shape == "https://w3id.org/maillage/shapes#Place-name"
    assert violation.severity == "Violation" and violation.value == "3"


def test_records_split_across_a_batch() -> None:
    """A subject described by two records of one batch is validated on all its triples."""
    first = record("Place", [("name", s("A", "fr"))], "split")
    second = Record(source="test", source_id="second", triples=(
        ox.Triple(node("Place-split"), m("name"), s("B", "fr")),
        ox.Triple(node("Place-split"), m("latitude"), typed("99", "integer")),
    ))
    assert assert_same([first, second], NEIGHBOURS) > 0


POOL = [v for pool in POOLS.values() for v in pool]


@settings(max_examples=120, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    cls=st.sampled_from(sorted(BASES)),
    drops=st.lists(st.integers(0, 20), max_size=3),
    adds=st.lists(st.tuples(st.sampled_from(sorted(CATEGORY)), st.sampled_from(POOL)), max_size=4),
)
def test_random_mutations_agree(cls: str, drops: list[int], adds: list[tuple[str, ox.Term]]) -> None:
    pairs = list(BASES[cls])
    for index in drops:
        if pairs:
            pairs.pop(index % len(pairs))
    pairs += adds  # type: ignore[arg-type]
    assert_same([record(cls, pairs, "random")], NEIGHBOURS)


# --- other SHACL Core features, with shapes of our own -------------------------------------------

PREFIXES = """
@prefix ex: <http://example.org/ns#> . @prefix sh: <http://www.w3.org/ns/shacl#> .
@prefix xsd: <http://www.w3.org/2001/XMLSchema#> . @prefix rdfs: <http://www.w3.org/2000/01/rdf-schema#> .
@prefix d: <https://example.org/id/> .
"""
FEATURE_SHAPES = PREFIXES + """
ex:Thing a sh:NodeShape, rdfs:Class ;
    sh:property [ sh:path ex:p ; sh:minCount 2 ; sh:maxCount 3 ; sh:datatype xsd:integer ;
                  sh:minExclusive 0 ; sh:maxExclusive 10 ] ,
                [ sh:path ex:lang ; sh:languageIn ( "en" "fr-CA" ) ; sh:uniqueLang true ; sh:minLength 2 ] ,
                [ sh:path ex:has ; sh:hasValue "needed" ; sh:in ( "needed" ) ] ,
                [ sh:path ex:kind ; sh:nodeKind sh:BlankNodeOrLiteral ; sh:maxLength 5 ] ,
                [ sh:path ex:any ; sh:and ( [ sh:nodeKind sh:IRI ] [ sh:pattern "^https" ; sh:flags "i" ] ) ] ,
                [ sh:path ex:one ; sh:xone ( [ sh:class ex:A ] [ sh:class ex:B ] ) ] ,
                [ sh:path ex:neg ; sh:not [ sh:datatype xsd:string ] ] ,
                [ sh:path ex:typed ; sh:datatype xsd:int ] ,
                [ sh:path ex:weird ; sh:datatype ex:myType ] ,
                [ sh:path ex:off ; sh:minCount 5 ; sh:deactivated true ] .
ex:Sub rdfs:subClassOf ex:Thing .
ex:ByNode a sh:NodeShape ; sh:targetNode d:listed ; sh:class ex:Listed ; sh:nodeKind sh:IRI .
ex:BySubject a sh:NodeShape ; sh:targetSubjectsOf ex:parent ; sh:property [ sh:path ex:parent ; sh:class ex:Thing ] .
ex:ByObject a sh:NodeShape ; sh:targetObjectsOf ex:parent ; sh:severity sh:Info ;
    sh:property [ sh:path ex:p ; sh:minCount 1 ; sh:severity sh:Warning ] .
ex:Nested a sh:NodeShape ; sh:targetClass ex:Box ;
    sh:property [ sh:path ex:item ; sh:property [ sh:path ex:p ; sh:minCount 1 ] ] .
"""
FEATURE_DATA = PREFIXES + """
d:t1 a ex:Thing ; ex:p 1, 11, 0, "5" ; ex:lang "hello"@en, "hi"@en, "salut"@fr-ca, "bonjour"@fr, "x" ;
    ex:has "other" ; ex:kind "short", "toolong", d:iri ; ex:any <HTTPS://example.org/a>, <http://example.org/b>, "s" ;
    ex:one d:a, d:ab, d:none ; ex:neg "s", 3 ; ex:typed "12"^^xsd:int, "3000000000"^^xsd:int, "x"^^xsd:int ;
    ex:weird "whatever"^^ex:myType, "x" ; ex:parent d:t2 .
d:t2 a ex:Sub ; ex:p 4, 5 ; ex:has "needed" ; ex:parent d:nothing .
d:a a ex:A . d:ab a ex:A, ex:B . d:none ex:p 1 .
d:listed ex:p 1 .
d:box a ex:Box ; ex:item d:a, d:t2 .
ex:Sub rdfs:subClassOf ex:Thing . ex:Sub2 rdfs:subClassOf ex:Sub .
d:t4 a ex:Sub2 ; ex:p 7 ; ex:parent d:t3 .
d:t3 ex:label "no ex:p here" .
"""


def _records(data: str) -> list[Record]:
    quads = list(ox.parse(data.encode(), ox.RdfFormat.TURTLE))
    return list(records_from_quads(quads, ParseOptions(source="test", namespace=ID)))


def _pair(shapes_ttl: str) -> tuple[Validator, Validator]:
    graph = rdflib.Graph().parse(data=shapes_ttl, format="turtle")
    return Validator(graph), Validator(graph, engine="pyshacl")


def test_other_core_features_agree_with_generic_messages() -> None:
    core, reference = _pair(FEATURE_SHAPES)
    records = _records(FEATURE_DATA)
    assert assert_same(records, core=core, reference=reference) > 20
    components = {v.component.removeprefix(SH) for r in core.validate(records) for v in r.violations if v.component}
    assert components >= {f"{c}ConstraintComponent" for c in (
        "MinCount", "MaxCount", "Datatype", "MinExclusive", "MaxExclusive", "LanguageIn", "UniqueLang",
        "MinLength", "HasValue", "In", "NodeKind", "MaxLength", "And", "Xone", "Not", "Class")}
    messages = {m for r in core.validate(records) for v in r.violations for m in v.messages.values()}
    assert "Less than 1 values on <https://example.org/id/a>->ex:p" in messages  # nested sh:property
    focus = {(v.focus.removeprefix(ID), v.severity) for r in core.validate(records) for v in r.violations}
    assert {("t4", "Violation"), ("t3", "Warning")} <= focus  # subclasses in the data, sh:targetObjectsOf


@pytest.mark.parametrize("feature", [
    "sh:sparql [ sh:select \"SELECT $this WHERE { }\" ]",
    "sh:property [ sh:path ex:p ; sh:qualifiedValueShape [ sh:class ex:A ] ; sh:qualifiedMinCount 1 ]",
    "sh:property [ sh:path ex:p ; sh:node ex:Other ]",
    "sh:property [ sh:path ( ex:p ex:q ) ; sh:minCount 1 ]",
    "sh:closed true",
    "sh:property [ sh:path ex:p ; sh:lessThan ex:q ]",
    "sh:property [ sh:path ex:p ; sh:datatype xsd:gYear ]",
    "sh:property [ sh:path ex:p ; sh:pattern \"^\\\\w+$\" ]",
    "sh:property [ sh:path ex:p ; sh:or ( [ sh:datatype xsd:string ; sh:severity sh:Warning ] ) ]",
    "sh:property [ sh:path ex:q ; sh:minCount 1 ; sh:deactivated \"true\" ]",
])
def test_unsupported_features_fall_back_to_pyshacl(feature: str, caplog: pytest.LogCaptureFixture) -> None:
    shapes = PREFIXES + f"ex:S a sh:NodeShape ; sh:targetClass ex:Thing ; sh:property [ sh:path ex:p ; sh:minCount 3 ] ; {feature} ."
    graph = rdflib.Graph().parse(data=shapes, format="turtle")
    with pytest.raises(UnsupportedShapes):
        compile_shapes(graph)
    with caplog.at_level(logging.WARNING, logger="hub.pipeline.validate"):
        validator = Validator(graph)
        Validator(graph)
    assert validator.engine == "pyshacl" and validator.compiled is None
    assert len([r for r in caplog.records if "pyshacl" in r.getMessage()]) <= 1
    (report,) = validator.validate(_records(PREFIXES + "d:t a ex:Thing ; ex:p 1 ."))
    assert not report.conforms
    assert "MinCountConstraintComponent" in report.turtle()


def test_fallback_is_logged_once(caplog: pytest.LogCaptureFixture) -> None:
    shapes = PREFIXES + "ex:S a sh:NodeShape ; sh:targetClass ex:T ; sh:equals ex:logged-once ."
    graph = rdflib.Graph().parse(data=shapes, format="turtle")
    with caplog.at_level(logging.WARNING, logger="hub.pipeline.validate"):
        for _ in range(3):
            Validator(graph)
    assert len([r for r in caplog.records if "shacl#equals" in r.getMessage()]) == 1


def test_unknown_engine_is_refused() -> None:
    with pytest.raises(ValueError):
        Validator(SHAPES, engine="fast")  # type: ignore[arg-type]


# --- the report graph ----------------------------------------------------------------------------

def _results(graph: rdflib.Graph) -> Counter[tuple[object, ...]]:
    shn = rdflib.Namespace(SH)
    out: Counter[tuple[object, ...]] = Counter()
    for r in graph.subjects(rdflib.RDF.type, shn.ValidationResult):
        shape = graph.value(r, shn.sourceShape)
        out[(graph.value(r, shn.focusNode), graph.value(r, shn.resultPath), graph.value(r, shn.value),
             graph.value(r, shn.resultSeverity), graph.value(r, shn.sourceConstraintComponent),
             shape if isinstance(shape, rdflib.URIRef) else None,
             frozenset(graph.objects(r, shn.resultMessage)))] += 1
    return out


def test_report_graph_is_a_shacl_report_like_pyshacls() -> None:
    rec = record("Place", [*PLACE[1:], ("name", typed("3", "integer")), ("latitude", typed("123", "integer")),
                           ("territory", node("untyped"))], "report")
    ours, theirs = CORE.validate([rec], NEIGHBOURS)[0], PYSHACL.validate([rec], NEIGHBOURS)[0]
    assert ours._graph is None  # not built until asked for
    text = ours.turtle()
    graph = rdflib.Graph().parse(data=text, format="turtle")
    shn = rdflib.Namespace(SH)
    assert (None, rdflib.RDF.type, shn.ValidationReport) in graph
    assert (None, shn.conforms, rdflib.Literal(False)) in graph
    assert _results(graph) == _results(theirs.graph)
    assert len(_results(graph)) == len(ours.violations) >= 4
    blank = rdflib.Graph().parse(data=CORE.validate([record("Place", PLACE, "ok")], NEIGHBOURS)[0].turtle())
    assert len(blank) == 0


def test_report_keeps_literals_as_written() -> None:
    rec = record("Place", [*PLACE[:-3], ("placeKind", typed("07", "integer"))], "lexical")
    (violation,) = CORE.validate([rec], NEIGHBOURS)[0].violations
    assert violation.value == "07"
    text = CORE.validate([rec], NEIGHBOURS)[0].turtle()
    (value,) = [q.object for q in ox.parse(text.encode(), ox.RdfFormat.TURTLE) if q.predicate.value == SH + "value"]
    assert value == typed("07", "integer")


def test_blank_source_shapes_are_described() -> None:
    core, _ = _pair(FEATURE_SHAPES)
    (report,) = core.validate(_records(PREFIXES + "d:t a ex:Thing ; ex:p 1 ."))
    graph = report.graph
    shn = rdflib.Namespace(SH)
    shapes = set(graph.objects(None, shn.sourceShape))
    assert shapes and all(isinstance(x, rdflib.BNode) for x in shapes)
    assert all(graph.value(x, shn.path) is not None for x in shapes)


# --- where the specification and pyshacl part ways ------------------------------------------------

SPEC: dict[str, tuple[Pairs, str, bool]] = {
    # name: (pairs added to a valid place, path, whether SHACL/XSD say it is a violation)
    # rdflib parses these as dates/numbers, so pyshacl accepts them; XSD does not.
    "dateTime lexical form under xsd:date": ([("dateCreated", typed("2021-01-01T00:00:00", "date"))], "dateCreated", True),
    "dateTime without seconds": ([("dateCreated", typed("2021-01-01T10:00", "dateTime"))], "dateCreated", True),
    "space instead of T": ([("dateCreated", typed("2021-01-01 10:00:00", "dateTime"))], "dateCreated", True),
    "time zone beyond 14:00": ([("dateCreated", typed("2021-01-01T10:00:00+15:00", "dateTime"))], "dateCreated", True),
    "exponent in a decimal": ([("longitude", typed("1e1", "decimal"))], "longitude", True),
    "decimal NaN": ([("longitude", typed("NaN", "decimal"))], "longitude", True),
    "spaces around a decimal": ([("longitude", typed(" 4.85", "decimal"))], "longitude", True),
    "Python float syntax": ([("longitude", typed("1_0", "double"))], "longitude", True),
    "lowercase inf": ([("longitude", typed("-inf", "double"))], "longitude", True),
    # An ill-typed number is not comparable: pyshacl reports sh:minInclusive but not sh:maxInclusive.
    "ill-typed decimal under a range": ([("longitude", typed("abc", "decimal"))], "longitude", True),
    "ill-typed double under a range": ([("longitude", typed("4,5", "double"))], "longitude", True),
    "ill-typed dateTime under a number range": ([("latitude", typed("2024-05-01T25:00:00", "dateTime"))],
                                                "latitude", True),
    # rdflib rewrites "045" as "45": for pyshacl the two values are one, for RDF they are two terms.
    "two spellings of one integer": ([("latitude", typed("45", "integer")), ("latitude", typed("045", "integer"))],
                                     "latitude", True),
    # NaN is not <= 90: pyshacl only reports sh:minInclusive.
    "double NaN": ([("longitude", typed("NaN", "double"))], "longitude", True),
    # XSD 1.1 has year 0, years beyond 9999 and 24:00:00; Python's datetime has none of them.
    "year 0000": ([("dateCreated", typed("0000-01-01", "date"))], "dateCreated", False),
    "year 12024": ([("dateCreated", typed("12024-01-01", "date"))], "dateCreated", False),
    "end of day": ([("dateCreated", typed("2021-01-01T24:00:00", "dateTime"))], "dateCreated", False),
    # XPath's $ is the end of the string; Python's also matches before a final newline.
    "newline after a postal code": ([("postalCode", s("69001\n"))], "postalCode", True),
    # XPath's \\s is space, tab, CR and LF; Python's is every Unicode space.
    "no-break space in an email": ([("email", s("contact@example.org\u00a0x"))], "email", False),
}


@pytest.mark.parametrize("name", sorted(SPEC))
def test_spec_where_pyshacl_differs(name: str) -> None:
    pairs, path, violation = SPEC[name]
    base = [p for p in PLACE if p[0] != path]
    rec = record("Place", [*base, *pairs], "spec")
    ours = [v for v in CORE.validate([rec], NEIGHBOURS)[0].violations if v.path == MLG + path]
    assert bool(ours) == violation
    try:
        theirs = [v for v in PYSHACL.validate([rec], NEIGHBOURS)[0].violations if v.path == MLG + path]
    except decimal.InvalidOperation:  # pyshacl 0.40 crashes on "NaN"^^xsd:decimal under sh:minInclusive
        return
    assert Counter(map(key, ours)) != Counter(map(key, theirs))  # the documented difference still exists


# --- the lexical checks and the regex translation --------------------------------------------------

@pytest.mark.parametrize(("datatype", "good", "bad"), [
    ("date", ["2024-02-29", "2000-02-29", "-0044-03-15", "2024-01-01Z", "2024-01-01-14:00"],
     ["2023-02-29", "1900-02-29", "2024-1-01", "24-01-01", "2024-01-01T00:00:00", " 2024-01-01", "2024-01-01+14:01"]),
    ("dateTime", ["2024-01-01T00:00:00", "2024-01-01T23:59:59.999Z", "2024-01-01T24:00:00"],
     ["2024-01-01T24:00:01", "2024-01-01T10:00", "2024-01-01", "2024-01-01T10:00:00z"]),
    ("decimal", ["1", "-1.5", "+.5", "1.", "007"], ["1e5", ".", "", "NaN", "1,5", " 1"]),
    ("integer", ["0", "-12", "+3", "0012"], ["1.0", "", "1e3", "١٢"]),
    ("double", ["1", "1.5E-3", "INF", "-INF", "+INF", "NaN", ".5e1"], ["inf", "nan", "1_0", "E1", "Infinity"]),
    ("boolean", ["true", "false", "1", "0"], ["TRUE", "yes", ""]),
    ("byte", ["127", "-128"], ["128", "-129"]),
    ("unsignedInt", ["4294967295"], ["-1", "4294967296"]),
])
def test_lexical_spaces(datatype: str, good: list[str], bad: list[str]) -> None:
    check = LEXICAL[XSD + datatype]
    assert check is not None
    assert all(check(x) for x in good), [x for x in good if not check(x)]
    assert not any(check(x) for x in bad), [x for x in bad if check(x)]


def test_xpath_regex_translation() -> None:
    assert xpath_regex("^[0-9]{5}$", "").search("69001\n") is None
    assert xpath_regex("^a.c$", "").search("a\rc") is None
    assert xpath_regex("^a.c$", "s").search("a\nc")
    assert xpath_regex(r"^\s$", "").search("\u00a0") is None
    assert xpath_regex(r"^[^@\s]+$", "").search("a\u00a0b")
    assert xpath_regex("^ABC$", "i").search("abc")
    assert xpath_regex("^b$", "m").search("a\nb\nc")
    assert xpath_regex("(?:ab)+", "").search("abab")
    for bad, flags in ((r"\w+", ""), (r"\p{L}", ""), ("(?=a)", ""), ("[a-z-[aeiou]]", ""), ("a b", "x")):
        with pytest.raises(UnsupportedShapes):
            xpath_regex(bad, flags)

"""The runtime of the compiled SHACL Core validator: compiled shapes, the indexed data, results.

pyshacl rebuilds its view of the shapes graph on every call and runs each constraint through
rdflib; with the hub shapes that is 3–5 ms per record, most of it in the ``sh:or`` datatype
alternatives. Here :func:`hub.shacl.compile_shapes` turns the shapes graph into :class:`Shape` objects
holding small closures (one per constraint), and :meth:`CompiledShapes.validate` runs them over
pyoxigraph triples turned into tuples, with no rdflib at all on the way.

Supported: targets (``sh:targetClass``, ``sh:targetNode``, ``sh:targetSubjectsOf``,
``sh:targetObjectsOf``, implicit class targets), node shapes and property shapes with an IRI
``sh:path``, nested ``sh:property``, ``sh:class``, ``sh:datatype``, ``sh:nodeKind``,
``sh:minCount``/``sh:maxCount``, ``sh:min/maxInclusive``/``Exclusive`` with numeric bounds,
``sh:minLength``/``sh:maxLength``, ``sh:pattern`` (with ``sh:flags`` i, m, s), ``sh:languageIn``,
``sh:uniqueLang``, ``sh:in``, ``sh:hasValue``, ``sh:and``/``sh:or``/``sh:xone``/``sh:not``,
``sh:severity``, ``sh:message``, ``sh:deactivated``. Anything else in the SHACL namespace
(``sh:node``, ``sh:qualifiedValueShape``, ``sh:closed``, property pairs, SPARQL, complex paths,
...) makes :func:`hub.shacl.compile_shapes` raise :class:`UnsupportedShapes`: nothing is skipped
silently.

This module imports nothing from its sibling modules: the compiler, the checks and the report
build on it, never the reverse.

Semantics follow the SHACL recommendation; the few places where pyshacl 0.40 says otherwise
(rdflib's lenient or normalized literals, Python's ``re`` dialect) are listed in the tests.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field

import pyoxigraph as ox
import rdflib

__all__ = ["CompiledShapes", "Data", "Node", "Result", "Shape", "UnsupportedShapes"]

SH = "http://www.w3.org/ns/shacl#"
XSD = "http://www.w3.org/2001/XMLSchema#"
XSD_STRING = XSD + "string"
RDF_LANGSTRING = "http://www.w3.org/1999/02/22-rdf-syntax-ns#langString"
RDF_TYPE = "http://www.w3.org/1999/02/22-rdf-syntax-ns#type"
RDFS_SUBCLASSOF = "http://www.w3.org/2000/01/rdf-schema#subClassOf"
IRI, BNODE, LITERAL = 0, 1, 2

Node = tuple[int, str, str, str]
"""An RDF term as (kind, IRI / blank node id / lexical form, datatype IRI, language tag)."""

ValueTest = Callable[[Node, "Data"], bool]
SetTest = Callable[[Node, Collection[Node], "Data"], list[Node | None]]
Messages = Callable[[Node, Node | None], tuple[tuple[str, str | None], ...]]
"""Generic messages of a constraint, given the focus node and the value node."""


class UnsupportedShapes(Exception):
    """The shapes graph uses a SHACL feature the compiled engine does not implement.

    Raised at compile time, never during validation: a caller can then fall back to another
    engine for the whole shapes graph instead of skipping a constraint silently.
    """


def iri_node(iri: str) -> Node:
    return (IRI, iri, "", "")


def ox_node(term: ox.NamedNode | ox.BlankNode | ox.Literal | ox.Triple) -> Node:
    kind = type(term)
    if kind is ox.NamedNode:
        return (IRI, term.value, "", "")  # type: ignore[union-attr]
    if kind is ox.Literal:
        language = term.language  # type: ignore[union-attr]
        if language:
            return (LITERAL, term.value, RDF_LANGSTRING, language)  # type: ignore[union-attr]
        return (LITERAL, term.value, term.datatype.value, "")  # type: ignore[union-attr]
    if kind is ox.BlankNode:
        return (BNODE, term.value, "", "")  # type: ignore[union-attr]
    raise TypeError("RDF-star triples are not supported by the SHACL engine")


def rdflib_node(term: rdflib.term.Node) -> Node:
    if isinstance(term, rdflib.URIRef):
        return (IRI, str(term), "", "")
    if isinstance(term, rdflib.BNode):
        return (BNODE, str(term), "", "")
    if isinstance(term, rdflib.Literal):
        if term.language:
            return (LITERAL, str(term), RDF_LANGSTRING, term.language.lower())
        return (LITERAL, str(term), str(term.datatype or XSD_STRING), "")
    raise TypeError(f"unsupported term {term!r}")


def to_rdflib(node: Node, *, as_written: bool = True) -> rdflib.term.Identifier:
    """The rdflib term of a node: the lexical form exactly as written, or (``as_written=False``)
    normalized as rdflib itself would read it, which is how generic messages print values."""
    kind, text, datatype, language = node
    if kind == IRI:
        return rdflib.URIRef(text)
    if kind == BNODE:
        return rdflib.BNode(text)
    normalize = False if as_written else None  # None: rdflib's own (normalizing) default
    if language:
        return rdflib.Literal(text, lang=language, normalize=normalize)
    if datatype == XSD_STRING:
        return rdflib.Literal(text)
    return rdflib.Literal(text, datatype=rdflib.URIRef(datatype), normalize=normalize)


@dataclass(eq=False, slots=True)
class Check:
    """One constraint of a shape: per value node (``test``) or over all of them (``run``)."""

    component: str
    messages: Messages
    test: ValueTest | None = None
    run: SetTest | None = None


@dataclass(eq=False, slots=True)
class Shape:
    """A compiled node shape (``path`` None) or property shape."""

    node: rdflib.term.Node
    graph: rdflib.Graph
    path: str | None = None
    severity: str = SH + "Violation"
    messages: tuple[tuple[str, str | None], ...] = ()
    deactivated: bool = False
    checks: list[Check] = field(default_factory=list)
    properties: list[Shape] = field(default_factory=list)
    value_checks: list[Check] = field(default_factory=list)
    """The ``checks`` tested value by value (the others look at all values at once)."""
    set_checks: list[Check] = field(default_factory=list)
    value_test: ValueTest | None = None
    """When the shape is a plain test on the focus node itself (an ``sh:or`` member), that test."""

    @property
    def iri(self) -> str | None:
        return str(self.node) if isinstance(self.node, rdflib.URIRef) else None


@dataclass(frozen=True, slots=True)
class Result:
    """One SHACL validation result."""

    focus: Node
    shape: Shape
    component: str
    value: Node | None
    messages: tuple[tuple[str, str | None], ...]

    @property
    def path(self) -> str | None:
        return self.shape.path

    @property
    def severity(self) -> str:
        return self.shape.severity


class Data:
    """The data graph of one batch, indexed by subject then predicate (values deduplicated)."""

    __slots__ = ("_supers", "has_subclasses", "index")

    def __init__(self, triples: Iterable[ox.Triple]) -> None:
        index: dict[Node, dict[str, dict[Node, None]]] = {}
        for t in triples:
            subject = ox_node(t.subject)
            by_predicate = index.get(subject)
            if by_predicate is None:
                by_predicate = index[subject] = {}
            predicate = t.predicate.value
            values = by_predicate.get(predicate)
            if values is None:
                values = by_predicate[predicate] = {}
            values[ox_node(t.object)] = None
        self.index = index
        self._supers: dict[Node, set[Node]] | None = None
        self.has_subclasses = any(RDFS_SUBCLASSOF in props for props in index.values())

    def values(self, focus: Node, path: str) -> Collection[Node]:
        by_predicate = self.index.get(focus)
        if by_predicate is None:
            return ()
        return by_predicate.get(path) or ()

    def superclasses(self, cls: Node) -> set[Node]:
        """``rdfs:subClassOf*`` in the data graph, as SHACL instance checks and targets use it."""
        if self._supers is None:
            self._supers = {}
        found = self._supers.get(cls)
        if found is None:
            found, todo = {cls}, [cls]
            while todo:
                for parent in self.values(todo.pop(), RDFS_SUBCLASSOF):
                    if parent not in found:
                        found.add(parent)
                        todo.append(parent)
            self._supers[cls] = found
        return found

    def is_instance(self, node: Node, cls: Node) -> bool:
        if node[0] == LITERAL:
            return False
        types = self.values(node, RDF_TYPE)
        if cls in types:
            return True
        return self.has_subclasses and any(cls in self.superclasses(t) for t in types)


def _validate(shape: Shape, focus: Node, data: Data, out: list[Result]) -> None:
    if shape.deactivated:
        return
    values: Collection[Node]
    if shape.path is None:
        values = (focus,)
    else:
        by_predicate = data.index.get(focus)
        values = by_predicate.get(shape.path, ()) if by_predicate else ()
    if values:
        for check in shape.value_checks:
            test = check.test
            for value in values:
                if not test(value, data):  # type: ignore[misc]
                    messages = shape.messages or check.messages(focus, value)
                    out.append(Result(focus, shape, check.component, value, messages))
        for nested in shape.properties:
            for value in values:
                _validate(nested, value, data, out)
    for check in shape.set_checks:
        for failed in check.run(focus, values, data):  # type: ignore[misc]
            messages = shape.messages or check.messages(focus, failed)
            out.append(Result(focus, shape, check.component, failed, messages))


def conforms(shape: Shape, focus: Node, data: Data) -> bool:
    """Whether ``focus`` conforms to ``shape`` (no result of any severity), stopping early."""
    if shape.value_test is not None:
        return shape.deactivated or shape.value_test(focus, data)
    if shape.deactivated:
        return True
    values: Collection[Node] = (focus,) if shape.path is None else data.values(focus, shape.path)
    for check in shape.checks:
        if check.test is not None:
            test = check.test
            if not all(test(v, data) for v in values):
                return False
        elif check.run(focus, values, data):  # type: ignore[misc]
            return False
    return all(conforms(nested, v, data) for nested in shape.properties for v in values)


@dataclass(eq=False)
class CompiledShapes:
    """The shapes graph, compiled: the shapes that have targets, indexed by kind of target."""

    graph: rdflib.Graph
    by_class: dict[Node, list[Shape]] = field(default_factory=dict)
    by_node: dict[Node, list[Shape]] = field(default_factory=dict)
    by_subject_of: dict[str, list[Shape]] = field(default_factory=dict)
    by_object_of: dict[str, list[Shape]] = field(default_factory=dict)
    all_focus_nodes: bool = False
    """True when results can name a focus node other than the targeted one (``sh:property``
    nested under a property shape): every targeted node is then validated, not only the
    candidates."""

    def shapes_for(self, focus: Node, data: Data, objects: dict[str, set[Node]],
                   subclasses: bool) -> list[Shape]:
        found: dict[int, Shape] = {}
        for cls in data.values(focus, RDF_TYPE):
            classes = data.superclasses(cls) if subclasses else (cls,)
            for each in classes:
                for shape in self.by_class.get(each, ()):
                    found.setdefault(id(shape), shape)
        for shape in self.by_node.get(focus, ()):
            found.setdefault(id(shape), shape)
        if self.by_subject_of:
            props = data.index.get(focus, {})
            for predicate, shapes in self.by_subject_of.items():
                if predicate in props:
                    for shape in shapes:
                        found.setdefault(id(shape), shape)
        for predicate, shapes in self.by_object_of.items():
            if focus in objects[predicate]:
                for shape in shapes:
                    found.setdefault(id(shape), shape)
        return list(found.values())

    def validate(self, triples: Iterable[ox.Triple], candidates: Iterable[Node] | None) -> list[Result]:
        """Every result about the targeted nodes among ``candidates`` (None: all nodes).

        Results about other nodes can only come from ``sh:property`` nested under a property
        shape; when the shapes have that, every targeted node is validated.
        """
        return self.validate_data(Data(triples), candidates)

    def validate_data(self, data: Data, candidates: Iterable[Node] | None) -> list[Result]:
        objects = {
            predicate: {v for props in data.index.values() for v in props.get(predicate, ())}
            for predicate in self.by_object_of
        }
        focus_nodes: Iterable[Node] | None = candidates
        if focus_nodes is None or self.all_focus_nodes:
            everything: dict[Node, None] = dict.fromkeys(candidates or ())
            everything.update(dict.fromkeys(data.index))
            everything.update(dict.fromkeys(self.by_node))
            for values in objects.values():
                everything.update(dict.fromkeys(values))
            focus_nodes = everything
        subclasses = data.has_subclasses
        out: list[Result] = []
        for focus in focus_nodes:
            for shape in self.shapes_for(focus, data, objects, subclasses):
                _validate(shape, focus, data, out)
        return out


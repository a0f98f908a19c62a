"""The checks and generic messages the compiler of :mod:`hub.shacl` builds shapes from.

Each check is a closure over a compiled parameter: a test of one value node, or a run over all the
value nodes of a focus node. Generic messages (for shapes without ``sh:message``) are only
computed for results. How they print RDF terms is the caller's choice (:class:`Wording`): the hub
injects pyshacl's ``stringify_node`` so that both of its engines word results the same way, while
this package imports no SHACL engine but its own.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection
from functools import cache

import rdflib

from hub.shacl.model import (
    BNODE,
    LITERAL,
    RDF_LANGSTRING,
    Data,
    Messages,
    Node,
    Shape,
    ValueTest,
    conforms,
    to_rdflib,
)
from hub.shacl.xsd import Number, compare, number

SetRun = Callable[[Node, Collection[Node], Data], list[Node | None]]
TermText = Callable[[rdflib.Graph, rdflib.term.Node], str]
"""How a term of the shapes graph (or of the data, seen through an empty graph) is printed."""


@cache
def data_graph() -> rdflib.Graph:
    """An empty rdflib graph with the default prefixes: the data as the generic messages see it."""
    return rdflib.Graph()


def turtle_text(graph: rdflib.Graph, term: rdflib.term.Node) -> str:
    """The default wording of a term: Turtle, with the prefixes bound in ``graph``."""
    if isinstance(term, rdflib.BNode):
        return f"_:{term}"
    if isinstance(term, rdflib.URIRef | rdflib.Literal):
        return str(term.n3(graph.namespace_manager))
    return str(term)


class Wording:
    """The way generic messages print terms of the shapes graph and of the data."""

    __slots__ = ("term_text",)

    def __init__(self, term_text: TermText = turtle_text) -> None:
        self.term_text = term_text

    def term(self, graph: rdflib.Graph, term: rdflib.term.Node) -> str:
        return self.term_text(graph, term)

    def data(self, node: Node) -> str:
        if node[0] == BNODE:
            return f"_:{node[1]}"
        return self.term_text(data_graph(), to_rdflib(node, as_written=False))


def fixed(text: str) -> Messages:
    message = ((text, None),)
    return lambda focus, value: message


def all_of(tests: list[ValueTest]) -> ValueTest:
    if len(tests) == 1:
        return tests[0]

    def test(v: Node, data: Data) -> bool:
        for each in tests:  # noqa: SIM110 (a loop is cheaper than all() over a generator)
            if not each(v, data):
                return False
        return True

    return test


def any_of(tests: list[ValueTest]) -> ValueTest:
    if len(tests) == 2:
        first, second = tests
        return lambda v, data: first(v, data) or second(v, data)

    def test(v: Node, data: Data) -> bool:
        for each in tests:  # noqa: SIM110 (a loop is cheaper than any() over a generator)
            if each(v, data):
                return True
        return False

    return test


def class_test(cls: Node) -> ValueTest:
    def test(v: Node, data: Data) -> bool:
        return data.is_instance(v, cls)

    return test


def datatype_test(datatype: str, lexical: Callable[[str], bool] | None) -> ValueTest:
    if datatype == RDF_LANGSTRING:
        return lambda v, data: v[0] == LITERAL and v[3] != ""
    if lexical is None:
        return lambda v, data: v[0] == LITERAL and v[2] == datatype
    return lambda v, data: v[0] == LITERAL and v[2] == datatype and lexical(v[1])


def pattern_test(regex: re.Pattern[str]) -> ValueTest:
    search = regex.search
    return lambda v, data: v[0] != BNODE and search(v[1]) is not None


def in_test(allowed: frozenset[Node]) -> ValueTest:
    return lambda v, data: v in allowed


def range_test(bound: Number, accepted: tuple[int, ...]) -> ValueTest:
    def test(v: Node, data: Data) -> bool:
        value = number(v[1], v[2]) if v[0] == LITERAL else None
        return value is not None and compare(value, bound) in accepted

    return test


def length_test(limit: int, minimum: bool) -> ValueTest:
    if minimum:
        return lambda v, data: v[0] != BNODE and len(v[1]) >= limit
    return lambda v, data: v[0] != BNODE and len(v[1]) <= limit


def language_test(ranges: tuple[str, ...]) -> ValueTest:
    def test(v: Node, data: Data) -> bool:
        tag = v[3].lower()
        return v[0] == LITERAL and tag != "" and any(
            r == "*" or tag == r or tag.startswith(r + "-") for r in ranges)

    return test


def logical_test(name: str, shapes: list[Shape]) -> ValueTest:
    if name == "Or":
        tests = [s.value_test for s in shapes if s.value_test is not None and not s.deactivated]
        if len(tests) == len(shapes):  # the common case: datatype / class alternatives
            return any_of(tests)
        return lambda v, data: any(conforms(s, v, data) for s in shapes)
    if name == "And":
        return lambda v, data: all(conforms(s, v, data) for s in shapes)
    return lambda v, data: sum(conforms(s, v, data) for s in shapes) == 1


def count_run(limit: int, minimum: bool) -> SetRun:
    if minimum:
        return lambda focus, values, data: [None] if len(values) < limit else []
    return lambda focus, values, data: [None] if len(values) > limit else []


def count_messages(words: Wording, word: str, limit: int, path: str) -> Messages:
    return lambda focus, value: ((f"{word} than {limit} values on {words.data(focus)}->{path}", None),)


def unique_lang(focus: Node, values: Collection[Node], data: Data) -> list[Node | None]:
    seen: set[str] = set()
    duplicated: dict[str, None] = {}
    for v in values:
        if v[0] == LITERAL and v[3]:
            tag = v[3].lower()
            if tag in seen:
                duplicated[tag] = None
            seen.add(tag)
    return [None for _ in duplicated]


def has_value_run(wanted: Node) -> SetRun:
    return lambda focus, values, data: [] if wanted in values else [None]


def has_value_messages(words: Wording, shape: Shape, the_set: list[str]) -> Messages:
    if shape.path is None:
        return lambda focus, value: (
            (f"Node {words.data(focus)} value is not a in the set of values: {the_set}", None),)
    path = words.term(shape.graph, rdflib.URIRef(shape.path))
    return lambda focus, value: (
        (f"Node {words.data(focus)}->{path} does not contain a value in the set: {the_set}", None),)


def in_messages(words: Wording, listed: list[str]) -> Messages:
    return lambda focus, value: ((f"Value {words.data(value)} not in list {listed}", None),)  # type: ignore[arg-type]


def node_messages(words: Wording, phrase: str) -> Messages:
    return lambda focus, value: ((f"Node {words.data(value)} {phrase}", None),)  # type: ignore[arg-type]

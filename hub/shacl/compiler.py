"""Compile a SHACL shapes graph (rdflib, read once) into the checks of :mod:`hub.shacl.model`.

Every triple of the shapes graph whose predicate (or ``rdf:type`` object) is in the SHACL
namespace must be understood, or compilation fails with :class:`UnsupportedShapes`: a constraint
the engine does not know about is never skipped. Generic messages (for shapes without
``sh:message``) print terms the way the caller's :class:`~hub.shacl.checks.Wording` says.
"""

from __future__ import annotations

import re

import rdflib
from rdflib.namespace import RDF, RDFS

import hub.shacl.checks as checks
import hub.shacl.xsd as xsd
from hub.shacl.model import (
    BNODE,
    IRI,
    LITERAL,
    SH,
    XSD,
    Check,
    CompiledShapes,
    Shape,
    UnsupportedShapes,
    conforms,
    rdflib_node,
)

S = rdflib.Namespace(SH)
TARGETS = (S.targetClass, S.targetNode, S.targetSubjectsOf, S.targetObjectsOf)
SHAPE_TYPES = (S.NodeShape, S.PropertyShape)
_CONSTRAINTS = (
    "class datatype nodeKind minCount maxCount minInclusive minExclusive maxInclusive maxExclusive "
    "minLength maxLength pattern flags languageIn uniqueLang in hasValue and or xone not property"
)
_OTHERS = (
    "targetClass targetNode targetSubjectsOf targetObjectsOf path severity message deactivated "
    "name description order group defaultValue declare prefix namespace prefixes"
)
KNOWN_PREDICATES = frozenset(S[name] for name in f"{_CONSTRAINTS} {_OTHERS}".split())
KNOWN_TYPES = frozenset(
    (S.NodeShape, S.PropertyShape, S.Shape, S.PropertyGroup, S.PrefixDeclaration)
)
REPORT_PREDICATES = frozenset(
    S[name] for name in (  # noqa: SIM905 (one line of names reads better than eleven)
        "conforms result focusNode resultPath value resultSeverity sourceConstraintComponent "
        "sourceShape sourceConstraint resultMessage detail"
    ).split()
)
REPORT_TYPES = frozenset((S.ValidationReport, S.ValidationResult, S.AbstractResult))
"""A validation report may sit in the shapes graph (the W3C suite's files hold shapes, data and
the expected report): it describes results, not shapes, so it is allowed on nodes that are not shapes."""
NODE_KINDS = {
    S.IRI: (IRI,),
    S.BlankNode: (BNODE,),
    S.Literal: (LITERAL,),
    S.BlankNodeOrIRI: (BNODE, IRI),
    S.BlankNodeOrLiteral: (BNODE, LITERAL),
    S.IRIOrLiteral: (IRI, LITERAL),
}
RANGES = {  # parameter: (component, accepted comparison results, pyshacl's operator)
    S.minInclusive: ("MinInclusive", (0, 1), ">="),
    S.minExclusive: ("MinExclusive", (1,), ">"),
    S.maxInclusive: ("MaxInclusive", (-1, 0), "<="),
    S.maxExclusive: ("MaxExclusive", (-1,), "<"),
}


def compile_shapes(graph: rdflib.Graph, wording: checks.Wording | None = None) -> CompiledShapes:
    """Compile a shapes graph, or raise :class:`UnsupportedShapes` naming what is not implemented.

    ``wording`` prints the terms of generic messages (Turtle with the shapes' prefixes if None).
    """
    return Compiler(graph, wording or checks.Wording()).compile()


class Compiler:
    def __init__(self, graph: rdflib.Graph, wording: checks.Wording) -> None:
        self.g = graph
        self.words = wording
        self.shapes: dict[rdflib.term.Node, Shape] = {}
        self.stack: list[rdflib.term.Node] = []

    def compile(self) -> CompiledShapes:
        reported = self._check_vocabulary()
        compiled = CompiledShapes(self.g)
        roots = {s for p in TARGETS for s in self.g.subjects(p, None)}
        typed = {s for t in SHAPE_TYPES for s in self.g.subjects(RDF.type, t)}
        implicit = {s for s in typed if (s, RDF.type, RDFS.Class) in self.g}
        for node in sorted(roots | implicit, key=str):
            shape = self.shape(node)
            for cls in self.g.objects(node, S.targetClass):
                compiled.by_class.setdefault(rdflib_node(cls), []).append(shape)
            if node in implicit:
                compiled.by_class.setdefault(rdflib_node(node), []).append(shape)
            for target in self.g.objects(node, S.targetNode):
                compiled.by_node.setdefault(rdflib_node(target), []).append(shape)
            for predicate in self.g.objects(node, S.targetSubjectsOf):
                compiled.by_subject_of.setdefault(str(predicate), []).append(shape)
            for predicate in self.g.objects(node, S.targetObjectsOf):
                compiled.by_object_of.setdefault(str(predicate), []).append(shape)
        compiled.all_focus_nodes = any(s.path is not None and s.properties for s in self.shapes.values())
        for node in reported:
            if node in self.shapes:
                raise UnsupportedShapes(f"{node} is a shape and describes a validation result")
        return compiled

    def _check_vocabulary(self) -> set[rdflib.term.Node]:
        """Refuse what is not implemented; return the nodes that carry validation report terms."""
        reported: set[rdflib.term.Node] = set()
        unknown: dict[str, rdflib.term.Node] = {}
        for s, p, o in self.g:
            if str(p).startswith(SH) and p not in KNOWN_PREDICATES:
                if p not in REPORT_PREDICATES:
                    unknown.setdefault(str(p), s)
                reported.add(s)
            if p == RDF.type and str(o).startswith(SH) and o not in KNOWN_TYPES:
                if o not in REPORT_TYPES:
                    unknown.setdefault(f"rdf:type {o}", s)
                reported.add(s)
        if unknown:  # all of them, in order, so that the message does not depend on the graph's order
            features = "; ".join(f"{name} (on {unknown[name]})" for name in sorted(unknown))
            raise UnsupportedShapes(f"{features}: not implemented by the compiled engine")
        return reported

    def one(self, node: rdflib.term.Node, predicate: rdflib.URIRef) -> rdflib.term.Node | None:
        found = list(self.g.objects(node, predicate))
        if len(found) > 1:
            raise UnsupportedShapes(f"{node} has {len(found)} values of {predicate}")
        return found[0] if found else None

    def literal(self, node: rdflib.term.Node, predicate: rdflib.URIRef) -> rdflib.Literal | None:
        value = self.one(node, predicate)
        if value is not None and not isinstance(value, rdflib.Literal):
            raise UnsupportedShapes(f"{predicate} of {node} is not a literal")
        return value

    def flag(self, node: rdflib.term.Node, predicate: rdflib.URIRef) -> bool:
        """Only ``"true"^^xsd:boolean`` sets a flag: SHACL names the value true, and ``"1"`` is another
        literal (W3C test ``uniqueLang-002``). rdflib rewrites ``"1"`` to ``"true"`` when it normalizes
        literals on parsing, so a shapes graph read that way cannot tell them apart."""
        value = self.literal(node, predicate)
        if value is None:
            return False
        if value.datatype != XSD_BOOLEAN or str(value) not in ("true", "false", "1", "0"):
            raise UnsupportedShapes(f"{predicate} of {node} must be an xsd:boolean")
        return str(value) == "true"

    def count(self, node: rdflib.term.Node, predicate: rdflib.URIRef) -> int | None:
        value = self.literal(node, predicate)
        if value is None:
            return None
        if value.datatype not in xsd_integers or re.fullmatch("[0-9]+", str(value)) is None:
            raise UnsupportedShapes(f"{predicate} of {node} must be a non-negative xsd:integer")
        return int(str(value))

    def items(self, node: rdflib.term.Node, predicate: rdflib.URIRef) -> list[list[rdflib.term.Node]]:
        lists = []
        for head in self.g.objects(node, predicate):
            try:
                lists.append(list(self.g.items(head)))
            except Exception as exc:  # rdflib raises various errors on broken lists
                raise UnsupportedShapes(f"{predicate} of {node} is not a well-formed list") from exc
        return lists

    def shape(self, node: rdflib.term.Node) -> Shape:
        if node in self.shapes:
            return self.shapes[node]
        if node in self.stack:
            raise UnsupportedShapes(f"recursive shapes through {node}")
        self.stack.append(node)
        path = self.one(node, S.path)
        if path is not None and not isinstance(path, rdflib.URIRef):
            raise UnsupportedShapes(f"{node}: only IRI paths are implemented (sh:path is {path!r})")
        severity = self.one(node, S.severity)
        if severity is not None and not isinstance(severity, rdflib.URIRef):
            raise UnsupportedShapes(f"{node}: sh:severity must be an IRI")
        messages = []
        for message in self.g.objects(node, S.message):
            if not isinstance(message, rdflib.Literal):
                raise UnsupportedShapes(f"{node}: sh:message must be a literal")
            messages.append((str(message), message.language))
        deactivated = self.flag(node, S.deactivated)
        shape = Shape(
            node, self.g, str(path) if path is not None else None,
            str(severity or S.Violation), tuple(sorted(messages, key=lambda m: (m[1] or "", m[0]))),
            deactivated,
        )
        self.checks(shape)
        shape.value_checks = [c for c in shape.checks if c.test is not None]
        shape.set_checks = [c for c in shape.checks if c.run is not None]
        shape.properties = [self.shape(p) for p in sorted(self.g.objects(node, S.property), key=str)]
        if any(p.path is None for p in shape.properties):
            raise UnsupportedShapes(f"{node}: a value of sh:property has no sh:path")
        if path is None and not shape.properties and all(c.test for c in shape.checks):
            shape.value_test = checks.all_of([c.test for c in shape.checks if c.test is not None])
        self.stack.pop()
        self.shapes[node] = shape
        return shape

    def members(self, shape: Shape, nodes: list[rdflib.term.Node]) -> list[Shape]:
        """Shapes used for conformance (sh:or, ...): with pyshacl, a Warning there would pass.

        A shape listed twice stays twice: ``sh:xone (A A)`` counts A twice, so no node conforms.
        """
        members = [self.shape(n) for n in nodes]
        todo = list(dict.fromkeys(members))
        while todo:
            each = todo.pop()
            if each.severity != str(S.Violation):
                raise UnsupportedShapes(
                    f"{shape.node}: {each.node} has a severity and is used in sh:or/and/xone/not"
                )
            todo.extend(each.properties)
        return members

    def checks(self, shape: Shape) -> None:
        node, g, add, words = shape.node, self.g, shape.checks.append, self.words

        def component(name: str) -> str:
            return f"{SH}{name}ConstraintComponent"

        def sg(term: rdflib.term.Node) -> str:
            return words.term(g, term)

        classes = sorted(g.objects(node, S["class"]), key=str)
        for cls in classes:
            text = f"Value does not have class {sg(cls)}" if len(classes) < 2 else (
                "Value class is not in classes ({})".format(", ".join(sg(c) for c in classes)))
            add(Check(component("Class"), checks.fixed(text), test=checks.class_test(rdflib_node(cls))))
        datatype = self.one(node, S.datatype)
        if datatype is not None:
            lexical = xsd.datatype_check(str(datatype))
            text = f"Value is not Literal with datatype {sg(datatype)}"
            test = checks.datatype_test(str(datatype), lexical)
            add(Check(component("Datatype"), checks.fixed(text), test=test))
        kind = self.one(node, S.nodeKind)
        if kind is not None:
            if kind not in NODE_KINDS:
                raise UnsupportedShapes(f"{node}: unknown sh:nodeKind {kind}")
            kinds = NODE_KINDS[kind]  # type: ignore[index]
            add(Check(component("NodeKind"), checks.fixed(f"Value is not of Node Kind {sg(kind)}"),
                      test=lambda v, data: v[0] in kinds))
        for parameter, word, name in ((S.minCount, "Less", "MinCount"), (S.maxCount, "More", "MaxCount")):
            limit = self.count(node, parameter)
            if limit is not None:
                if shape.path is None:
                    raise UnsupportedShapes(f"{node}: {parameter} on a node shape")
                messages = checks.count_messages(words, word, limit, sg(rdflib.URIRef(shape.path)))
                add(Check(component(name), messages, run=checks.count_run(limit, word == "Less")))
        for parameter, (name, accepted, operator) in RANGES.items():
            bounds = [rdflib_node(b) for b in g.objects(node, parameter)]
            for bound in bounds:
                value = xsd.number(bound[1], bound[2]) if bound[0] == LITERAL else None
                if value is None:
                    raise UnsupportedShapes(f"{node}: {parameter} {bound[1]!r} is not a number")
                texts = [sg(b) for b in g.objects(node, parameter)]
                text = f"Value is not {operator} {texts[0]}" if len(texts) < 2 else (
                    "Value is not {} in ({})".format(operator, ", ".join(texts)))
                add(Check(component(name), checks.fixed(text), test=checks.range_test(value, accepted)))
        for parameter, name, sign in ((S.minLength, "MinLength", ">="), (S.maxLength, "MaxLength", "<=")):
            length = self.count(node, parameter)
            if length is not None:
                rule = g.value(node, parameter)
                text = f"String length not {sign} {words.term(checks.data_graph(), rule)}"  # type: ignore[arg-type]
                add(Check(component(name), checks.fixed(text), test=checks.length_test(length, sign == ">=")))
        patterns = sorted(g.objects(node, S.pattern), key=str)
        flags = self.literal(node, S.flags)
        for pattern in patterns:
            if not isinstance(pattern, rdflib.Literal):
                raise UnsupportedShapes(f"{node}: sh:pattern must be a literal")
            regex = xsd.xpath_regex(str(pattern), str(flags or ""))
            text = f"Value does not match pattern '{pattern}'" if len(patterns) < 2 else (
                "Value does not match every pattern in ('{}')".format("', '".join(map(str, patterns))))
            add(Check(component("Pattern"), checks.fixed(text), test=checks.pattern_test(regex)))
        for languages in self.items(node, S.languageIn):
            ranges = tuple(str(x).lower() for x in languages)
            text = f"String language is not in {sg(g.value(node, S.languageIn))}"  # type: ignore[arg-type]
            add(Check(component("LanguageIn"), checks.fixed(text), test=checks.language_test(ranges)))
        if self.flag(node, S.uniqueLang):
            if shape.path is None:
                raise UnsupportedShapes(f"{node}: sh:uniqueLang on a node shape")
            add(Check(component("UniqueLang"), checks.fixed("More than one String shares the same Language"),
                      run=checks.unique_lang))
        for members in self.items(node, S["in"]):
            allowed = frozenset(rdflib_node(m) for m in members)
            listed = [sg(m) for m in members]
            add(Check(component("In"), checks.in_messages(words, listed), test=checks.in_test(allowed)))
        wanted = sorted(g.objects(node, S.hasValue), key=str)
        for each in wanted:
            add(Check(component("HasValue"), checks.has_value_messages(words, shape, [sg(w) for w in wanted]),
                      run=checks.has_value_run(rdflib_node(each))))
        logical = (
            (S["or"], "Or", "one or more shapes"), (S["and"], "And", "all shapes"),
            (S.xone, "Xone", "exactly one shape"),
        )
        for parameter, name, phrase in logical:
            lists = self.items(node, parameter)
            texts = [" , ".join(sg(m) for m in members) for members in lists]
            joined = " and ".join(f"({t})" for t in texts) if len(texts) > 1 else "".join(texts)
            for members in lists:
                shapes = self.members(shape, members)
                messages = checks.node_messages(words, f"must conform to {phrase} in {joined}")
                add(Check(component(name), messages, test=checks.logical_test(name, shapes)))
        nots = sorted(g.objects(node, S["not"]), key=str)
        for negated in nots:
            (inner,) = self.members(shape, [negated])
            phrase = f"must not conform to shape {sg(nots[0])}" if len(nots) == 1 else (
                "must not conform to any shapes in " + " , ".join(sg(n) for n in nots))
            add(Check(component("Not"), checks.node_messages(words, phrase),
                      test=lambda v, data, inner=inner: not conforms(inner, v, data)))  # type: ignore[misc]


XSD_BOOLEAN = rdflib.URIRef(XSD + "boolean")
xsd_integers = frozenset(rdflib.URIRef(t) for t in xsd.INTEGER_TYPES)

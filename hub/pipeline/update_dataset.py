"""What the ``WHERE`` of an update reads, and the protocol's ``using-graph-uri`` parameters.

An update is evaluated on a scratch copy (:mod:`hub.pipeline.sparql_update`). The copy used to
hold only the graphs the update writes, so ``INSERT { GRAPH <g> { … } } WHERE { …existing data… }``
matched nothing and answered 200 having written nothing. The scratch now also holds what the
``WHERE`` reads, found here from rdflib's algebra: the graphs named by ``GRAPH <g>``, ``USING``
and ``WITH``; every record graph when it says ``GRAPH ?g``; and, when it reads the default graph
with no ``USING``/``WITH``, the union of the record graphs copied into the scratch's default
graph (a snapshot taken before the request, as the query endpoint serves it). Reading more than
:data:`MAX_READ_QUADS` is refused with a message saying how to narrow it.

``using-graph-uri``/``using-named-graph-uri`` (SPARQL 1.1 Protocol §2.2.3) are honoured by writing
them as ``USING``/``USING NAMED`` clauses into each ``DELETE/INSERT … WHERE`` operation, checked by
parsing the result again, so Oxigraph evaluates them with the request's own sequence of operations.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

import rdflib
from rdflib.plugins.sparql.algebra import translateUpdate
from rdflib.plugins.sparql.parser import parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from hub.clipping import clip_message
from hub.errors import InputError
from hub.vocab import META_GRAPH

MAX_READ_QUADS = 200_000
"""The most triples an update's ``WHERE`` may read; past it, the update must name its graphs."""

_IRIREF = re.compile(r"<[^<>\"{}|^`\\\x00-\x20]*>")
_WORD = re.compile(r"[A-Za-z_?$][\w\-.:?$]*")


class DatasetRefused(InputError):
    """The update's dataset cannot be honoured as asked; the message says what to change."""


@dataclass
class Reads:
    """The graphs an update's ``WHERE`` clauses read."""

    graphs: set[str] = field(default_factory=set)
    every_graph: bool = False  # GRAPH ?g without USING NAMED
    default_union: bool = False  # triples outside GRAPH, without USING or WITH


def _field(node: CompValue, key: str) -> object:
    """A field of a parsed node, or None (``CompValue.get`` answers the key's name when absent)."""
    return node[key] if key in node else None  # noqa: SIM401 (get() is not dict.get here)


def parse(update: str, base_iri: str | None) -> list[CompValue]:
    """rdflib's algebra of an update, relative IRIs resolved against ``base_iri``."""
    try:
        return list(translateUpdate(parseUpdate(update), base=base_iri).algebra)
    except Exception as exc:  # pyparsing raises several types; all mean "not SPARQL Update"
        raise DatasetRefused(clip_message(f"invalid SPARQL Update: {exc}")) from exc


def reads(operations: Iterable[CompValue]) -> Reads:
    """Every graph the operations' patterns may read (an over-estimate is harmless)."""
    found = Reads()
    for op in operations:
        if op.name in ("Add", "Move", "Copy"):
            found.graphs.update(str(g) for g in op.graph if isinstance(g, rdflib.URIRef))
        if op.name != "Modify":
            continue
        using: list[CompValue] = list(_field(op, "using") or [])  # type: ignore[call-overload]
        for clause in using:
            graph = _field(clause, "default") or _field(clause, "named")
            if isinstance(graph, rdflib.URIRef):
                found.graphs.add(str(graph))
        if isinstance(_field(op, "withClause"), rdflib.URIRef):
            found.graphs.add(str(op.withClause))
        named, any_graph, default = _walk(_field(op, "where"))
        found.graphs.update(named)
        if any_graph and not any(_field(c, "named") for c in using):
            found.every_graph = True
        if default and not using and _field(op, "withClause") is None:
            found.default_union = True
    if META_GRAPH in found.graphs:
        raise DatasetRefused(f"<{META_GRAPH}> holds the hub's own state; an update cannot read it")
    return found


def _walk(node: object) -> tuple[set[str], bool, bool]:
    """(constant graphs, whether ``GRAPH ?var`` occurs, whether the default graph is read)."""
    named: set[str] = set()
    any_graph = default = False
    stack: list[tuple[object, bool]] = [(node, False)]
    while stack:
        item, in_graph = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                continue  # read from the remote endpoint, not from the hub
            if item.name in ("Graph", "GraphGraphPattern"):
                term = _field(item, "term")
                if isinstance(term, rdflib.URIRef):
                    named.add(str(term))
                else:
                    any_graph = True
                stack.extend((value, True) for value in item.values())
                continue
            if item.name in ("BGP", "TriplesBlock") and _field(item, "triples") and not in_graph:
                default = True
            stack.extend((value, in_graph) for value in item.values())
        elif isinstance(item, dict):
            stack.extend((value, in_graph) for value in item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend((value, in_graph) for value in item)
    return named, any_graph, default


def with_dataset(
    update: str, using: list[str], using_named: list[str], base_iri: str | None
) -> str:
    """The update with the protocol's dataset written as ``USING`` clauses, or a refusal."""
    if not using and not using_named:
        return update
    operations = parse(update, base_iri)
    modifies = [op for op in operations if op.name == "Modify"]
    if any(_field(op, "using") or _field(op, "withClause") is not None for op in modifies):
        raise DatasetRefused(
            "using-graph-uri/using-named-graph-uri cannot be combined with USING or WITH in the "
            "update (SPARQL 1.1 Protocol, 2.2.3): give the dataset in one place"
        )
    if any(op.name == "DeleteWhere" for op in operations):
        raise DatasetRefused(
            "DELETE WHERE has no dataset to set: write DELETE { … } WHERE { … } to use "
            "using-graph-uri/using-named-graph-uri"
        )
    for graph in (*using, *using_named):
        if not _IRIREF.fullmatch(f"<{graph}>") or ":" not in graph:
            raise DatasetRefused(f"using-graph-uri: {graph!r} is not an absolute IRI")
    clauses = " ".join(
        [f"USING <{g}>" for g in using] + [f"USING NAMED <{g}>" for g in using_named]
    )
    positions = _where_keywords(update)
    rewritten = update
    for position in reversed(positions):
        rewritten = f"{rewritten[:position]}{clauses} {rewritten[position:]}"
    probe = parse(f"INSERT {{}} {clauses} WHERE {{}}", None)[0]
    expected = [(_field(c, "default"), _field(c, "named")) for c in probe.using]
    after = [op for op in parse(rewritten, base_iri) if op.name == "Modify"]
    if len(positions) != len(modifies) or any(
        [(_field(c, "default"), _field(c, "named")) for c in op.using or []] != expected
        for op in after
    ):
        raise DatasetRefused(
            "the hub could not apply using-graph-uri to this update; write USING <g> clauses in it"
        )
    return rewritten


def _where_keywords(text: str) -> list[int]:
    """Offsets of the ``WHERE`` keywords that open an operation's pattern (outside braces,
    strings, IRIs and comments; not the one of ``DELETE WHERE``)."""
    found: list[int] = []
    depth = 0
    previous = ""
    i = 0
    while i < len(text):
        char = text[i]
        if char == "#":
            end = text.find("\n", i)
            i = len(text) if end < 0 else end + 1
        elif char in "\"'":
            i = _string_end(text, i)
        elif char == "<" and (match := _IRIREF.match(text, i)):
            i = match.end()
        elif char == "{":
            depth += 1
            i += 1
        elif char == "}":
            depth -= 1
            i += 1
        elif (match := _WORD.match(text, i)) is not None:
            word = match.group().upper()
            if depth == 0 and word == "WHERE" and previous != "DELETE":
                found.append(i)
            previous = word
            i = match.end()
        else:
            i += 1
    return found


def _string_end(text: str, start: int) -> int:
    quote = text[start] * 3 if text.startswith(text[start] * 3, start) else text[start]
    i = start + len(quote)
    while i < len(text):
        if text[i] == "\\":
            i += 2
        elif text.startswith(quote, i):
            return i + len(quote)
        else:
            i += 1
    return len(text)

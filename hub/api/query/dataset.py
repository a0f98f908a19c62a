"""The dataset a SPARQL query runs against: everything for the operator, the public graphs for
everyone else.

pyoxigraph's union default graph takes in every named graph, the bookkeeping graph
``urn:maillage:meta`` and the persons' contact graphs included, and it cannot leave one out. An
anonymous query therefore runs against an explicit dataset: the public graphs (see
:mod:`hub.meta.public`) as its default graph and as its named graphs. The list is computed once
per store generation in each worker. Its cost, measured with pyoxigraph 0.5 (each triple pattern
is looked up once per listed graph): a join over 10,000 graphs takes about 1 s instead of 0.5 ms,
a selective pattern 16 ms instead of 0.1 ms; at the sizes of the hubs running today (hundreds of
graphs) it stays within a few milliseconds. A hub that grows past that needs the public data
materialised in a graph of its own (see docs/privacy.md).

A query's own ``FROM``/``FROM NAMED`` (and the protocol's ``default-graph-uri``/
``named-graph-uri``) still choose graphs, among the public ones only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from rdflib.plugins.sparql.algebra import translateQuery
from rdflib.plugins.sparql.parser import parseQuery

from hub.meta.public import is_public_graph, public_graphs

_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)
MAX_PARSED_CHARS = 10_000


def query_dataset(query: str) -> tuple[list[str], list[str]] | None:
    """The graphs a query's ``FROM`` and ``FROM NAMED`` clauses name, or None when it has none
    (or is too long or too odd to read: the public union is then used)."""
    if not _FROM.search(query) or len(query) > MAX_PARSED_CHARS:
        return None
    try:
        clauses = translateQuery(parseQuery(query)).algebra.get("datasetClause")
    except RecursionError:
        return None
    except Exception:  # pyparsing and the translation raise many types; all mean "unreadable"
        return None
    if not clauses:
        return None
    default = [str(c["default"]) for c in clauses if c.get("default") is not None]
    named = [str(c["named"]) for c in clauses if c.get("named") is not None]
    return default, named


def anonymous_dataset(
    query: str,
    default_graphs: Sequence[str],
    named_graphs: Sequence[str],
    graphs: Sequence[str],
) -> tuple[list[str], list[str]]:
    """(default graph, named graphs) of an anonymous query over a store holding ``graphs``: what
    the protocol or the query asks for, kept to the public graphs; by default all of them."""
    if not default_graphs and not named_graphs:
        declared = query_dataset(query)
        if declared is not None:
            default_graphs, named_graphs = declared
    everything = public_graphs(graphs)
    if not default_graphs and not named_graphs:
        return everything, everything
    return (
        [g for g in default_graphs if is_public_graph(g)],
        [g for g in named_graphs if is_public_graph(g)],
    )

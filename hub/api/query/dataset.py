"""The dataset a SPARQL query runs against: everything for the operator, the public graphs for
everyone else.

pyoxigraph's union default graph takes in every named graph, the bookkeeping graph
``urn:maillage:meta`` and the persons' contact graphs included, and it cannot leave one out. The
embedded store therefore keeps a public replica holding the public graphs only
(:mod:`hub.store.replica`): an anonymous query runs there with the union default graph
(:func:`replica_dataset`). Where there is no replica (a remote store; an embedded one while its
replica is rebuilt), an anonymous query runs against an explicit dataset: the public graphs (see
:mod:`hub.meta.public`) as its default graph and as its named graphs (:func:`anonymous_dataset`),
listed once per store generation in each worker. That list costs: pyoxigraph looks each triple
pattern up once per listed graph, and a join over 2,000 record graphs takes seconds instead of
milliseconds (bench/anonymous_queries.py); a remote server's cost depends on the server.

A query's own ``FROM``/``FROM NAMED`` (and the protocol's ``default-graph-uri``/
``named-graph-uri``) still choose graphs, among the public ones only.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import pyoxigraph as ox

from hub.api.query.safety import parsed
from hub.meta.public import is_public_graph, public_graphs

_FROM = re.compile(r"\bfrom\b", re.IGNORECASE)


def query_dataset(query: str) -> tuple[list[str], list[str]] | None:
    """The graphs a query's ``FROM`` and ``FROM NAMED`` clauses name, or None when it has none
    (or is too long or too odd to read: the public union is then used)."""
    if not _FROM.search(query):
        return None
    algebra = parsed(query)
    clauses = algebra.get("datasetClause") if algebra is not None else None
    if not clauses:
        return None
    # a CompValue's get() answers a missing key with something else than None: ask with ``in``
    default = [str(c["default"]) for c in clauses if "default" in c]
    named = [str(c["named"]) for c in clauses if "named" in c]
    return default, named


def replica_dataset(
    query: str, default_graphs: Sequence[str], named_graphs: Sequence[str]
) -> tuple[list[str], list[str]] | None:
    """(default graph, named graphs) of an anonymous query on the public replica, or None for its
    union default graph and all its named graphs (every one public). The protocol's graphs, else
    the query's ``FROM``/``FROM NAMED``, are passed on: the union option would override them."""
    if not default_graphs and not named_graphs:
        declared = query_dataset(query)
        if declared is None:
            return None
        default_graphs, named_graphs = declared
    return public_graphs(default_graphs), public_graphs(named_graphs)


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


def public_options(
    query: str,
    default_graphs: Sequence[str],
    named_graphs: Sequence[str],
    graphs: Sequence[str] | None,
) -> dict[str, object]:
    """pyoxigraph's dataset arguments for an anonymous query: on the public replica when
    ``graphs`` is None (every graph there is public, so the fast union is safe), else on a store
    holding ``graphs``, private ones included (the explicit list of public graphs)."""
    if graphs is None:
        dataset = replica_dataset(query, default_graphs, named_graphs)
        if dataset is None:
            return {"use_default_graph_as_union": True}
    else:
        dataset = anonymous_dataset(query, default_graphs, named_graphs, graphs)
    return {
        "default_graph": [ox.NamedNode(g) for g in dataset[0]],
        "named_graphs": [ox.NamedNode(g) for g in dataset[1]],
    }

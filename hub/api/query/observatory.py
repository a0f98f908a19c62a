"""``/sparql`` answers for the observatory queries, from the maintained figures.

A request whose text is exactly one of ``sparql/observatory-by-*.rq`` (up to layout), made with
the default dataset and asking for SPARQL JSON, gets the rows that
:mod:`hub.views.observatory_counts` keeps: the same variables and values the query would give,
without re-joining the store after each write. An anonymous request gets the figures kept over
the public graphs only (its dataset), the operator's those over every graph.
"""

from __future__ import annotations

import json
from collections.abc import Callable

import pyoxigraph as ox

from hub.api.query.cache import normalise
from hub.rdf.resources import named_query
from hub.store.base import Row
from hub.views.observatory_counts import LEVELS, ObservatoryCounts

JSON_RESULTS = "application/sparql-results+json"


def _answers() -> dict[str, tuple[list[str], Callable[[ObservatoryCounts], list[Row]]]]:
    found: dict[str, tuple[list[str], Callable[[ObservatoryCounts], list[Row]]]] = {}
    for level in LEVELS:
        found[normalise(named_query(f"observatory-by-{level}"))] = (
            [level, f"{level}Name", "code", "type", "entities", "population", "density"],
            lambda counts, level=level: counts.by_level(level))  # type: ignore[misc]
    found[normalise(named_query("observatory-by-territory-theme"))] = (
        ["level", "territory", "territoryName", "theme", "entities"], ObservatoryCounts.by_territory_theme)
    found[normalise(named_query("observatory-by-theme"))] = (
        ["theme", "type", "entities"], ObservatoryCounts.by_theme)
    found[normalise(named_query("observatory-by-type"))] = (
        ["type", "source", "entities"], ObservatoryCounts.by_type)
    found[normalise(named_query("observatory-by-month"))] = (
        ["month", "source", "operation", "changes"], ObservatoryCounts.by_month)
    return found


_ANSWERS = _answers()


def ready(counts: ObservatoryCounts | None) -> ObservatoryCounts | None:
    """``counts`` once built (None while the first build runs: the query runs meanwhile)."""
    return counts.ready() if counts is not None else None


def maintained_answer(counts: ObservatoryCounts | None, query: str, media: str,
                      dataset: tuple[str, ...]) -> bytes | None:
    """The SPARQL JSON answer from ``counts`` (the client's visibility's), or None when the
    query must run."""
    if counts is None or dataset or media != JSON_RESULTS:
        return None
    known = _ANSWERS.get(normalise(query))
    if known is None:
        return None
    variables, rows = known
    bindings = [{name: _json_term(term) for name, term in row.items()} for row in rows(counts)]
    return json.dumps({"head": {"vars": variables}, "results": {"bindings": bindings}}).encode()


def _json_term(term: object) -> dict[str, str]:
    if isinstance(term, ox.NamedNode):
        return {"type": "uri", "value": term.value}
    if isinstance(term, ox.BlankNode):
        return {"type": "bnode", "value": term.value}
    assert isinstance(term, ox.Literal)
    found = {"type": "literal", "value": term.value}
    if term.language:
        found["xml:lang"] = term.language
    elif term.datatype.value != "http://www.w3.org/2001/XMLSchema#string":
        found["datatype"] = term.datatype.value
    return found

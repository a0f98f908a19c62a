"""Which remote endpoints a SPARQL request would call, decided by parsing it.

The first version read SPARQL with a regular-expression tokenizer; the attack pass hid SERVICE
calls from it with spellings the engine reads differently (a ``#`` comment ended by a carriage
return, escapes in prefixed names) and froze the server with a body the regex backtracked on.

Two layers now stand where it stood:

* **the guarantee** is where SPARQL runs: the worker processes are confined so that they reach
  no host outside the allow-list whatever they parse (:mod:`hub.api.query.sandbox`);
* **the clear answer** is this module: rdflib's SPARQL grammar reads the request and its algebra
  is walked for every ``SERVICE`` (inside ``FILTER EXISTS``, sub-queries, updates) and ``LOAD``,
  so that a forbidden call is a 400 that names the allow-list rather than a failed query.

rdflib's parser is slow (quadratic in the number of triple patterns: 0.8 s for 10 kB, minutes
for 100 kB) and recursive, so it runs in the worker process, under the query's time limit, and
only on requests that mention ``SERVICE``/``LOAD`` (or use ``\\u`` escapes) and are at most
:data:`MAX_PARSED_CHARS` long. What it cannot read is left to the engine when the worker is
confined, and refused when it is not (a remote store, a kernel without namespaces).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from functools import lru_cache
from typing import Any

from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

from hub.errors import InputError

MAX_PARSED_CHARS = 10_000
"""Longer requests are not parsed here: rdflib's parse time grows with the square of the text."""

_MAY_CALL_OUT = re.compile(r"service|\\u|\\U", re.IGNORECASE)
_MAY_LOAD = re.compile(r"load|\\u|\\U", re.IGNORECASE)


Allowlist = list[str] | tuple[str, ...]


class ForbiddenService(InputError):
    """The request calls an endpoint outside the allow-list, or one that cannot be checked."""


def check_query(query: str, allowlist: Allowlist, confined: bool = False) -> None:
    """Raise :class:`ForbiddenService` unless every ``SERVICE`` of a query is allow-listed.

    ``confined``: the query will run in a process that cannot reach other hosts anyway, so a
    text this parser cannot read is left to the engine instead of refused.
    """
    _check(query, allowlist, update=False, confined=confined)


def check_update(update: str, allowlist: Allowlist, confined: bool = False) -> None:
    """The same for an update, which must not ``LOAD`` anything either."""
    _check(update, allowlist, update=True, confined=confined)


def _check(text: str, allowlist: Allowlist, update: bool, confined: bool) -> None:
    suspicious = _MAY_CALL_OUT.search(text) or (update and _MAY_LOAD.search(text))
    if not suspicious:
        return
    algebra = parsed(text, update)
    if algebra is None:
        if confined:
            return
        raise ForbiddenService(
            "the request mentions SERVICE or LOAD (or uses \\u escapes) in a form the hub could "
            f"not check (plain SPARQL 1.1, at most {MAX_PARSED_CHARS:,} characters)"
        )
    for name, target in _calls(algebra):
        if name == "Load":
            raise ForbiddenService("LOAD is not allowed: it would fetch arbitrary URLs")
        _check_target(target, allowlist)


@lru_cache(maxsize=16)
def parsed(text: str, update: bool = False) -> Any:
    """rdflib's translated algebra of a request, or None when it cannot read it or the text is
    longer than :data:`MAX_PARSED_CHARS`. Cached: a worker asks once for the SERVICE check and
    again for the query's FROM clauses (:mod:`hub.api.query.dataset`), and a parse costs."""
    if len(text) > MAX_PARSED_CHARS:
        return None
    try:
        if update:
            return translateUpdate(parseUpdate(text)).algebra
        return translateQuery(parseQuery(text)).algebra
    except RecursionError:
        return None
    except Exception:  # pyparsing and the translation raise many types; all mean "unreadable"
        return None


def _calls(node: object) -> Iterator[tuple[str, object]]:
    """Every SERVICE (with its endpoint term) and LOAD in a parsed request, at any depth."""
    stack = [node]
    while stack:
        item = stack.pop()
        if isinstance(item, CompValue):
            if item.name == "ServiceGraphPattern":
                yield "Service", item.get("term")
            elif item.name == "Load":
                yield "Load", item.get("iri")
            stack.extend(item.values())
        elif isinstance(item, dict):
            stack.extend(item.values())
        elif isinstance(item, list | tuple | set):
            stack.extend(item)


def _check_target(target: object, allowlist: Allowlist) -> None:
    allowed = ", ".join(allowlist) or "none configured"
    if isinstance(target, Variable) or not isinstance(target, URIRef):
        raise ForbiddenService(
            "SERVICE must name its endpoint as an IRI from the allow-list "
            f"({allowed}), not a variable"
        )
    if str(target) not in allowlist:
        raise ForbiddenService(f"SERVICE <{target}> is not on the allow-list ({allowed})")

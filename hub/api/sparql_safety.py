"""Which remote endpoints a SPARQL request would call, decided by parsing it.

The first version read SPARQL with a regular-expression tokenizer; the attack pass hid SERVICE
calls from it with spellings the engine reads differently (a ``#`` comment ended by a carriage
return, escapes in prefixed names) and froze the server with a body the regex backtracked on.
Now the decision comes from a real parse: rdflib's SPARQL grammar, whose translated algebra is
walked for every ``SERVICE`` (inside ``FILTER EXISTS``, sub-queries and updates too) and every
``LOAD``. A request this parser cannot read is refused when it could hide a call (it mentions
``SERVICE``/``LOAD`` or uses ``\\u`` escapes); otherwise the engine's own syntax error is the
better message and it is left to say it.

This check gives clear 400s. It is not the only guard: the processes that execute SPARQL are
confined so that they reach no host outside the allow-list whatever they parse
(:mod:`hub.api.sandbox`). The parser is pure Python and can take seconds on huge inputs, so it
runs off the event loop, bounded by :data:`MAX_CHECKED_CHARS`.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from rdflib import URIRef, Variable
from rdflib.plugins.sparql.algebra import translateQuery, translateUpdate
from rdflib.plugins.sparql.parser import parseQuery, parseUpdate
from rdflib.plugins.sparql.parserutils import CompValue

MAX_CHECKED_CHARS = 1_000_000
"""Longer requests are refused before parsing: parse time grows with the text."""

_MAY_CALL_OUT = re.compile(r"service|\\u|\\U", re.IGNORECASE)
_MAY_LOAD = re.compile(r"load|\\u|\\U", re.IGNORECASE)


class ForbiddenService(Exception):
    """The request calls an endpoint outside the allow-list, or one that cannot be checked."""


def check_query(query: str, allowlist: list[str] | tuple[str, ...]) -> None:
    """Raise :class:`ForbiddenService` unless every ``SERVICE`` of a query is allow-listed."""
    _check(query, allowlist, update=False)


def check_update(update: str, allowlist: list[str] | tuple[str, ...]) -> None:
    """The same for an update, which must not ``LOAD`` anything either."""
    _check(update, allowlist, update=True)


def _check(text: str, allowlist: list[str] | tuple[str, ...], update: bool) -> None:
    if len(text) > MAX_CHECKED_CHARS:
        raise ForbiddenService(
            f"the request is longer than {MAX_CHECKED_CHARS:,} characters; split it or use the "
            "Graph Store to send data"
        )
    suspicious = _MAY_CALL_OUT.search(text) or (update and _MAY_LOAD.search(text))
    if not suspicious:
        return
    algebra = _parse(text, update)
    if algebra is None:
        raise ForbiddenService(
            "the request mentions SERVICE or LOAD (or uses \\u escapes) in a form the hub could "
            "not check; write it in plain SPARQL 1.1"
        )
    for name, target in _calls(algebra):
        if name == "Load":
            raise ForbiddenService("LOAD is not allowed: it would fetch arbitrary URLs")
        _check_target(target, allowlist)


def _parse(text: str, update: bool) -> object | None:
    """The translated algebra, or None when rdflib cannot read the text."""
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


def _check_target(target: object, allowlist: list[str] | tuple[str, ...]) -> None:
    allowed = ", ".join(allowlist) or "none configured"
    if isinstance(target, Variable) or not isinstance(target, URIRef):
        raise ForbiddenService(
            "SERVICE must name its endpoint as an IRI from the allow-list "
            f"({allowed}), not a variable"
        )
    if str(target) not in allowlist:
        raise ForbiddenService(f"SERVICE <{target}> is not on the allow-list ({allowed})")

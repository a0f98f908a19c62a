"""How deeply a SPARQL text nests its brackets, in one linear pass, before any parser sees it.

The engine's parser is recursive: a few thousand nested ``{``, ``(`` or ``[`` overflow its stack
and kill the process parsing the query. Real queries nest a handful of levels, so anything deeper
than :data:`MAX_NESTING` is refused up front. This is only the cheap first line: the query pool
survives a worker that crashes anyway (other constructs recurse too).
"""

from __future__ import annotations

import re

MAX_NESTING = 256

# Strings, IRIs and comments are matched first so that brackets inside them are not counted.
_TOKENS = re.compile(
    r'''"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*\''''
    r"|<[^<>\"{}|^`\\\s]*>"
    r"|\#[^\n]*"
    r"|(?P<open>[({\[])|(?P<close>[)}\]])"
)


def nesting_depth(query: str) -> int:
    """The deepest bracket nesting in ``query``, strings, IRIs and comments aside."""
    depth = deepest = 0
    for match in _TOKENS.finditer(query):
        if match.lastgroup == "open":
            depth += 1
            deepest = max(deepest, depth)
        elif match.lastgroup == "close":
            depth = max(0, depth - 1)
    return deepest


def too_deep(query: str, limit: int = MAX_NESTING) -> bool:
    return nesting_depth(query) > limit

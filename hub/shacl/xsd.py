"""Lexical spaces of the XSD datatypes, numeric comparison and XPath regular expressions.

Helpers of the compiler and checks of :mod:`hub.shacl`. The checks follow XML Schema 1.1 part 2
and RDF 1.1: a literal is ill-typed when its lexical form is not in the lexical space of its
datatype, with no whitespace trimming and no leniency (``"2021-13-45"^^xsd:date``, ``" 5"^^xsd:integer`` and
``"1e5"^^xsd:decimal`` are ill-typed). pyoxigraph keeps ill-typed literals as they were written,
and rdflib accepts several forms XSD does not, so neither is asked.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from decimal import Decimal

from hub.shacl.model import RDF_LANGSTRING, XSD, XSD_STRING, UnsupportedShapes

_TZ = r"(?:Z|[+-](?:(?:0[0-9]|1[0-3]):[0-5][0-9]|14:00))?"
_DATE = r"(-?(?:[1-9][0-9]{3,}|0[0-9]{3}))-(0[1-9]|1[0-2])-(0[1-9]|[12][0-9]|3[01])"
_TIME = r"(?:(?:[01][0-9]|2[0-3]):[0-5][0-9]:[0-5][0-9](?:\.[0-9]+)?|24:00:00(?:\.0+)?)"
_DATE_RE = re.compile(_DATE + _TZ)
_DATETIME_RE = re.compile(_DATE + "T" + _TIME + _TZ)
_DATETIMESTAMP_RE = re.compile(_DATE + "T" + _TIME + _TZ[:-1])  # the time zone is required
_TIME_RE = re.compile(_TIME + _TZ)
_INTEGER_RE = re.compile(r"[+-]?[0-9]+")
_DECIMAL_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DOUBLE_RE = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|[+-]?INF|NaN")
_DAYS = (31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)


def _day_fits(year: str, month: str, day: str) -> bool:
    """XSD 1.1 day-of-month rule: 29 February only in leap years (year 0000 is leap)."""
    d, m = int(day), int(month)
    if d <= 28 or (d <= _DAYS[m - 1] and m != 2):
        return True
    if m != 2 or d != 29:
        return False
    y = int(year)
    return y % 4 == 0 and (y % 100 != 0 or y % 400 == 0)


def _dated(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    def check(lexical: str) -> bool:
        found = pattern.fullmatch(lexical)
        return found is not None and _day_fits(*found.groups())

    return check


def _integer(low: int | None, high: int | None) -> Callable[[str], bool]:
    def check(lexical: str) -> bool:
        if _INTEGER_RE.fullmatch(lexical) is None:
            return False
        if low is None and high is None:
            return True
        value = int(lexical)
        return (low is None or value >= low) and (high is None or value <= high)

    return check


def _matches(pattern: re.Pattern[str]) -> Callable[[str], bool]:
    return lambda lexical: pattern.fullmatch(lexical) is not None


_INTEGER_RANGES: dict[str, tuple[int | None, int | None]] = {
    "integer": (None, None),
    "long": (-(2**63), 2**63 - 1),
    "int": (-(2**31), 2**31 - 1),
    "short": (-(2**15), 2**15 - 1),
    "byte": (-128, 127),
    "nonNegativeInteger": (0, None),
    "positiveInteger": (1, None),
    "nonPositiveInteger": (None, 0),
    "negativeInteger": (None, -1),
    "unsignedLong": (0, 2**64 - 1),
    "unsignedInt": (0, 2**32 - 1),
    "unsignedShort": (0, 2**16 - 1),
    "unsignedByte": (0, 255),
}
INTEGER_TYPES = frozenset(XSD + name for name in _INTEGER_RANGES)
FLOAT_TYPES = frozenset((XSD + "double", XSD + "float"))
NUMERIC_TYPES = INTEGER_TYPES | FLOAT_TYPES | {XSD + "decimal"}

LEXICAL: dict[str, Callable[[str], bool] | None] = {
    XSD_STRING: None,
    RDF_LANGSTRING: None,
    XSD + "boolean": lambda lexical: lexical in ("true", "false", "1", "0"),
    XSD + "decimal": _matches(_DECIMAL_RE),
    XSD + "double": _matches(_DOUBLE_RE),
    XSD + "float": _matches(_DOUBLE_RE),
    XSD + "date": _dated(_DATE_RE),
    XSD + "dateTime": _dated(_DATETIME_RE),
    XSD + "dateTimeStamp": _dated(_DATETIMESTAMP_RE),
    XSD + "time": _matches(_TIME_RE),
    **{XSD + name: _integer(*bounds) for name, bounds in _INTEGER_RANGES.items()},
}
"""Lexical checks of the datatypes the engine knows (None: every lexical form is valid)."""

_OWN_NAMESPACES = (XSD, "http://www.w3.org/1999/02/22-rdf-syntax-ns#", "http://www.w3.org/2000/01/rdf-schema#")


def datatype_check(datatype: str) -> Callable[[str], bool] | None:
    """The lexical check for ``sh:datatype``; other XSD/RDF datatypes are refused, not waved through."""
    if datatype in LEXICAL:
        return LEXICAL[datatype]
    if datatype.startswith(_OWN_NAMESPACES):
        raise UnsupportedShapes(f"sh:datatype <{datatype}>: its lexical space is not implemented")
    return None  # a datatype of its own: only the IRI is compared, as SHACL says


Number = int | Decimal | float


def number(lexical: str, datatype: str) -> Number | None:
    """The value of a numeric literal, or None when it is not a well-typed number."""
    check = LEXICAL.get(datatype)
    if datatype not in NUMERIC_TYPES or check is None or not check(lexical):
        return None
    if datatype in INTEGER_TYPES:
        return int(lexical)
    if datatype in FLOAT_TYPES:
        return float(lexical.replace("INF", "inf"))
    return Decimal(lexical)


def compare(value: Number, bound: Number) -> int | None:
    """SPARQL numeric comparison (decimals promoted to double next to a double); None if unordered."""
    if isinstance(value, float) or isinstance(bound, float):
        a, b = float(value), float(bound)
        if a != a or b != b:  # NaN
            return None
        return (a > b) - (a < b)
    return (value > bound) - (value < bound)


_SPACE = " \\t\\n\\r"
_PLAIN_ESCAPES = set("nrt\\|.-^?*+{}()[]$") | set("dD123456789")


def xpath_regex(pattern: str, flags: str) -> re.Pattern[str]:
    """Compile an XPath 3.1 regular expression (sh:pattern) into a Python one with the same matches.

    Python differs on ``$`` (matches before a final newline), ``.`` (matches ``\\r``) and ``\\s``
    (any Unicode space): those are rewritten. Constructs with no faithful translation are refused.
    """
    unknown = set(flags) - set("ims")
    if unknown:
        raise UnsupportedShapes(f"sh:flags {flags!r}: only i, m and s are implemented")
    dotall, multiline = "s" in flags, "m" in flags
    out: list[str] = []
    in_class = False
    i = 0
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            if i + 1 >= len(pattern):
                raise UnsupportedShapes(f"sh:pattern {pattern!r}: trailing backslash")
            nxt = pattern[i + 1]
            if nxt == "s":
                out.append(_SPACE if in_class else f"[{_SPACE}]")
            elif nxt == "S" and not in_class:
                out.append(f"[^{_SPACE}]")
            elif nxt in _PLAIN_ESCAPES:
                out.append(char + nxt)
            else:
                raise UnsupportedShapes(f"sh:pattern {pattern!r}: \\{nxt} is not implemented")
            i += 2
            continue
        if in_class:
            if char == "[" or (char == "-" and pattern[i + 1 : i + 2] == "["):
                raise UnsupportedShapes(f"sh:pattern {pattern!r}: class subtraction is not implemented")
            if char == "]":
                in_class = False
            out.append(char)
        elif char == "[":
            in_class = True
            out.append(char)
            if pattern[i + 1 : i + 2] == "^":
                out.append("^")
                i += 1
            if pattern[i + 1 : i + 2] == "]":
                raise UnsupportedShapes(f"sh:pattern {pattern!r}: empty or ']'-first class")
        elif char == "(" and pattern[i + 1 : i + 2] == "?":
            if pattern[i + 2 : i + 3] != ":":
                raise UnsupportedShapes(f"sh:pattern {pattern!r}: (?{pattern[i + 2 : i + 3]} is not XPath")
            out.append("(?:")
            i += 3
            continue
        elif char == "." and not dotall:
            out.append("[^\\n\\r]")
        elif char == "$" and not multiline:
            out.append("\\Z")
        else:
            out.append(char)
        i += 1
    if in_class:
        raise UnsupportedShapes(f"sh:pattern {pattern!r}: unterminated class")
    python_flags = (re.IGNORECASE if "i" in flags else 0) | (re.MULTILINE if multiline else 0)
    python_flags |= re.DOTALL if dotall else 0
    try:
        return re.compile("".join(out), python_flags)
    except re.error as exc:
        raise UnsupportedShapes(f"sh:pattern {pattern!r}: {exc}") from exc

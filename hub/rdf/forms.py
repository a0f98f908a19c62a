"""Tell a SPARQL query's form (SELECT, ASK, CONSTRUCT, DESCRIBE) without a full parse."""

from __future__ import annotations

import re

_PROLOGUE = re.compile(
    r"""\s*(?:\#[^\n]*\n\s*|BASE\s*<[^>]*>\s*|PREFIX\s+[^\s:]*:\s*<[^>]*>\s*)*""", re.IGNORECASE
)
_FORM = re.compile(r"(SELECT|ASK|CONSTRUCT|DESCRIBE)\b", re.IGNORECASE)


def query_form(text: str) -> str:
    """The form keyword in upper case, or ``UNKNOWN`` (the store will then report the error)."""
    prologue = _PROLOGUE.match(text)
    rest = text[prologue.end() :] if prologue else text
    match = _FORM.match(rest)
    return match.group(1).upper() if match else "UNKNOWN"

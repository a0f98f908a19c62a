"""Checks on SPARQL text before it runs: federated calls only to allowed endpoints."""

from __future__ import annotations

import re

# Strings, IRIs and comments are matched first so that "SERVICE" inside them is not a keyword.
_TOKENS = re.compile(
    r'''(?P<string>"""(?:[^"\\]|\\.|"(?!""))*"""|\'\'\'(?:[^'\\]|\\.|'(?!''))*\'\'\'|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*')'''
    r"|(?P<iri><[^<>\"{}|^`\\\s]*>)"
    r"|(?P<comment>\#[^\n]*)"
    r"|(?P<name>[?$]\w+|[A-Za-z_][\w.-]*:[\w.-]*|:[\w.-]+)"
    r"|(?P<service>\bSERVICE\b)"
    r"|(?P<load>\bLOAD\b)",
    re.IGNORECASE,
)
_AFTER_SERVICE = re.compile(r"\s*(?:SILENT\s+)?(<[^>]*>)?", re.IGNORECASE)


class ForbiddenService(Exception):
    """The query calls a SERVICE outside the allow-list (or one we cannot check)."""


def check_services(query: str, allowlist: list[str]) -> None:
    """Raise unless every ``SERVICE`` names, as a full IRI, an endpoint on the allow-list."""
    for match in _TOKENS.finditer(query):
        if match.lastgroup == "load":
            raise ForbiddenService("LOAD is not allowed: it would fetch arbitrary URLs")
        if match.lastgroup != "service":
            continue
        target = _AFTER_SERVICE.match(query, match.end())
        iri = target.group(1)[1:-1] if target and target.group(1) else None
        if iri is None:
            raise ForbiddenService(
                "SERVICE must name its endpoint as a full IRI (<https://...>) from the allow-list"
            )
        if iri not in allowlist:
            allowed = ", ".join(allowlist) or "none configured"
            raise ForbiddenService(f"SERVICE <{iri}> is not on the allow-list ({allowed})")

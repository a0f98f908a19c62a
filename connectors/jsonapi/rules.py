"""One JSON value → RDF terms, as a field rule says: datatypes, date formats, code tables, SKOS
concepts, code patterns to IRIs, templates.

A value of the wrong shape (text where a number is expected, a date that does not match its
format, a code outside a table declared ``unknown = "error"``) raises :class:`RuleError`; the
record then carries the reason and goes to the quarantine with its source id, the rest of the
harvest goes on. Range checks (a latitude of 123) are the shapes' business, so that every
source is held to the same rules.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from decimal import Decimal, InvalidOperation
from typing import Any

import pyoxigraph as ox

from connectors.jsonapi.html_text import html_text
from connectors.jsonapi.mapping import ApiMapping, Rule
from connectors.jsonapi.paths import walk
from hub.errors import InputError
from hub.iris import slug
from hub.records import moment_literal
from hub.vocab import RDF_TYPE, XSD

SKOS = "http://www.w3.org/2004/02/skos/core#"
Term = ox.NamedNode | ox.Literal
_PLACEHOLDER = re.compile(r"\{([^{}]+)\}")
_CODE = re.compile(r"[A-Za-z0-9._~-]+")


MAX_EXPONENT = 100
"""A number is refused past 10^100 or below 10^-100: written out in full as xsd:decimal wants,
``1e999999999`` would be a gigabyte of zeros."""


class RuleError(InputError):
    """A value that cannot become RDF; the message names the field and says why."""


def describe(value: Any) -> str:
    if isinstance(value, bool):
        return f"a boolean ({str(value).lower()})"
    if isinstance(value, int | float):
        return f"a number ({value})"
    if isinstance(value, str):
        return f"text ({value[:40]!r})"
    return "a list" if isinstance(value, list) else "an object"


def render(template: str, record: Any, base: str = "") -> str | None:
    """``template`` with each ``{dotted.path}`` replaced by the record's value (``{base}``: the
    hub's base IRI); None when a placeholder has no value, unless it is optional
    (``{address.streetNumber?}``: then it is left out, and the spaces around it with it)."""
    missing = False

    def one(match: re.Match[str]) -> str:
        nonlocal missing
        name = match.group(1)
        if name == "base":
            return base
        value = walk(record, name.removesuffix("?"))
        if value is None or value == "" or isinstance(value, dict | list):
            missing = missing or not name.endswith("?")
            return ""
        return str(value)

    text = _PLACEHOLDER.sub(one, template)
    if missing:
        return None
    return " ".join(text.split()) if "?}" in template else text


class Converter:
    """Values → terms for one mapping; ``extra`` collects the triples describing SKOS concepts."""

    def __init__(self, mapping: ApiMapping, base: str) -> None:
        self.mapping = mapping
        self.base = base

    def raw_values(self, rule: Rule, record: Any) -> list[Any]:
        """The rule's values in the record, as a list (empty when absent)."""
        raw = render(rule.template, record, self.base) if rule.template else walk(record, rule.path)
        if raw is None or raw == "" or raw == []:
            return []
        if rule.split and isinstance(raw, str):
            raw = [part.strip() for part in raw.split(rule.split)]
        if isinstance(raw, list):
            if not rule.is_list and len(raw) > 1:
                raise RuleError(f"expected one value, got a list of {len(raw)}")
            return [item for item in raw if item not in (None, "")]
        return [raw]

    def terms(self, rule: Rule, record: Any, extra: list[ox.Triple]) -> list[Term]:
        found: list[Term] = []
        for item in self.raw_values(rule, record):
            if rule.datatype == "html" and isinstance(item, str):
                item = html_text(item)  # markup is no text; a value of tags alone gives nothing
                if not item:
                    continue
            term = self._coded(rule, item, extra) if (rule.codes or rule.concept or rule.choices) else (
                self.term(rule.datatype, item, rule.format)
            )
            if term is not None:
                found.append(term)
        return found

    def _coded(self, rule: Rule, item: Any, extra: list[ox.Triple]) -> Term | None:
        if not isinstance(item, str | int) or isinstance(item, bool):
            raise RuleError(f"expected a code, got {describe(item)}")
        code = str(item)
        table = self.mapping.codes.get(rule.codes or "", {})
        for choice in rule.choices:
            if choice.pattern.fullmatch(code):
                iri = choice.iri.replace("{code}", code).replace("{base}", self.base)
                return self.term("iri", iri) if iri else None
        label = table.get(code)
        known = label is not None or (not table and not rule.choices)
        if not known:
            if rule.unknown == "error":
                raise RuleError(f"unknown code {code!r}")
            if rule.unknown == "skip":
                return None
        if rule.concept:
            if not _CODE.fullmatch(code):  # a label used as a code ("Communes"): named by its slug
                label = label if label is not None else code
                code = slug(code)
            concept = ox.NamedNode(rule.concept + code)
            extra.append(ox.Triple(concept, ox.NamedNode(RDF_TYPE), ox.NamedNode(SKOS + "Concept")))
            extra.append(ox.Triple(concept, ox.NamedNode(SKOS + "notation"), ox.Literal(code)))
            extra.append(ox.Triple(concept, ox.NamedNode(SKOS + "inScheme"),
                                   ox.NamedNode(rule.concept.rstrip("/#") or rule.concept)))
            if label is not None:
                extra.append(ox.Triple(concept, ox.NamedNode(SKOS + "prefLabel"),
                                       ox.Literal(label, language=self.mapping.language)))
            return concept
        return self.term(rule.datatype, label if label is not None else code)

    def term(self, kind: str, item: Any, fmt: str | None = None) -> Term:
        if kind in ("decimal", "integer"):
            if isinstance(item, bool) or not isinstance(item, int | float | str):
                raise RuleError(f"expected a number, got {describe(item)}")
            try:
                number = Decimal(str(item).strip().replace(",", "."))
            except InvalidOperation as exc:
                raise RuleError(f"expected a number, got {describe(item)}") from exc
            if not number.is_finite() or not -MAX_EXPONENT <= number.adjusted() <= MAX_EXPONENT:
                raise RuleError(f"expected a number, got {describe(item)}")
            if kind == "integer":
                if number != number.to_integral_value():
                    raise RuleError(f"expected a whole number, got {describe(item)}")
                return ox.Literal(str(int(number)), datatype=ox.NamedNode(XSD + "integer"))
            return ox.Literal(format(number, "f"), datatype=ox.NamedNode(XSD + "decimal"))
        if kind == "boolean":
            if isinstance(item, bool):
                return ox.Literal(str(item).lower(), datatype=ox.NamedNode(XSD + "boolean"))
            if str(item).lower() in ("true", "false", "1", "0"):
                value = str(item).lower() in ("true", "1")
                return ox.Literal(str(value).lower(), datatype=ox.NamedNode(XSD + "boolean"))
            raise RuleError(f"expected a boolean, got {describe(item)}")
        if kind in ("date", "datetime"):
            return temporal(item, kind, fmt)
        if isinstance(item, bool) or not isinstance(item, str | int | float):
            raise RuleError(f"expected text, got {describe(item)}")
        text = str(item).strip()
        if kind == "iri":
            if not text.startswith(("http://", "https://")):
                raise RuleError(f"expected a web address, got {describe(item)}")
            try:
                return ox.NamedNode(text)
            except ValueError as exc:
                raise RuleError(f"invalid web address {text[:80]!r}: {exc}") from exc
        if kind in ("text", "html"):
            return ox.Literal(text, language=self.mapping.language)
        return ox.Literal(text)


def temporal(item: Any, kind: str, fmt: str | None = None) -> ox.Literal:
    """A date or datetime literal from an ISO 8601 string, a ``fmt`` string, or a unix time."""
    if isinstance(item, int | float) and not isinstance(item, bool):
        moment = datetime.fromtimestamp(item, UTC)
    elif isinstance(item, str):
        text = item.strip()
        try:
            moment = (datetime.strptime(text, fmt) if fmt
                      else datetime.fromisoformat(text.replace("Z", "+00:00").replace(" ", "T", 1)))
        except ValueError as exc:
            wanted = f"the format {fmt!r}" if fmt else "ISO 8601"
            raise RuleError(f"expected a date in {wanted}, got {describe(item)}") from exc
    else:
        raise RuleError(f"expected a date, got {describe(item)}")
    return moment_literal(moment, kind)

"""A JSON API's mapping file, read and checked once: auth, endpoints, paging, field rules, codes.

The format is documented in ``connectors/jsonapi/README.md`` (with a complete example); this
module refuses at load time anything the reader could only trip on mid-harvest (an unknown key,
a link to an endpoint that does not exist, a code table that is not declared), so a typo costs a
clear message at ``maillage sync`` start, not a quarantine of every record.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from hub.config import ConfigError, read_toml
from hub.vocab import CLASS_NAMES

DATATYPES = ("text", "html", "string", "iri", "decimal", "integer", "boolean", "date", "datetime", "email")
AUTH_KINDS = ("none", "bearer", "header", "token_exchange")
PAGING_KINDS = ("page", "offset", "next", "cursor", "none")
UNKNOWN_CODES = ("keep", "skip", "error")
TERRITORY_CLASSES = ("Commune", "EPCI", "Department", "Region")


@dataclass(frozen=True)
class Auth:
    kind: str = "none"
    token: str | None = None
    """``credentials`` key naming the environment variable with the token (bearer, header)."""
    header: str = "Authorization"
    scheme: str = "Bearer"
    """Written before the token in ``header`` ("" for a bare API key)."""
    url: str | None = None
    """token_exchange: where the credentials are POSTed (relative to the source's url)."""
    fields: tuple[tuple[str, str], ...] = ()
    """token_exchange: body field → ``credentials`` key naming the environment variable."""
    headers: tuple[tuple[str, str], ...] = ()
    """token_exchange: header → ``credentials`` key, sent with the exchange only (Aides-territoires'
    ``X-AUTH-TOKEN``)."""
    body: str = "json"
    """token_exchange: "json" or "form"."""
    token_field: str = "token"
    """token_exchange: dotted path of the token in the answer."""


@dataclass(frozen=True)
class Paging:
    kind: str = "none"
    page: str = "page"
    size: str = "size"
    size_value: int = 100
    first: int = 1
    offset: str = "offset"
    total: str | None = None
    """Dotted path of the record count in the envelope; checked against what was read."""
    pages: str | None = None
    next: str = "next"
    """next: dotted path of the next page's URL; cursor: of the next cursor."""
    cursor: str = "cursor"


@dataclass(frozen=True)
class CodeChoice:
    pattern: re.Pattern[str]
    iri: str
    """IRI template with ``{code}`` and ``{base}`` (the hub's base IRI); "" drops the value."""


@dataclass(frozen=True)
class Rule:
    path: str
    """Dotted path in the record; ``*`` walks every item of a list (``contacts.*.email``)."""
    property: str
    datatype: str = "text"
    is_list: bool = False
    format: str | None = None
    """strptime format of a date or datetime ("%d/%m/%Y"); ISO 8601 when unset."""
    codes: str | None = None
    """Name of a [codes.<name>] table: the code's label becomes the value."""
    concept: str | None = None
    """Base IRI of SKOS concepts: the value is <concept><code>, described in the record."""
    choices: tuple[CodeChoice, ...] = ()
    unknown: str = "keep"
    link: str | None = None
    """Name of an endpoint: the value is the id of one of its records, linked as an entity."""
    template: str | None = None
    """A string with ``{dotted.path}`` placeholders, rendered from the record."""
    split: str | None = None
    """A separator: one string holds several values."""
    territory: str | None = None
    """The value names a territory: a hub territory class ("Region"), or the dotted path of the
    record's field naming its level, read through the ``levels`` code table. Linked when the hub
    holds exactly one territory of that level under that name, else left out."""
    levels: str | None = None
    invalid: str = "quarantine"
    """A value the rule cannot convert: "quarantine" the record (default), or "skip" the value
    (a free-text field of a crowd-sourced map: a website written without its scheme)."""


@dataclass(frozen=True)
class Constant:
    property: str
    value: str
    datatype: str = "string"


@dataclass(frozen=True)
class UpdatedSince:
    param: str
    format: str = "%Y-%m-%dT%H:%M:%S%z"


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    hub_class: str
    also: tuple[str, ...]
    records: str
    """Dotted path of the record list in the envelope ("" for a bare list)."""
    id: str
    rules: tuple[Rule, ...]
    paging: Paging
    params: tuple[tuple[str, str], ...] = ()
    updated: str | None = None
    updated_since: UpdatedSince | None = None
    url: str | None = None
    """Dotted path of the record's page at the source, or a template; else the API URL."""
    constants: tuple[Constant, ...] = ()
    keep_if: tuple[tuple[str, tuple[str, ...]], ...] = ()
    """Only records whose field (dotted) has one of these values (GoGoCarto's public status)."""
    id_pattern: re.Pattern[str] | None = None
    """The record's id is this regex's first group of the ``id`` field ("42" of "42-region-ara")."""
    license: str | None = None
    """Dotted path of the licence IRI in each answer (GoGoCarto's ``licence``): the records'
    licence, over the source's configured one."""

    @property
    def classes(self) -> tuple[str, ...]:
        return (self.hub_class, *self.also)


@dataclass(frozen=True)
class ApiMapping:
    endpoints: tuple[Endpoint, ...]
    auth: Auth = Auth()
    codes: dict[str, dict[str, str]] = field(default_factory=dict)
    language: str = "fr"
    timeout: float = 30.0
    max_retries: int = 4
    retry_wait: float = 1.0
    max_retry_after: float = 120.0
    reconcile_hours: float = 24.0
    batch_size: int = 200
    max_page_bytes: int = 20_000_000
    """An answer past this many bytes (decompressed) is refused: a source cannot fill the hub's memory."""
    max_pages: int = 100_000
    """Pages of one endpoint read in one pass at most; past it, the listing is taken as incomplete."""
    user_agent: str = "Maillage/0.1 (linked-data hub for territorial commons; jsonapi connector)"

    def endpoint(self, name: str) -> Endpoint:
        return next(e for e in self.endpoints if e.name == name)


def _keys(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = set(raw) - allowed
    if unknown:
        raise ConfigError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")


def _auth(raw: dict[str, Any]) -> Auth:
    allowed = {"kind", "token", "header", "scheme", "url", "fields", "headers", "body", "token_field"}
    _keys(raw, allowed, "[auth]")
    kind = raw.get("kind", "none")
    if kind not in AUTH_KINDS:
        raise ConfigError(f"[auth] kind must be one of {', '.join(AUTH_KINDS)}, not {kind!r}")
    if kind in ("bearer", "header") and not raw.get("token"):
        raise ConfigError(f"[auth] kind = {kind!r} needs token = \"<credentials key>\"")
    if kind == "header" and not raw.get("header"):
        raise ConfigError("[auth] kind = \"header\" needs header = \"X-Api-Key\" (or the API's name)")
    if kind == "token_exchange" and not (raw.get("url") and (raw.get("fields") or raw.get("headers"))):
        raise ConfigError("[auth] kind = \"token_exchange\" needs url, and fields or headers")
    if raw.get("body", "json") not in ("json", "form"):
        raise ConfigError("[auth] body must be \"json\" or \"form\"")
    scheme = "" if kind == "header" else "Bearer"
    return Auth(
        kind=kind,
        token=raw.get("token"),
        header=raw.get("header", "Authorization"),
        scheme=str(raw.get("scheme", scheme)),
        url=raw.get("url"),
        fields=tuple((str(k), str(v)) for k, v in raw.get("fields", {}).items()),
        headers=tuple((str(k), str(v)) for k, v in raw.get("headers", {}).items()),
        body=raw.get("body", "json"),
        token_field=raw.get("token_field", "token"),
    )


def _paging(raw: Any, where: str) -> Paging:
    if isinstance(raw, str):
        raw = {"kind": raw}
    if not isinstance(raw, dict):
        raise ConfigError(f"{where}: paging must be a table")
    _keys(raw, {f.name for f in Paging.__dataclass_fields__.values()} | {"kind"}, f"{where} paging")
    kind = raw.get("kind", "none")
    if kind not in PAGING_KINDS:
        raise ConfigError(f"{where}: paging kind must be one of {', '.join(PAGING_KINDS)}, not {kind!r}")
    if kind == "next" and "size" not in raw:
        raw = {**raw, "size": ""}  # the API's next links carry the page size, if any
    paging = Paging(**raw)
    if paging.size_value < 1:
        raise ConfigError(f"{where}: paging size_value must be at least 1")
    return paging


RULE_KEYS = {
    "property", "datatype", "list", "format", "codes", "concept", "choices", "unknown", "link",
    "template", "split", "territory", "levels", "invalid",
}


def _rule(path: str, raw: Any, where: str) -> Rule:
    if isinstance(raw, str):
        raw = {"property": raw}
    if not isinstance(raw, dict) or "property" not in raw:
        raise ConfigError(f"{where}: field {path!r} needs a property")
    _keys(raw, RULE_KEYS, f"{where} field {path!r}")
    datatype = raw.get("datatype", "iri" if raw.get("link") or raw.get("concept") else "text")
    if datatype not in DATATYPES:
        raise ConfigError(f"{where}: field {path!r}: datatype must be one of {', '.join(DATATYPES)}")
    unknown = raw.get("unknown", "keep")
    if unknown not in UNKNOWN_CODES:
        raise ConfigError(f"{where}: field {path!r}: unknown must be one of {', '.join(UNKNOWN_CODES)}")
    if raw.get("invalid", "quarantine") not in ("quarantine", "skip"):
        raise ConfigError(f"{where}: field {path!r}: invalid must be \"quarantine\" or \"skip\"")
    territory = raw.get("territory")
    if territory is not None and territory not in TERRITORY_CLASSES and not raw.get("levels"):
        raise ConfigError(f"{where}: field {path!r}: territory is a territory class "
                          f"({', '.join(TERRITORY_CLASSES)}) or a field naming the level, with levels")
    choices = []
    for choice in raw.get("choices", []):
        try:
            choices.append(CodeChoice(re.compile(str(choice["match"])), str(choice["iri"])))
        except (KeyError, TypeError, re.error) as exc:
            raise ConfigError(f"{where}: field {path!r}: each choice needs match (a regex) and iri") from exc
    return Rule(
        path=path,
        property=str(raw["property"]),
        datatype=datatype,
        is_list=bool(raw.get("list", False)) or bool(raw.get("split")),
        format=raw.get("format"),
        codes=raw.get("codes"),
        concept=raw.get("concept"),
        choices=tuple(choices),
        unknown=unknown,
        link=raw.get("link"),
        template=raw.get("template"),
        split=raw.get("split"),
        territory=territory,
        levels=raw.get("levels"),
        invalid=raw.get("invalid", "quarantine"),
    )


ENDPOINT_KEYS = {
    "name", "path", "class", "also", "records", "id", "updated", "updated_since", "url", "params",
    "paging", "fields", "constants", "keep_if", "id_pattern", "license",
}


def _endpoint(raw: dict[str, Any], index: int) -> Endpoint:
    where = f"[[endpoints]] #{index + 1}"
    _keys(raw, ENDPOINT_KEYS, where)
    for key in ("name", "path", "class", "id", "fields"):
        if key not in raw:
            raise ConfigError(f"{where} needs '{key}'")
    where = f"[[endpoints]] {raw['name']!r}"
    classes = [raw["class"], *raw.get("also", [])]
    if any(c not in CLASS_NAMES for c in classes):
        raise ConfigError(f"{where}: class and also must be hub classes ({', '.join(sorted(CLASS_NAMES))})")
    rules: list[Rule] = []
    for path, value in raw["fields"].items():
        for one in value if isinstance(value, list) else [value]:
            rules.append(_rule(path, one, where))
    if not any(r.property == "name" for r in rules):
        raise ConfigError(f"{where}: one field must map to 'name'")
    since = raw.get("updated_since")
    if isinstance(since, str):
        since = {"param": since}
    constants = []
    for prop, value in raw.get("constants", {}).items():
        value = value if isinstance(value, dict) else {"value": value}
        constants.append(Constant(prop, str(value["value"]), value.get("datatype", "string")))
    return Endpoint(
        name=str(raw["name"]),
        path=str(raw["path"]),
        hub_class=raw["class"],
        also=tuple(raw.get("also", [])),
        records=str(raw.get("records", "")),
        id=str(raw["id"]),
        rules=tuple(rules),
        paging=_paging(raw.get("paging", "none"), where),
        params=tuple((str(k), str(v)) for k, v in raw.get("params", {}).items()),
        updated=raw.get("updated"),
        updated_since=UpdatedSince(**since) if since else None,
        url=raw.get("url"),
        constants=tuple(constants),
        keep_if=tuple(
            (str(k), tuple(str(x) for x in (v if isinstance(v, list) else [v])))
            for k, v in raw.get("keep_if", {}).items()
        ),
        id_pattern=_pattern(raw.get("id_pattern"), where),
        license=raw.get("license"),
    )


def _pattern(text: Any, where: str) -> re.Pattern[str] | None:
    if text is None:
        return None
    try:
        pattern = re.compile(str(text))
    except re.error as exc:
        raise ConfigError(f"{where}: id_pattern is not a regular expression: {exc}") from exc
    if pattern.groups != 1:
        raise ConfigError(f"{where}: id_pattern needs exactly one group (the id)")
    return pattern


def parse_mapping(raw: dict[str, Any], where: str = "mapping") -> ApiMapping:
    _keys(raw, {"api", "auth", "endpoints", "codes"}, where)
    api = dict(raw.get("api", {}))
    _keys(api, {"language", "timeout", "max_retries", "retry_wait", "max_retry_after",
                "reconcile_hours", "batch_size", "user_agent", "max_page_bytes", "max_pages"}, "[api]")
    endpoints = tuple(_endpoint(e, i) for i, e in enumerate(raw.get("endpoints", [])))
    if not endpoints:
        raise ConfigError(f"{where}: no [[endpoints]]")
    names = [e.name for e in endpoints]
    if len(names) != len(set(names)):
        raise ConfigError(f"{where}: two [[endpoints]] share a name")
    codes = {str(k): {str(c): str(label) for c, label in v.items()} for k, v in raw.get("codes", {}).items()}
    for endpoint in endpoints:
        for rule in endpoint.rules:
            if rule.link and rule.link not in names:
                raise ConfigError(
                    f"endpoint {endpoint.name!r}: field {rule.path!r} links to an unknown "
                    f"endpoint {rule.link!r}"
                )
            for table in (rule.codes, rule.levels):
                if table and table not in codes:
                    raise ConfigError(
                        f"endpoint {endpoint.name!r}: field {rule.path!r} uses [codes.{table}], "
                        f"which is not declared"
                    )
    return ApiMapping(endpoints=endpoints, auth=_auth(raw.get("auth", {})), codes=codes, **api)


def load_mapping(path: Path) -> ApiMapping:
    return parse_mapping(read_toml(path, "mapping file"), str(path))

"""``maillage discover`` on a JSON API: sample each endpoint and draft a mapping to finish by hand.

For each path it asks the first page, finds the record list in the envelope (the largest list
of objects: ``items``, ``results``, ``data``…), recognises the paging from the envelope's keys
(``page``/``size``/``pages``, ``next``, ``next_cursor``, ``count``/``total``), and lists every
field found in the sampled records with an example value, guessing the hub property where the
name says it (``nom``, ``courriel``, ``code_postal``…). Fields it cannot guess are left as
commented ``TODO`` lines: a person decides, the draft never claims more than it saw.
"""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path
from typing import Any

from connectors.base.secrets import secret
from connectors.jsonapi.auth import Authenticator
from connectors.jsonapi.client import ApiClient, ApiError
from connectors.jsonapi.mapping import ApiMapping, Auth, load_mapping
from connectors.jsonapi.paths import leaves
from hub.config import ConfigError, SourceSettings

SAMPLE = 50
STRING = ', datatype = "string"'
FIELD_HINTS: list[tuple[tuple[str, ...], str, str]] = [
    (("nom", "name", "title", "titre", "label"), "name", ""),
    (("description", "presentation"), "description", ""),
    (("short_description", "resume", "summary", "description_courte"), "shortDescription", ""),
    (("courriel", "email", "mail", "e-mail"), "email", ', datatype = "email"'),
    (("telephone", "phone", "tel"), "telephone", STRING),
    (("site_web", "website", "url", "site", "web"), "url", ', datatype = "iri"'),
    (("code_postal", "postal_code", "postalcode", "zipcode", "zip_code", "cp"), "postalCode",
     STRING),
    (("commune", "city", "ville", "locality", "town", "addresslocality"), "locality", STRING),
    (("code_insee", "insee", "insee_code", "codeinsee", "citycode"), "inseeCode",
     STRING),
    (("adresse", "address", "streetaddress", "street_address", "rue"), "streetAddress", STRING),
    (("latitude", "lat"), "latitude", ', datatype = "decimal"'),
    (("longitude", "lon", "lng", "long"), "longitude", ', datatype = "decimal"'),
    (("siret",), "siret", STRING),
    (("date_maj", "updated_at", "modified", "date_modification", "last_modified", "updated"),
     "dateModified", ', datatype = "date"'),
    (("date_creation", "created_at", "created"), "dateCreated", ', datatype = "date"'),
    (("thematiques", "themes", "categories", "tags", "keywords"), "theme", ", list = true"),
]
CLASS_HINTS = [
    (("structure", "organi", "association", "acteur", "actor"), "Organization"),
    (("service",), "Service"),
    (("aid", "aide", "grant", "subvention"), "Grant"),
    (("event", "evenement", "agenda"), "Event"),
    (("project", "projet"), "Project"),
    (("element", "place", "lieu", "poi"), "Place"),
]
ID_NAMES = ("id", "_id", "uuid", "uid", "pk", "slug")
UPDATED_NAMES = ("date_maj", "updated_at", "modified", "date_modification", "last_modified", "updated",
                 "dateModified")


def discover(source: SourceSettings) -> str:
    """The draft mapping for ``source`` (a configured jsonapi source, or one built by the CLI
    from a URL and its ``--path`` options)."""
    paths = list(source.options.get("discover_paths") or [])
    auth = Auth()
    if source.mapping:
        try:
            mapping = load_mapping(Path(source.mapping))
            paths = paths or [e.path for e in mapping.endpoints]
            auth = mapping.auth
        except ConfigError:
            pass  # a mapping being written: the options say what to sample
    if source.credentials.get("token_env") and auth.kind == "none":
        header = str(source.options.get("discover_header") or "Authorization")
        auth = Auth(kind="bearer" if header == "Authorization" else "header", token="token_env",
                    header=header, scheme="Bearer" if header == "Authorization" else "")
    if not paths:
        raise ConfigError("discover needs the endpoints to sample: --path /api/v1/structures (repeatable)")
    settings = ApiMapping(endpoints=(), auth=auth, max_retries=1, retry_wait=0.5)
    authenticator = Authenticator(auth, lambda key: secret(source, key), source.name)
    client = ApiClient(source.url, settings, authenticator, source.name)
    try:
        sections = [_endpoint(client, path) for path in paths]
    finally:
        client.close()
    return _render(source, auth, sections)


def _endpoint(client: ApiClient, path: str) -> list[str]:
    try:
        body = client.get(path)
    except ApiError as exc:  # on one comment line: the message may quote what the API answered
        return [f"# {path}: {' '.join(str(exc).split())}", ""]
    records_key, records = _records(body)
    paging = _paging(body if isinstance(body, dict) else {})
    name = path.rstrip("/").rsplit("/", 1)[-1].removesuffix(".json") or "records"
    fields: dict[str, Any] = {}
    seen: Counter[str] = Counter()
    for record in records[:SAMPLE]:
        for key, value in leaves(record).items():
            seen[key] += 1
            if key not in fields or fields[key] in (None, "", []):
                fields[key] = value
    ident = next((k for k in ID_NAMES if k in fields), "TODO")
    updated = next((k for k in UPDATED_NAMES if k in fields), None)
    cls = next((c for words, c in CLASS_HINTS if any(w in name.lower() for w in words)), None)
    lines = [
        f"# {path}: {len(records)} record(s) on the first page; {len(fields)} field(s) in the sample",
        "[[endpoints]]",
        f"name = {json.dumps(name)}",
        f"path = {json.dumps(path)}",
        f'class = "{cls or "TODO"}"',
        f"records = {json.dumps(records_key)}",
        f"id = {json.dumps(ident)}",
    ]
    if updated:
        lines.append(f"updated = {json.dumps(updated)}")
    lines += [f"paging = {paging}", "[endpoints.fields]"]
    named = False
    for key, value in fields.items():
        if key in (ident,):
            continue
        guess = _guess(key, value, named)
        named = named or guess.startswith(f"{json.dumps(key)} = {{ property = \"name\"")
        lines.append(f"{guess}   # {seen[key]}/{min(len(records), SAMPLE)}: {_example(value)}")
    lines.append("")
    return lines


def _records(body: Any) -> tuple[str, list[Any]]:
    if isinstance(body, list):
        return "", body
    if not isinstance(body, dict):
        return "", []
    best, found = "", list[Any]()
    for key, value in body.items():
        listed = isinstance(value, list) and any(isinstance(v, dict) for v in value)
        if listed and len(value) >= len(found):
            best, found = key, value
        elif isinstance(value, dict):
            inner, items = _records(value)
            if len(items) > len(found):
                best, found = f"{key}.{inner}" if inner else key, items
    return best, [r for r in found if isinstance(r, dict)]


def _paging(envelope: dict[str, Any]) -> str:
    total = next((k for k in ("total", "count", "total_count") if isinstance(envelope.get(k), int)), None)
    extra = f', total = "{total}"' if total else ""
    if {"page", "size"} <= envelope.keys() or {"page", "pages"} <= envelope.keys():
        pages = ', pages = "pages"' if "pages" in envelope else ""
        return f'{{ kind = "page", page = "page", size = "size", size_value = 100{pages}{extra} }}'
    if "next_cursor" in envelope:
        return ('{ kind = "cursor", cursor = "cursor", next = "next_cursor", size = "limit", '
                f'size_value = 100{extra} }}')
    if "next" in envelope:
        return f'{{ kind = "next", next = "next"{extra} }}'
    return f'{{ kind = "none"{extra} }}'


def _guess(key: str, value: Any, named: bool) -> str:
    last = key.rsplit(".", 1)[-1].lower().replace("-", "_")
    for words, prop, extra in FIELD_HINTS:
        if last in words and not (prop == "name" and named):
            listed = ", list = true" if isinstance(value, list) and "list" not in extra else ""
            return f"{json.dumps(key)} = {{ property = \"{prop}\"{extra}{listed} }}"
    return f"# {json.dumps(key)} = {{ property = \"TODO\" }}"


def _example(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + "..."


def _render(source: SourceSettings, auth: Auth, sections: list[list[str]]) -> str:
    lines = [
        f"# Draft mapping for {source.url}, written by `maillage discover`.",
        "# Check each class, id and property, uncomment or delete the TODO lines, list linked",
        "# endpoints first, then set `mapping = \"<this file>\"` in a [[sources]] table of kind",
        '# "jsonapi" (the format: connectors/jsonapi/README.md).',
        "",
        "[api]",
        'language = "fr"',
        "",
        "[auth]",
        f'kind = "{auth.kind}"',
    ]
    if auth.kind in ("bearer", "header"):
        lines.append(f'token = "{auth.token}"   # credentials = {{ {auth.token} = "YOUR_ENV_VAR" }}')
    if auth.kind == "header":
        lines += [f"header = {json.dumps(auth.header)}", f"scheme = {json.dumps(auth.scheme)}"]
    lines.append("")
    for section in sections:
        lines += section
    return "\n".join(lines) + "\n"

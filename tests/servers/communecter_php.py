"""PHP / Yii / legacy-Mongo-driver behaviours reproduced by the Communecter TEST DOUBLE.

Helpers for ``tests/servers/communecter.py``: how PHP parses form bodies into ``$_POST``, how
``json_encode`` writes answers, MongoDate, ObjectId and slug helpers. Each function says whether it
follows a PHP fact or a guess.
"""

from __future__ import annotations

import email.parser
import email.policy
import json
import os
import re
import unicodedata
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

MACHINE = os.urandom(5).hex()
ORG_TYPES = ("NGO", "LocalBusiness", "Group", "GovernmentOrganization")


def php_json(value: Any) -> bytes:
    """``json_encode`` output (PHP fact): ``\\/`` and ``\\uXXXX`` escapes, and every empty PHP
    array (an empty dict here) written as ``[]`` - so an empty ``entities``/``results`` is a LIST."""
    return json.dumps(_php_arrays(value), ensure_ascii=True, separators=(",", ":")).replace("/", "\\/").encode()


def _php_arrays(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _php_arrays(v) for k, v in value.items()} if value else []
    if isinstance(value, list | tuple):
        return [_php_arrays(v) for v in value]
    return value


def php_int(value: Any, default: int = 0) -> int:
    """PHP ``(int)`` cast of a request value: leading digits, else 0 (fact)."""
    if isinstance(value, bool | int):
        return int(value)
    match = re.match(r"\s*([+-]?\d+)", value if isinstance(value, str) else "")
    return int(match.group(1)) if match else default


def truthy(value: Any) -> bool:
    """A form boolean (``"true"``/``"1"``) or a real one."""
    return value is True or (isinstance(value, str) and value.lower() in ("true", "1")) or value == 1


# ---------------------------------------------------------------- request bodies -> $_GET / $_POST


def form_pairs(content_type: str, body: bytes) -> list[tuple[str, str]]:
    """Name/value pairs of a url-encoded or multipart form body; any other body (JSON...) is not
    parsed by PHP into ``$_POST`` (fact), so it yields nothing."""
    ctype = content_type.split(";")[0].strip().lower()
    if ctype == "application/x-www-form-urlencoded":
        return parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True)
    if ctype != "multipart/form-data":
        return []
    raw = b"Content-Type: " + content_type.encode("latin-1") + b"\r\n\r\n" + body
    pairs = []
    for part in email.parser.BytesParser(policy=email.policy.HTTP).parsebytes(raw).iter_parts():
        name, payload = part.get_param("name", header="content-disposition"), part.get_payload(decode=True)
        if isinstance(name, str) and part.get_filename() is None and isinstance(payload, bytes):
            pairs.append((name, payload.decode("utf-8", "replace")))
    return pairs


def _split_name(name: str) -> tuple[str, list[str]]:
    start = name.find("[")
    if start <= 0 or "]" not in name[start:]:
        return re.sub(r"[ .]", "_", name), []
    keys, pos = [], start
    while pos < len(name) and name[pos] == "[":
        end = name.find("]", pos)
        if end < 0:
            break
        keys.append(name[pos + 1 : end])
        pos = end + 1
    return re.sub(r"[ .]", "_", name[:start]), keys


def php_params(pairs: list[tuple[str, str]]) -> dict[str, Any]:
    """PHP's parsing of ``a[b][]=v`` names (fact): nested arrays, ``[]`` appends, a repeated plain
    name keeps the last value, ``.`` and spaces in the base name become ``_``; arrays with keys
    0..n-1 become lists."""
    out: dict[str, Any] = {}
    for name, value in pairs:
        base, keys = _split_name(name)
        if not base:
            continue
        node, path = out, [base, *keys]
        for i, key in enumerate(path):
            if key == "":
                key = str(max((int(k) + 1 for k in node if k.isdigit()), default=0))
            if i == len(path) - 1:
                node[key] = value
            else:
                if not isinstance(node.get(key), dict):
                    node[key] = {}
                node = node[key]
    return _listify(out)


def _listify(value: Any) -> Any:
    if not isinstance(value, dict):
        return value
    items = {k: _listify(v) for k, v in value.items()}
    if items and list(items) == [str(i) for i in range(len(items))]:
        return list(items.values())
    return items


# ---------------------------------------------------------------- Mongo values


def object_id(now: int, counter: int) -> str:
    """A 24-hex ObjectId: 4 bytes of time, 5 random bytes, 3 bytes of counter (Mongo layout)."""
    return f"{now & 0xFFFFFFFF:08x}{MACHINE}{counter & 0xFFFFFF:06x}"


def mongo_date(sec: int | float, usec: int = 0) -> dict[str, int]:
    """A MongoDate as the legacy driver json-encodes it: ``{"sec", "usec"}`` (fact)."""
    return {"sec": int(sec), "usec": int(usec)}


DATE_FORMATS = ("%Y-%m-%d %H:%M:%S", "%Y-%m-%d %H:%M", "%Y-%m-%d", "%d/%m/%Y %H:%M", "%d/%m/%Y")


def to_mongo_date(value: Any) -> dict[str, int] | None:
    """A MongoDate from ``Y-m-d H:i:s``, ``Y-m-d``, ISO 8601 (fact: the formats events accept),
    a unix time, a datetime or a MongoDate; None if unreadable. Naive times are UTC (guess: the
    server time zone is unknown)."""
    if isinstance(value, dict) and "sec" in value:
        return mongo_date(value["sec"], value.get("usec", 0))
    if isinstance(value, bool):
        return None
    if isinstance(value, int | float):
        return mongo_date(value)
    moment = value if isinstance(value, datetime) else None
    if isinstance(value, str):
        for fmt in DATE_FORMATS:
            try:
                moment = datetime.strptime(value.strip(), fmt)
                break
            except ValueError:
                pass
        else:
            try:
                moment = datetime.fromisoformat(value.strip())
            except ValueError:
                return None
    if moment is None:
        return None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return mongo_date(moment.timestamp(), moment.microsecond)


def iso_date(value: Any) -> str | None:
    """ISO 8601 (UTC) text of a MongoDate (guess: the translated /api event date format)."""
    date = to_mongo_date(value)
    return None if date is None else datetime.fromtimestamp(date["sec"], UTC).isoformat()


def slugify(text: str) -> str:
    """camelCase ASCII slug, e.g. "La Raffinerie" -> "laRaffinerie" (guess on co2's slugify)."""
    ascii_text = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    words = re.findall(r"[A-Za-z0-9]+", ascii_text)
    if not words:
        return "element"
    return words[0][:1].lower() + words[0][1:] + "".join(w[:1].upper() + w[1:] for w in words[1:])


def strip_tags(text: str) -> str:
    """PHP ``strip_tags`` (approximation), applied to ``shortDescription`` on save (fact)."""
    return re.sub(r"<[^>]*>", "", text)


def php_empty(value: Any) -> bool:
    """PHP ``empty()``: Translate::bindData drops such values (fact)."""
    return value is None or value is False or value in ("", "0", 0) or value == [] or value == {}

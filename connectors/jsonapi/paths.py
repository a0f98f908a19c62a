"""Dotted paths into decoded JSON: ``adresse.code_postal``, ``contacts.*.email``, ``items``."""

from __future__ import annotations

from typing import Any


def walk(value: Any, path: str) -> Any:
    """The value at ``path`` (None when a step is missing). ``*`` maps the rest of the path over
    every item of a list and returns the list of what it found (nested lists flattened)."""
    if not path:
        return value
    parts = path.split(".")
    for index, part in enumerate(parts):
        if value is None:
            return None
        if part == "*":
            if not isinstance(value, list):
                return None
            rest = ".".join(parts[index + 1 :])
            found: list[Any] = []
            for item in value:
                got = walk(item, rest)
                if isinstance(got, list):
                    found.extend(got)
                elif got is not None:
                    found.append(got)
            return found
        if isinstance(value, dict):
            value = value.get(part)
        elif isinstance(value, list) and part.isdigit():
            value = value[int(part)] if int(part) < len(value) else None
        else:
            return None
    return value


def leaves(value: Any, prefix: str = "") -> dict[str, Any]:
    """Every scalar (or list of scalars) in ``value`` by dotted path; lists of objects as ``*``
    paths. What ``maillage discover`` lists as fields."""
    found: dict[str, Any] = {}
    if isinstance(value, dict):
        for key, item in value.items():
            found.update(leaves(item, f"{prefix}.{key}" if prefix else str(key)))
    elif isinstance(value, list) and any(isinstance(item, dict) for item in value):
        for item in value:
            if isinstance(item, dict):
                for key, sub in leaves(item, f"{prefix}.*").items():
                    found.setdefault(key, sub)
    else:
        found[prefix] = value
    return found

"""Bounds on what error reports echo back: a refused value can be megabytes long, and a report
that repeats it in full turns one small request into a large response (and a large log line).
"""

from __future__ import annotations

MAX_VALUE_CHARS = 200
"""Longest value (focus, path, offending value) an error report repeats as it was sent."""
MAX_MESSAGE_CHARS = 2_000
"""Longest error message text (parse errors quote the input around the error)."""
MAX_VIOLATIONS = 100
"""Violations listed in one report; the count of the others is given instead."""
MAX_REPORT_CHARS = 100_000
"""Longest SHACL report (Turtle) attached to a 422; a longer one is left out and said so."""


def clip(text: str, limit: int = MAX_VALUE_CHARS) -> str:
    """``text`` as is when short, else its start, an ellipsis and its original length."""
    if len(text) <= limit:
        return text
    return f"{text[:limit]}… ({len(text):,} characters)"


def clip_optional(text: str | None, limit: int = MAX_VALUE_CHARS) -> str | None:
    return None if text is None else clip(text, limit)


def clip_message(text: str) -> str:
    return clip(text, MAX_MESSAGE_CHARS)


def clip_json(value: object, limit: int = MAX_VALUE_CHARS) -> object:
    """A JSON-like value with every string clipped and every list cut to ``MAX_VIOLATIONS``
    items (request validation errors repeat the input they refused)."""
    if isinstance(value, str):
        return clip(value, limit)
    if isinstance(value, dict):
        return {clip(str(k), limit): clip_json(v, limit) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [clip_json(v, limit) for v in value[:MAX_VIOLATIONS]]
    if value is None or isinstance(value, bool | int | float):
        return value
    return clip(str(value), limit)

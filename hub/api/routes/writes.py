"""Answers shared by the write endpoints: the SHACL report as JSON, the ingest summary.

Reports are bounded (:mod:`hub.clipping`): each echoed value is clipped, at most
``MAX_VIOLATIONS`` violations are listed, and the Turtle report is left out when it would be
large, so that a refused megabyte value never comes back as a megabyte answer.
"""

from __future__ import annotations

from typing import Any

from fastapi.responses import JSONResponse

from hub.clipping import (
    MAX_REPORT_CHARS,
    MAX_VIOLATIONS,
    clip,
    clip_message,
    clip_optional,
)
from hub.pipeline.ingest import IngestResult
from hub.pipeline.validate import Report, Violation


def violation_fields(violation: Violation) -> dict[str, Any]:
    """One violation with every echoed text clipped."""
    return {
        "focus": clip(violation.focus),
        "path": clip_optional(violation.path),
        "value": clip_optional(violation.value),
        "severity": violation.severity,
        "message": {lang: clip_message(text) for lang, text in violation.messages.items()},
    }


def _report_turtle(reports: dict[str, Report]) -> str | None:
    """The SHACL reports as Turtle, or None when they would be too long to send back."""
    echoed = sum(
        len(v.focus) + len(v.path or "") + len(v.value or "") + sum(map(len, v.messages.values()))
        for r in reports.values()
        for v in r.violations
    )
    if echoed > MAX_REPORT_CHARS:  # do not even build it: the values alone are too long
        return None
    text = "\n".join(r.turtle() for r in reports.values())
    return text if len(text) <= MAX_REPORT_CHARS else None


def invalid_response(reports: dict[str, Report]) -> JSONResponse:
    """422 with the violations, in French and English, and the report as Turtle (bounded)."""
    violations = [
        {"graph": clip(graph), **violation_fields(v)}
        for graph, report in reports.items()
        for v in report.violations
    ]
    body: dict[str, Any] = {
        "error": "the data does not conform to the hub shapes; nothing was written",
        "violations": violations[:MAX_VIOLATIONS],
    }
    if len(violations) > MAX_VIOLATIONS:
        body["violations_not_listed"] = len(violations) - MAX_VIOLATIONS
    report = _report_turtle(reports)
    body["report"] = report if report is not None else (
        f"(the SHACL report is over {MAX_REPORT_CHARS:,} characters and is not sent; "
        "fix the violations listed above)"
    )
    return JSONResponse(body, status_code=422)


def summary(result: IngestResult) -> dict[str, object]:
    """What was written, and the warnings of the records stored (a malformed postal code, an
    unknown INSEE code: kept, not placed), bounded like a report."""
    warnings = stored_warnings(result)
    body: dict[str, object] = {
        "created": result.created,
        "updated": result.updated,
        "deleted": result.deleted,
        "unchanged": result.unchanged,
        "changes": [c.as_dict() for c in result.changes],
        "warnings": [{"graph": clip(g), **violation_fields(v)} for g, v in warnings[:MAX_VIOLATIONS]],
    }
    if len(warnings) > MAX_VIOLATIONS:
        body["warnings_not_listed"] = len(warnings) - MAX_VIOLATIONS
    return body


def stored_warnings(result: IngestResult) -> list[tuple[str, Violation]]:
    """(graph, warning) of the records the ingest stored (a refused record's report is a 422)."""
    return [(graph, v) for graph, report in result.reports.items() if report.conforms
            for v in report.violations]


def warning_header(warnings: list[tuple[str, Violation]]) -> dict[str, str]:
    """HTTP ``Warning`` (RFC 7234, code 299: persistent) for an answer whose body is the entity
    itself: one quoted English message per warning (the first ten), ASCII only, bounded."""
    if not warnings:
        return {}
    texts = []
    for _graph, v in warnings[:10]:
        text = clip(v.describe("en"), 300).encode("ascii", "replace").decode()
        texts.append('299 maillage "' + text.replace("\\", "\\\\").replace('"', '\\"')
                     .replace("\r", " ").replace("\n", " ") + '"')
    return {"Warning": ", ".join(texts)}

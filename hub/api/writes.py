"""Answers shared by the write endpoints: the SHACL report as JSON, the ingest summary."""

from __future__ import annotations

from fastapi.responses import JSONResponse

from hub.ingest import IngestResult
from hub.validation import Report


def invalid_response(reports: dict[str, Report]) -> JSONResponse:
    """422 with every violation, in French and English, and the report as Turtle."""
    violations = [
        {
            "graph": graph,
            "focus": v.focus,
            "path": v.path,
            "value": v.value,
            "severity": v.severity,
            "message": v.messages,
        }
        for graph, report in reports.items()
        for v in report.violations
    ]
    return JSONResponse(
        {
            "error": "the data does not conform to the hub shapes; nothing was written",
            "violations": violations,
            "report": "\n".join(r.turtle() for r in reports.values()),
        },
        status_code=422,
    )


def summary(result: IngestResult) -> dict[str, object]:
    return {
        "created": result.created,
        "updated": result.updated,
        "deleted": result.deleted,
        "unchanged": result.unchanged,
        "changes": [c.as_dict() for c in result.changes],
    }

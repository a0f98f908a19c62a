"""Network confinement for the processes that execute SPARQL (queries and updates).

Placeholder: the real confinement lands in the next commit; callers already call it at start.
"""

from __future__ import annotations


def confine(allowlist: tuple[str, ...]) -> None:
    """Called first thing in every query/update worker process, before any SPARQL runs."""
    del allowlist

"""What the bookkeeping graph holds of subjects a batch is about to replace.

A commit that replaces a subject's statements (an updated record's provenance, a placement
candidate found again) removes and writes back the statements that did not change unless it
knows them: read here in one pass per batch, they let
:meth:`hub.store.transaction.Transaction.revise_meta` touch only what differs.
"""

from __future__ import annotations

from collections.abc import Iterable

from hub.store.base import Store
from hub.vocab import META_GRAPH


def held_statements(store: Store, subjects: Iterable[str]) -> dict[str, set[str]]:
    """Each subject's meta statements as ``<p> o`` texts; a subject with none maps to an empty
    set (known to hold nothing, which is not the same as not asked)."""
    wanted = list(dict.fromkeys(subjects))
    found = store.statements_about(META_GRAPH, wanted)
    return {s: {f"{t.predicate} {t.object}" for t in found.get(s, ())} for s in wanted}

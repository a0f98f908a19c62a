"""Reading bookkeeping of which the newest version wins (cursors, the change log's last sequence).

A batch that only adds statements commits by appending (:mod:`hub.store.transaction`): such a
subject then gets a new *version* node (``mlg:versionOf`` the subject, ``mlg:versionOrder`` n)
instead of having its statements replaced. The statements of the version of highest order are
the current ones; the subject's own statements, written in place by a SPARQL commit that also
removed every version, count as older than any version left. One query per subject.
"""

from __future__ import annotations

from hub.store.base import Store, Term
from hub.store.transaction import VERSION_OF, VERSION_ORDER
from hub.vocab import META_GRAPH


def latest_statements(store: Store, subject: str) -> dict[str, list[Term]]:
    """The current statements of ``subject``, by predicate (empty when it has none)."""
    node = f"<{subject}>"
    rows = store.select(
        f"""SELECT ?n ?p ?o WHERE {{ GRAPH <{META_GRAPH}> {{
            {{ {node} ?p ?o }} UNION
            {{ ?v <{VERSION_OF}> {node} ; <{VERSION_ORDER}> ?n ; ?p ?o
               FILTER(?p != <{VERSION_OF}> && ?p != <{VERSION_ORDER}>) }} }} }}"""
    )
    versions: dict[int, dict[str, list[Term]]] = {}
    for row in rows:
        try:
            order = int(row["n"].value) if "n" in row else -1
        except ValueError:
            continue  # not written by the hub: never the current version
        versions.setdefault(order, {}).setdefault(row["p"].value, []).append(row["o"])
    return versions[max(versions)] if versions else {}


def latest_value(store: Store, subject: str, predicate: str) -> Term | None:
    """The current value of one single-valued statement of ``subject``."""
    values = latest_statements(store, subject).get(predicate)
    return values[0] if values else None

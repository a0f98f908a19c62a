"""A plain, readable HTML page for one entity: what a person following a link should see."""

from __future__ import annotations

from html import escape

import pyoxigraph as ox

from hub.views.entity import (
    Entity,
    RecordGraph,
    best_text,
    collection_of,
    entity_path,
)
from hub.views.jsonld import hub_context, node_key
from hub.vocab import MLG, RDF_TYPE

STYLE = (
    "body{font-family:system-ui,sans-serif;max-width:60rem;margin:2rem auto;padding:0 1rem;"
    "line-height:1.5;color:#222}table{border-collapse:collapse;width:100%;margin:1rem 0}"
    "th,td{border:1px solid #ccc;padding:.3rem .5rem;text-align:left;vertical-align:top}"
    "th{background:#f4f4f4;width:14rem}.type{color:#666}code{font-size:.9em}"
)


def _literal(literal: ox.Literal) -> str:
    text = escape(literal.value)
    if literal.language:
        return f'<span lang="{escape(literal.language)}">{text}</span>'
    return text


def _licence(iri: str | None) -> str:
    """A link with ``rel="license"``, or a plain statement that the source declared none."""
    if iri is None:
        return "non déclarée / not declared"
    return f'<a rel="license" href="{escape(iri)}">{escape(iri)}</a>'


def render(
    entity: Entity,
    base: str,
    records: list[RecordGraph],
    linked: dict[str, tuple[list[str], list[ox.Literal]]],
    referrers: list[tuple[str, str]] | None = None,
) -> str:
    ctx = hub_context()
    names = [o for o in entity.values(MLG + "name") if isinstance(o, ox.Literal)]
    title = best_text(names) or entity.iri
    short = [o for o in entity.values(MLG + "shortDescription") if isinstance(o, ox.Literal)]
    long = [o for o in entity.values(MLG + "description") if isinstance(o, ox.Literal)]
    type_labels = ", ".join(escape(ctx.compact(t)) for t in entity.types)

    def link(iri: str) -> str:
        types, labels = linked.get(iri, ([], []))
        collection = collection_of(types)
        label = escape(best_text(labels) or iri)
        if collection is not None:
            href = entity_path(base, collection, iri)
        elif iri.startswith(("http://", "https://")):
            href = iri
        else:
            return f"<code>{label}</code>"
        return f'<a href="{escape(href)}">{label}</a>'

    rows = []
    shown = (RDF_TYPE, MLG + "name", MLG + "shortDescription", MLG + "description")
    by_predicate: dict[str, list[str]] = {}
    for t in entity.triples:
        if node_key(t.subject) != entity.iri or t.predicate.value in shown:
            continue
        obj = t.object
        if isinstance(obj, ox.Literal):
            cell = _literal(obj)
        elif isinstance(obj, ox.NamedNode):
            cell = link(obj.value)
        else:
            continue
        by_predicate.setdefault(t.predicate.value, []).append(cell)
    for predicate in sorted(by_predicate, key=ctx.compact):
        cells = "<br>".join(sorted(by_predicate[predicate]))
        rows.append(
            f'<tr><th title="{escape(predicate)}">{escape(ctx.compact(predicate))}</th>'
            f"<td>{cells}</td></tr>"
        )
    referrer_rows = [
        f'<tr><th title="{escape(p)}">{escape(ctx.compact(p))}</th><td>{link(s)}</td></tr>'
        for s, p in referrers or []
    ]
    provenance_rows = [
        "<tr><td><code>{}</code></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td>".format(
            *(escape(v or "") for v in (
                r.graph, r.source, r.source_id, r.retrieved_at, r.revision
            ))
        ) + f"<td>{_licence(r.license)}</td><td>{escape(r.attribution or '')}</td></tr>"
        for r in records
    ]
    parts = [
        "<!DOCTYPE html>",
        '<html lang="fr"><head><meta charset="utf-8">',
        f"<title>{escape(title)}</title><style>{STYLE}</style></head><body>",
        f"<h1>{escape(title)}</h1>",
        f'<p class="type">{type_labels} — <code>{escape(entity.iri)}</code></p>',
    ]
    parts += [f"<p><strong>{_literal(s)}</strong></p>" for s in short]
    parts += [f"<p>{_literal(d)}</p>" for d in long]
    if rows:
        parts.append("<h2>Propriétés / Properties</h2><table>" + "".join(rows) + "</table>")
    if referrer_rows:
        parts.append(
            "<h2>Liens entrants / Referenced by</h2><table>" + "".join(referrer_rows) + "</table>"
        )
    parts.append(
        "<h2>Provenance</h2><table><tr><th>graph</th><th>source</th><th>source id</th>"
        "<th>retrieved at</th><th>revision</th><th>licence</th><th>attribution</th></tr>"
        + "".join(provenance_rows) + "</table>"
    )
    parts.append("</body></html>")
    return "\n".join(parts)

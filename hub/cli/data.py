"""Commands on the hub's own data: import, export, validate, query, status, retry, demo, forget.

Each is a plain function; ``hub.cli`` registers them on the app under their command names.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import sys
from pathlib import Path
from typing import Annotated, Any

import pyoxigraph as ox
import typer
from rich.table import Table

from hub.cli._common import console, opened, out, progress_bar, user_errors
from hub.cli.serve import serve_hub
from hub.config import Config
from hub.errors import NotFound, UsageError
from hub.meta.cursors import read_cursor
from hub.meta.public import is_public_graph
from hub.meta.quarantine import quarantined_records
from hub.meta.status import hub_status
from hub.pipeline.forget import forget
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.pipeline.neighbours import types_of
from hub.pipeline.place import is_placing_graph
from hub.pipeline.validate import Validator
from hub.rdf.forms import query_form
from hub.rdf.io import ParseOptions, guess_format, read_records, serialize
from hub.rdf.resources import DEMO_DIR
from hub.store import Store
from hub.vocab import META_GRAPH

IMPORT_BATCH = 2_000
"""Records per batch of a file import into a store that appends in bulk (``Store.bulk_appends``),
at least: its bulk loader has a fixed cost per call (new files, one ingestion)."""


def import_file(
    config: Config, store: Store, path: Path, fmt_name: str | None, source: str, base: str | None
) -> IngestResult:
    """Parse then ingest a file, resuming after the last committed batch of a killed run."""
    fmt = guess_format(path, fmt_name)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()[:16]
    cursor_key = f"import:{source}:{digest}"
    options = ParseOptions(source=source, base_iri=base, namespace=config.base_iri)
    with progress_bar() as progress:
        task = progress.add_task(f"parsing {path.name}", total=path.stat().st_size, detail="")
        records = read_records(path, options, fmt, lambda n: progress.advance(task, n))
        done = int(read_cursor(store, config.base_iri, cursor_key) or 0)
        ingestor = Ingestor(
            store, config.base_iri,
            batch_size=max(config.batch_size, IMPORT_BATCH) if store.bulk_appends else config.batch_size,
            licences=config.licence_of, contact_sources=config.contact_sources,
        )
        task = progress.add_task("importing", total=len(records), completed=done, detail="")

        def advance(batch: IngestResult) -> None:
            progress.advance(task, batch.seen)
            progress.update(task, detail=f"{batch.quarantined} quarantined" if batch.quarantined else "")

        result = ingestor.ingest(
            records[done:],
            cursor_key=cursor_key,
            cursor_value=lambda n: str(done + n),
            on_batch=advance,
            known_types=types_of(records),
        )
    if done >= len(records):
        console.print(f"{path.name} was already imported in full: nothing to do")
    elif done:
        console.print(f"resumed after {done:,} records already committed by an earlier run")
    return result


def print_result(result: IngestResult) -> None:
    table = Table(title="import", show_header=True)
    for name in ("created", "updated", "unchanged", "deleted", "quarantined"):
        table.add_column(name, justify="right")
    table.add_row(
        *(str(getattr(result, n)) for n in ("created", "updated", "unchanged", "deleted", "quarantined"))
    )
    out.print(table)
    for graph, report in list(result.reports.items())[:10]:
        label = "quarantined" if not report.conforms else "stored, with warnings"  # placing's
        out.print(f"[yellow]{label}[/] {graph}\n{report.summary()}", highlight=False)
    if result.quarantined:
        out.print("see them with [bold]maillage status[/]; after a fix, run [bold]maillage retry[/]")


def import_command(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="Turtle, N-Triples, N-Quads, TriG, JSON-LD, RDF/XML")],
    format: Annotated[str | None, typer.Option("--format", help="Override the extension")] = None,
    source: Annotated[str, typer.Option(help="Source name recorded in provenance")] = "import",
    base: Annotated[str | None, typer.Option(help="Base IRI for relative IRIs")] = None,
) -> None:
    """Import an RDF file: one record per subject (or per named graph), validated, idempotent."""
    with opened(ctx) as (config, store):
        if not file.exists():
            raise NotFound(f"no such file: {file}")
        load_reference(config, store)
        print_result(import_file(config, store, file, format, source, base))


def export(
    ctx: typer.Context,
    format: Annotated[str, typer.Option(help="nquads or trig")] = "nquads",
    output: Annotated[Path | None, typer.Option("--output", "-o", help="File (default stdout)")] = None,
    data_only: Annotated[bool, typer.Option(
        help="Leave out the bookkeeping graph; persons' contact data stays: operator output")] = False,
    public: Annotated[bool, typer.Option(
        help="Only what anonymous readers see: record graphs, no bookkeeping, no contact graphs")
    ] = False,
) -> None:
    """Export every graph (operator backup), or only the record graphs with --data-only/--public."""
    fmt = {"nquads": ox.RdfFormat.N_QUADS, "trig": ox.RdfFormat.TRIG}.get(format)
    with opened(ctx, read_only=True) as (config, store):
        if fmt is None:
            raise UsageError("--format must be nquads or trig")
        quads = [  # placing is re-derived by the hub that imports the export
            q for q in store.quads() if _exported(q, data_only, public)
            and not (isinstance(q.graph_name, ox.NamedNode)
                     and is_placing_graph(config.base_iri, q.graph_name.value))
        ]
        data = serialize(quads, fmt)
        if output is None:
            sys.stdout.buffer.write(data)
        else:
            output.write_bytes(data)
            console.print(f"wrote {len(quads):,} quads to {output}")


def _exported(quad: ox.Quad, data_only: bool, public: bool) -> bool:
    """Whether ``quad`` goes into the export: ``public`` keeps the anonymous dataset
    (hub.meta.public), ``data_only`` leaves out the bookkeeping graph alone."""
    graph = quad.graph_name
    if public:
        return isinstance(graph, ox.NamedNode) and is_public_graph(graph.value)
    return not (data_only and graph == ox.NamedNode(META_GRAPH))


def validate(
    ctx: typer.Context,
    file: Annotated[Path, typer.Argument(help="RDF file to check against the shapes")],
    format: Annotated[str, typer.Option(help="text or ttl (the SHACL report)")] = "text",
    lang: Annotated[str, typer.Option(help="Message language: fr or en")] = "en",
    rdf_format: Annotated[str | None, typer.Option("--rdf-format")] = None,
) -> None:
    """Check a file against the shapes without storing anything; exit 1 if it does not conform."""
    config: Config = ctx.obj
    with user_errors():
        if not file.exists():
            raise NotFound(f"no such file: {file}")
        options = ParseOptions(source="validate", namespace=config.base_iri)
        records = read_records(file, options, guess_format(file, rdf_format))
        reports = Validator().validate(records)
    problems = [(r, r.problem()) for r in records]
    failures = [(rec, rep) for rec, rep in zip(records, reports, strict=True) if not rep.conforms]
    if format == "ttl":
        for _, report in failures:
            sys.stdout.write(report.turtle())
    else:
        for record, problem in problems:
            if problem:
                out.print(f"[red]✗[/] {record.source_id}: {problem}", highlight=False)
        for record, report in failures:
            out.print(f"[red]✗[/] {record.source_id}", highlight=False)
            for violation in report.violations:
                out.print(f"    {violation.describe(lang)}", highlight=False)
        bad = len(failures) + sum(1 for _, p in problems if p)
        out.print(f"{len(records)} records, {bad} with problems")
    if failures or any(p for _, p in problems):
        raise typer.Exit(1)


def query(
    ctx: typer.Context,
    sparql: Annotated[str, typer.Argument(help="A SPARQL query, or @file.rq")],
    format: Annotated[str, typer.Option(help="table, json or csv")] = "table",
) -> None:
    """Run a SPARQL query over the union of all record graphs."""
    with opened(ctx, read_only=True) as (_, store):
        text = Path(sparql[1:]).read_text() if sparql.startswith("@") else sparql
        form = query_form(text)
        if form == "ASK":
            answer = store.ask(text)
            out.print(json.dumps({"boolean": answer}) if format == "json" else str(answer).lower())
        elif form in ("CONSTRUCT", "DESCRIBE"):
            sys.stdout.buffer.write(serialize(store.construct(text), ox.RdfFormat.TURTLE))
        else:
            rows = [{k: v.value for k, v in row.items()} for row in store.select(text)]
            _print_rows(rows, format)


def _print_rows(rows: list[dict[str, Any]], format: str) -> None:
    columns = list(dict.fromkeys(k for row in rows for k in row))
    if format == "json":
        out.print_json(json.dumps(rows, ensure_ascii=False))
    elif format == "csv":
        buffer = io.StringIO()
        writer = csv.DictWriter(buffer, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)
        sys.stdout.write(buffer.getvalue())
    else:
        table = Table(*columns)
        for row in rows:
            table.add_row(*(str(row.get(c, "")) for c in columns))
        out.print(table)
        out.print(f"{len(rows)} rows")


def status(
    ctx: typer.Context,
    format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    """Counts per class and source, the quarantine, and the latest changes."""
    with opened(ctx, read_only=True) as (_, store):
        state = hub_status(store)
    if format == "json":
        sys.stdout.write(json.dumps(state.as_dict(), ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("class", "entities", title="entities")
    for name, count in state.classes.items():
        table.add_row(name, str(count))
    out.print(table)
    sources = Table("source", "records", title="sources")
    for name, count in state.sources.items():
        sources.add_row(name, str(count))
    out.print(sources)
    if state.syncs:
        syncs = Table("source", "last sync", "outcome", title="syncs")
        for name, info in state.syncs.items():
            outcome = f"[red]{info['last_error']}[/]" if info["last_error"] else (info["last_summary"] or "")
            syncs.add_row(name, info["last_sync"] or "", outcome)
        out.print(syncs)
    out.print(f"change log: {state.last_sequence} changes")
    if state.quarantine:
        quarantine = Table("source", "record", "reason", title=f"quarantine ({len(state.quarantine)})")
        for entry in state.quarantine:
            quarantine.add_row(entry.source, entry.source_id, entry.reason[:200])
        out.print(quarantine)
    else:
        out.print("quarantine: empty")


def retry(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Only this source")] = None,
) -> None:
    """Validate quarantined records again (after fixing the shapes or the mapping)."""
    with opened(ctx) as (config, store):
        records = quarantined_records(store, source)
        ingestor = Ingestor(
            store, config.base_iri, batch_size=config.batch_size, licences=config.licence_of,
            contact_sources=config.contact_sources,
        )
        result = ingestor.ingest(records)
        out.print(
            f"{len(records)} retried: {result.created + result.updated} accepted, "
            f"{result.quarantined} still quarantined"
        )


def forget_command(
    ctx: typer.Context,
    iri: Annotated[str, typer.Argument(help="The IRI of the person to erase")],
) -> None:
    """Erase a person: records, contact data, quarantine, copies in the change log; peers follow."""
    with opened(ctx) as (config, store):
        erasure = forget(Ingestor(store, config.base_iri), iri)
    out.print(
        f"forgot <{erasure.entity}>: {erasure.records} records, {erasure.quarantined} quarantine "
        f"entries, {erasure.review_state} sync or review states removed; "
        f"{erasure.scrubbed} change-log copies scrubbed; "
        f"{len(erasure.tombstones)} deletions sent to followers",
        highlight=False,
    )


def load_reference(config: Config, store: Store) -> None:
    """The territory reference, once per store and package version (a minute on a fresh store),
    then placing catches up with it (once per reference version and placing rules)."""
    from hub.territories.catch_up import ensure_placed
    from hub.territories.reference import load_configured

    with console.status("loading the territory reference (once per package version)"):
        loaded = load_configured(config, store)
    if loaded is not None and loaded.result is not None:
        console.print(f"territory reference {loaded.version}: {loaded.result.created:,} created, "
                      f"{loaded.result.updated:,} updated, {loaded.result.deleted:,} deleted")
    with console.status("checking that stored records are placed with this reference") as status:
        placed = ensure_placed(store, config.base_iri, progress=lambda n: status.update(
            f"placing the records stored before this reference or these rules: {n:,} so far"))
    if placed:
        console.print(f"{placed:,} stored record(s) placed again (new reference or placing rules)")


def load_demo(config: Config, store: Store) -> IngestResult:
    return import_file(config, store, DEMO_DIR / "demo.ttl", None, "demo", None)


def demo(
    ctx: typer.Context,
    serve: Annotated[bool, typer.Option(help="Serve the hub after loading")] = True,
    host: Annotated[str | None, typer.Option()] = None,
    port: Annotated[int | None, typer.Option()] = None,
) -> None:
    """Load the demo data (from the seed documents), then serve it."""
    with opened(ctx) as (config, store):
        load_reference(config, store)
        print_result(load_demo(config, store))
    if serve:
        serve_hub(ctx.obj, host, port)

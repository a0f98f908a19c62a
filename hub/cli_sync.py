"""CLI commands for sources: ``sync``, ``discover`` and ``conflicts``."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from hub.cli import app, console, opened, out, progress_bar, user_errors
from hub.config import Config
from hub.conflicts import ConflictError, list_conflicts, resolve
from hub.ingest import Ingestor, IngestResult

conflicts_app = typer.Typer(help="Values changed both in the hub and in a source.", no_args_is_help=True)
app.add_typer(conflicts_app, name="conflicts")
matches_app = typer.Typer(help="Records that may be an entity the hub already knows.", no_args_is_help=True)
app.add_typer(matches_app, name="matches")


def _advancer(progress: Progress, description: str) -> Callable[[IngestResult], None]:
    task = progress.add_task(description, total=None, detail="")
    return lambda result: progress.advance(task, result.seen)


@app.command()
def sync(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Argument(help="A [[sources]] name (default: all)")] = None,
    full: Annotated[bool, typer.Option(help="Full harvest and reconciliation")] = False,
    backfill: Annotated[
        bool,
        typer.Option(help="Also write what the hub held before the source was connected"),
    ] = False,
) -> None:
    """Write the hub's changes to each source where allowed, then read the source into the hub."""
    from hub.sync import sync_all

    with opened(ctx) as (config, store):
        names = [source] if source else [s.name for s in config.sources]
        if not names:
            raise ValueError("no [[sources]] in the configuration")
        for name in names:
            config.source(name)  # unknown names fail before any work
        ingestor = Ingestor(store, config.base_iri, batch_size=config.batch_size)
        with progress_bar() as progress:
            advance = _advancer(progress, "syncing")
            reports = sync_all(config, ingestor, names, full, advance, backfill=backfill)
        for report in reports:
            out.print(("[red]✗[/] " if report.error else "[green]✓[/] ") + report.summary(), highlight=False)
        failed = any(report.error for report in reports)
    if failed:
        raise typer.Exit(1)


@app.command()
def discover(
    ctx: typer.Context,
    source: Annotated[str, typer.Argument(help="A [[sources]] name of kind mediawiki")],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the draft mapping here")
    ] = None,
) -> None:
    """List a wiki's templates and their parameters, and draft a mapping file to finish by hand."""
    from connectors.mediawiki.discover import discover_wiki

    config: Config = ctx.obj
    with user_errors():
        settings = config.source(source)
        if settings.kind != "mediawiki":
            raise ValueError(f"discover reads wikis; {source!r} is of kind {settings.kind}")
        draft = discover_wiki(settings)
    if output is None:
        sys.stdout.write(draft)
    else:
        output.write_text(draft, encoding="utf-8")
        console.print(f"draft mapping written to {output}: check each [[templates]] entry")


@conflicts_app.command("list")
def list_command(
    ctx: typer.Context,
    source: Annotated[str | None, typer.Option(help="Only this source")] = None,
    format: Annotated[str, typer.Option(help="text or json")] = "text",
) -> None:
    """The open conflicts, newest first."""
    with opened(ctx, read_only=True) as (_, store):
        found = list_conflicts(store, source)
    if format == "json":
        sys.stdout.write(json.dumps([c.as_dict() for c in found], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("id", "source", "entity", "parameter", "hub value", "kept (source) value")
    for c in found:
        table.add_row(c.id, c.source, c.entity, c.parameter, c.hub_value[:60], c.source_value[:60])
    out.print(table)
    out.print(f"{len(found)} conflict(s); resolve with `maillage conflicts resolve ID --keep hub|source`")


@conflicts_app.command("resolve")
def resolve_command(
    ctx: typer.Context,
    conflict_id: Annotated[str, typer.Argument(help="The id shown by `maillage conflicts list`")],
    keep: Annotated[str, typer.Option(help="source (keep its value), hub (write the hub's) or value")],
    value: Annotated[str | None, typer.Option(help="With --keep value: the value every side gets")] = None,
) -> None:
    """Close a conflict: keep the source's value, write the hub's, or write a value you give."""
    with opened(ctx) as (config, store):
        try:
            conflict = resolve(Ingestor(store, config.base_iri), conflict_id, keep, value)
        except ConflictError as exc:
            raise ValueError(str(exc)) from exc
    outcome = {
        "source": "kept as it is in the source",
        "hub": "the hub's value will be written by the next sync",
        "value": f"{value!r} will be written everywhere by the next sync",
    }.get(keep, "")
    out.print(f"{conflict.parameter} of {conflict.entity}: {outcome}", highlight=False)


@matches_app.command("list")
def matches_list(
    ctx: typer.Context, format: Annotated[str, typer.Option(help="text or json")] = "text"
) -> None:
    """Pairs waiting for a decision, most likely first."""
    from hub.matching import list_candidates

    with opened(ctx, read_only=True) as (_, store):
        found = list_candidates(store)
    if format == "json":
        sys.stdout.write(json.dumps([c.as_dict() for c in found], ensure_ascii=False, indent=2) + "\n")
        return
    table = Table("id", "confidence", "new entity", "existing entity", "why")
    for c in found:
        table.add_row(c.id, f"{c.confidence:.2f}", c.new_entity, c.existing, c.reason)
    out.print(table)
    out.print(f"{len(found)} candidate(s); decide with `maillage matches accept|reject ID`")


@matches_app.command("accept")
def matches_accept(ctx: typer.Context, candidate_id: Annotated[str, typer.Argument()]) -> None:
    """They are the same thing: merge the new entity into the existing one."""
    from hub.matching import accept

    with opened(ctx) as (config, store):
        try:
            pair = accept(Ingestor(store, config.base_iri), candidate_id)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from exc
    out.print(f"{pair.new_entity} is now {pair.existing}", highlight=False)


@matches_app.command("reject")
def matches_reject(ctx: typer.Context, candidate_id: Annotated[str, typer.Argument()]) -> None:
    """They are different things: forget the candidate."""
    from hub.matching import reject

    with opened(ctx) as (config, store):
        try:
            reject(Ingestor(store, config.base_iri), candidate_id)
        except KeyError as exc:
            raise ValueError(str(exc.args[0])) from exc
    out.print("rejected")

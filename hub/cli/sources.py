"""Commands on the sources: ``sync``, ``discover``, and the ``conflicts`` and ``matches`` groups.

Each is a plain function; ``hub.cli`` registers them on the app under their command names.
"""

from __future__ import annotations

import importlib
import json
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import Progress
from rich.table import Table

from hub.cli._common import console, opened, out, progress_bar, user_errors
from hub.config import Config, SourceSettings
from hub.errors import UsageError
from hub.meta.conflicts import list_conflicts
from hub.pipeline.ingest import Ingestor, IngestResult
from hub.sync.registry import kinds
from hub.sync.resolve import resolve


def _advancer(progress: Progress, description: str) -> Callable[[IngestResult], None]:
    task = progress.add_task(description, total=None, detail="")
    return lambda result: progress.advance(task, result.seen)


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
    from hub.sync.engine import sync_all

    with opened(ctx) as (config, store):
        names = [source] if source else [s.name for s in config.sources]
        if not names:
            raise UsageError("no [[sources]] in the configuration")
        for name in names:
            config.source(name)  # unknown names fail before any work
        ingestor = Ingestor(
            store, config.base_iri, batch_size=config.batch_size, licences=config.licence_of,
            contact_sources=config.contact_sources,
        )
        with progress_bar() as progress:
            advance = _advancer(progress, "syncing")
            reports = sync_all(config, ingestor, names, full, advance, backfill=backfill)
        for report in reports:
            out.print(("[red]✗[/] " if report.error else "[green]✓[/] ") + report.summary(), highlight=False)
        failed = any(report.error for report in reports)
    if failed:
        raise typer.Exit(1)


def discover(
    ctx: typer.Context,
    source: Annotated[
        str, typer.Argument(help="A [[sources]] name (mediawiki or jsonapi), or a JSON API's base URL")
    ],
    output: Annotated[
        Path | None, typer.Option("--output", "-o", help="Write the draft mapping here")
    ] = None,
    path: Annotated[
        list[str] | None,
        typer.Option("--path", help="JSON API: an endpoint path to sample (repeatable)"),
    ] = None,
    token_env: Annotated[
        str | None,
        typer.Option("--token-env", help="JSON API: the environment variable holding the token"),
    ] = None,
    header: Annotated[
        str | None,
        typer.Option("--header", help="JSON API: send the token in this header (an API key)"),
    ] = None,
) -> None:
    """Draft a mapping file to finish by hand: a wiki's templates and parameters, or the fields
    of a JSON API's records (sampled from each --path)."""
    config: Config = ctx.obj
    with user_errors():
        settings = _discovered_source(config, source, path or [], token_env, header)
        draft = _discoverer(settings)(settings)
    if output is None:
        sys.stdout.write(draft)
    else:
        output.write_text(draft, encoding="utf-8")
        console.print(f"draft mapping written to {output}: check each entry")


def _discovered_source(config: Config, name: str, paths: list[str], token_env: str | None,
                       header: str | None) -> SourceSettings:
    """A configured source (the options add paths to sample), or a JSON API given by its URL."""
    if name.startswith(("http://", "https://")) and name not in {s.name for s in config.sources}:
        if not paths:
            raise UsageError("discover on a URL samples JSON API endpoints: give --path (repeatable)")
        return SourceSettings(
            name="draft", kind="jsonapi", url=name,
            credentials={"token_env": token_env} if token_env else {},
            options={"discover_paths": paths, "discover_header": header},
        )
    settings = config.source(name)
    if paths or token_env or header:
        settings = SourceSettings(
            **{**settings.__dict__, "credentials": {**settings.credentials,
                                                    **({"token_env": token_env} if token_env else {})},
               "options": {**settings.options, "discover_paths": paths, "discover_header": header}}
        )
    return settings


def _discoverer(settings: SourceSettings) -> Callable[[SourceSettings], str]:
    """The ``discover(source) -> str`` function of the ``discover`` module of the source's
    connector, imported only now: the hub names no concrete connector, and a kind whose
    connector has none is refused."""
    package = kinds().get(settings.kind, "").partition(":")[0]
    name = f"{package}.discover"
    try:
        module = importlib.import_module(name) if package else None
    except ModuleNotFoundError as exc:
        if exc.name != name:
            raise
        module = None
    found: Callable[[SourceSettings], str] | None = getattr(module, "discover", None)
    if found is None:
        raise UsageError(f"discover reads wikis and JSON APIs; {settings.name!r} is of kind {settings.kind}")
    return found


def conflicts_list(
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


def conflicts_resolve(
    ctx: typer.Context,
    conflict_id: Annotated[str, typer.Argument(help="The id shown by `maillage conflicts list`")],
    keep: Annotated[str, typer.Option(help="source (keep its value), hub (write the hub's) or value")],
    value: Annotated[str | None, typer.Option(help="With --keep value: the value every side gets")] = None,
) -> None:
    """Close a conflict: keep the source's value, write the hub's, or write a value you give."""
    with opened(ctx) as (config, store):
        ingestor = Ingestor(store, config.base_iri, licences=config.licence_of)
        conflict = resolve(ingestor, conflict_id, keep, value)
    outcome = {
        "source": "kept as it is in the source",
        "hub": "the hub's value will be written by the next sync",
        "value": f"{value!r} will be written everywhere by the next sync",
    }.get(keep, "")
    out.print(f"{conflict.parameter} of {conflict.entity}: {outcome}", highlight=False)


def matches_list(
    ctx: typer.Context, format: Annotated[str, typer.Option(help="text or json")] = "text"
) -> None:
    """Pairs waiting for a decision, most likely first."""
    from hub.meta.candidates import list_candidates

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


def matches_accept(ctx: typer.Context, candidate_id: Annotated[str, typer.Argument()]) -> None:
    """They are the same thing: merge the new entity into the existing one."""
    from hub.pipeline.match import accept

    with opened(ctx) as (config, store):
        pair = accept(Ingestor(store, config.base_iri, licences=config.licence_of), candidate_id)
    out.print(f"{pair.new_entity} is now {pair.existing}", highlight=False)


def matches_reject(ctx: typer.Context, candidate_id: Annotated[str, typer.Argument()]) -> None:
    """They are different things: forget the candidate."""
    from hub.pipeline.match import reject

    with opened(ctx) as (config, store):
        reject(Ingestor(store, config.base_iri, licences=config.licence_of), candidate_id)
    out.print("rejected")

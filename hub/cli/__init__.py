"""The ``maillage`` command line: the whole command table is the list of registrations below.

Commands are plain functions in ``data`` (the hub's own data), ``sources`` (sync and what it
leaves to decide) and ``serve``; this module alone names them, so which commands exist never
depends on the order modules happen to be imported in. Errors reach the user through one place,
``_common.user_errors``: any :class:`~hub.errors.HubError` is one line on stderr and exit code 1.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from hub.cli import data, serve, sources
from hub.cli import places as places_cli
from hub.cli._common import user_errors
from hub.config import load_config

app = typer.Typer(
    help="Maillage: a linked-data hub for territorial and commons communities.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def main(
    ctx: typer.Context,
    config: Annotated[
        Path | None, typer.Option("--config", help="Config file (env MAILLAGE_CONFIG).")
    ] = None,
    data_dir: Annotated[
        Path | None, typer.Option("--data-dir", help="Store and sync state (env MAILLAGE_DATA).")
    ] = None,
) -> None:
    with user_errors():
        ctx.obj = load_config(config, data_dir)


app.command("import")(data.import_command)
app.command("export")(data.export)
app.command("validate")(data.validate)
app.command("query")(data.query)
app.command("status")(data.status)
app.command("retry")(data.retry)
app.command("demo")(data.demo)
app.command("forget")(data.forget_command)
app.command("serve")(serve.serve_command)
app.command("sync")(sources.sync)
app.command("discover")(sources.discover)

conflicts = typer.Typer(help="Values changed both in the hub and in a source.", no_args_is_help=True)
conflicts.command("list")(sources.conflicts_list)
conflicts.command("resolve")(sources.conflicts_resolve)
app.add_typer(conflicts, name="conflicts")

matches = typer.Typer(help="Records that may be an entity the hub already knows.", no_args_is_help=True)
matches.command("list")(sources.matches_list)
matches.command("accept")(sources.matches_accept)
matches.command("reject")(sources.matches_reject)
app.add_typer(matches, name="matches")

places = typer.Typer(help="Town names that name several communes: choose one.", no_args_is_help=True)
places.command("list")(places_cli.places_list)
places.command("choose")(places_cli.places_choose)
places.command("refresh")(places_cli.places_refresh)
app.add_typer(places, name="places")

__all__ = ["app"]

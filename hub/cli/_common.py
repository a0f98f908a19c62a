"""What every command shares: the two consoles, the store it opens, and the one error mapping.

Every command that can fail for a reason the user can fix runs inside :func:`user_errors`, which
is the only place the CLI turns an exception into a message: any :class:`~hub.errors.HubError`
(and a file the system refuses to read or write) becomes one red line on stderr and exit code 1.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeRemainingColumn

from hub.config import Config
from hub.errors import HubError
from hub.store import Store, StoreError, open_store

console = Console(stderr=True)  # progress, messages and errors: never mixed into a command's output
out = Console()


@contextmanager
def user_errors() -> Iterator[None]:
    """Known failures become one red line and exit code 1, never a traceback."""
    try:
        yield
    except (HubError, OSError) as exc:
        console.print(f"[bold red]error:[/] {exc}", highlight=False, soft_wrap=True)  # one line, for grep
        raise typer.Exit(1) from None


@contextmanager
def opened(ctx: typer.Context, read_only: bool = False) -> Iterator[tuple[Config, Store]]:
    """The configuration and its store, closed on the way out; failures inside are user errors."""
    config: Config = ctx.obj
    with user_errors(), rare_collections():
        try:
            store = open_store(config, read_only=read_only)
        except StoreError as exc:
            raise StoreError(f"{exc} (is another maillage process using this data dir?)") from exc
        try:
            yield config, store
        finally:
            store.close()


RARE_COLLECTIONS = (50_000, 50, 100)
"""Python's cyclic collector thresholds while a command works (the defaults: 700, 10, 10)."""


@contextmanager
def rare_collections() -> Iterator[None]:
    """A command's work with Python's cyclic collector run rarely. An import or a harvest makes
    millions of short-lived objects that hold no cycle (terms, records, texts); at the default
    thresholds the collector went over the ones alive again and again, a sixth of an import's
    time (bench/README.md). Cycles are still collected, later; the thresholds come back after,
    which matters to a caller that stays (a test runs commands in its own process)."""
    before = gc.get_threshold()
    gc.set_threshold(*RARE_COLLECTIONS)
    try:
        yield
    finally:
        gc.set_threshold(*before)


def progress_bar() -> Progress:
    """A transient bar on stderr, so piping a command's output stays clean."""
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.fields[detail]}"),
        TimeRemainingColumn(),
        console=console,
        transient=True,
    )

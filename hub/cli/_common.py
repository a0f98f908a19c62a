"""What every command shares: the two consoles, the store it opens, and the one error mapping.

Every command that can fail for a reason the user can fix runs inside :func:`user_errors`, which
is the only place the CLI turns an exception into a message: any :class:`~hub.errors.HubError`
(and a file the system refuses to read or write) becomes one red line on stderr and exit code 1.
"""

from __future__ import annotations

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
    with user_errors():
        try:
            store = open_store(config, read_only=read_only)
        except StoreError as exc:
            raise StoreError(f"{exc} (is another maillage process using this data dir?)") from exc
        try:
            yield config, store
        finally:
            store.close()


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
